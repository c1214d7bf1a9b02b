//! [`Queue`] on SQS standard queues.
//!
//! The logical queue `ingest` is the SQS queue `<prefix>ingest`; its dead-letter queue
//! `ingest-dlq` is `<prefix>ingest-dlq`, which the source queue's redrive policy
//! (`maxReceiveCount`) feeds: SQS itself moves a message received that many times, so
//! the adapter needs no code for it. Queue URLs come from `<url prefix><name>` when a
//! URL prefix is configured, else from one `GetQueueUrl` per queue, cached.
//!
//! Durations become whole seconds, rounded up (SQS has no finer unit) and clamped to
//! SQS's limits: delays to 900 s, visibility to 12 h, long polls to 20 s. Bodies are
//! UTF-8 text of at most 256 KiB (jobs are JSON and small by design).
//!
//! Stale receipts: SQS accepts `DeleteMessage` with the receipt of an earlier delivery
//! or of a deleted message (and may act on it); only a receipt that never existed
//! is refused. This adapter passes that through (`Ok`), as the port allows.

use super::error_message;
use crate::ports::{Queue, QueueError, QueueMessage};
use async_trait::async_trait;
use aws_sdk_sqs::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_sqs::types::{
    MessageSystemAttributeName, QueueAttributeName, SendMessageBatchRequestEntry,
};
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

/// The largest message body SQS takes.
pub const MAX_BODY: usize = 256 * 1024;
/// Entries per `SendMessageBatch`.
const BATCH_MAX: usize = 10;

pub struct SqsQueue {
    client: aws_sdk_sqs::Client,
    prefix: String,
    url_prefix: Option<String>,
    urls: Mutex<HashMap<String, String>>,
}

fn secs(d: Duration, max: u64) -> i32 {
    let s = d.as_secs() + u64::from(d.subsec_nanos() > 0);
    s.min(max) as i32
}

/// Maps an SDK error of any SQS operation.
fn map_err<E, R>(queue: &str, op: &str, e: SdkError<E, R>) -> QueueError
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug,
{
    let code = e.as_service_error().and_then(|s| s.code()).unwrap_or("");
    match code {
        "QueueDoesNotExist" | "AWS.SimpleQueueService.NonExistentQueue" => {
            QueueError::UnknownQueue(queue.to_string())
        }
        "ReceiptHandleIsInvalid"
        | "InvalidIdFormat"
        | "MessageNotInflight"
        | "AWS.SimpleQueueService.MessageNotInflight" => QueueError::StaleReceipt,
        _ => QueueError::Backend(format!("SQS {op} on {queue}: {}", error_message(&e))),
    }
}

impl SqsQueue {
    /// `prefix` is prepended to every logical queue name; with `url_prefix`
    /// (`https://sqs.<region>.amazonaws.com/<account>/`) no `GetQueueUrl` is needed.
    pub fn new(client: aws_sdk_sqs::Client, prefix: String, url_prefix: Option<String>) -> Self {
        SqsQueue {
            client,
            prefix,
            url_prefix: url_prefix.map(|p| if p.ends_with('/') { p } else { format!("{p}/") }),
            urls: Mutex::new(HashMap::new()),
        }
    }

    /// The SQS queue name of logical queue `queue`, if it is a valid name.
    pub fn physical_name(&self, queue: &str) -> Result<String, QueueError> {
        let name = format!("{}{queue}", self.prefix);
        let valid = !queue.is_empty()
            && name.len() <= 80
            && name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        if valid {
            Ok(name)
        } else {
            Err(QueueError::UnknownQueue(queue.to_string()))
        }
    }

    /// The URL of logical queue `queue`.
    pub async fn url(&self, queue: &str) -> Result<String, QueueError> {
        let name = self.physical_name(queue)?;
        if let Some(u) = self.lock().get(&name) {
            return Ok(u.clone());
        }
        let url = match &self.url_prefix {
            Some(p) => format!("{p}{name}"),
            None => self
                .client
                .get_queue_url()
                .queue_name(&name)
                .send()
                .await
                .map_err(|e| map_err(queue, "GetQueueUrl", e))?
                .queue_url()
                .ok_or_else(|| QueueError::Backend(format!("SQS GetQueueUrl {name}: no URL")))?
                .to_string(),
        };
        self.lock().insert(name, url.clone());
        Ok(url)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, String>> {
        self.urls.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn text(body: &[u8]) -> Result<&str, QueueError> {
        if body.len() > MAX_BODY {
            return Err(QueueError::TooLarge(body.len()));
        }
        std::str::from_utf8(body)
            .map_err(|_| QueueError::Backend("SQS message bodies must be UTF-8 text".into()))
    }
}

#[async_trait]
impl Queue for SqsQueue {
    async fn send(&self, queue: &str, body: &[u8], delay: Duration) -> Result<String, QueueError> {
        let text = Self::text(body)?;
        let url = self.url(queue).await?;
        let out = self
            .client
            .send_message()
            .queue_url(url)
            .message_body(text)
            .delay_seconds(secs(delay, 900))
            .send()
            .await
            .map_err(|e| map_err(queue, "SendMessage", e))?;
        out.message_id()
            .map(str::to_string)
            .ok_or_else(|| QueueError::Backend(format!("SQS SendMessage on {queue}: no id")))
    }

    async fn send_batch(&self, queue: &str, bodies: &[&[u8]]) -> Result<Vec<String>, QueueError> {
        let texts = bodies
            .iter()
            .map(|b| Self::text(b))
            .collect::<Result<Vec<_>, _>>()?;
        let url = self.url(queue).await?;
        let mut ids = Vec::with_capacity(texts.len());
        // Ten entries and 256 KiB per request.
        let mut start = 0;
        while start < texts.len() {
            let mut end = start;
            let mut size = 0;
            while end < texts.len()
                && end - start < BATCH_MAX
                && size + texts[end].len() <= MAX_BODY
            {
                size += texts[end].len();
                end += 1;
            }
            let entries = texts[start..end]
                .iter()
                .enumerate()
                .map(|(i, t)| {
                    SendMessageBatchRequestEntry::builder()
                        .id(i.to_string())
                        .message_body(*t)
                        .build()
                        .map_err(|e| QueueError::Backend(format!("SQS batch entry: {e}")))
                })
                .collect::<Result<Vec<_>, _>>()?;
            let out = self
                .client
                .send_message_batch()
                .queue_url(&url)
                .set_entries(Some(entries))
                .send()
                .await
                .map_err(|e| map_err(queue, "SendMessageBatch", e))?;
            if let Some(f) = out.failed().first() {
                return Err(QueueError::Backend(format!(
                    "SQS SendMessageBatch on {queue}: {} of {} entries failed ({}: {})",
                    out.failed().len(),
                    end - start,
                    f.code(),
                    f.message().unwrap_or("")
                )));
            }
            let mut got: Vec<(usize, String)> = out
                .successful()
                .iter()
                .filter_map(|s| Some((s.id().parse().ok()?, s.message_id().to_string())))
                .collect();
            if got.len() != end - start {
                return Err(QueueError::Backend(format!(
                    "SQS SendMessageBatch on {queue}: {} results for {} entries",
                    got.len(),
                    end - start
                )));
            }
            got.sort_unstable();
            ids.extend(got.into_iter().map(|(_, id)| id));
            start = end;
        }
        Ok(ids)
    }

    async fn receive(
        &self,
        queue: &str,
        max: usize,
        visibility: Duration,
        wait: Duration,
    ) -> Result<Vec<QueueMessage>, QueueError> {
        let url = self.url(queue).await?;
        let out = self
            .client
            .receive_message()
            .queue_url(url)
            .max_number_of_messages(max.clamp(1, 10) as i32)
            .visibility_timeout(secs(visibility, 43_200))
            .wait_time_seconds(secs(wait, 20))
            .message_system_attribute_names(MessageSystemAttributeName::ApproximateReceiveCount)
            .send()
            .await
            .map_err(|e| map_err(queue, "ReceiveMessage", e))?;
        Ok(out
            .messages()
            .iter()
            .map(|m| QueueMessage {
                id: m.message_id().unwrap_or_default().to_string(),
                receipt: m.receipt_handle().unwrap_or_default().to_string(),
                body: m.body().unwrap_or_default().as_bytes().to_vec(),
                receive_count: m
                    .attributes()
                    .and_then(|a| a.get(&MessageSystemAttributeName::ApproximateReceiveCount))
                    .and_then(|n| n.parse().ok())
                    .unwrap_or(1),
            })
            .collect())
    }

    async fn delete(&self, queue: &str, receipt: &str) -> Result<(), QueueError> {
        let url = self.url(queue).await?;
        self.client
            .delete_message()
            .queue_url(url)
            .receipt_handle(receipt)
            .send()
            .await
            .map_err(|e| map_err(queue, "DeleteMessage", e))?;
        Ok(())
    }

    async fn set_visibility(
        &self,
        queue: &str,
        receipt: &str,
        visibility: Duration,
    ) -> Result<(), QueueError> {
        let url = self.url(queue).await?;
        self.client
            .change_message_visibility()
            .queue_url(url)
            .receipt_handle(receipt)
            .visibility_timeout(secs(visibility, 43_200))
            .send()
            .await
            .map_err(|e| map_err(queue, "ChangeMessageVisibility", e))?;
        Ok(())
    }

    async fn depth(&self, queue: &str) -> Result<u64, QueueError> {
        let url = self.url(queue).await?;
        let out = self
            .client
            .get_queue_attributes()
            .queue_url(url)
            .attribute_names(QueueAttributeName::ApproximateNumberOfMessages)
            .attribute_names(QueueAttributeName::ApproximateNumberOfMessagesNotVisible)
            .attribute_names(QueueAttributeName::ApproximateNumberOfMessagesDelayed)
            .send()
            .await
            .map_err(|e| map_err(queue, "GetQueueAttributes", e))?;
        Ok(out
            .attributes()
            .map(|a| {
                a.values()
                    .filter_map(|v| v.parse::<u64>().ok())
                    .sum::<u64>()
            })
            .unwrap_or(0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_round_up_to_seconds_within_limits() {
        assert_eq!(secs(Duration::ZERO, 20), 0);
        assert_eq!(secs(Duration::from_millis(1), 20), 1);
        assert_eq!(secs(Duration::from_millis(1500), 20), 2);
        assert_eq!(secs(Duration::from_secs(3), 20), 3);
        assert_eq!(secs(Duration::from_secs(3600), 900), 900);
    }
}
