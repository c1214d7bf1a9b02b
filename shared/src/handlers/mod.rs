//! Queue handlers: plain async functions over ports. The embedded worker pool and the
//! Lambda functions both call [`handle`] with a decoded [`Job`].
//!
//! Every handler is idempotent, because queues deliver at least once: records are
//! keyed by the PDU's own identity, state moves by compare-and-set, and the ids of
//! PDUs we emit are derived from our message id, so a repeated run re-sends the same
//! PDU (which the receiver dedups) rather than a different one.

pub mod expire;
pub mod ingest;
pub mod mm1;
pub mod mm4_out;
pub mod mm7_in;
pub mod mm7_out;
pub mod outbound;
pub mod records;
pub mod trace;

use crate::config::Config;
use crate::domain::{Interface, Job};
use crate::ports::{
    Charging, Clock, Mm4Transport, ObjectError, ObjectStore, Queue, QueueError, StateStore,
};
use crate::routing::{Router, RoutingError};
use records::{RecordError, Records};
use std::sync::Arc;
use std::time::Duration;

/// Everything a handler may use: configuration and the ports.
pub struct Services {
    pub config: Arc<Config>,
    pub router: Router,
    pub objects: Arc<dyn ObjectStore>,
    pub state: Arc<dyn StateStore>,
    pub queue: Arc<dyn Queue>,
    pub charging: Arc<dyn Charging>,
    pub clock: Arc<dyn Clock>,
    pub mm4: Arc<dyn Mm4Transport>,
}

impl Services {
    pub fn records(&self) -> Records<'_> {
        Records::new(
            self.state.as_ref(),
            self.clock.as_ref(),
            Duration::from_secs(self.config.mmsc.retention_secs),
        )
        .with_default_expiry(Duration::from_secs(self.config.mmsc.default_expiry_secs))
    }
}

/// How a job failed, which decides what the queue does with it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HandlerError {
    /// Retry later (with backoff): a store, queue, network or peer was unavailable.
    #[error("temporary failure: {0}")]
    Transient(String),
    /// Never retry: the failure is recorded (and reported where asked); the job is
    /// acknowledged.
    #[error("permanent failure: {0}")]
    Permanent(String),
}

impl From<RecordError> for HandlerError {
    fn from(e: RecordError) -> Self {
        match e {
            RecordError::Corrupt { .. } => HandlerError::Permanent(e.to_string()),
            other => HandlerError::Transient(other.to_string()),
        }
    }
}

impl From<ObjectError> for HandlerError {
    fn from(e: ObjectError) -> Self {
        match e {
            ObjectError::InvalidKey(_) => HandlerError::Permanent(e.to_string()),
            other => HandlerError::Transient(other.to_string()),
        }
    }
}

impl From<QueueError> for HandlerError {
    fn from(e: QueueError) -> Self {
        match e {
            QueueError::TooLarge(_) | QueueError::UnknownQueue(_) => {
                HandlerError::Permanent(e.to_string())
            }
            other => HandlerError::Transient(other.to_string()),
        }
    }
}

impl From<RoutingError> for HandlerError {
    fn from(e: RoutingError) -> Self {
        HandlerError::Transient(e.to_string())
    }
}

/// Runs one job. `receive_count` is how many times the queue has delivered it (1 on
/// the first delivery); handlers that give up after N attempts use it.
pub async fn handle(svc: &Services, job: &Job, receive_count: u32) -> Result<(), HandlerError> {
    match job {
        Job::Ingest {
            interface: Interface::Mm4,
            object_key,
            peer,
            rcpt_to,
            received_at,
            ..
        } => ingest::mm4(svc, object_key, peer, rcpt_to, *received_at).await,
        Job::Ingest {
            interface: Interface::Mm7,
            object_key,
            peer,
            received_at,
            ..
        } => mm7_in::handle(svc, object_key, peer, *received_at).await,
        Job::Ingest {
            interface: Interface::Mm1,
            object_key,
            peer,
            received_at,
            ..
        } => mm1::submit::ingest(svc, object_key, peer, *received_at).await,
        Job::Mm1Notify {
            message_id,
            recipient,
        } => mm1::notify::notify(svc, message_id, *recipient).await,
        Job::Mm1Push {
            msisdn,
            object_key,
            message_id,
        } => mm1::notify::push_stored(svc, msisdn, object_key, message_id).await,
        Job::RecipientEvent {
            message_id,
            recipient,
            state,
            reason,
        } => ingest::recipient_event(svc, message_id, *recipient, *state, reason.as_deref()).await,
        Job::Mm4Out {
            partner,
            object_key,
            mail_from,
            rcpt_to,
            pdu,
        } => {
            mm4_out::handle(
                svc,
                partner,
                object_key,
                mail_from,
                rcpt_to,
                pdu,
                receive_count,
            )
            .await
        }
        Job::Mm7Out {
            vasp,
            message_id,
            recipient,
        } => mm7_out::deliver(svc, vasp, message_id, *recipient, receive_count).await,
        Job::Mm7Request {
            vasp,
            object_key,
            message_id,
            operation,
        } => {
            mm7_out::request(
                svc,
                vasp,
                object_key,
                message_id.as_ref(),
                operation,
                receive_count,
            )
            .await
        }
        Job::Expire {} => expire::run(svc).await,
    }
}

#[cfg(test)]
mod tests;
