//! The six MM4 PDUs of TS 23.140 §8.4 as typed values.

use super::fields::{Acc, H, Out};
use super::values::{
    Expiry, MessageClass, Mm4Address, MmStatus, Priority, ReadStatus, RequestStatus,
    SenderVisibility,
};
use super::{DEFAULT_MMS_VERSION, MessageType, Mm4Error, names};

fn required<T>(value: Option<T>, name: &'static str) -> Result<T, Mm4Error> {
    value.ok_or(Mm4Error::MissingHeader(name))
}

fn non_empty(text: Option<&str>) -> Option<String> {
    text.filter(|t| !t.is_empty()).map(str::to_string)
}

/// Where the answer to a request goes: `X-Mms-Originator-System`, else `Sender`.
fn reply_address<'a>(
    originator_system: Option<&'a str>,
    sender: Option<&'a Mm4Address>,
) -> Option<&'a str> {
    originator_system.or(sender.map(|s| s.raw.as_str()))
}

/// `MM4_forward.REQ`: an MM handed to another MMSC.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ForwardReq {
    /// `X-Mms-3GPP-MMS-Version`.
    pub mms_version: Option<String>,
    /// `X-Mms-Transaction-ID` (mandatory; quotes removed).
    pub transaction_id: String,
    /// `X-Mms-Message-ID`.
    pub message_id: Option<String>,
    /// `X-Mms-Originator-System`: where `MM4_forward.RES` goes.
    pub originator_system: Option<String>,
    /// `From` (mandatory).
    pub from: Mm4Address,
    /// `To`, `Cc`, `Bcc`: at least one recipient in all three together.
    pub to: Vec<Mm4Address>,
    pub cc: Vec<Mm4Address>,
    pub bcc: Vec<Mm4Address>,
    /// `Sender`.
    pub sender: Option<Mm4Address>,
    /// `Subject`, RFC 2047 decoded.
    pub subject: Option<String>,
    /// `Date`, unix seconds.
    pub date: Option<i64>,
    /// `X-Mms-Ack-Request` (absent reads as `false`).
    pub ack_request: bool,
    pub message_class: Option<MessageClass>,
    pub expiry: Option<Expiry>,
    pub delivery_report: Option<bool>,
    /// `X-Mms-Originator-R/S-Delivery-Report`.
    pub originator_rs_delivery_report: Option<bool>,
    pub read_reply: Option<bool>,
    pub priority: Option<Priority>,
    pub sender_visibility: Option<SenderVisibility>,
    pub forward_counter: Option<u32>,
    /// `X-Mms-Previously-Sent-By`, one entry per header, in order.
    pub previously_sent_by: Vec<String>,
    /// `X-Mms-Previously-Sent-Date-and-Time`, unix seconds, one per header, in order.
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
    /// `Content-Type` as received (parameters included).
    pub content_type: Option<String>,
    /// RFC 5322 `Message-ID` of the SMTP message, as received (`<...>`).
    pub rfc822_message_id: Option<String>,
    /// Headers not listed above (or repeated, or unreadable), in order, verbatim.
    pub extra_headers: Vec<(String, String)>,
    /// The content: every byte after the header block, untouched.
    pub body: Vec<u8>,
}

impl ForwardReq {
    /// A request with the mandatory fields; the rest empty, `mms_version` the default.
    pub fn new(transaction_id: impl Into<String>, from: Mm4Address, to: Vec<Mm4Address>) -> Self {
        ForwardReq {
            mms_version: Some(DEFAULT_MMS_VERSION.to_string()),
            transaction_id: transaction_id.into(),
            message_id: None,
            originator_system: None,
            from,
            to,
            cc: Vec::new(),
            bcc: Vec::new(),
            sender: None,
            subject: None,
            date: None,
            ack_request: false,
            message_class: None,
            expiry: None,
            delivery_report: None,
            originator_rs_delivery_report: None,
            read_reply: None,
            priority: None,
            sender_visibility: None,
            forward_counter: None,
            previously_sent_by: Vec::new(),
            previously_sent_date: Vec::new(),
            vasp_id: None,
            vas_id: None,
            service_code: None,
            applic_id: None,
            reply_applic_id: None,
            aux_applic_info: None,
            content_class: None,
            drm_content: None,
            adaptation_allowed: None,
            content_type: None,
            rfc822_message_id: None,
            extra_headers: Vec::new(),
            body: Vec::new(),
        }
    }

    pub(super) fn from_acc(acc: Acc, body: &[u8]) -> Result<Self, Mm4Error> {
        let transaction_id = required(acc.transaction_id, names::TRANSACTION_ID)?;
        let from = required(acc.from, names::FROM)?;
        if acc.to.is_empty() && acc.cc.is_empty() && acc.bcc.is_empty() {
            return Err(Mm4Error::MissingHeader(names::TO));
        }
        Ok(ForwardReq {
            mms_version: acc.mms_version,
            transaction_id,
            message_id: acc.message_id,
            originator_system: acc.originator_system,
            from,
            to: acc.to,
            cc: acc.cc,
            bcc: acc.bcc,
            sender: acc.sender,
            subject: acc.subject,
            date: acc.date,
            ack_request: acc.ack_request.unwrap_or(false),
            message_class: acc.message_class,
            expiry: acc.expiry,
            delivery_report: acc.delivery_report,
            originator_rs_delivery_report: acc.originator_rs_delivery_report,
            read_reply: acc.read_reply,
            priority: acc.priority,
            sender_visibility: acc.sender_visibility,
            forward_counter: acc.forward_counter,
            previously_sent_by: acc.previously_sent_by,
            previously_sent_date: acc.previously_sent_date,
            vasp_id: acc.vasp_id,
            vas_id: acc.vas_id,
            service_code: acc.service_code,
            applic_id: acc.applic_id,
            reply_applic_id: acc.reply_applic_id,
            aux_applic_info: acc.aux_applic_info,
            content_class: acc.content_class,
            drm_content: acc.drm_content,
            adaptation_allowed: acc.adaptation_allowed,
            content_type: acc.content_type,
            rfc822_message_id: acc.rfc822_message_id,
            extra_headers: acc.extra_headers,
            body: body.to_vec(),
        })
    }

    /// The PDU on the wire: CRLF line endings, the content bytes unchanged. `Bcc` is
    /// written when present; clear it first if the next hop must not see it.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Out::start(
            MessageType::ForwardReq,
            self.mms_version.as_deref(),
            &self.transaction_id,
            self.message_id.as_deref(),
            self.body.len(),
        );
        out.flag(H::AckRequest, Some(self.ack_request));
        out.raw(H::OriginatorSystem, self.originator_system.as_deref());
        out.raw(H::Rfc822MessageId, self.rfc822_message_id.as_deref());
        out.date(H::Date, self.date);
        out.addresses(H::To, &self.to);
        out.addresses(H::Cc, &self.cc);
        out.addresses(H::Bcc, &self.bcc);
        out.address(H::From, Some(&self.from));
        out.address(H::Sender, self.sender.as_ref());
        out.text(H::Subject, self.subject.as_deref());
        out.token(
            H::MessageClass,
            self.message_class.as_ref().map(MessageClass::as_str),
        );
        out.expiry(self.expiry);
        out.flag(H::DeliveryReport, self.delivery_report);
        out.flag(
            H::OriginatorRsDeliveryReport,
            self.originator_rs_delivery_report,
        );
        out.flag(H::ReadReply, self.read_reply);
        out.token(H::Priority, self.priority.as_ref().map(Priority::as_str));
        out.token(
            H::SenderVisibility,
            self.sender_visibility
                .as_ref()
                .map(SenderVisibility::as_str),
        );
        out.raw(
            H::ForwardCounter,
            self.forward_counter.map(|n| n.to_string()).as_deref(),
        );
        for by in &self.previously_sent_by {
            out.raw(H::PreviouslySentBy, Some(by));
        }
        for at in &self.previously_sent_date {
            out.date(H::PreviouslySentDate, Some(*at));
        }
        out.token(H::VaspId, self.vasp_id.as_deref());
        out.token(H::VasId, self.vas_id.as_deref());
        out.token(H::ServiceCode, self.service_code.as_deref());
        out.token(H::ApplicId, self.applic_id.as_deref());
        out.token(H::ReplyApplicId, self.reply_applic_id.as_deref());
        out.token(H::AuxApplicInfo, self.aux_applic_info.as_deref());
        out.token(H::ContentClass, self.content_class.as_deref());
        out.flag(H::DrmContent, self.drm_content);
        out.flag(H::AdaptationAllowed, self.adaptation_allowed);
        out.finish(
            &self.extra_headers,
            self.content_type.as_deref(),
            &self.body,
        )
    }

    /// Every recipient: `To`, then `Cc`, then `Bcc`.
    pub fn recipients(&self) -> impl Iterator<Item = &Mm4Address> {
        self.to.iter().chain(&self.cc).chain(&self.bcc)
    }

    /// Where `MM4_forward.RES` goes: `X-Mms-Originator-System`, else `Sender`.
    pub fn reply_address(&self) -> Option<&str> {
        reply_address(self.originator_system.as_deref(), self.sender.as_ref())
    }

    /// The same MM re-addressed for transit to another MMSC: a new transaction id
    /// (and an RFC 5322 `Message-ID` derived from it), `relay_system` as
    /// `X-Mms-Originator-System` so the answer comes back to us, the forward counter
    /// incremented and `relay_system`/`now` added as `X-Mms-Previously-Sent-By`/
    /// `-Date-and-Time`. Everything else, the extra headers and the content bytes
    /// included, is unchanged.
    pub fn for_transit(
        &self,
        transaction_id: impl Into<String>,
        relay_system: &str,
        now_unix_secs: i64,
    ) -> ForwardReq {
        let transaction_id = transaction_id.into();
        let mut next = self.clone();
        next.rfc822_message_id = Some(if transaction_id.contains('@') {
            format!("<{transaction_id}>")
        } else {
            let domain = relay_system
                .rsplit_once('@')
                .map_or(relay_system, |(_, d)| d);
            format!("<{transaction_id}@{domain}>")
        });
        next.transaction_id = transaction_id;
        next.originator_system = Some(relay_system.to_string());
        next.forward_counter = Some(self.forward_counter.unwrap_or(0).saturating_add(1));
        next.previously_sent_by.push(relay_system.to_string());
        next.previously_sent_date.push(now_unix_secs);
        next
    }

    /// The `boundary` parameter of a `multipart/*` content type.
    pub fn boundary(&self) -> Option<String> {
        let content_type = self.content_type.as_deref()?;
        let (media, params) = content_type.split_once(';')?;
        if !media.trim().to_ascii_lowercase().starts_with("multipart/") {
            return None;
        }
        params.split(';').find_map(|param| {
            let (name, value) = param.split_once('=')?;
            name.trim()
                .eq_ignore_ascii_case("boundary")
                .then(|| super::header::unquote(value.trim()).to_string())
        })
    }

    /// How many parts the content has: the body parts of a multipart content (counted
    /// by their delimiter lines, so parts without a blank line after their headers
    /// count too), 1 for a single non-empty part, 0 for no content.
    pub fn part_count(&self) -> usize {
        let Some(boundary) = self.boundary() else {
            return usize::from(!self.body.is_empty());
        };
        let delimiter = format!("--{boundary}");
        let closing = format!("--{boundary}--");
        let mut count = 0;
        for line in self.body.split(|&b| b == b'\n') {
            let line = line.strip_suffix(b"\r").unwrap_or(line);
            let end = line
                .iter()
                .rposition(|&b| b != b' ' && b != b'\t')
                .map_or(0, |i| i + 1);
            let line = line.get(..end).unwrap_or_default();
            if line == closing.as_bytes() {
                break;
            }
            if line == delimiter.as_bytes() {
                count += 1;
            }
        }
        count
    }

    /// The content as a MIME entity on its own (`MIME-Version`, `Content-Type`, the
    /// other `Content-*` headers, an empty line, the content bytes), for a MIME parser.
    pub fn content_entity(&self) -> Vec<u8> {
        let content_headers: Vec<(String, String)> = self
            .extra_headers
            .iter()
            .filter(|(name, _)| {
                name.len() > 8
                    && name
                        .get(..8)
                        .is_some_and(|p| p.eq_ignore_ascii_case("content-"))
            })
            .cloned()
            .collect();
        Out::empty().finish(&content_headers, self.content_type.as_deref(), &self.body)
    }
}

/// The fields a `.RES` PDU has; the three responses differ only in their type.
macro_rules! response_pdu {
    ($(#[$meta:meta])* $name:ident, $kind:expr, $req:ty) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Eq)]
        pub struct $name {
            /// `X-Mms-3GPP-MMS-Version`.
            pub mms_version: Option<String>,
            /// `X-Mms-Transaction-ID` of the request answered (mandatory).
            pub transaction_id: String,
            /// `X-Mms-Message-ID`.
            pub message_id: Option<String>,
            /// `X-Mms-Request-Status-Code` (mandatory).
            pub request_status: RequestStatus,
            /// `X-Mms-Status-Text`, RFC 2047 decoded.
            pub status_text: Option<String>,
            pub from: Option<Mm4Address>,
            pub to: Vec<Mm4Address>,
            pub sender: Option<Mm4Address>,
            /// `Date`, unix seconds.
            pub date: Option<i64>,
            /// RFC 5322 `Message-ID`, as received.
            pub rfc822_message_id: Option<String>,
            pub content_type: Option<String>,
            /// Headers not listed above, in order, verbatim.
            pub extra_headers: Vec<(String, String)>,
            /// Every byte after the header block (usually none).
            pub body: Vec<u8>,
        }

        impl $name {
            /// The answer to `req`: its transaction and message ids and version,
            /// addressed to its reply address (`X-Mms-Originator-System`, else
            /// `Sender`), dated `now_unix_secs`. `from` and `rfc822_message_id` are
            /// left for the caller (our own system address and a fresh id).
            pub fn answering(
                req: &$req,
                status: RequestStatus,
                text: Option<&str>,
                now_unix_secs: i64,
            ) -> Self {
                $name {
                    mms_version: Some(
                        req.mms_version
                            .clone()
                            .unwrap_or_else(|| DEFAULT_MMS_VERSION.to_string()),
                    ),
                    transaction_id: req.transaction_id.clone(),
                    message_id: req.message_id.clone(),
                    request_status: status,
                    status_text: non_empty(text),
                    from: None,
                    to: req.reply_address().map(Mm4Address::parse).into_iter().collect(),
                    sender: None,
                    date: Some(now_unix_secs),
                    rfc822_message_id: None,
                    content_type: None,
                    extra_headers: Vec::new(),
                    body: Vec::new(),
                }
            }

            pub(super) fn from_acc(acc: Acc, body: &[u8]) -> Result<Self, Mm4Error> {
                Ok($name {
                    transaction_id: required(acc.transaction_id, names::TRANSACTION_ID)?,
                    request_status: required(acc.request_status, names::REQUEST_STATUS_CODE)?,
                    mms_version: acc.mms_version,
                    message_id: acc.message_id,
                    status_text: acc.status_text,
                    from: acc.from,
                    to: acc.to,
                    sender: acc.sender,
                    date: acc.date,
                    rfc822_message_id: acc.rfc822_message_id,
                    content_type: acc.content_type,
                    extra_headers: acc.extra_headers,
                    body: body.to_vec(),
                })
            }

            /// The PDU on the wire, CRLF line endings.
            pub fn to_bytes(&self) -> Vec<u8> {
                let mut out = Out::start(
                    $kind,
                    self.mms_version.as_deref(),
                    &self.transaction_id,
                    self.message_id.as_deref(),
                    self.body.len(),
                );
                out.token(H::RequestStatusCode, Some(self.request_status.as_str()));
                out.text(H::StatusText, self.status_text.as_deref());
                out.raw(H::Rfc822MessageId, self.rfc822_message_id.as_deref());
                out.date(H::Date, self.date);
                out.address(H::From, self.from.as_ref());
                out.addresses(H::To, &self.to);
                out.address(H::Sender, self.sender.as_ref());
                out.finish(&self.extra_headers, self.content_type.as_deref(), &self.body)
            }
        }
    };
}

response_pdu!(
    /// `MM4_forward.RES`: the receiving MMSC's answer to `MM4_forward.REQ`.
    ForwardRes,
    MessageType::ForwardRes,
    ForwardReq
);
response_pdu!(
    /// `MM4_delivery_report.RES`: the answer to `MM4_delivery_report.REQ`.
    DeliveryReportRes,
    MessageType::DeliveryReportRes,
    DeliveryReportReq
);
response_pdu!(
    /// `MM4_read_reply_report.RES`: the answer to `MM4_read_reply_report.REQ`.
    ReadReplyRes,
    MessageType::ReadReplyRes,
    ReadReplyReq
);

/// `MM4_delivery_report.REQ`: the recipient MMSC reports what became of an MM.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeliveryReportReq {
    pub mms_version: Option<String>,
    /// `X-Mms-Transaction-ID` (mandatory).
    pub transaction_id: String,
    /// `X-Mms-Message-ID` of the MM reported on.
    pub message_id: Option<String>,
    /// `X-Mms-Originator-System`: where the `.RES` goes.
    pub originator_system: Option<String>,
    /// `From`: the recipient of the MM.
    pub from: Option<Mm4Address>,
    /// `To`: the originator of the MM.
    pub to: Vec<Mm4Address>,
    pub sender: Option<Mm4Address>,
    /// `Date`, unix seconds: when the event happened.
    pub date: Option<i64>,
    pub rfc822_message_id: Option<String>,
    /// `X-Mms-Ack-Request` (absent reads as `false`).
    pub ack_request: bool,
    /// `X-Mms-MM-Status-Code` (mandatory).
    pub mm_status: MmStatus,
    /// `X-Mms-MM-Status-Extension`, as received.
    pub mm_status_extension: Option<String>,
    /// `X-Mms-Status-Text`, RFC 2047 decoded.
    pub status_text: Option<String>,
    pub forward_to_originator_ua: Option<bool>,
    pub applic_id: Option<String>,
    pub reply_applic_id: Option<String>,
    pub aux_applic_info: Option<String>,
    pub content_type: Option<String>,
    pub extra_headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl DeliveryReportReq {
    /// A report about `message_id`, from its recipient `from` to its originator `to`.
    pub fn new(
        transaction_id: impl Into<String>,
        message_id: impl Into<String>,
        from: Mm4Address,
        to: Mm4Address,
        mm_status: MmStatus,
        now_unix_secs: i64,
    ) -> Self {
        DeliveryReportReq {
            mms_version: Some(DEFAULT_MMS_VERSION.to_string()),
            transaction_id: transaction_id.into(),
            message_id: Some(message_id.into()),
            originator_system: None,
            from: Some(from),
            to: vec![to],
            sender: None,
            date: Some(now_unix_secs),
            rfc822_message_id: None,
            ack_request: false,
            mm_status,
            mm_status_extension: None,
            status_text: None,
            forward_to_originator_ua: None,
            applic_id: None,
            reply_applic_id: None,
            aux_applic_info: None,
            content_type: None,
            extra_headers: Vec::new(),
            body: Vec::new(),
        }
    }

    pub(super) fn from_acc(acc: Acc, body: &[u8]) -> Result<Self, Mm4Error> {
        Ok(DeliveryReportReq {
            transaction_id: required(acc.transaction_id, names::TRANSACTION_ID)?,
            mm_status: required(acc.mm_status, names::MM_STATUS_CODE)?,
            mms_version: acc.mms_version,
            message_id: acc.message_id,
            originator_system: acc.originator_system,
            from: acc.from,
            to: acc.to,
            sender: acc.sender,
            date: acc.date,
            rfc822_message_id: acc.rfc822_message_id,
            ack_request: acc.ack_request.unwrap_or(false),
            mm_status_extension: acc.mm_status_extension,
            status_text: acc.status_text,
            forward_to_originator_ua: acc.forward_to_originator_ua,
            applic_id: acc.applic_id,
            reply_applic_id: acc.reply_applic_id,
            aux_applic_info: acc.aux_applic_info,
            content_type: acc.content_type,
            extra_headers: acc.extra_headers,
            body: body.to_vec(),
        })
    }

    /// The PDU on the wire, CRLF line endings.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Out::start(
            MessageType::DeliveryReportReq,
            self.mms_version.as_deref(),
            &self.transaction_id,
            self.message_id.as_deref(),
            self.body.len(),
        );
        out.flag(H::AckRequest, Some(self.ack_request));
        out.raw(H::OriginatorSystem, self.originator_system.as_deref());
        out.raw(H::Rfc822MessageId, self.rfc822_message_id.as_deref());
        out.date(H::Date, self.date);
        out.addresses(H::To, &self.to);
        out.address(H::From, self.from.as_ref());
        out.address(H::Sender, self.sender.as_ref());
        out.token(H::MmStatusCode, Some(self.mm_status.as_str()));
        out.token(H::MmStatusExtension, self.mm_status_extension.as_deref());
        out.text(H::StatusText, self.status_text.as_deref());
        out.flag(H::ForwardToOriginatorUa, self.forward_to_originator_ua);
        out.token(H::ApplicId, self.applic_id.as_deref());
        out.token(H::ReplyApplicId, self.reply_applic_id.as_deref());
        out.token(H::AuxApplicInfo, self.aux_applic_info.as_deref());
        out.finish(
            &self.extra_headers,
            self.content_type.as_deref(),
            &self.body,
        )
    }

    /// Where `MM4_delivery_report.RES` goes: `X-Mms-Originator-System`, else `Sender`.
    pub fn reply_address(&self) -> Option<&str> {
        reply_address(self.originator_system.as_deref(), self.sender.as_ref())
    }
}

/// `MM4_read_reply_report.REQ`: the recipient MMSC relays a read report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReadReplyReq {
    pub mms_version: Option<String>,
    /// `X-Mms-Transaction-ID` (mandatory).
    pub transaction_id: String,
    /// `X-Mms-Message-ID` of the MM reported on.
    pub message_id: Option<String>,
    /// `X-Mms-Originator-System`: where the `.RES` goes.
    pub originator_system: Option<String>,
    /// `From`: the recipient of the MM.
    pub from: Option<Mm4Address>,
    /// `To`: the originator of the MM.
    pub to: Vec<Mm4Address>,
    pub sender: Option<Mm4Address>,
    /// `Date`, unix seconds.
    pub date: Option<i64>,
    pub rfc822_message_id: Option<String>,
    /// `X-Mms-Ack-Request` (absent reads as `false`).
    pub ack_request: bool,
    /// `X-Mms-Read-Status` (mandatory).
    pub read_status: ReadStatus,
    /// `X-Mms-Status-Text`, RFC 2047 decoded.
    pub status_text: Option<String>,
    pub applic_id: Option<String>,
    pub reply_applic_id: Option<String>,
    pub aux_applic_info: Option<String>,
    pub content_type: Option<String>,
    pub extra_headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl ReadReplyReq {
    /// A read report about `message_id`, from its recipient `from` to its originator
    /// `to`.
    pub fn new(
        transaction_id: impl Into<String>,
        message_id: impl Into<String>,
        from: Mm4Address,
        to: Mm4Address,
        read_status: ReadStatus,
        now_unix_secs: i64,
    ) -> Self {
        ReadReplyReq {
            mms_version: Some(DEFAULT_MMS_VERSION.to_string()),
            transaction_id: transaction_id.into(),
            message_id: Some(message_id.into()),
            originator_system: None,
            from: Some(from),
            to: vec![to],
            sender: None,
            date: Some(now_unix_secs),
            rfc822_message_id: None,
            ack_request: false,
            read_status,
            status_text: None,
            applic_id: None,
            reply_applic_id: None,
            aux_applic_info: None,
            content_type: None,
            extra_headers: Vec::new(),
            body: Vec::new(),
        }
    }

    pub(super) fn from_acc(acc: Acc, body: &[u8]) -> Result<Self, Mm4Error> {
        Ok(ReadReplyReq {
            transaction_id: required(acc.transaction_id, names::TRANSACTION_ID)?,
            read_status: required(acc.read_status, names::READ_STATUS)?,
            mms_version: acc.mms_version,
            message_id: acc.message_id,
            originator_system: acc.originator_system,
            from: acc.from,
            to: acc.to,
            sender: acc.sender,
            date: acc.date,
            rfc822_message_id: acc.rfc822_message_id,
            ack_request: acc.ack_request.unwrap_or(false),
            status_text: acc.status_text,
            applic_id: acc.applic_id,
            reply_applic_id: acc.reply_applic_id,
            aux_applic_info: acc.aux_applic_info,
            content_type: acc.content_type,
            extra_headers: acc.extra_headers,
            body: body.to_vec(),
        })
    }

    /// The PDU on the wire, CRLF line endings.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Out::start(
            MessageType::ReadReplyReq,
            self.mms_version.as_deref(),
            &self.transaction_id,
            self.message_id.as_deref(),
            self.body.len(),
        );
        out.flag(H::AckRequest, Some(self.ack_request));
        out.raw(H::OriginatorSystem, self.originator_system.as_deref());
        out.raw(H::Rfc822MessageId, self.rfc822_message_id.as_deref());
        out.date(H::Date, self.date);
        out.addresses(H::To, &self.to);
        out.address(H::From, self.from.as_ref());
        out.address(H::Sender, self.sender.as_ref());
        out.token(H::ReadStatus, Some(self.read_status.as_str()));
        out.text(H::StatusText, self.status_text.as_deref());
        out.token(H::ApplicId, self.applic_id.as_deref());
        out.token(H::ReplyApplicId, self.reply_applic_id.as_deref());
        out.token(H::AuxApplicInfo, self.aux_applic_info.as_deref());
        out.finish(
            &self.extra_headers,
            self.content_type.as_deref(),
            &self.body,
        )
    }

    /// Where `MM4_read_reply_report.RES` goes: `X-Mms-Originator-System`, else
    /// `Sender`.
    pub fn reply_address(&self) -> Option<&str> {
        reply_address(self.originator_system.as_deref(), self.sender.as_ref())
    }
}
