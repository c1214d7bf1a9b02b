//! Embedded backend benchmark: `cargo bench -p mmsc-shared --bench embedded`.
//!
//! Prints, on a temporary directory on the current machine:
//! * queue pipeline throughput (send -> receive -> delete) with N producers and N
//!   consumers, and the enqueue -> handled latency (p50/p99) of every job;
//! * enqueue throughput of `SqliteQueue::send` against a named peer: the same SQLite
//!   file settings with one transaction (one fsync) per send and no group commit;
//! * state-store writes/s (`put`, compare-and-set `update`) and reads/s (`get`);
//! * object-store `put`/s of 16 KiB objects.
//!
//! Every phase is bounded in time, so the whole run takes well under a minute. Numbers
//! depend on the disk's fsync latency, which is measured and printed first.

use bytes::Bytes;
use mmsc_shared::adapters::embedded::{DirObjectStore, EmbeddedBackend, SqliteQueue};
use mmsc_shared::ports::{Key, ObjectStore, Queue, StateStore, SystemClock};
use rusqlite::{Connection, params};
use std::fs::File;
use std::io::Write;
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const QUEUE: &str = "bench";
/// Most jobs one pipeline run produces.
const PIPELINE_JOBS: u64 = 20_000;
/// Producers stop after this long even if they have not produced `PIPELINE_JOBS`.
const PIPELINE_PRODUCE_FOR: Duration = Duration::from_secs(3);
const PHASE: Duration = Duration::from_secs(2);

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    runtime.block_on(run());
}

async fn run() {
    let started = Instant::now();
    let dir = tempfile::tempdir().expect("temp dir");
    println!("# embedded backend benchmark");
    println!(
        "machine: {} CPU(s); data dir {}",
        std::thread::available_parallelism().map_or(0, |n| n.get()),
        dir.path().display()
    );
    let fsync = fsync_latency(dir.path());
    println!(
        "disk fsync latency (4 KiB append + fdatasync, 200 samples): p50 {} p99 {}\n",
        ms(percentile(&fsync, 50.0)),
        ms(percentile(&fsync, 99.0))
    );

    println!("## queue pipeline: send -> receive(max 10) -> delete, every write durable");
    println!("latency = from before `send` to after `delete` of the job; 'max' = producers send");
    println!("as fast as they can (latency then includes the backlog), 'N/s' = paced total rate");
    println!(
        "{:>9} {:>9} {:>7} {:>7} {:>6} {:>9} {:>11} {:>11}",
        "producers", "consumers", "load", "jobs", "secs", "jobs/s", "p50 latency", "p99 latency"
    );
    let runs: [(usize, usize, Option<u32>); 5] = [
        (1, 1, None),
        (4, 4, None),
        (16, 16, None),
        (4, 4, Some(100)),
        (4, 4, Some(500)),
    ];
    for (i, (producers, consumers, per_producer)) in runs.into_iter().enumerate() {
        let backend = EmbeddedBackend::open(
            &dir.path().join(format!("pipe{i}")),
            5,
            Arc::new(SystemClock),
        )
        .await
        .expect("open backend");
        let r = pipeline(backend.queue.clone(), producers, consumers, per_producer).await;
        let load = per_producer.map_or("max".to_string(), |p| {
            format!("{}/s", p as usize * producers)
        });
        println!(
            "{:>9} {:>9} {:>7} {:>7} {:>6.2} {:>9.0} {:>11} {:>11}",
            producers,
            consumers,
            load,
            r.jobs,
            r.elapsed.as_secs_f64(),
            r.jobs as f64 / r.elapsed.as_secs_f64(),
            ms(percentile(&r.latencies, 50.0)),
            ms(percentile(&r.latencies, 99.0)),
        );
    }

    println!(
        "\n## enqueue only, 32 concurrent senders, 256-byte bodies ({}s each)",
        PHASE.as_secs()
    );
    println!("{:<52} {:>10}", "implementation", "sends/s");
    let queue = Arc::new(
        SqliteQueue::open(&dir.path().join("enqueue.db"), 5)
            .await
            .expect("open queue"),
    );
    let ours = enqueue_rate(32, {
        let queue = queue.clone();
        move || {
            let queue = queue.clone();
            async move {
                queue
                    .send(QUEUE, &[b'x'; 256], Duration::ZERO)
                    .await
                    .expect("send");
            }
        }
    })
    .await;
    println!("{:<52} {:>10.0}", "SqliteQueue (group commit)", ours);
    let naive = Arc::new(NaiveQueue::open(&dir.path().join("naive.db")));
    let peer = enqueue_rate(32, {
        let naive = naive.clone();
        move || {
            let naive = naive.clone();
            async move { naive.send(QUEUE, vec![b'x'; 256]).await }
        }
    })
    .await;
    println!(
        "{:<52} {:>10.0}",
        "peer: rusqlite, one transaction per send (WAL, FULL)", peer
    );
    println!(
        "group commit speed-up: {:.1}x",
        ours / peer.max(f64::MIN_POSITIVE)
    );

    println!("\n## state store ({}s per row)", PHASE.as_secs());
    println!("{:<34} {:>6} {:>10}", "operation", "tasks", "ops/s");
    let backend = EmbeddedBackend::open(&dir.path().join("state"), 5, Arc::new(SystemClock))
        .await
        .expect("open backend");
    for tasks in [1usize, 16] {
        let state = backend.state.clone();
        let rate = rate(tasks, move |task, i| {
            let state = state.clone();
            async move {
                let key = Key::new(format!("msg#{task}-{i}"), "meta");
                state.put(&key, &[b'v'; 300], None).await.expect("put");
            }
        })
        .await;
        println!(
            "{:<34} {:>6} {:>10.0}",
            "put (new record, 300 B)", tasks, rate
        );
    }
    for tasks in [1usize, 16] {
        let state = backend.state.clone();
        for t in 0..tasks {
            state
                .put(&Key::new(format!("cas{tasks}"), format!("{t}")), b"0", None)
                .await
                .expect("seed");
        }
        let versions: Arc<Vec<AtomicU64>> =
            Arc::new((0..tasks).map(|_| AtomicU64::new(1)).collect());
        let rate = rate(tasks, move |task, _| {
            let (state, versions) = (state.clone(), versions.clone());
            async move {
                let key = Key::new(format!("cas{tasks}"), format!("{task}"));
                let v = versions[task].load(Ordering::Relaxed);
                let next = state
                    .update(&key, v, &[b'v'; 300], None)
                    .await
                    .expect("update");
                versions[task].store(next, Ordering::Relaxed);
            }
        })
        .await;
        println!(
            "{:<34} {:>6} {:>10.0}",
            "update (compare-and-set, 300 B)", tasks, rate
        );
    }
    for tasks in [1usize, 16] {
        let state = backend.state.clone();
        let rate = rate(tasks, move |task, _| {
            let state = state.clone();
            async move {
                let key = Key::new("cas16", format!("{}", task % 16));
                state.get(&key).await.expect("get");
            }
        })
        .await;
        println!("{:<34} {:>6} {:>10.0}", "get", tasks, rate);
    }

    println!("\n## object store ({}s per row)", PHASE.as_secs());
    println!("{:<34} {:>6} {:>10}", "operation", "tasks", "ops/s");
    let objects = Arc::new(
        DirObjectStore::open(&dir.path().join("objects"))
            .await
            .expect("open objects"),
    );
    for (label, size) in [
        ("put (16 KiB, inline SQLite)", 16 * 1024),
        ("put (100 KiB, fsync file + dir)", 100 * 1024),
    ] {
        for tasks in [1usize, 16] {
            let objects = objects.clone();
            let body = Bytes::from(vec![b'o'; size]);
            let rate = rate(tasks, move |task, i| {
                let (objects, body) = (objects.clone(), body.clone());
                async move {
                    let key = format!("in/mm4/{task}/{i}.eml");
                    objects
                        .put(&key, body, "message/rfc822")
                        .await
                        .expect("put");
                }
            })
            .await;
            println!("{:<34} {:>6} {:>10.0}", label, tasks, rate);
        }
    }

    println!(
        "\ntotal benchmark time {:.1}s",
        started.elapsed().as_secs_f64()
    );
}

// ---- pipeline ----------------------------------------------------------------------

struct PipelineResult {
    jobs: u64,
    elapsed: Duration,
    latencies: Vec<Duration>,
}

/// Runs producers and consumers until `PIPELINE_JOBS` jobs or `PIPELINE_PRODUCE_FOR`;
/// `per_producer` paces each producer to that many sends per second.
async fn pipeline(
    queue: Arc<SqliteQueue>,
    producers: usize,
    consumers: usize,
    per_producer: Option<u32>,
) -> PipelineResult {
    let epoch = Instant::now();
    let produced = Arc::new(AtomicU64::new(0));
    let handled = Arc::new(AtomicU64::new(0));
    let producing = Arc::new(AtomicBool::new(true));
    let last_done = Arc::new(AtomicU64::new(0));

    let mut producer_tasks = Vec::new();
    for _ in 0..producers {
        let (queue, produced, producing) = (queue.clone(), produced.clone(), producing.clone());
        producer_tasks.push(tokio::spawn(async move {
            let mut pace =
                per_producer.map(|n| tokio::time::interval(Duration::from_secs(1) / n.max(1)));
            while producing.load(Ordering::Relaxed) {
                if let Some(pace) = pace.as_mut() {
                    pace.tick().await;
                }
                if produced.fetch_add(1, Ordering::Relaxed) >= PIPELINE_JOBS {
                    produced.fetch_sub(1, Ordering::Relaxed);
                    break;
                }
                // The body carries the send time (ns since epoch) and pads to ~200 B,
                // the size of a job envelope.
                let sent = epoch.elapsed().as_nanos() as u64;
                let mut body = sent.to_le_bytes().to_vec();
                body.resize(200, b' ');
                queue
                    .send(QUEUE, &body, Duration::ZERO)
                    .await
                    .expect("send");
                if epoch.elapsed() >= PIPELINE_PRODUCE_FOR {
                    producing.store(false, Ordering::Relaxed);
                }
            }
        }));
    }
    let mut consumer_tasks = Vec::new();
    for _ in 0..consumers {
        let (queue, produced, handled, producing, last_done) = (
            queue.clone(),
            produced.clone(),
            handled.clone(),
            producing.clone(),
            last_done.clone(),
        );
        consumer_tasks.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            loop {
                let msgs = queue
                    .receive(
                        QUEUE,
                        10,
                        Duration::from_secs(30),
                        Duration::from_millis(100),
                    )
                    .await
                    .expect("receive");
                for m in &msgs {
                    queue.delete(QUEUE, &m.receipt).await.expect("delete");
                    let sent = u64::from_le_bytes(m.body[..8].try_into().expect("8 bytes"));
                    let done = epoch.elapsed().as_nanos() as u64;
                    latencies.push(Duration::from_nanos(done.saturating_sub(sent)));
                    handled.fetch_add(1, Ordering::Relaxed);
                    last_done.fetch_max(done, Ordering::Relaxed);
                }
                let finished = !producing.load(Ordering::Relaxed)
                    && handled.load(Ordering::Relaxed) >= produced.load(Ordering::Relaxed);
                if msgs.is_empty() && finished {
                    return latencies;
                }
            }
        }));
    }
    for t in producer_tasks {
        t.await.expect("producer");
    }
    producing.store(false, Ordering::Relaxed);
    let mut latencies = Vec::new();
    for t in consumer_tasks {
        latencies.extend(t.await.expect("consumer"));
    }
    PipelineResult {
        jobs: handled.load(Ordering::Relaxed),
        // Until the last job was handled (consumers stop only after one more empty poll).
        elapsed: Duration::from_nanos(last_done.load(Ordering::Relaxed))
            .max(Duration::from_millis(1)),
        latencies,
    }
}

// ---- rates -------------------------------------------------------------------------

/// Runs `op(task, i)` in `tasks` concurrent loops for `PHASE`; returns operations/s.
async fn rate<F, Fut>(tasks: usize, op: F) -> f64
where
    F: Fn(usize, u64) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    let op = Arc::new(op);
    let start = Instant::now();
    let mut handles = Vec::new();
    for task in 0..tasks {
        let op = op.clone();
        handles.push(tokio::spawn(async move {
            let mut i = 0u64;
            while start.elapsed() < PHASE {
                op(task, i).await;
                i += 1;
            }
            i
        }));
    }
    let mut total = 0;
    for h in handles {
        total += h.await.expect("task");
    }
    total as f64 / start.elapsed().as_secs_f64()
}

async fn enqueue_rate<F, Fut>(tasks: usize, op: F) -> f64
where
    F: Fn() -> Fut + Send + Sync + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    rate(tasks, move |_, _| op()).await
}

/// The peer: a straightforward SQLite queue, one transaction (one fsync) per send.
struct NaiveQueue {
    conn: Arc<Mutex<Connection>>,
}

impl NaiveQueue {
    fn open(path: &Path) -> NaiveQueue {
        let conn = Connection::open(path).expect("open naive db");
        conn.busy_timeout(Duration::from_secs(5))
            .expect("busy_timeout");
        let _: String = conn
            .query_row("PRAGMA journal_mode=WAL", [], |r| r.get(0))
            .expect("wal");
        conn.pragma_update(None, "synchronous", "FULL")
            .expect("synchronous");
        conn.execute_batch(
            "CREATE TABLE messages (seq INTEGER PRIMARY KEY, queue TEXT NOT NULL, id TEXT NOT NULL, \
             body BLOB NOT NULL, sent_at INTEGER NOT NULL, visible_at INTEGER NOT NULL, \
             receive_count INTEGER NOT NULL DEFAULT 0, receipt TEXT);
             CREATE INDEX messages_by_visibility ON messages (queue, visible_at, seq);",
        )
        .expect("schema");
        NaiveQueue {
            conn: Arc::new(Mutex::new(conn)),
        }
    }

    async fn send(&self, queue: &'static str, body: Vec<u8>) {
        let conn = self.conn.clone();
        tokio::task::spawn_blocking(move || {
            let conn = conn.lock().expect("lock");
            let id = uuid::Uuid::new_v4().simple().to_string();
            conn.prepare_cached(
                "INSERT INTO messages (queue, id, body, sent_at, visible_at) VALUES (?1, ?2, ?3, 0, 0)",
            )
            .expect("prepare")
            .execute(params![queue, id, body])
            .expect("insert");
        })
        .await
        .expect("blocking task");
    }
}

// ---- measurement helpers -----------------------------------------------------------

fn fsync_latency(dir: &Path) -> Vec<Duration> {
    let mut f = File::create(dir.join("fsync-probe")).expect("probe file");
    (0..200)
        .map(|_| {
            let t = Instant::now();
            f.write_all(&[0u8; 4096]).expect("write");
            f.sync_data().expect("fdatasync");
            t.elapsed()
        })
        .collect()
}

fn percentile(samples: &[Duration], p: f64) -> Duration {
    if samples.is_empty() {
        return Duration::ZERO;
    }
    let mut sorted = samples.to_vec();
    sorted.sort_unstable();
    let idx = ((p / 100.0) * (sorted.len() - 1) as f64).round() as usize;
    sorted[idx.min(sorted.len() - 1)]
}

fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1000.0)
}
