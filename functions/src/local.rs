//! A local SQS event source: what Lambda's event source mapping does, in a loop, so
//! `mmsc serve --backend aws` runs the very same [`handle_batch`] against LocalStack
//! or moto. It long-polls a queue, turns each batch into a real `SqsEvent` envelope,
//! calls the function handler and deletes the records it did not list as failures.

use crate::handle_batch;
use aws_lambda_events::event::sqs::SqsEvent;
use mmsc_shared::handlers::Services;
use mmsc_shared::ports::QueueMessage;
use mmsc_shared::worker::WorkerSettings;
use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;
use tracing::{error, info, warn};

/// How the envelope names the queue (`eventSourceARN`, `awsRegion`).
#[derive(Debug, Clone)]
pub struct EventSource {
    pub region: String,
    /// The SQS queue name (with its deployment prefix).
    pub queue_name: String,
}

impl EventSource {
    pub fn arn(&self) -> String {
        // Local endpoints (LocalStack, moto) use this account id.
        format!(
            "arn:aws:sqs:{}:000000000000:{}",
            self.region, self.queue_name
        )
    }
}

/// The `SqsEvent` Lambda would deliver for `messages` (same JSON shape, so it goes
/// through the same deserializer).
pub fn sqs_event(source: &EventSource, messages: &[QueueMessage]) -> Result<SqsEvent, String> {
    let now_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis())
        .unwrap_or(0)
        .to_string();
    let records: Vec<serde_json::Value> = messages
        .iter()
        .map(|m| {
            serde_json::json!({
                "messageId": m.id,
                "receiptHandle": m.receipt,
                "body": String::from_utf8_lossy(&m.body),
                "attributes": {
                    "ApproximateReceiveCount": m.receive_count.to_string(),
                    "SentTimestamp": now_ms,
                    "SenderId": "000000000000",
                    "ApproximateFirstReceiveTimestamp": now_ms,
                },
                "messageAttributes": {},
                "md5OfBody": "",
                "eventSource": "aws:sqs",
                "eventSourceARN": source.arn(),
                "awsRegion": source.region,
            })
        })
        .collect();
    serde_json::from_value(serde_json::json!({ "Records": records })).map_err(|e| e.to_string())
}

/// Polls `queue` until `shutdown` turns true; each batch goes to [`handle_batch`].
pub async fn poll(
    queue: &'static str,
    source: EventSource,
    svc: Arc<Services>,
    settings: WorkerSettings,
    batch_size: usize,
    mut shutdown: watch::Receiver<bool>,
) {
    info!(queue, sqs_queue = %source.queue_name, "event source polling");
    let mut failures = 0u32;
    while !*shutdown.borrow() {
        let received = tokio::select! {
            r = svc.queue.receive(queue, batch_size.clamp(1, 10), settings.visibility, Duration::from_secs(20)) => r,
            _ = shutdown.changed() => break,
        };
        let batch = match received {
            Ok(b) => {
                failures = 0;
                b
            }
            Err(e) => {
                failures = failures.saturating_add(1);
                let pause = Duration::from_millis(200u64 << failures.min(6));
                error!(queue, error = %e, ?pause, "receive failed");
                tokio::time::sleep(pause).await;
                continue;
            }
        };
        if batch.is_empty() {
            continue;
        }
        let event = match sqs_event(&source, &batch) {
            Ok(e) => e,
            Err(e) => {
                error!(queue, error = %e, "could not build the SqsEvent");
                continue;
            }
        };
        let resp = handle_batch(&svc, queue, &settings, event).await;
        let failed: HashSet<&str> = resp
            .batch_item_failures
            .iter()
            .map(|f| f.item_identifier.as_str())
            .collect();
        for m in &batch {
            if failed.contains(m.id.as_str()) {
                continue;
            }
            if let Err(e) = svc.queue.delete(queue, &m.receipt).await {
                warn!(queue, error = %e, "could not delete a handled message; it will run again");
            }
        }
    }
    info!(queue, "event source stopped");
}
