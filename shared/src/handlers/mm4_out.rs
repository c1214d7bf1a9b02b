//! `mm4-out`: deliver a stored MM4 PDU to a partner over SMTP, retrying temporary
//! failures with backoff up to the partner's `max_attempts`, then failing the
//! recipients and reporting to the originator when it asked.

use super::ingest::report_to_originator;
use super::{HandlerError, Services};
use crate::codec::mm4::MmStatus;
use crate::domain::{MessageId, OutboundPdu, RecipientState};
use crate::ports::{Envelope, TransportError};
use tracing::{info, warn};

pub async fn handle(
    svc: &Services,
    partner: &str,
    object_key: &str,
    mail_from: &str,
    rcpt_to: &[String],
    pdu: &OutboundPdu,
    receive_count: u32,
) -> Result<(), HandlerError> {
    let Some(bytes) = svc.objects.get(object_key).await? else {
        return Err(HandlerError::Permanent(format!(
            "PDU {object_key} to send is missing"
        )));
    };
    let envelope = Envelope {
        mail_from: mail_from.to_string(),
        rcpt_to: rcpt_to.to_vec(),
    };
    let max_attempts = svc.config.partner(partner).map_or(1, |p| p.max_attempts);
    match svc.mm4.send(partner, &envelope, &bytes).await {
        Ok(reply) => {
            info!(
                partner,
                pdu = pdu.name(),
                attempt = receive_count,
                "MM4 PDU delivered"
            );
            delivered(svc, partner, pdu, &reply).await
        }
        Err(TransportError::Transient(why)) if receive_count < max_attempts => {
            note(
                svc,
                pdu,
                "send-retry",
                &format!(
                    "{} to {partner}, attempt {receive_count}/{max_attempts}: {why}",
                    pdu.name()
                ),
            )
            .await?;
            Err(HandlerError::Transient(why))
        }
        Err(e) => {
            let why = match &e {
                TransportError::Transient(w) => {
                    format!("gave up after {receive_count} attempts: {w}")
                }
                other => other.to_string(),
            };
            warn!(partner, pdu = pdu.name(), reason = %why, "MM4 delivery failed");
            failed(svc, partner, pdu, &e, &why).await?;
            Err(HandlerError::Permanent(why))
        }
    }
}

fn message_of(pdu: &OutboundPdu) -> Option<&MessageId> {
    match pdu {
        OutboundPdu::ForwardReq { message_id, .. } => Some(message_id),
        OutboundPdu::ForwardRes { message_id, .. }
        | OutboundPdu::DeliveryReportReq { message_id, .. }
        | OutboundPdu::ReadReplyReq { message_id, .. } => message_id.as_ref(),
        OutboundPdu::DeliveryReportRes { .. } | OutboundPdu::ReadReplyRes { .. } => None,
    }
}

/// Adds an event to the message the PDU concerns, if we know it.
async fn note(
    svc: &Services,
    pdu: &OutboundPdu,
    kind: &str,
    detail: &str,
) -> Result<(), HandlerError> {
    let records = svc.records();
    if let Some(id) = message_of(pdu)
        && let Some((msg, _)) = records.message(id).await?
    {
        records.event(&msg, kind, None, detail).await?;
    }
    Ok(())
}

async fn delivered(
    svc: &Services,
    partner: &str,
    pdu: &OutboundPdu,
    reply: &str,
) -> Result<(), HandlerError> {
    let OutboundPdu::ForwardReq {
        message_id,
        recipients,
        ..
    } = pdu
    else {
        return note(
            svc,
            pdu,
            "sent",
            &format!("{} to {partner}: {reply}", pdu.name()),
        )
        .await;
    };
    let records = svc.records();
    let Some((msg, _)) = records.message(message_id).await? else {
        return Ok(());
    };
    let reason = format!("accepted by partner {partner}");
    let detail = format!("MM4_forward.REQ to {partner}: {reply}");
    let moved = move_recipients(svc, &msg, recipients, RecipientState::Forwarded, &reason).await?;
    for r in moved {
        records
            .event(
                &msg,
                "forwarded",
                Some(r.address.redacted()),
                detail.clone(),
            )
            .await?;
    }
    records.refresh_state(&msg.id).await?;
    Ok(())
}

/// Moves `recipients` of `msg` to `to` where that is a legal step (a recipient already
/// past it, e.g. refused by the partner's `.RES`, stays as it is); returns the ones moved.
async fn move_recipients(
    svc: &Services,
    msg: &crate::domain::MessageRecord,
    recipients: &[u32],
    to: RecipientState,
    reason: &str,
) -> Result<Vec<crate::domain::RecipientRecord>, HandlerError> {
    let records = svc.records();
    let now = svc.clock.now();
    let mut moved = Vec::new();
    for index in recipients {
        let changed = records
            .update_recipient(msg, *index, |r| {
                let legal = to != RecipientState::Forwarded || r.state == RecipientState::Routed;
                Ok::<bool, ()>(legal && r.advance(to, Some(reason.to_string()), now).is_ok())
            })
            .await?;
        if let Ok((r, true)) = changed {
            moved.push(r);
        }
    }
    Ok(moved)
}

async fn failed(
    svc: &Services,
    partner: &str,
    pdu: &OutboundPdu,
    e: &TransportError,
    why: &str,
) -> Result<(), HandlerError> {
    let OutboundPdu::ForwardReq {
        message_id,
        recipients,
        ..
    } = pdu
    else {
        return note(
            svc,
            pdu,
            "send-failed",
            &format!("{} to {partner}: {why}", pdu.name()),
        )
        .await;
    };
    let records = svc.records();
    let Some((msg, _)) = records.message(message_id).await? else {
        return Ok(());
    };
    // A partner's 5xx is a refusal; running out of attempts leaves the fate unknown.
    let status = match e {
        TransportError::Permanent(_) => MmStatus::REJECTED,
        _ => MmStatus::INDETERMINATE,
    };
    let reason = format!("MM4 to {partner} failed: {why}");
    for r in move_recipients(svc, &msg, recipients, RecipientState::Failed, &reason).await? {
        records
            .event(&msg, "failed", Some(r.address.redacted()), reason.clone())
            .await?;
        report_to_originator(svc, &msg, &r, status.clone(), &reason).await?;
    }
    let failed = crate::charging::Outcome::Failed;
    crate::charging::settle_all(svc, &msg.id, recipients, failed).await?;
    records.refresh_state(&msg.id).await?;
    Ok(())
}
