//! MMS header fields (OMA-TS-MMS_ENC §7.3, Table 12 "Field Name Assignments"):
//! `Header = MMS-header | Application-header`. An MMS header is a well-known
//! field code with the high bit set (Bcc is 0x81 on the wire) and a value whose
//! grammar the field determines; an application header is a Token-text name and
//! a Text-string value.
//!
//! Every field of MMS 1.0-1.3 decodes to a typed [`Value`]. Fields without a
//! number here, application headers, and the two fields whose values the
//! specification leaves open (Content, Additional-headers) keep their encoded
//! octets ([`Value::Raw`]) and are written back unchanged.

use super::content_type::ContentType;
use super::error::{DecodeError, EncodeError};
use super::reader::Reader;
use super::text::EncodedString;
use super::values::{
    CountedLocation, ElementDescriptor, FromValue, MboxCount, MessageClass, MmFlags,
    PreviouslySentBy, PreviouslySentDate, TimeValue, read_long_lenient, read_token, write_token,
};
use super::wsp;

wire_number! {
    /// An MMS header field code (the 7-bit value; the wire octet has the high bit
    /// set). OMA-TS-MMS_ENC-V1_3 Table 12.
    pub struct FieldName(u8) {
        BCC = 0x01 => "Bcc",
        CC = 0x02 => "Cc",
        CONTENT_LOCATION = 0x03 => "X-Mms-Content-Location",
        CONTENT_TYPE = 0x04 => "Content-Type",
        DATE = 0x05 => "Date",
        DELIVERY_REPORT = 0x06 => "X-Mms-Delivery-Report",
        DELIVERY_TIME = 0x07 => "X-Mms-Delivery-Time",
        EXPIRY = 0x08 => "X-Mms-Expiry",
        FROM = 0x09 => "From",
        MESSAGE_CLASS = 0x0A => "X-Mms-Message-Class",
        MESSAGE_ID = 0x0B => "Message-ID",
        MESSAGE_TYPE = 0x0C => "X-Mms-Message-Type",
        MMS_VERSION = 0x0D => "X-Mms-MMS-Version",
        MESSAGE_SIZE = 0x0E => "X-Mms-Message-Size",
        PRIORITY = 0x0F => "X-Mms-Priority",
        READ_REPORT = 0x10 => "X-Mms-Read-Report",
        REPORT_ALLOWED = 0x11 => "X-Mms-Report-Allowed",
        RESPONSE_STATUS = 0x12 => "X-Mms-Response-Status",
        RESPONSE_TEXT = 0x13 => "X-Mms-Response-Text",
        SENDER_VISIBILITY = 0x14 => "X-Mms-Sender-Visibility",
        STATUS = 0x15 => "X-Mms-Status",
        SUBJECT = 0x16 => "Subject",
        TO = 0x17 => "To",
        TRANSACTION_ID = 0x18 => "X-Mms-Transaction-Id",
        RETRIEVE_STATUS = 0x19 => "X-Mms-Retrieve-Status",
        RETRIEVE_TEXT = 0x1A => "X-Mms-Retrieve-Text",
        READ_STATUS = 0x1B => "X-Mms-Read-Status",
        REPLY_CHARGING = 0x1C => "X-Mms-Reply-Charging",
        REPLY_CHARGING_DEADLINE = 0x1D => "X-Mms-Reply-Charging-Deadline",
        REPLY_CHARGING_ID = 0x1E => "X-Mms-Reply-Charging-ID",
        REPLY_CHARGING_SIZE = 0x1F => "X-Mms-Reply-Charging-Size",
        PREVIOUSLY_SENT_BY = 0x20 => "X-Mms-Previously-Sent-By",
        PREVIOUSLY_SENT_DATE = 0x21 => "X-Mms-Previously-Sent-Date",
        STORE = 0x22 => "X-Mms-Store",
        MM_STATE = 0x23 => "X-Mms-MM-State",
        MM_FLAGS = 0x24 => "X-Mms-MM-Flags",
        STORE_STATUS = 0x25 => "X-Mms-Store-Status",
        STORE_STATUS_TEXT = 0x26 => "X-Mms-Store-Status-Text",
        STORED = 0x27 => "X-Mms-Stored",
        ATTRIBUTES = 0x28 => "X-Mms-Attributes",
        TOTALS = 0x29 => "X-Mms-Totals",
        MBOX_TOTALS = 0x2A => "X-Mms-Mbox-Totals",
        QUOTAS = 0x2B => "X-Mms-Quotas",
        MBOX_QUOTAS = 0x2C => "X-Mms-Mbox-Quotas",
        MESSAGE_COUNT = 0x2D => "X-Mms-Message-Count",
        CONTENT = 0x2E => "Content",
        START = 0x2F => "X-Mms-Start",
        ADDITIONAL_HEADERS = 0x30 => "Additional-headers",
        DISTRIBUTION_INDICATOR = 0x31 => "X-Mms-Distribution-Indicator",
        ELEMENT_DESCRIPTOR = 0x32 => "X-Mms-Element-Descriptor",
        LIMIT = 0x33 => "X-Mms-Limit",
        RECOMMENDED_RETRIEVAL_MODE = 0x34 => "X-Mms-Recommended-Retrieval-Mode",
        RECOMMENDED_RETRIEVAL_MODE_TEXT = 0x35 => "X-Mms-Recommended-Retrieval-Mode-Text",
        STATUS_TEXT = 0x36 => "X-Mms-Status-Text",
        APPLIC_ID = 0x37 => "X-Mms-Applic-ID",
        REPLY_APPLIC_ID = 0x38 => "X-Mms-Reply-Applic-ID",
        AUX_APPLIC_INFO = 0x39 => "X-Mms-Aux-Applic-Info",
        CONTENT_CLASS = 0x3A => "X-Mms-Content-Class",
        DRM_CONTENT = 0x3B => "X-Mms-DRM-Content",
        ADAPTATION_ALLOWED = 0x3C => "X-Mms-Adaptation-Allowed",
        REPLACE_ID = 0x3D => "X-Mms-Replace-ID",
        CANCEL_ID = 0x3E => "X-Mms-Cancel-ID",
        CANCEL_STATUS = 0x3F => "X-Mms-Cancel-Status",
    }
}

/// The grammar of a field's value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ValueKind {
    /// A single Short-integer token (enumerations, Yes/No, MMS-Version,
    /// Attributes).
    Token,
    /// Long-integer (Date, Message-Size, Reply-Charging-Size).
    Long,
    /// Integer-value (Start, Limit, Message-Count).
    Integer,
    /// Text-string (Transaction-Id, Message-ID, the Applic-IDs, ...).
    Text,
    /// Text-string, or the counted form of the delete confirmations.
    ContentLocation,
    EncodedString,
    Time,
    From,
    MessageClass,
    ContentType,
    PreviouslySentBy,
    PreviouslySentDate,
    MmFlags,
    MboxCount,
    ElementDescriptor,
    /// Kept as encoded octets.
    Raw,
}

impl FieldName {
    /// The grammar of this field's value (OMA-TS-MMS_ENC §7.3).
    pub fn kind(self) -> ValueKind {
        use ValueKind as K;
        match self {
            Self::BCC | Self::CC | Self::TO | Self::SUBJECT => K::EncodedString,
            Self::RESPONSE_TEXT | Self::RETRIEVE_TEXT | Self::STORE_STATUS_TEXT => K::EncodedString,
            Self::RECOMMENDED_RETRIEVAL_MODE_TEXT | Self::STATUS_TEXT => K::EncodedString,
            Self::CONTENT_LOCATION => K::ContentLocation,
            Self::CONTENT_TYPE => K::ContentType,
            Self::DATE | Self::MESSAGE_SIZE | Self::REPLY_CHARGING_SIZE => K::Long,
            Self::START | Self::LIMIT | Self::MESSAGE_COUNT => K::Integer,
            Self::DELIVERY_TIME | Self::EXPIRY | Self::REPLY_CHARGING_DEADLINE => K::Time,
            Self::FROM => K::From,
            Self::MESSAGE_CLASS => K::MessageClass,
            Self::MESSAGE_ID | Self::TRANSACTION_ID | Self::REPLY_CHARGING_ID => K::Text,
            Self::APPLIC_ID | Self::REPLY_APPLIC_ID | Self::AUX_APPLIC_INFO => K::Text,
            Self::REPLACE_ID | Self::CANCEL_ID => K::Text,
            Self::MESSAGE_TYPE
            | Self::MMS_VERSION
            | Self::DELIVERY_REPORT
            | Self::PRIORITY
            | Self::READ_REPORT
            | Self::REPORT_ALLOWED
            | Self::RESPONSE_STATUS
            | Self::SENDER_VISIBILITY
            | Self::STATUS
            | Self::RETRIEVE_STATUS
            | Self::READ_STATUS
            | Self::REPLY_CHARGING
            | Self::STORE
            | Self::MM_STATE
            | Self::STORE_STATUS
            | Self::STORED
            | Self::ATTRIBUTES
            | Self::TOTALS
            | Self::QUOTAS
            | Self::DISTRIBUTION_INDICATOR
            | Self::RECOMMENDED_RETRIEVAL_MODE
            | Self::CONTENT_CLASS
            | Self::DRM_CONTENT
            | Self::ADAPTATION_ALLOWED
            | Self::CANCEL_STATUS => K::Token,
            Self::PREVIOUSLY_SENT_BY => K::PreviouslySentBy,
            Self::PREVIOUSLY_SENT_DATE => K::PreviouslySentDate,
            Self::MM_FLAGS => K::MmFlags,
            Self::MBOX_TOTALS | Self::MBOX_QUOTAS => K::MboxCount,
            Self::ELEMENT_DESCRIPTOR => K::ElementDescriptor,
            _ => K::Raw,
        }
    }

    /// A static name for error messages.
    pub fn what(self) -> &'static str {
        self.name().unwrap_or("unknown MMS header")
    }
}

/// A header's name: a well-known field or an application header's Token-text.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum HeaderName {
    Field(FieldName),
    Application(String),
}

/// A decoded header value.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Value {
    /// The token octet as sent (128-255).
    Token(u8),
    Long(u64),
    Integer(u64),
    Text(String),
    EncodedString(EncodedString),
    Time(TimeValue),
    From(FromValue),
    MessageClass(MessageClass),
    ContentType(ContentType),
    PreviouslySentBy(PreviouslySentBy),
    PreviouslySentDate(PreviouslySentDate),
    MmFlags(MmFlags),
    MboxCount(MboxCount),
    ElementDescriptor(ElementDescriptor),
    CountedLocation(CountedLocation),
    /// The encoded value exactly as received (one WSP value).
    Raw(Vec<u8>),
}

impl Value {
    /// Decodes a value of `kind` from exactly the octets of `raw`.
    fn decode(kind: ValueKind, raw: &[u8], what: &'static str) -> Result<Self, DecodeError> {
        let mut r = Reader::new(raw);
        let value = match kind {
            ValueKind::Token => Value::Token(read_token(&mut r, what)?),
            ValueKind::Long => Value::Long(read_long_lenient(&mut r, what)?),
            ValueKind::Integer => Value::Integer(wsp::read_integer_value(&mut r, what)?),
            ValueKind::Text => Value::Text(read_text_field(&mut r, what)?),
            ValueKind::ContentLocation => match r.peek(what)? {
                1..=wsp::LENGTH_QUOTE => {
                    Value::CountedLocation(CountedLocation::read(&mut r, what)?)
                }
                _ => Value::Text(read_text_field(&mut r, what)?),
            },
            ValueKind::EncodedString => Value::EncodedString(EncodedString::read(&mut r, what)?),
            ValueKind::Time => Value::Time(TimeValue::read(&mut r, what)?),
            ValueKind::From => Value::From(FromValue::read(&mut r, what)?),
            ValueKind::MessageClass => Value::MessageClass(MessageClass::read(&mut r, what)?),
            ValueKind::ContentType => Value::ContentType(ContentType::read(&mut r)?),
            ValueKind::PreviouslySentBy => {
                Value::PreviouslySentBy(PreviouslySentBy::read(&mut r, what)?)
            }
            ValueKind::PreviouslySentDate => {
                Value::PreviouslySentDate(PreviouslySentDate::read(&mut r, what)?)
            }
            ValueKind::MmFlags => Value::MmFlags(MmFlags::read(&mut r, what)?),
            ValueKind::MboxCount => Value::MboxCount(MboxCount::read(&mut r, what)?),
            ValueKind::ElementDescriptor => {
                Value::ElementDescriptor(ElementDescriptor::read(&mut r, what)?)
            }
            ValueKind::Raw => Value::Raw(r.take_rest().to_vec()),
        };
        r.expect_end_of_value(what)?;
        Ok(value)
    }

    /// True when this value has the grammar `kind` (what the field's decoder
    /// would produce).
    pub fn fits(&self, kind: ValueKind) -> bool {
        use ValueKind as K;
        matches!(
            (self, kind),
            (Value::Token(_), K::Token)
                | (Value::Long(_), K::Long)
                | (Value::Integer(_), K::Integer)
                | (Value::Text(_), K::Text | K::ContentLocation)
                | (Value::CountedLocation(_), K::ContentLocation)
                | (Value::EncodedString(_), K::EncodedString)
                | (Value::Time(_), K::Time)
                | (Value::From(_), K::From)
                | (Value::MessageClass(_), K::MessageClass)
                | (Value::ContentType(_), K::ContentType)
                | (Value::PreviouslySentBy(_), K::PreviouslySentBy)
                | (Value::PreviouslySentDate(_), K::PreviouslySentDate)
                | (Value::MmFlags(_), K::MmFlags)
                | (Value::MboxCount(_), K::MboxCount)
                | (Value::ElementDescriptor(_), K::ElementDescriptor)
                | (Value::Raw(_), K::Raw)
        )
    }

    pub fn encode(&self, out: &mut Vec<u8>, what: &'static str) -> Result<(), EncodeError> {
        match self {
            Value::Token(t) => write_token(out, *t, what),
            Value::Long(v) => {
                wsp::write_long_integer(out, *v);
                Ok(())
            }
            Value::Integer(v) => {
                wsp::write_integer_value(out, *v);
                Ok(())
            }
            Value::Text(s) => wsp::write_text_string(out, s, what),
            Value::EncodedString(s) => s.encode(out, what),
            Value::Time(t) => t.encode(out, what),
            Value::From(f) => f.encode(out, what),
            Value::MessageClass(c) => c.encode(out, what),
            Value::ContentType(c) => c.encode(out),
            Value::PreviouslySentBy(v) => v.encode(out, what),
            Value::PreviouslySentDate(v) => v.encode(out, what),
            Value::MmFlags(v) => v.encode(out, what),
            Value::MboxCount(v) => v.encode(out, what),
            Value::ElementDescriptor(v) => v.encode(out, what),
            Value::CountedLocation(v) => v.encode(out, what),
            Value::Raw(raw) => {
                if !wsp::is_single_raw_value(raw) {
                    return Err(EncodeError::Invalid {
                        what,
                        reason: "raw value is not exactly one WSP value",
                    });
                }
                out.extend_from_slice(raw);
                Ok(())
            }
        }
    }
}

/// A Text-string field value: text (possibly after a Quote) or the empty string.
fn read_text_field(r: &mut Reader<'_>, what: &'static str) -> Result<String, DecodeError> {
    match r.peek(what)? {
        0 | 32..=127 => wsp::read_text_string(r, what),
        octet => Err(DecodeError::UnexpectedOctet { what, octet }),
    }
}

/// One header.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Header {
    pub name: HeaderName,
    pub value: Value,
}

impl Header {
    pub fn new(field: FieldName, value: Value) -> Self {
        Self {
            name: HeaderName::Field(field),
            value,
        }
    }

    /// An application header (`X-Custom: text`), kept as its encoded value.
    pub fn application(name: &str, value: &str) -> Result<Self, EncodeError> {
        let mut raw = Vec::new();
        wsp::write_text_string(&mut raw, value, "application header")?;
        Ok(Self {
            name: HeaderName::Application(name.to_owned()),
            value: Value::Raw(raw),
        })
    }

    /// The well-known field, if this is an MMS header.
    pub fn field(&self) -> Option<FieldName> {
        match self.name {
            HeaderName::Field(f) => Some(f),
            HeaderName::Application(_) => None,
        }
    }

    pub fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        match r.peek("header name")? {
            b if b >= 0x80 => {
                r.u8("header name")?;
                let field = FieldName(b & 0x7F);
                let what = field.what();
                let raw = wsp::read_raw_value(r, what)?;
                let value = Value::decode(field.kind(), raw, what)?;
                Ok(Self::new(field, value))
            }
            b if wsp::is_token_start(b) => {
                let name = wsp::read_token_text(r, "application header name")?;
                let raw = wsp::read_raw_value(r, "application header")?;
                Ok(Self {
                    name: HeaderName::Application(name),
                    value: Value::Raw(raw.to_vec()),
                })
            }
            b => Err(DecodeError::InvalidFieldName(b)),
        }
    }

    pub fn encode(&self, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        match &self.name {
            HeaderName::Field(field) => {
                if field.0 >= 0x80 {
                    return Err(EncodeError::Invalid {
                        what: "header name",
                        reason: "field code above 0x7F",
                    });
                }
                if !self.value.fits(field.kind()) {
                    return Err(EncodeError::Invalid {
                        what: field.what(),
                        reason: "value does not have the field's type",
                    });
                }
                out.push(0x80 | field.0);
                self.value.encode(out, field.what())
            }
            HeaderName::Application(name) => {
                wsp::write_token_text(out, name, "application header name")?;
                match &self.value {
                    Value::Raw(_) => self.value.encode(out, "application header"),
                    _ => Err(EncodeError::Invalid {
                        what: "application header",
                        reason: "an application header's value is kept raw",
                    }),
                }
            }
        }
    }
}
