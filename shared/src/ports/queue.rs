use async_trait::async_trait;
use std::time::Duration;

/// Queue names. On AWS each is an SQS queue (with a `-dlq` twin); embedded, a table.
pub mod queues {
    pub const INGEST: &str = "ingest";
    pub const MM4_OUT: &str = "mm4-out";
    pub const MM1_NOTIFY: &str = "mm1-notify";
    pub const MM7_OUT: &str = "mm7-out";
    pub const ALL: [&str; 4] = [INGEST, MM4_OUT, MM1_NOTIFY, MM7_OUT];
    /// Scheduled expiry ticks (on AWS an EventBridge schedule sends `{"job":"expire"}`).
    pub const EXPIRE: &str = "expire";
    /// The dead-letter queue of `queue`.
    pub fn dead_letter(queue: &str) -> String {
        format!("{queue}-dlq")
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueueMessage {
    /// Stable id of the message (the same on every delivery).
    pub id: String,
    /// Handle for `delete`/`set_visibility`; valid only for this delivery.
    pub receipt: String,
    pub body: Vec<u8>,
    /// How many times this message has been received, this delivery included (1 on
    /// the first delivery).
    pub receive_count: u32,
}

#[derive(Debug, thiserror::Error)]
pub enum QueueError {
    #[error("unknown queue {0:?}")]
    UnknownQueue(String),
    /// The receipt is stale: the visibility timeout ran out and the message was
    /// delivered again (or it was already deleted).
    #[error("stale or unknown receipt")]
    StaleReceipt,
    #[error("message body of {0} bytes exceeds the queue limit")]
    TooLarge(usize),
    #[error("queue backend error: {0}")]
    Backend(String),
}

/// At-least-once job queues with visibility timeouts and dead-lettering.
///
/// A received message is invisible for the visibility timeout, then delivered again
/// unless deleted. A message received `max_receives` times (adapter configuration, the
/// SQS redrive policy's `maxReceiveCount`) and still not deleted moves to the queue's
/// dead-letter queue instead of being delivered again.
#[async_trait]
pub trait Queue: Send + Sync {
    /// Enqueues `body`, visible after `delay`; durable when it returns. Returns the id.
    async fn send(&self, queue: &str, body: &[u8], delay: Duration) -> Result<String, QueueError>;
    /// Up to `max` visible messages, hidden for `visibility`; waits up to `wait` for
    /// the first one (long polling). An empty vector means none arrived in time.
    async fn receive(
        &self,
        queue: &str,
        max: usize,
        visibility: Duration,
        wait: Duration,
    ) -> Result<Vec<QueueMessage>, QueueError>;
    /// Enqueues several bodies at once (SQS: `SendMessageBatch`, ten a request), all
    /// visible at once; ids in input order. On `Err` some bodies may have been sent:
    /// callers retry the whole batch, and receivers are idempotent anyway.
    async fn send_batch(&self, queue: &str, bodies: &[&[u8]]) -> Result<Vec<String>, QueueError> {
        let mut ids = Vec::with_capacity(bodies.len());
        for body in bodies {
            ids.push(self.send(queue, body, Duration::ZERO).await?);
        }
        Ok(ids)
    }
    /// Acknowledges a processed message.
    ///
    /// With the receipt of an earlier delivery (the visibility timeout ran out and the
    /// message was delivered again) or of a message already deleted, an adapter that
    /// can tell answers [`QueueError::StaleReceipt`] and leaves the message alone. SQS
    /// cannot always tell: it answers success, and may delete the message anyway (see
    /// [`contract::StaleReceipts`](super::contract::StaleReceipts)). Handlers are
    /// idempotent, so either is safe; a receipt no delivery ever had is always
    /// `StaleReceipt`.
    async fn delete(&self, queue: &str, receipt: &str) -> Result<(), QueueError>;
    /// Changes when an in-flight message becomes visible again (backoff: `Duration`
    /// until retry; zero returns it at once). Stale receipts as for [`Queue::delete`].
    async fn set_visibility(
        &self,
        queue: &str,
        receipt: &str,
        visibility: Duration,
    ) -> Result<(), QueueError>;
    /// Approximate number of messages waiting or in flight (for health and metrics).
    async fn depth(&self, queue: &str) -> Result<u64, QueueError>;
}
