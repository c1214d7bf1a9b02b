//! Decode and encode errors. All of them are small and `Copy`, and name what was
//! being read or written (a header field, a primitive, the multipart body).

use super::header::FieldName;
use super::values::MessageType;

/// Why bytes did not decode as an MM1 PDU or one of its parts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    /// The input ends before `what` is complete.
    #[error("truncated {what}: needs {needed} octets, {available} available")]
    Truncated {
        what: &'static str,
        needed: usize,
        available: usize,
    },
    /// A Value-length announces more octets than remain.
    #[error("{what}: value-length {length} overruns the {available} octets left")]
    ValueLengthOverrun {
        what: &'static str,
        length: usize,
        available: usize,
    },
    /// Octets are left over inside a Value-length (or a multipart headers block)
    /// after the value it frames was read.
    #[error("{what}: {count} unexpected octets inside its value-length")]
    ValueLengthUnderrun { what: &'static str, count: usize },
    /// A Text-string, Token-text or Quoted-string without its end-of-string octet.
    #[error("{what}: text without an end-of-string octet")]
    Unterminated { what: &'static str },
    /// A uintvar longer than 5 octets or above 2^32 - 1.
    #[error("{what}: uintvar too long or above 2^32-1")]
    BadUintvar { what: &'static str },
    /// A Long-integer whose Short-length is 0 or above 30.
    #[error("{what}: long-integer with invalid length {length}")]
    BadLongInteger { what: &'static str, length: u8 },
    /// An integer that does not fit the 64 bits (or less) it is kept in.
    #[error("{what}: integer too large")]
    IntegerOverflow { what: &'static str },
    /// An octet that the grammar of `what` does not allow at this point.
    #[error("{what}: unexpected octet {octet:#04x}")]
    UnexpectedOctet { what: &'static str, octet: u8 },
    /// A header field name octet below 0x20 or 0x7F (WSP shift sequences are not
    /// used in MMS).
    #[error("invalid header field name octet {0:#04x}")]
    InvalidFieldName(u8),
    /// The PDU does not start with X-Mms-Message-Type.
    #[error("PDU does not start with X-Mms-Message-Type")]
    MissingMessageType,
    /// A typed decoder was given another PDU type.
    #[error("expected {expected}, found {found}")]
    UnexpectedMessageType {
        expected: MessageType,
        found: MessageType,
    },
    /// A field the PDU type requires is absent.
    #[error("{message_type}: missing {field}")]
    MissingField {
        message_type: MessageType,
        field: FieldName,
    },
    /// A PDU type that carries no message content has a Content-Type and body.
    #[error("{0} must not carry a Content-Type and body")]
    UnexpectedContent(MessageType),
    /// `from_bytes` found data after the end of the value.
    #[error("{count} trailing octets")]
    TrailingBytes { count: usize },
}

/// Why a value could not be encoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum EncodeError {
    /// Text that must be NUL-terminated on the wire contains a NUL octet.
    #[error("{what}: text contains an end-of-string (NUL) octet")]
    InteriorNul { what: &'static str },
    /// A length that does not fit a uintvar (2^32 - 1).
    #[error("{what} of {length} octets is too long for a uintvar")]
    TooLong { what: &'static str, length: usize },
    /// A value that must be a Short-integer token (octet 128-255) is not.
    #[error("{what}: {value:#04x} is not a short-integer token (128-255)")]
    NotAToken { what: &'static str, value: u8 },
    /// Anything else that has no encoding: an empty token, a field code above
    /// 0x7F, a raw value that is not exactly one WSP value, a body that does not
    /// match its content type.
    #[error("{what}: {reason}")]
    Invalid {
        what: &'static str,
        reason: &'static str,
    },
}
