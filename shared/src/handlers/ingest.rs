//! `ingest`: parse a stored PDU, dedup, record, route, and dispatch by PDU type; and
//! recipient events (local retrieval/delivery) that lead to reports.

use super::outbound::{
    self, ack_route, envelope_address, send_mm4, system_address, transaction_id,
};
use super::records::{AliasKind, AliasRecord, Claim};
use super::{HandlerError, Services};
use crate::codec::mm4::{
    DeliveryReportReq, DeliveryReportRes, ForwardReq, ForwardRes, Mm4Address, Mm4Pdu, MmStatus,
    ReadReplyReq, ReadReplyRes, RequestStatus,
};
use crate::domain::{
    Address, Direction, MessageId, MessageRecord, MessageState, Origin, OutboundPdu,
    RecipientRecord, RecipientState, Timestamp,
};
use crate::routing::Route;
use std::collections::BTreeMap;
use std::time::Duration;
use tracing::{Instrument, info, info_span, warn};

/// A message that has crossed this many MMSCs is refused (loop protection).
pub const MAX_FORWARD_COUNTER: u32 = 10;

/// How long a job may wait for its stored PDU. A front stores the PDU and queues the job
/// at the same time and answers the peer only when both succeeded, so a worker can see
/// the job a moment before the object; and when the store failed (the peer was told to
/// retry) the job is left behind with no object. Within the grace a missing object is a
/// temporary failure; after it, the job is an orphan of a refused submission and dropped.
pub const MISSING_OBJECT_GRACE: Duration = Duration::from_secs(300);

pub(crate) fn missing_object(
    svc: &Services,
    object_key: &str,
    received_at: Timestamp,
) -> HandlerError {
    let age = svc.clock.now().since(received_at);
    if age < MISSING_OBJECT_GRACE {
        HandlerError::Transient(format!(
            "stored PDU {object_key} is not visible yet ({} ms after receipt)",
            age.as_millis()
        ))
    } else {
        warn!(
            object_key,
            "dropping an ingest job whose PDU was never stored (the peer was refused)"
        );
        HandlerError::Permanent(format!("stored PDU {object_key} is missing"))
    }
}

/// Handles a PDU received from MM4 partner `partner`.
pub async fn mm4(
    svc: &Services,
    object_key: &str,
    partner: &str,
    rcpt_to: &[String],
    received_at: Timestamp,
) -> Result<(), HandlerError> {
    let Some(raw) = svc.objects.get(object_key).await? else {
        return Err(missing_object(svc, object_key, received_at));
    };
    let pdu = match Mm4Pdu::parse(&raw) {
        Ok(p) => p,
        Err(e) => {
            warn!(partner, object_key, error = %e, "rejecting an unparsable MM4 PDU");
            return Err(HandlerError::Permanent(format!(
                "unparsable MM4 PDU from {partner}: {e}"
            )));
        }
    };
    let span = info_span!(
        "pdu",
        partner,
        pdu = pdu.message_type().as_str(),
        transaction_id = pdu.transaction_id()
    );
    async {
        match pdu {
            Mm4Pdu::ForwardReq(req) => {
                forward_req(
                    svc,
                    partner,
                    object_key,
                    raw.len() as u64,
                    rcpt_to,
                    received_at,
                    req,
                )
                .await
            }
            Mm4Pdu::ForwardRes(res) => forward_res(svc, partner, res).await,
            Mm4Pdu::DeliveryReportReq(req) => delivery_report_req(svc, partner, req).await,
            Mm4Pdu::ReadReplyReq(req) => read_reply_req(svc, partner, req).await,
            Mm4Pdu::DeliveryReportRes(res) => {
                report_res(
                    svc,
                    partner,
                    &res.transaction_id,
                    &res.request_status,
                    "delivery-report-res",
                )
                .await
            }
            Mm4Pdu::ReadReplyRes(res) => {
                report_res(
                    svc,
                    partner,
                    &res.transaction_id,
                    &res.request_status,
                    "read-reply-res",
                )
                .await
            }
        }
    }
    .instrument(span)
    .await
}

fn address_of(a: &Mm4Address, cc: Option<&str>) -> Option<Address> {
    a.address()
        .cloned()
        .or_else(|| Address::parse_with(&a.raw, cc).ok())
}

/// `MM4_forward.REQ`: a message for our subscribers, or in transit to another partner.
async fn forward_req(
    svc: &Services,
    partner: &str,
    object_key: &str,
    size: u64,
    rcpt_to: &[String],
    received_at: Timestamp,
    req: ForwardReq,
) -> Result<(), HandlerError> {
    let records = svc.records();
    let cc = svc.config.mmsc.country_code.as_deref();
    let now = svc.clock.now();

    // Dedup by (partner, transaction id): a partner retransmitting a request it got no
    // answer for must not create a second message.
    let fresh = MessageId::generate();
    let dedup_key = format!("mm4#{partner}#{}", req.transaction_id);
    let dedup_ttl = now.plus(Duration::from_secs(svc.config.mmsc.retention_secs));
    let alias = AliasRecord {
        message_id: fresh.clone(),
        recipients: vec![],
    };
    let id = match records
        .claim(AliasKind::Dedup, &dedup_key, &alias, dedup_ttl)
        .await?
    {
        Claim::New => fresh,
        Claim::Existing(a) => {
            info!(message_id = %a.message_id, "repeated MM4_forward.REQ; resuming the message already recorded");
            a.message_id
        }
    };

    let msg = match records.message(&id).await? {
        Some((m, _)) => m,
        None => {
            let Some(from) = address_of(&req.from, cc) else {
                // Without a usable sender there is nobody to deliver for or report to.
                let status = RequestStatus::ERROR_SENDING_ADDRESS_UNRESOLVED;
                if req.ack_request {
                    answer_forward(
                        svc,
                        partner,
                        &req,
                        &id,
                        status,
                        "sender address missing or invalid",
                    )
                    .await?;
                }
                return Err(HandlerError::Permanent(
                    "MM4_forward.REQ without a valid From".into(),
                ));
            };
            // The SMTP envelope says which recipients this hop is for; the headers may
            // list others served elsewhere.
            let mut addrs: Vec<Address> = rcpt_to
                .iter()
                .filter_map(|r| Address::parse_with(r, cc).ok())
                .collect();
            if addrs.is_empty() {
                addrs = req.recipients().filter_map(|a| address_of(a, cc)).collect();
            }
            addrs.dedup();
            let submitted = req.date.unwrap_or(received_at.unix_secs());
            let expires_at = Some(match req.expiry {
                Some(e) => Timestamp::from_unix_secs(e.at(submitted)),
                None => received_at.plus(Duration::from_secs(svc.config.mmsc.default_expiry_secs)),
            });
            let m = MessageRecord {
                id: id.clone(),
                origin: Origin::Mm4 {
                    partner: partner.to_string(),
                },
                peer_message_id: req.message_id.clone(),
                peer_transaction_id: Some(req.transaction_id.clone()),
                from,
                subject: req.subject.clone(),
                content_key: object_key.to_string(),
                content_type: req.content_type.clone(),
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
                .map(|(i, address)| RecipientRecord::accepted(&id, i as u32, address, now))
                .collect();
            // The message record is the commit point (a redelivered job finding it
            // resumes after this block): what goes with it is written first, with keys
            // a redelivery writes again rather than twice.
            let ttl = records.ttl_for(&m);
            let me = AliasRecord {
                message_id: id.clone(),
                recipients: vec![],
            };
            if let Some(pmid) = &req.message_id {
                records
                    .set_alias(AliasKind::PeerMessageId, pmid, &me, ttl)
                    .await?;
            }
            records
                .set_alias(AliasKind::PeerTransaction, &req.transaction_id, &me, ttl)
                .await?;
            records
                .event_once(
                    &m,
                    "received",
                    "received",
                    received_at,
                    format!("MM4_forward.REQ from partner {partner}, {size} bytes"),
                )
                .await?;
            records.create_message(&m, &rcpts).await?;
            info!(message_id = %id, recipients = m.recipient_count, size, "MM4 message accepted");
            m
        }
    };

    if let Some(reason) = crate::charging::charge_mm4_acceptance(svc, &msg).await? {
        for i in 0..msg.recipient_count {
            set_route(svc, &msg, i, RecipientState::Rejected, None, &reason, None).await?;
        }
        if req.ack_request {
            let status = RequestStatus::ERROR_SERVICE_DENIED;
            answer_forward(svc, partner, &req, &id, status, &reason).await?;
        }
        records.refresh_state(&id).await?;
        return Ok(());
    }
    route_recipients(svc, &msg, &req, partner).await?;

    if req.ack_request {
        let view = records
            .load(&id)
            .await?
            .ok_or_else(|| HandlerError::Transient("message vanished".into()))?;
        let accepted = view
            .recipients
            .iter()
            .filter(|r| r.state != RecipientState::Rejected)
            .count();
        let (status, text) = if accepted > 0 {
            (RequestStatus::OK, "Message accepted".to_string())
        } else {
            let reasons: Vec<&str> = view
                .recipients
                .iter()
                .filter_map(|r| r.reason.as_deref())
                .collect();
            (
                RequestStatus::ERROR_SENDING_ADDRESS_UNRESOLVED,
                format!("no deliverable recipient: {}", reasons.join("; ")),
            )
        };
        answer_forward(svc, partner, &req, &id, status, &text).await?;
    }
    records.refresh_state(&id).await?;
    Ok(())
}

/// Routes every recipient still `accepted`, groups transit recipients per partner and
/// queues one `MM4_forward.REQ` per partner. `from_partner` is empty for messages
/// from our own subscribers (MM1).
pub(crate) async fn route_recipients(
    svc: &Services,
    msg: &MessageRecord,
    req: &ForwardReq,
    from_partner: &str,
) -> Result<(), HandlerError> {
    let records = svc.records();
    let Some(view) = records.load(&msg.id).await? else {
        return Err(HandlerError::Transient(
            "message vanished while routing".into(),
        ));
    };
    let hops = req.forward_counter.unwrap_or(0);
    let mut transit: BTreeMap<String, Vec<RecipientRecord>> = BTreeMap::new();
    for r in view
        .recipients
        .iter()
        .filter(|r| r.state == RecipientState::Accepted)
    {
        let route = svc
            .router
            .route(
                &msg.from,
                &r.address,
                Some(from_partner).filter(|p| !p.is_empty()),
            )
            .await?;
        let (state, direction, reason) = match route {
            Route::Local => {
                let job = crate::domain::Job::Mm1Notify {
                    message_id: msg.id.clone(),
                    recipient: r.index,
                };
                svc.queue
                    .send(job.queue(), &job.to_bytes(), Duration::ZERO)
                    .await?;
                (
                    RecipientState::Routed,
                    Some(Direction::Local),
                    "local subscriber; awaiting MM1 retrieval".to_string(),
                )
            }
            Route::Partner(p) if p == from_partner => (
                RecipientState::Rejected,
                None,
                format!("routing loop: route leads back to {p}"),
            ),
            Route::Partner(p) if hops >= MAX_FORWARD_COUNTER => (
                RecipientState::Rejected,
                None,
                format!("forward counter {hops} reached the limit; not relaying to {p}"),
            ),
            Route::Partner(p) => {
                transit.entry(p).or_default().push(r.clone());
                continue;
            }
            Route::Vasp(v) => {
                let job = crate::domain::Job::Mm7Out {
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
    for (partner, rcpts) in transit {
        let Some(pcfg) = svc.config.partner(&partner) else {
            for r in &rcpts {
                set_route(
                    svc,
                    msg,
                    r.index,
                    RecipientState::Rejected,
                    None,
                    &format!("route names unknown partner {partner}"),
                    None,
                )
                .await?;
            }
            continue;
        };
        let txid = transaction_id(&msg.id, &format!("fwd-{partner}"), &svc.config.mmsc.domain);
        let mut out = req.for_transit(
            &txid,
            &svc.config.originator_system(),
            svc.clock.now().unix_secs(),
        );
        out.mms_version = Some(pcfg.mms_version(&svc.config).to_string());
        out.ack_request = pcfg.request_ack;
        let mail_from = envelope_address(
            &msg.from,
            msg.from.domain().unwrap_or(&svc.config.mmsc.domain),
        );
        forward_to_partner(svc, msg, &partner, &pcfg.domain, &rcpts, out, mail_from).await?;
    }
    Ok(())
}

/// Acceptance charging (`charging.mode`) for a message a subscriber or a VASP
/// submitted: the originator (or, with `charge_recipients`, each recipient) is charged
/// once per recipient. On a refusal every still-accepted recipient is rejected (and
/// reported where asked) and `true` is returned; unavailable charging is a transient
/// error, so the job is retried.
pub(crate) async fn charge_or_reject(
    svc: &Services,
    msg: &MessageRecord,
    service_code: Option<&str>,
    charge_recipients: bool,
) -> Result<bool, HandlerError> {
    let Some(reason) =
        crate::charging::charge_message_acceptance(svc, msg, service_code, charge_recipients)
            .await?
    else {
        return Ok(false);
    };
    let Some(view) = svc.records().load(&msg.id).await? else {
        return Ok(true);
    };
    for r in view
        .recipients
        .iter()
        .filter(|r| r.state == RecipientState::Accepted)
    {
        set_route(
            svc,
            msg,
            r.index,
            RecipientState::Rejected,
            None,
            &reason,
            None,
        )
        .await?;
    }
    Ok(true)
}

/// Sends `fwd` (an `MM4_forward.REQ` with transaction id `fwd.transaction_id`) for
/// recipients `rcpts` of `msg` to `partner`: records the transaction id for the
/// `.RES` and reports, queues the PDU for `mm4-out`, and marks each recipient routed.
pub(crate) async fn forward_to_partner(
    svc: &Services,
    msg: &MessageRecord,
    partner: &str,
    partner_domain: &str,
    rcpts: &[RecipientRecord],
    fwd: ForwardReq,
    mail_from: String,
) -> Result<(), HandlerError> {
    let records = svc.records();
    let txid = fwd.transaction_id.clone();
    let rcpt_to: Vec<String> = rcpts
        .iter()
        .map(|r| envelope_address(&r.address, partner_domain))
        .collect();
    let indexes: Vec<u32> = rcpts.iter().map(|r| r.index).collect();
    records
        .note_our_transaction(&txid, msg, indexes.clone())
        .await?;
    let pdu = OutboundPdu::ForwardReq {
        message_id: msg.id.clone(),
        recipients: indexes,
        transaction_id: txid.clone(),
    };
    send_mm4(
        svc,
        partner,
        mail_from,
        rcpt_to,
        pdu,
        Mm4Pdu::ForwardReq(fwd).to_bytes(),
    )
    .await?;
    for r in rcpts {
        set_route(
            svc,
            msg,
            r.index,
            RecipientState::Routed,
            Some(Direction::Mm4 {
                partner: partner.to_string(),
            }),
            &format!("queued for partner {partner}"),
            Some(&txid),
        )
        .await?;
    }
    Ok(())
}

pub(crate) async fn set_route(
    svc: &Services,
    msg: &MessageRecord,
    index: u32,
    state: RecipientState,
    direction: Option<Direction>,
    reason: &str,
    txid: Option<&str>,
) -> Result<(), HandlerError> {
    let records = svc.records();
    let now = svc.clock.now();
    let changed = records
        .update_recipient(msg, index, |r| {
            if r.state != RecipientState::Accepted {
                return Ok::<bool, ()>(false);
            }
            if r.advance(state, Some(reason.to_string()), now).is_err() {
                return Ok(false);
            }
            r.direction = direction.clone();
            r.our_transaction_id = txid.map(String::from);
            Ok(true)
        })
        .await?;
    if let Ok((r, true)) = changed {
        let kind = if state == RecipientState::Rejected {
            "rejected"
        } else {
            "routed"
        };
        records
            .event(msg, kind, Some(r.address.redacted()), reason)
            .await?;
    }
    if state == RecipientState::Rejected {
        crate::charging::settle(svc, &msg.id, index, crate::charging::Outcome::Failed).await?;
    }
    Ok(())
}

/// Queues our `MM4_forward.RES` to the partner's ack route, once.
async fn answer_forward(
    svc: &Services,
    partner: &str,
    req: &ForwardReq,
    id: &MessageId,
    status: RequestStatus,
    text: &str,
) -> Result<(), HandlerError> {
    let records = svc.records();
    let marker = format!("ack#{id}");
    if records.alias(AliasKind::Dedup, &marker).await?.is_some() {
        return Ok(());
    }
    let route = ack_route(svc, partner);
    let domain = svc
        .config
        .partner(&route)
        .map(|p| p.domain.clone())
        .unwrap_or_default();
    let mut res =
        ForwardRes::answering(req, status.clone(), Some(text), svc.clock.now().unix_secs());
    res.mms_version = Some(mms_version(svc, &route));
    res.from = Some(Mm4Address::parse(&system_address(svc)));
    let rcpt = req
        .reply_address()
        .map(strip_angle)
        .unwrap_or_else(|| format!("system-user@{domain}"));
    let pdu = OutboundPdu::ForwardRes {
        transaction_id: req.transaction_id.clone(),
        message_id: Some(id.clone()),
    };
    send_mm4(
        svc,
        &route,
        system_address(svc),
        vec![rcpt],
        pdu,
        Mm4Pdu::ForwardRes(res).to_bytes(),
    )
    .await?;
    let ttl = svc
        .clock
        .now()
        .plus(Duration::from_secs(svc.config.mmsc.retention_secs));
    records
        .set_alias(
            AliasKind::Dedup,
            &marker,
            &AliasRecord {
                message_id: id.clone(),
                recipients: vec![],
            },
            ttl,
        )
        .await?;
    if let Some((m, _)) = records.message(id).await? {
        records
            .event(
                &m,
                "ack-queued",
                None,
                format!("MM4_forward.RES {} to {route}", status.as_str()),
            )
            .await?;
    }
    Ok(())
}

fn mms_version(svc: &Services, partner: &str) -> String {
    svc.config
        .partner(partner)
        .map(|p| p.mms_version(&svc.config).to_string())
        .unwrap_or_else(|| svc.config.mmsc.mms_version.clone())
}

/// `MM4_forward.RES` from a partner: the fate of a forward.REQ we sent.
async fn forward_res(svc: &Services, partner: &str, res: ForwardRes) -> Result<(), HandlerError> {
    let records = svc.records();
    let Some(alias) = records
        .alias(AliasKind::OurTransaction, &res.transaction_id)
        .await?
    else {
        warn!(
            partner,
            "MM4_forward.RES for a transaction we do not know; ignored"
        );
        return Ok(());
    };
    let Some((msg, _)) = records.message(&alias.message_id).await? else {
        warn!(partner, message_id = %alias.message_id, "MM4_forward.RES for an expired message; ignored");
        return Ok(());
    };
    let text = res.status_text.clone().unwrap_or_default();
    if res.request_status.is_ok() {
        records
            .event(
                &msg,
                "forward-res",
                None,
                format!(
                    "partner {partner} accepted: {} {text}",
                    res.request_status.as_str()
                ),
            )
            .await?;
        let delivered = crate::charging::Outcome::Delivered;
        crate::charging::settle_all(svc, &msg.id, &alias.recipients, delivered).await?;
        return Ok(());
    }
    let reason = format!(
        "partner {partner} refused: {} {text}",
        res.request_status.as_str()
    );
    for index in &alias.recipients {
        let now = svc.clock.now();
        let outcome = records
            .update_recipient(&msg, *index, |r| {
                Ok::<bool, ()>(
                    r.advance(RecipientState::Rejected, Some(reason.clone()), now)
                        .is_ok(),
                )
            })
            .await?;
        if let Ok((r, true)) = outcome {
            records
                .event(&msg, "rejected", Some(r.address.redacted()), reason.clone())
                .await?;
            report_to_originator(svc, &msg, &r, MmStatus::REJECTED, &reason).await?;
        }
    }
    let failed = crate::charging::Outcome::Failed;
    crate::charging::settle_all(svc, &msg.id, &alias.recipients, failed).await?;
    records.refresh_state(&msg.id).await?;
    Ok(())
}

/// Finds the message a report is about: our id in MM4 form, or the originator's id.
async fn message_for_report(
    svc: &Services,
    message_id: Option<&str>,
) -> Result<Option<MessageRecord>, HandlerError> {
    let Some(mid) = message_id else {
        return Ok(None);
    };
    let records = svc.records();
    let ours = mid.split('@').next().unwrap_or(mid);
    let id = match records.resolve(ours).await? {
        Some(id) => Some(id),
        None => records.resolve(mid).await?,
    };
    match id {
        Some(id) => Ok(records.message(&id).await?.map(|(m, _)| m)),
        None => Ok(None),
    }
}

/// The recipient of `msg` a report from `reporter` concerns.
async fn reporting_recipient(
    svc: &Services,
    msg: &MessageRecord,
    reporter: Option<&Address>,
) -> Result<Option<RecipientRecord>, HandlerError> {
    let Some(view) = svc.records().load(&msg.id).await? else {
        return Ok(None);
    };
    let found = match reporter {
        Some(a) => view
            .recipients
            .iter()
            .find(|r| r.address.key() == a.key())
            .cloned(),
        None => None,
    };
    Ok(found.or_else(|| (view.recipients.len() == 1).then(|| view.recipients[0].clone())))
}

/// `MM4_delivery_report.REQ` from a partner: a recipient we forwarded to was reached
/// (or not). Update state, relay to the originator, answer `.RES`.
async fn delivery_report_req(
    svc: &Services,
    partner: &str,
    req: DeliveryReportReq,
) -> Result<(), HandlerError> {
    let records = svc.records();
    let cc = svc.config.mmsc.country_code.as_deref();
    let msg = message_for_report(svc, req.message_id.as_deref()).await?;
    let status = match &msg {
        Some(msg) => {
            let reporter = req.from.as_ref().and_then(|f| address_of(f, cc));
            if let Some(r) = reporting_recipient(svc, msg, reporter.as_ref()).await? {
                let code = req.mm_status.clone();
                let target = match code.as_str() {
                    "Retrieved" => Some(RecipientState::Delivered),
                    "Expired" => Some(RecipientState::Expired),
                    "Rejected" => Some(RecipientState::Rejected),
                    "Unrecognised" => Some(RecipientState::Failed),
                    _ => None,
                };
                let detail = format!("MM4_delivery_report.REQ from {partner}: {}", code.as_str());
                records
                    .event(
                        msg,
                        "delivery-report",
                        Some(r.address.redacted()),
                        detail.clone(),
                    )
                    .await?;
                if let Some(outcome) = target.and_then(crate::charging::outcome_of_state) {
                    crate::charging::settle(svc, &msg.id, r.index, outcome).await?;
                }
                if let Some(to) = target {
                    let now = svc.clock.now();
                    records
                        .update_recipient(msg, r.index, |rec| {
                            Ok::<bool, ()>(rec.advance(to, Some(detail.clone()), now).is_ok())
                        })
                        .await?
                        .ok();
                }
                report_to_originator(svc, msg, &r, code, req.status_text.as_deref().unwrap_or(""))
                    .await?;
                records.refresh_state(&msg.id).await?;
            }
            RequestStatus::OK
        }
        None => {
            warn!(partner, "delivery report for an unknown message");
            RequestStatus::ERROR_MESSAGE_NOT_FOUND
        }
    };
    if req.ack_request {
        let route = ack_route(svc, partner);
        let mut res = DeliveryReportRes::answering(&req, status, None, svc.clock.now().unix_secs());
        res.mms_version = Some(mms_version(svc, &route));
        res.from = Some(Mm4Address::parse(&system_address(svc)));
        let rcpt = report_res_recipient(svc, &route, req.reply_address(), req.from.as_ref());
        let pdu = OutboundPdu::DeliveryReportRes {
            transaction_id: req.transaction_id.clone(),
        };
        let bytes = Mm4Pdu::DeliveryReportRes(res).to_bytes();
        send_mm4(svc, &route, system_address(svc), vec![rcpt], pdu, bytes).await?;
    }
    Ok(())
}

/// `MM4_read_reply_report.REQ` from a partner: relay to the originator, answer `.RES`.
async fn read_reply_req(
    svc: &Services,
    partner: &str,
    req: ReadReplyReq,
) -> Result<(), HandlerError> {
    let records = svc.records();
    let cc = svc.config.mmsc.country_code.as_deref();
    let msg = message_for_report(svc, req.message_id.as_deref()).await?;
    let status = match &msg {
        Some(msg) => {
            let reporter = req.from.as_ref().and_then(|f| address_of(f, cc));
            let who = reporter.as_ref().map(|a| a.redacted());
            let read = req.read_status.as_str().to_string();
            records
                .event(
                    msg,
                    "read-report",
                    who,
                    format!("MM4_read_reply_report.REQ from {partner}: {read}"),
                )
                .await?;
            if let Origin::Mm4 { partner: origin } = &msg.origin
                && msg.read_report
            {
                let txid = transaction_id(
                    &msg.id,
                    &format!("rr-{}", req.transaction_id.len()),
                    &svc.config.mmsc.domain,
                );
                let mut out = req.clone();
                out.transaction_id = txid.clone();
                out.message_id = msg.peer_message_id.clone().or(out.message_id);
                out.originator_system = Some(system_address(svc));
                out.ack_request = svc.config.partner(origin).is_some_and(|p| p.request_ack);
                out.mms_version = Some(mms_version(svc, origin));
                let domain = svc
                    .config
                    .partner(origin)
                    .map(|p| p.domain.clone())
                    .unwrap_or_default();
                let rcpt = envelope_address(&msg.from, msg.from.domain().unwrap_or(&domain));
                let pdu = OutboundPdu::ReadReplyReq {
                    transaction_id: txid,
                    message_id: Some(msg.id.clone()),
                };
                send_mm4(
                    svc,
                    origin,
                    system_address(svc),
                    vec![rcpt],
                    pdu,
                    Mm4Pdu::ReadReplyReq(out).to_bytes(),
                )
                .await?;
                records
                    .event(
                        msg,
                        "read-report-relayed",
                        None,
                        format!("to partner {origin}"),
                    )
                    .await?;
            }
            if let Origin::Mm7 { vasp } = &msg.origin
                && msg.read_report
            {
                super::mm7_out::read_reply_to_vasp(
                    svc,
                    vasp,
                    msg,
                    reporter.as_ref(),
                    &read,
                    req.status_text.as_deref(),
                )
                .await?;
            }
            RequestStatus::OK
        }
        None => RequestStatus::ERROR_MESSAGE_NOT_FOUND,
    };
    if req.ack_request {
        let route = ack_route(svc, partner);
        let mut res = ReadReplyRes::answering(&req, status, None, svc.clock.now().unix_secs());
        res.mms_version = Some(mms_version(svc, &route));
        res.from = Some(Mm4Address::parse(&system_address(svc)));
        let rcpt = report_res_recipient(svc, &route, req.reply_address(), req.from.as_ref());
        let pdu = OutboundPdu::ReadReplyRes {
            transaction_id: req.transaction_id.clone(),
        };
        let bytes = Mm4Pdu::ReadReplyRes(res).to_bytes();
        send_mm4(svc, &route, system_address(svc), vec![rcpt], pdu, bytes).await?;
    }
    Ok(())
}

/// Where a `.RES` to a report goes: the request's reply address, else its sender, else
/// the partner's system address.
fn report_res_recipient(
    svc: &Services,
    route: &str,
    reply_address: Option<&str>,
    from: Option<&Mm4Address>,
) -> String {
    let raw = reply_address
        .map(String::from)
        .or_else(|| from.map(|f| f.raw.clone()));
    match raw {
        Some(r) => strip_angle(&r),
        None => {
            let domain = svc
                .config
                .partner(route)
                .map(|p| p.domain.as_str())
                .unwrap_or_default();
            format!("system-user@{domain}")
        }
    }
}

fn strip_angle(s: &str) -> String {
    let s = s.trim();
    match (s.rfind('<'), s.rfind('>')) {
        (Some(a), Some(b)) if a < b => s[a + 1..b].to_string(),
        _ => s.to_string(),
    }
}

/// `.RES` to a report we sent: record it on the message's timeline.
async fn report_res(
    svc: &Services,
    partner: &str,
    txid: &str,
    status: &RequestStatus,
    kind: &str,
) -> Result<(), HandlerError> {
    let records = svc.records();
    let Some(alias) = records.alias(AliasKind::OurTransaction, txid).await? else {
        warn!(
            partner,
            kind, "response for a transaction we do not know; ignored"
        );
        return Ok(());
    };
    if let Some((msg, _)) = records.message(&alias.message_id).await? {
        records
            .event(
                &msg,
                kind,
                None,
                format!("partner {partner}: {}", status.as_str()),
            )
            .await?;
    }
    Ok(())
}

/// Sends a delivery report about recipient `r` to the message's originator, when it
/// asked for one. MM4 originators get an `MM4_delivery_report.REQ`.
pub async fn report_to_originator(
    svc: &Services,
    msg: &MessageRecord,
    r: &RecipientRecord,
    status: MmStatus,
    text: &str,
) -> Result<(), HandlerError> {
    if !msg.delivery_report {
        return Ok(());
    }
    let records = svc.records();
    match &msg.origin {
        Origin::Mm4 { partner } => {
            let Some(pcfg) = svc.config.partner(partner) else {
                records
                    .event(
                        msg,
                        "report-undeliverable",
                        Some(r.address.redacted()),
                        format!("partner {partner} is no longer configured"),
                    )
                    .await?;
                return Ok(());
            };
            let txid = transaction_id(
                &msg.id,
                &format!("dr-{}-{}", r.index, status.as_str().to_ascii_lowercase()),
                &svc.config.mmsc.domain,
            );
            let mut dr = DeliveryReportReq::new(
                &txid,
                msg.peer_message_id
                    .clone()
                    .unwrap_or_else(|| outbound::mm4_message_id(&msg.id, &svc.config.mmsc.domain)),
                Mm4Address::from_address(&r.address, &svc.config.mmsc.domain),
                Mm4Address::from_address(&msg.from, &pcfg.domain),
                status.clone(),
                svc.clock.now().unix_secs(),
            );
            dr.mms_version = Some(pcfg.mms_version(&svc.config).to_string());
            dr.ack_request = pcfg.request_ack;
            dr.originator_system = Some(system_address(svc));
            if !text.is_empty() {
                dr.status_text = Some(text.to_string());
            }
            let rcpt = envelope_address(&msg.from, msg.from.domain().unwrap_or(&pcfg.domain));
            let pdu = OutboundPdu::DeliveryReportReq {
                transaction_id: txid.clone(),
                message_id: Some(msg.id.clone()),
            };
            records
                .note_our_transaction(&txid, msg, vec![r.index])
                .await?;
            send_mm4(
                svc,
                partner,
                system_address(svc),
                vec![rcpt],
                pdu,
                Mm4Pdu::DeliveryReportReq(dr).to_bytes(),
            )
            .await?;
            records
                .event(
                    msg,
                    "delivery-report-queued",
                    Some(r.address.redacted()),
                    format!("{} to partner {partner}", status.as_str()),
                )
                .await?;
        }
        Origin::Mm7 { vasp } => {
            super::mm7_out::report_to_vasp(svc, vasp, msg, r, &status, text).await?;
        }
        Origin::Mm1 { .. } => {
            super::mm1::notify::delivery_report(svc, msg, r, &status, text).await?;
        }
    }
    Ok(())
}

/// A recipient's state changed outside MM4 (local retrieval, an operator): apply it
/// and report to the originator.
pub async fn recipient_event(
    svc: &Services,
    id: &MessageId,
    index: u32,
    state: RecipientState,
    reason: Option<&str>,
) -> Result<(), HandlerError> {
    let records = svc.records();
    let Some((msg, _)) = records.message(id).await? else {
        return Err(HandlerError::Permanent(format!("no message {id}")));
    };
    let Some(current) = records.recipient(id, index).await? else {
        return Err(HandlerError::Permanent(format!(
            "message {id} has no recipient #{index}"
        )));
    };
    if (current.state == state || current.state.can_move_to(state))
        && let Some(outcome) = crate::charging::outcome_of_state(state)
    {
        crate::charging::settle(svc, id, index, outcome).await?;
    }
    if current.state == state {
        return Ok(()); // a repeat of an event already applied
    }
    if !current.state.can_move_to(state) {
        records
            .event(
                &msg,
                "ignored-event",
                Some(current.address.redacted()),
                format!("{} -> {state} is not allowed", current.state),
            )
            .await?;
        return Ok(());
    }
    let status = match state {
        // One report per recipient: none again when a retrieved message is acknowledged.
        RecipientState::Retrieved | RecipientState::Delivered
            if current.state != RecipientState::Retrieved =>
        {
            Some(MmStatus::RETRIEVED)
        }
        RecipientState::Rejected => Some(MmStatus::REJECTED),
        RecipientState::Expired => Some(MmStatus::EXPIRED),
        RecipientState::Failed => Some(MmStatus::UNRECOGNISED),
        _ => None,
    };
    // Report first, then record: a crash in between repeats the (idempotent) report
    // rather than losing it.
    if let Some(s) = status {
        report_to_originator(svc, &msg, &current, s, reason.unwrap_or("")).await?;
    }
    let now = svc.clock.now();
    let why = reason
        .map(String::from)
        .unwrap_or_else(|| format!("recipient {state}"));
    records
        .update_recipient(&msg, index, |r| {
            Ok::<bool, ()>(r.advance(state, Some(why.clone()), now).is_ok())
        })
        .await?
        .ok();
    records
        .event(&msg, state.as_str(), Some(current.address.redacted()), why)
        .await?;
    records.refresh_state(id).await?;
    Ok(())
}
