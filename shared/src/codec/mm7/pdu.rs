//! The MM7 operations (TS 23.140 §8.7 and the REL-5/REL-6 MM7 schemas): typed bodies,
//! read from an [`Element`] tree in any element order and written in schema order.

use super::Mm7Error;
use super::status::StatusCode;
use super::xml::{Element, Writer};

/// How an address is written (`<Number>`, `<ShortCode>`, `<RFC2822Address>`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AddressKind {
    Number,
    ShortCode,
    Rfc2822,
}

impl AddressKind {
    fn element(self) -> &'static str {
        match self {
            AddressKind::Number => "Number",
            AddressKind::ShortCode => "ShortCode",
            AddressKind::Rfc2822 => "RFC2822Address",
        }
    }
    fn from_element(name: &str) -> Option<Self> {
        match name {
            "Number" => Some(AddressKind::Number),
            "ShortCode" => Some(AddressKind::ShortCode),
            "RFC2822Address" => Some(AddressKind::Rfc2822),
            _ => None,
        }
    }
}

/// One MM7 address with its attributes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mm7Address {
    pub kind: AddressKind,
    pub value: String,
    /// `displayOnly="true"`: shown to recipients, not delivered to.
    pub display_only: bool,
    /// `addressCoding` (`encrypted`, `obfuscated`).
    pub coding: Option<String>,
}

impl Mm7Address {
    pub fn new(kind: AddressKind, value: impl Into<String>) -> Self {
        Mm7Address {
            kind,
            value: value.into(),
            display_only: false,
            coding: None,
        }
    }
    fn read(el: &Element) -> Option<Self> {
        let kind = AddressKind::from_element(&el.name)?;
        Some(Mm7Address {
            kind,
            value: el.text.trim().to_string(),
            display_only: el.attr("displayOnly").is_some_and(parse_bool_lenient),
            coding: el.attr("addressCoding").map(String::from),
        })
    }
    fn write(&self, w: &mut Writer) {
        let mut attrs: Vec<(&str, &str)> = Vec::new();
        if self.display_only {
            attrs.push(("displayOnly", "true"));
        }
        if let Some(c) = &self.coding {
            attrs.push(("addressCoding", c));
        }
        w.leaf_attrs(self.kind.element(), &attrs, &self.value);
    }
}

/// Reads the address inside a wrapper (`<SenderAddress>`, `<Sender>`, `<Recipient>`).
/// A wrapper with bare text (older peers) is read as a number or an e-mail address.
fn read_wrapped(el: &Element) -> Option<Mm7Address> {
    if let Some(a) = el.children.iter().find_map(Mm7Address::read) {
        return Some(a);
    }
    let t = el.text.trim();
    if t.is_empty() {
        return None;
    }
    let kind = if t.contains('@') {
        AddressKind::Rfc2822
    } else {
        AddressKind::Number
    };
    Some(Mm7Address::new(kind, t))
}

fn write_wrapped(w: &mut Writer, name: &str, a: Option<&Mm7Address>) {
    if let Some(a) = a {
        w.open(name, &[]);
        a.write(w);
        w.close(name);
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Recipients {
    pub to: Vec<Mm7Address>,
    pub cc: Vec<Mm7Address>,
    pub bcc: Vec<Mm7Address>,
}

impl Recipients {
    pub fn is_empty(&self) -> bool {
        self.to.is_empty() && self.cc.is_empty() && self.bcc.is_empty()
    }
    /// Every address, To then Cc then Bcc.
    pub fn all(&self) -> impl Iterator<Item = &Mm7Address> {
        self.to.iter().chain(&self.cc).chain(&self.bcc)
    }
    fn read(el: &Element) -> Self {
        let list = |n: &str| -> Vec<Mm7Address> {
            el.children_named(n)
                .flat_map(|c| c.children.iter().filter_map(Mm7Address::read))
                .collect()
        };
        Recipients {
            to: list("To"),
            cc: list("Cc"),
            bcc: list("Bcc"),
        }
    }
    fn write(&self, w: &mut Writer) {
        w.open("Recipients", &[]);
        for (name, list) in [("To", &self.to), ("Cc", &self.cc), ("Bcc", &self.bcc)] {
            if !list.is_empty() {
                w.open(name, &[]);
                for a in list {
                    a.write(w);
                }
                w.close(name);
            }
        }
        w.close("Recipients");
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SenderIdentification {
    pub vasp_id: Option<String>,
    pub vas_id: Option<String>,
    pub sender_address: Option<Mm7Address>,
}

impl SenderIdentification {
    fn read(el: &Element) -> Self {
        SenderIdentification {
            vasp_id: el.child_text("VASPID"),
            vas_id: el.child_text("VASID"),
            sender_address: el.child("SenderAddress").and_then(read_wrapped),
        }
    }
    fn write(&self, w: &mut Writer) {
        w.open("SenderIdentification", &[]);
        w.opt("VASPID", self.vasp_id.as_deref());
        w.opt("VASID", self.vas_id.as_deref());
        write_wrapped(w, "SenderAddress", self.sender_address.as_ref());
        w.close("SenderIdentification");
    }
}

/// `<Status>`: the outcome of a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Status {
    pub code: StatusCode,
    pub text: Option<String>,
    /// `<Details>`: free text (we list per-recipient failures here).
    pub details: Option<String>,
}

impl Status {
    /// A status with the code's standard text.
    pub fn new(code: StatusCode) -> Self {
        Status {
            code,
            text: Some(code.text().to_string()),
            details: None,
        }
    }
    pub fn with_details(code: StatusCode, details: impl Into<String>) -> Self {
        Status {
            details: Some(details.into()),
            ..Status::new(code)
        }
    }
    fn read(el: Option<&Element>) -> Result<Self, Mm7Error> {
        let el = el.ok_or(Mm7Error::Missing("Status"))?;
        let code = el
            .child_text("StatusCode")
            .ok_or(Mm7Error::Missing("StatusCode"))?;
        let code = code
            .parse::<u16>()
            .map_err(|_| Mm7Error::Invalid("StatusCode", clip(&code)))?;
        let details = el.child("Details").map(|d| {
            if d.children.is_empty() {
                d.text.trim().to_string()
            } else {
                d.children
                    .iter()
                    .map(|c| c.text.trim())
                    .collect::<Vec<_>>()
                    .join("; ")
            }
        });
        Ok(Status {
            code: StatusCode(code),
            text: el.child_text("StatusText"),
            details,
        })
    }
    fn write(&self, w: &mut Writer) {
        w.open("Status", &[]);
        w.leaf("StatusCode", &self.code.0.to_string());
        w.opt("StatusText", self.text.as_deref());
        w.opt("Details", self.details.as_deref());
        w.close("Status");
    }
}

/// `<Content href="cid:..." allowAdaptations="true"/>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContentRef {
    pub href: String,
    pub allow_adaptations: Option<bool>,
}

impl ContentRef {
    fn read(el: &Element) -> Option<Self> {
        Some(ContentRef {
            href: el.attr("href")?.trim().to_string(),
            allow_adaptations: el.attr("allowAdaptations").map(parse_bool_lenient),
        })
    }
    fn write(&self, w: &mut Writer) {
        let mut attrs = vec![("href", self.href.as_str())];
        if let Some(a) = self.allow_adaptations {
            attrs.push(("allowAdaptations", if a { "true" } else { "false" }));
        }
        w.empty("Content", &attrs);
    }
    /// The content id the href names, without `cid:` and angle brackets.
    pub fn content_id(&self) -> &str {
        let h = self.href.trim();
        let h = h
            .strip_prefix("cid:")
            .or_else(|| h.strip_prefix("CID:"))
            .unwrap_or(h);
        h.trim_matches(|c| c == '<' || c == '>')
    }
}

/// `<ReplyCharging replyChargingSize=".." replyDeadline="..">`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ReplyCharging {
    pub size: Option<String>,
    pub deadline: Option<String>,
}

/// `<UACapabilities UAProf=".." TimeStamp=".."/>`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct UaCapabilities {
    pub ua_prof: Option<String>,
    pub timestamp: Option<String>,
}

impl UaCapabilities {
    fn read(el: &Element) -> Self {
        UaCapabilities {
            ua_prof: el.attr("UAProf").map(String::from),
            timestamp: el.attr("TimeStamp").map(String::from),
        }
    }
    fn write(&self, w: &mut Writer) {
        let mut attrs = Vec::new();
        if let Some(p) = &self.ua_prof {
            attrs.push(("UAProf", p.as_str()));
        }
        if let Some(t) = &self.timestamp {
            attrs.push(("TimeStamp", t.as_str()));
        }
        w.empty("UACapabilities", &attrs);
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SubmitReq {
    pub mm7_version: String,
    pub sender_identification: SenderIdentification,
    pub recipients: Recipients,
    pub service_code: Option<String>,
    pub linked_id: Option<String>,
    pub message_class: Option<String>,
    pub timestamp: Option<String>,
    pub reply_charging: Option<ReplyCharging>,
    pub earliest_delivery_time: Option<String>,
    pub expiry_date: Option<String>,
    pub delivery_report: Option<bool>,
    pub read_reply: Option<bool>,
    pub priority: Option<String>,
    pub subject: Option<String>,
    pub charged_party: Option<String>,
    pub charged_party_id: Option<String>,
    pub distribution_indicator: Option<bool>,
    pub applic_id: Option<String>,
    pub reply_applic_id: Option<String>,
    pub aux_applic_info: Option<String>,
    pub content_class: Option<String>,
    pub drm_content: Option<bool>,
    pub content: Option<ContentRef>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubmitRsp {
    pub mm7_version: String,
    pub status: Status,
    pub message_id: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct DeliverReq {
    pub mm7_version: String,
    pub mms_relay_server_id: Option<String>,
    pub linked_id: Option<String>,
    pub sender: Option<Mm7Address>,
    pub recipients: Recipients,
    pub timestamp: Option<String>,
    pub reply_charging_id: Option<String>,
    pub priority: Option<String>,
    pub subject: Option<String>,
    pub applic_id: Option<String>,
    pub reply_applic_id: Option<String>,
    pub aux_applic_info: Option<String>,
    pub ua_capabilities: Option<UaCapabilities>,
    pub content: Option<ContentRef>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeliverRsp {
    pub mm7_version: String,
    pub status: Status,
    pub service_code: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CancelReq {
    pub mm7_version: String,
    pub sender_identification: SenderIdentification,
    pub message_id: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ReplaceReq {
    pub mm7_version: String,
    pub sender_identification: SenderIdentification,
    pub message_id: String,
    pub service_code: Option<String>,
    pub timestamp: Option<String>,
    pub read_reply: Option<bool>,
    pub earliest_delivery_time: Option<String>,
    pub distribution_indicator: Option<bool>,
    pub content: Option<ContentRef>,
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct DeliveryReportReq {
    pub mm7_version: String,
    pub mms_relay_server_id: Option<String>,
    pub message_id: String,
    pub recipient: Option<Mm7Address>,
    pub sender: Option<Mm7Address>,
    pub date: Option<String>,
    /// `MMStatus`: Expired, Retrieved, Rejected, Indeterminate, Forwarded,
    /// Unrecognised, Deferred, NotSupported...
    pub mm_status: String,
    pub status_text: Option<String>,
    pub ua_capabilities: Option<UaCapabilities>,
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ReadReplyReq {
    pub mm7_version: String,
    pub mms_relay_server_id: Option<String>,
    pub message_id: String,
    pub recipient: Option<Mm7Address>,
    pub sender: Option<Mm7Address>,
    pub timestamp: Option<String>,
    /// `MMStatus`: Read, Deleted, Indeterminate.
    pub mm_status: String,
    pub status_text: Option<String>,
}

/// The responses that carry only a version and a status (`CancelRsp`, `ReplaceRsp`,
/// `DeliveryReportRsp`, `ReadReplyRsp`, `RSErrorRsp`, `VASPErrorRsp`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GenericRsp {
    pub mm7_version: String,
    pub status: Status,
}

/// The body of an MM7 SOAP message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Mm7Body {
    SubmitReq(SubmitReq),
    SubmitRsp(SubmitRsp),
    DeliverReq(DeliverReq),
    DeliverRsp(DeliverRsp),
    CancelReq(CancelReq),
    CancelRsp(GenericRsp),
    ReplaceReq(ReplaceReq),
    ReplaceRsp(GenericRsp),
    DeliveryReportReq(DeliveryReportReq),
    DeliveryReportRsp(GenericRsp),
    ReadReplyReq(ReadReplyReq),
    ReadReplyRsp(GenericRsp),
    RsErrorRsp(GenericRsp),
    VaspErrorRsp(GenericRsp),
}

fn clip(s: &str) -> String {
    s.chars().take(60).collect()
}

/// `true`/`false` in any case, `1`/`0`; anything else is false.
fn parse_bool_lenient(s: &str) -> bool {
    let s = s.trim();
    s.eq_ignore_ascii_case("true") || s == "1"
}

fn opt_bool(el: &Element, name: &'static str) -> Result<Option<bool>, Mm7Error> {
    match el.child_text(name) {
        None => Ok(None),
        Some(t) if t.eq_ignore_ascii_case("true") || t == "1" => Ok(Some(true)),
        Some(t) if t.eq_ignore_ascii_case("false") || t == "0" => Ok(Some(false)),
        Some(t) => Err(Mm7Error::Invalid(name, clip(&t))),
    }
}

fn version(el: &Element) -> String {
    el.child_text("MM7Version").unwrap_or_default()
}

fn required(el: &Element, name: &'static str) -> Result<String, Mm7Error> {
    el.child_text(name)
        .filter(|t| !t.is_empty())
        .ok_or(Mm7Error::Missing(name))
}

impl Mm7Body {
    /// The element name of the operation (`SubmitReq`, `RSErrorRsp`, ...).
    pub fn name(&self) -> &'static str {
        match self {
            Mm7Body::SubmitReq(_) => "SubmitReq",
            Mm7Body::SubmitRsp(_) => "SubmitRsp",
            Mm7Body::DeliverReq(_) => "DeliverReq",
            Mm7Body::DeliverRsp(_) => "DeliverRsp",
            Mm7Body::CancelReq(_) => "CancelReq",
            Mm7Body::CancelRsp(_) => "CancelRsp",
            Mm7Body::ReplaceReq(_) => "ReplaceReq",
            Mm7Body::ReplaceRsp(_) => "ReplaceRsp",
            Mm7Body::DeliveryReportReq(_) => "DeliveryReportReq",
            Mm7Body::DeliveryReportRsp(_) => "DeliveryReportRsp",
            Mm7Body::ReadReplyReq(_) => "ReadReplyReq",
            Mm7Body::ReadReplyRsp(_) => "ReadReplyRsp",
            Mm7Body::RsErrorRsp(_) => "RSErrorRsp",
            Mm7Body::VaspErrorRsp(_) => "VASPErrorRsp",
        }
    }

    /// The status of a response, `None` for requests.
    pub fn status(&self) -> Option<&Status> {
        match self {
            Mm7Body::SubmitRsp(r) => Some(&r.status),
            Mm7Body::DeliverRsp(r) => Some(&r.status),
            Mm7Body::CancelRsp(r)
            | Mm7Body::ReplaceRsp(r)
            | Mm7Body::DeliveryReportRsp(r)
            | Mm7Body::ReadReplyRsp(r)
            | Mm7Body::RsErrorRsp(r)
            | Mm7Body::VaspErrorRsp(r) => Some(&r.status),
            _ => None,
        }
    }

    /// Whether this is an error response (carried in a SOAP Fault).
    pub fn is_fault(&self) -> bool {
        matches!(self, Mm7Body::RsErrorRsp(_) | Mm7Body::VaspErrorRsp(_))
    }

    pub(super) fn read(el: &Element) -> Result<Self, Mm7Error> {
        let generic = || -> Result<GenericRsp, Mm7Error> {
            Ok(GenericRsp {
                mm7_version: version(el),
                status: Status::read(el.child("Status"))?,
            })
        };
        Ok(match el.name.as_str() {
            "SubmitReq" => {
                let recipients = el
                    .child("Recipients")
                    .map(Recipients::read)
                    .ok_or(Mm7Error::Missing("Recipients"))?;
                if recipients.is_empty() {
                    return Err(Mm7Error::Missing("Recipients/To"));
                }
                Mm7Body::SubmitReq(SubmitReq {
                    mm7_version: version(el),
                    sender_identification: el
                        .child("SenderIdentification")
                        .map(SenderIdentification::read)
                        .ok_or(Mm7Error::Missing("SenderIdentification"))?,
                    recipients,
                    service_code: el.child_text("ServiceCode"),
                    linked_id: el.child_text("LinkedID"),
                    message_class: el.child_text("MessageClass"),
                    timestamp: el.child_text("TimeStamp"),
                    reply_charging: el.child("ReplyCharging").map(|r| ReplyCharging {
                        size: r.attr("replyChargingSize").map(String::from),
                        deadline: r.attr("replyDeadline").map(String::from),
                    }),
                    earliest_delivery_time: el.child_text("EarliestDeliveryTime"),
                    expiry_date: el.child_text("ExpiryDate"),
                    delivery_report: opt_bool(el, "DeliveryReport")?,
                    read_reply: opt_bool(el, "ReadReply")?,
                    priority: el.child_text("Priority"),
                    subject: el.child("Subject").map(|s| s.text.clone()),
                    charged_party: el.child_text("ChargedParty"),
                    charged_party_id: el.child_text("ChargedPartyID"),
                    distribution_indicator: opt_bool(el, "DistributionIndicator")?,
                    applic_id: el.child_text("ApplicID"),
                    reply_applic_id: el.child_text("ReplyApplicID"),
                    aux_applic_info: el.child_text("AuxApplicInfo"),
                    content_class: el.child_text("ContentClass"),
                    drm_content: opt_bool(el, "DRMContent")?,
                    content: el.child("Content").and_then(ContentRef::read),
                })
            }
            "SubmitRsp" => Mm7Body::SubmitRsp(SubmitRsp {
                mm7_version: version(el),
                status: Status::read(el.child("Status"))?,
                message_id: el.child_text("MessageID"),
            }),
            "DeliverReq" => Mm7Body::DeliverReq(DeliverReq {
                mm7_version: version(el),
                mms_relay_server_id: el.child_text("MMSRelayServerID"),
                linked_id: el.child_text("LinkedID"),
                sender: el.child("Sender").and_then(read_wrapped),
                recipients: el
                    .child("Recipients")
                    .map(Recipients::read)
                    .unwrap_or_default(),
                timestamp: el.child_text("TimeStamp"),
                reply_charging_id: el.child_text("ReplyChargingID"),
                priority: el.child_text("Priority"),
                subject: el.child("Subject").map(|s| s.text.clone()),
                applic_id: el.child_text("ApplicID"),
                reply_applic_id: el.child_text("ReplyApplicID"),
                aux_applic_info: el.child_text("AuxApplicInfo"),
                ua_capabilities: el.child("UACapabilities").map(UaCapabilities::read),
                content: el.child("Content").and_then(ContentRef::read),
            }),
            "DeliverRsp" => Mm7Body::DeliverRsp(DeliverRsp {
                mm7_version: version(el),
                status: Status::read(el.child("Status"))?,
                service_code: el.child_text("ServiceCode"),
            }),
            "CancelReq" => Mm7Body::CancelReq(CancelReq {
                mm7_version: version(el),
                sender_identification: el
                    .child("SenderIdentification")
                    .map(SenderIdentification::read)
                    .unwrap_or_default(),
                message_id: required(el, "MessageID")?,
            }),
            "ReplaceReq" => Mm7Body::ReplaceReq(ReplaceReq {
                mm7_version: version(el),
                sender_identification: el
                    .child("SenderIdentification")
                    .map(SenderIdentification::read)
                    .unwrap_or_default(),
                message_id: required(el, "MessageID")?,
                service_code: el.child_text("ServiceCode"),
                timestamp: el.child_text("TimeStamp"),
                read_reply: opt_bool(el, "ReadReply")?,
                earliest_delivery_time: el.child_text("EarliestDeliveryTime"),
                distribution_indicator: opt_bool(el, "DistributionIndicator")?,
                content: el.child("Content").and_then(ContentRef::read),
            }),
            "DeliveryReportReq" => Mm7Body::DeliveryReportReq(DeliveryReportReq {
                mm7_version: version(el),
                mms_relay_server_id: el.child_text("MMSRelayServerID"),
                message_id: required(el, "MessageID")?,
                recipient: el.child("Recipient").and_then(read_wrapped),
                sender: el.child("Sender").and_then(read_wrapped),
                date: el.child_text("Date"),
                mm_status: required(el, "MMStatus")?,
                status_text: el.child_text("StatusText"),
                ua_capabilities: el.child("UACapabilities").map(UaCapabilities::read),
            }),
            "ReadReplyReq" => Mm7Body::ReadReplyReq(ReadReplyReq {
                mm7_version: version(el),
                mms_relay_server_id: el.child_text("MMSRelayServerID"),
                message_id: required(el, "MessageID")?,
                recipient: el.child("Recipient").and_then(read_wrapped),
                sender: el.child("Sender").and_then(read_wrapped),
                timestamp: el.child_text("TimeStamp"),
                mm_status: required(el, "MMStatus")?,
                status_text: el.child_text("StatusText"),
            }),
            "CancelRsp" => Mm7Body::CancelRsp(generic()?),
            "ReplaceRsp" => Mm7Body::ReplaceRsp(generic()?),
            "DeliveryReportRsp" => Mm7Body::DeliveryReportRsp(generic()?),
            "ReadReplyRsp" => Mm7Body::ReadReplyRsp(generic()?),
            "RSErrorRsp" => Mm7Body::RsErrorRsp(generic()?),
            "VASPErrorRsp" => Mm7Body::VaspErrorRsp(generic()?),
            other => return Err(Mm7Error::UnknownOperation(clip(other))),
        })
    }

    /// Writes the operation element; `ns` is declared as its default namespace.
    pub(super) fn write(&self, w: &mut Writer, ns: &str) {
        let name = self.name();
        w.open(name, &[("xmlns", ns)]);
        match self {
            Mm7Body::SubmitReq(r) => {
                w.leaf("MM7Version", &r.mm7_version);
                r.sender_identification.write(w);
                r.recipients.write(w);
                w.opt("ServiceCode", r.service_code.as_deref());
                w.opt("LinkedID", r.linked_id.as_deref());
                w.opt("MessageClass", r.message_class.as_deref());
                w.opt("TimeStamp", r.timestamp.as_deref());
                if let Some(rc) = &r.reply_charging {
                    let mut attrs = Vec::new();
                    if let Some(s) = &rc.size {
                        attrs.push(("replyChargingSize", s.as_str()));
                    }
                    if let Some(d) = &rc.deadline {
                        attrs.push(("replyDeadline", d.as_str()));
                    }
                    w.empty("ReplyCharging", &attrs);
                }
                w.opt("EarliestDeliveryTime", r.earliest_delivery_time.as_deref());
                w.opt("ExpiryDate", r.expiry_date.as_deref());
                w.flag("DeliveryReport", r.delivery_report);
                w.flag("ReadReply", r.read_reply);
                w.opt("Priority", r.priority.as_deref());
                w.opt("Subject", r.subject.as_deref());
                w.opt("ChargedParty", r.charged_party.as_deref());
                w.opt("ChargedPartyID", r.charged_party_id.as_deref());
                w.flag("DistributionIndicator", r.distribution_indicator);
                w.opt("ApplicID", r.applic_id.as_deref());
                w.opt("ReplyApplicID", r.reply_applic_id.as_deref());
                w.opt("AuxApplicInfo", r.aux_applic_info.as_deref());
                w.opt("ContentClass", r.content_class.as_deref());
                w.flag("DRMContent", r.drm_content);
                if let Some(c) = &r.content {
                    c.write(w);
                }
            }
            Mm7Body::SubmitRsp(r) => {
                w.leaf("MM7Version", &r.mm7_version);
                r.status.write(w);
                w.opt("MessageID", r.message_id.as_deref());
            }
            Mm7Body::DeliverReq(r) => {
                w.leaf("MM7Version", &r.mm7_version);
                w.opt("MMSRelayServerID", r.mms_relay_server_id.as_deref());
                w.opt("LinkedID", r.linked_id.as_deref());
                write_wrapped(w, "Sender", r.sender.as_ref());
                if !r.recipients.is_empty() {
                    r.recipients.write(w);
                }
                w.opt("TimeStamp", r.timestamp.as_deref());
                w.opt("ReplyChargingID", r.reply_charging_id.as_deref());
                w.opt("Priority", r.priority.as_deref());
                w.opt("Subject", r.subject.as_deref());
                w.opt("ApplicID", r.applic_id.as_deref());
                w.opt("ReplyApplicID", r.reply_applic_id.as_deref());
                w.opt("AuxApplicInfo", r.aux_applic_info.as_deref());
                if let Some(u) = &r.ua_capabilities {
                    u.write(w);
                }
                if let Some(c) = &r.content {
                    c.write(w);
                }
            }
            Mm7Body::DeliverRsp(r) => {
                w.leaf("MM7Version", &r.mm7_version);
                r.status.write(w);
                w.opt("ServiceCode", r.service_code.as_deref());
            }
            Mm7Body::CancelReq(r) => {
                w.leaf("MM7Version", &r.mm7_version);
                r.sender_identification.write(w);
                w.leaf("MessageID", &r.message_id);
            }
            Mm7Body::ReplaceReq(r) => {
                w.leaf("MM7Version", &r.mm7_version);
                r.sender_identification.write(w);
                w.leaf("MessageID", &r.message_id);
                w.opt("ServiceCode", r.service_code.as_deref());
                w.opt("TimeStamp", r.timestamp.as_deref());
                w.flag("ReadReply", r.read_reply);
                w.opt("EarliestDeliveryTime", r.earliest_delivery_time.as_deref());
                w.flag("DistributionIndicator", r.distribution_indicator);
                if let Some(c) = &r.content {
                    c.write(w);
                }
            }
            Mm7Body::DeliveryReportReq(r) => {
                w.leaf("MM7Version", &r.mm7_version);
                w.opt("MMSRelayServerID", r.mms_relay_server_id.as_deref());
                w.leaf("MessageID", &r.message_id);
                write_wrapped(w, "Recipient", r.recipient.as_ref());
                write_wrapped(w, "Sender", r.sender.as_ref());
                w.opt("Date", r.date.as_deref());
                w.leaf("MMStatus", &r.mm_status);
                w.opt("StatusText", r.status_text.as_deref());
                if let Some(u) = &r.ua_capabilities {
                    u.write(w);
                }
            }
            Mm7Body::ReadReplyReq(r) => {
                w.leaf("MM7Version", &r.mm7_version);
                w.opt("MMSRelayServerID", r.mms_relay_server_id.as_deref());
                w.leaf("MessageID", &r.message_id);
                write_wrapped(w, "Recipient", r.recipient.as_ref());
                write_wrapped(w, "Sender", r.sender.as_ref());
                w.opt("TimeStamp", r.timestamp.as_deref());
                w.leaf("MMStatus", &r.mm_status);
                w.opt("StatusText", r.status_text.as_deref());
            }
            Mm7Body::CancelRsp(r)
            | Mm7Body::ReplaceRsp(r)
            | Mm7Body::DeliveryReportRsp(r)
            | Mm7Body::ReadReplyRsp(r)
            | Mm7Body::RsErrorRsp(r)
            | Mm7Body::VaspErrorRsp(r) => {
                w.leaf("MM7Version", &r.mm7_version);
                r.status.write(w);
            }
        }
        w.close(name);
    }
}
