//! Emitting MM4 PDUs: store the bytes, queue an `mm4-out` job. The object key and the
//! transaction id are derived from our ids, so a handler that runs twice queues the
//! same PDU twice (the partner dedups by transaction id) and never a different one.

use super::{HandlerError, Services};
use crate::domain::{Address, Job, MessageId, OutboundPdu};
use std::time::Duration;

/// Deterministic transaction id for a PDU we emit about message `id`.
/// `what` distinguishes PDUs of the same message (`fwd-<partner>`, `dr-0`, `res`).
pub fn transaction_id(id: &MessageId, what: &str, domain: &str) -> String {
    format!("{id}.{what}@{domain}")
}

/// Our message id in MM4 form (`<id>@<our domain>`), for messages we originate.
pub fn mm4_message_id(id: &MessageId, domain: &str) -> String {
    format!("{id}@{domain}")
}

/// Turns any id into an object-key-safe segment.
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

/// Stores `bytes` and queues it for delivery to `partner`.
pub async fn send_mm4(
    svc: &Services,
    partner: &str,
    mail_from: String,
    rcpt_to: Vec<String>,
    pdu: OutboundPdu,
    bytes: Vec<u8>,
) -> Result<(), HandlerError> {
    let object_key = format!(
        "out/mm4/{}/{}.eml",
        key_segment(partner),
        key_segment(pdu.transaction_id())
    );
    svc.objects
        .put(&object_key, bytes.into(), "message/rfc822")
        .await?;
    let job = Job::Mm4Out {
        partner: partner.to_string(),
        object_key,
        mail_from,
        rcpt_to,
        pdu,
    };
    svc.queue
        .send(job.queue(), &job.to_bytes(), Duration::ZERO)
        .await?;
    Ok(())
}

/// Our system address for envelopes of PDUs that are not user messages.
pub fn system_address(svc: &Services) -> String {
    svc.config.originator_system()
}

/// `MAIL FROM`/`RCPT TO` form of an address seen from `domain`.
pub fn envelope_address(a: &Address, domain: &str) -> String {
    a.to_mm4(domain)
}

/// The partner that takes our `.RES`es and reports for `partner` (its `ack_route`).
pub fn ack_route(svc: &Services, partner: &str) -> String {
    svc.config
        .partner(partner)
        .and_then(|p| p.ack_route.clone())
        .unwrap_or_else(|| partner.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn derives_stable_ids_and_safe_keys() {
        let id = MessageId("a".repeat(32));
        assert_eq!(
            transaction_id(&id, "res", "mms.x"),
            format!("{}.res@mms.x", "a".repeat(32))
        );
        assert_eq!(
            key_segment("60755231.94578772@mmsc"),
            "60755231.94578772_mmsc"
        );
        crate::ports::validate_key(&format!("out/mm4/p/{}.eml", key_segment("\"x y\"@z/../w")))
            .unwrap();
    }
}
