//! `mm7-out`: MM7 requests to VASPs over HTTP — `DeliverReq` for messages to their
//! short codes, `DeliveryReportReq` / `ReadReplyReq` about messages they submitted
//! with reports requested. Retries transient failures (connection, timeout, HTTP 5xx,
//! MM7 3xxx) with the worker's backoff up to the VASP's `max_attempts`.

use super::ingest::report_to_originator;
use super::{HandlerError, Services};
use crate::codec::mm4::{Mm4Pdu, MmStatus};
use crate::codec::mm7::{
    AddressKind, ContentRef, DeliverReq, DeliveryReportReq, Mm7Address, Mm7Body, Mm7Message, Part,
    ReadReplyReq, Recipients, Version,
};
use crate::config::{Credentials, VaspConfig};
use crate::domain::{
    Address, Job, MessageId, MessageRecord, Origin, RecipientRecord, RecipientState, Timestamp,
};
use base64::Engine;
use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use std::time::Duration;
use tracing::{info, warn};

/// How long one POST to a VASP may take.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
/// Largest answer we read from a VASP.
const MAX_ANSWER: usize = 1024 * 1024;

/// The MM7 form of one of our addresses.
pub fn mm7_address(a: &Address) -> Mm7Address {
    match a {
        Address::Phone { e164, .. } => Mm7Address::new(AddressKind::Number, e164.clone()),
        Address::Email { address } => Mm7Address::new(AddressKind::Rfc2822, address.clone()),
        Address::ShortCode { code } => Mm7Address::new(AddressKind::ShortCode, code.clone()),
    }
}

/// A recipient as the VASP knows it: `12345@<our domain>` is its short code `12345`.
fn short_code_form(a: &Address, vasp: Option<&VaspConfig>) -> Mm7Address {
    if let Address::Email { address } = a
        && let Some((local, _)) = address.split_once('@')
        && vasp.is_some_and(|v| v.short_codes.iter().any(|c| c == local))
    {
        return Mm7Address::new(AddressKind::ShortCode, local);
    }
    mm7_address(a)
}

fn key_segment(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_') {
                c
            } else {
                '_'
            }
        })
        .collect()
}

fn version_of(v: Option<&VaspConfig>) -> Version {
    v.and_then(|v| Version::new(&v.schema_version).ok())
        .unwrap_or_default()
}

fn rfc3339(t: Timestamp) -> String {
    humantime::format_rfc3339_seconds(t.to_system()).to_string()
}

/// One POST's outcome.
enum Posted {
    /// The VASP answered with an MM7 message.
    Answer(Box<Mm7Message>),
    /// Worth retrying: no answer, a timeout, HTTP 5xx without MM7 in it.
    Transient(String),
    /// Retrying will not help (HTTP 4xx without MM7, an answer we cannot read).
    Permanent(String),
}

async fn post(url: &str, auth: Option<&Credentials>, content_type: &str, body: Vec<u8>) -> Posted {
    let uri: hyper::Uri = match url.parse() {
        Ok(u) => u,
        Err(_) => return Posted::Permanent(format!("bad URL {url:?}")),
    };
    if uri.scheme_str() != Some("http") {
        return Posted::Permanent(format!("{url}: only http:// is supported"));
    }
    let mut builder = hyper::Request::post(uri)
        .header("content-type", content_type)
        .header("soapaction", "\"\"");
    if let Some(c) = auth {
        let token = base64::engine::general_purpose::STANDARD
            .encode(format!("{}:{}", c.username, c.password));
        builder = builder.header("authorization", format!("Basic {token}"));
    }
    let req = match builder.body(Full::new(Bytes::from(body))) {
        Ok(r) => r,
        Err(e) => return Posted::Permanent(e.to_string()),
    };
    let client = Client::builder(TokioExecutor::new()).build_http::<Full<Bytes>>();
    let work = async {
        let resp = client
            .request(req)
            .await
            .map_err(|e| Posted::Transient(format!("{url}: {e}")))?;
        let status = resp.status().as_u16();
        let ct = resp
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("text/xml")
            .to_string();
        let bytes = Limited::new(resp.into_body(), MAX_ANSWER)
            .collect()
            .await
            .map_err(|e| Posted::Transient(format!("{url}: reading the answer: {e}")))?
            .to_bytes();
        Ok::<_, Posted>((status, ct, bytes))
    };
    match tokio::time::timeout(REQUEST_TIMEOUT, work).await {
        Err(_) => Posted::Transient(format!("{url}: no answer within {REQUEST_TIMEOUT:?}")),
        Ok(Err(p)) => p,
        Ok(Ok((status, ct, bytes))) => match Mm7Message::parse(&ct, &bytes) {
            Ok(m) => Posted::Answer(Box::new(m)),
            Err(e) if status >= 500 => Posted::Transient(format!("{url}: HTTP {status} ({e})")),
            Err(e) => Posted::Permanent(format!("{url}: HTTP {status}, not an MM7 answer: {e}")),
        },
    }
}

/// Classifies an MM7 answer: `Ok` on success (1xxx), `Err(true)` when worth retrying
/// (3xxx), `Err(false)` otherwise.
fn judge(answer: &Mm7Message) -> Result<String, (bool, String)> {
    let Some(status) = answer.body.status() else {
        return Err((
            false,
            format!("answered with a request ({})", answer.body.name()),
        ));
    };
    let text = format!(
        "{} {}{}",
        status.code.0,
        status.text.as_deref().unwrap_or(status.code.text()),
        status
            .details
            .as_deref()
            .map(|d| format!(" ({d})"))
            .unwrap_or_default()
    );
    if status.code.is_success() {
        Ok(text)
    } else {
        Err(((3000..4000).contains(&status.code.0), text))
    }
}

/// The content of `msg` as an MM7 attachment.
async fn content_part(svc: &Services, msg: &MessageRecord) -> Result<Option<Part>, HandlerError> {
    let cid = format!("content-{}", msg.id);
    match &msg.origin {
        Origin::Mm4 { .. } => {
            let raw = svc.objects.get(&msg.content_key).await?.ok_or_else(|| {
                HandlerError::Permanent(format!("content {} is missing", msg.content_key))
            })?;
            let Ok(Mm4Pdu::ForwardReq(fwd)) = Mm4Pdu::parse(&raw) else {
                return Err(HandlerError::Permanent(format!(
                    "content {} is not an MM4_forward.REQ",
                    msg.content_key
                )));
            };
            if fwd.body.is_empty() {
                return Ok(None);
            }
            let ct = fwd
                .content_type
                .clone()
                .unwrap_or_else(|| "text/plain".into());
            let mut part = Part::new(&ct, Some(&cid), fwd.body.clone());
            if let Some((_, v)) = fwd
                .extra_headers
                .iter()
                .find(|(n, _)| n.eq_ignore_ascii_case("content-transfer-encoding"))
            {
                part.headers
                    .push(("Content-Transfer-Encoding".into(), v.clone()));
            }
            Ok(Some(part))
        }
        Origin::Mm7 { .. } => {
            let (m, _) = super::mm7_in::load(svc, &msg.content_key).await?;
            Ok(m.content().ok().flatten().map(|p| {
                let mut p = p.clone();
                p.headers
                    .retain(|(n, _)| !n.eq_ignore_ascii_case("content-id"));
                p.headers.push(("Content-ID".into(), format!("<{cid}>")));
                p
            }))
        }
        Origin::Mm1 { .. } => {
            // The stored m-send.req (WSP binary): its parts as one MIME entity.
            let raw = svc.objects.get(&msg.content_key).await?.ok_or_else(|| {
                HandlerError::Permanent(format!("content {} is missing", msg.content_key))
            })?;
            let loaded = super::mm1::notify::load_raw(&raw).map_err(HandlerError::Permanent)?;
            if loaded.content.parts.is_empty() {
                return Ok(None);
            }
            let boundary = format!("mm7-{}", msg.id);
            let (ct, body) = super::mm1::content::to_mime(&loaded.content, &boundary);
            Ok(Some(Part::new(&ct, Some(&cid), body)))
        }
    }
}

/// `Job::Mm7Out`: deliver recipient `index` of message `id` to VASP `vasp`.
pub async fn deliver(
    svc: &Services,
    vasp: &str,
    id: &MessageId,
    index: u32,
    receive_count: u32,
) -> Result<(), HandlerError> {
    let records = svc.records();
    let Some((msg, _)) = records.message(id).await? else {
        return Err(HandlerError::Permanent(format!("no message {id}")));
    };
    let Some(r) = records.recipient(id, index).await? else {
        return Err(HandlerError::Permanent(format!(
            "message {id} has no recipient #{index}"
        )));
    };
    if r.state.is_terminal() {
        return Ok(()); // delivered (or failed) by an earlier run
    }
    let vcfg = svc.config.vasp(vasp);
    let Some(url) = vcfg.and_then(|v| v.deliver_url.clone()) else {
        let why = format!("VASP {vasp} has no deliver_url");
        fail(
            svc,
            &msg,
            &r,
            RecipientState::Failed,
            MmStatus::INDETERMINATE,
            &why,
        )
        .await?;
        return Err(HandlerError::Permanent(why));
    };
    let max_attempts = vcfg.map_or(1, |v| v.max_attempts);
    let version = version_of(vcfg);
    let content = content_part(svc, &msg).await?;
    let req = DeliverReq {
        mm7_version: version.mm7_version().to_string(),
        mms_relay_server_id: Some(svc.config.mmsc.domain.clone()),
        linked_id: Some(msg.id.to_string()),
        sender: Some(mm7_address(&msg.from)),
        recipients: Recipients {
            to: vec![short_code_form(&r.address, vcfg)],
            ..Recipients::default()
        },
        timestamp: Some(rfc3339(msg.received_at)),
        subject: msg.subject.clone(),
        content: content.as_ref().map(|p| ContentRef {
            href: format!("cid:{}", p.content_id().unwrap_or_default()),
            allow_adaptations: None,
        }),
        ..DeliverReq::default()
    };
    let mut out = Mm7Message::new(
        format!("{}.dlv-{index}", msg.id),
        version,
        Mm7Body::DeliverReq(req),
    );
    out.attachments = content.into_iter().collect();
    let (ct, body) = out.to_http();
    let auth = vcfg.and_then(|v| v.outbound_auth.as_ref());
    let outcome = post(&url, auth, &ct, body).await;
    let (retry, why) = match outcome {
        Posted::Answer(a) => match judge(&a) {
            Ok(text) => {
                info!(vasp, message_id = %id, recipient = index, "DeliverReq accepted by the VASP");
                let reason = format!("delivered to VASP {vasp}: {text}");
                let now = svc.clock.now();
                let moved = records
                    .update_recipient(&msg, index, |rec| {
                        Ok::<bool, ()>(
                            rec.advance(RecipientState::Delivered, Some(reason.clone()), now)
                                .is_ok(),
                        )
                    })
                    .await?;
                if let Ok((rec, true)) = moved {
                    records
                        .event(
                            &msg,
                            "delivered",
                            Some(rec.address.redacted()),
                            reason.clone(),
                        )
                        .await?;
                    report_to_originator(svc, &msg, &rec, MmStatus::RETRIEVED, &reason).await?;
                }
                records.refresh_state(id).await?;
                return Ok(());
            }
            Err((retry, text)) => (retry, format!("VASP {vasp} answered {text}")),
        },
        Posted::Transient(w) => (true, w),
        Posted::Permanent(w) => (false, w),
    };
    if retry && receive_count < max_attempts {
        records
            .event(
                &msg,
                "send-retry",
                Some(r.address.redacted()),
                format!("DeliverReq attempt {receive_count}/{max_attempts}: {why}"),
            )
            .await?;
        return Err(HandlerError::Transient(why));
    }
    warn!(vasp, message_id = %id, reason = %why, "MM7 delivery failed");
    let (state, status) = if retry {
        (RecipientState::Failed, MmStatus::INDETERMINATE)
    } else {
        (RecipientState::Rejected, MmStatus::REJECTED)
    };
    let why = if retry {
        format!("gave up after {receive_count} attempts: {why}")
    } else {
        why
    };
    fail(svc, &msg, &r, state, status, &why).await?;
    Err(HandlerError::Permanent(why))
}

async fn fail(
    svc: &Services,
    msg: &MessageRecord,
    r: &RecipientRecord,
    state: RecipientState,
    status: MmStatus,
    why: &str,
) -> Result<(), HandlerError> {
    let records = svc.records();
    let now = svc.clock.now();
    let moved = records
        .update_recipient(msg, r.index, |rec| {
            Ok::<bool, ()>(rec.advance(state, Some(why.to_string()), now).is_ok())
        })
        .await?;
    if let Ok((rec, true)) = moved {
        records
            .event(msg, state.as_str(), Some(rec.address.redacted()), why)
            .await?;
        report_to_originator(svc, msg, &rec, status, why).await?;
    }
    records.refresh_state(&msg.id).await?;
    Ok(())
}

/// Stores `out` and queues it for VASP `vasp` (idempotent: the key derives from the
/// transaction id).
async fn send_request(
    svc: &Services,
    vasp: &str,
    msg: &MessageRecord,
    out: Mm7Message,
) -> Result<(), HandlerError> {
    let (ct, body) = out.to_http();
    let mut entity = format!("Content-Type: {ct}\r\n\r\n").into_bytes();
    entity.extend_from_slice(&body);
    let object_key = format!(
        "out/mm7/{}/{}.mm7",
        key_segment(vasp),
        key_segment(&out.transaction_id)
    );
    svc.objects
        .put(&object_key, Bytes::from(entity), "message/rfc822")
        .await?;
    let job = Job::Mm7Request {
        vasp: vasp.to_string(),
        object_key,
        message_id: Some(msg.id.clone()),
        operation: out.body.name().to_string(),
    };
    svc.queue
        .send(job.queue(), &job.to_bytes(), Duration::ZERO)
        .await?;
    Ok(())
}

/// A delivery report about recipient `r` to the VASP that submitted `msg` (called
/// from `report_to_originator` once the VASP asked for reports).
pub async fn report_to_vasp(
    svc: &Services,
    vasp: &str,
    msg: &MessageRecord,
    r: &RecipientRecord,
    status: &MmStatus,
    text: &str,
) -> Result<(), HandlerError> {
    let records = svc.records();
    let vcfg = svc.config.vasp(vasp);
    if vcfg.and_then(VaspConfig::report_url).is_none() {
        records
            .event(
                msg,
                "report-undeliverable",
                Some(r.address.redacted()),
                format!("VASP {vasp} has no report_url or deliver_url"),
            )
            .await?;
        return Ok(());
    }
    let version = version_of(vcfg);
    let req = DeliveryReportReq {
        mm7_version: version.mm7_version().to_string(),
        mms_relay_server_id: Some(svc.config.mmsc.domain.clone()),
        message_id: msg.id.to_string(),
        recipient: Some(mm7_address(&r.address)),
        sender: Some(mm7_address(&msg.from)),
        date: Some(rfc3339(svc.clock.now())),
        mm_status: status.as_str().to_string(),
        status_text: (!text.is_empty()).then(|| text.to_string()),
        ua_capabilities: None,
    };
    let txid = format!(
        "{}.dr-{}-{}",
        msg.id,
        r.index,
        status.as_str().to_ascii_lowercase()
    );
    send_request(
        svc,
        vasp,
        msg,
        Mm7Message::new(txid, version, Mm7Body::DeliveryReportReq(req)),
    )
    .await?;
    records
        .event(
            msg,
            "delivery-report-queued",
            Some(r.address.redacted()),
            format!("{} to VASP {vasp}", status.as_str()),
        )
        .await?;
    Ok(())
}

/// A read report from `reader` to the VASP that submitted `msg`.
pub async fn read_reply_to_vasp(
    svc: &Services,
    vasp: &str,
    msg: &MessageRecord,
    reader: Option<&Address>,
    read_status: &str,
    text: Option<&str>,
) -> Result<(), HandlerError> {
    let vcfg = svc.config.vasp(vasp);
    if vcfg.and_then(VaspConfig::report_url).is_none() {
        svc.records()
            .event(
                msg,
                "report-undeliverable",
                None,
                format!("VASP {vasp} has no report_url or deliver_url"),
            )
            .await?;
        return Ok(());
    }
    let version = version_of(vcfg);
    let req = ReadReplyReq {
        mm7_version: version.mm7_version().to_string(),
        mms_relay_server_id: Some(svc.config.mmsc.domain.clone()),
        message_id: msg.id.to_string(),
        recipient: reader.map(mm7_address),
        sender: Some(mm7_address(&msg.from)),
        timestamp: Some(rfc3339(svc.clock.now())),
        // MM7 MMStatus for read replies: Read, Deleted, Indeterminate.
        mm_status: match read_status {
            s if s.eq_ignore_ascii_case("read") => "Read",
            s if s.to_ascii_lowercase().starts_with("deleted") => "Deleted",
            _ => "Indeterminate",
        }
        .to_string(),
        status_text: text.map(String::from),
    };
    let who = reader.map(|a| a.key().to_string()).unwrap_or_default();
    let txid = format!("{}.rr-{}", msg.id, key_segment(&who));
    send_request(
        svc,
        vasp,
        msg,
        Mm7Message::new(txid, version, Mm7Body::ReadReplyReq(req)),
    )
    .await?;
    svc.records()
        .event(msg, "read-report-relayed", None, format!("to VASP {vasp}"))
        .await?;
    Ok(())
}

/// `Job::Mm7Request`: POST a stored report to the VASP's report URL.
pub async fn request(
    svc: &Services,
    vasp: &str,
    object_key: &str,
    message_id: Option<&MessageId>,
    operation: &str,
    receive_count: u32,
) -> Result<(), HandlerError> {
    let records = svc.records();
    let msg = match message_id {
        Some(id) => records.message(id).await?.map(|(m, _)| m),
        None => None,
    };
    let note = |kind: &'static str, detail: String| {
        let msg = msg.clone();
        async move {
            if let Some(m) = &msg {
                svc.records().event(m, kind, None, detail).await?;
            }
            Ok::<(), HandlerError>(())
        }
    };
    let vcfg = svc.config.vasp(vasp);
    let Some(url) = vcfg.and_then(VaspConfig::report_url).map(String::from) else {
        let why = format!("VASP {vasp} has no report_url or deliver_url");
        note("send-failed", format!("{operation}: {why}")).await?;
        return Err(HandlerError::Permanent(why));
    };
    let Some(raw) = svc.objects.get(object_key).await? else {
        return Err(HandlerError::Permanent(format!(
            "{object_key} to send is missing"
        )));
    };
    let (ct, body) = super::mm7_in::split_entity(&raw);
    let max_attempts = vcfg.map_or(1, |v| v.max_attempts);
    let auth = vcfg.and_then(|v| v.outbound_auth.as_ref());
    let (retry, why) = match post(&url, auth, &ct, body.to_vec()).await {
        Posted::Answer(a) => match judge(&a) {
            Ok(text) => {
                info!(vasp, operation, "MM7 report delivered");
                note("sent", format!("{operation} to VASP {vasp}: {text}")).await?;
                return Ok(());
            }
            Err((retry, text)) => (retry, format!("VASP {vasp} answered {text}")),
        },
        Posted::Transient(w) => (true, w),
        Posted::Permanent(w) => (false, w),
    };
    if retry && receive_count < max_attempts {
        note(
            "send-retry",
            format!("{operation} attempt {receive_count}/{max_attempts}: {why}"),
        )
        .await?;
        return Err(HandlerError::Transient(why));
    }
    warn!(vasp, operation, reason = %why, "MM7 report not delivered");
    note("send-failed", format!("{operation} to VASP {vasp}: {why}")).await?;
    Err(HandlerError::Permanent(why))
}
