//! `ingest` of MM1 PDUs the HTTP front stored: m-send.req (a new message),
//! m-forward.req (forward a message without downloading it) and m-read-rec.ind (a
//! read report from a recipient).
//!
//! A new message is recorded like an MM4 one and routed by the same code
//! (`ingest::route_recipients`): local recipients get an `mm1-notify` job, MM4
//! recipients an `MM4_forward.REQ` (built from the MM1 content with the MM4 codec),
//! VASP recipients an `mm7-out` job.

use super::content;
use super::notify;
use super::{delivery_by_token, msisdn_address, token_from_location};
use crate::codec::mm1::{
    Codec, MForwardReq, MReadRecInd, MSendReq, MmsAddress, Pdu, ReadStatus, TimeValue, YesNo,
};
use crate::codec::mm4::{self, Expiry, ForwardReq, Mm4Address, Mm4Pdu, ReadReplyReq};
use crate::domain::{
    Address, MessageId, MessageRecord, MessageState, Origin, OutboundPdu, RecipientRecord,
    Timestamp,
};
use crate::handlers::outbound::{self, envelope_address, send_mm4, system_address, transaction_id};
use crate::handlers::records::{AliasKind, AliasRecord, Claim};
use crate::handlers::{HandlerError, Services, ingest};
use std::time::Duration;
use tracing::{Instrument, info, info_span, warn};

/// Object key the front stores an MM1 PDU under; the id is the Message-ID it
/// promised the handset.
pub fn object_key(id: &MessageId) -> String {
    format!("in/mm1/{id}.mms")
}

fn id_from_key(key: &str) -> Option<MessageId> {
    let id = key.strip_prefix("in/mm1/")?.strip_suffix(".mms")?;
    MessageId::looks_like(id).then(|| MessageId(id.to_string()))
}

/// Handles an MM1 PDU posted by subscriber `msisdn`.
pub async fn ingest(
    svc: &Services,
    object_key: &str,
    msisdn: &str,
    received_at: Timestamp,
) -> Result<(), HandlerError> {
    let raw =
        svc.objects.get(object_key).await?.ok_or_else(|| {
            HandlerError::Permanent(format!("stored PDU {object_key} is missing"))
        })?;
    let pdu = Pdu::from_bytes(&raw)
        .map_err(|e| HandlerError::Permanent(format!("unparsable MM1 PDU from {msisdn}: {e}")))?;
    let cc = svc.config.mmsc.country_code.as_deref();
    let Some(from) = msisdn_address(msisdn, cc) else {
        return Err(HandlerError::Permanent(format!(
            "MM1 peer {msisdn:?} is not a phone number"
        )));
    };
    let id = id_from_key(object_key).unwrap_or_else(MessageId::generate);
    let span = info_span!(
        "pdu",
        interface = "mm1",
        pdu = %pdu.message_type(),
        transaction_id = pdu.transaction_id()
    );
    async {
        match pdu {
            Pdu::SendReq(req) => {
                send_req(
                    svc,
                    id,
                    object_key,
                    raw.len() as u64,
                    from,
                    received_at,
                    req,
                )
                .await
            }
            Pdu::ForwardReq(req) => forward_req(svc, id, from, received_at, req).await,
            Pdu::ReadRecInd(ind) => read_rec(svc, from, ind).await,
            other => Err(HandlerError::Permanent(format!(
                "{} is not handled by MM1 ingest",
                other.message_type()
            ))),
        }
    }
    .instrument(span)
    .await
}

/// What a new MM1 message is made of.
struct NewMessage<'a> {
    id: MessageId,
    from: Address,
    transaction_id: &'a str,
    content_key: String,
    content_type: Option<String>,
    size: u64,
    received_at: Timestamp,
    expiry: Option<TimeValue>,
    subject: Option<String>,
    delivery_report: bool,
    read_report: bool,
    recipients: Vec<&'a MmsAddress>,
    detail: String,
}

/// Records the message once (dedup by sender and Transaction-Id: a handset that
/// retried a submission it got no answer for must not send it twice).
async fn record(svc: &Services, n: NewMessage<'_>) -> Result<MessageRecord, HandlerError> {
    let records = svc.records();
    let now = svc.clock.now();
    let cc = svc.config.mmsc.country_code.as_deref();
    let dedup_key = format!("mm1#{}#{}", n.from.key(), n.transaction_id);
    let dedup_ttl = now.plus(Duration::from_secs(svc.config.mmsc.retention_secs));
    let claim = records
        .claim(
            AliasKind::Dedup,
            &dedup_key,
            &AliasRecord {
                message_id: n.id.clone(),
                recipients: vec![],
            },
            dedup_ttl,
        )
        .await?;
    let id = match claim {
        Claim::New => n.id.clone(),
        Claim::Existing(a) => {
            info!(message_id = %a.message_id, "repeated MM1 submission; resuming the message already recorded");
            a.message_id
        }
    };
    if let Some((m, _)) = records.message(&id).await? {
        return Ok(m);
    }
    let mut addrs: Vec<Address> = Vec::new();
    for a in &n.recipients {
        match a.to_address(cc) {
            Ok(ad) if !addrs.iter().any(|x| x.key() == ad.key()) => addrs.push(ad),
            Ok(_) => {}
            Err(e) => warn!(error = %e, "skipping an unusable MM1 recipient address"),
        }
    }
    let expires_at = Some(match n.expiry {
        Some(TimeValue::Absolute(t)) => Timestamp::from_unix_secs(t.min(i64::MAX as u64) as i64),
        Some(TimeValue::Relative(s)) => n.received_at.plus(Duration::from_secs(s)),
        None => n
            .received_at
            .plus(Duration::from_secs(svc.config.mmsc.default_expiry_secs)),
    });
    let m = MessageRecord {
        id: id.clone(),
        origin: Origin::Mm1 {
            msisdn: n.from.key().to_string(),
        },
        peer_message_id: None,
        peer_transaction_id: Some(n.transaction_id.to_string()),
        from: n.from.clone(),
        subject: n.subject,
        content_key: n.content_key,
        content_type: n.content_type,
        size: n.size,
        received_at: n.received_at,
        expires_at,
        delivery_report: n.delivery_report,
        read_report: n.read_report,
        state: MessageState::Accepted,
        recipient_count: addrs.len() as u32,
    };
    let rcpts: Vec<RecipientRecord> = addrs
        .into_iter()
        .enumerate()
        .map(|(i, address)| RecipientRecord::accepted(&id, i as u32, address, now))
        .collect();
    records.create_message(&m, &rcpts).await?;
    let ttl = records.ttl_for(&m);
    records
        .set_alias(
            AliasKind::PeerTransaction,
            &dedup_key,
            &AliasRecord {
                message_id: id.clone(),
                recipients: vec![],
            },
            ttl,
        )
        .await?;
    records.event(&m, "received", None, n.detail).await?;
    info!(message_id = %id, recipients = m.recipient_count, size = m.size, "MM1 message accepted");
    Ok(m)
}

fn mm4_address(a: &MmsAddress, cc: Option<&str>) -> Mm4Address {
    match a.to_address(cc) {
        Ok(ad) => Mm4Address::parse(ad.to_mm4("").trim_end_matches('@')),
        Err(_) => Mm4Address::parse(&a.as_text()),
    }
}

/// The MM4 form of an MM1 message, for recipients served by partners.
fn mm4_form(
    svc: &Services,
    msg: &MessageRecord,
    to: &[MmsAddress],
    cc_list: &[MmsAddress],
    content: &content::MmsContent,
) -> ForwardReq {
    let domain = &svc.config.mmsc.domain;
    let cc = svc.config.mmsc.country_code.as_deref();
    let mut f = ForwardReq::new(
        transaction_id(&msg.id, "submit", domain),
        Mm4Address::from_address(&msg.from, domain),
        to.iter().map(|a| mm4_address(a, cc)).collect(),
    );
    f.cc = cc_list.iter().map(|a| mm4_address(a, cc)).collect();
    f.message_id = Some(outbound::mm4_message_id(&msg.id, domain));
    f.subject = msg.subject.clone();
    f.date = Some(msg.received_at.unix_secs());
    f.delivery_report = Some(msg.delivery_report);
    f.read_reply = Some(msg.read_report);
    f.expiry = msg.expires_at.map(|t| Expiry::Absolute(t.unix_secs()));
    let (ct, body) = content::to_mime(content, &format!("mm1-{}", msg.id));
    f.content_type = Some(ct);
    f.body = body;
    f
}

/// m-send.req: record, then route every recipient.
async fn send_req(
    svc: &Services,
    id: MessageId,
    object_key: &str,
    size: u64,
    from: Address,
    received_at: Timestamp,
    req: MSendReq,
) -> Result<(), HandlerError> {
    let detail = format!("m-send.req from {}, {size} bytes", from.redacted());
    let msg = record(
        svc,
        NewMessage {
            id,
            from,
            transaction_id: &req.transaction_id,
            content_key: object_key.to_string(),
            content_type: Some(req.content_type.to_string()),
            size,
            received_at,
            expiry: req.expiry,
            subject: req.subject.as_ref().map(|s| s.to_string_lossy()),
            delivery_report: req.delivery_report.is_some_and(YesNo::is_yes),
            read_report: req.read_report.is_some_and(YesNo::is_yes),
            recipients: req.to.iter().chain(&req.cc).chain(&req.bcc).collect(),
            detail,
        },
    )
    .await?;
    if ingest::charge_or_reject(svc, &msg, None, false).await? {
        svc.records().refresh_state(&msg.id).await?;
        return Ok(());
    }
    let content = content::from_wsp(&req.content_type, &req.body);
    let fwd = mm4_form(svc, &msg, &req.to, &req.cc, &content);
    ingest::route_recipients(svc, &msg, &fwd, "").await?;
    svc.records().refresh_state(&msg.id).await?;
    Ok(())
}

/// m-forward.req: a recipient forwards a message it was notified of.
async fn forward_req(
    svc: &Services,
    id: MessageId,
    from: Address,
    received_at: Timestamp,
    req: MForwardReq,
) -> Result<(), HandlerError> {
    let records = svc.records();
    let token = token_from_location(&req.content_location).ok_or_else(|| {
        HandlerError::Permanent("m-forward.req names a content location we did not issue".into())
    })?;
    let d = delivery_by_token(svc.state.as_ref(), token)
        .await?
        .filter(|d| d.msisdn == from.key())
        .ok_or_else(|| {
            HandlerError::Permanent(
                "m-forward.req for a message that is not the sender's to forward".into(),
            )
        })?;
    let Some((orig, _)) = records.message(&d.message_id).await? else {
        return Err(HandlerError::Permanent(format!(
            "forwarded message {} has expired",
            d.message_id
        )));
    };
    let detail = format!(
        "m-forward.req from {} of message {}",
        from.redacted(),
        orig.id
    );
    let msg = record(
        svc,
        NewMessage {
            id,
            from: from.clone(),
            transaction_id: &req.transaction_id,
            content_key: orig.content_key.clone(),
            content_type: orig.content_type.clone(),
            size: orig.size,
            received_at,
            expiry: req.expiry,
            subject: orig.subject.clone(),
            delivery_report: req.delivery_report.is_some_and(YesNo::is_yes),
            read_report: req.read_report.is_some_and(YesNo::is_yes),
            recipients: req.to.iter().chain(&req.cc).chain(&req.bcc).collect(),
            detail,
        },
    )
    .await?;
    if ingest::charge_or_reject(svc, &msg, None, false).await? {
        records.refresh_state(&msg.id).await?;
        return Ok(());
    }
    let raw = svc
        .objects
        .get(&orig.content_key)
        .await?
        .ok_or_else(|| HandlerError::Permanent(format!("content of {} is missing", orig.id)))?;
    let loaded = notify::load_raw(&raw).map_err(HandlerError::Permanent)?;
    let mut fwd = mm4_form(svc, &msg, &req.to, &req.cc, &loaded.content);
    fwd.previously_sent_by
        .push(orig.from.to_mm4(&svc.config.mmsc.domain));
    fwd.previously_sent_date.push(orig.received_at.unix_secs());
    ingest::route_recipients(svc, &msg, &fwd, "").await?;
    records.refresh_state(&msg.id).await?;
    records
        .event(
            &orig,
            "forwarded-by-recipient",
            Some(from.redacted()),
            format!("forwarded without download as message {}", msg.id),
        )
        .await?;
    Ok(())
}

/// m-read-rec.ind: relay a recipient's read report to the originator.
async fn read_rec(svc: &Services, from: Address, ind: MReadRecInd) -> Result<(), HandlerError> {
    let records = svc.records();
    let Some(mid) = records.resolve(&ind.message_id).await? else {
        warn!("read report for an unknown message; dropped");
        return Ok(());
    };
    let Some(view) = records.load(&mid).await? else {
        return Ok(());
    };
    let msg = view.message;
    let Some(reader) = view
        .recipients
        .into_iter()
        .find(|r| r.address.key() == from.key())
    else {
        warn!(message_id = %mid, "read report from someone who is not a recipient; dropped");
        return Ok(());
    };
    let status = if ind.read_status == ReadStatus::READ {
        "Read"
    } else {
        "Deleted without being read"
    };
    records
        .event(
            &msg,
            "read-report",
            Some(reader.address.redacted()),
            format!("m-read-rec.ind: {status}"),
        )
        .await?;
    if !msg.read_report {
        return Ok(());
    }
    match &msg.origin {
        Origin::Mm1 { .. } => notify::read_report(svc, &msg, &reader, ind.read_status).await,
        Origin::Mm4 { partner } => {
            let Some(pcfg) = svc.config.partner(partner) else {
                return Ok(());
            };
            let domain = &svc.config.mmsc.domain;
            let txid = transaction_id(&msg.id, &format!("rr-{}", reader.index), domain);
            let mut rr = ReadReplyReq::new(
                &txid,
                msg.peer_message_id
                    .clone()
                    .unwrap_or_else(|| outbound::mm4_message_id(&msg.id, domain)),
                Mm4Address::from_address(&reader.address, domain),
                Mm4Address::from_address(&msg.from, &pcfg.domain),
                mm4::ReadStatus::new(status),
                svc.clock.now().unix_secs(),
            );
            rr.mms_version = Some(pcfg.mms_version(&svc.config).to_string());
            rr.ack_request = pcfg.request_ack;
            rr.originator_system = Some(system_address(svc));
            let rcpt = envelope_address(&msg.from, msg.from.domain().unwrap_or(&pcfg.domain));
            records
                .note_our_transaction(&txid, &msg, vec![reader.index])
                .await?;
            send_mm4(
                svc,
                partner,
                system_address(svc),
                vec![rcpt],
                OutboundPdu::ReadReplyReq {
                    transaction_id: txid,
                    message_id: Some(msg.id.clone()),
                },
                Mm4Pdu::ReadReplyReq(rr).to_bytes(),
            )
            .await?;
            records
                .event(
                    &msg,
                    "read-report-relayed",
                    None,
                    format!("MM4_read_reply_report.REQ to partner {partner}"),
                )
                .await?;
            Ok(())
        }
        Origin::Mm7 { vasp } => {
            // As for MM4 read reports: an MM7 ReadReplyReq to the VASP that asked.
            crate::handlers::mm7_out::read_reply_to_vasp(
                svc,
                vasp,
                &msg,
                Some(&reader.address),
                status,
                None,
            )
            .await
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn derives_the_message_id_from_the_object_key() {
        let id = MessageId::generate();
        assert_eq!(id_from_key(&object_key(&id)), Some(id));
        assert_eq!(id_from_key("in/mm1/../x.mms"), None);
        assert_eq!(id_from_key("in/mm4/abc.eml"), None);
    }
}
