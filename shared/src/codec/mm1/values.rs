//! The value types of MMS header fields (OMA-TS-MMS_ENC §7.3): the token
//! enumerations as open newtypes over their octet (so a value we do not know
//! survives a round trip), and the structured values (From, Expiry, ...).

use std::fmt;

use super::error::{DecodeError, EncodeError};
use super::reader::Reader;
use super::text::EncodedString;
use super::wsp;
use crate::domain::{Address, AddressError};

wire_number! {
    /// X-Mms-Message-Type (0x0C), the PDU type.
    pub struct MessageType(u8) {
        SEND_REQ = 0x80 => "m-send-req",
        SEND_CONF = 0x81 => "m-send-conf",
        NOTIFICATION_IND = 0x82 => "m-notification-ind",
        NOTIFYRESP_IND = 0x83 => "m-notifyresp-ind",
        RETRIEVE_CONF = 0x84 => "m-retrieve-conf",
        ACKNOWLEDGE_IND = 0x85 => "m-acknowledge-ind",
        DELIVERY_IND = 0x86 => "m-delivery-ind",
        READ_REC_IND = 0x87 => "m-read-rec-ind",
        READ_ORIG_IND = 0x88 => "m-read-orig-ind",
        FORWARD_REQ = 0x89 => "m-forward-req",
        FORWARD_CONF = 0x8A => "m-forward-conf",
        MBOX_STORE_REQ = 0x8B => "m-mbox-store-req",
        MBOX_STORE_CONF = 0x8C => "m-mbox-store-conf",
        MBOX_VIEW_REQ = 0x8D => "m-mbox-view-req",
        MBOX_VIEW_CONF = 0x8E => "m-mbox-view-conf",
        MBOX_UPLOAD_REQ = 0x8F => "m-mbox-upload-req",
        MBOX_UPLOAD_CONF = 0x90 => "m-mbox-upload-conf",
        MBOX_DELETE_REQ = 0x91 => "m-mbox-delete-req",
        MBOX_DELETE_CONF = 0x92 => "m-mbox-delete-conf",
        MBOX_DESCR = 0x93 => "m-mbox-descr",
        DELETE_REQ = 0x94 => "m-delete-req",
        DELETE_CONF = 0x95 => "m-delete-conf",
        CANCEL_REQ = 0x96 => "m-cancel-req",
        CANCEL_CONF = 0x97 => "m-cancel-conf",
    }
}

wire_number! {
    /// Yes/No fields: Delivery-Report, Read-Report, Report-Allowed, Store, Stored,
    /// Totals, Quotas, Distribution-Indicator, DRM-Content, Adaptation-Allowed.
    pub struct YesNo(u8) {
        YES = 0x80 => "Yes",
        NO = 0x81 => "No",
    }
}

impl YesNo {
    pub fn is_yes(self) -> bool {
        self == YesNo::YES
    }
}

impl From<bool> for YesNo {
    fn from(b: bool) -> Self {
        if b { YesNo::YES } else { YesNo::NO }
    }
}

wire_number! {
    /// X-Mms-Priority (0x0F).
    pub struct Priority(u8) {
        LOW = 0x80 => "Low",
        NORMAL = 0x81 => "Normal",
        HIGH = 0x82 => "High",
    }
}

wire_number! {
    /// X-Mms-Sender-Visibility (0x14).
    pub struct SenderVisibility(u8) {
        HIDE = 0x80 => "Hide",
        SHOW = 0x81 => "Show",
    }
}

wire_number! {
    /// X-Mms-Response-Status (0x12). 0x81-0x88 are the MMS 1.0 codes (obsolete
    /// from 1.1 but still sent); 0xC0-0xDF transient and 0xE0-0xFF permanent
    /// errors from 1.1 on.
    pub struct ResponseStatus(u8) {
        OK = 0x80 => "Ok",
        ERROR_UNSPECIFIED = 0x81 => "Error-unspecified",
        ERROR_SERVICE_DENIED = 0x82 => "Error-service-denied",
        ERROR_MESSAGE_FORMAT_CORRUPT = 0x83 => "Error-message-format-corrupt",
        ERROR_SENDING_ADDRESS_UNRESOLVED = 0x84 => "Error-sending-address-unresolved",
        ERROR_MESSAGE_NOT_FOUND = 0x85 => "Error-message-not-found",
        ERROR_NETWORK_PROBLEM = 0x86 => "Error-network-problem",
        ERROR_CONTENT_NOT_ACCEPTED = 0x87 => "Error-content-not-accepted",
        ERROR_UNSUPPORTED_MESSAGE = 0x88 => "Error-unsupported-message",
        TRANSIENT_FAILURE = 0xC0 => "Error-transient-failure",
        TRANSIENT_SENDING_ADDRESS_UNRESOLVED = 0xC1 => "Error-transient-sending-address-unresolved",
        TRANSIENT_MESSAGE_NOT_FOUND = 0xC2 => "Error-transient-message-not-found",
        TRANSIENT_NETWORK_PROBLEM = 0xC3 => "Error-transient-network-problem",
        TRANSIENT_PARTIAL_SUCCESS = 0xC4 => "Error-transient-partial-success",
        PERMANENT_FAILURE = 0xE0 => "Error-permanent-failure",
        PERMANENT_SERVICE_DENIED = 0xE1 => "Error-permanent-service-denied",
        PERMANENT_MESSAGE_FORMAT_CORRUPT = 0xE2 => "Error-permanent-message-format-corrupt",
        PERMANENT_SENDING_ADDRESS_UNRESOLVED = 0xE3 => "Error-permanent-sending-address-unresolved",
        PERMANENT_MESSAGE_NOT_FOUND = 0xE4 => "Error-permanent-message-not-found",
        PERMANENT_CONTENT_NOT_ACCEPTED = 0xE5 => "Error-permanent-content-not-accepted",
        PERMANENT_REPLY_CHARGING_LIMITATIONS_NOT_MET = 0xE6 => "Error-permanent-reply-charging-limitations-not-met",
        PERMANENT_REPLY_CHARGING_REQUEST_NOT_ACCEPTED = 0xE7 => "Error-permanent-reply-charging-request-not-accepted",
        PERMANENT_REPLY_CHARGING_FORWARDING_DENIED = 0xE8 => "Error-permanent-reply-charging-forwarding-denied",
        PERMANENT_REPLY_CHARGING_NOT_SUPPORTED = 0xE9 => "Error-permanent-reply-charging-not-supported",
        PERMANENT_ADDRESS_HIDING_NOT_SUPPORTED = 0xEA => "Error-permanent-address-hiding-not-supported",
        PERMANENT_LACK_OF_PREPAID = 0xEB => "Error-permanent-lack-of-prepaid",
    }
}

impl ResponseStatus {
    pub fn is_ok(self) -> bool {
        self == ResponseStatus::OK
    }

    /// 0xC0-0xDF: the request may succeed later.
    pub fn is_transient(self) -> bool {
        (0xC0..=0xDF).contains(&self.0)
    }

    /// 0xE0-0xFF and the 1.0 error codes: do not retry.
    pub fn is_permanent(self) -> bool {
        self.0 >= 0xE0 || (0x81..=0x88).contains(&self.0)
    }
}

wire_number! {
    /// X-Mms-Retrieve-Status (0x19).
    pub struct RetrieveStatus(u8) {
        OK = 0x80 => "Ok",
        TRANSIENT_FAILURE = 0xC0 => "Error-transient-failure",
        TRANSIENT_MESSAGE_NOT_FOUND = 0xC1 => "Error-transient-message-not-found",
        TRANSIENT_NETWORK_PROBLEM = 0xC2 => "Error-transient-network-problem",
        PERMANENT_FAILURE = 0xE0 => "Error-permanent-failure",
        PERMANENT_SERVICE_DENIED = 0xE1 => "Error-permanent-service-denied",
        PERMANENT_MESSAGE_NOT_FOUND = 0xE2 => "Error-permanent-message-not-found",
        PERMANENT_CONTENT_UNSUPPORTED = 0xE3 => "Error-permanent-content-unsupported",
    }
}

wire_number! {
    /// X-Mms-Status (0x15), the state of a message in m-notifyresp.ind and
    /// m-delivery.ind.
    pub struct Status(u8) {
        EXPIRED = 0x80 => "Expired",
        RETRIEVED = 0x81 => "Retrieved",
        REJECTED = 0x82 => "Rejected",
        DEFERRED = 0x83 => "Deferred",
        UNRECOGNISED = 0x84 => "Unrecognised",
        INDETERMINATE = 0x85 => "Indeterminate",
        FORWARDED = 0x86 => "Forwarded",
        UNREACHABLE = 0x87 => "Unreachable",
    }
}

wire_number! {
    /// X-Mms-Read-Status (0x1B).
    pub struct ReadStatus(u8) {
        READ = 0x80 => "Read",
        DELETED_WITHOUT_BEING_READ = 0x81 => "Deleted without being read",
    }
}

wire_number! {
    /// X-Mms-Reply-Charging (0x1C).
    pub struct ReplyCharging(u8) {
        REQUESTED = 0x80 => "Requested",
        REQUESTED_TEXT_ONLY = 0x81 => "Requested text only",
        ACCEPTED = 0x82 => "Accepted",
        ACCEPTED_TEXT_ONLY = 0x83 => "Accepted text only",
    }
}

wire_number! {
    /// X-Mms-MM-State (0x23).
    pub struct MmState(u8) {
        DRAFT = 0x80 => "Draft",
        SENT = 0x81 => "Sent",
        NEW = 0x82 => "New",
        RETRIEVED = 0x83 => "Retrieved",
        FORWARDED = 0x84 => "Forwarded",
    }
}

wire_number! {
    /// X-Mms-Store-Status (0x25).
    pub struct StoreStatus(u8) {
        SUCCESS = 0x80 => "Success",
        TRANSIENT_FAILURE = 0xC0 => "Error-transient-failure",
        TRANSIENT_NETWORK_PROBLEM = 0xC1 => "Error-transient-network-problem",
        PERMANENT_FAILURE = 0xE0 => "Error-permanent-failure",
        PERMANENT_SERVICE_DENIED = 0xE1 => "Error-permanent-service-denied",
        PERMANENT_MESSAGE_FORMAT_CORRUPT = 0xE2 => "Error-permanent-message-format-corrupt",
        PERMANENT_MESSAGE_NOT_FOUND = 0xE3 => "Error-permanent-message-not-found",
        PERMANENT_MMBOX_FULL = 0xE4 => "Error-permanent-mmbox-full",
    }
}

wire_number! {
    /// X-Mms-Content-Class (0x3A).
    pub struct ContentClass(u8) {
        TEXT = 0x80 => "text",
        IMAGE_BASIC = 0x81 => "image-basic",
        IMAGE_RICH = 0x82 => "image-rich",
        VIDEO_BASIC = 0x83 => "video-basic",
        VIDEO_RICH = 0x84 => "video-rich",
        MEGAPIXEL = 0x85 => "megapixel",
        CONTENT_BASIC = 0x86 => "content-basic",
        CONTENT_RICH = 0x87 => "content-rich",
    }
}

wire_number! {
    /// X-Mms-Cancel-Status (0x3F).
    pub struct CancelStatus(u8) {
        REQUEST_RECEIVED = 0x80 => "Cancel Request Successfully received",
        REQUEST_CORRUPTED = 0x81 => "Cancel Request corrupted",
    }
}

wire_number! {
    /// X-Mms-Recommended-Retrieval-Mode (0x34).
    pub struct RetrievalMode(u8) {
        MANUAL = 0x80 => "Manual",
    }
}

wire_number! {
    /// The `Class-identifier` of X-Mms-Message-Class (0x0A).
    pub struct ClassIdentifier(u8) {
        PERSONAL = 0x80 => "Personal",
        ADVERTISEMENT = 0x81 => "Advertisement",
        INFORMATIONAL = 0x82 => "Informational",
        AUTO = 0x83 => "Auto",
    }
}

wire_number! {
    /// The operation of X-Mms-MM-Flags (0x24).
    pub struct FlagOperation(u8) {
        ADD = 0x80 => "Add",
        REMOVE = 0x81 => "Remove",
        FILTER = 0x82 => "Filter",
    }
}

wire_number! {
    /// What X-Mms-Mbox-Totals (0x2A) and X-Mms-Mbox-Quotas (0x2C) count.
    pub struct MboxUnit(u8) {
        MESSAGES = 0x80 => "Messages",
        SIZE = 0x81 => "Size",
    }
}

/// X-Mms-MMS-Version (0x0D): major version in bits 4-6, minor in bits 0-3 of a
/// Short-integer (`0x92` on the wire is 1.2). Minor 15 means "no minor version".
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct MmsVersion(pub u8);

impl MmsVersion {
    pub const V1_0: Self = Self(0x10);
    pub const V1_1: Self = Self(0x11);
    pub const V1_2: Self = Self(0x12);
    pub const V1_3: Self = Self(0x13);

    pub fn new(major: u8, minor: u8) -> Self {
        Self(((major & 0x07) << 4) | (minor & 0x0F))
    }

    pub fn major(self) -> u8 {
        (self.0 >> 4) & 0x07
    }

    pub fn minor(self) -> Option<u8> {
        match self.0 & 0x0F {
            0x0F => None,
            m => Some(m),
        }
    }

    /// The Short-integer octet on the wire.
    pub fn octet(self) -> u8 {
        0x80 | (self.0 & 0x7F)
    }
}

impl fmt::Debug for MmsVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "MmsVersion({self})")
    }
}

impl fmt::Display for MmsVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.minor() {
            Some(m) => write!(f, "{}.{m}", self.major()),
            None => write!(f, "{}", self.major()),
        }
    }
}

/// X-Mms-Message-Class: a class identifier or a token.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum MessageClass {
    Id(ClassIdentifier),
    Token(String),
}

impl MessageClass {
    pub const PERSONAL: Self = MessageClass::Id(ClassIdentifier::PERSONAL);
    pub const ADVERTISEMENT: Self = MessageClass::Id(ClassIdentifier::ADVERTISEMENT);
    pub const INFORMATIONAL: Self = MessageClass::Id(ClassIdentifier::INFORMATIONAL);
    pub const AUTO: Self = MessageClass::Id(ClassIdentifier::AUTO);

    pub fn read(r: &mut Reader<'_>, what: &'static str) -> Result<Self, DecodeError> {
        match r.peek(what)? {
            b if b >= 0x80 => {
                r.u8(what)?;
                Ok(MessageClass::Id(ClassIdentifier(b)))
            }
            b if wsp::is_token_start(b) => Ok(MessageClass::Token(wsp::read_token_text(r, what)?)),
            octet => Err(DecodeError::UnexpectedOctet { what, octet }),
        }
    }

    pub fn encode(&self, out: &mut Vec<u8>, what: &'static str) -> Result<(), EncodeError> {
        match self {
            MessageClass::Id(id) => write_token(out, id.0, what),
            MessageClass::Token(t) => wsp::write_token_text(out, t, what),
        }
    }
}

/// A date or a delay: Expiry, Delivery-Time, Reply-Charging-Deadline
/// (`Value-length (Absolute-token Date-value | Relative-token Delta-seconds-value)`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TimeValue {
    /// Seconds since 1970-01-01T00:00:00Z (Absolute-token 128).
    Absolute(u64),
    /// Seconds from now (Relative-token 129).
    Relative(u64),
}

impl TimeValue {
    pub fn read(r: &mut Reader<'_>, what: &'static str) -> Result<Self, DecodeError> {
        let mut inner = wsp::read_framed(r, what)?;
        let v = match inner.u8(what)? {
            0x80 => TimeValue::Absolute(read_long_lenient(&mut inner, what)?),
            0x81 => TimeValue::Relative(read_long_lenient(&mut inner, what)?),
            octet => return Err(DecodeError::UnexpectedOctet { what, octet }),
        };
        inner.expect_end_of_value(what)?;
        Ok(v)
    }

    /// Both the date and the delta are written as Long-integers: some decoders
    /// (Android's among them) read nothing else here.
    pub fn encode(&self, out: &mut Vec<u8>, what: &'static str) -> Result<(), EncodeError> {
        wsp::write_framed(out, what, |o| {
            let (token, v) = match self {
                TimeValue::Absolute(v) => (0x80, v),
                TimeValue::Relative(v) => (0x81, v),
            };
            o.push(token);
            wsp::write_long_integer(o, *v);
            Ok(())
        })
    }
}

/// A Long-integer, or a Short-integer where a sender used one.
pub(crate) fn read_long_lenient(
    r: &mut Reader<'_>,
    what: &'static str,
) -> Result<u64, DecodeError> {
    wsp::read_integer_value(r, what)
}

/// An MMS address as it appears in To, Cc, Bcc and From: an Encoded-string-value
/// such as `+447700900123/TYPE=PLMN`, `12345/TYPE=PLMN` or `user@example.com`.
/// The octets are kept as sent; [`MmsAddress::to_address`] interprets them.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct MmsAddress(pub EncodedString);

impl MmsAddress {
    /// The MM1 form of a domain address: `+E164/TYPE=PLMN` (any MM4 domain is
    /// dropped), `code/TYPE=PLMN` for short codes, the address for e-mail.
    pub fn from_address(address: &Address) -> Self {
        let text = match address {
            Address::Phone { e164, .. } => format!("{e164}/TYPE=PLMN"),
            Address::ShortCode { code } => format!("{code}/TYPE=PLMN"),
            Address::Email { address } => address.clone(),
        };
        MmsAddress(EncodedString::text(&text))
    }

    /// A literal address string.
    pub fn new(text: &str) -> Self {
        MmsAddress(EncodedString::text(text))
    }

    /// The address text (undecodable octets replaced).
    pub fn as_text(&self) -> String {
        self.0.to_string_lossy()
    }

    /// Interprets the address. `country_code` turns national numbers into E.164
    /// (see [`Address::parse_with`]); a number without `+` that is short enough
    /// is a short code even with `/TYPE=PLMN`.
    pub fn to_address(&self, country_code: Option<&str>) -> Result<Address, AddressError> {
        let text = self.as_text();
        let trimmed = text.trim();
        if let Some(pos) = find_ascii_ci(trimmed, "/TYPE=PLMN") {
            let (number, rest) = trimmed.split_at(pos);
            let rest = rest.get("/TYPE=PLMN".len()..).unwrap_or_default();
            if rest.is_empty() && !number.trim_start().starts_with('+') {
                return Address::parse_with(number, country_code);
            }
        }
        Address::parse_with(trimmed, country_code)
    }
}

fn find_ascii_ci(haystack: &str, needle: &str) -> Option<usize> {
    let h = haystack.as_bytes();
    let n = needle.as_bytes();
    (0..=h.len().checked_sub(n.len())?).find(|&i| {
        h.get(i..i + n.len())
            .is_some_and(|w| w.eq_ignore_ascii_case(n))
    })
}

impl From<&Address> for MmsAddress {
    fn from(a: &Address) -> Self {
        MmsAddress::from_address(a)
    }
}

/// From (0x09): `Value-length (Address-present-token Encoded-string-value |
/// Insert-address-token)`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum FromValue {
    /// Address-present-token (128) and the address.
    Address(MmsAddress),
    /// Insert-address-token (129): the MMSC is to insert the sender's address.
    InsertAddress,
}

impl FromValue {
    pub fn read(r: &mut Reader<'_>, what: &'static str) -> Result<Self, DecodeError> {
        let mut inner = wsp::read_framed(r, what)?;
        let v = match inner.u8(what)? {
            0x80 => FromValue::Address(MmsAddress(EncodedString::read(&mut inner, what)?)),
            0x81 => FromValue::InsertAddress,
            octet => return Err(DecodeError::UnexpectedOctet { what, octet }),
        };
        inner.expect_end_of_value(what)?;
        Ok(v)
    }

    pub fn encode(&self, out: &mut Vec<u8>, what: &'static str) -> Result<(), EncodeError> {
        wsp::write_framed(out, what, |o| match self {
            FromValue::Address(a) => {
                o.push(0x80);
                a.0.encode(o, what)
            }
            FromValue::InsertAddress => {
                o.push(0x81);
                Ok(())
            }
        })
    }

    pub fn address(&self) -> Option<&MmsAddress> {
        match self {
            FromValue::Address(a) => Some(a),
            FromValue::InsertAddress => None,
        }
    }
}

/// X-Mms-Previously-Sent-By (0x20): `Value-length Forwarded-count-value
/// Encoded-string-value`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct PreviouslySentBy {
    pub forwarded_count: u64,
    pub address: MmsAddress,
}

/// X-Mms-Previously-Sent-Date (0x21): `Value-length Forwarded-count-value
/// Date-value`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct PreviouslySentDate {
    pub forwarded_count: u64,
    pub date: u64,
}

/// X-Mms-MM-Flags (0x24): `Value-length (Add-token | Remove-token | Filter-token)
/// Encoded-string-value`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct MmFlags {
    pub operation: FlagOperation,
    pub flag: EncodedString,
}

/// X-Mms-Mbox-Totals (0x2A) and X-Mms-Mbox-Quotas (0x2C): `Value-length
/// (Message-token | Size-token) Integer-value`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct MboxCount {
    pub unit: MboxUnit,
    pub value: u64,
}

/// X-Mms-Element-Descriptor (0x32): `Value-length Content-Reference-value
/// *(Parameter)`. The parameters are kept as their encoded octets.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ElementDescriptor {
    pub reference: String,
    pub params: Vec<u8>,
}

/// The X-Mms-Content-Location of m-mbox-delete.conf and m-delete.conf:
/// `Value-length Status-count-value Content-location-value`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct CountedLocation {
    pub status_count: u64,
    pub uri: String,
}

impl PreviouslySentBy {
    pub fn read(r: &mut Reader<'_>, what: &'static str) -> Result<Self, DecodeError> {
        let mut inner = wsp::read_framed(r, what)?;
        let forwarded_count = wsp::read_integer_value(&mut inner, what)?;
        let address = MmsAddress(EncodedString::read(&mut inner, what)?);
        inner.expect_end_of_value(what)?;
        Ok(Self {
            forwarded_count,
            address,
        })
    }

    pub fn encode(&self, out: &mut Vec<u8>, what: &'static str) -> Result<(), EncodeError> {
        wsp::write_framed(out, what, |o| {
            wsp::write_integer_value(o, self.forwarded_count);
            self.address.0.encode(o, what)
        })
    }
}

impl PreviouslySentDate {
    pub fn read(r: &mut Reader<'_>, what: &'static str) -> Result<Self, DecodeError> {
        let mut inner = wsp::read_framed(r, what)?;
        let forwarded_count = wsp::read_integer_value(&mut inner, what)?;
        let date = read_long_lenient(&mut inner, what)?;
        inner.expect_end_of_value(what)?;
        Ok(Self {
            forwarded_count,
            date,
        })
    }

    pub fn encode(&self, out: &mut Vec<u8>, what: &'static str) -> Result<(), EncodeError> {
        wsp::write_framed(out, what, |o| {
            wsp::write_integer_value(o, self.forwarded_count);
            wsp::write_long_integer(o, self.date);
            Ok(())
        })
    }
}

impl MmFlags {
    pub fn read(r: &mut Reader<'_>, what: &'static str) -> Result<Self, DecodeError> {
        let mut inner = wsp::read_framed(r, what)?;
        let operation = FlagOperation(read_token(&mut inner, what)?);
        let flag = EncodedString::read(&mut inner, what)?;
        inner.expect_end_of_value(what)?;
        Ok(Self { operation, flag })
    }

    pub fn encode(&self, out: &mut Vec<u8>, what: &'static str) -> Result<(), EncodeError> {
        wsp::write_framed(out, what, |o| {
            write_token(o, self.operation.0, what)?;
            self.flag.encode(o, what)
        })
    }
}

impl MboxCount {
    pub fn read(r: &mut Reader<'_>, what: &'static str) -> Result<Self, DecodeError> {
        let mut inner = wsp::read_framed(r, what)?;
        let unit = MboxUnit(read_token(&mut inner, what)?);
        let value = wsp::read_integer_value(&mut inner, what)?;
        inner.expect_end_of_value(what)?;
        Ok(Self { unit, value })
    }

    pub fn encode(&self, out: &mut Vec<u8>, what: &'static str) -> Result<(), EncodeError> {
        wsp::write_framed(out, what, |o| {
            write_token(o, self.unit.0, what)?;
            wsp::write_integer_value(o, self.value);
            Ok(())
        })
    }
}

impl ElementDescriptor {
    pub fn read(r: &mut Reader<'_>, what: &'static str) -> Result<Self, DecodeError> {
        let mut inner = wsp::read_framed(r, what)?;
        let reference = wsp::read_text_string(&mut inner, what)?;
        let params = inner.take_rest().to_vec();
        Ok(Self { reference, params })
    }

    pub fn encode(&self, out: &mut Vec<u8>, what: &'static str) -> Result<(), EncodeError> {
        wsp::write_framed(out, what, |o| {
            wsp::write_text_string(o, &self.reference, what)?;
            o.extend_from_slice(&self.params);
            Ok(())
        })
    }
}

impl CountedLocation {
    pub fn read(r: &mut Reader<'_>, what: &'static str) -> Result<Self, DecodeError> {
        let mut inner = wsp::read_framed(r, what)?;
        let status_count = wsp::read_integer_value(&mut inner, what)?;
        let uri = wsp::read_text_string(&mut inner, what)?;
        inner.expect_end_of_value(what)?;
        Ok(Self { status_count, uri })
    }

    pub fn encode(&self, out: &mut Vec<u8>, what: &'static str) -> Result<(), EncodeError> {
        wsp::write_framed(out, what, |o| {
            wsp::write_integer_value(o, self.status_count);
            wsp::write_text_string(o, &self.uri, what)
        })
    }
}

/// Reads a token octet (128-255) and returns it whole.
pub(crate) fn read_token(r: &mut Reader<'_>, what: &'static str) -> Result<u8, DecodeError> {
    match r.u8(what)? {
        b if b >= 0x80 => Ok(b),
        octet => Err(DecodeError::UnexpectedOctet { what, octet }),
    }
}

/// Writes a token octet, which must be 128-255.
pub(crate) fn write_token(
    out: &mut Vec<u8>,
    token: u8,
    what: &'static str,
) -> Result<(), EncodeError> {
    if token < 0x80 {
        return Err(EncodeError::NotAToken { what, value: token });
    }
    out.push(token);
    Ok(())
}
