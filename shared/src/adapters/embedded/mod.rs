//! Embedded adapters: durable, crash-safe, one process.
//!
//! * [`DirObjectStore`]: objects as files (write, fsync, rename, fsync directory);
//!   objects up to [`object_store::INLINE_MAX`] inline in a group-committed SQLite file
//!   (in [`EmbeddedBackend`], the queue's own database).
//! * [`SqliteStateStore`]: key-value state in SQLite, expiry on an injected clock.
//! * [`SqliteQueue`]: at-least-once queues in SQLite with visibility timeouts, long
//!   polling and dead-letter queues.
//! * [`EmbeddedIntake`]: a front's PDU and its job, made durable in the intake journal
//!   (`journal` module) while the queue database's writer inserts both.
//!
//! Both databases run in WAL mode and commit through one writer thread per file that
//! batches concurrent writes into one transaction (group commit), with the WAL fsync
//! on a thread of its own so the next batch runs while the last one is flushed: an
//! `Ok` from any write means the data is on disk, and many concurrent writers share
//! the cost of each fsync. See [`EmbeddedBackend::open`] for the layout
//! of a data directory.

mod intake;
mod journal;
pub mod object_store;
mod queue;
mod sqlite;
mod state_store;

#[cfg(test)]
mod tests;

pub use intake::EmbeddedIntake;
#[doc(hidden)]
pub use journal::fuzz_scan as fuzz_journal_scan;
pub use object_store::{DirObjectStore, TEMP_PREFIX};
pub use queue::{MAX_BODY, SqliteQueue};
pub use state_store::{PURGE_INTERVAL, SqliteStateStore};

use crate::ports::Clock;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Directory of the object store inside a data directory.
pub const OBJECTS_DIR: &str = "objects";
/// State database file inside a data directory.
pub const STATE_DB: &str = "state.db";
/// Queue database file inside a data directory.
pub const QUEUE_DB: &str = "queue.db";
/// Directory of the intake journal inside a data directory.
pub const INTAKE_DIR: &str = "intake";

/// Opening an embedded store failed.
#[derive(Debug, thiserror::Error)]
pub enum EmbeddedError {
    #[error("I/O error on {path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot open SQLite database {path}: {source}")]
    Sqlite {
        path: PathBuf,
        #[source]
        source: rusqlite::Error,
    },
    #[error("background task failed while opening {path}: {reason}")]
    Task { path: PathBuf, reason: String },
}

/// The three embedded stores of one data directory.
#[derive(Debug, Clone)]
pub struct EmbeddedBackend {
    pub objects: Arc<DirObjectStore>,
    pub state: Arc<SqliteStateStore>,
    pub queue: Arc<SqliteQueue>,
    /// `None` when another process has the data directory's journal.
    journal: Option<Arc<journal::Journal>>,
}

impl EmbeddedBackend {
    /// How fronts take in PDUs here: a small PDU and its job through the intake
    /// journal (one small fsync), which moves them into the queue database in one
    /// transaction.
    pub fn intake(&self) -> Arc<EmbeddedIntake> {
        Arc::new(
            EmbeddedIntake::new(self.objects.clone(), self.queue.clone())
                .with_journal(self.journal.clone()),
        )
    }

    /// Opens (creating as needed) the stores under `data_dir`:
    ///
    /// ```text
    /// data_dir/objects/   DirObjectStore (objects over INLINE_MAX, as files)
    /// data_dir/state.db   SqliteStateStore (+ -wal, -shm)
    /// data_dir/queue.db   SqliteQueue, and the objects up to INLINE_MAX (+ -wal, -shm)
    /// data_dir/intake/    the intake journal (segment files and a lock)
    /// ```
    ///
    /// Small objects share the queue's database and writer: a front stores a PDU and
    /// queues its job at the same time, and both then land in one group commit. The
    /// intake journal makes them durable first; opening replays into the queue's
    /// database whatever it had not durably taken in when the last process stopped.
    ///
    /// `max_receives` is the dead-letter threshold of every queue (0: never
    /// dead-letter); `clock` drives state expiry.
    pub async fn open(
        data_dir: &Path,
        max_receives: u32,
        clock: Arc<dyn Clock>,
    ) -> Result<EmbeddedBackend, EmbeddedError> {
        let dir = data_dir.to_path_buf();
        tokio::task::spawn_blocking(move || std::fs::create_dir_all(&dir))
            .await
            .map_err(|e| EmbeddedError::Task {
                path: data_dir.to_path_buf(),
                reason: e.to_string(),
            })?
            .map_err(|source| EmbeddedError::Io {
                path: data_dir.to_path_buf(),
                source,
            })?;
        let queue = SqliteQueue::open(&data_dir.join(QUEUE_DB), max_receives).await?;
        let objects =
            DirObjectStore::open_sharing(&data_dir.join(OBJECTS_DIR), queue.database()).await?;
        let journal_dir = data_dir.join(INTAKE_DIR);
        let db = queue.database();
        let journal =
            tokio::task::spawn_blocking(move || journal::Journal::open_blocking(&journal_dir, db))
                .await
                .map_err(|e| EmbeddedError::Task {
                    path: data_dir.join(INTAKE_DIR),
                    reason: e.to_string(),
                })??;
        let state = SqliteStateStore::open(&data_dir.join(STATE_DB), clock).await?;
        Ok(EmbeddedBackend {
            objects: Arc::new(objects),
            state: Arc::new(state),
            queue: Arc::new(queue),
            journal: journal.map(Arc::new),
        })
    }
}
