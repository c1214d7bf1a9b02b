//! MM4 (3GPP TS 23.140 §8.4) codec: the MMSC-to-MMSC PDUs carried over SMTP.
//!
//! Pure: bytes of the SMTP `DATA` in, a typed [`Mm4Pdu`] out, and back with
//! [`Mm4Pdu::to_bytes`]. The SMTP envelope (`MAIL FROM`/`RCPT TO`) is not part of the
//! PDU and is handled by the SMTP front and the `mm4-out` sender.
//!
//! Reading is tolerant — header names in any case, quoted and folded values, LF or
//! CRLF line endings, content that follows the headers without the empty line, RFC
//! 2047 subjects in any charset — and lossless where a relay needs it: headers we do
//! not type are kept in order in `extra_headers`, the content bytes are kept exactly,
//! open values (status codes, classes) keep values we do not know. Writing uses CRLF,
//! the TS 23.140 header spellings and RFC 2047 for non-ASCII text. For every PDU `p`
//! that [`Mm4Pdu::parse`] returns, `parse(p.to_bytes()) == p`, and `to_bytes` of that
//! is byte-identical.

mod fields;
mod header;
pub mod names;
mod pdu;
mod values;

#[cfg(test)]
mod tests;

pub use pdu::{
    DeliveryReportReq, DeliveryReportRes, ForwardReq, ForwardRes, ReadReplyReq, ReadReplyRes,
};
pub use values::{
    Expiry, MessageClass, Mm4Address, MmStatus, Priority, ReadStatus, RequestStatus,
    SenderVisibility,
};

use fields::Acc;
use header::{HeaderReader, unquote};
use std::fmt;

/// `X-Mms-3GPP-MMS-Version` written when nothing else is known (the last release of
/// TS 23.140).
pub const DEFAULT_MMS_VERSION: &str = "6.16.0";

/// Longest header value quoted in an error.
const MAX_ERROR_VALUE: usize = 100;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Mm4Error {
    /// The input does not start with an RFC 5322 header block.
    #[error("not an MM4 message: {0}")]
    NotAMessage(&'static str),
    /// The input ends inside the header block, in the middle of a line.
    #[error("MM4 message truncated inside its header block")]
    Truncated,
    /// A header the PDU cannot do without is absent or empty.
    #[error("MM4 message has no {0} header")]
    MissingHeader(&'static str),
    /// `X-Mms-Message-Type` names no MM4 PDU we handle (value clipped).
    #[error("unknown X-Mms-Message-Type {0:?}")]
    UnknownMessageType(String),
    /// A control header has a value we cannot act on (value clipped).
    #[error("bad {name} header value {value:?}")]
    BadHeader { name: &'static str, value: String },
}

fn clip(value: &str) -> String {
    match value.char_indices().nth(MAX_ERROR_VALUE) {
        Some((end, _)) => format!("{}...", value.get(..end).unwrap_or_default()),
        None => value.to_string(),
    }
}

impl Mm4Error {
    pub(crate) fn bad_header(name: &'static str, value: &str) -> Self {
        Mm4Error::BadHeader {
            name,
            value: clip(value),
        }
    }

    /// The `X-Mms-Request-Status-Code` to answer a request that failed to parse with.
    pub fn request_status(&self) -> RequestStatus {
        match self {
            Mm4Error::UnknownMessageType(_) => RequestStatus::ERROR_UNSUPPORTED_MESSAGE,
            Mm4Error::MissingHeader(names::FROM) => RequestStatus::ERROR_SENDING_ADDRESS_UNRESOLVED,
            _ => RequestStatus::ERROR_MESSAGE_FORMAT_CORRUPT,
        }
    }
}

/// `X-Mms-Message-Type`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MessageType {
    ForwardReq,
    ForwardRes,
    DeliveryReportReq,
    DeliveryReportRes,
    ReadReplyReq,
    ReadReplyRes,
}

impl MessageType {
    pub const ALL: [MessageType; 6] = [
        MessageType::ForwardReq,
        MessageType::ForwardRes,
        MessageType::DeliveryReportReq,
        MessageType::DeliveryReportRes,
        MessageType::ReadReplyReq,
        MessageType::ReadReplyRes,
    ];

    /// The TS 23.140 name (`MM4_forward.REQ`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            MessageType::ForwardReq => "MM4_forward.REQ",
            MessageType::ForwardRes => "MM4_forward.RES",
            MessageType::DeliveryReportReq => "MM4_delivery_report.REQ",
            MessageType::DeliveryReportRes => "MM4_delivery_report.RES",
            MessageType::ReadReplyReq => "MM4_read_reply_report.REQ",
            MessageType::ReadReplyRes => "MM4_read_reply_report.RES",
        }
    }

    /// Recognises a name ignoring case, surrounding blanks and quotes.
    pub fn parse(name: &str) -> Option<MessageType> {
        let name = unquote(name.trim_matches([' ', '\t'])).trim_matches([' ', '\t']);
        MessageType::ALL
            .into_iter()
            .find(|t| t.as_str().eq_ignore_ascii_case(name))
    }

    pub fn is_request(self) -> bool {
        matches!(
            self,
            MessageType::ForwardReq | MessageType::DeliveryReportReq | MessageType::ReadReplyReq
        )
    }

    /// The response type answering this request type.
    pub fn response(self) -> Option<MessageType> {
        match self {
            MessageType::ForwardReq => Some(MessageType::ForwardRes),
            MessageType::DeliveryReportReq => Some(MessageType::DeliveryReportRes),
            MessageType::ReadReplyReq => Some(MessageType::ReadReplyRes),
            _ => None,
        }
    }
}

impl fmt::Display for MessageType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for MessageType {
    type Err = Mm4Error;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        MessageType::parse(s).ok_or_else(|| Mm4Error::UnknownMessageType(clip(s)))
    }
}

/// Any MM4 PDU.
// A PDU is parsed once per message and moved along, never stored in bulk; unboxed
// variants keep matching on it plain.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Mm4Pdu {
    ForwardReq(ForwardReq),
    ForwardRes(ForwardRes),
    DeliveryReportReq(DeliveryReportReq),
    DeliveryReportRes(DeliveryReportRes),
    ReadReplyReq(ReadReplyReq),
    ReadReplyRes(ReadReplyRes),
}

impl Mm4Pdu {
    /// Parses the bytes of an SMTP `DATA` (dot-unstuffed, without the final `.`).
    pub fn parse(raw: &[u8]) -> Result<Mm4Pdu, Mm4Error> {
        let (fields, body) = HeaderReader::new(raw).finish()?;
        let type_field = fields
            .iter()
            .find(|f| f.is(names::MESSAGE_TYPE))
            .ok_or(Mm4Error::MissingHeader(names::MESSAGE_TYPE))?;
        let kind = type_of(&type_field.value())?;
        let acc = Acc::collect(&fields, kind)?;
        Ok(match kind {
            MessageType::ForwardReq => Mm4Pdu::ForwardReq(ForwardReq::from_acc(acc, body)?),
            MessageType::ForwardRes => Mm4Pdu::ForwardRes(ForwardRes::from_acc(acc, body)?),
            MessageType::DeliveryReportReq => {
                Mm4Pdu::DeliveryReportReq(DeliveryReportReq::from_acc(acc, body)?)
            }
            MessageType::DeliveryReportRes => {
                Mm4Pdu::DeliveryReportRes(DeliveryReportRes::from_acc(acc, body)?)
            }
            MessageType::ReadReplyReq => Mm4Pdu::ReadReplyReq(ReadReplyReq::from_acc(acc, body)?),
            MessageType::ReadReplyRes => Mm4Pdu::ReadReplyRes(ReadReplyRes::from_acc(acc, body)?),
        })
    }

    /// The PDU on the wire (CRLF line endings), ready for SMTP `DATA` (dot-stuffing is
    /// the sender's job).
    pub fn to_bytes(&self) -> Vec<u8> {
        match self {
            Mm4Pdu::ForwardReq(p) => p.to_bytes(),
            Mm4Pdu::ForwardRes(p) => p.to_bytes(),
            Mm4Pdu::DeliveryReportReq(p) => p.to_bytes(),
            Mm4Pdu::DeliveryReportRes(p) => p.to_bytes(),
            Mm4Pdu::ReadReplyReq(p) => p.to_bytes(),
            Mm4Pdu::ReadReplyRes(p) => p.to_bytes(),
        }
    }

    pub fn transaction_id(&self) -> &str {
        match self {
            Mm4Pdu::ForwardReq(p) => &p.transaction_id,
            Mm4Pdu::ForwardRes(p) => &p.transaction_id,
            Mm4Pdu::DeliveryReportReq(p) => &p.transaction_id,
            Mm4Pdu::DeliveryReportRes(p) => &p.transaction_id,
            Mm4Pdu::ReadReplyReq(p) => &p.transaction_id,
            Mm4Pdu::ReadReplyRes(p) => &p.transaction_id,
        }
    }

    /// `X-Mms-Message-ID`.
    pub fn message_id(&self) -> Option<&str> {
        match self {
            Mm4Pdu::ForwardReq(p) => p.message_id.as_deref(),
            Mm4Pdu::ForwardRes(p) => p.message_id.as_deref(),
            Mm4Pdu::DeliveryReportReq(p) => p.message_id.as_deref(),
            Mm4Pdu::DeliveryReportRes(p) => p.message_id.as_deref(),
            Mm4Pdu::ReadReplyReq(p) => p.message_id.as_deref(),
            Mm4Pdu::ReadReplyRes(p) => p.message_id.as_deref(),
        }
    }

    pub fn message_type(&self) -> MessageType {
        match self {
            Mm4Pdu::ForwardReq(_) => MessageType::ForwardReq,
            Mm4Pdu::ForwardRes(_) => MessageType::ForwardRes,
            Mm4Pdu::DeliveryReportReq(_) => MessageType::DeliveryReportReq,
            Mm4Pdu::DeliveryReportRes(_) => MessageType::DeliveryReportRes,
            Mm4Pdu::ReadReplyReq(_) => MessageType::ReadReplyReq,
            Mm4Pdu::ReadReplyRes(_) => MessageType::ReadReplyRes,
        }
    }

    /// Whether the sender asked for a `.RES` (`X-Mms-Ack-Request: Yes` on a request).
    pub fn ack_requested(&self) -> bool {
        match self {
            Mm4Pdu::ForwardReq(p) => p.ack_request,
            Mm4Pdu::DeliveryReportReq(p) => p.ack_request,
            Mm4Pdu::ReadReplyReq(p) => p.ack_request,
            _ => false,
        }
    }

    /// Where the answer to a request goes (`X-Mms-Originator-System`, else `Sender`);
    /// `None` for responses.
    pub fn reply_address(&self) -> Option<&str> {
        match self {
            Mm4Pdu::ForwardReq(p) => p.reply_address(),
            Mm4Pdu::DeliveryReportReq(p) => p.reply_address(),
            Mm4Pdu::ReadReplyReq(p) => p.reply_address(),
            _ => None,
        }
    }

    /// The headers the typed fields do not cover, in order.
    pub fn extra_headers(&self) -> &[(String, String)] {
        match self {
            Mm4Pdu::ForwardReq(p) => &p.extra_headers,
            Mm4Pdu::ForwardRes(p) => &p.extra_headers,
            Mm4Pdu::DeliveryReportReq(p) => &p.extra_headers,
            Mm4Pdu::DeliveryReportRes(p) => &p.extra_headers,
            Mm4Pdu::ReadReplyReq(p) => &p.extra_headers,
            Mm4Pdu::ReadReplyRes(p) => &p.extra_headers,
        }
    }
}

macro_rules! into_pdu {
    ($($variant:ident),+) => {$(
        impl From<$variant> for Mm4Pdu {
            fn from(pdu: $variant) -> Self {
                Mm4Pdu::$variant(pdu)
            }
        }
    )+};
}
into_pdu!(
    ForwardReq,
    ForwardRes,
    DeliveryReportReq,
    DeliveryReportRes,
    ReadReplyReq,
    ReadReplyRes
);

fn type_of(value: &str) -> Result<MessageType, Mm4Error> {
    if unquote(value).is_empty() {
        return Err(Mm4Error::MissingHeader(names::MESSAGE_TYPE));
    }
    value.parse()
}

/// The PDU type, reading only as far as the `X-Mms-Message-Type` header (for routing
/// before a full parse).
pub fn message_type(raw: &[u8]) -> Result<MessageType, Mm4Error> {
    let mut reader = HeaderReader::new(raw);
    while let Some(field) = reader.next_field()? {
        if field.is(names::MESSAGE_TYPE) {
            return type_of(&field.value());
        }
    }
    Err(Mm4Error::MissingHeader(names::MESSAGE_TYPE))
}

/// The `X-Mms-Transaction-ID`, reading only as far as that header; works on input
/// that does not parse, so a request can still be answered with an error status.
pub fn transaction_id(raw: &[u8]) -> Option<String> {
    let mut reader = HeaderReader::new(raw);
    while let Ok(Some(field)) = reader.next_field() {
        if field.is(names::TRANSACTION_ID) {
            let value = field.value();
            let id = unquote(&value);
            if !id.is_empty() {
                return Some(id.to_string());
            }
        }
    }
    None
}
