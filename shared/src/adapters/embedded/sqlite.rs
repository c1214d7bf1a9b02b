//! SQLite plumbing shared by the state store and the queue: one writer thread that
//! group-commits, and a small pool of reader connections.
//!
//! # Durability
//!
//! Every database runs in WAL mode. A write is acknowledged to its caller only once
//! its transaction's WAL frames are fsynced (see *Pipelined fsync*), so it survives a
//! process crash *and* a power loss.
//!
//! # Group commit
//!
//! All writes of a database go through one thread. It takes the first pending job,
//! opens a transaction, runs that job and every job that is queued behind it (up to
//! [`MAX_BATCH`]), each inside its own savepoint, and commits once. A job whose
//! statements fail is rolled back to its savepoint and gets its own error; the others
//! are unaffected.
//!
//! # Pipelined fsync
//!
//! The writer commits with `synchronous=NORMAL`: `COMMIT` writes the batch's WAL
//! frames to the OS and returns without waiting for the disk. The writer then hands the
//! batch to a syncer thread and starts on the next one. The syncer takes every batch
//! committed so far, calls `fdatasync` on the WAL file once and only then answers
//! their callers, so "returned `Ok`" still means "on disk" (as with `FULL`), but the
//! writer never sits idle while the disk flushes: batch *n + 1* runs during batch
//! *n*'s fsync, and one fsync covers every batch committed while the previous one was
//! in flight. `NORMAL` still syncs the WAL header when the WAL restarts (the ordering
//! that keeps the file consistent across a power loss) and checkpoints still sync
//! the WAL before copying it and the database file after.
//!
//! A committed batch is visible to readers before its fsync returns, as with any
//! group commit. If an fsync fails, its callers get an error and so does every later
//! write: after a failed fsync Linux may report the next one as clean although pages
//! were lost, so the database refuses to acknowledge anything more until it is
//! reopened (the fronts then answer 451 and the partner retries).
//!
//! Reads use separate connections (WAL readers never block the writer nor each other)
//! and see every write that has been acknowledged.
//!
//! # Checkpoints
//!
//! SQLite's automatic checkpoint would run inside the writer's `COMMIT`: every caller
//! of that batch, and every job queued behind it, would wait while the WAL is copied
//! into the database file and that file is fsynced. Instead the writer only counts its
//! commits and every [`CHECKPOINT_EVERY`] commits wakes a checkpointer thread with a
//! connection of its own, which runs a `PASSIVE` checkpoint beside the writer (WAL
//! checkpoints do not block writers).
//!
//! Under a steady load that never lets the WAL start over: a passive checkpoint never
//! catches up with a writer that keeps appending, so the WAL file would grow, each
//! fsync would also have to record its new size, and every new page of it would be
//! fresh page cache. So when the checkpointer sees more than [`WAL_RESTART_FRAMES`] in
//! the WAL it asks the writer, which between two batches runs a `RESTART` checkpoint
//! itself: it copies the few frames the checkpointer has not (no other writer to wait
//! for), and the next batch writes the WAL from its start again, over blocks and pages
//! that already exist. When the WAL has nevertheless grown past
//! [`WAL_TRUNCATE_FRAMES`] (a reader held old frames), the checkpointer runs one
//! `TRUNCATE` checkpoint, which waits for the writer's current transaction and shrinks
//! the file. Durability is unchanged: a commit is durable once its WAL frames are
//! fsynced, checkpointed or not.

use rusqlite::Connection;
use std::panic::AssertUnwindSafe;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError, TryLockError, mpsc};
use std::thread::JoinHandle;
use std::time::Duration;
use tokio::sync::oneshot;

use super::EmbeddedError;

/// Most jobs committed in one transaction.
pub(crate) const MAX_BATCH: usize = 256;

/// The writer wakes the checkpointer after this many commits.
pub(crate) const CHECKPOINT_EVERY: u64 = 16;

/// WAL size (in 4 KiB frames, 32 MiB) above which the writer restarts it (see the
/// module docs). Tests use a small one, so that every suite goes through restarts.
#[cfg(not(test))]
pub(crate) const WAL_RESTART_FRAMES: i64 = 8 * 1024;
#[cfg(test)]
pub(crate) const WAL_RESTART_FRAMES: i64 = 64;

/// WAL size (in 4 KiB frames, 128 MiB) above which the checkpointer truncates it.
pub(crate) const WAL_TRUNCATE_FRAMES: i64 = 32 * 1024;

/// How long a connection waits for a lock held by another connection (another
/// process on the same file, or a checkpoint) before giving up with `SQLITE_BUSY`.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

#[derive(Debug, thiserror::Error)]
pub(crate) enum DbError {
    #[error("sqlite: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("commit failed: {0}")]
    Commit(String),
    #[error("the database writer thread has stopped")]
    WriterStopped,
    #[error("blocking task failed: {0}")]
    Task(String),
}

/// A unit of work for the writer thread.
pub(crate) trait WriteJob: Send {
    /// Runs the job inside the open transaction (see [`in_savepoint`]).
    fn run(&mut self, conn: &Connection);
    /// Answers the caller once the transaction's fate is known: after the WAL fsync
    /// when [`WriteJob::needs_sync`], else right after the `COMMIT`.
    fn finish(self: Box<Self>, commit: Result<(), &str>);
    /// Whether the caller waits for the fsync. A job that does not is committed but
    /// not yet durable when answered: it must be recoverable from elsewhere (the
    /// intake journal's moves) until a later fsync of the WAL covers it.
    fn needs_sync(&self) -> bool {
        true
    }
}

struct Job<T, F> {
    f: Option<F>,
    out: Option<rusqlite::Result<T>>,
    reply: Option<oneshot::Sender<Result<T, DbError>>>,
}

/// Runs `f` inside a savepoint of the writer's transaction: if it fails (or panics)
/// its changes are undone and the rest of the batch is unaffected.
pub(crate) fn in_savepoint<T>(
    conn: &Connection,
    f: impl FnOnce(&Connection) -> rusqlite::Result<T>,
) -> rusqlite::Result<T> {
    savepoint(conn, "SAVEPOINT job")?;
    // A panicking job must not take the writer (and every later write) down.
    match std::panic::catch_unwind(AssertUnwindSafe(|| f(conn)))
        .unwrap_or(Err(rusqlite::Error::UnwindingPanic))
    {
        Ok(v) => savepoint(conn, "RELEASE job").map(|()| v),
        Err(e) => {
            // Undo this job only; if even that fails the transaction is gone and the
            // COMMIT fails, which every job of the batch then reports.
            let _ =
                savepoint(conn, "ROLLBACK TO job").and_then(|()| savepoint(conn, "RELEASE job"));
            Err(e)
        }
    }
}

impl<T, F> WriteJob for Job<T, F>
where
    T: Send,
    F: FnOnce(&Connection) -> rusqlite::Result<T> + Send,
{
    fn run(&mut self, conn: &Connection) {
        if let Some(f) = self.f.take() {
            self.out = Some(in_savepoint(conn, f));
        }
    }

    fn finish(mut self: Box<Self>, commit: Result<(), &str>) {
        let result = match (self.out.take(), commit) {
            (Some(Err(e)), _) => Err(DbError::Sqlite(e)),
            (Some(Ok(v)), Ok(())) => Ok(v),
            (_, Err(msg)) => Err(DbError::Commit(msg.to_string())),
            (None, Ok(())) => Err(DbError::Commit("job was not run".to_string())),
        };
        if let Some(reply) = self.reply.take() {
            // The caller may have gone away (cancelled future, fire-and-forget job).
            let _ = reply.send(result);
        }
    }
}

fn savepoint(conn: &Connection, sql: &str) -> rusqlite::Result<()> {
    conn.prepare_cached(sql)?.execute([]).map(|_| ())
}

struct Readers {
    conns: Vec<Mutex<Connection>>,
    next: AtomicUsize,
}

impl Readers {
    fn with<T>(&self, f: impl FnOnce(&Connection) -> rusqlite::Result<T>) -> rusqlite::Result<T> {
        for conn in &self.conns {
            match conn.try_lock() {
                Ok(guard) => return f(&guard),
                Err(TryLockError::Poisoned(p)) => return f(&p.into_inner()),
                Err(TryLockError::WouldBlock) => {}
            }
        }
        let i = self.next.fetch_add(1, Ordering::Relaxed) % self.conns.len();
        let guard = self.conns[i].lock().unwrap_or_else(PoisonError::into_inner);
        f(&guard)
    }
}

/// One SQLite database file: a group-committing writer, a checkpointer and a pool of
/// readers.
pub(crate) struct Db {
    tx: Option<mpsc::Sender<Box<dyn WriteJob>>>,
    thread: Option<JoinHandle<()>>,
    syncer: Option<JoinHandle<()>>,
    checkpointer: Option<JoinHandle<()>>,
    readers: Arc<Readers>,
    path: PathBuf,
}

impl Db {
    /// Opens (creating if needed) the database at `path`, applies `schema` (idempotent
    /// DDL) and starts the writer thread. Blocking: call from a blocking context.
    pub(crate) fn open_blocking(
        path: &Path,
        schema: &str,
        readers: usize,
        thread_name: &str,
    ) -> Result<Db, EmbeddedError> {
        let sqlite_err = |source| EmbeddedError::Sqlite {
            path: path.to_path_buf(),
            source,
        };
        let writer = Connection::open(path).map_err(sqlite_err)?;
        configure(&writer).map_err(sqlite_err)?;
        writer.execute_batch(schema).map_err(sqlite_err)?;
        // Checkpoints are the checkpointer thread's job, and the WAL fsync the syncer's
        // (see the module docs).
        writer
            .pragma_update(None, "wal_autocheckpoint", 0)
            .map_err(sqlite_err)?;
        writer
            .pragma_update(None, "synchronous", "NORMAL")
            .map_err(sqlite_err)?;
        let ckpt_conn = Connection::open(path).map_err(sqlite_err)?;
        configure(&ckpt_conn).map_err(sqlite_err)?;

        let mut conns = Vec::with_capacity(readers.max(1));
        for _ in 0..readers.max(1) {
            let conn = Connection::open(path).map_err(sqlite_err)?;
            configure(&conn).map_err(sqlite_err)?;
            conn.pragma_update(None, "query_only", true)
                .map_err(sqlite_err)?;
            conns.push(Mutex::new(conn));
        }

        let spawn_err = |source| EmbeddedError::Io {
            path: path.to_path_buf(),
            source,
        };
        // One pending wake-up is enough: a checkpoint covers every commit before it.
        let (ckpt_tx, ckpt_rx) = mpsc::sync_channel::<()>(1);
        let restart = Arc::new(AtomicBool::new(false));
        let restart_wanted = Arc::clone(&restart);
        let db_path = path.to_path_buf();
        let checkpointer = std::thread::Builder::new()
            .name(format!("{thread_name}-ckpt"))
            .spawn(move || checkpoint_loop(ckpt_conn, ckpt_rx, &restart_wanted, &db_path))
            .map_err(spawn_err)?;
        let (sync_tx, sync_rx) = mpsc::channel::<Vec<Box<dyn WriteJob>>>();
        let wal_path = wal_path(path);
        let syncer = std::thread::Builder::new()
            .name(format!("{thread_name}-sync"))
            .spawn(move || sync_loop(sync_rx, &wal_path))
            .map_err(spawn_err)?;
        let (tx, rx) = mpsc::channel::<Box<dyn WriteJob>>();
        let thread = std::thread::Builder::new()
            .name(thread_name.to_string())
            .spawn(move || writer_loop(writer, rx, sync_tx, ckpt_tx, &restart))
            .map_err(spawn_err)?;
        Ok(Db {
            tx: Some(tx),
            thread: Some(thread),
            syncer: Some(syncer),
            checkpointer: Some(checkpointer),
            readers: Arc::new(Readers {
                conns,
                next: AtomicUsize::new(0),
            }),
            path: path.to_path_buf(),
        })
    }

    pub(crate) fn path(&self) -> &Path {
        &self.path
    }

    fn submit<T, F>(&self, f: F, reply: Option<oneshot::Sender<Result<T, DbError>>>) -> bool
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> rusqlite::Result<T> + Send + 'static,
    {
        let job: Box<dyn WriteJob> = Box::new(Job {
            f: Some(f),
            out: None,
            reply,
        });
        self.submit_job(job).is_ok()
    }

    /// Queues a job of the caller's own making; gives it back if the writer stopped.
    pub(crate) fn submit_job(&self, job: Box<dyn WriteJob>) -> Result<(), Box<dyn WriteJob>> {
        match &self.tx {
            Some(tx) => tx.send(job).map_err(|mpsc::SendError(job)| job),
            None => Err(job),
        }
    }

    /// [`Db::write`] for a plain thread (never call it on an async runtime's thread).
    pub(crate) fn write_blocking<T, F>(&self, f: F) -> Result<T, DbError>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> rusqlite::Result<T> + Send + 'static,
    {
        self.write_later(f)
            .blocking_recv()
            .map_err(|_| DbError::WriterStopped)?
    }

    /// Runs `f` in a write transaction; returns once it is committed (durable).
    ///
    /// `f` runs inside a savepoint: if it returns an error its changes are undone.
    /// It must not begin, commit or roll back transactions itself.
    pub(crate) async fn write<T, F>(&self, f: F) -> Result<T, DbError>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> rusqlite::Result<T> + Send + 'static,
    {
        self.write_later(f)
            .await
            .map_err(|_| DbError::WriterStopped)?
    }

    /// Queues `f` for the writer; the receiver gets what [`Db::write`] would return.
    pub(crate) fn write_later<T, F>(&self, f: F) -> oneshot::Receiver<Result<T, DbError>>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> rusqlite::Result<T> + Send + 'static,
    {
        let (reply, rx) = oneshot::channel();
        // A stopped writer drops the sender: the receiver then reports it.
        self.submit(f, Some(reply));
        rx
    }

    /// Queues `f` for the writer without waiting for it (housekeeping).
    pub(crate) fn write_detached<T, F>(&self, f: F)
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> rusqlite::Result<T> + Send + 'static,
    {
        if !self.submit(f, None) {
            tracing::warn!(db = %self.path.display(), "database writer stopped; housekeeping skipped");
        }
    }

    /// Runs `f` on a reader connection on the blocking pool.
    pub(crate) async fn read<T, F>(&self, f: F) -> Result<T, DbError>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> rusqlite::Result<T> + Send + 'static,
    {
        let readers = Arc::clone(&self.readers);
        tokio::task::spawn_blocking(move || readers.with(f))
            .await
            .map_err(|e| DbError::Task(e.to_string()))?
            .map_err(DbError::Sqlite)
    }
}

impl Drop for Db {
    /// Stops the writer after it has committed every job already queued, so that a
    /// reopen right after a drop sees everything that was acknowledged.
    fn drop(&mut self) {
        self.tx.take();
        join_thread(self.thread.take(), "database writer", &self.path);
        // The writer held the syncer's only sender: it answers what is left and stops.
        join_thread(self.syncer.take(), "database syncer", &self.path);
        // The writer held the checkpointer's only sender: it has stopped too (after a
        // last checkpoint).
        join_thread(
            self.checkpointer.take(),
            "database checkpointer",
            &self.path,
        );
    }
}

/// Waits for a background thread of the store at `path` to end; logs if it panicked.
pub(crate) fn join_thread(thread: Option<JoinHandle<()>>, what: &str, path: &Path) {
    if let Some(thread) = thread
        && thread.join().is_err()
    {
        tracing::error!(path = %path.display(), "{what} thread panicked");
    }
}

fn configure(conn: &Connection) -> rusqlite::Result<()> {
    conn.busy_timeout(BUSY_TIMEOUT)?;
    // `journal_mode` answers with the mode in force; WAL is persistent in the file.
    let mode: String = conn.query_row("PRAGMA journal_mode=WAL", [], |r| r.get(0))?;
    if !mode.eq_ignore_ascii_case("wal") {
        return Err(rusqlite::Error::InvalidParameterName(format!(
            "journal_mode is {mode}, WAL required"
        )));
    }
    // FULL in WAL mode: the WAL is fsynced at every commit (see the module docs).
    conn.pragma_update(None, "synchronous", "FULL")?;
    conn.set_prepared_statement_cache_capacity(32);
    Ok(())
}

fn writer_loop(
    conn: Connection,
    rx: mpsc::Receiver<Box<dyn WriteJob>>,
    sync: mpsc::Sender<Vec<Box<dyn WriteJob>>>,
    checkpoint: mpsc::SyncSender<()>,
    restart: &AtomicBool,
) {
    let mut commits: u64 = 0;
    while let Ok(first) = rx.recv() {
        if restart.swap(false, Ordering::Relaxed) {
            restart_wal(&conn);
        }
        let mut batch: Vec<Box<dyn WriteJob>> = Vec::with_capacity(16);
        if let Err(e) = conn.execute_batch("BEGIN IMMEDIATE") {
            first.finish(Err(&e.to_string()));
            continue;
        }
        let mut next = Some(first);
        while let Some(mut job) = next {
            job.run(&conn);
            batch.push(job);
            next = if batch.len() < MAX_BATCH {
                rx.try_recv().ok()
            } else {
                None
            };
        }
        let commit = match conn.execute_batch("COMMIT") {
            Ok(()) => Ok(()),
            Err(e) => {
                if !conn.is_autocommit() {
                    let _ = conn.execute_batch("ROLLBACK");
                }
                tracing::error!(error = %e, jobs = batch.len(), "sqlite commit failed");
                Err(e.to_string())
            }
        };
        match commit {
            // Answered by the syncer once the WAL is on disk, except jobs that do not
            // wait for it.
            Ok(()) => {
                let (durable, at_once): (Vec<_>, Vec<_>) =
                    batch.into_iter().partition(|job| job.needs_sync());
                for job in at_once {
                    job.finish(Ok(()));
                }
                if !durable.is_empty()
                    && let Err(mpsc::SendError(batch)) = sync.send(durable)
                {
                    for job in batch {
                        job.finish(Err("the database syncer thread has stopped"));
                    }
                }
            }
            Err(msg) => {
                for job in batch {
                    job.finish(Err(&msg));
                }
            }
        }
        commits += 1;
        if commits.is_multiple_of(CHECKPOINT_EVERY) {
            // Full means a wake-up is already pending.
            let _ = checkpoint.try_send(());
        }
    }
    // Stopping: one last checkpoint, so the next open starts with a short WAL.
    let _ = checkpoint.try_send(());
}

/// The WAL file SQLite keeps beside the database (`<db>-wal`).
fn wal_path(db: &Path) -> PathBuf {
    let mut name = db.as_os_str().to_owned();
    name.push("-wal");
    PathBuf::from(name)
}

/// Answers committed batches once an `fdatasync` of the WAL that began after their
/// `COMMIT` has returned (see the module docs). One fsync covers every batch that
/// arrived while the previous one was running.
fn sync_loop(rx: mpsc::Receiver<Vec<Box<dyn WriteJob>>>, wal_path: &Path) {
    let mut wal: Option<std::fs::File> = None;
    // After a failed fsync nothing more is acknowledged (see the module docs).
    let mut failed: Option<String> = None;
    while let Ok(first) = rx.recv() {
        let mut batches = vec![first];
        batches.extend(rx.try_iter());
        let result = match &failed {
            Some(e) => Err(e.clone()),
            None => sync_wal(&mut wal, wal_path).map_err(|e| {
                let msg = format!(
                    "fsync of {} failed: {e}; writes are refused until the database is reopened",
                    wal_path.display()
                );
                tracing::error!(wal = %wal_path.display(), error = %e, "WAL fsync failed; the database refuses further writes");
                failed = Some(msg.clone());
                msg
            }),
        };
        for job in batches.into_iter().flatten() {
            job.finish(result.as_ref().map(|_| ()).map_err(String::as_str));
        }
    }
}

fn sync_wal(wal: &mut Option<std::fs::File>, path: &Path) -> std::io::Result<()> {
    let file = match wal {
        Some(f) => f,
        // The WAL exists from the first commit on and stays while the writer's
        // connection is open (a TRUNCATE checkpoint empties it, same inode).
        None => wal.insert(std::fs::File::open(path)?),
    };
    file.sync_data()
}

/// What `PRAGMA wal_checkpoint` answers: (busy, WAL frames, frames checkpointed).
fn wal_checkpoint(conn: &Connection, mode: &str) -> rusqlite::Result<(i64, i64, i64)> {
    conn.query_row(&format!("PRAGMA wal_checkpoint({mode})"), [], |r| {
        Ok((r.get(0)?, r.get(1)?, r.get(2)?))
    })
}

/// Between two batches: copies what the checkpointer has not yet copied and has the
/// next transaction write the WAL from its start again (see the module docs).
fn restart_wal(conn: &Connection) {
    match wal_checkpoint(conn, "RESTART") {
        Ok((0, frames, _)) => tracing::debug!(frames, "WAL restarted"),
        Ok((_, frames, _)) => tracing::debug!(frames, "WAL still read from; restart retried later"),
        Err(e) => tracing::warn!(error = %e, "restarting checkpoint failed"),
    }
}

fn checkpoint_loop(conn: Connection, rx: mpsc::Receiver<()>, restart: &AtomicBool, path: &Path) {
    while rx.recv().is_ok() {
        match wal_checkpoint(&conn, "PASSIVE") {
            Ok((_, frames, _)) if frames > WAL_RESTART_FRAMES && frames <= WAL_TRUNCATE_FRAMES => {
                restart.store(true, Ordering::Relaxed);
            }
            Ok((_, frames, _)) if frames > WAL_TRUNCATE_FRAMES => {
                match wal_checkpoint(&conn, "TRUNCATE") {
                    Ok((0, _, _)) => {
                        tracing::debug!(db = %path.display(), frames, "WAL truncated")
                    }
                    Ok(_) => {
                        tracing::debug!(db = %path.display(), frames, "WAL still in use; truncation retried later")
                    }
                    Err(e) => {
                        tracing::warn!(db = %path.display(), error = %e, "truncating checkpoint failed")
                    }
                }
            }
            Ok(_) => {}
            // The next wake-up tries again; the WAL only grows meanwhile.
            Err(e) => tracing::warn!(db = %path.display(), error = %e, "checkpoint failed"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn job(reply: oneshot::Sender<Result<u32, DbError>>) -> Box<dyn WriteJob> {
        let mut j = Job {
            f: Some(|_: &Connection| Ok(7u32)),
            out: None,
            reply: Some(reply),
        };
        j.out = Some(Ok(7));
        Box::new(j)
    }

    fn syncer(wal: &Path) -> (mpsc::Sender<Vec<Box<dyn WriteJob>>>, JoinHandle<()>) {
        let (tx, rx) = mpsc::channel();
        let wal = wal.to_path_buf();
        (tx, std::thread::spawn(move || sync_loop(rx, &wal)))
    }

    fn answer(tx: &mpsc::Sender<Vec<Box<dyn WriteJob>>>) -> Result<u32, DbError> {
        let (reply, rx) = oneshot::channel();
        tx.send(vec![job(reply)]).expect("syncer running");
        rx.blocking_recv().expect("answered")
    }

    #[test]
    fn the_syncer_answers_once_the_wal_is_synced() {
        let dir = tempfile::tempdir().expect("tempdir");
        let wal = dir.path().join("q.db-wal");
        std::fs::write(&wal, b"frames").expect("wal");
        let (tx, thread) = syncer(&wal);
        assert_eq!(answer(&tx).expect("synced"), 7);
        drop(tx);
        thread.join().expect("syncer stops with its sender");
    }

    #[test]
    fn after_a_failed_sync_nothing_more_is_acknowledged() {
        let dir = tempfile::tempdir().expect("tempdir");
        let wal = dir.path().join("q.db-wal");
        let (tx, thread) = syncer(&wal);
        // No WAL file to sync: the commit is not known to be durable.
        let err = answer(&tx).expect_err("cannot sync");
        assert!(
            matches!(&err, DbError::Commit(m) if m.contains("fsync of") && m.contains("reopened")),
            "{err}"
        );
        // Even once syncing would work again, writes stay refused until a reopen.
        std::fs::write(&wal, b"frames").expect("wal");
        assert!(matches!(answer(&tx), Err(DbError::Commit(_))));
        drop(tx);
        thread.join().expect("syncer stops");
    }
}
