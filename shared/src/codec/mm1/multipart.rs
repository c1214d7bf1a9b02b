//! The message body: a WSP multipart (WAP-230-WSP §8.5) for the
//! `application/vnd.wap.multipart.*` content types, otherwise opaque octets.
//!
//! ```text
//! Multipart = nEntries(uintvar) *Entry
//! Entry     = HeadersLen(uintvar) DataLen(uintvar) ContentType Headers Data
//! ```
//! `HeadersLen` covers the content type and the part headers. Content-ID (0x40)
//! and Content-Location (0x0E) are typed; every other part header keeps its
//! encoded value and is written back unchanged.

use super::content_type::ContentType;
use super::error::{DecodeError, EncodeError};
use super::reader::Reader;
use super::wsp;

wire_number! {
    /// A WSP well-known header field (WAP-230-WSP Table 39), as used for part
    /// headers. The 7-bit code; the wire octet has the high bit set.
    pub struct WspField(u8) {
        ACCEPT_CHARSET = 0x01 => "Accept-Charset",
        CONTENT_BASE = 0x0A => "Content-Base",
        CONTENT_ENCODING = 0x0B => "Content-Encoding",
        CONTENT_LANGUAGE = 0x0C => "Content-Language",
        CONTENT_LENGTH = 0x0D => "Content-Length",
        CONTENT_LOCATION = 0x0E => "Content-Location",
        CONTENT_MD5 = 0x0F => "Content-MD5",
        CONTENT_TYPE = 0x11 => "Content-Type",
        DATE = 0x12 => "Date",
        CONTENT_DISPOSITION = 0x2E => "Content-Disposition",
        CONTENT_ID = 0x40 => "Content-ID",
        CONTENT_DISPOSITION_V1_4 = 0x45 => "Content-Disposition",
    }
}

/// A part header's name.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum PartHeaderName {
    WellKnown(WspField),
    Application(String),
}

/// One part header.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum PartHeader {
    /// Content-ID (0xC0) as a Quoted-string, usually `<id>`.
    ContentId(String),
    /// Content-Location (0x8E) as a Text-string, usually a file name.
    ContentLocation(String),
    /// Any other header, its value as encoded.
    Other {
        name: PartHeaderName,
        value: Vec<u8>,
    },
}

impl PartHeader {
    pub fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        const WHAT: &str = "part header";
        let name = match r.peek(WHAT)? {
            b if b >= 0x80 => {
                r.u8(WHAT)?;
                PartHeaderName::WellKnown(WspField(b & 0x7F))
            }
            b if wsp::is_token_start(b) => {
                PartHeaderName::Application(wsp::read_token_text(r, "part header name")?)
            }
            b => return Err(DecodeError::InvalidFieldName(b)),
        };
        let what = match &name {
            PartHeaderName::WellKnown(f) => f.name().unwrap_or(WHAT),
            PartHeaderName::Application(_) => WHAT,
        };
        let raw = wsp::read_raw_value(r, what)?;
        let typed = match (&name, raw) {
            (
                PartHeaderName::WellKnown(WspField::CONTENT_ID),
                [wsp::QUOTED_STRING, text @ .., 0],
            ) if !text.contains(&0) => Some(PartHeader::ContentId(wsp::to_text(text))),
            (PartHeaderName::WellKnown(WspField::CONTENT_LOCATION), [first, ..])
                if *first == 0 || (32..=127).contains(first) =>
            {
                let mut vr = Reader::new(raw);
                Some(PartHeader::ContentLocation(wsp::read_text_string(
                    &mut vr, what,
                )?))
            }
            _ => None,
        };
        Ok(typed.unwrap_or_else(|| PartHeader::Other {
            name,
            value: raw.to_vec(),
        }))
    }

    pub fn encode(&self, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        match self {
            PartHeader::ContentId(id) => {
                out.push(0x80 | WspField::CONTENT_ID.0);
                wsp::write_quoted_string(out, id, "Content-ID")
            }
            PartHeader::ContentLocation(loc) => {
                out.push(0x80 | WspField::CONTENT_LOCATION.0);
                wsp::write_text_string(out, loc, "Content-Location")
            }
            PartHeader::Other { name, value } => {
                match name {
                    PartHeaderName::WellKnown(f) if f.0 < 0x80 => out.push(0x80 | f.0),
                    PartHeaderName::WellKnown(_) => {
                        return Err(EncodeError::Invalid {
                            what: "part header name",
                            reason: "field code above 0x7F",
                        });
                    }
                    PartHeaderName::Application(n) => {
                        wsp::write_token_text(out, n, "part header name")?;
                    }
                }
                if !wsp::is_single_raw_value(value) {
                    return Err(EncodeError::Invalid {
                        what: "part header",
                        reason: "raw value is not exactly one WSP value",
                    });
                }
                out.extend_from_slice(value);
                Ok(())
            }
        }
    }
}

/// One body part.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Part {
    pub content_type: ContentType,
    pub headers: Vec<PartHeader>,
    pub data: Vec<u8>,
}

impl Part {
    pub fn new(content_type: ContentType, data: Vec<u8>) -> Self {
        Self {
            content_type,
            headers: Vec::new(),
            data,
        }
    }

    /// Adds `Content-ID: <id>` (give it with its angle brackets).
    pub fn with_content_id(mut self, id: &str) -> Self {
        self.headers.push(PartHeader::ContentId(id.to_owned()));
        self
    }

    /// Adds `Content-Location: name`.
    pub fn with_content_location(mut self, location: &str) -> Self {
        self.headers
            .push(PartHeader::ContentLocation(location.to_owned()));
        self
    }

    pub fn content_id(&self) -> Option<&str> {
        self.headers.iter().find_map(|h| match h {
            PartHeader::ContentId(id) => Some(id.as_str()),
            _ => None,
        })
    }

    pub fn content_location(&self) -> Option<&str> {
        self.headers.iter().find_map(|h| match h {
            PartHeader::ContentLocation(l) => Some(l.as_str()),
            _ => None,
        })
    }

    pub fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let headers_len = wsp::read_uintvar(r, "multipart HeadersLen")? as usize;
        let data_len = wsp::read_uintvar(r, "multipart DataLen")? as usize;
        let mut hr = Reader::new(r.take(headers_len, "multipart part headers")?);
        let data = r.take(data_len, "multipart part data")?.to_vec();
        let content_type = ContentType::read(&mut hr)?;
        let mut headers = Vec::new();
        while !hr.is_empty() {
            headers.push(PartHeader::read(&mut hr)?);
        }
        Ok(Self {
            content_type,
            headers,
            data,
        })
    }

    pub fn encode(&self, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        let mut block = Vec::new();
        self.content_type.encode(&mut block)?;
        for h in &self.headers {
            h.encode(&mut block)?;
        }
        wsp::write_uintvar_len(out, block.len(), "multipart part headers")?;
        wsp::write_uintvar_len(out, self.data.len(), "multipart part data")?;
        out.extend_from_slice(&block);
        out.extend_from_slice(&self.data);
        Ok(())
    }
}

/// A message body.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Body {
    /// The parts of an `application/vnd.wap.multipart.*` body.
    Multipart(Vec<Part>),
    /// Any other body, as octets.
    Single(Vec<u8>),
}

impl Body {
    /// Reads the rest of a PDU as the body of `content_type`.
    pub fn read(r: &mut Reader<'_>, content_type: &ContentType) -> Result<Self, DecodeError> {
        if !content_type.media.is_wap_multipart() {
            return Ok(Body::Single(r.take_rest().to_vec()));
        }
        let count = wsp::read_uintvar(r, "multipart nEntries")?;
        let mut parts = Vec::new();
        for _ in 0..count {
            parts.push(Part::read(r)?);
        }
        r.expect_end()?;
        Ok(Body::Multipart(parts))
    }

    pub fn encode(&self, out: &mut Vec<u8>, content_type: &ContentType) -> Result<(), EncodeError> {
        match (self, content_type.media.is_wap_multipart()) {
            (Body::Multipart(parts), true) => {
                wsp::write_uintvar_len(out, parts.len(), "multipart nEntries")?;
                for p in parts {
                    p.encode(out)?;
                }
                Ok(())
            }
            (Body::Single(data), false) => {
                out.extend_from_slice(data);
                Ok(())
            }
            (Body::Multipart(_), false) => Err(EncodeError::Invalid {
                what: "body",
                reason: "a multipart body needs an application/vnd.wap.multipart.* content type",
            }),
            (Body::Single(_), true) => Err(EncodeError::Invalid {
                what: "body",
                reason: "an application/vnd.wap.multipart.* content type needs a multipart body",
            }),
        }
    }

    /// The parts of a multipart body (none for a single body).
    pub fn parts(&self) -> &[Part] {
        match self {
            Body::Multipart(parts) => parts,
            Body::Single(_) => &[],
        }
    }
}
