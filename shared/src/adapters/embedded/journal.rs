//! The intake journal: where the embedded intake makes a PDU and its job durable, so
//! that a front's answer (SMTP `250`, MM7 `1000`, MM1 `m-send.conf`) waits for one
//! small fsync rather than for the queue database's writer *and* its fsync.
//!
//! # How a PDU goes in
//!
//! A PDU of up to [`INLINE_MAX`](super::object_store::INLINE_MAX) bytes and its job
//! become one *record*. The journal thread takes every record waiting, numbers them
//! (`seq`, never reused), and for the whole group
//!
//! 1. hands the queue database's writer one *move* job, which inserts the objects and
//!    the jobs and raises the database's `applied` mark to the group's last number.
//!    The move is committed without waiting for an fsync of the WAL;
//! 2. meanwhile appends the records to the current segment file and `fdatasync`s it.
//!
//! A caller is answered once both have happened: its job is then visible to workers
//! and its record is on disk. The two run side by side, so the answer waits for the
//! longer of the two, not for their sum, and the fsync is of a file whose blocks
//! already exist (see *Segments*), which on the disks we measured takes half the time
//! of an fsync that also has to record a file's growth.
//!
//! # Durability
//!
//! Until an fsync of the queue database's WAL covers a move, its records are durable
//! only in the journal. On open, before anything reads the queue, every record above
//! the durable `applied` mark is replayed into the database (objects and jobs, and the
//! mark, in one durable transaction per chunk), so a crash or power loss loses nothing
//! that was answered. A record that was written but never answered (the process died
//! before its fsync returned, or its move failed and the peer was refused) may be
//! replayed too: the queue is at-least-once, and the handlers deduplicate.
//!
//! # Segments
//!
//! Records go into segment files (`intake/seg-NNNNNN`) of [`SEGMENT_SIZE`] bytes,
//! zero-filled when first created so that writing into them never allocates blocks.
//! When one is full the journal moves on to a segment all of whose records are
//! covered by a durable `applied` mark, which it learns from a *barrier*: a write to
//! the queue database that reads the mark and waits for the WAL fsync. A barrier is
//! sent whenever a segment is started (after the move of the group that started it),
//! so by the time the new one fills up the old one is normally free; if none is, the
//! journal waits for a new barrier and only then creates another segment (at most
//! [`MAX_SEGMENTS`]). A reused segment still holds old
//! records after the new ones; the scan at open stops at the first record that is
//! torn, fails its checksum or does not continue the numbering, and anything old is
//! below the mark anyway.
//!
//! If a journal write or fsync fails, the journal answers that group and every later
//! one with an error (the fronts refuse with a temporary failure) until it is
//! reopened: after a failed fsync Linux may report the next one as clean.
//!
//! # One process
//!
//! The journal holds an exclusive lock on `intake/LOCK`. Another process opening the
//! same data directory (`mmsc trace` beside `mmsc serve`) gets no journal: it neither
//! replays nor appends, and its intake writes to the database directly.

use super::EmbeddedError;
use super::object_store::insert_inline;
use super::queue::Outgoing;
use super::sqlite::{Db, DbError, WriteJob, in_savepoint, join_thread};
use bytes::Bytes;
use rusqlite::Connection;
use std::fs::{File, OpenOptions, TryLockError};
use std::io::{self, Write};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError, mpsc};
use std::thread::JoinHandle;
use tokio::sync::oneshot;

/// Size of one segment file.
#[cfg(not(test))]
pub(crate) const SEGMENT_SIZE: u64 = 8 << 20;
#[cfg(test)]
pub(crate) const SEGMENT_SIZE: u64 = 256 << 10;

/// Largest record the journal takes (larger PDUs and jobs go to the database directly).
pub(crate) const MAX_RECORD: usize = (SEGMENT_SIZE / 4) as usize;

/// Most segment files; past that the journal refuses records (the database is not
/// taking in what it already holds).
pub(crate) const MAX_SEGMENTS: usize = 64;

/// Most records written and moved as one group, and the size past which a group takes
/// no more (with the last record, at most half a segment).
const MAX_GROUP: usize = 256;
const MAX_GROUP_BYTES: usize = MAX_RECORD;

/// Records replayed per transaction at open.
const REPLAY_CHUNK: usize = 128;

const LOCK_FILE: &str = "LOCK";
const SEGMENT_PREFIX: &str = "seg-";
const MAGIC: &[u8; 4] = b"MMJ1";

/// magic, payload length (u32), seq (u64), CRC-32 of seq and payload (u32); LE.
const HEADER: usize = 20;

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS intake_journal (
    id      INTEGER PRIMARY KEY CHECK (id = 0),
    applied INTEGER NOT NULL      -- highest journal seq moved into this database
);
INSERT OR IGNORE INTO intake_journal (id, applied) VALUES (0, 0);
";

/// A PDU and its job, as the journal keeps them.
pub(crate) struct Record {
    pub(crate) key: String,
    pub(crate) body: Bytes,
    pub(crate) job: Outgoing,
}

impl Record {
    fn payload_len(&self) -> usize {
        2 + self.key.len()
            + 2
            + self.job.queue().len()
            + 2
            + self.job.id().len()
            + 4
            + self.job.body().len()
            + self.body.len()
    }

    /// Whether the journal takes this record.
    pub(crate) fn fits(&self) -> bool {
        HEADER + self.payload_len() <= MAX_RECORD
            && self.key.len() <= usize::from(u16::MAX)
            && self.job.queue().len() <= usize::from(u16::MAX)
            && self.job.id().len() <= usize::from(u16::MAX)
    }

    fn encode(&self, seq: u64, out: &mut Vec<u8>) {
        let start = out.len();
        out.extend_from_slice(MAGIC);
        out.extend_from_slice(&(self.payload_len() as u32).to_le_bytes());
        out.extend_from_slice(&seq.to_le_bytes());
        out.extend_from_slice(&[0; 4]);
        for s in [&self.key, self.job.queue(), self.job.id()] {
            out.extend_from_slice(&(s.len() as u16).to_le_bytes());
            out.extend_from_slice(s.as_bytes());
        }
        out.extend_from_slice(&(self.job.body().len() as u32).to_le_bytes());
        out.extend_from_slice(self.job.body());
        out.extend_from_slice(&self.body);
        let mut crc = crc32fast::Hasher::new();
        crc.update(&out[start + 8..start + 16]);
        crc.update(&out[start + HEADER..]);
        out[start + 16..start + HEADER].copy_from_slice(&crc.finalize().to_le_bytes());
    }

    /// Reads one record at the start of `b`: its seq, the record and its length.
    fn decode(b: &[u8]) -> Option<(u64, Record, usize)> {
        let header = b.get(..HEADER)?;
        if &header[..4] != MAGIC {
            return None;
        }
        let len = u32::from_le_bytes(header[4..8].try_into().ok()?) as usize;
        let end = HEADER.checked_add(len)?;
        let payload = b.get(HEADER..end)?;
        let mut crc = crc32fast::Hasher::new();
        crc.update(&header[8..16]);
        crc.update(payload);
        if crc.finalize().to_le_bytes() != header[16..20] {
            return None;
        }
        let seq = u64::from_le_bytes(header[8..16].try_into().ok()?);
        let mut p = Cursor(payload);
        let key = p.string()?;
        let queue = p.string()?;
        let id = p.string()?;
        let job_len = u32::from_le_bytes(p.take(4)?.try_into().ok()?) as usize;
        let job = p.take(job_len)?.to_vec();
        let body = Bytes::copy_from_slice(p.0);
        let record = Record {
            key,
            body,
            job: Outgoing::restore(queue, id, job),
        };
        Some((seq, record, end))
    }

    /// Inserts the object and the job (inside the writer's transaction).
    fn apply(&self, c: &Connection) -> rusqlite::Result<()> {
        insert_inline(c, &self.key, &self.body)?;
        self.job.insert(c)
    }
}

struct Cursor<'a>(&'a [u8]);

impl<'a> Cursor<'a> {
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        let (head, rest) = (self.0.get(..n)?, self.0.get(n..)?);
        self.0 = rest;
        Some(head)
    }

    fn string(&mut self) -> Option<String> {
        let n = u16::from_le_bytes(self.take(2)?.try_into().ok()?);
        String::from_utf8(self.take(usize::from(n))?.to_vec()).ok()
    }
}

/// Every record of one segment's contents, in order, up to the first one that is torn,
/// damaged or does not continue the numbering (the rest of a reused segment).
fn scan(bytes: &[u8]) -> Vec<(u64, Record)> {
    let mut records = Vec::new();
    let mut at = 0;
    let mut last = 0;
    while let Some((seq, record, len)) = bytes.get(at..).and_then(Record::decode) {
        if seq <= last {
            break;
        }
        last = seq;
        records.push((seq, record));
        at += len;
    }
    records
}

/// Reads `bytes` as a segment's contents and writes every record it read back out,
/// which must give the bytes it read (for the `journal` fuzz target). Returns how many
/// records it read.
#[doc(hidden)]
pub fn fuzz_scan(bytes: &[u8]) -> usize {
    let records = scan(bytes);
    let mut out = Vec::new();
    for (seq, r) in &records {
        r.encode(*seq, &mut out);
    }
    assert_eq!(
        out[..],
        bytes[..out.len()],
        "a record read must write back to the same bytes"
    );
    records.len()
}

fn read_applied(c: &Connection) -> rusqlite::Result<u64> {
    c.query_row("SELECT applied FROM intake_journal WHERE id = 0", [], |r| {
        r.get::<_, i64>(0)
    })
    .map(|v| u64::try_from(v).unwrap_or(0))
}

fn set_applied(c: &Connection, seq: u64) -> rusqlite::Result<()> {
    let seq = i64::try_from(seq).unwrap_or(i64::MAX);
    c.prepare_cached("UPDATE intake_journal SET applied = max(applied, ?1) WHERE id = 0")?
        .execute([seq])
        .map(|_| ())
}

/// Moves `records` (in seq order) into the database durably, with the mark, a chunk
/// per transaction. A record the database refuses by a constraint (it was refused
/// when it first came in, and its sender told so) is logged and skipped; any other
/// failure (a full disk...) fails the open, so nothing is dropped that may have been
/// answered.
fn replay(db: &Db, mut records: Vec<(u64, Record)>) -> Result<(), DbError> {
    let apply = |c: &Connection, chunk: &[(u64, Record)]| {
        for (_, r) in chunk {
            r.apply(c)?;
        }
        set_applied(c, chunk.last().map_or(0, |(seq, _)| *seq))
    };
    while !records.is_empty() {
        let rest = records.split_off(records.len().min(REPLAY_CHUNK));
        let chunk = Arc::new(std::mem::replace(&mut records, rest));
        let all = Arc::clone(&chunk);
        match db.write_blocking(move |c| apply(c, &all)) {
            Ok(()) => continue,
            Err(DbError::Sqlite(e)) if is_constraint(&e) => {}
            Err(e) => return Err(e),
        }
        for i in 0..chunk.len() {
            let one = Arc::clone(&chunk);
            match db.write_blocking(move |c| apply(c, &one[i..=i])) {
                Ok(()) => {}
                Err(DbError::Sqlite(e)) if is_constraint(&e) => {
                    let (seq, r) = (chunk[i].0, &chunk[i].1);
                    tracing::error!(seq, key = %r.key, queue = r.job.queue(), error = %e, "intake journal record refused by the queue database; skipped");
                    db.write_blocking(move |c| set_applied(c, seq))?;
                }
                Err(e) => return Err(e),
            }
        }
    }
    Ok(())
}

fn is_constraint(e: &rusqlite::Error) -> bool {
    e.sqlite_error_code() == Some(rusqlite::ErrorCode::ConstraintViolation)
}

/// Answers a group's callers once its move and its fsync have both finished.
struct GroupAck {
    state: Mutex<AckState>,
}

struct AckState {
    waiting: u8,
    error: Option<String>,
    replies: Vec<oneshot::Sender<Result<(), String>>>,
}

impl GroupAck {
    fn new(replies: Vec<oneshot::Sender<Result<(), String>>>) -> Self {
        GroupAck {
            state: Mutex::new(AckState {
                waiting: 2,
                error: None,
                replies,
            }),
        }
    }

    fn done(&self, result: Result<(), String>) {
        let mut s = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        if let Err(e) = result {
            s.error.get_or_insert(e);
        }
        s.waiting = s.waiting.saturating_sub(1);
        if s.waiting == 0 {
            let result = s.error.clone().map_or(Ok(()), Err);
            for reply in s.replies.drain(..) {
                // A caller that gave up (timed out) is not waiting any more.
                let _ = reply.send(result.clone());
            }
        }
    }
}

/// The move of one group into the queue database (see the module docs).
struct MoveJob {
    records: Vec<Record>,
    applied: u64,
    ack: Arc<GroupAck>,
    out: Option<rusqlite::Result<()>>,
}

impl WriteJob for MoveJob {
    fn run(&mut self, conn: &Connection) {
        let (records, applied) = (&self.records, self.applied);
        self.out = Some(in_savepoint(conn, |c| {
            for r in records {
                r.apply(c)?;
            }
            set_applied(c, applied)
        }));
    }

    fn finish(self: Box<Self>, commit: Result<(), &str>) {
        let result = match (self.out, commit) {
            (Some(Ok(())), Ok(())) => Ok(()),
            (Some(Err(e)), _) => Err(format!("moving into the queue database: {e}")),
            (_, Err(e)) => Err(format!("moving into the queue database: {e}")),
            (None, Ok(())) => Err("the move was not run".to_string()),
        };
        self.ack.done(result);
    }

    fn needs_sync(&self) -> bool {
        false
    }
}

struct Entry {
    record: Record,
    reply: oneshot::Sender<Result<(), String>>,
}

/// The intake journal of one data directory (see the module docs).
pub(crate) struct Journal {
    tx: Option<mpsc::Sender<Entry>>,
    thread: Option<JoinHandle<()>>,
    dir: PathBuf,
}

impl std::fmt::Debug for Journal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Journal")
            .field("dir", &self.dir)
            .finish_non_exhaustive()
    }
}

fn io_err(path: &Path) -> impl Fn(io::Error) -> EmbeddedError + '_ {
    move |source| EmbeddedError::Io {
        path: path.to_path_buf(),
        source,
    }
}

fn db_err(path: &Path) -> impl Fn(DbError) -> EmbeddedError + '_ {
    move |e| EmbeddedError::Io {
        path: path.to_path_buf(),
        source: io::Error::other(e.to_string()),
    }
}

fn sync_dir(dir: &Path) -> io::Result<()> {
    File::open(dir)?.sync_all()
}

fn segment_index(name: &str) -> Option<u32> {
    let digits = name.strip_prefix(SEGMENT_PREFIX)?;
    (digits.len() == 6 && digits.bytes().all(|b| b.is_ascii_digit()))
        .then(|| digits.parse().ok())
        .flatten()
}

impl Journal {
    /// Opens the journal in `dir` for the queue database `db`, replaying into it every
    /// record it has not durably taken in. `Ok(None)` when another process holds the
    /// journal. Blocking: call from a blocking context, before anything reads the
    /// queue.
    pub(crate) fn open_blocking(dir: &Path, db: Arc<Db>) -> Result<Option<Journal>, EmbeddedError> {
        if !dir.is_dir() {
            std::fs::create_dir_all(dir).map_err(io_err(dir))?;
            if let Some(parent) = dir.parent() {
                sync_dir(parent).map_err(io_err(parent))?;
            }
        }
        let lock_path = dir.join(LOCK_FILE);
        let lock = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&lock_path)
            .map_err(io_err(&lock_path))?;
        match lock.try_lock() {
            Ok(()) => {}
            Err(TryLockError::WouldBlock) => {
                tracing::info!(dir = %dir.display(), "intake journal in use by another process; this one writes to the database directly");
                return Ok(None);
            }
            Err(TryLockError::Error(e)) => return Err(io_err(&lock_path)(e)),
        }
        db.write_blocking(|c| c.execute_batch(SCHEMA))
            .map_err(db_err(dir))?;
        let mark = db.write_blocking(read_applied).map_err(db_err(dir))?;

        let mut segments = Vec::new();
        let mut pending = Vec::new();
        let mut highest = mark;
        let mut names: Vec<(u32, PathBuf)> = Vec::new();
        for entry in std::fs::read_dir(dir).map_err(io_err(dir))? {
            let entry = entry.map_err(io_err(dir))?;
            let name = entry.file_name();
            let name = name.to_string_lossy();
            if let Some(index) = segment_index(&name) {
                names.push((index, entry.path()));
            } else if name.starts_with(".seg-") {
                // A segment whose creation a crash interrupted: never written to.
                let _ = std::fs::remove_file(entry.path());
            }
        }
        names.sort();
        for (index, path) in names {
            let file = OpenOptions::new()
                .read(true)
                .write(true)
                .open(&path)
                .map_err(io_err(&path))?;
            let bytes = std::fs::read(&path).map_err(io_err(&path))?;
            let records = scan(&bytes);
            let last_seq = records.last().map_or(0, |(seq, _)| *seq);
            highest = highest.max(last_seq);
            pending.extend(records.into_iter().filter(|(seq, _)| *seq > mark));
            segments.push(Segment {
                index,
                file,
                last_seq,
            });
        }
        pending.sort_by_key(|(seq, _)| *seq);
        let replayed = pending.len();
        replay(&db, pending).map_err(db_err(dir))?;
        if replayed > 0 {
            tracing::warn!(dir = %dir.display(), records = replayed, "replayed PDUs from the intake journal that the queue database had not durably taken in");
        }

        let appender = Appender {
            dir: dir.to_path_buf(),
            db,
            segments,
            current: None,
            offset: 0,
            next_seq: highest + 1,
            // Everything read is now in the database, durably.
            durable: highest,
            barrier: None,
            barrier_due: false,
            failed: None,
            _lock: lock,
        };
        let (tx, rx) = mpsc::channel();
        let thread = std::thread::Builder::new()
            .name("mmsc-intake-journal".to_string())
            .spawn(move || appender.run(rx))
            .map_err(io_err(dir))?;
        Ok(Some(Journal {
            tx: Some(tx),
            thread: Some(thread),
            dir: dir.to_path_buf(),
        }))
    }

    /// Makes `record` durable and moves it into the queue database; `Ok` once both
    /// are done.
    pub(crate) async fn append(&self, record: Record) -> Result<(), String> {
        const STOPPED: &str = "the intake journal has stopped";
        let (reply, rx) = oneshot::channel();
        let tx = self.tx.as_ref().ok_or(STOPPED)?;
        tx.send(Entry { record, reply })
            .map_err(|_| STOPPED.to_string())?;
        rx.await.map_err(|_| STOPPED.to_string())?
    }
}

impl Drop for Journal {
    /// Stops the journal thread once it has answered every record already sent.
    fn drop(&mut self) {
        self.tx.take();
        join_thread(self.thread.take(), "intake journal", &self.dir);
    }
}

struct Segment {
    index: u32,
    file: File,
    /// Highest seq written into it (0: none).
    last_seq: u64,
}

/// The journal thread's state.
struct Appender {
    dir: PathBuf,
    db: Arc<Db>,
    segments: Vec<Segment>,
    /// Segment being written, and where the next record goes in it.
    current: Option<usize>,
    offset: u64,
    next_seq: u64,
    /// Highest seq known to be durably in the database.
    durable: u64,
    /// The barrier sent when the current segment was started (see the module docs).
    barrier: Option<oneshot::Receiver<Result<u64, DbError>>>,
    barrier_due: bool,
    /// After a failed write or fsync, nothing more is acknowledged.
    failed: Option<String>,
    _lock: File,
}

impl Appender {
    fn run(mut self, rx: mpsc::Receiver<Entry>) {
        while let Ok(first) = rx.recv() {
            let mut bytes = first.record.payload_len();
            let mut group = vec![first];
            // A group spans at most two segments, so that a barrier frees the one
            // before them.
            while group.len() < MAX_GROUP && bytes < MAX_GROUP_BYTES {
                let Ok(next) = rx.try_recv() else { break };
                bytes += next.record.payload_len();
                group.push(next);
            }
            self.write_group(group);
        }
    }

    fn write_group(&mut self, group: Vec<Entry>) {
        let (records, replies): (Vec<Record>, Vec<_>) =
            group.into_iter().map(|e| (e.record, e.reply)).unzip();
        if let Some(e) = &self.failed {
            for reply in replies {
                let _ = reply.send(Err(e.clone()));
            }
            return;
        }
        // Lay the records out: (segment, offset, bytes) for each segment touched.
        let mut writes: Vec<(usize, u64, Vec<u8>)> = Vec::new();
        let mut buf = Vec::with_capacity(records.iter().map(|r| HEADER + r.payload_len()).sum());
        for r in &records {
            let len = (HEADER + r.payload_len()) as u64;
            if self.current.is_none() || self.offset + buf.len() as u64 + len > SEGMENT_SIZE {
                if let Some(cur) = self.current
                    && !buf.is_empty()
                {
                    writes.push((cur, self.offset, std::mem::take(&mut buf)));
                }
                if let Err(e) = self.rotate() {
                    let msg = format!("intake journal in {}: {e}", self.dir.display());
                    tracing::error!(error = %msg, "no journal segment to write to; PDUs refused");
                    for reply in replies {
                        let _ = reply.send(Err(msg.clone()));
                    }
                    return;
                }
            }
            let seq = self.next_seq;
            self.next_seq += 1;
            let at = self.current.unwrap_or_default();
            r.encode(seq, &mut buf);
            self.segments[at].last_seq = seq;
        }
        let cur = self.current.unwrap_or_default();
        writes.push((cur, self.offset, buf));

        let ack = Arc::new(GroupAck::new(replies));
        let applied = self.next_seq - 1;
        let job = Box::new(MoveJob {
            records,
            applied,
            ack: Arc::clone(&ack),
            out: None,
        });
        if let Err(job) = self.db.submit_job(job) {
            job.finish(Err("the queue database's writer has stopped"));
        }
        if std::mem::take(&mut self.barrier_due) {
            // Sent after this group's move: by the time the new segment is full, it
            // tells that every segment before it is free.
            self.barrier = Some(self.db.write_later(read_applied));
        }
        let written = self.write_and_sync(&writes);
        if let Some((_, offset, bytes)) = writes.last() {
            self.offset = offset + bytes.len() as u64;
        }
        ack.done(written.map_err(|e| {
            let msg = format!(
                "intake journal write in {} failed: {e}; PDUs are refused until it is reopened",
                self.dir.display()
            );
            tracing::error!(error = %e, dir = %self.dir.display(), "intake journal write failed; refusing further PDUs");
            self.failed = Some(msg.clone());
            msg
        }));
    }

    fn write_and_sync(&self, writes: &[(usize, u64, Vec<u8>)]) -> io::Result<()> {
        for (seg, offset, bytes) in writes {
            self.segments[*seg].file.write_all_at(bytes, *offset)?;
        }
        for (i, (seg, _, _)) in writes.iter().enumerate() {
            if writes[i + 1..].iter().all(|(s, _, _)| s != seg) {
                self.segments[*seg].file.sync_data()?;
            }
        }
        Ok(())
    }

    /// A segment that no record still needs, other than the current one.
    fn free_segment(&self) -> Option<usize> {
        (0..self.segments.len())
            .find(|&i| Some(i) != self.current && self.segments[i].last_seq <= self.durable)
    }

    /// Moves on to a free segment, or a new one.
    fn rotate(&mut self) -> io::Result<()> {
        if let Some(rx) = self.barrier.as_mut()
            && let Ok(result) = rx.try_recv()
        {
            self.barrier = None;
            if let Ok(mark) = result {
                self.durable = self.durable.max(mark);
            }
        }
        let mut free = self.free_segment();
        if free.is_none() && self.segments.len() > usize::from(self.current.is_some()) {
            // Wait for a barrier sent now: it covers every move sent so far.
            let mark = self
                .db
                .write_blocking(read_applied)
                .map_err(io::Error::other)?;
            self.durable = self.durable.max(mark);
            free = self.free_segment();
        }
        let next = match free {
            Some(i) => i,
            None if self.segments.len() >= MAX_SEGMENTS => {
                return Err(io::Error::other(format!(
                    "all {MAX_SEGMENTS} segments hold PDUs the queue database has not durably taken in"
                )));
            }
            None => {
                let index = self.segments.iter().map(|s| s.index + 1).max().unwrap_or(0);
                let file = create_segment(&self.dir, index)?;
                self.segments.push(Segment {
                    index,
                    file,
                    last_seq: 0,
                });
                self.segments.len() - 1
            }
        };
        self.current = Some(next);
        self.offset = 0;
        self.barrier_due = true;
        Ok(())
    }
}

/// Creates segment `index`, zero-filled and durably linked into `dir`.
fn create_segment(dir: &Path, index: u32) -> io::Result<File> {
    let name = format!("{SEGMENT_PREFIX}{index:06}");
    let tmp = dir.join(format!(".{name}.tmp"));
    let path = dir.join(&name);
    let mut file = OpenOptions::new()
        .create(true)
        .truncate(true)
        .read(true)
        .write(true)
        .open(&tmp)?;
    let zeros = vec![0u8; 1 << 20];
    let mut left = SEGMENT_SIZE as usize;
    while left > 0 {
        let n = left.min(zeros.len());
        file.write_all(&zeros[..n])?;
        left -= n;
    }
    file.sync_all()?;
    std::fs::rename(&tmp, &path)?;
    sync_dir(dir)?;
    tracing::info!(segment = %path.display(), "intake journal segment created");
    Ok(file)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(key: &str, body: &[u8]) -> Record {
        Record {
            key: key.to_string(),
            body: Bytes::copy_from_slice(body),
            job: Outgoing::restore(
                "ingest".into(),
                format!("id-{key}"),
                b"{\"job\":1}".to_vec(),
            ),
        }
    }

    fn encoded(records: &[(u64, Record)]) -> Vec<u8> {
        let mut out = Vec::new();
        for (seq, r) in records {
            r.encode(*seq, &mut out);
        }
        out
    }

    #[test]
    fn records_read_back_as_written() {
        let r = record("in/mm4/a.eml", b"From: a\r\n\r\nbody \x00\xff bytes");
        let bytes = encoded(&[(7, r)]);
        let (seq, back, len) = Record::decode(&bytes).expect("decodes");
        assert_eq!((seq, len), (7, bytes.len()));
        assert_eq!(back.key, "in/mm4/a.eml");
        assert_eq!(&back.body[..], b"From: a\r\n\r\nbody \x00\xff bytes");
        assert_eq!(back.job.queue(), "ingest");
        assert_eq!(back.job.id(), "id-in/mm4/a.eml");
        assert_eq!(back.job.body(), b"{\"job\":1}");
    }

    #[test]
    fn a_scan_stops_at_a_torn_damaged_or_stale_record() {
        let bytes = encoded(&[
            (1, record("a", b"1")),
            (2, record("b", b"2")),
            (3, record("c", b"3")),
        ]);
        let keys = |b: &[u8]| scan(b).into_iter().map(|(_, r)| r.key).collect::<Vec<_>>();
        assert_eq!(keys(&bytes), ["a", "b", "c"]);
        // Torn: every cut short of the end loses only the record it cuts.
        let (_, _, first) = Record::decode(&bytes).expect("first");
        for cut in 0..bytes.len() {
            let expect = if cut < first {
                0
            } else {
                keys(&bytes[..cut]).len()
            };
            assert!(keys(&bytes[..cut]).len() <= 3);
            assert_eq!(keys(&bytes[..cut]).len(), expect);
        }
        assert_eq!(keys(&bytes[..bytes.len() - 1]), ["a", "b"]);
        // Damaged: a flipped bit anywhere in the second record ends the scan there.
        let (_, _, second) = Record::decode(&bytes[first..]).expect("second");
        for at in first..first + second {
            let mut bad = bytes.clone();
            bad[at] ^= 0x10;
            assert_eq!(keys(&bad), ["a"], "bit flipped at {at}");
        }
        // Stale: an older record after the newest (a reused segment) is not read.
        let mut reused = encoded(&[(10, record("new", b"n"))]);
        reused.extend_from_slice(&encoded(&[(4, record("old", b"o"))]));
        assert_eq!(keys(&reused), ["new"]);
        // Zeros (a fresh segment) and garbage hold nothing.
        assert!(scan(&[0u8; 4096]).is_empty());
        let mut noise = 0x2545_f491_4f6c_dd1du64;
        let garbage: Vec<u8> = (0..65_536)
            .map(|_| {
                noise ^= noise << 13;
                noise ^= noise >> 7;
                noise ^= noise << 17;
                noise as u8
            })
            .collect();
        assert!(scan(&garbage).is_empty());
        // What the fuzz target checks: records read write back to the same bytes.
        assert_eq!(fuzz_scan(&bytes), 3);
        assert_eq!(fuzz_scan(&reused), 1);
        assert_eq!(fuzz_scan(&garbage), 0);
    }

    #[test]
    fn records_too_large_for_a_segment_are_not_taken() {
        assert!(record("k", &[1; 1024]).fits());
        assert!(!record("k", &vec![1; MAX_RECORD]).fits());
    }

    #[test]
    fn segment_names() {
        assert_eq!(segment_index("seg-000012"), Some(12));
        assert_eq!(segment_index("seg-12"), None);
        assert_eq!(segment_index(".seg-000012.tmp"), None);
        assert_eq!(segment_index("LOCK"), None);
    }
}
