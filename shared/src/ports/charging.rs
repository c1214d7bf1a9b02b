use crate::domain::{Address, MessageId};
use async_trait::async_trait;
use serde::{Deserialize, Serialize};

/// What to do with credit (RFC 4006 / TS 32.299 terms).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
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
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChargeOutcome {
    /// Diameter Result-Code (2001 = DIAMETER_SUCCESS).
    pub result_code: u32,
    pub granted_units: Option<u64>,
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
        })
    }
}
