//! WSP `Content-type-value` (WAP-230-WSP §8.4.2.24): a constrained media type
//! (a well-known Short-integer or an extension media string), or the general form
//! `Value-length Media-type *(Parameter)`.
//!
//! Which form a value arrived in is kept where it affects the octets (well-known
//! code vs media string, well-known parameter code vs token name), so canonical
//! input re-encodes to the same octets.

use std::fmt;

use super::error::{DecodeError, EncodeError};
use super::reader::Reader;
use super::text::Charset;
use super::wsp;

/// WSP content type assignments (WAP-230-WSP Table 40 and the OMNA registry),
/// indexed by assigned number.
const WELL_KNOWN_MEDIA: [&str; 0x55] = [
    "*/*",
    "text/*",
    "text/html",
    "text/plain",
    "text/x-hdml",
    "text/x-ttml",
    "text/x-vCalendar",
    "text/x-vCard",
    "text/vnd.wap.wml",
    "text/vnd.wap.wmlscript",
    "text/vnd.wap.wta-event",
    "multipart/*",
    "multipart/mixed",
    "multipart/form-data",
    "multipart/byterantes",
    "multipart/alternative",
    "application/*",
    "application/java-vm",
    "application/x-www-form-urlencoded",
    "application/x-hdmlc",
    "application/vnd.wap.wmlc",
    "application/vnd.wap.wmlscriptc",
    "application/vnd.wap.wta-eventc",
    "application/vnd.wap.uaprof",
    "application/vnd.wap.wtls-ca-certificate",
    "application/vnd.wap.wtls-user-certificate",
    "application/x-x509-ca-cert",
    "application/x-x509-user-cert",
    "image/*",
    "image/gif",
    "image/jpeg",
    "image/tiff",
    "image/png",
    "image/vnd.wap.wbmp",
    "application/vnd.wap.multipart.*",
    "application/vnd.wap.multipart.mixed",
    "application/vnd.wap.multipart.form-data",
    "application/vnd.wap.multipart.byteranges",
    "application/vnd.wap.multipart.alternative",
    "application/xml",
    "text/xml",
    "application/vnd.wap.wbxml",
    "application/x-x968-cross-cert",
    "application/x-x968-ca-cert",
    "application/x-x968-user-cert",
    "text/vnd.wap.si",
    "application/vnd.wap.sic",
    "text/vnd.wap.sl",
    "application/vnd.wap.slc",
    "text/vnd.wap.co",
    "application/vnd.wap.coc",
    "application/vnd.wap.multipart.related",
    "application/vnd.wap.sia",
    "text/vnd.wap.connectivity-xml",
    "application/vnd.wap.connectivity-wbxml",
    "application/pkcs7-mime",
    "application/vnd.wap.hashed-certificate",
    "application/vnd.wap.signed-certificate",
    "application/vnd.wap.cert-response",
    "application/xhtml+xml",
    "application/wml+xml",
    "text/css",
    "application/vnd.wap.mms-message",
    "application/vnd.wap.rollover-certificate",
    "application/vnd.wap.locc+wbxml",
    "application/vnd.wap.loc+xml",
    "application/vnd.syncml.dm+wbxml",
    "application/vnd.syncml.dm+xml",
    "application/vnd.syncml.notification",
    "application/vnd.wap.xhtml+xml",
    "application/vnd.wv.csp.cir",
    "application/vnd.oma.dd+xml",
    "application/vnd.oma.drm.message",
    "application/vnd.oma.drm.content",
    "application/vnd.oma.drm.rights+xml",
    "application/vnd.oma.drm.rights+wbxml",
    "application/vnd.wv.csp+xml",
    "application/vnd.wv.csp+wbxml",
    "application/vnd.syncml.ds.notification",
    "audio/*",
    "video/*",
    "application/vnd.oma.dd2+xml",
    "application/mikey",
    "application/vnd.oma.dcd",
    "application/vnd.oma.dcdc",
];

/// A WSP well-known media type number (Table 40; registered numbers above 0xFF
/// are carried as Long-integers and kept as they are).
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct WellKnownMedia(pub u32);

impl WellKnownMedia {
    pub const ANY: Self = Self(0x00);
    pub const TEXT_HTML: Self = Self(0x02);
    pub const TEXT_PLAIN: Self = Self(0x03);
    pub const TEXT_X_VCALENDAR: Self = Self(0x06);
    pub const TEXT_X_VCARD: Self = Self(0x07);
    pub const MULTIPART_MIXED_MIME: Self = Self(0x0C);
    pub const IMAGE_GIF: Self = Self(0x1D);
    pub const IMAGE_JPEG: Self = Self(0x1E);
    pub const IMAGE_TIFF: Self = Self(0x1F);
    pub const IMAGE_PNG: Self = Self(0x20);
    pub const IMAGE_WBMP: Self = Self(0x21);
    /// `application/vnd.wap.multipart.*`
    pub const MULTIPART_ANY: Self = Self(0x22);
    /// `application/vnd.wap.multipart.mixed`
    pub const MULTIPART_MIXED: Self = Self(0x23);
    /// `application/vnd.wap.multipart.form-data`
    pub const MULTIPART_FORM_DATA: Self = Self(0x24);
    /// `application/vnd.wap.multipart.byteranges`
    pub const MULTIPART_BYTERANGES: Self = Self(0x25);
    /// `application/vnd.wap.multipart.alternative`
    pub const MULTIPART_ALTERNATIVE: Self = Self(0x26);
    pub const APPLICATION_XML: Self = Self(0x27);
    pub const TEXT_XML: Self = Self(0x28);
    /// `application/vnd.wap.multipart.related`
    pub const MULTIPART_RELATED: Self = Self(0x33);
    pub const APPLICATION_XHTML_XML: Self = Self(0x3B);
    pub const TEXT_CSS: Self = Self(0x3D);
    /// `application/vnd.wap.mms-message`
    pub const MMS_MESSAGE: Self = Self(0x3E);
    pub const DRM_MESSAGE: Self = Self(0x48);
    pub const DRM_CONTENT: Self = Self(0x49);

    /// The media type this number stands for, if it is in the table.
    pub fn name(self) -> Option<&'static str> {
        usize::try_from(self.0)
            .ok()
            .and_then(|i| WELL_KNOWN_MEDIA.get(i))
            .copied()
    }

    /// The number of a media type (case-insensitive), if it has one.
    pub fn from_name(media: &str) -> Option<Self> {
        WELL_KNOWN_MEDIA
            .iter()
            .position(|m| m.eq_ignore_ascii_case(media))
            .map(|i| Self(i as u32))
    }

    /// The `application/vnd.wap.multipart.*` family, whose bodies use the WSP
    /// multipart encoding.
    pub fn is_wap_multipart(self) -> bool {
        matches!(self.0, 0x22..=0x26 | 0x33)
    }
}

impl fmt::Debug for WellKnownMedia {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.name() {
            Some(n) => write!(f, "WellKnownMedia({:#04x} {n})", self.0),
            None => write!(f, "WellKnownMedia({:#04x})", self.0),
        }
    }
}

/// A media type as sent: a well-known number or an `Extension-media` string.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum MediaType {
    WellKnown(WellKnownMedia),
    Extension(String),
}

impl MediaType {
    /// The well-known number when `media` has one, else the string.
    pub fn from_name(media: &str) -> Self {
        match WellKnownMedia::from_name(media) {
            Some(w) => MediaType::WellKnown(w),
            None => MediaType::Extension(media.to_owned()),
        }
    }

    /// The media type as text (`image/jpeg`); unnamed numbers as `0x..`.
    pub fn name(&self) -> String {
        match self {
            MediaType::WellKnown(w) => match w.name() {
                Some(n) => n.to_owned(),
                None => format!("{:#06x}", w.0),
            },
            MediaType::Extension(s) => s.clone(),
        }
    }

    /// True when the body is a WSP multipart (`application/vnd.wap.multipart.*`).
    pub fn is_wap_multipart(&self) -> bool {
        match self {
            MediaType::WellKnown(w) => w.is_wap_multipart(),
            MediaType::Extension(s) => s
                .get(..30)
                .is_some_and(|p| p.eq_ignore_ascii_case("application/vnd.wap.multipart.")),
        }
    }

    /// Case-insensitive comparison with a media type string.
    pub fn is(&self, media: &str) -> bool {
        self.name().eq_ignore_ascii_case(media)
    }
}

wire_number! {
    /// A WSP well-known parameter number (WAP-230-WSP Table 38).
    pub struct ParamCode(u32) {
        Q = 0x00 => "Q",
        CHARSET = 0x01 => "Charset",
        LEVEL = 0x02 => "Level",
        TYPE = 0x03 => "Type",
        NAME_V1_1 = 0x05 => "Name",
        FILENAME_V1_1 = 0x06 => "Filename",
        DIFFERENCES = 0x07 => "Differences",
        PADDING = 0x08 => "Padding",
        TYPE_RELATED = 0x09 => "Type",
        START_V1_2 = 0x0A => "Start",
        START_INFO_V1_2 = 0x0B => "Start-info",
        COMMENT_V1_3 = 0x0C => "Comment",
        DOMAIN_V1_3 = 0x0D => "Domain",
        MAX_AGE = 0x0E => "Max-Age",
        PATH_V1_3 = 0x0F => "Path",
        SECURE = 0x10 => "Secure",
        SEC = 0x11 => "SEC",
        MAC = 0x12 => "MAC",
        CREATION_DATE = 0x13 => "Creation-date",
        MODIFICATION_DATE = 0x14 => "Modification-date",
        READ_DATE = 0x15 => "Read-date",
        SIZE = 0x16 => "Size",
        NAME = 0x17 => "Name",
        FILENAME = 0x18 => "Filename",
        START = 0x19 => "Start",
        START_INFO = 0x1A => "Start-info",
        COMMENT = 0x1B => "Comment",
        DOMAIN = 0x1C => "Domain",
        PATH = 0x1D => "Path",
    }
}

/// A parameter name: a well-known number or a Token-text.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum ParamName {
    WellKnown(ParamCode),
    Token(String),
}

/// A parameter value. Typed values (Integer-value, Date-value, ...) are kept as
/// integers, text values as text; the encoding is chosen from the variant.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum ParamValue {
    /// Short-integer, Long-integer (Integer-value, Date-value, charsets, ...).
    Integer(u64),
    /// Text-string, Token-text, No-value (empty), Extension-media.
    Text(String),
    /// Quoted-string (`"` text End-of-string).
    Quoted(String),
    /// Q-value (uintvar), only for the Q parameter.
    Q(u32),
}

impl ParamValue {
    /// The text of a text or quoted value.
    pub fn as_text(&self) -> Option<&str> {
        match self {
            ParamValue::Text(s) | ParamValue::Quoted(s) => Some(s),
            _ => None,
        }
    }

    pub fn as_integer(&self) -> Option<u64> {
        match self {
            ParamValue::Integer(v) => Some(*v),
            _ => None,
        }
    }

    fn read(r: &mut Reader<'_>, q_value: bool, what: &'static str) -> Result<Self, DecodeError> {
        if q_value {
            return Ok(ParamValue::Q(wsp::read_uintvar(r, what)?));
        }
        match r.peek(what)? {
            1..=30 => Ok(ParamValue::Integer(wsp::read_long_integer(r, what)?)),
            wsp::LENGTH_QUOTE => Err(DecodeError::UnexpectedOctet {
                what,
                octet: wsp::LENGTH_QUOTE,
            }),
            wsp::QUOTED_STRING => {
                r.u8(what)?;
                Ok(ParamValue::Quoted(wsp::to_text(wsp::read_nul_terminated(
                    r, what,
                )?)))
            }
            0 | 32..=127 => Ok(ParamValue::Text(wsp::read_text_string(r, what)?)),
            _ => Ok(ParamValue::Integer(u64::from(wsp::read_short_integer(
                r, what,
            )?))),
        }
    }

    fn encode(&self, out: &mut Vec<u8>, what: &'static str) -> Result<(), EncodeError> {
        match self {
            ParamValue::Integer(v) => {
                wsp::write_integer_value(out, *v);
                Ok(())
            }
            ParamValue::Text(s) => wsp::write_text_bytes(out, s.as_bytes(), true, what),
            ParamValue::Quoted(s) => wsp::write_quoted_string(out, s, what),
            ParamValue::Q(q) => {
                wsp::write_uintvar(out, *q);
                Ok(())
            }
        }
    }
}

/// One content-type parameter.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Parameter {
    pub name: ParamName,
    pub value: ParamValue,
}

impl Parameter {
    pub fn new(code: ParamCode, value: ParamValue) -> Self {
        Self {
            name: ParamName::WellKnown(code),
            value,
        }
    }

    pub fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        const WHAT: &str = "content-type parameter";
        let name = match r.peek(WHAT)? {
            b if wsp::is_token_start(b) => ParamName::Token(wsp::read_token_text(r, WHAT)?),
            _ => {
                let code = wsp::read_integer_value(r, WHAT)?;
                ParamName::WellKnown(ParamCode(
                    u32::try_from(code).map_err(|_| DecodeError::IntegerOverflow { what: WHAT })?,
                ))
            }
        };
        let q_value = name == ParamName::WellKnown(ParamCode::Q);
        let value = ParamValue::read(r, q_value, WHAT)?;
        Ok(Self { name, value })
    }

    pub fn encode(&self, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        const WHAT: &str = "content-type parameter";
        match &self.name {
            ParamName::WellKnown(code) => wsp::write_integer_value(out, u64::from(code.0)),
            ParamName::Token(t) => wsp::write_token_text(out, t, WHAT)?,
        }
        let q_value = self.name == ParamName::WellKnown(ParamCode::Q);
        if q_value != matches!(self.value, ParamValue::Q(_)) {
            return Err(EncodeError::Invalid {
                what: WHAT,
                reason: "a Q-value belongs to the Q parameter and only there",
            });
        }
        self.value.encode(out, WHAT)
    }
}

/// A WSP `Content-type-value`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ContentType {
    pub media: MediaType,
    pub params: Vec<Parameter>,
}

impl ContentType {
    /// A content type without parameters; a well-known number when there is one.
    pub fn new(media: &str) -> Self {
        Self {
            media: MediaType::from_name(media),
            params: Vec::new(),
        }
    }

    pub fn well_known(media: WellKnownMedia) -> Self {
        Self {
            media: MediaType::WellKnown(media),
            params: Vec::new(),
        }
    }

    /// `application/vnd.wap.multipart.related; type=<root type>; start=<root id>`,
    /// the usual MMS with a SMIL presentation (`type` 0x89, `start` 0x8A).
    pub fn multipart_related(root_type: &str, start: &str) -> Self {
        Self::well_known(WellKnownMedia::MULTIPART_RELATED)
            .with_param(ParamCode::TYPE_RELATED, ParamValue::Text(root_type.into()))
            .with_param(ParamCode::START_V1_2, ParamValue::Text(start.into()))
    }

    /// `application/vnd.wap.multipart.mixed`.
    pub fn multipart_mixed() -> Self {
        Self::well_known(WellKnownMedia::MULTIPART_MIXED)
    }

    pub fn with_param(mut self, code: ParamCode, value: ParamValue) -> Self {
        self.params.push(Parameter::new(code, value));
        self
    }

    /// Adds `charset` (0x81).
    pub fn with_charset(self, charset: Charset) -> Self {
        self.with_param(
            ParamCode::CHARSET,
            ParamValue::Integer(u64::from(charset.0)),
        )
    }

    /// Adds `name` (0x85, the form handsets understand best).
    pub fn with_name(self, name: &str) -> Self {
        self.with_param(ParamCode::NAME_V1_1, ParamValue::Text(name.into()))
    }

    /// The first well-known parameter with one of `codes`.
    pub fn param(&self, codes: &[ParamCode]) -> Option<&ParamValue> {
        self.params.iter().find_map(|p| match &p.name {
            ParamName::WellKnown(c) if codes.contains(c) => Some(&p.value),
            _ => None,
        })
    }

    pub fn charset(&self) -> Option<Charset> {
        self.param(&[ParamCode::CHARSET])
            .and_then(ParamValue::as_integer)
            .and_then(|v| u32::try_from(v).ok())
            .map(Charset)
    }

    /// `name` (0x85 or 0x97).
    pub fn name(&self) -> Option<&str> {
        self.param(&[ParamCode::NAME_V1_1, ParamCode::NAME])
            .and_then(ParamValue::as_text)
    }

    /// `start` of a multipart/related (0x8A or 0x99).
    pub fn start(&self) -> Option<&str> {
        self.param(&[ParamCode::START_V1_2, ParamCode::START])
            .and_then(ParamValue::as_text)
    }

    /// `type` of a multipart/related (0x89): the root part's media type.
    pub fn related_type(&self) -> Option<String> {
        match self.param(&[ParamCode::TYPE_RELATED])? {
            ParamValue::Text(s) | ParamValue::Quoted(s) => Some(s.clone()),
            ParamValue::Integer(v) => u32::try_from(*v)
                .ok()
                .map(|v| MediaType::WellKnown(WellKnownMedia(v)).name()),
            ParamValue::Q(_) => None,
        }
    }

    pub fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        const WHAT: &str = "content type";
        match r.peek(WHAT)? {
            b if b >= 0x80 => Ok(Self::well_known(WellKnownMedia(u32::from(
                wsp::read_short_integer(r, WHAT)?,
            )))),
            0 | 32..=127 => Ok(Self {
                media: MediaType::Extension(wsp::read_text_string(r, WHAT)?),
                params: Vec::new(),
            }),
            _ => {
                let mut inner = wsp::read_framed(r, WHAT)?;
                let media = match inner.peek(WHAT)? {
                    0 | 32..=127 => MediaType::Extension(wsp::read_text_string(&mut inner, WHAT)?),
                    _ => {
                        let v = wsp::read_integer_value(&mut inner, WHAT)?;
                        MediaType::WellKnown(WellKnownMedia(
                            u32::try_from(v)
                                .map_err(|_| DecodeError::IntegerOverflow { what: WHAT })?,
                        ))
                    }
                };
                let mut params = Vec::new();
                while !inner.is_empty() {
                    params.push(Parameter::read(&mut inner)?);
                }
                Ok(Self { media, params })
            }
        }
    }

    pub fn encode(&self, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        const WHAT: &str = "content type";
        match (&self.media, self.params.is_empty()) {
            (MediaType::WellKnown(w), true) if w.0 < 0x80 => {
                out.push(0x80 | w.0 as u8);
                Ok(())
            }
            (MediaType::Extension(s), true) => wsp::write_text_string(out, s, WHAT),
            (media, _) => wsp::write_framed(out, WHAT, |o| {
                match media {
                    MediaType::WellKnown(w) => wsp::write_integer_value(o, u64::from(w.0)),
                    MediaType::Extension(s) => wsp::write_text_string(o, s, WHAT)?,
                }
                for p in &self.params {
                    p.encode(o)?;
                }
                Ok(())
            }),
        }
    }
}

impl fmt::Display for ContentType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.media.name())?;
        for p in &self.params {
            let name = match &p.name {
                ParamName::WellKnown(c) => c
                    .name()
                    .map(str::to_ascii_lowercase)
                    .unwrap_or_else(|| format!("{:#04x}", c.0)),
                ParamName::Token(t) => t.clone(),
            };
            match &p.value {
                ParamValue::Integer(v) => write!(f, "; {name}={v}")?,
                ParamValue::Text(s) | ParamValue::Quoted(s) => write!(f, "; {name}=\"{s}\"")?,
                ParamValue::Q(q) => write!(f, "; {name}=q{q}")?,
            }
        }
        Ok(())
    }
}
