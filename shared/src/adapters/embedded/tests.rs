//! Contract suites against the embedded adapters, plus what only they promise:
//! durability across a reopen, real concurrency, purging, group-commit isolation.

use super::sqlite::{Db, DbError};
use super::*;
use crate::domain::Timestamp;
use crate::ports::{
    Key, ManualClock, ObjectStore, Queue, QueueError, StateStore, SystemClock, contract, queues,
};
use bytes::Bytes;
use std::collections::HashSet;
use std::time::Duration;
use tempfile::TempDir;

fn tempdir() -> TempDir {
    tempfile::tempdir().expect("create temp dir")
}

async fn backend(dir: &Path, max_receives: u32) -> EmbeddedBackend {
    EmbeddedBackend::open(dir, max_receives, Arc::new(SystemClock))
        .await
        .expect("open embedded backend")
}

const LONG: Duration = Duration::from_secs(30);

// ---- contract suites -------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dir_object_store_meets_the_contract() {
    let dir = tempdir();
    let store = DirObjectStore::open(&dir.path().join("objects"))
        .await
        .expect("open");
    contract::object_store_contract(&store).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_state_store_meets_the_contract() {
    let dir = tempdir();
    let path = dir.path().join("state.db");
    contract::state_store_contract(|clock| async move {
        let store = SqliteStateStore::open(&path, clock).await.expect("open");
        Arc::new(store) as Arc<dyn StateStore>
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_queue_meets_the_contract() {
    let dir = tempdir();
    let queue = Arc::new(
        SqliteQueue::open(&dir.path().join("queue.db"), 3)
            .await
            .expect("open"),
    );
    // Spawned: the suite's future must be Send.
    tokio::spawn(async move { contract::queue_contract(&*queue, 3).await })
        .await
        .expect("queue contract");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_queue_meets_the_contract_at_the_smallest_threshold() {
    let dir = tempdir();
    let queue = SqliteQueue::open(&dir.path().join("queue.db"), 2)
        .await
        .expect("open");
    contract::queue_contract_with_prefix(&queue, 2, "two").await;
}

#[test]
fn queue_contract_names_are_valid_and_paired() {
    let names = contract::queue_contract_queue_names("ct0123456789");
    assert_eq!(names.len(), 2 * contract::QUEUE_CONTRACT_SUFFIXES.len());
    for pair in names.chunks(2) {
        assert_eq!(pair[1], queues::dead_letter(&pair[0]));
    }
    for n in &names {
        assert!(
            n.len() <= 80
                && n.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        );
    }
    // No scenario queue may itself look like a dead-letter queue.
    assert!(
        contract::QUEUE_CONTRACT_SUFFIXES
            .iter()
            .all(|s| !s.ends_with("dlq"))
    );
}

// ---- layout and durability -------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn open_creates_the_data_directory_layout() {
    let dir = tempdir();
    let data = dir.path().join("nested/data");
    let b = backend(&data, 3).await;
    assert!(data.join(OBJECTS_DIR).is_dir());
    assert!(data.join(STATE_DB).is_file());
    assert!(data.join(QUEUE_DB).is_file());
    assert_eq!(b.objects.root(), data.join(OBJECTS_DIR));
    // Small objects live in the queue's database (one group commit with their job),
    // large ones as files.
    b.objects
        .put(
            "in/mm4/small.eml",
            Bytes::from_static(b"small"),
            "message/rfc822",
        )
        .await
        .expect("put small");
    let large = Bytes::from(vec![b'x'; object_store::INLINE_MAX + 1]);
    b.objects
        .put("in/mm4/large.eml", large.clone(), "message/rfc822")
        .await
        .expect("put large");
    assert!(
        !data
            .join(OBJECTS_DIR)
            .join(object_store::INLINE_DB)
            .exists()
    );
    assert!(!data.join(OBJECTS_DIR).join("in/mm4/small.eml").exists());
    assert!(data.join(OBJECTS_DIR).join("in/mm4/large.eml").is_file());
    let inline: i64 = rusqlite::Connection::open(data.join(QUEUE_DB))
        .and_then(|c| c.query_row("SELECT count(*) FROM objects", [], |r| r.get(0)))
        .expect("objects table in queue.db");
    assert_eq!(inline, 1);
    assert_eq!(
        b.objects.get("in/mm4/large.eml").await.expect("get"),
        Some(large)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn data_survives_reopen() {
    let dir = tempdir();
    let clock = Arc::new(ManualClock::new(Timestamp(1_700_000_000_000)));
    let (waiting_id, inflight_id);
    {
        let b = EmbeddedBackend::open(dir.path(), 5, clock.clone())
            .await
            .expect("open");
        b.objects
            .put(
                "in/mm4/x.eml",
                Bytes::from_static(b"raw pdu"),
                "message/rfc822",
            )
            .await
            .expect("put object");
        let key = Key::new("msg#1", "meta");
        b.state.put(&key, b"v1", None).await.expect("put");
        b.state.update(&key, 1, b"v2", None).await.expect("update");
        b.state
            .create(
                &Key::new("msg#1", "ttl"),
                b"t",
                Some(clock.now().plus(LONG)),
            )
            .await
            .expect("create");

        inflight_id = b
            .queue
            .send("ingest", b"in flight", Duration::ZERO)
            .await
            .expect("send");
        let m = b
            .queue
            .receive("ingest", 1, Duration::from_secs(1), Duration::from_secs(1))
            .await
            .expect("receive");
        assert_eq!(m.len(), 1);
        waiting_id = b
            .queue
            .send("ingest", b"waiting", Duration::ZERO)
            .await
            .expect("send");
        // Dropping the backend stops the writers after their last commit.
    }

    let b = EmbeddedBackend::open(dir.path(), 5, clock.clone())
        .await
        .expect("reopen");
    assert_eq!(
        b.objects.get("in/mm4/x.eml").await.expect("get").as_deref(),
        Some(&b"raw pdu"[..])
    );
    let item = b
        .state
        .get(&Key::new("msg#1", "meta"))
        .await
        .expect("get")
        .expect("present");
    assert_eq!((item.value.as_slice(), item.version), (&b"v2"[..], 2));
    assert!(
        b.state
            .get(&Key::new("msg#1", "ttl"))
            .await
            .expect("get")
            .is_some()
    );
    clock.advance(2 * LONG);
    assert!(
        b.state
            .get(&Key::new("msg#1", "ttl"))
            .await
            .expect("get")
            .is_none()
    );

    assert_eq!(b.queue.depth("ingest").await.expect("depth"), 2);
    let first = b
        .queue
        .receive("ingest", 10, LONG, Duration::ZERO)
        .await
        .expect("receive");
    assert_eq!(
        first.len(),
        1,
        "only the waiting message is visible at once"
    );
    assert_eq!(first[0].id, waiting_id);
    // The in-flight one comes back when its 1 s timeout runs out, as a redelivery.
    let later = b
        .queue
        .receive("ingest", 10, LONG, Duration::from_secs(3))
        .await
        .expect("receive");
    assert_eq!(later.len(), 1);
    assert_eq!(
        (later[0].id.as_str(), later[0].receive_count),
        (inflight_id.as_str(), 2)
    );
    assert_eq!(later[0].body, b"in flight");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn put_leaves_no_temporary_files() {
    let dir = tempdir();
    let store = DirObjectStore::open(dir.path()).await.expect("open");
    for i in 0..5 {
        store
            .put(
                "a/b/c.bin",
                Bytes::from(vec![i; super::object_store::INLINE_MAX + 1]),
                "x/y",
            )
            .await
            .expect("put");
    }
    let names: Vec<String> = std::fs::read_dir(dir.path().join("a/b"))
        .expect("read dir")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names, vec!["c.bin".to_string()]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_directory_is_not_an_object() {
    let dir = tempdir();
    let store = DirObjectStore::open(dir.path()).await.expect("open");
    let big = Bytes::from(vec![b'x'; super::object_store::INLINE_MAX + 1]);
    store.put("a/b", big.clone(), "t").await.expect("put");
    assert_eq!(store.get("a").await.expect("get"), None);
    store
        .delete("a")
        .await
        .expect("delete of a directory is a no-op");
    assert_eq!(store.get("a/b/c").await.expect("get below a file"), None);
    store.delete("a/b/c").await.expect("delete below a file");
    assert!(store.get("a/b").await.expect("get").is_some());
    // The documented limitation: a key cannot be a file and a directory at once
    // (for objects stored as files; small ones live inline and have no such limit).
    assert!(matches!(
        store.put("a/b/c", big, "t").await,
        Err(crate::ports::ObjectError::Io { .. })
    ));
    store
        .put("a/b/c", Bytes::from_static(b"y"), "t")
        .await
        .expect("small put below a file");
    assert_eq!(
        store.get("a/b/c").await.expect("get").as_deref(),
        Some(&b"y"[..])
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn small_and_large_versions_of_a_key_replace_each_other() {
    let dir = tempdir();
    let store = DirObjectStore::open(dir.path()).await.expect("open");
    let big = Bytes::from(vec![b'L'; super::object_store::INLINE_MAX + 10]);
    store
        .put("k/v", Bytes::from_static(b"small"), "t")
        .await
        .expect("put small");
    assert!(
        !dir.path().join("k/v").exists(),
        "small objects are stored inline"
    );
    store.put("k/v", big.clone(), "t").await.expect("put large");
    assert_eq!(store.get("k/v").await.expect("get"), Some(big));
    store
        .put("k/v", Bytes::from_static(b"again"), "t")
        .await
        .expect("put small again");
    assert_eq!(
        store.get("k/v").await.expect("get").as_deref(),
        Some(&b"again"[..])
    );
    assert!(
        !dir.path().join("k/v").exists(),
        "the shadowed file is removed"
    );
    drop(store);
    let store = DirObjectStore::open(dir.path()).await.expect("reopen");
    assert_eq!(
        store.get("k/v").await.expect("get after reopen").as_deref(),
        Some(&b"again"[..])
    );
    store.delete("k/v").await.expect("delete");
    assert_eq!(store.get("k/v").await.expect("get"), None);
}

// ---- concurrency -------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn exactly_one_of_eight_concurrent_creates_wins() {
    let dir = tempdir();
    let b = backend(dir.path(), 3).await;
    for round in 0..10 {
        let key = Key::new("idem#race", format!("tx#{round}"));
        let tasks: Vec<_> = (0..8)
            .map(|i| {
                let (state, key) = (b.state.clone(), key.clone());
                tokio::spawn(async move { state.create(&key, &[i], None).await })
            })
            .collect();
        let mut wins = 0;
        for t in tasks {
            match t.await.expect("task") {
                Ok(v) => {
                    assert_eq!(v, 1);
                    wins += 1;
                }
                Err(e) => assert!(e.is_conflict(), "unexpected {e:?}"),
            }
        }
        assert_eq!(wins, 1, "round {round}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_cas_increments_add_up() {
    let dir = tempdir();
    let b = backend(dir.path(), 3).await;
    let key = Key::new("counter", "n");
    b.state.put(&key, b"0", None).await.expect("put");
    let tasks: Vec<_> = (0..8)
        .map(|_| {
            let (state, key) = (b.state.clone(), key.clone());
            tokio::spawn(async move {
                let mut conflicts = 0u32;
                for _ in 0..25 {
                    loop {
                        let item = state.get(&key).await.expect("get").expect("present");
                        let n: u64 = std::str::from_utf8(&item.value)
                            .expect("utf8")
                            .parse()
                            .expect("number");
                        match state
                            .update(&key, item.version, (n + 1).to_string().as_bytes(), None)
                            .await
                        {
                            Ok(_) => break,
                            Err(e) if e.is_conflict() => conflicts += 1,
                            Err(e) => panic!("unexpected {e:?}"),
                        }
                    }
                }
                conflicts
            })
        })
        .collect();
    for t in tasks {
        t.await.expect("task");
    }
    let item = b.state.get(&key).await.expect("get").expect("present");
    assert_eq!((item.value.as_slice(), item.version), (&b"200"[..], 201));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_producers_and_consumers_see_every_message_once() {
    let dir = tempdir();
    let b = backend(dir.path(), 3).await;
    let producers: Vec<_> = (0..8)
        .map(|p| {
            let q = b.queue.clone();
            tokio::spawn(async move {
                for i in 0..50 {
                    q.send("mm4-out", format!("{p}-{i}").as_bytes(), Duration::ZERO)
                        .await
                        .expect("send");
                }
            })
        })
        .collect();
    let consumers: Vec<_> = (0..4)
        .map(|_| {
            let q = b.queue.clone();
            tokio::spawn(async move {
                let mut bodies = Vec::new();
                loop {
                    let msgs = q
                        .receive("mm4-out", 7, LONG, Duration::from_millis(500))
                        .await
                        .expect("receive");
                    if msgs.is_empty() {
                        return bodies;
                    }
                    for m in msgs {
                        q.delete("mm4-out", &m.receipt).await.expect("delete");
                        bodies.push(String::from_utf8(m.body).expect("utf8"));
                    }
                }
            })
        })
        .collect();
    for p in producers {
        p.await.expect("producer");
    }
    let mut seen = HashSet::new();
    for c in consumers {
        for body in c.await.expect("consumer") {
            assert!(seen.insert(body.clone()), "{body} delivered twice");
        }
    }
    assert_eq!(seen.len(), 400);
    assert_eq!(b.queue.depth("mm4-out").await.expect("depth"), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn many_long_polls_are_all_served() {
    let dir = tempdir();
    let b = backend(dir.path(), 3).await;
    let waiters: Vec<_> = (0..6)
        .map(|_| {
            let q = b.queue.clone();
            tokio::spawn(async move {
                q.receive("mm1-notify", 1, LONG, Duration::from_secs(5))
                    .await
                    .expect("receive")
            })
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(100)).await;
    for i in 0..6 {
        b.queue
            .send("mm1-notify", format!("{i}").as_bytes(), Duration::ZERO)
            .await
            .expect("send");
    }
    let mut got = HashSet::new();
    for w in waiters {
        let msgs = w.await.expect("waiter");
        assert_eq!(msgs.len(), 1);
        assert!(got.insert(msgs[0].id.clone()));
    }
}

// ---- queue specifics ---------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dead_letter_queues_do_not_dead_letter_again() {
    let dir = tempdir();
    let b = backend(dir.path(), 1).await;
    let id = b
        .queue
        .send("ingest-dlq", b"x", Duration::ZERO)
        .await
        .expect("send");
    for n in 1..=3 {
        let m = b
            .queue
            .receive("ingest-dlq", 1, LONG, Duration::from_secs(1))
            .await
            .expect("receive");
        assert_eq!((m[0].id.as_str(), m[0].receive_count), (id.as_str(), n));
        b.queue
            .set_visibility("ingest-dlq", &m[0].receipt, Duration::ZERO)
            .await
            .expect("release");
    }
    assert_eq!(b.queue.depth("ingest-dlq-dlq").await.expect("depth"), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn max_receives_zero_never_dead_letters() {
    let dir = tempdir();
    let b = backend(dir.path(), 0).await;
    b.queue
        .send("expire", b"x", Duration::ZERO)
        .await
        .expect("send");
    for n in 1..=4 {
        let m = b
            .queue
            .receive("expire", 1, Duration::ZERO, Duration::from_secs(1))
            .await
            .expect("receive");
        assert_eq!(m[0].receive_count, n);
    }
    assert_eq!(b.queue.depth("expire-dlq").await.expect("depth"), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dead_letter_keeps_its_receive_count_and_wakes_dlq_pollers() {
    let dir = tempdir();
    let b = backend(dir.path(), 2).await;
    let id = b
        .queue
        .send("mm7-out", b"poison", Duration::ZERO)
        .await
        .expect("send");
    let q = b.queue.clone();
    let dlq_poll = tokio::spawn(async move {
        q.receive(
            &queues::dead_letter("mm7-out"),
            1,
            LONG,
            Duration::from_secs(5),
        )
        .await
        .expect("receive dlq")
    });
    for _ in 0..2 {
        let m = b
            .queue
            .receive("mm7-out", 1, LONG, Duration::from_secs(1))
            .await
            .expect("receive");
        b.queue
            .set_visibility("mm7-out", &m[0].receipt, Duration::ZERO)
            .await
            .expect("release");
    }
    assert!(
        b.queue
            .receive("mm7-out", 1, LONG, Duration::ZERO)
            .await
            .expect("receive")
            .is_empty()
    );
    let dead = dlq_poll.await.expect("task");
    assert_eq!(dead.len(), 1);
    assert_eq!(
        (dead[0].id.as_str(), dead[0].receive_count),
        (id.as_str(), 3)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rejects_bad_names_and_large_bodies_without_touching_the_db() {
    let dir = tempdir();
    let b = backend(dir.path(), 3).await;
    assert!(matches!(
        b.queue.send("Ingest", b"x", Duration::ZERO).await,
        Err(QueueError::UnknownQueue(_))
    ));
    assert!(matches!(
        b.queue.send("ingest", &vec![0; MAX_BODY + 1], Duration::ZERO).await,
        Err(QueueError::TooLarge(n)) if n == MAX_BODY + 1
    ));
    b.queue
        .send("ingest", &vec![0; MAX_BODY], Duration::ZERO)
        .await
        .expect("exactly the limit");
    assert!(
        b.queue
            .receive("ingest", 0, LONG, Duration::ZERO)
            .await
            .expect("max 0")
            .is_empty()
    );
    assert_eq!(b.queue.depth("ingest").await.expect("depth"), 1);
}

// ---- state specifics ---------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn expired_rows_are_purged() {
    let dir = tempdir();
    let clock = Arc::new(ManualClock::new(Timestamp(1_000_000)));
    let store = SqliteStateStore::open(&dir.path().join("s.db"), clock.clone())
        .await
        .expect("open");
    for i in 0..1200 {
        store
            .put(
                &Key::new("p", format!("{i:05}")),
                b"x",
                Some(clock.now().plus(LONG)),
            )
            .await
            .expect("put");
    }
    store
        .put(&Key::new("p", "keep"), b"x", None)
        .await
        .expect("put");
    clock.advance(2 * LONG);
    assert_eq!(store.purge_expired().await.expect("purge"), 1200);
    assert_eq!(store.purge_expired().await.expect("purge"), 0);
    assert_eq!(store.query("p").await.expect("query").len(), 1);

    // The background purge runs with writes once PURGE_INTERVAL has passed.
    store
        .put(&Key::new("q", "a"), b"x", Some(clock.now().plus(LONG)))
        .await
        .expect("put");
    clock.advance(PURGE_INTERVAL + LONG);
    store
        .put(&Key::new("q", "b"), b"x", None)
        .await
        .expect("put triggers purge");
    // The purge job is committed before or with the next write.
    store
        .put(&Key::new("q", "c"), b"x", None)
        .await
        .expect("put");
    assert_eq!(store.purge_expired().await.expect("purge"), 0);
}

// ---- group commit ------------------------------------------------------------------

/// A database of `schema` with one reader, as the writer tests use.
async fn open_db(path: std::path::PathBuf, schema: &'static str) -> Db {
    tokio::task::spawn_blocking(move || Db::open_blocking(&path, schema, 1, "test-writer"))
        .await
        .expect("task")
        .expect("open")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_job_does_not_spoil_its_batch() {
    let dir = tempdir();
    let path = dir.path().join("g.db");
    let db = Arc::new(open_db(path, "CREATE TABLE t (n INTEGER PRIMARY KEY);").await);
    let tasks: Vec<_> = (0..50i64)
        .map(|n| {
            let db = db.clone();
            tokio::spawn(async move {
                db.write(move |c| {
                    c.execute("INSERT INTO t (n) VALUES (?1)", [n])?;
                    if n % 5 == 0 {
                        // Inserted, then failed: the insert must be rolled back.
                        c.execute("INSERT INTO missing_table VALUES (1)", [])?;
                    }
                    Ok(n)
                })
                .await
            })
        })
        .collect();
    for (n, t) in tasks.into_iter().enumerate() {
        let r = t.await.expect("task");
        if n % 5 == 0 {
            assert!(matches!(r, Err(DbError::Sqlite(_))), "job {n}: {r:?}");
        } else {
            assert_eq!(r.expect("job"), n as i64);
        }
    }
    let rows: Vec<i64> = db
        .read(|c| {
            c.prepare("SELECT n FROM t ORDER BY n")?
                .query_map([], |r| r.get(0))?
                .collect()
        })
        .await
        .expect("read");
    let want: Vec<i64> = (0..50).filter(|n| n % 5 != 0).collect();
    assert_eq!(rows, want);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_panicking_job_leaves_the_writer_running() {
    let dir = tempdir();
    let path = dir.path().join("p.db");
    let db = open_db(path, "CREATE TABLE t (n INTEGER);").await;
    let r = db
        .write(|c| {
            c.execute("INSERT INTO t (n) VALUES (1)", [])?;
            if c.is_autocommit() {
                return Ok(());
            }
            panic!("this job panics on purpose");
        })
        .await;
    assert!(matches!(r, Err(DbError::Sqlite(_))), "{r:?}");
    db.write(|c| c.execute("INSERT INTO t (n) VALUES (2)", []))
        .await
        .expect("writer still alive");
    let rows: Vec<i64> = db
        .read(|c| {
            c.prepare("SELECT n FROM t")?
                .query_map([], |r| r.get(0))?
                .collect()
        })
        .await
        .expect("read");
    assert_eq!(rows, vec![2]);
}

/// The table the checkpoint tests fill.
const ROWS_SCHEMA: &str = "CREATE TABLE IF NOT EXISTS t (n INTEGER PRIMARY KEY, b BLOB);";

async fn open(path: std::path::PathBuf) -> Db {
    open_db(path, ROWS_SCHEMA).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_checkpointer_copies_the_wal_into_the_database_and_close_leaves_it_short() {
    let dir = tempdir();
    let path = dir.path().join("c.db");
    let db = open(path.clone()).await;
    let commits = super::sqlite::CHECKPOINT_EVERY * 4;
    for n in 0..commits {
        db.write(move |c| {
            c.execute(
                "INSERT INTO t (n, b) VALUES (?1, zeroblob(8192))",
                [n as i64],
            )
        })
        .await
        .expect("write");
    }
    // The writer never checkpoints (autocheckpoint off); the checkpointer does, so the
    // database file grows to hold the rows while the writer goes on.
    let db_file = path.clone();
    wait_for(Duration::from_secs(10), || {
        std::fs::metadata(&db_file).map(|m| m.len()).unwrap_or(0) > commits * 8192
    })
    .await;
    drop(db);
    // Closing ran a last checkpoint: everything is in the database file, and a reopen
    // sees every row.
    let db = open(path.clone()).await;
    let count: i64 = db
        .read(|c| c.query_row("SELECT count(*) FROM t", [], |r| r.get(0)))
        .await
        .expect("read");
    assert_eq!(count, commits as i64);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn under_steady_writes_the_wal_starts_over_instead_of_growing() {
    let dir = tempdir();
    let path = dir.path().join("r.db");
    let db = open(path.clone()).await;
    // Each commit adds a 4 KiB row (two or three WAL frames); 800 of them would make a
    // WAL of more than 3 MiB. The writer restarts it whenever it holds more than
    // WAL_RESTART_FRAMES (64 in tests) at a checkpoint, so it stays near that size.
    let rows = 800i64;
    for n in 0..rows {
        db.write(move |c| c.execute("INSERT INTO t (n, b) VALUES (?1, zeroblob(4000))", [n]))
            .await
            .expect("write");
    }
    let wal = std::fs::metadata(dir.path().join("r.db-wal"))
        .map(|m| m.len())
        .expect("WAL file");
    assert!(
        wal < 1024 * 1024,
        "the WAL grew to {wal} bytes instead of starting over"
    );
    drop(db);
    let db = open(path).await;
    let count: i64 = db
        .read(|c| c.query_row("SELECT count(*) FROM t", [], |r| r.get(0)))
        .await
        .expect("read");
    assert_eq!(count, rows, "every acknowledged row survives the restarts");
}

async fn wait_for(limit: Duration, mut done: impl FnMut() -> bool) {
    let until = std::time::Instant::now() + limit;
    while !done() {
        assert!(std::time::Instant::now() < until, "not within {limit:?}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

// ---- intake ----------------------------------------------------------------------

fn arrival<'a>(key: &'a str, body: Bytes, job: &'a [u8]) -> crate::ports::Arrival<'a> {
    crate::ports::Arrival {
        key,
        body,
        content_type: "message/rfc822",
        queue: queues::INGEST,
        job,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn intake_stores_a_small_pdu_and_its_job_in_one_commit() {
    use crate::ports::Intake;
    let dir = tempdir();
    let b = backend(dir.path(), 5).await;
    b.intake()
        .accept(arrival(
            "in/mm4/a.eml",
            Bytes::from_static(b"pdu"),
            b"job-a",
        ))
        .await
        .expect("accept");
    drop(b);
    // Both were durable before `accept` returned.
    let b = backend(dir.path(), 5).await;
    assert_eq!(
        b.objects.get("in/mm4/a.eml").await.expect("get").as_deref(),
        Some(&b"pdu"[..])
    );
    let got = b
        .queue
        .receive(queues::INGEST, 10, LONG, Duration::ZERO)
        .await
        .expect("receive");
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].body, b"job-a");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn intake_leaves_nothing_when_the_job_insert_fails() {
    use crate::ports::{Intake, IntakeError};
    let dir = tempdir();
    let b = backend(dir.path(), 5).await;
    // Every insert into the queue fails inside the transaction, after the object's.
    b.queue
        .database()
        .write(|c| {
            c.execute_batch(
                "CREATE TRIGGER no_jobs BEFORE INSERT ON messages \
                 BEGIN SELECT RAISE(ABORT, 'injected queue failure'); END;",
            )
        })
        .await
        .expect("trigger");
    let err = b
        .intake()
        .accept(arrival(
            "in/mm4/b.eml",
            Bytes::from_static(b"pdu"),
            b"job-b",
        ))
        .await
        .expect_err("the job cannot be queued");
    assert!(
        matches!(&err, IntakeError::Backend(m) if m.contains("injected queue failure")),
        "{err}"
    );
    assert_eq!(b.objects.get("in/mm4/b.eml").await.expect("get"), None);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn intake_refuses_a_bad_key_or_job_before_writing() {
    use crate::ports::{Intake, IntakeError, ObjectError};
    let dir = tempdir();
    let b = backend(dir.path(), 5).await;
    let intake = b.intake();
    let err = intake
        .accept(arrival("in/../x", Bytes::from_static(b"pdu"), b"job"))
        .await
        .expect_err("bad key");
    assert!(
        matches!(err, IntakeError::Store(ObjectError::InvalidKey(_))),
        "{err}"
    );
    let huge = vec![b'j'; MAX_BODY + 1];
    let err = intake
        .accept(arrival("in/mm4/c.eml", Bytes::from_static(b"pdu"), &huge))
        .await
        .expect_err("job too large");
    assert!(
        matches!(err, IntakeError::Queue(QueueError::TooLarge(_))),
        "{err}"
    );
    assert_eq!(b.objects.get("in/mm4/c.eml").await.expect("get"), None);
    assert_eq!(b.queue.depth(queues::INGEST).await.expect("depth"), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn intake_puts_a_large_pdu_in_a_file_and_a_small_one_shadows_it() {
    use crate::ports::Intake;
    let dir = tempdir();
    let b = backend(dir.path(), 5).await;
    let intake = b.intake();
    let big = Bytes::from(vec![b'L'; object_store::INLINE_MAX + 1]);
    intake
        .accept(arrival("in/mm4/d.eml", big.clone(), b"job-1"))
        .await
        .expect("large");
    let file = dir.path().join(OBJECTS_DIR).join("in/mm4/d.eml");
    assert!(file.is_file(), "a large PDU is a file");
    assert_eq!(b.objects.get("in/mm4/d.eml").await.expect("get"), Some(big));
    intake
        .accept(arrival(
            "in/mm4/d.eml",
            Bytes::from_static(b"small"),
            b"job-2",
        ))
        .await
        .expect("small");
    assert!(!file.exists(), "the shadowed file is removed");
    assert_eq!(
        b.objects.get("in/mm4/d.eml").await.expect("get").as_deref(),
        Some(&b"small"[..])
    );
    assert_eq!(b.queue.depth(queues::INGEST).await.expect("depth"), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_embedded_intake_meets_the_contract() {
    use crate::ports::{Intake, SeparateIntake};
    let dir = tempdir();
    let b = backend(dir.path(), 5).await;
    let intakes: [(&str, Arc<dyn Intake>); 3] = [
        ("embedded", b.intake()),
        (
            "separate",
            Arc::new(SeparateIntake::new(b.objects.clone(), b.queue.clone())),
        ),
        (
            "separate, at once",
            Arc::new(SeparateIntake::at_once(b.objects.clone(), b.queue.clone())),
        ),
    ];
    for (name, intake) in intakes {
        eprintln!("intake contract: {name}");
        contract::intake_contract(
            intake.as_ref(),
            b.objects.as_ref(),
            b.queue.as_ref(),
            "intake",
        )
        .await;
    }
}

// ---- intake journal ----------------------------------------------------------------

/// What a power cut may leave when the moves of the journal had not yet been fsynced
/// with the queue database: none of them.
async fn lose_unsynced_moves(b: &EmbeddedBackend) {
    b.queue
        .database()
        .write(|c| {
            c.execute_batch(
                "DELETE FROM messages; DELETE FROM objects; \
                 UPDATE intake_journal SET applied = 0;",
            )
        })
        .await
        .expect("forget the moves");
}

async fn accept_many(b: &EmbeddedBackend, n: usize, size: usize) {
    use crate::ports::Intake;
    let intake = b.intake();
    let body = Bytes::from(vec![b'x'; size]);
    let mut tasks = Vec::new();
    for i in 0..n {
        let (intake, body) = (intake.clone(), body.clone());
        tasks.push(tokio::spawn(async move {
            let key = format!("in/mm4/{i}.eml");
            let job = format!("job-{i}");
            intake
                .accept(arrival(&key, body, job.as_bytes()))
                .await
                .expect("accept");
        }));
    }
    for t in tasks {
        t.await.expect("task");
    }
}

async fn ingest_jobs(b: &EmbeddedBackend) -> Vec<String> {
    let mut jobs = Vec::new();
    loop {
        let got = b
            .queue
            .receive(queues::INGEST, 10, LONG, Duration::ZERO)
            .await
            .expect("receive");
        if got.is_empty() {
            break;
        }
        jobs.extend(
            got.into_iter()
                .map(|m| String::from_utf8(m.body).expect("utf-8")),
        );
    }
    jobs.sort();
    jobs
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_journal_brings_back_what_the_database_lost() {
    let dir = tempdir();
    let b = backend(dir.path(), 0).await;
    accept_many(&b, 20, 1000).await;
    lose_unsynced_moves(&b).await;
    assert_eq!(b.queue.depth(queues::INGEST).await.expect("depth"), 0);
    drop(b);
    let b = backend(dir.path(), 0).await;
    let mut want: Vec<String> = (0..20).map(|i| format!("job-{i}")).collect();
    want.sort();
    assert_eq!(ingest_jobs(&b).await, want, "every job back, once");
    for i in 0..20 {
        let got = b
            .objects
            .get(&format!("in/mm4/{i}.eml"))
            .await
            .expect("get");
        assert_eq!(got.as_deref(), Some(&[b'x'; 1000][..]), "object {i}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reopen_replays_nothing_the_database_holds_and_segments_are_reused() {
    let dir = tempdir();
    let b = backend(dir.path(), 0).await;
    // About 60 records a (test-sized) segment: this goes round the segments many times.
    let n = 40 * (journal::SEGMENT_SIZE as usize / 4096);
    accept_many(&b, n, 4000).await;
    let segments = std::fs::read_dir(dir.path().join(INTAKE_DIR))
        .expect("journal dir")
        .filter(|e| {
            e.as_ref()
                .is_ok_and(|e| e.file_name().to_string_lossy().starts_with("seg-"))
        })
        .count();
    assert!(
        (1..=2).contains(&segments),
        "{segments} segments for {n} records: they are not reused"
    );
    drop(b);
    let b = backend(dir.path(), 0).await;
    assert_eq!(
        b.queue.depth(queues::INGEST).await.expect("depth"),
        n as u64,
        "a reopen after a clean stop adds no job"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_process_on_the_data_directory_neither_replays_nor_journals() {
    use crate::ports::Intake;
    let dir = tempdir();
    let first = backend(dir.path(), 0).await;
    accept_many(&first, 3, 100).await;
    lose_unsynced_moves(&first).await;
    // The lock is per open file: a second open in this process stands for another one.
    let second = backend(dir.path(), 0).await;
    assert!(second.journal.is_none(), "the journal stays with the first");
    assert_eq!(
        second.queue.depth(queues::INGEST).await.expect("depth"),
        0,
        "the second does not replay the first's journal"
    );
    second
        .intake()
        .accept(arrival(
            "in/mm4/s.eml",
            Bytes::from_static(b"pdu"),
            b"job-s",
        ))
        .await
        .expect("the second's intake writes to the database");
    assert_eq!(
        first
            .objects
            .get("in/mm4/s.eml")
            .await
            .expect("get")
            .as_deref(),
        Some(&b"pdu"[..])
    );
    drop(second);
    drop(first);
    let b = backend(dir.path(), 0).await;
    assert_eq!(ingest_jobs(&b).await, ["job-0", "job-1", "job-2", "job-s"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_record_the_database_refuses_at_replay_is_skipped_not_fatal() {
    let dir = tempdir();
    let b = backend(dir.path(), 0).await;
    accept_many(&b, 2, 100).await;
    lose_unsynced_moves(&b).await;
    // The job of record 1 (and only it) is now refused by a constraint.
    b.queue
        .database()
        .write(|c| {
            c.execute_batch(
                "CREATE TRIGGER no_job_1 BEFORE INSERT ON messages WHEN NEW.body = CAST('job-1' AS BLOB) \
                 BEGIN SELECT RAISE(ABORT, 'refused'); END;",
            )
        })
        .await
        .expect("trigger");
    drop(b);
    let b = backend(dir.path(), 0).await;
    assert_eq!(ingest_jobs(&b).await, ["job-0"]);
    assert_eq!(b.objects.get("in/mm4/1.eml").await.expect("get"), None);
    b.queue
        .database()
        .write(|c| c.execute_batch("DROP TRIGGER no_job_1"))
        .await
        .expect("drop trigger");
    drop(b);
    // Skipped for good: the next open does not try again (job-0 is in flight).
    let b = backend(dir.path(), 0).await;
    assert_eq!(ingest_jobs(&b).await, Vec::<String>::new());
}
