//! MM7 (3GPP TS 23.140 §8.7): SOAP 1.1 with attachments between the MMSC and content
//! providers (VASPs).
//!
//! Pure: the HTTP `Content-Type` and body in, a typed [`Mm7Message`] out, and back with
//! [`Mm7Message::to_http`]. Reading is tolerant — any namespace prefix or none, the
//! SOAP envelope namespace as peers spell it (`SOAP-ENV`, `env`, ...), elements in any
//! order, `cid:` or bare content ids, a SOAP message with or without content — and
//! defensive: DTDs (and so entity-expansion bombs) are refused, nesting is limited
//! ([`xml::MAX_DEPTH`]), multipart bodies must be complete. The schema version the peer
//! used ([`Version`], from the namespace of the operation) is kept so answers go back
//! in the same version.

pub mod mime;
mod pdu;
mod status;
pub mod xml;

#[cfg(test)]
mod tests;

pub use mime::Part;
pub use pdu::{
    AddressKind, CancelReq, ContentRef, DeliverReq, DeliverRsp, DeliveryReportReq, GenericRsp,
    Mm7Address, Mm7Body, ReadReplyReq, Recipients, ReplaceReq, ReplyCharging, SenderIdentification,
    Status, SubmitReq, SubmitRsp, UaCapabilities,
};
pub use status::StatusCode;

use std::fmt;
use xml::{Element, Writer};

pub const SOAP_ENV_NS: &str = "http://schemas.xmlsoap.org/soap/envelope/";
/// Where every MM7 schema namespace lives.
pub const SCHEMA_BASE: &str = "http://www.3gpp.org/ftp/Specs/archive/23_series/23.140/schema/";

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Mm7Error {
    #[error("XML is not well-formed: {0}")]
    Xml(String),
    #[error("document type declarations are not accepted")]
    DtdRefused,
    #[error("XML nesting is deeper than {} levels", xml::MAX_DEPTH)]
    TooDeep,
    #[error("message truncated")]
    Truncated,
    #[error("bad MIME structure: {0}")]
    Mime(String),
    #[error("not a SOAP envelope: {0}")]
    NotSoap(&'static str),
    #[error("unsupported MM7 schema version {0:?}")]
    UnsupportedVersion(String),
    #[error("unknown MM7 operation {0:?}")]
    UnknownOperation(String),
    #[error("required element {0} is missing")]
    Missing(&'static str),
    #[error("element {0} has an invalid value {1:?}")]
    Invalid(&'static str, String),
    #[error("content {0:?} referenced by the Content element is not attached")]
    ContentNotFound(String),
}

impl Mm7Error {
    /// The MM7 status code that answers a request failing with this error: broken
    /// XML/MIME is "Message format corrupt" (2007), a schema violation is "Validation
    /// error" (4004), an unknown schema version 4002, an unknown operation 4003.
    pub fn status_code(&self) -> StatusCode {
        match self {
            Mm7Error::Xml(_)
            | Mm7Error::DtdRefused
            | Mm7Error::TooDeep
            | Mm7Error::Truncated
            | Mm7Error::Mime(_)
            | Mm7Error::NotSoap(_) => StatusCode::MESSAGE_FORMAT_CORRUPT,
            Mm7Error::UnsupportedVersion(_) => StatusCode::UNSUPPORTED_VERSION,
            Mm7Error::UnknownOperation(_) => StatusCode::UNSUPPORTED_OPERATION,
            Mm7Error::Missing(_) | Mm7Error::Invalid(..) => StatusCode::VALIDATION_ERROR,
            Mm7Error::ContentNotFound(_) => StatusCode::MULTIMEDIA_CONTENT_REFUSED,
        }
    }
}

/// An MM7 schema version: `REL-5-MM7-1-0` ... `REL-6-MM7-1-4`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Version(String);

impl Version {
    pub const SUPPORTED: &'static [&'static str] = &[
        "REL-5-MM7-1-0",
        "REL-5-MM7-1-1",
        "REL-5-MM7-1-2",
        "REL-5-MM7-1-3",
        "REL-6-MM7-1-0",
        "REL-6-MM7-1-1",
        "REL-6-MM7-1-2",
        "REL-6-MM7-1-3",
        "REL-6-MM7-1-4",
    ];

    /// `name` must be one of [`Version::SUPPORTED`] (any case).
    pub fn new(name: &str) -> Result<Self, Mm7Error> {
        Self::SUPPORTED
            .iter()
            .find(|s| s.eq_ignore_ascii_case(name.trim()))
            .map(|s| Version((*s).to_string()))
            .ok_or_else(|| Mm7Error::UnsupportedVersion(name.chars().take(120).collect()))
    }

    /// The version a namespace URI names: its last path segment (a trailing `/` or
    /// `.xsd` is tolerated), so `http`/`https` and mirrors of the 3GPP path all work.
    pub fn from_namespace(ns: &str) -> Result<Self, Mm7Error> {
        let t = ns.trim().trim_end_matches('/');
        let t = t.strip_suffix(".xsd").unwrap_or(t);
        let last = t.rsplit('/').next().unwrap_or(t);
        Self::new(last).map_err(|_| Mm7Error::UnsupportedVersion(ns.chars().take(120).collect()))
    }

    pub fn name(&self) -> &str {
        &self.0
    }

    pub fn namespace(&self) -> String {
        format!("{SCHEMA_BASE}{}", self.0)
    }

    /// The `MM7Version` value we write in this schema version.
    pub fn mm7_version(&self) -> &'static str {
        match self.0.as_str() {
            "REL-5-MM7-1-0" => "5.3.0",
            "REL-5-MM7-1-1" => "5.5.0",
            "REL-5-MM7-1-2" => "5.6.0",
            "REL-5-MM7-1-3" => "5.10.0",
            "REL-6-MM7-1-0" => "6.5.0",
            "REL-6-MM7-1-1" => "6.7.0",
            "REL-6-MM7-1-2" => "6.8.0",
            "REL-6-MM7-1-3" => "6.9.0",
            _ => "6.13.0",
        }
    }
}

impl Default for Version {
    fn default() -> Self {
        Version("REL-6-MM7-1-4".into())
    }
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// One MM7 SOAP message: transaction id, schema version, body and attachments.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mm7Message {
    /// The SOAP header `TransactionID`.
    pub transaction_id: String,
    pub version: Version,
    pub body: Mm7Body,
    /// Attached MIME parts other than the SOAP part (usually one: the content).
    pub attachments: Vec<Part>,
}

impl Mm7Message {
    pub fn new(transaction_id: impl Into<String>, version: Version, body: Mm7Body) -> Self {
        Mm7Message {
            transaction_id: transaction_id.into(),
            version,
            body,
            attachments: Vec::new(),
        }
    }

    /// Parses an HTTP request or response body with its `Content-Type`.
    pub fn parse(content_type: &str, body: &[u8]) -> Result<Self, Mm7Error> {
        let media = mime::media_type(content_type);
        if !media.starts_with("multipart/") {
            return Self::parse_soap(body, Vec::new());
        }
        let boundary = mime::param(content_type, "boundary")
            .ok_or_else(|| Mm7Error::Mime("multipart without a boundary".into()))?;
        let mut parts = mime::split(body, &boundary)?;
        let start = mime::param(content_type, "start")
            .map(|s| s.trim().trim_matches(|c| c == '<' || c == '>').to_string());
        let idx = start
            .as_deref()
            .and_then(|s| parts.iter().position(|p| p.content_id() == Some(s)))
            .unwrap_or(0);
        let soap = parts.remove(idx);
        Self::parse_soap(&soap.body, parts)
    }

    fn parse_soap(soap: &[u8], attachments: Vec<Part>) -> Result<Self, Mm7Error> {
        let root = xml::parse(soap)?;
        if root.name != "Envelope" {
            return Err(Mm7Error::NotSoap("the root element is not Envelope"));
        }
        let body_el = root
            .child("Body")
            .ok_or(Mm7Error::NotSoap("no Body element"))?;
        let mut op = body_el
            .children
            .first()
            .ok_or(Mm7Error::Missing("an MM7 operation in Body"))?;
        if op.name == "Fault" {
            op = fault_detail(op).ok_or(Mm7Error::Missing("Fault/detail operation"))?;
        }
        let header_txid = root.child("Header").and_then(|h| h.child("TransactionID"));
        let ns = op
            .ns
            .as_deref()
            .or_else(|| header_txid.and_then(|t| t.ns.as_deref()));
        let version = match ns {
            Some(ns) => Version::from_namespace(ns)?,
            None => Version::default(),
        };
        let transaction_id = header_txid
            .map(|t| t.text.trim().to_string())
            .filter(|t| !t.is_empty())
            .ok_or(Mm7Error::Missing("Header/TransactionID"))?;
        let body = Mm7Body::read(op)?;
        let msg = Mm7Message {
            transaction_id,
            version,
            body,
            attachments,
        };
        Ok(msg)
    }

    /// The SOAP envelope as XML text.
    pub fn soap_xml(&self) -> String {
        let ns = self.version.namespace();
        let mut w = Writer::default();
        w.out.push_str(r#"<?xml version="1.0" encoding="UTF-8"?>"#);
        w.open("env:Envelope", &[("xmlns:env", SOAP_ENV_NS)]);
        w.open("env:Header", &[]);
        w.leaf_attrs(
            "mm7:TransactionID",
            &[("xmlns:mm7", &ns), ("env:mustUnderstand", "1")],
            &self.transaction_id,
        );
        w.close("env:Header");
        w.open("env:Body", &[]);
        if self.body.is_fault() {
            let status = self
                .body
                .status()
                .map(|s| s.code)
                .unwrap_or(StatusCode::SERVER_ERROR);
            w.open("env:Fault", &[]);
            let who = if matches!(self.body, Mm7Body::RsErrorRsp(_)) && status.0 < 3000 {
                "env:Client"
            } else {
                "env:Server"
            };
            w.leaf("faultcode", who);
            w.leaf("faultstring", status.text());
            w.open("detail", &[]);
            self.body.write(&mut w, &ns);
            w.close("detail");
            w.close("env:Fault");
        } else {
            self.body.write(&mut w, &ns);
        }
        w.close("env:Body");
        w.close("env:Envelope");
        w.out.push('\n');
        w.out
    }

    /// The HTTP body and its `Content-Type`: plain `text/xml` without attachments,
    /// else `multipart/related` with the SOAP part first.
    pub fn to_http(&self) -> (String, Vec<u8>) {
        let soap = self.soap_xml().into_bytes();
        if self.attachments.is_empty() {
            return ("text/xml; charset=utf-8".into(), soap);
        }
        let start = "mm7-soap-envelope";
        let mut parts = vec![Part::new("text/xml; charset=utf-8", Some(start), soap)];
        parts.extend(self.attachments.iter().cloned());
        let boundary = mime::boundary_for(&parts, &self.transaction_id);
        let body = mime::join(&parts, &boundary);
        (
            format!(
                "multipart/related; boundary=\"{boundary}\"; type=\"text/xml\"; start=\"<{start}>\""
            ),
            body,
        )
    }

    /// The content part the operation's `Content href` names (by Content-ID, `cid:`
    /// or bare, or Content-Location); without an href, the only attachment.
    pub fn content(&self) -> Result<Option<&Part>, Mm7Error> {
        let href = match &self.body {
            Mm7Body::SubmitReq(r) => r.content.as_ref(),
            Mm7Body::DeliverReq(r) => r.content.as_ref(),
            Mm7Body::ReplaceReq(r) => r.content.as_ref(),
            _ => None,
        };
        match href {
            Some(c) => {
                let id = c.content_id();
                self.attachments
                    .iter()
                    .find(|p| p.content_id() == Some(id) || p.content_location() == Some(id))
                    .or_else(|| (self.attachments.len() == 1).then(|| &self.attachments[0]))
                    .map(Some)
                    .ok_or_else(|| Mm7Error::ContentNotFound(id.chars().take(80).collect()))
            }
            None => Ok(self.attachments.first()),
        }
    }
}

fn fault_detail(fault: &Element) -> Option<&Element> {
    fault
        .child("detail")
        .or_else(|| fault.child("Detail"))
        .and_then(|d| d.children.first())
}
