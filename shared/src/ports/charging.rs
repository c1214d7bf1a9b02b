use crate::domain::{Address, MessageId};
use async_trait::async_trait;
use serde::{Deserialize, Serialize};

/// What to do with credit (RFC 4006 / TS 32.299 terms).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ChargingOp {
    /// One-shot direct debit (CCR EVENT_REQUEST, DIRECT_DEBITING).
    Event,
    /// Reserve units (CCR INITIAL_REQUEST).
    Reserve,
    /// Commit used units of a reservation (CCR TERMINATION_REQUEST with Used-Service-Unit).
    Commit,
    /// Release a reservation without use (CCR TERMINATION_REQUEST, no used units).
    Release,
    /// Give back a direct debit (CCR EVENT_REQUEST, REFUND_ACCOUNT).
    Refund,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChargeRequest {
    pub op: ChargingOp,
    pub message_id: MessageId,
    /// Idempotency key: the same key is charged at most once.
    pub charge_key: String,
    /// The party charged (Subscription-Id).
    pub subscriber: Address,
    pub recipient: Address,
    pub size: u64,
    pub service_code: Option<String>,
    /// MM-Content-Type's type, e.g. `multipart/related` (MMS-Information).
    #[serde(default)]
    pub content_type: Option<String>,
    /// When the message was submitted (unix seconds; Submission-Time).
    #[serde(default)]
    pub submitted_at: Option<i64>,
    /// The originator's Message-ID (MMS-Information Message-ID), else ours.
    #[serde(default)]
    pub mms_message_id: Option<String>,
    /// This request may have reached the server before (a retry after a crash or
    /// a lost answer): sent with the T flag so the server can detect a duplicate.
    #[serde(default)]
    pub retransmit: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChargeOutcome {
    /// Diameter Result-Code (2001 = DIAMETER_SUCCESS).
    pub result_code: u32,
    pub granted_units: Option<u64>,
    /// Granted CC-Money, decimal (`0.25`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub granted_money: Option<String>,
    /// The Diameter Session-Id used.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session_id: Option<String>,
    /// The charging server that answered (Origin-Host).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub server: Option<String>,
}

impl ChargeOutcome {
    pub const SUCCESS: u32 = 2001;
    pub fn is_success(&self) -> bool {
        self.result_code == Self::SUCCESS
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ChargingError {
    /// The charging system could not be reached or timed out: retry later.
    #[error("charging system unavailable: {0}")]
    Unavailable(String),
    #[error("charging protocol error: {0}")]
    Protocol(String),
}

#[async_trait]
pub trait Charging: Send + Sync {
    async fn charge(&self, req: &ChargeRequest) -> Result<ChargeOutcome, ChargingError>;
    /// Closes connections politely (Diameter DPR/DPA) when the process stops.
    async fn shutdown(&self) {}
}

/// Charging mode `none`: every request succeeds without contacting anyone.
#[derive(Debug, Default, Clone, Copy)]
pub struct NoCharging;

#[async_trait]
impl Charging for NoCharging {
    async fn charge(&self, _req: &ChargeRequest) -> Result<ChargeOutcome, ChargingError> {
        Ok(ChargeOutcome {
            result_code: ChargeOutcome::SUCCESS,
            granted_units: None,
            granted_money: None,
            session_id: None,
            server: None,
        })
    }
}
