//! Charging data records: one JSON line per charging event and final outcome,
//! with 3GPP TS 32.270 (MMS charging) field names where they apply, written to
//! the object store under `cdr/YYYY/MM/DD/HH/` (the hour the event happened).
//!
//! Each record is its own object (the store has no append), named
//! `<message id>-<recipient>-<event>.jsonl`, so a repeated step overwrites its
//! own record rather than adding a second one. A collector concatenates an
//! hour's prefix into that hour's CDR file.

use super::ChargeRecord;
use crate::domain::Timestamp;
use crate::handlers::Services;
use crate::ports::{ChargeOutcome, ChargingOp};
use bytes::Bytes;
use serde::Serialize;
use tracing::warn;

/// One CDR line.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Cdr {
    /// `MMO1S`-like record of an originator charge (TS 32.270 §6.1); ours adds
    /// the credit-control step.
    pub record_type: &'static str,
    pub charging_event: String,
    pub originator_address: String,
    pub recipient_address: String,
    #[serde(rename = "messageID")]
    pub message_id: String,
    #[serde(rename = "mmsMessageID", skip_serializing_if = "Option::is_none")]
    pub mms_message_id: Option<String>,
    pub recipient_index: u32,
    pub message_size: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub content_type: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub submission_time: Option<String>,
    pub record_time_stamp: String,
    pub charging_state: super::ChargeState,
    pub result_code: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub session_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub granted_units: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub granted_money: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub service_code: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status_text: Option<String>,
}

fn rfc3339(t: Timestamp) -> String {
    humantime::format_rfc3339_seconds(t.to_system()).to_string()
}

/// `cdr/YYYY/MM/DD/HH` for `t`.
pub fn hour_prefix(t: Timestamp) -> String {
    let s = rfc3339(t); // 2026-11-23T16:40:00Z
    let part = |a: usize, b: usize| s.get(a..b).unwrap_or("00").to_string();
    format!(
        "cdr/{}/{}/{}/{}",
        part(0, 4),
        part(5, 7),
        part(8, 10),
        part(11, 13)
    )
}

fn event_name(op: ChargingOp) -> &'static str {
    match op {
        ChargingOp::Event => "debit",
        ChargingOp::Reserve => "reserve",
        ChargingOp::Commit => "commit",
        ChargingOp::Release => "release",
        ChargingOp::Refund => "refund",
    }
}

/// Builds the CDR of one step (`note` qualifies it: `refused`, `delivered`, ...).
pub fn build(
    rec: &ChargeRecord,
    index: u32,
    op: ChargingOp,
    outcome: &ChargeOutcome,
    note: Option<&str>,
    now: Timestamp,
) -> Cdr {
    let r = &rec.request;
    let mut event = event_name(op).to_string();
    if let Some(n) = note {
        event.push('-');
        event.push_str(n);
    }
    Cdr {
        record_type: "MMO-CC",
        charging_event: event,
        originator_address: r.subscriber.key().to_string(),
        recipient_address: r.recipient.key().to_string(),
        message_id: r.message_id.to_string(),
        mms_message_id: r.mms_message_id.clone(),
        recipient_index: index,
        message_size: r.size,
        content_type: r.content_type.clone(),
        submission_time: r
            .submitted_at
            .map(|s| rfc3339(Timestamp::from_unix_secs(s))),
        record_time_stamp: rfc3339(now),
        charging_state: rec.state,
        result_code: outcome.result_code,
        session_id: outcome
            .session_id
            .clone()
            .or_else(|| rec.session_id.clone()),
        granted_units: outcome.granted_units,
        granted_money: outcome.granted_money.clone(),
        service_code: r.service_code.clone(),
        status_text: note.map(String::from),
    }
}

/// Writes the CDR of one step. A store failure is logged, never fails charging
/// (the charge itself is recorded in the state store).
pub async fn write(
    svc: &Services,
    rec: &ChargeRecord,
    index: u32,
    op: ChargingOp,
    outcome: &ChargeOutcome,
    note: Option<&str>,
) {
    if !svc.config.charging.cdr {
        return;
    }
    let now = svc.clock.now();
    let cdr = build(rec, index, op, outcome, note, now);
    let mut line = serde_json::to_vec(&cdr).unwrap_or_default();
    line.push(b'\n');
    let key = format!(
        "{}/{}-{index}-{}.jsonl",
        hour_prefix(now),
        rec.request.message_id,
        cdr.charging_event
    );
    if let Err(e) = svc
        .objects
        .put(&key, Bytes::from(line), "application/x-ndjson")
        .await
    {
        warn!(key, error = %e, "could not write a CDR");
    }
}
