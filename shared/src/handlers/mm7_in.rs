//! `ingest` for MM7: a VASP's `SubmitReq` (record, charge, route every recipient) and
//! `ReplaceReq` (swap the content of a message not yet retrieved), as stored by the
//! HTTP front (`in/mm7/<day>/<our message id>[.replace-<n>].mm7`, a MIME entity: the
//! request's Content-Type, an empty line, the HTTP body).

use super::ingest::{forward_to_partner, set_route};
use super::outbound::{envelope_address, mm4_message_id, transaction_id};
use super::records::{AliasKind, AliasRecord, message_pk};
use super::{HandlerError, Services};
use crate::codec::mm4::{Expiry, ForwardReq, MessageClass, Mm4Address, Priority};
use crate::codec::mm7::{Mm7Body, Mm7Message, ReplaceReq, SubmitReq};
use crate::domain::{
    Address, Direction, Job, MessageId, MessageRecord, MessageState, Origin, RecipientRecord,
    RecipientState, Timestamp,
};
use crate::ports::Key;
use crate::routing::Route;
use std::collections::BTreeMap;
use std::time::Duration;
use tracing::{Instrument, info, info_span, warn};

/// Splits a stored MIME entity into its Content-Type and body.
pub fn split_entity(raw: &[u8]) -> (String, &[u8]) {
    let (head, body) = match raw.windows(4).position(|w| w == b"\r\n\r\n") {
        Some(i) => (&raw[..i], &raw[i + 4..]),
        None => (&raw[..0], raw),
    };
    let head = String::from_utf8_lossy(head);
    let ct = head
        .lines()
        .find_map(|l| {
            let (n, v) = l.split_once(':')?;
            n.trim()
                .eq_ignore_ascii_case("content-type")
                .then(|| v.trim().to_string())
        })
        .unwrap_or_else(|| "text/xml".into());
    (ct, body)
}

/// Loads and parses a stored MM7 request.
pub async fn load(svc: &Services, object_key: &str) -> Result<(Mm7Message, u64), HandlerError> {
    let raw = svc.objects.get(object_key).await?.ok_or_else(|| {
        HandlerError::Permanent(format!("stored request {object_key} is missing"))
    })?;
    let (ct, body) = split_entity(&raw);
    let msg = Mm7Message::parse(&ct, body).map_err(|e| {
        HandlerError::Permanent(format!(
            "stored MM7 request {object_key} does not parse: {e}"
        ))
    })?;
    Ok((msg, body.len() as u64))
}

/// Our message id, from the object key the front chose.
fn id_from_key(key: &str) -> Option<MessageId> {
    let file = key.rsplit('/').next()?;
    let stem = file.split('.').next()?;
    MessageId::looks_like(stem).then(|| MessageId(stem.to_string()))
}

pub async fn handle(
    svc: &Services,
    object_key: &str,
    vasp: &str,
    received_at: Timestamp,
) -> Result<(), HandlerError> {
    let (msg, size) = load(svc, object_key).await?;
    let span = info_span!(
        "pdu",
        vasp,
        pdu = msg.body.name(),
        transaction_id = msg.transaction_id.as_str()
    );
    async {
        match &msg.body {
            Mm7Body::SubmitReq(req) => {
                let id = id_from_key(object_key).ok_or_else(|| {
                    HandlerError::Permanent(format!("no message id in key {object_key}"))
                })?;
                submit(svc, vasp, object_key, size, received_at, &id, &msg, req).await
            }
            Mm7Body::ReplaceReq(req) => replace(svc, vasp, object_key, &msg, req).await,
            other => Err(HandlerError::Permanent(format!(
                "{} is not ingested from a VASP",
                other.name()
            ))),
        }
    }
    .instrument(span)
    .await
}

/// `P90D`, `PT1H30M`, `P1Y2M3DT4H5M6S` (years 365 days, months 30) as seconds.
pub fn parse_duration(s: &str) -> Option<u64> {
    let s = s.trim();
    let rest = s.strip_prefix('P')?;
    let mut secs: u64 = 0;
    let mut num = String::new();
    let mut in_time = false;
    let mut any = false;
    for c in rest.chars() {
        match c {
            'T' if num.is_empty() && !in_time => in_time = true,
            '0'..='9' | '.' => num.push(c),
            unit => {
                let n: f64 = num.parse().ok()?;
                num.clear();
                let mult: f64 = match (unit, in_time) {
                    ('Y', false) => 365.0 * 86_400.0,
                    ('M', false) => 30.0 * 86_400.0,
                    ('W', false) => 7.0 * 86_400.0,
                    ('D', false) => 86_400.0,
                    ('H', true) => 3_600.0,
                    ('M', true) => 60.0,
                    ('S', true) => 1.0,
                    _ => return None,
                };
                secs = secs.saturating_add((n * mult) as u64);
                any = true;
            }
        }
    }
    (any && num.is_empty()).then_some(secs)
}

/// An xs:dateTime (`2002-01-02T09:30:47-05:00`, `...Z`, no zone = UTC) as unix secs.
pub fn parse_datetime(s: &str) -> Option<i64> {
    let s = s.trim();
    let (base, offset) = if let Some(b) = s.strip_suffix('Z') {
        (b, 0i64)
    } else if s.len() > 6
        && matches!(s.as_bytes()[s.len() - 6], b'+' | b'-')
        && s.as_bytes()[s.len() - 3] == b':'
    {
        let (b, z) = s.split_at(s.len() - 6);
        let sign = if z.starts_with('-') { -1 } else { 1 };
        let h: i64 = z[1..3].parse().ok()?;
        let m: i64 = z[4..6].parse().ok()?;
        (b, sign * (h * 3600 + m * 60))
    } else {
        (s, 0)
    };
    let t = humantime::parse_rfc3339_weak(base).ok()?;
    Some(Timestamp::from_system(t).unix_secs() - offset)
}

/// `ExpiryDate` (absolute or relative) as unix seconds.
fn expiry_at(v: &str, now: Timestamp) -> Option<i64> {
    parse_duration(v)
        .map(|d| now.unix_secs().saturating_add(d as i64))
        .or_else(|| parse_datetime(v))
}

#[allow(clippy::too_many_arguments)]
async fn submit(
    svc: &Services,
    vasp: &str,
    object_key: &str,
    size: u64,
    received_at: Timestamp,
    id: &MessageId,
    msg: &Mm7Message,
    req: &SubmitReq,
) -> Result<(), HandlerError> {
    let records = svc.records();
    let cc = svc.config.mmsc.country_code.as_deref();
    let now = svc.clock.now();
    let existing = records.message(id).await?.map(|(m, _)| m);
    let record = match existing {
        Some(m) => m,
        None => {
            let vcfg = svc.config.vasp(vasp);
            let from = req
                .sender_identification
                .sender_address
                .as_ref()
                .and_then(|a| Address::parse_with(&a.value, cc).ok())
                .or_else(|| {
                    vcfg.and_then(|v| v.short_codes.first())
                        .map(|c| Address::ShortCode { code: c.clone() })
                })
                .unwrap_or(Address::ShortCode {
                    code: vasp.to_string(),
                });
            let mut addrs: Vec<Address> = Vec::new();
            let mut unparsable = Vec::new();
            for a in req.recipients.all().filter(|a| !a.display_only) {
                match Address::parse_with(&a.value, cc) {
                    Ok(addr) if !addrs.contains(&addr) => addrs.push(addr),
                    Ok(_) => {}
                    Err(e) => unparsable.push(format!("{}: {e}", a.value)),
                }
            }
            let expires_at = Some(
                req.expiry_date
                    .as_deref()
                    .and_then(|e| expiry_at(e, received_at))
                    .map(Timestamp::from_unix_secs)
                    .unwrap_or_else(|| {
                        received_at.plus(Duration::from_secs(svc.config.mmsc.default_expiry_secs))
                    }),
            );
            let content = msg.content().ok().flatten();
            let m = MessageRecord {
                id: id.clone(),
                origin: Origin::Mm7 {
                    vasp: vasp.to_string(),
                },
                peer_message_id: None,
                peer_transaction_id: Some(msg.transaction_id.clone()),
                from,
                subject: req.subject.clone(),
                content_key: object_key.to_string(),
                content_type: content.map(|c| c.content_type().to_string()),
                size,
                received_at,
                expires_at,
                delivery_report: req.delivery_report.unwrap_or(false),
                read_report: req.read_reply.unwrap_or(false),
                state: MessageState::Accepted,
                recipient_count: addrs.len() as u32,
            };
            let rcpts: Vec<RecipientRecord> = addrs
                .into_iter()
                .enumerate()
                .map(|(i, address)| RecipientRecord::accepted(id, i as u32, address, now))
                .collect();
            // The message record is the commit point (see `ingest::mm4`): what goes
            // with it is written first, with keys a redelivery writes again.
            let ttl = records.ttl_for(&m);
            records
                .set_alias(
                    AliasKind::PeerTransaction,
                    &msg.transaction_id,
                    &AliasRecord {
                        message_id: id.clone(),
                        recipients: vec![],
                    },
                    ttl,
                )
                .await?;
            let mut detail = format!(
                "MM7 SubmitReq ({}) from VASP {vasp}, {size} bytes",
                msg.version
            );
            if let Some(s) = &req.service_code {
                detail.push_str(&format!(", service code {s}"));
            }
            if let Some(l) = &req.linked_id {
                detail.push_str(&format!(", LinkedID {l}"));
            }
            if let Some(p) = &req.charged_party {
                detail.push_str(&format!(", charged party {p}"));
            }
            let at = m.received_at;
            records
                .event_once(&m, "received", "received", at, detail)
                .await?;
            for (n, u) in unparsable.iter().enumerate() {
                let tag = format!("rejected-{n}");
                let detail = format!("unusable recipient {u}");
                records.event_once(&m, "rejected", &tag, at, detail).await?;
            }
            records.create_message(&m, &rcpts).await?;
            info!(message_id = %id, recipients = m.recipient_count, size, "MM7 message accepted");
            m
        }
    };
    charge_acceptance(svc, &record, req).await?;
    route(svc, &record, msg, req, vasp).await?;
    records.refresh_state(id).await?;
    Ok(())
}

/// Charging at acceptance (`charging.mode`): the VASP's sender (or, for ChargedParty
/// Recipient, each recipient) is charged once per recipient, with its service code, through the charging policy (event debit or
/// reservation, idempotent per recipient, CDRs). A refusal rejects every recipient
/// (the VASP gets a DeliveryReportReq where it asked); an unreachable charging system
/// retries the job.
pub async fn charge_acceptance(
    svc: &Services,
    msg: &MessageRecord,
    req: &SubmitReq,
) -> Result<(), HandlerError> {
    let charge_recipients = req
        .charged_party
        .as_deref()
        .is_some_and(|p| p.eq_ignore_ascii_case("recipient"));
    super::ingest::charge_or_reject(svc, msg, req.service_code.as_deref(), charge_recipients)
        .await?;
    Ok(())
}

/// Routes every recipient still `accepted`: local → `mm1-notify`, partner → one
/// `MM4_forward.REQ` per partner, short code → `mm7-out` to that VASP, else rejected.
async fn route(
    svc: &Services,
    msg: &MessageRecord,
    mm7: &Mm7Message,
    req: &SubmitReq,
    vasp: &str,
) -> Result<(), HandlerError> {
    let records = svc.records();
    let Some(view) = records.load(&msg.id).await? else {
        return Err(HandlerError::Transient(
            "message vanished while routing".into(),
        ));
    };
    let mut transit: BTreeMap<String, Vec<RecipientRecord>> = BTreeMap::new();
    for r in view
        .recipients
        .iter()
        .filter(|r| r.state == RecipientState::Accepted)
    {
        let route = svc.router.route(&msg.from, &r.address, Some(vasp)).await?;
        let (state, direction, reason) = match route {
            Route::Local => {
                let job = Job::Mm1Notify {
                    message_id: msg.id.clone(),
                    recipient: r.index,
                };
                svc.queue
                    .send(job.queue(), &job.to_bytes(), Duration::ZERO)
                    .await?;
                (
                    RecipientState::Routed,
                    Some(Direction::Local),
                    "local subscriber; notification queued".to_string(),
                )
            }
            Route::Partner(p) => {
                transit.entry(p).or_default().push(r.clone());
                continue;
            }
            Route::Vasp(v) => {
                let job = Job::Mm7Out {
                    vasp: v.clone(),
                    message_id: msg.id.clone(),
                    recipient: r.index,
                };
                svc.queue
                    .send(job.queue(), &job.to_bytes(), Duration::ZERO)
                    .await?;
                (
                    RecipientState::Routed,
                    Some(Direction::Mm7 { vasp: v.clone() }),
                    format!("queued for VASP {v}"),
                )
            }
            Route::Blocked => (
                RecipientState::Rejected,
                None,
                "blocked by the routing callback".to_string(),
            ),
            Route::Unroutable(why) => (RecipientState::Rejected, None, why),
        };
        set_route(svc, msg, r.index, state, direction, &reason, None).await?;
    }
    if transit.is_empty() {
        return Ok(());
    }
    let content = mm7.content().ok().flatten();
    for (partner, rcpts) in transit {
        let Some(pcfg) = svc.config.partner(&partner) else {
            for r in &rcpts {
                let why = format!("route names unknown partner {partner}");
                set_route(
                    svc,
                    msg,
                    r.index,
                    RecipientState::Rejected,
                    None,
                    &why,
                    None,
                )
                .await?;
            }
            continue;
        };
        let domain = &svc.config.mmsc.domain;
        let txid = transaction_id(&msg.id, &format!("fwd-{partner}"), domain);
        let to: Vec<Mm4Address> = rcpts
            .iter()
            .map(|r| Mm4Address::from_address(&r.address, &pcfg.domain))
            .collect();
        let mut fwd = ForwardReq::new(&txid, Mm4Address::from_address(&msg.from, domain), to);
        fwd.mms_version = Some(pcfg.mms_version(&svc.config).to_string());
        fwd.message_id = Some(mm4_message_id(&msg.id, domain));
        fwd.originator_system = Some(svc.config.originator_system());
        fwd.ack_request = pcfg.request_ack;
        fwd.date = Some(msg.received_at.unix_secs());
        fwd.subject = msg.subject.clone();
        fwd.delivery_report = req.delivery_report;
        fwd.read_reply = req.read_reply;
        fwd.message_class = req.message_class.as_deref().map(MessageClass::new);
        fwd.priority = req.priority.as_deref().map(Priority::new);
        fwd.expiry = msg.expires_at.map(|t| Expiry::Absolute(t.unix_secs()));
        fwd.vasp_id = Some(vasp.to_string());
        fwd.vas_id = req.sender_identification.vas_id.clone();
        fwd.service_code = req.service_code.clone();
        fwd.applic_id = req.applic_id.clone();
        fwd.reply_applic_id = req.reply_applic_id.clone();
        fwd.aux_applic_info = req.aux_applic_info.clone();
        fwd.forward_counter = Some(1);
        if let Some(c) = content {
            fwd.content_type = Some(c.content_type().to_string());
            if let Some(cte) = c.header("Content-Transfer-Encoding") {
                fwd.extra_headers
                    .push(("Content-Transfer-Encoding".into(), cte.to_string()));
            }
            fwd.body = c.body.clone();
        }
        let mail_from = envelope_address(&msg.from, domain);
        forward_to_partner(svc, msg, &partner, &pcfg.domain, &rcpts, fwd, mail_from).await?;
    }
    Ok(())
}

/// `ReplaceReq`: point the message at the new request's content (the front checked
/// ownership; checked again here, since the job may run long after).
async fn replace(
    svc: &Services,
    vasp: &str,
    object_key: &str,
    msg: &Mm7Message,
    req: &ReplaceReq,
) -> Result<(), HandlerError> {
    let records = svc.records();
    let id = MessageId(req.message_id.trim().to_string());
    for _ in 0..16 {
        let Some((mut m, version)) = records.message(&id).await? else {
            return Err(HandlerError::Permanent(format!(
                "replace of unknown message {id}"
            )));
        };
        if !matches!(&m.origin, Origin::Mm7 { vasp: v } if v == vasp) {
            return Err(HandlerError::Permanent(format!(
                "VASP {vasp} may not replace message {id}"
            )));
        }
        if m.content_key == object_key {
            return Ok(()); // already applied
        }
        m.content_key = object_key.to_string();
        if let Some(c) = msg.content().ok().flatten() {
            m.content_type = Some(c.content_type().to_string());
            m.size = c.body.len() as u64;
        }
        let ttl = records.ttl_for(&m);
        let value = serde_json::to_vec(&m).unwrap_or_default();
        match svc
            .state
            .update(
                &Key::new(message_pk(&id), "meta"),
                version,
                &value,
                Some(ttl),
            )
            .await
        {
            Ok(_) => {
                records
                    .event(
                        &m,
                        "replaced",
                        None,
                        format!("content replaced by VASP {vasp} (MM7 ReplaceReq)"),
                    )
                    .await?;
                info!(message_id = %id, "MM7 replace applied");
                return Ok(());
            }
            Err(e) if e.is_conflict() => continue,
            Err(e) => return Err(HandlerError::Transient(e.to_string())),
        }
    }
    warn!(message_id = %id, "replace lost every compare-and-set race");
    Err(HandlerError::Transient(format!(
        "contention replacing {id}"
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_mm7_times() {
        assert_eq!(parse_duration("P90D"), Some(90 * 86_400));
        assert_eq!(parse_duration("PT1H30M"), Some(5_400));
        assert_eq!(parse_duration("P1DT1S"), Some(86_401));
        assert_eq!(parse_duration("P"), None);
        assert_eq!(parse_duration("90D"), None);
        assert_eq!(parse_duration("P1X"), None);
        assert_eq!(parse_datetime("1970-01-01T00:01:00Z"), Some(60));
        assert_eq!(parse_datetime("1970-01-01T01:00:00+01:00"), Some(0));
        assert_eq!(
            parse_datetime("2002-01-02T09:30:47-05:00"),
            Some(1_009_981_847)
        );
        assert_eq!(parse_datetime("yesterday"), None);
    }

    #[test]
    fn splits_stored_entities_and_keys() {
        let (ct, body) = split_entity(b"Content-Type: text/xml\r\n\r\n<a/>");
        assert_eq!((ct.as_str(), body), ("text/xml", &b"<a/>"[..]));
        let id = MessageId::generate();
        assert_eq!(
            id_from_key(&format!("in/mm7/d1/{id}.mm7")),
            Some(id.clone())
        );
        assert_eq!(
            id_from_key(&format!("in/mm7/d1/{id}.replace-x.mm7")),
            Some(id)
        );
        assert_eq!(id_from_key("in/mm7/d1/nope.mm7"), None);
    }
}

#[cfg(test)]
#[path = "mm7_tests.rs"]
mod flow_tests;
