//! [`Queue`] on SQLite: every queue is a set of rows of one `messages` table.

use super::EmbeddedError;
use super::sqlite::{Db, DbError};
use crate::domain::Timestamp;
use crate::ports::{Queue, QueueError, QueueMessage, queues};
use async_trait::async_trait;
use rusqlite::{Connection, params};
use std::collections::HashMap;
use std::path::Path;
use std::pin::pin;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant, SystemTime};
use tokio::sync::Notify;

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS messages (
    seq           INTEGER PRIMARY KEY,
    queue         TEXT    NOT NULL,
    id            TEXT    NOT NULL,
    body          BLOB    NOT NULL,
    sent_at       INTEGER NOT NULL,   -- ms since the Unix epoch
    visible_at    INTEGER NOT NULL,   -- ms since the Unix epoch
    receive_count INTEGER NOT NULL DEFAULT 0,
    receipt       TEXT                -- token of the current delivery, NULL before the first
);
CREATE INDEX IF NOT EXISTS messages_by_visibility ON messages (queue, visible_at, seq);
";

/// Largest message body accepted (the SQS limit).
pub const MAX_BODY: usize = 256 * 1024;

/// Longest a long-polling receive sleeps between two looks at the table when nothing
/// wakes it (a send wakes it at once; a delayed or timed-out message at its due time).
const MAX_POLL_INTERVAL: Duration = Duration::from_secs(1);

/// Pause after a look that promised messages but a competing receiver took them first.
const RETRY_PAUSE: Duration = Duration::from_millis(50);

const READERS: usize = 2;

/// A message checked and ready for the writer (sent by [`SqliteQueue::send`], or by
/// the embedded intake in the same transaction as its object).
pub(crate) struct Outgoing {
    queue: String,
    id: String,
    body: Vec<u8>,
    delay_ms: i64,
}

impl Outgoing {
    pub(crate) fn new(queue: &str, body: &[u8], delay: Duration) -> Result<Self, QueueError> {
        check_name(queue)?;
        if body.len() > MAX_BODY {
            return Err(QueueError::TooLarge(body.len()));
        }
        Ok(Outgoing {
            queue: queue.to_string(),
            id: uuid::Uuid::new_v4().simple().to_string(),
            body: body.to_vec(),
            delay_ms: millis(delay),
        })
    }

    /// A message taken back from the intake journal (sent without delay).
    pub(crate) fn restore(queue: String, id: String, body: Vec<u8>) -> Self {
        Outgoing {
            queue,
            id,
            body,
            delay_ms: 0,
        }
    }

    pub(crate) fn queue(&self) -> &str {
        &self.queue
    }

    pub(crate) fn id(&self) -> &str {
        &self.id
    }

    pub(crate) fn body(&self) -> &[u8] {
        &self.body
    }

    /// Inserts the message; runs on the writer, inside its transaction.
    pub(crate) fn insert(&self, c: &Connection) -> rusqlite::Result<()> {
        let now = now_ms();
        c.prepare_cached(
            "INSERT INTO messages (queue, id, body, sent_at, visible_at) \
             VALUES (?1, ?2, ?3, ?4, ?5)",
        )?
        .execute(params![
            self.queue,
            self.id,
            self.body,
            now,
            now.saturating_add(self.delay_ms)
        ])
        .map(|_| ())
    }
}

/// Durable at-least-once queues on SQLite (WAL, group commit, fsync before `Ok`).
///
/// * Queues are created on first use; any name of 1 to 80 `[a-z0-9-]` characters is
///   accepted, anything else is [`QueueError::UnknownQueue`].
/// * A message received `max_receives` times that becomes visible again moves to
///   `queues::dead_letter(queue)` (same id, body and receive count) the next time
///   someone receives from the queue, as SQS redrive does. `max_receives == 0` turns
///   dead-lettering off. Dead-letter queues (names ending in `-dlq`) have no
///   dead-letter queue of their own, nor do queues whose `-dlq` name would be over
///   80 characters.
/// * Delays and visibility timeouts use the system's wall clock (milliseconds since
///   the epoch are stored, so they survive a restart), not an injected [`crate::ports::Clock`]:
///   long polling needs real waits. A wall-clock jump moves them accordingly.
/// * Long polling is woken by sends to the same queue in this process, and otherwise
///   looks again when the next delayed or in-flight message is due (at least every
///   [`MAX_POLL_INTERVAL`]).
pub struct SqliteQueue {
    db: Arc<Db>,
    max_receives: u32,
    notifiers: Mutex<HashMap<String, Arc<Notify>>>,
}

impl std::fmt::Debug for SqliteQueue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteQueue")
            .field("path", &self.db.path())
            .field("max_receives", &self.max_receives)
            .finish_non_exhaustive()
    }
}

fn backend(e: DbError) -> QueueError {
    QueueError::Backend(e.to_string())
}

fn now_ms() -> i64 {
    Timestamp::from_system(SystemTime::now()).0
}

fn millis(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

fn check_name(queue: &str) -> Result<(), QueueError> {
    let ok = (1..=80).contains(&queue.len())
        && queue
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
    if ok {
        Ok(())
    } else {
        Err(QueueError::UnknownQueue(queue.to_string()))
    }
}

/// A receipt is `<seq>.<token>`: the row and the token of one delivery.
fn parse_receipt(receipt: &str) -> Result<(i64, String), QueueError> {
    let (seq, token) = receipt.split_once('.').ok_or(QueueError::StaleReceipt)?;
    let seq = seq.parse::<i64>().map_err(|_| QueueError::StaleReceipt)?;
    if token.is_empty() {
        return Err(QueueError::StaleReceipt);
    }
    Ok((seq, token.to_string()))
}

/// What one receive transaction did.
struct Taken {
    messages: Vec<QueueMessage>,
    dead_lettered: usize,
}

impl SqliteQueue {
    /// Opens (creating if needed) the queue database at `path`.
    pub async fn open(path: &Path, max_receives: u32) -> Result<Self, EmbeddedError> {
        let owned = path.to_path_buf();
        let db = tokio::task::spawn_blocking(move || {
            Db::open_blocking(&owned, SCHEMA, READERS, "mmsc-queue-writer")
        })
        .await
        .map_err(|e| EmbeddedError::Task {
            path: path.to_path_buf(),
            reason: e.to_string(),
        })??;
        Ok(SqliteQueue {
            db: Arc::new(db),
            max_receives,
            notifiers: Mutex::new(HashMap::new()),
        })
    }

    /// The queue's database, so the embedded backend can keep small objects in it:
    /// an object and the job that points at it then share one group commit.
    pub(crate) fn database(&self) -> Arc<Db> {
        Arc::clone(&self.db)
    }

    pub fn max_receives(&self) -> u32 {
        self.max_receives
    }

    /// Wakes a receiver of `queue` after a message was committed to it: one new
    /// message, one waiting receiver (delayed ones re-arm their sleep to the due time).
    pub(crate) fn sent(&self, queue: &str) {
        self.notifier(queue).notify_one();
    }

    fn notifier(&self, queue: &str) -> Arc<Notify> {
        let mut map = self
            .notifiers
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        Arc::clone(map.entry(queue.to_string()).or_default())
    }

    /// The dead-letter queue of `queue`, if it has one.
    fn dead_letter_of(&self, queue: &str) -> Option<String> {
        if self.max_receives == 0 || queue.ends_with("-dlq") {
            return None;
        }
        let dlq = queues::dead_letter(queue);
        check_name(&dlq).ok().map(|()| dlq)
    }

    /// The earliest `visible_at` of the queue, if it holds anything.
    async fn next_visible(&self, queue: &str) -> Result<Option<i64>, QueueError> {
        let q = queue.to_string();
        self.db
            .read(move |c| {
                c.prepare_cached("SELECT MIN(visible_at) FROM messages WHERE queue = ?1")?
                    .query_row(params![q], |r| r.get::<_, Option<i64>>(0))
            })
            .await
            .map_err(backend)
    }

    /// One receive transaction: dead-letters what is due, hides and returns up to `max`.
    async fn take(
        &self,
        queue: &str,
        max: usize,
        visibility: Duration,
    ) -> Result<Taken, QueueError> {
        let q = queue.to_string();
        let dlq = self.dead_letter_of(queue);
        let max_receives = i64::from(self.max_receives);
        let vis = millis(visibility);
        let taken = self
            .db
            .write(move |c| take_blocking(c, &q, dlq.as_deref(), max_receives, max, vis))
            .await
            .map_err(backend)?;
        if taken.dead_lettered > 0
            && let Some(dlq) = self.dead_letter_of(queue)
        {
            self.notifier(&dlq).notify_waiters();
        }
        Ok(taken)
    }
}

fn take_blocking(
    c: &Connection,
    queue: &str,
    dlq: Option<&str>,
    max_receives: i64,
    max: usize,
    vis: i64,
) -> rusqlite::Result<Taken> {
    let now = now_ms();
    let hidden_until = now.saturating_add(vis);
    let mut taken = Taken {
        messages: Vec::new(),
        dead_lettered: 0,
    };
    loop {
        let want = max - taken.messages.len();
        let rows: Vec<(i64, String, Vec<u8>, i64)> = c
            .prepare_cached(
                "SELECT seq, id, body, receive_count FROM messages \
                 WHERE queue = ?1 AND visible_at <= ?2 ORDER BY visible_at, seq LIMIT ?3",
            )?
            .query_map(
                params![queue, now, i64::try_from(want).unwrap_or(i64::MAX)],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
            )?
            .collect::<rusqlite::Result<_>>()?;
        let found = rows.len();
        let mut moved = 0;
        for (seq, id, body, count) in rows {
            if let Some(dlq) = dlq
                && count >= max_receives
            {
                c.prepare_cached(
                    "UPDATE messages SET queue = ?2, visible_at = ?3, receipt = NULL WHERE seq = ?1",
                )?
                .execute(params![seq, dlq, now])?;
                moved += 1;
                continue;
            }
            let token = uuid::Uuid::new_v4().simple().to_string();
            c.prepare_cached(
                "UPDATE messages SET receipt = ?2, receive_count = receive_count + 1, \
                 visible_at = ?3 WHERE seq = ?1",
            )?
            .execute(params![seq, token, hidden_until])?;
            taken.messages.push(QueueMessage {
                id,
                receipt: format!("{seq}.{token}"),
                body,
                receive_count: u32::try_from(count.saturating_add(1)).unwrap_or(u32::MAX),
            });
        }
        taken.dead_lettered += moved;
        // Look again only if dead-lettering made room and there may be more.
        if moved == 0 || found < want || taken.messages.len() >= max {
            return Ok(taken);
        }
    }
}

#[async_trait]
impl Queue for SqliteQueue {
    async fn send(&self, queue: &str, body: &[u8], delay: Duration) -> Result<String, QueueError> {
        let out = Outgoing::new(queue, body, delay)?;
        let id = out.id.clone();
        let queue = out.queue.clone();
        self.db
            .write(move |c| out.insert(c))
            .await
            .map_err(backend)?;
        self.sent(&queue);
        Ok(id)
    }

    async fn receive(
        &self,
        queue: &str,
        max: usize,
        visibility: Duration,
        wait: Duration,
    ) -> Result<Vec<QueueMessage>, QueueError> {
        check_name(queue)?;
        if max == 0 {
            return Ok(Vec::new());
        }
        let deadline = Instant::now() + wait;
        let notify = self.notifier(queue);
        loop {
            // Register interest before looking, so a send between the look and the
            // wait still wakes us.
            let mut notified = pin!(notify.notified());
            notified.as_mut().enable();

            let next = self.next_visible(queue).await?;
            let now = now_ms();
            let mut pause = None;
            if next.is_some_and(|t| t <= now) {
                let taken = self.take(queue, max, visibility).await?;
                if !taken.messages.is_empty() {
                    return Ok(taken.messages);
                }
                if taken.dead_lettered == 0 {
                    // Someone else was faster; do not spin on the same look.
                    pause = Some(RETRY_PAUSE);
                } else {
                    continue;
                }
            }
            let remaining = deadline.saturating_duration_since(Instant::now());
            if remaining.is_zero() {
                return Ok(Vec::new());
            }
            let mut sleep = remaining.min(MAX_POLL_INTERVAL);
            if let Some(p) = pause {
                sleep = sleep.min(p);
            } else if let Some(t) = next.filter(|&t| t > now) {
                let due = Duration::from_millis(u64::try_from(t - now).unwrap_or(u64::MAX));
                sleep = sleep.min(due);
            }
            tokio::select! {
                _ = notified => {}
                _ = tokio::time::sleep(sleep) => {}
            }
        }
    }

    async fn delete(&self, queue: &str, receipt: &str) -> Result<(), QueueError> {
        check_name(queue)?;
        let (seq, token) = parse_receipt(receipt)?;
        let q = queue.to_string();
        let n = self
            .db
            .write(move |c| {
                c.prepare_cached(
                    "DELETE FROM messages WHERE seq = ?1 AND queue = ?2 AND receipt = ?3",
                )?
                .execute(params![seq, q, token])
            })
            .await
            .map_err(backend)?;
        if n == 0 {
            return Err(QueueError::StaleReceipt);
        }
        Ok(())
    }

    async fn set_visibility(
        &self,
        queue: &str,
        receipt: &str,
        visibility: Duration,
    ) -> Result<(), QueueError> {
        check_name(queue)?;
        let (seq, token) = parse_receipt(receipt)?;
        let q = queue.to_string();
        let vis = millis(visibility);
        let n = self
            .db
            .write(move |c| {
                c.prepare_cached(
                    "UPDATE messages SET visible_at = ?4 WHERE seq = ?1 AND queue = ?2 AND receipt = ?3",
                )?
                .execute(params![seq, q, token, now_ms().saturating_add(vis)])
            })
            .await
            .map_err(backend)?;
        if n == 0 {
            return Err(QueueError::StaleReceipt);
        }
        if visibility.is_zero() {
            self.notifier(queue).notify_waiters();
        }
        Ok(())
    }

    async fn depth(&self, queue: &str) -> Result<u64, QueueError> {
        check_name(queue)?;
        let q = queue.to_string();
        let n = self
            .db
            .read(move |c| {
                c.prepare_cached("SELECT COUNT(*) FROM messages WHERE queue = ?1")?
                    .query_row(params![q], |r| r.get::<_, i64>(0))
            })
            .await
            .map_err(backend)?;
        Ok(u64::try_from(n).unwrap_or(0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_only_lowercase_dashed_names() {
        assert!(check_name("ingest").is_ok());
        assert!(check_name("mm4-out-dlq").is_ok());
        assert!(check_name(&"a".repeat(80)).is_ok());
        for bad in ["", "Ingest", "in_gest", "in gest", "ingest.fifo"] {
            assert!(
                matches!(check_name(bad), Err(QueueError::UnknownQueue(_))),
                "{bad:?}"
            );
        }
        assert!(check_name(&"a".repeat(81)).is_err());
    }

    #[test]
    fn rejects_malformed_receipts() {
        for bad in ["", "x", "12", "12.", "x.abc", ".abc"] {
            assert!(
                matches!(parse_receipt(bad), Err(QueueError::StaleReceipt)),
                "{bad:?}"
            );
        }
        assert_eq!(
            parse_receipt("12.abc").expect("valid receipt"),
            (12, "abc".to_string())
        );
    }
}
