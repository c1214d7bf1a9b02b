//! Turning header fields into typed values (`Acc`) and typed values back into header
//! fields (`Out`), shared by the six PDUs.
//!
//! Reading rules, the same for every PDU:
//! - the first occurrence of a single-valued header that yields a value becomes the
//!   typed field; `To`/`Cc`/`Bcc` and the `Previously-Sent` headers accumulate;
//! - everything else — headers this PDU does not define, repeats, empty values,
//!   informational values we cannot read (an odd `Date`, an undecodable `Subject`) —
//!   is kept verbatim, in order, in `extra_headers` and written back;
//! - a control header whose value we cannot act on (`X-Mms-Ack-Request: maybe`, a
//!   non-numeric `X-Mms-Forward-Counter`, an unreadable `X-Mms-Expiry`) is a
//!   `BadHeader` error.
//!
//! These rules make `parse(to_bytes(p)) == p` for every `p` that `parse` returns.

use super::header::{
    Field, decode_text, format_date, parse_date, quoted, token, unquote, write_field,
    write_text_field,
};
use super::names;
use super::values::{
    Expiry, MessageClass, Mm4Address, MmStatus, Priority, ReadStatus, RequestStatus,
    SenderVisibility,
};
use super::{MessageType, Mm4Error};

/// The headers TS 23.140 defines for MM4.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum H {
    MmsVersion,
    MessageType,
    TransactionId,
    MessageId,
    OriginatorSystem,
    AckRequest,
    MessageClass,
    Expiry,
    DeliveryReport,
    OriginatorRsDeliveryReport,
    ReadReply,
    Priority,
    SenderVisibility,
    ForwardCounter,
    PreviouslySentBy,
    PreviouslySentDate,
    VaspId,
    VasId,
    ServiceCode,
    ApplicId,
    ReplyApplicId,
    AuxApplicInfo,
    ContentClass,
    DrmContent,
    AdaptationAllowed,
    RequestStatusCode,
    StatusText,
    MmStatusCode,
    MmStatusExtension,
    ForwardToOriginatorUa,
    ReadStatus,
    From,
    To,
    Cc,
    Bcc,
    Sender,
    Subject,
    Date,
    Rfc822MessageId,
    MimeVersion,
    ContentType,
}

const TABLE: &[(H, &str)] = &[
    (H::MmsVersion, names::MMS_VERSION),
    (H::MessageType, names::MESSAGE_TYPE),
    (H::TransactionId, names::TRANSACTION_ID),
    (H::MessageId, names::MESSAGE_ID),
    (H::OriginatorSystem, names::ORIGINATOR_SYSTEM),
    (H::AckRequest, names::ACK_REQUEST),
    (H::MessageClass, names::MESSAGE_CLASS),
    (H::Expiry, names::EXPIRY),
    (H::DeliveryReport, names::DELIVERY_REPORT),
    (
        H::OriginatorRsDeliveryReport,
        names::ORIGINATOR_RS_DELIVERY_REPORT,
    ),
    (H::ReadReply, names::READ_REPLY),
    (H::Priority, names::PRIORITY),
    (H::SenderVisibility, names::SENDER_VISIBILITY),
    (H::ForwardCounter, names::FORWARD_COUNTER),
    (H::PreviouslySentBy, names::PREVIOUSLY_SENT_BY),
    (H::PreviouslySentDate, names::PREVIOUSLY_SENT_DATE),
    (H::VaspId, names::VASP_ID),
    (H::VasId, names::VAS_ID),
    (H::ServiceCode, names::SERVICE_CODE),
    (H::ApplicId, names::APPLIC_ID),
    (H::ReplyApplicId, names::REPLY_APPLIC_ID),
    (H::AuxApplicInfo, names::AUX_APPLIC_INFO),
    (H::ContentClass, names::CONTENT_CLASS),
    (H::DrmContent, names::DRM_CONTENT),
    (H::AdaptationAllowed, names::ADAPTATION_ALLOWED),
    (H::RequestStatusCode, names::REQUEST_STATUS_CODE),
    (H::StatusText, names::STATUS_TEXT),
    (H::MmStatusCode, names::MM_STATUS_CODE),
    (H::MmStatusExtension, names::MM_STATUS_EXTENSION),
    (H::ForwardToOriginatorUa, names::FORWARD_TO_ORIGINATOR_UA),
    (H::ReadStatus, names::READ_STATUS),
    (H::From, names::FROM),
    (H::To, names::TO),
    (H::Cc, names::CC),
    (H::Bcc, names::BCC),
    (H::Sender, names::SENDER),
    (H::Subject, names::SUBJECT),
    (H::Date, names::DATE),
    (H::Rfc822MessageId, names::RFC822_MESSAGE_ID),
    (H::MimeVersion, names::MIME_VERSION),
    (H::ContentType, names::CONTENT_TYPE),
];

impl H {
    pub fn lookup(name: &str) -> Option<H> {
        let name = names::ALIASES
            .iter()
            .find(|(alias, _)| alias.eq_ignore_ascii_case(name))
            .map_or(name, |(_, canonical)| canonical);
        TABLE
            .iter()
            .find(|(_, n)| n.eq_ignore_ascii_case(name))
            .map(|(h, _)| *h)
    }

    pub fn name(self) -> &'static str {
        TABLE
            .iter()
            .find(|(h, _)| *h == self)
            .map_or("", |(_, n)| n)
    }
}

/// Headers every PDU shares.
const COMMON: &[H] = &[
    H::MmsVersion,
    H::MessageType,
    H::TransactionId,
    H::MessageId,
    H::From,
    H::To,
    H::Sender,
    H::Date,
    H::Rfc822MessageId,
    H::MimeVersion,
    H::ContentType,
];

/// The headers TS 23.140 defines for each PDU besides `COMMON`; the others are kept
/// as extra headers of that PDU.
fn specific(kind: MessageType) -> &'static [H] {
    match kind {
        MessageType::ForwardReq => &[
            H::OriginatorSystem,
            H::AckRequest,
            H::Cc,
            H::Bcc,
            H::Subject,
            H::MessageClass,
            H::Expiry,
            H::DeliveryReport,
            H::OriginatorRsDeliveryReport,
            H::ReadReply,
            H::Priority,
            H::SenderVisibility,
            H::ForwardCounter,
            H::PreviouslySentBy,
            H::PreviouslySentDate,
            H::VaspId,
            H::VasId,
            H::ServiceCode,
            H::ApplicId,
            H::ReplyApplicId,
            H::AuxApplicInfo,
            H::ContentClass,
            H::DrmContent,
            H::AdaptationAllowed,
        ],
        MessageType::DeliveryReportReq => &[
            H::OriginatorSystem,
            H::AckRequest,
            H::MmStatusCode,
            H::MmStatusExtension,
            H::StatusText,
            H::ForwardToOriginatorUa,
            H::ApplicId,
            H::ReplyApplicId,
            H::AuxApplicInfo,
        ],
        MessageType::ReadReplyReq => &[
            H::OriginatorSystem,
            H::AckRequest,
            H::ReadStatus,
            H::StatusText,
            H::ApplicId,
            H::ReplyApplicId,
            H::AuxApplicInfo,
        ],
        MessageType::ForwardRes | MessageType::DeliveryReportRes | MessageType::ReadReplyRes => {
            &[H::RequestStatusCode, H::StatusText]
        }
    }
}

/// Every header value of one PDU as read, before the PDU checks what it requires.
#[derive(Debug, Default)]
pub(super) struct Acc {
    pub mms_version: Option<String>,
    seen_message_type: bool,
    pub transaction_id: Option<String>,
    pub message_id: Option<String>,
    pub originator_system: Option<String>,
    pub ack_request: Option<bool>,
    pub message_class: Option<MessageClass>,
    pub expiry: Option<Expiry>,
    pub delivery_report: Option<bool>,
    pub originator_rs_delivery_report: Option<bool>,
    pub read_reply: Option<bool>,
    pub priority: Option<Priority>,
    pub sender_visibility: Option<SenderVisibility>,
    pub forward_counter: Option<u32>,
    pub previously_sent_by: Vec<String>,
    pub previously_sent_date: Vec<i64>,
    pub vasp_id: Option<String>,
    pub vas_id: Option<String>,
    pub service_code: Option<String>,
    pub applic_id: Option<String>,
    pub reply_applic_id: Option<String>,
    pub aux_applic_info: Option<String>,
    pub content_class: Option<String>,
    pub drm_content: Option<bool>,
    pub adaptation_allowed: Option<bool>,
    pub request_status: Option<RequestStatus>,
    pub status_text: Option<String>,
    pub mm_status: Option<MmStatus>,
    pub mm_status_extension: Option<String>,
    pub forward_to_originator_ua: Option<bool>,
    pub read_status: Option<ReadStatus>,
    pub from: Option<Mm4Address>,
    pub to: Vec<Mm4Address>,
    pub cc: Vec<Mm4Address>,
    pub bcc: Vec<Mm4Address>,
    pub sender: Option<Mm4Address>,
    pub subject: Option<String>,
    pub date: Option<i64>,
    pub rfc822_message_id: Option<String>,
    pub content_type: Option<String>,
    pub extra_headers: Vec<(String, String)>,
}

/// Fills `slot` with `value` unless it is already filled or there is no value; says
/// whether the field was used.
fn once<T>(slot: &mut Option<T>, value: Option<T>) -> bool {
    match (slot.is_none(), value) {
        (true, Some(v)) => {
            *slot = Some(v);
            true
        }
        _ => false,
    }
}

fn non_empty(s: &str) -> Option<String> {
    (!s.is_empty()).then(|| s.to_string())
}

fn bad(h: H, value: &str) -> Mm4Error {
    Mm4Error::bad_header(h.name(), value)
}

/// `Yes`/`No` (also `true`/`false`, `1`/`0`, any case).
fn yes_no(h: H, value: &str) -> Result<Option<bool>, Mm4Error> {
    let v = unquote(value);
    if v.is_empty() {
        return Ok(None);
    }
    match v.to_ascii_lowercase().as_str() {
        "yes" | "true" | "1" => Ok(Some(true)),
        "no" | "false" | "0" => Ok(Some(false)),
        _ => Err(bad(h, value)),
    }
}

impl Acc {
    pub fn collect(fields: &[Field<'_>], kind: MessageType) -> Result<Acc, Mm4Error> {
        let allowed = specific(kind);
        let mut acc = Acc::default();
        for field in fields {
            let used = match H::lookup(field.name) {
                Some(h) if COMMON.contains(&h) || allowed.contains(&h) => acc.take(h, field)?,
                _ => false,
            };
            if !used {
                acc.extra_headers
                    .push((field.name.to_string(), field.value()));
            }
        }
        Ok(acc)
    }

    /// Stores the value of `field` (known as `h`); `false` when it is to be kept as
    /// an extra header instead.
    fn take(&mut self, h: H, field: &Field<'_>) -> Result<bool, Mm4Error> {
        let value = field.value();
        let bare = unquote(&value);
        let used = match h {
            H::MimeVersion => true,
            H::MessageType => !std::mem::replace(&mut self.seen_message_type, true),
            H::MmsVersion => once(&mut self.mms_version, non_empty(bare)),
            H::TransactionId => once(&mut self.transaction_id, non_empty(bare)),
            H::MessageId => once(&mut self.message_id, non_empty(bare)),
            H::OriginatorSystem => once(&mut self.originator_system, non_empty(&value)),
            H::Rfc822MessageId => once(&mut self.rfc822_message_id, non_empty(&value)),
            H::ContentType => once(&mut self.content_type, non_empty(&value)),
            H::MmStatusExtension => once(&mut self.mm_status_extension, non_empty(bare)),
            H::VaspId => once(&mut self.vasp_id, non_empty(bare)),
            H::VasId => once(&mut self.vas_id, non_empty(bare)),
            H::ServiceCode => once(&mut self.service_code, non_empty(bare)),
            H::ApplicId => once(&mut self.applic_id, non_empty(bare)),
            H::ReplyApplicId => once(&mut self.reply_applic_id, non_empty(bare)),
            H::AuxApplicInfo => once(&mut self.aux_applic_info, non_empty(bare)),
            H::ContentClass => once(&mut self.content_class, non_empty(bare)),
            H::MessageClass => once(
                &mut self.message_class,
                non_empty(bare).map(|v| MessageClass::new(&v)),
            ),
            H::Priority => once(
                &mut self.priority,
                non_empty(bare).map(|v| Priority::new(&v)),
            ),
            H::SenderVisibility => once(
                &mut self.sender_visibility,
                non_empty(bare).map(|v| SenderVisibility::new(&v)),
            ),
            H::RequestStatusCode => once(
                &mut self.request_status,
                non_empty(bare).map(|v| RequestStatus::new(&v)),
            ),
            H::MmStatusCode => once(
                &mut self.mm_status,
                non_empty(bare).map(|v| MmStatus::new(&v)),
            ),
            H::ReadStatus => once(
                &mut self.read_status,
                non_empty(bare).map(|v| ReadStatus::new(&v)),
            ),
            H::AckRequest => self.flag(h, &value, |a| &mut a.ack_request)?,
            H::DeliveryReport => self.flag(h, &value, |a| &mut a.delivery_report)?,
            H::OriginatorRsDeliveryReport => {
                self.flag(h, &value, |a| &mut a.originator_rs_delivery_report)?
            }
            H::ReadReply => self.flag(h, &value, |a| &mut a.read_reply)?,
            H::DrmContent => self.flag(h, &value, |a| &mut a.drm_content)?,
            H::AdaptationAllowed => self.flag(h, &value, |a| &mut a.adaptation_allowed)?,
            H::ForwardToOriginatorUa => {
                self.flag(h, &value, |a| &mut a.forward_to_originator_ua)?
            }
            H::ForwardCounter => {
                if self.forward_counter.is_some() || bare.is_empty() {
                    false
                } else {
                    let n = bare.parse::<u32>().map_err(|_| bad(h, &value))?;
                    once(&mut self.forward_counter, Some(n))
                }
            }
            H::Expiry => {
                if self.expiry.is_some() || bare.is_empty() {
                    false
                } else {
                    let expiry = if bare.bytes().all(|b| b.is_ascii_digit()) {
                        Expiry::Relative(bare.parse().map_err(|_| bad(h, &value))?)
                    } else {
                        Expiry::Absolute(parse_date(bare).ok_or_else(|| bad(h, &value))?)
                    };
                    once(&mut self.expiry, Some(expiry))
                }
            }
            H::Date => once(&mut self.date, parse_date(&value)),
            H::PreviouslySentDate => match parse_date(&value) {
                Some(t) => {
                    self.previously_sent_date.push(t);
                    true
                }
                None => false,
            },
            H::PreviouslySentBy => match non_empty(&value) {
                Some(v) => {
                    self.previously_sent_by.push(v);
                    true
                }
                None => false,
            },
            H::Subject => once(
                &mut self.subject,
                decode_text(field.raw).filter(|s| !s.is_empty()),
            ),
            H::StatusText => once(
                &mut self.status_text,
                decode_text(field.raw).filter(|s| !s.is_empty()),
            ),
            H::From => once(
                &mut self.from,
                (!value.is_empty()).then(|| Mm4Address::parse(&value)),
            ),
            H::Sender => once(
                &mut self.sender,
                (!value.is_empty()).then(|| Mm4Address::parse(&value)),
            ),
            H::To => push_list(&mut self.to, &value),
            H::Cc => push_list(&mut self.cc, &value),
            H::Bcc => push_list(&mut self.bcc, &value),
        };
        Ok(used)
    }

    fn flag(
        &mut self,
        h: H,
        value: &str,
        slot: impl FnOnce(&mut Acc) -> &mut Option<bool>,
    ) -> Result<bool, Mm4Error> {
        let slot = slot(self);
        if slot.is_some() {
            return Ok(false);
        }
        Ok(once(slot, yes_no(h, value)?))
    }
}

fn push_list(list: &mut Vec<Mm4Address>, value: &str) -> bool {
    let items = Mm4Address::parse_list(value);
    if items.is_empty() {
        return false;
    }
    list.extend(items);
    true
}

/// Writes header fields in TS 23.140 spelling, then the content.
pub(super) struct Out {
    buf: Vec<u8>,
}

impl Out {
    /// Starts a PDU with the fields every PDU begins with.
    pub fn start(
        kind: MessageType,
        mms_version: Option<&str>,
        transaction_id: &str,
        message_id: Option<&str>,
        body_len: usize,
    ) -> Out {
        let mut out = Out {
            buf: Vec::with_capacity(1024 + body_len),
        };
        out.token(H::MmsVersion, mms_version);
        out.raw(H::MessageType, Some(kind.as_str()));
        out.id(H::TransactionId, Some(transaction_id));
        out.id(H::MessageId, message_id);
        out
    }

    /// A writer with nothing written yet.
    pub fn empty() -> Out {
        Out { buf: Vec::new() }
    }

    pub fn raw(&mut self, h: H, value: Option<&str>) {
        if let Some(v) = value {
            write_field(&mut self.buf, h.name(), v);
        }
    }

    pub fn id(&mut self, h: H, value: Option<&str>) {
        if let Some(v) = value {
            write_field(&mut self.buf, h.name(), &quoted(v));
        }
    }

    pub fn token(&mut self, h: H, value: Option<&str>) {
        if let Some(v) = value {
            write_field(&mut self.buf, h.name(), &token(v));
        }
    }

    pub fn flag(&mut self, h: H, value: Option<bool>) {
        self.raw(h, value.map(|b| if b { "Yes" } else { "No" }));
    }

    pub fn date(&mut self, h: H, unix_secs: Option<i64>) {
        if let Some(t) = unix_secs {
            write_field(&mut self.buf, h.name(), &format_date(t));
        }
    }

    pub fn text(&mut self, h: H, text: Option<&str>) {
        if let Some(t) = text {
            write_text_field(&mut self.buf, h.name(), t);
        }
    }

    pub fn address(&mut self, h: H, address: Option<&Mm4Address>) {
        self.raw(h, address.map(|a| a.raw.as_str()));
    }

    /// One field listing every address, or one field per address when an address
    /// (say, with an unclosed quote) would swallow the comma after it.
    pub fn addresses(&mut self, h: H, list: &[Mm4Address]) {
        if list.is_empty() {
            return;
        }
        let joined = list
            .iter()
            .map(|a| a.raw.as_str())
            .collect::<Vec<_>>()
            .join(", ");
        if Mm4Address::parse_list(&joined) == list {
            write_field(&mut self.buf, h.name(), &joined);
        } else {
            for address in list {
                write_field(&mut self.buf, h.name(), &address.raw);
            }
        }
    }

    pub fn expiry(&mut self, expiry: Option<Expiry>) {
        match expiry {
            Some(Expiry::Absolute(t)) => self.date(H::Expiry, Some(t)),
            Some(Expiry::Relative(secs)) => self.raw(H::Expiry, Some(&secs.to_string())),
            None => {}
        }
    }

    /// `MIME-Version`, `Content-Type`, the extra headers (after every typed field, so
    /// a repeated header read back stays extra), the empty line and the content bytes
    /// as they are.
    pub fn finish(
        mut self,
        extra_headers: &[(String, String)],
        content_type: Option<&str>,
        body: &[u8],
    ) -> Vec<u8> {
        self.raw(H::MimeVersion, Some("1.0"));
        self.raw(H::ContentType, content_type);
        for (name, value) in extra_headers {
            write_field(&mut self.buf, name, value);
        }
        self.buf.extend_from_slice(b"\r\n");
        self.buf.extend_from_slice(body);
        self.buf
    }
}
