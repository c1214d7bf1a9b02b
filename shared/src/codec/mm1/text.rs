//! Character sets and the MMS `Encoded-string-value` (OMA-TS-MMS_ENC §7.2.9):
//! `Text-string | Value-length Char-set Text-string`, the charset an IANA MIBenum
//! encoded as a WSP `Well-known-charset` (an Integer-value; 0 is `*`).
//!
//! The octets are kept exactly as received, whatever the charset, so a value in a
//! charset we cannot decode survives a round trip; [`EncodedString::decode`]
//! turns the common ones into text.

use std::fmt;

use super::error::{DecodeError, EncodeError};
use super::reader::Reader;
use super::wsp;

wire_number! {
    /// An IANA character set MIBenum, as WSP `Well-known-charset` carries it.
    pub struct Charset(u32) {
        ANY = 0 => "*",
        US_ASCII = 3 => "us-ascii",
        ISO_8859_1 = 4 => "iso-8859-1",
        ISO_8859_2 = 5 => "iso-8859-2",
        SHIFT_JIS = 17 => "shift_JIS",
        UTF_8 = 106 => "utf-8",
        UCS_2 = 1000 => "iso-10646-ucs-2",
        UTF_16BE = 1013 => "utf-16be",
        UTF_16LE = 1014 => "utf-16le",
        UTF_16 = 1015 => "utf-16",
        GB2312 = 2025 => "gb2312",
        BIG5 = 2026 => "big5",
    }
}

impl Charset {
    /// Reads a Well-known-charset (an Integer-value).
    pub fn read(r: &mut Reader<'_>, what: &'static str) -> Result<Self, DecodeError> {
        let v = wsp::read_integer_value(r, what)?;
        u32::try_from(v)
            .map(Charset)
            .map_err(|_| DecodeError::IntegerOverflow { what })
    }

    pub fn encode(self, out: &mut Vec<u8>) {
        wsp::write_integer_value(out, u64::from(self.0));
    }

    /// Decodes `bytes` in this charset, if it is one we know.
    pub fn decode(self, bytes: &[u8]) -> Option<String> {
        match self {
            Charset::UTF_8 | Charset::ANY => std::str::from_utf8(bytes).ok().map(str::to_owned),
            Charset::US_ASCII => bytes
                .is_ascii()
                .then(|| bytes.iter().map(|&b| char::from(b)).collect()),
            Charset::ISO_8859_1 => Some(bytes.iter().map(|&b| char::from(b)).collect()),
            Charset::UCS_2 | Charset::UTF_16 => decode_utf16(bytes, Endian::Big, true),
            Charset::UTF_16BE => decode_utf16(bytes, Endian::Big, false),
            Charset::UTF_16LE => decode_utf16(bytes, Endian::Little, false),
            _ => None,
        }
    }
}

#[derive(Clone, Copy)]
enum Endian {
    Big,
    Little,
}

/// UTF-16 (and UCS-2, its subset) to text; with `bom`, a leading byte-order mark
/// picks the byte order and is dropped, big-endian otherwise (RFC 2781).
fn decode_utf16(bytes: &[u8], default: Endian, bom: bool) -> Option<String> {
    if !bytes.len().is_multiple_of(2) {
        return None;
    }
    let (endian, body) = match (bom, bytes) {
        (true, [0xFE, 0xFF, rest @ ..]) => (Endian::Big, rest),
        (true, [0xFF, 0xFE, rest @ ..]) => (Endian::Little, rest),
        _ => (default, bytes),
    };
    let units = body.chunks_exact(2).map(|c| match endian {
        Endian::Big => u16::from_be_bytes([c[0], c[1]]),
        Endian::Little => u16::from_le_bytes([c[0], c[1]]),
    });
    char::decode_utf16(units)
        .collect::<Result<String, _>>()
        .ok()
}

/// An `Encoded-string-value`: text octets and, when the value carried one, its
/// charset. Used for Subject, To/Cc/Bcc/From addresses and the *-Text fields.
#[derive(Clone, PartialEq, Eq, Hash, Default)]
pub struct EncodedString {
    /// `None` for the plain `Text-string` form (US-ASCII by default).
    pub charset: Option<Charset>,
    /// The text octets, without Quote and End-of-string.
    pub bytes: Vec<u8>,
}

impl EncodedString {
    /// Plain `Text-string` form when `text` is US-ASCII, else UTF-8 with its charset.
    pub fn text(text: &str) -> Self {
        if text.is_ascii() && !text.contains('\0') {
            Self::plain(text)
        } else {
            Self::utf8(text)
        }
    }

    /// Plain `Text-string` form, no charset.
    pub fn plain(text: &str) -> Self {
        Self {
            charset: None,
            bytes: text.as_bytes().to_vec(),
        }
    }

    /// `Value-length Char-set Text-string` form with charset UTF-8 (106).
    pub fn utf8(text: &str) -> Self {
        Self {
            charset: Some(Charset::UTF_8),
            bytes: text.as_bytes().to_vec(),
        }
    }

    /// The text, when its charset is one we can decode. The plain form is read as
    /// UTF-8 (a superset of US-ASCII), falling back to ISO-8859-1.
    pub fn decode(&self) -> Option<String> {
        match self.charset {
            None => Some(wsp::to_text(&self.bytes)),
            Some(cs) => cs.decode(&self.bytes),
        }
    }

    /// The text, with undecodable octets replaced (for logs and display).
    pub fn to_string_lossy(&self) -> String {
        self.decode()
            .unwrap_or_else(|| String::from_utf8_lossy(&self.bytes).into_owned())
    }

    pub fn read(r: &mut Reader<'_>, what: &'static str) -> Result<Self, DecodeError> {
        match r.peek(what)? {
            // An empty Text-string is just End-of-string.
            0 => {
                r.u8(what)?;
                Ok(Self::default())
            }
            1..=wsp::LENGTH_QUOTE => {
                let mut inner = wsp::read_framed(r, what)?;
                let charset = Charset::read(&mut inner, what)?;
                // The value-length bounds the text, so it may hold NUL octets
                // (UTF-16); it must still end with End-of-string.
                let text = inner.take_rest();
                match text.split_last() {
                    Some((0, body)) => Ok(Self {
                        charset: Some(charset),
                        bytes: wsp::strip_quote(body).to_vec(),
                    }),
                    _ => Err(DecodeError::Unterminated { what }),
                }
            }
            32..=127 => Ok(Self {
                charset: None,
                bytes: wsp::read_text_bytes(r, what)?.to_vec(),
            }),
            octet => Err(DecodeError::UnexpectedOctet { what, octet }),
        }
    }

    pub fn encode(&self, out: &mut Vec<u8>, what: &'static str) -> Result<(), EncodeError> {
        match self.charset {
            None => wsp::write_text_bytes(out, &self.bytes, false, what),
            Some(cs) => wsp::write_framed(out, what, |o| {
                cs.encode(o);
                if self.bytes.first().is_some_and(|&b| b >= wsp::QUOTE) {
                    o.push(wsp::QUOTE);
                }
                o.extend_from_slice(&self.bytes);
                o.push(0);
                Ok(())
            }),
        }
    }
}

impl fmt::Debug for EncodedString {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.charset {
            None => write!(f, "EncodedString({:?})", self.to_string_lossy()),
            Some(cs) => write!(f, "EncodedString({:?}, {cs})", self.to_string_lossy()),
        }
    }
}

impl fmt::Display for EncodedString {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_string_lossy())
    }
}
