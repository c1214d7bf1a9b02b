//! Taking in a PDU: a front stores the raw bytes a peer sent and queues the job that
//! will handle them, and answers the peer (SMTP `250`, MM7 `1000`, MM1 `m-send.conf`)
//! only once both are durable.

use super::{ObjectError, ObjectStore, Queue, QueueError};
use async_trait::async_trait;
use bytes::Bytes;
use std::sync::Arc;
use std::time::Duration;

/// One PDU as a front took it in.
#[derive(Debug, Clone)]
pub struct Arrival<'a> {
    /// Object key of the raw PDU.
    pub key: &'a str,
    pub body: Bytes,
    pub content_type: &'a str,
    /// Queue of the job (e.g. [`super::queues::INGEST`]).
    pub queue: &'a str,
    /// The job, as the queue carries it.
    pub job: &'a [u8],
}

#[derive(Debug, thiserror::Error)]
pub enum IntakeError {
    #[error("storing the PDU failed: {0}")]
    Store(#[from] ObjectError),
    #[error("queueing its job failed: {0}")]
    Queue(#[from] QueueError),
    #[error("storing the PDU with its job failed: {0}")]
    Backend(String),
}

/// Stores a PDU and queues its job.
///
/// `accept` returns `Ok` only when the object and the job are both durable. After an
/// error the caller refuses the PDU (the peer retries); an implementation leaves
/// nothing behind where it can (the embedded one writes both in one transaction; the
/// generic one deletes the object again), and a handler drops a job whose object never
/// appears (`handlers::ingest::MISSING_OBJECT_GRACE`).
#[async_trait]
pub trait Intake: Send + Sync {
    async fn accept(&self, arrival: Arrival<'_>) -> Result<(), IntakeError>;
}

/// [`Intake`] over an object store and a queue that are separate services (S3 and
/// SQS, or the embedded files for PDUs too large to keep inline).
///
/// * [`SeparateIntake::new`]: the put, then the send; when the send fails the object
///   is deleted again, so a refused PDU leaves nothing behind.
/// * [`SeparateIntake::at_once`]: the put and the send at the same time, since each
///   waits for its own durable write and one after the other doubles the time to the
///   answer. A job can then become visible a moment before its object (handlers wait
///   for it), and when the put fails the job is left behind with no object (the
///   handler drops it after its grace period); the object of a failed send is deleted.
pub struct SeparateIntake {
    objects: Arc<dyn ObjectStore>,
    queue: Arc<dyn Queue>,
    at_once: bool,
}

impl SeparateIntake {
    pub fn new(objects: Arc<dyn ObjectStore>, queue: Arc<dyn Queue>) -> Self {
        SeparateIntake {
            objects,
            queue,
            at_once: false,
        }
    }

    pub fn at_once(objects: Arc<dyn ObjectStore>, queue: Arc<dyn Queue>) -> Self {
        SeparateIntake {
            objects,
            queue,
            at_once: true,
        }
    }
}

#[async_trait]
impl Intake for SeparateIntake {
    async fn accept(&self, a: Arrival<'_>) -> Result<(), IntakeError> {
        let error = if self.at_once {
            let put = self.objects.put(a.key, a.body, a.content_type);
            let send = self.queue.send(a.queue, a.job, Duration::ZERO);
            match tokio::join!(put, send) {
                (Ok(()), Ok(_)) => return Ok(()),
                (Err(e), _) => IntakeError::Store(e),
                (Ok(()), Err(e)) => IntakeError::Queue(e),
            }
        } else {
            self.objects.put(a.key, a.body, a.content_type).await?;
            match self.queue.send(a.queue, a.job, Duration::ZERO).await {
                Ok(_) => return Ok(()),
                Err(e) => IntakeError::Queue(e),
            }
        };
        // Whatever landed of a refused PDU goes (a failed put may have half-landed).
        if let Err(e) = self.objects.delete(a.key).await {
            tracing::warn!(key = a.key, error = %e, "could not remove the object of a refused PDU");
        }
        Err(error)
    }
}
