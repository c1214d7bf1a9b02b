//! `mm1-notify`: tells a local subscriber's handset a message waits, by an
//! m-notification.ind pushed through the PPG, re-notifies with backoff while the
//! handset does not fetch, and expires the recipient after the message's expiry.
//! Before the first notification it prepares the recipient's m-retrieve.conf (the
//! HTTP front serves it as stored). It also pushes reports to MM1 originators
//! (m-delivery.ind, m-read-orig.ind).

use super::content::{self, MmsContent};
use super::pap::{self, PushError, PushRequest};
use super::{Mm1Delivery, content_location, delivery_key, delivery_of, location_key};
use crate::codec::mm1::{
    Codec, EncodedString, FromValue, MDeliveryInd, MNotificationInd, MReadOrigInd, MRetrieveConf,
    MessageClass, MmsAddress, MmsVersion, Pdu, Priority, ReadStatus, Status, TimeValue, YesNo,
};
use crate::codec::mm4::{Mm4Pdu, MmStatus};
use crate::domain::{
    Direction, Job, MessageId, MessageRecord, RecipientRecord, RecipientState, Timestamp,
};
use crate::handlers::{HandlerError, Services, ingest};
use std::time::Duration;
use tracing::{info, warn};

/// Longest delay of a queued job (the SQS limit): longer waits are re-checked.
const MAX_DELAY: Duration = Duration::from_secs(900);

/// The MMS version of the PDUs we build for handsets.
pub const VERSION: MmsVersion = MmsVersion::V1_2;

/// What a handset is shown of a stored message.
#[derive(Debug, Clone)]
pub struct Loaded {
    pub content: MmsContent,
    pub to: Vec<MmsAddress>,
    pub cc: Vec<MmsAddress>,
    pub message_class: Option<MessageClass>,
    pub priority: Option<Priority>,
}

fn mm4_priority(p: &crate::codec::mm4::Priority) -> Option<Priority> {
    match p.as_str().to_ascii_lowercase().as_str() {
        "low" => Some(Priority::LOW),
        "normal" => Some(Priority::NORMAL),
        "high" => Some(Priority::HIGH),
        _ => None,
    }
}

fn mm4_class(c: &crate::codec::mm4::MessageClass) -> MessageClass {
    match c.as_str().to_ascii_lowercase().as_str() {
        "personal" => MessageClass::PERSONAL,
        "advertisement" => MessageClass::ADVERTISEMENT,
        "informational" => MessageClass::INFORMATIONAL,
        "auto" => MessageClass::AUTO,
        other => MessageClass::Token(other.to_string()),
    }
}

/// Reads the stored raw PDU of a message, whatever interface brought it: an MM1
/// m-send.req, an MM4 forward.REQ, or (MM7) a MIME multipart whose SOAP envelope
/// is skipped.
pub fn load_raw(raw: &[u8]) -> Result<Loaded, String> {
    if raw.first() == Some(&0x8C) {
        return match Pdu::from_bytes(raw).map_err(|e| e.to_string())? {
            Pdu::SendReq(req) => Ok(Loaded {
                content: content::from_wsp(&req.content_type, &req.body),
                to: req.to,
                cc: req.cc,
                message_class: req.message_class,
                priority: req.priority,
            }),
            other => Err(format!(
                "stored MM1 PDU is {} and carries no message",
                other.message_type()
            )),
        };
    }
    if let Ok(Mm4Pdu::ForwardReq(req)) = Mm4Pdu::parse(raw) {
        let content = content::from_mime(&req.content_entity()).map_err(|e| e.to_string())?;
        let addr = |a: &crate::codec::mm4::Mm4Address| match a.address() {
            Some(ad) => MmsAddress::from_address(ad),
            None => MmsAddress::new(&a.raw),
        };
        return Ok(Loaded {
            content,
            to: req.to.iter().map(addr).collect(),
            cc: req.cc.iter().map(addr).collect(),
            message_class: req.message_class.as_ref().map(mm4_class),
            priority: req.priority.as_ref().and_then(mm4_priority),
        });
    }
    let mut content = content::from_mime(raw).map_err(|e| e.to_string())?;
    content
        .parts
        .retain(|p| !(p.media.ends_with("/xml") && p.data.windows(8).any(|w| w == b"Envelope")));
    if content.parts.is_empty() {
        return Err("stored content has no parts".into());
    }
    Ok(Loaded {
        content,
        to: vec![],
        cc: vec![],
        message_class: None,
        priority: None,
    })
}

async fn load(svc: &Services, msg: &MessageRecord) -> Result<Loaded, HandlerError> {
    let raw = svc.objects.get(&msg.content_key).await?.ok_or_else(|| {
        HandlerError::Permanent(format!(
            "content {} of {} is missing",
            msg.content_key, msg.id
        ))
    })?;
    load_raw(&raw).map_err(|e| HandlerError::Permanent(format!("content of {}: {e}", msg.id)))
}

fn expiry_of(svc: &Services, msg: &MessageRecord) -> Timestamp {
    svc.records().expiry_of(msg)
}

/// The m-retrieve.conf of one recipient.
pub fn retrieve_conf(
    msg: &MessageRecord,
    loaded: &Loaded,
    token: &str,
    recipient: &RecipientRecord,
) -> Result<Vec<u8>, String> {
    let (ct, body) = content::to_wsp(&loaded.content);
    let mut conf = MRetrieveConf::new(VERSION, msg.received_at.unix_secs().max(0) as u64, ct, body)
        .with_transaction_id(token.to_string())
        .with_message_id(msg.id.to_string())
        .with_from(FromValue::Address(MmsAddress::from_address(&msg.from)))
        .with_delivery_report(YesNo::from(msg.delivery_report))
        .with_read_report(YesNo::from(msg.read_report));
    conf.to = loaded.to.clone();
    conf.cc = loaded.cc.clone();
    if conf.to.is_empty() && conf.cc.is_empty() {
        conf.to.push(MmsAddress::from_address(&recipient.address));
    }
    if let Some(s) = &msg.subject {
        conf = conf.with_subject(EncodedString::text(s));
    }
    if let Some(c) = &loaded.message_class {
        conf = conf.with_message_class(c.clone());
    }
    if let Some(p) = loaded.priority {
        conf = conf.with_priority(p);
    }
    conf.to_bytes().map_err(|e| e.to_string())
}

/// The recipient's delivery record, created with a fresh token (and its
/// m-retrieve.conf stored) on first use.
async fn ensure_delivery(
    svc: &Services,
    msg: &MessageRecord,
    r: &RecipientRecord,
    msisdn: &str,
) -> Result<Mm1Delivery, HandlerError> {
    let records = svc.records();
    let ttl = Some(records.ttl_for(msg));
    let d = match delivery_of(svc.state.as_ref(), &msg.id, r.index).await? {
        Some(d) => d,
        None => {
            let token = uuid::Uuid::new_v4().simple().to_string();
            let mut loaded = load(svc, msg).await?;
            if svc.config.mm1.image_max_bytes > 0 {
                let cfg = svc.config.mm1.clone();
                let mut content = loaded.content;
                let (content, notes) = tokio::task::spawn_blocking(move || {
                    let notes = super::adapt::adapt(&mut content, &cfg);
                    (content, notes)
                })
                .await
                .map_err(|e| HandlerError::Transient(format!("adaptation task: {e}")))?;
                loaded.content = content;
                if !notes.is_empty() {
                    svc.records()
                        .event(msg, "adapted", Some(r.address.redacted()), notes.join("; "))
                        .await?;
                }
            }
            let bytes = retrieve_conf(msg, &loaded, &token, r)
                .map_err(|e| HandlerError::Permanent(format!("building m-retrieve.conf: {e}")))?;
            let retrieve_key = format!("out/mm1/{}/{:05}-{token}.mms", msg.id, r.index);
            svc.objects
                .put(
                    &retrieve_key,
                    bytes.into(),
                    crate::codec::mm1::MMS_MESSAGE_CONTENT_TYPE,
                )
                .await?;
            let d = Mm1Delivery {
                message_id: msg.id.clone(),
                recipient: r.index,
                msisdn: msisdn.to_string(),
                token,
                retrieve_key,
                notifications: 0,
                next_notify_at: None,
                expires_at: expiry_of(svc, msg),
            };
            let json = serde_json::to_vec(&d).unwrap_or_default();
            match svc
                .state
                .create(&delivery_key(&msg.id, r.index), &json, ttl)
                .await
            {
                Ok(_) => d,
                Err(e) if e.is_conflict() => delivery_of(svc.state.as_ref(), &msg.id, r.index)
                    .await?
                    .ok_or_else(|| HandlerError::Transient("delivery record vanished".into()))?,
                Err(e) => return Err(HandlerError::Transient(e.to_string())),
            }
        }
    };
    // Idempotent: (re)written on every run so a crash between the two writes heals.
    let json = serde_json::to_vec(&d).unwrap_or_default();
    svc.state
        .put(&location_key(&d.token), &json, ttl)
        .await
        .map_err(|e| HandlerError::Transient(e.to_string()))?;
    Ok(d)
}

async fn requeue(
    svc: &Services,
    id: &MessageId,
    index: u32,
    after: Duration,
) -> Result<(), HandlerError> {
    let job = Job::Mm1Notify {
        message_id: id.clone(),
        recipient: index,
    };
    svc.queue
        .send(job.queue(), &job.to_bytes(), after.min(MAX_DELAY))
        .await?;
    Ok(())
}

fn until(now: Timestamp, t: Timestamp) -> Duration {
    Duration::from_millis(u64::try_from(t.millis() - now.millis()).unwrap_or(0))
}

/// The `mm1-notify` job for recipient `index` of message `id`.
pub async fn notify(svc: &Services, id: &MessageId, index: u32) -> Result<(), HandlerError> {
    let records = svc.records();
    let Some((msg, _)) = records.message(id).await? else {
        return Err(HandlerError::Permanent(format!("no message {id}")));
    };
    // `ingest` queues this job just before it records the route (so a crash in
    // between cannot lose the notification): give it a moment to finish.
    let mut waited = 0;
    let r = loop {
        let Some(r) = records.recipient(id, index).await? else {
            return Err(HandlerError::Permanent(format!(
                "message {id} has no recipient #{index}"
            )));
        };
        if r.state != RecipientState::Accepted {
            break r;
        }
        if waited >= 20 {
            return Err(HandlerError::Transient(format!(
                "recipient #{index} of {id} is not routed yet"
            )));
        }
        waited += 1;
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    if r.state.is_terminal() || r.state == RecipientState::Retrieved {
        return Ok(());
    }
    if r.direction != Some(Direction::Local) {
        warn!(message_id = %id, index, "mm1-notify for a recipient that is not local; ignored");
        return Ok(());
    }
    let now = svc.clock.now();
    let expires = expiry_of(svc, &msg);
    if now >= expires {
        info!(message_id = %id, index, "not retrieved before expiry");
        return ingest::recipient_event(
            svc,
            id,
            index,
            RecipientState::Expired,
            Some("not retrieved before the message expired"),
        )
        .await;
    }
    let Some(msisdn) = r.address.e164().map(str::to_string) else {
        return ingest::recipient_event(
            svc,
            id,
            index,
            RecipientState::Failed,
            Some("local recipient without a phone number"),
        )
        .await;
    };
    let d = match ensure_delivery(svc, &msg, &r, &msisdn).await {
        Ok(d) => d,
        Err(HandlerError::Permanent(why)) => {
            return ingest::recipient_event(svc, id, index, RecipientState::Failed, Some(&why))
                .await;
        }
        Err(e) => return Err(e),
    };
    let cfg = &svc.config.mm1;
    if let Some(next) = d.next_notify_at
        && now < next
    {
        return requeue(svc, id, index, until(now, next).min(until(now, expires))).await;
    }
    if d.notifications >= cfg.renotify_limit {
        // Enough notifications: wait for a fetch or the expiry.
        return requeue(svc, id, index, until(now, expires)).await;
    }
    let size = match svc.objects.get(&d.retrieve_key).await? {
        Some(b) => b.len() as u64,
        None => msg.size,
    };
    let mut ind = MNotificationInd::new(
        d.token.clone(),
        VERSION,
        MessageClass::PERSONAL,
        size,
        TimeValue::Absolute(expires.unix_secs().max(0) as u64),
        content_location(&svc.config, &d.token),
    )
    .with_from(FromValue::Address(MmsAddress::from_address(&msg.from)))
    .with_delivery_report(YesNo::from(msg.delivery_report));
    if let Some(s) = &msg.subject {
        ind = ind.with_subject(EncodedString::text(s));
    }
    let pdu = ind
        .to_bytes()
        .map_err(|e| HandlerError::Permanent(format!("encoding m-notification.ind: {e}")))?;
    let push_id = format!(
        "{}.n{}@{}",
        d.token, d.notifications, svc.config.mmsc.domain
    );
    let push = PushRequest {
        push_id: &push_id,
        msisdn: &msisdn,
        content: &pdu,
        deliver_before: Some(expires.unix_secs()),
    };
    match pap::submit(&svc.config.wap_push, &push).await {
        Ok(code) => {
            info!(message_id = %id, index, code, count = d.notifications + 1, "m-notification.ind pushed");
        }
        Err(PushError::NotConfigured) => {
            records
                .event(
                    &msg,
                    "notification-not-sent",
                    Some(r.address.redacted()),
                    "no PPG configured (wap_push.pap_url); the handset can still fetch the content location",
                )
                .await?;
            return Ok(());
        }
        Err(PushError::Refused(why)) => {
            return ingest::recipient_event(
                svc,
                id,
                index,
                RecipientState::Failed,
                Some(&format!("notification refused by the PPG: {why}")),
            )
            .await;
        }
        Err(e @ PushError::Unavailable(_)) => return Err(HandlerError::Transient(e.to_string())),
    }
    let count = d.notifications + 1;
    let backoff =
        Duration::from_secs(cfg.renotify_initial_secs).saturating_mul(1u32 << (count - 1).min(16));
    let next = now.plus(backoff);
    let updated = Mm1Delivery {
        notifications: count,
        next_notify_at: Some(next),
        ..d
    };
    svc.state
        .put(
            &delivery_key(id, index),
            &serde_json::to_vec(&updated).unwrap_or_default(),
            Some(records.ttl_for(&msg)),
        )
        .await
        .map_err(|e| HandlerError::Transient(e.to_string()))?;
    let changed = records
        .update_recipient(&msg, index, |rec| {
            Ok::<bool, ()>(
                rec.advance(
                    RecipientState::Notified,
                    Some(format!("notified by WAP Push ({count})")),
                    now,
                )
                .is_ok(),
            )
        })
        .await?;
    if matches!(changed, Ok((_, true))) {
        records
            .event(
                &msg,
                "notified",
                Some(r.address.redacted()),
                format!("m-notification.ind #{count} pushed"),
            )
            .await?;
    }
    records.refresh_state(id).await?;
    let wait = if count >= cfg.renotify_limit {
        until(now, expires)
    } else {
        backoff.min(until(now, expires))
    };
    requeue(svc, id, index, wait).await
}

/// Stores an MM1 PDU for `msisdn` and queues its push.
async fn queue_push(
    svc: &Services,
    msisdn: &str,
    message_id: &MessageId,
    name: &str,
    pdu: Vec<u8>,
) -> Result<(), HandlerError> {
    let object_key = format!("out/mm1/{message_id}/{name}.mms");
    svc.objects
        .put(
            &object_key,
            pdu.into(),
            crate::codec::mm1::MMS_MESSAGE_CONTENT_TYPE,
        )
        .await?;
    let job = Job::Mm1Push {
        msisdn: msisdn.to_string(),
        object_key,
        message_id: message_id.clone(),
    };
    svc.queue
        .send(job.queue(), &job.to_bytes(), Duration::ZERO)
        .await?;
    Ok(())
}

/// The `mm1-push` job: pushes a stored PDU (a report) to a handset.
pub async fn push_stored(
    svc: &Services,
    msisdn: &str,
    object_key: &str,
    message_id: &MessageId,
) -> Result<(), HandlerError> {
    let Some(pdu) = svc.objects.get(object_key).await? else {
        return Err(HandlerError::Permanent(format!("{object_key} is missing")));
    };
    let push_id = format!(
        "{}@{}",
        object_key.rsplit('/').next().unwrap_or(object_key),
        svc.config.mmsc.domain
    );
    let push = PushRequest {
        push_id: &push_id,
        msisdn,
        content: &pdu,
        deliver_before: None,
    };
    let records = svc.records();
    let outcome = pap::submit(&svc.config.wap_push, &push).await;
    let detail = match &outcome {
        Ok(code) => format!("pushed {object_key} (PAP {code})"),
        Err(PushError::Unavailable(e)) => return Err(HandlerError::Transient(e.clone())),
        Err(e) => format!("not pushed: {e}"),
    };
    if let Some((msg, _)) = records.message(message_id).await? {
        records.event(&msg, "report-pushed", None, detail).await?;
    }
    Ok(())
}

fn mm1_status(s: &MmStatus) -> Status {
    match s.as_str() {
        "Retrieved" => Status::RETRIEVED,
        "Rejected" => Status::REJECTED,
        "Expired" => Status::EXPIRED,
        "Deferred" => Status::DEFERRED,
        "Forwarded" => Status::FORWARDED,
        "Indeterminate" => Status::INDETERMINATE,
        _ => Status::UNRECOGNISED,
    }
}

/// m-delivery.ind about recipient `r` to the MM1 originator of `msg` (the caller
/// has checked that a report was asked for).
pub async fn delivery_report(
    svc: &Services,
    msg: &MessageRecord,
    r: &RecipientRecord,
    status: &MmStatus,
    text: &str,
) -> Result<(), HandlerError> {
    let Some(msisdn) = msg.from.e164() else {
        return Ok(());
    };
    let mut ind = MDeliveryInd::new(
        VERSION,
        msg.id.to_string(),
        MmsAddress::from_address(&r.address),
        svc.clock.now().unix_secs().max(0) as u64,
        mm1_status(status),
    );
    if !text.is_empty() {
        ind = ind.with_status_text(EncodedString::text(text));
    }
    let pdu = ind
        .to_bytes()
        .map_err(|e| HandlerError::Permanent(format!("encoding m-delivery.ind: {e}")))?;
    let name = format!("dr-{:05}-{}", r.index, status.as_str().to_ascii_lowercase());
    queue_push(svc, msisdn, &msg.id, &name, pdu).await?;
    svc.records()
        .event(
            msg,
            "delivery-report-queued",
            Some(r.address.redacted()),
            format!("m-delivery.ind {} to the MM1 originator", status.as_str()),
        )
        .await?;
    Ok(())
}

/// m-read-orig.ind to the MM1 originator of `msg`: `reader` read it (or not).
pub async fn read_report(
    svc: &Services,
    msg: &MessageRecord,
    reader: &RecipientRecord,
    status: ReadStatus,
) -> Result<(), HandlerError> {
    let Some(msisdn) = msg.from.e164() else {
        return Ok(());
    };
    let ind = MReadOrigInd::new(
        VERSION,
        msg.id.to_string(),
        MmsAddress::from_address(&msg.from),
        FromValue::Address(MmsAddress::from_address(&reader.address)),
        svc.clock.now().unix_secs().max(0) as u64,
        status,
    );
    let pdu = ind
        .to_bytes()
        .map_err(|e| HandlerError::Permanent(format!("encoding m-read-orig.ind: {e}")))?;
    queue_push(
        svc,
        msisdn,
        &msg.id,
        &format!("rr-{:05}", reader.index),
        pdu,
    )
    .await?;
    svc.records()
        .event(
            msg,
            "read-report-queued",
            Some(reader.address.redacted()),
            format!("m-read-orig.ind {status} to the MM1 originator"),
        )
        .await?;
    Ok(())
}
