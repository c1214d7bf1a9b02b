//! Charging policies (MM9): when to reserve, debit, commit, release and refund, with
//! the per-recipient state that makes each recipient charged once however often a
//! queue redelivers a job.
//!
//! - `none`: nothing.
//! - `event` (NowSMS-compatible): [`charge_on_acceptance`] sends one CCR
//!   EVENT_REQUEST / DIRECT_DEBITING per recipient; any Result-Code but 2001
//!   rejects the submission. A definitive failure later sends CCR
//!   REFUND_ACCOUNT when `charging.refund_on_failure` is set.
//! - `reserve-commit` (the DMZ fix, seed 000): acceptance sends CCR INITIAL with
//!   Requested-Service-Unit; end-to-end evidence (an `MM4_forward.RES` Ok from the
//!   partner, a delivery report Retrieved, local retrieval) sends CCR TERMINATION
//!   with Used-Service-Unit ([`settle`] with [`Outcome::Delivered`]); a rejection,
//!   failure report or expiry sends CCR TERMINATION without used units (release).
//!
//! Every step is recorded in the state store (`charge#<message id>` / recipient
//! index) with conditional writes: a step is claimed by compare-and-set before its
//! CCR is sent, so two deliveries of a job cannot both commit. A step found
//! claimed but unfinished (a crash, a lost answer) is resent with the T flag and
//! the same Session-Id and CC-Request-Number, which is how RFC 4006 lets the
//! server recognise the duplicate.
//!
//! Every charging event and every final outcome is written as a CDR (JSON line,
//! TS 32.270 field names where they apply) to the object store under
//! `cdr/YYYY/MM/DD/HH/`.

pub mod cdr;
pub mod diameter;
pub mod http;

use crate::config::{ChargingConfig, ChargingMode, ConfigIssue};
use crate::domain::{Address, MessageId, Timestamp};
use crate::handlers::{HandlerError, Services};
use crate::ports::{
    ChargeOutcome, ChargeRequest, Charging, ChargingError, ChargingOp, Key, NoCharging,
};
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use std::time::Duration;
use tracing::{info, warn};

pub use diameter::{CcrSettings, DiameterCharging};
pub use http::HttpCharging;

/// Where one recipient's charge stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ChargeState {
    /// CCR EVENT (direct debit) claimed, answer not yet recorded.
    Debiting,
    /// Debited; final outcome not yet known.
    Debited,
    /// CCR INITIAL claimed, answer not yet recorded.
    Reserving,
    /// Units reserved; waiting for end-to-end evidence.
    Reserved,
    /// The server refused the acceptance charge (the submission was rejected).
    Refused,
    Committing,
    Committed,
    Releasing,
    Released,
    Refunding,
    Refunded,
    /// Event mode, final: delivered (or failed without refund); nothing more to send.
    Settled,
    /// A commit, release or refund the server refused; recorded, not retried.
    SettleRefused,
}

impl ChargeState {
    fn op(self) -> Option<ChargingOp> {
        match self {
            ChargeState::Debiting => Some(ChargingOp::Event),
            ChargeState::Reserving => Some(ChargingOp::Reserve),
            ChargeState::Committing => Some(ChargingOp::Commit),
            ChargeState::Releasing => Some(ChargingOp::Release),
            ChargeState::Refunding => Some(ChargingOp::Refund),
            _ => None,
        }
    }
}

/// The charge record of one recipient.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ChargeRecord {
    pub state: ChargeState,
    /// The request as sent on acceptance; later steps reuse it with another op.
    pub request: ChargeRequest,
    pub result_code: Option<u32>,
    pub session_id: Option<String>,
    pub granted_units: Option<u64>,
    pub updated_at: Timestamp,
}

pub fn charge_key(id: &MessageId, index: u32) -> Key {
    Key::new(format!("charge#{id}"), format!("{index:05}"))
}

/// The final fate of a recipient, as far as charging cares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// End-to-end evidence of delivery: commit.
    Delivered,
    /// Rejected, failed, expired: release, or refund in event mode.
    Failed,
}

/// A submission to charge on acceptance (what MM1, MM7 and MM4 ingest know).
#[derive(Debug, Clone)]
pub struct Submission<'a> {
    pub message_id: &'a MessageId,
    /// The party charged (Subscription-Id, Originator-Address).
    pub from: &'a Address,
    /// In recipient-index order (index `i` is `recipients[i]`).
    pub recipients: &'a [Address],
    pub size: u64,
    pub content_type: Option<&'a str>,
    pub submitted_at: Timestamp,
    /// The originator's message id, if it has one.
    pub mms_message_id: Option<&'a str>,
    /// VASP service code (MM7), if any.
    pub service_code: Option<&'a str>,
    /// MM7 `ChargedParty` Recipient: each recipient's own account is charged
    /// (Subscription-Id) instead of `from`.
    pub charge_recipients: bool,
}

/// Why a submission may not be accepted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ChargeReject {
    /// The charging server answered `result_code` (not 2001): reject the
    /// submission for good (MM1 `Error-permanent-...`/service denied, MM7 4xxx/
    /// 2xxx client error, MM4 `Error-service-denied`, SMTP 550).
    #[error("charging refused: Diameter Result-Code {result_code}")]
    Refused { result_code: u32 },
    /// The charging system could not be reached: answer with a temporary error
    /// (SMTP 451, MM7 3000-range, MM1 `Error-transient-failure`) so the peer retries.
    #[error("charging unavailable: {0}")]
    Unavailable(String),
}

impl From<ChargeReject> for HandlerError {
    fn from(e: ChargeReject) -> Self {
        match e {
            ChargeReject::Refused { .. } => HandlerError::Permanent(e.to_string()),
            ChargeReject::Unavailable(_) => HandlerError::Transient(e.to_string()),
        }
    }
}

/// The charging adapter `[charging]` asks for: none, the sidecar over HTTP, or the
/// in-process Diameter client (which needs a Tokio runtime).
pub fn adapter(c: &ChargingConfig) -> Result<Arc<dyn Charging>, String> {
    if c.mode == ChargingMode::None {
        return Ok(Arc::new(NoCharging));
    }
    if let Some(url) = &c.sidecar_url {
        let timeout = Duration::from_millis(c.request_timeout_ms.saturating_add(2000));
        return Ok(Arc::new(HttpCharging::new(url, timeout)?));
    }
    Ok(Arc::new(DiameterCharging::start(c)?))
}

impl ChargingConfig {
    /// Problems with `[charging]`, each naming its key.
    pub fn issues(&self) -> Vec<ConfigIssue> {
        let mut v = Vec::new();
        let mut bad = |key: &str, message: String| {
            v.push(ConfigIssue {
                key: format!("charging.{key}"),
                message,
            })
        };
        if let Some(m) = &self.money
            && let Err(e) = crate::codec::diameter::UnitValue::from_decimal(m)
        {
            bad("money", format!("{m:?}: {e}"));
        }
        if self.money.is_some() != self.currency.is_some() {
            bad("currency", "money and currency go together".into());
        }
        if self.currency.is_some_and(|c| c > 999) {
            bad("currency", "an ISO 4217 numeric code (978, 840)".into());
        }
        if self.service_context_id.is_empty() {
            bad("service_context_id", "must not be empty".into());
        }
        if self.watchdog_interval_secs == 0 {
            bad("watchdog_interval_secs", "must be at least 1".into());
        }
        if self.request_timeout_ms < 100 {
            bad("request_timeout_ms", "must be at least 100".into());
        }
        if let Some(u) = &self.sidecar_url
            && !u.starts_with("http://")
        {
            bad("sidecar_url", "must be an http:// URL".into());
        }
        for (i, p) in self.peers.iter().enumerate() {
            if p.address.is_empty() {
                bad(&format!("peers[{i}].address"), "must be host:port".into());
            }
        }
        if self.mode == ChargingMode::None {
            return v;
        }
        if self.sidecar_url.is_none() {
            for key in ["origin_host", "origin_realm", "destination_realm"] {
                let missing = match key {
                    "origin_host" => self.origin_host.is_none(),
                    "origin_realm" => self.origin_realm.is_none(),
                    _ => self.destination_realm.is_none(),
                };
                if missing {
                    bad(key, "required when charging.mode is not none".into());
                }
            }
            if self.peers.is_empty() {
                bad(
                    "peers",
                    "at least one charging server is required (or set sidecar_url)".into(),
                );
            }
        }
        v
    }
}

fn mode(svc: &Services) -> ChargingMode {
    svc.config.charging.mode
}

/// Charges a submission on acceptance: the function every front calls before it
/// accepts a message (MM1 `m-send.req`, MM7 `MM7_submit`, and MM4 ingest when
/// `charging.charge_mm4_incoming` is set).
///
/// - `Ok(())`: go ahead (also in mode `none`).
/// - `Err(ChargeReject::Refused)`: reject the submission with the interface's
///   permanent error; whatever was already charged for it is released/refunded.
/// - `Err(ChargeReject::Unavailable)`: answer with a temporary error.
///
/// Idempotent per `(message_id, recipient index)`: calling it again for the same
/// message (a retried job, a retried submission with the same id) charges nobody
/// twice.
pub async fn charge_on_acceptance(
    svc: &Services,
    sub: &Submission<'_>,
) -> Result<(), ChargeReject> {
    let op = match mode(svc) {
        ChargingMode::None => return Ok(()),
        ChargingMode::Event => ChargingOp::Event,
        ChargingMode::ReserveCommit => ChargingOp::Reserve,
    };
    let (pending, done) = match op {
        ChargingOp::Event => (ChargeState::Debiting, ChargeState::Debited),
        _ => (ChargeState::Reserving, ChargeState::Reserved),
    };
    for (i, to) in sub.recipients.iter().enumerate() {
        let index = i as u32;
        let request = ChargeRequest {
            op,
            message_id: sub.message_id.clone(),
            charge_key: format!("{}-{index}", sub.message_id),
            subscriber: if sub.charge_recipients {
                to.clone()
            } else {
                sub.from.clone()
            },
            recipient: to.clone(),
            size: sub.size,
            service_code: sub.service_code.map(String::from),
            content_type: sub.content_type.map(String::from),
            submitted_at: Some(sub.submitted_at.unix_secs()),
            mms_message_id: sub.mms_message_id.map(String::from),
            retransmit: false,
        };
        let record = ChargeRecord {
            state: pending,
            request,
            result_code: None,
            session_id: None,
            granted_units: None,
            updated_at: svc.clock.now(),
        };
        let key = charge_key(sub.message_id, index);
        let value = serde_json::to_vec(&record).unwrap_or_default();
        let ttl = Some(ttl(svc));
        let (mut rec, version, fresh) = match svc.state.create(&key, &value, ttl).await {
            Ok(v) => (record, v, true),
            Err(e) if e.is_conflict() => {
                match load(svc, &key).await.map_err(ChargeReject::Unavailable)? {
                    Some((r, v)) => (r, v, false),
                    None => return Err(ChargeReject::Unavailable("charge record vanished".into())),
                }
            }
            Err(e) => return Err(ChargeReject::Unavailable(e.to_string())),
        };
        match rec.state {
            ChargeState::Refused => {
                return Err(ChargeReject::Refused {
                    result_code: rec.result_code.unwrap_or(0),
                });
            }
            s if s == pending => {}
            _ => continue, // charged already (and maybe settled since)
        }
        if !fresh && !stale(svc, &rec) {
            // Another attempt is sending this very request right now.
            return Err(ChargeReject::Unavailable(
                "charging of this submission is in progress".into(),
            ));
        }
        // Found claimed by an earlier attempt: it may have reached the server.
        let mut req = rec.request.clone();
        req.retransmit = !fresh;
        let outcome = match svc.charging.charge(&req).await {
            Ok(o) => o,
            Err(e) => {
                warn!(message_id = %sub.message_id, recipient = index, error = %e, "charging on acceptance failed");
                return Err(ChargeReject::Unavailable(e.to_string()));
            }
        };
        let ok = outcome.is_success();
        rec.state = if ok { done } else { ChargeState::Refused };
        rec.result_code = Some(outcome.result_code);
        rec.session_id = outcome.session_id.clone();
        rec.granted_units = outcome.granted_units;
        rec.updated_at = svc.clock.now();
        store(svc, &key, version, &rec)
            .await
            .map_err(ChargeReject::Unavailable)?;
        cdr::write(
            svc,
            &rec,
            index,
            op,
            &outcome,
            if ok { None } else { Some("refused") },
        )
        .await;
        info!(message_id = %sub.message_id, recipient = index, op = ?op, result_code = outcome.result_code, "charged on acceptance");
        if !ok {
            // Nobody pays for a submission we reject: undo what was charged.
            for j in 0..sub.recipients.len() as u32 {
                if j != index
                    && let Err(e) = settle_with(svc, sub.message_id, j, Outcome::Failed, true).await
                {
                    warn!(message_id = %sub.message_id, recipient = j, error = %e, "could not undo a charge of a refused submission");
                }
            }
            return Err(ChargeReject::Refused {
                result_code: outcome.result_code,
            });
        }
    }
    Ok(())
}

/// A step claimed this long ago without a recorded answer is taken over (and
/// resent with the T flag); a younger claim belongs to an attempt still running.
fn stale(svc: &Services, rec: &ChargeRecord) -> bool {
    let limit = Duration::from_millis(svc.config.charging.request_timeout_ms.saturating_mul(2))
        + Duration::from_secs(2);
    svc.clock.now().since(rec.updated_at) >= limit
}

fn ttl(svc: &Services) -> Timestamp {
    svc.clock.now().plus(Duration::from_secs(
        svc.config.mmsc.retention_secs + svc.config.mmsc.default_expiry_secs,
    ))
}

async fn load(svc: &Services, key: &Key) -> Result<Option<(ChargeRecord, u64)>, String> {
    let Some(item) = svc.state.get(key).await.map_err(|e| e.to_string())? else {
        return Ok(None);
    };
    let r: ChargeRecord = serde_json::from_slice(&item.value)
        .map_err(|e| format!("corrupt charge record {}/{}: {e}", key.pk, key.sk))?;
    Ok(Some((r, item.version)))
}

async fn store(svc: &Services, key: &Key, version: u64, rec: &ChargeRecord) -> Result<u64, String> {
    let value = serde_json::to_vec(rec).unwrap_or_default();
    svc.state
        .update(key, version, &value, Some(ttl(svc)))
        .await
        .map_err(|e| e.to_string())
}

/// The final fate of recipient `index` of `message_id` is known: commit (on
/// end-to-end evidence), release, or refund. Does nothing in mode `none`, for a
/// recipient that was never charged, or one already settled. Safe to call any
/// number of times.
pub async fn settle(
    svc: &Services,
    message_id: &MessageId,
    index: u32,
    outcome: Outcome,
) -> Result<(), HandlerError> {
    if mode(svc) == ChargingMode::None {
        return Ok(());
    }
    settle_with(svc, message_id, index, outcome, false).await
}

/// [`settle`] for every listed recipient.
pub async fn settle_all(
    svc: &Services,
    message_id: &MessageId,
    indexes: &[u32],
    outcome: Outcome,
) -> Result<(), HandlerError> {
    for i in indexes {
        settle(svc, message_id, *i, outcome).await?;
    }
    Ok(())
}

async fn settle_with(
    svc: &Services,
    message_id: &MessageId,
    index: u32,
    outcome: Outcome,
    force_refund: bool,
) -> Result<(), HandlerError> {
    let key = charge_key(message_id, index);
    // A few rounds: each claims one step by compare-and-set, then performs it.
    for _ in 0..4 {
        let Some((mut rec, version)) = load(svc, &key).await.map_err(HandlerError::Transient)?
        else {
            return Ok(()); // never charged
        };
        let refund = force_refund || svc.config.charging.refund_on_failure;
        // Either a step to claim now, or one claimed earlier to resend (T flag).
        let (claim, resend) = match (rec.state, outcome) {
            (ChargeState::Reserved, Outcome::Delivered) => (Some(ChargeState::Committing), false),
            (ChargeState::Reserved, Outcome::Failed) => (Some(ChargeState::Releasing), false),
            (ChargeState::Debited, Outcome::Failed) if refund => {
                (Some(ChargeState::Refunding), false)
            }
            (ChargeState::Debited, _) => {
                // Event mode: the debit stands; record the final outcome once.
                rec.state = ChargeState::Settled;
                rec.updated_at = svc.clock.now();
                match store(svc, &key, version, &rec).await {
                    Ok(_) => {
                        let o = ChargeOutcome {
                            result_code: rec.result_code.unwrap_or(0),
                            granted_units: rec.granted_units,
                            granted_money: None,
                            session_id: rec.session_id.clone(),
                            server: None,
                        };
                        let what = match outcome {
                            Outcome::Delivered => "delivered",
                            Outcome::Failed => "failed-not-refunded",
                        };
                        cdr::write(svc, &rec, index, ChargingOp::Event, &o, Some(what)).await;
                        return Ok(());
                    }
                    Err(_) => continue, // lost a race: look again
                }
            }
            (
                s @ (ChargeState::Committing | ChargeState::Releasing | ChargeState::Refunding),
                _,
            ) => (Some(s), true),
            (s @ (ChargeState::Reserving | ChargeState::Debiting), _) => {
                // The acceptance charge was claimed but its answer never recorded
                // (a crash): finish it first, then settle.
                (Some(s), true)
            }
            _ => return Ok(()), // settled, refused, or nothing to do
        };
        let Some(step) = claim else { return Ok(()) };
        if resend && !stale(svc, &rec) {
            // Another worker is sending this step right now; look again later.
            return Err(HandlerError::Transient(
                "charging step in progress elsewhere".into(),
            ));
        }
        let mut version = version;
        if !resend {
            rec.state = step;
            rec.updated_at = svc.clock.now();
            version = match store(svc, &key, version, &rec).await {
                Ok(v) => v,
                Err(_) => continue, // another worker moved it: look again
            };
        }
        let Some(op) = step.op() else { return Ok(()) };
        let mut req = rec.request.clone();
        req.op = op;
        req.retransmit = resend;
        let answer = svc.charging.charge(&req).await;
        let o = match answer {
            Ok(o) => o,
            Err(ChargingError::Unavailable(e)) | Err(ChargingError::Protocol(e)) => {
                warn!(message_id = %message_id, recipient = index, op = ?op, error = %e, "charging step failed; will retry");
                return Err(HandlerError::Transient(format!("charging {op:?}: {e}")));
            }
        };
        let ok = o.is_success();
        rec.state = match (step, ok) {
            (ChargeState::Committing, true) => ChargeState::Committed,
            (ChargeState::Releasing, true) => ChargeState::Released,
            (ChargeState::Refunding, true) => ChargeState::Refunded,
            (ChargeState::Reserving, true) => ChargeState::Reserved,
            (ChargeState::Debiting, true) => ChargeState::Debited,
            (ChargeState::Reserving | ChargeState::Debiting, false) => ChargeState::Refused,
            _ => ChargeState::SettleRefused,
        };
        rec.result_code = Some(o.result_code);
        if o.session_id.is_some() {
            rec.session_id = o.session_id.clone();
        }
        rec.updated_at = svc.clock.now();
        if store(svc, &key, version, &rec).await.is_err() {
            // Someone else recorded this step meanwhile; their record stands.
            return Ok(());
        }
        let note = (!ok).then_some("refused");
        cdr::write(svc, &rec, index, op, &o, note).await;
        info!(message_id = %message_id, recipient = index, op = ?op, result_code = o.result_code, "charging step done");
        if matches!(step, ChargeState::Reserving | ChargeState::Debiting) && ok {
            continue; // now settle
        }
        return Ok(());
    }
    Err(HandlerError::Transient(
        "charge record kept changing; will retry".into(),
    ))
}

/// The charge records of a message, by recipient index (for trace and tests).
pub async fn records(
    svc: &Services,
    message_id: &MessageId,
) -> Result<Vec<(u32, ChargeRecord)>, String> {
    let items = svc
        .state
        .query(&format!("charge#{message_id}"))
        .await
        .map_err(|e| e.to_string())?;
    Ok(items
        .into_iter()
        .filter_map(|i| {
            let idx = i.key.sk.parse().ok()?;
            let r = serde_json::from_slice(&i.value).ok()?;
            Some((idx, r))
        })
        .collect())
}

/// Acceptance charging for a message received from an MM4 partner, when
/// `charging.charge_mm4_incoming` is set (the originator is charged, as for an
/// MM1 submission). `Ok(Some(reason))`: the charging server refused; the caller
/// rejects the message. Unavailable charging is a transient handler error.
pub async fn charge_mm4_acceptance(
    svc: &Services,
    msg: &crate::domain::MessageRecord,
) -> Result<Option<String>, HandlerError> {
    if !svc.config.charging.charge_mm4_incoming {
        return Ok(None);
    }
    charge_message_acceptance(svc, msg, None, false).await
}

/// Acceptance charging for a recorded message (MM7 submissions, and MM4 ones when
/// enabled): the originator is charged once per recipient, with the VASP's service
/// code when there is one. `Ok(Some(reason))`: the charging server refused and the
/// caller rejects the message; unavailable charging is a transient handler error.
pub async fn charge_message_acceptance(
    svc: &Services,
    msg: &crate::domain::MessageRecord,
    service_code: Option<&str>,
    charge_recipients: bool,
) -> Result<Option<String>, HandlerError> {
    if mode(svc) == ChargingMode::None {
        return Ok(None);
    }
    let Some(view) = svc.records().load(&msg.id).await? else {
        return Err(HandlerError::Transient("message vanished".into()));
    };
    let recipients: Vec<Address> = view.recipients.iter().map(|r| r.address.clone()).collect();
    let sub = Submission {
        message_id: &msg.id,
        from: &msg.from,
        recipients: &recipients,
        size: msg.size,
        content_type: msg.content_type.as_deref(),
        submitted_at: msg.received_at,
        mms_message_id: msg.peer_message_id.as_deref(),
        service_code,
        charge_recipients,
    };
    match charge_on_acceptance(svc, &sub).await {
        Ok(()) => Ok(None),
        Err(ChargeReject::Refused { result_code }) => Ok(Some(format!(
            "charging refused: Diameter Result-Code {result_code}"
        ))),
        Err(e) => Err(e.into()),
    }
}

/// The charging outcome a recipient state implies, if final.
pub fn outcome_of_state(state: crate::domain::RecipientState) -> Option<Outcome> {
    use crate::domain::RecipientState as S;
    match state {
        S::Retrieved | S::Delivered => Some(Outcome::Delivered),
        S::Rejected | S::Expired | S::Failed => Some(Outcome::Failed),
        _ => None,
    }
}

#[cfg(test)]
mod tests;
