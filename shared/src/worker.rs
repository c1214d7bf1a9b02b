//! The embedded worker pool: polls one queue and runs [`handlers::handle`] on each
//! job, with bounded concurrency, exponential backoff on transient failures and a
//! graceful shutdown that finishes or returns in-flight jobs. On AWS, Lambda's SQS
//! event source plays this role.

use crate::domain::Job;
use crate::handlers::{self, HandlerError, Services};
use crate::ports::QueueMessage;
use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::{Semaphore, watch};
use tracing::{Instrument, debug, error, info, info_span, warn};

#[derive(Debug, Clone)]
pub struct WorkerSettings {
    /// Jobs handled at once.
    pub concurrency: usize,
    /// How long a received job stays hidden while handled.
    pub visibility: Duration,
    /// First retry delay after a transient failure; doubled per attempt up to `retry_max`.
    pub retry_initial: Duration,
    pub retry_max: Duration,
    /// Long-poll wait per receive.
    pub poll_wait: Duration,
    /// How long shutdown waits for in-flight jobs before returning them to the queue.
    pub shutdown_grace: Duration,
}

impl WorkerSettings {
    pub fn from_config(cfg: &crate::config::Config) -> Self {
        WorkerSettings {
            concurrency: cfg.queues.workers,
            visibility: Duration::from_secs(cfg.queues.visibility_timeout_secs),
            retry_initial: Duration::from_secs(cfg.queues.retry_initial_secs),
            retry_max: Duration::from_secs(cfg.queues.retry_max_secs),
            poll_wait: Duration::from_secs(1),
            shutdown_grace: Duration::from_secs(20),
        }
    }

    /// Delay before delivery number `receive_count + 1`.
    pub fn backoff(&self, receive_count: u32) -> Duration {
        let exp = receive_count.saturating_sub(1).min(20);
        self.retry_initial
            .saturating_mul(1u32 << exp)
            .min(self.retry_max)
    }
}

/// Runs until `shutdown` becomes true, then drains.
pub async fn run(
    queue: &'static str,
    svc: Arc<Services>,
    settings: WorkerSettings,
    mut shutdown: watch::Receiver<bool>,
) {
    let permits = Arc::new(Semaphore::new(settings.concurrency.max(1)));
    let in_flight: Arc<Mutex<HashSet<String>>> = Arc::default();
    info!(queue, concurrency = settings.concurrency, "worker started");
    let mut failures = 0u32;
    while !*shutdown.borrow() {
        let available = permits.available_permits();
        if available == 0 {
            tokio::select! {
                p = permits.clone().acquire_owned() => drop(p),
                _ = shutdown.changed() => {}
            }
            continue;
        }
        let batch = tokio::select! {
            r = svc.queue.receive(queue, available.min(10), settings.visibility, settings.poll_wait) => r,
            _ = shutdown.changed() => continue,
        };
        let batch = match batch {
            Ok(b) => {
                failures = 0;
                b
            }
            Err(e) => {
                failures = failures.saturating_add(1);
                let pause = Duration::from_millis(200u64 << failures.min(5));
                error!(queue, error = %e, ?pause, "receive failed");
                tokio::time::sleep(pause).await;
                continue;
            }
        };
        for msg in batch {
            let Ok(permit) = permits.clone().acquire_owned().await else {
                break;
            };
            lock(&in_flight).insert(msg.receipt.clone());
            let svc = svc.clone();
            let settings = settings.clone();
            let in_flight = in_flight.clone();
            tokio::spawn(async move {
                process(queue, &svc, &settings, &msg).await;
                lock(&in_flight).remove(&msg.receipt);
                drop(permit);
            });
        }
    }
    // Drain: wait for in-flight jobs, then hand back whatever is still running.
    let total = settings.concurrency.max(1) as u32;
    let drained = tokio::time::timeout(settings.shutdown_grace, permits.acquire_many(total)).await;
    if drained.is_err() {
        let left: Vec<String> = lock(&in_flight).iter().cloned().collect();
        warn!(
            queue,
            jobs = left.len(),
            "shutdown grace expired; returning in-flight jobs to the queue"
        );
        for receipt in left {
            let _ = svc
                .queue
                .set_visibility(queue, &receipt, Duration::ZERO)
                .await;
        }
    }
    info!(queue, "worker stopped");
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// Handles one delivery and acknowledges, delays or abandons it.
pub async fn process(
    queue: &'static str,
    svc: &Services,
    settings: &WorkerSettings,
    msg: &QueueMessage,
) {
    let job = match Job::from_bytes(&msg.body) {
        Ok(j) => j,
        Err(e) => {
            // It will never parse: let it reach the dead-letter queue quickly, where an
            // operator can look at it.
            error!(queue, job_id = %msg.id, error = %e, "undecodable job; sending towards the dead-letter queue");
            let _ = svc
                .queue
                .set_visibility(queue, &msg.receipt, Duration::ZERO)
                .await;
            return;
        }
    };
    let span =
        info_span!("job", queue, job_id = %msg.id, kind = job.kind(), attempt = msg.receive_count);
    async {
        match handlers::handle(svc, &job, msg.receive_count).await {
            Ok(()) => {
                if let Err(e) = svc.queue.delete(queue, &msg.receipt).await {
                    // The job may run again; handlers are idempotent.
                    warn!(error = %e, "could not acknowledge job");
                }
                debug!("job done");
            }
            Err(HandlerError::Transient(reason)) => {
                let delay = settings.backoff(msg.receive_count);
                warn!(%reason, retry_in = ?delay, "transient failure; will retry");
                if let Err(e) = svc.queue.set_visibility(queue, &msg.receipt, delay).await {
                    warn!(error = %e, "could not set retry delay; job returns after its visibility timeout");
                }
            }
            Err(HandlerError::Permanent(reason)) => {
                // The handler recorded the failure (and reported it where asked).
                error!(%reason, "permanent failure; job dropped");
                if let Err(e) = svc.queue.delete(queue, &msg.receipt).await {
                    warn!(error = %e, "could not acknowledge failed job");
                }
            }
        }
    }
    .instrument(span)
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_the_cap() {
        let s = WorkerSettings {
            concurrency: 1,
            visibility: Duration::from_secs(30),
            retry_initial: Duration::from_secs(5),
            retry_max: Duration::from_secs(60),
            poll_wait: Duration::from_secs(1),
            shutdown_grace: Duration::from_secs(1),
        };
        assert_eq!(s.backoff(1), Duration::from_secs(5));
        assert_eq!(s.backoff(2), Duration::from_secs(10));
        assert_eq!(s.backoff(4), Duration::from_secs(40));
        assert_eq!(s.backoff(5), Duration::from_secs(60));
        assert_eq!(s.backoff(40), Duration::from_secs(60));
    }
}
