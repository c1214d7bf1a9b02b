//! The front on the durable embedded adapters `mmsc serve` uses (a directory of
//! objects, a SQLite queue): what a partner got `250` for is on disk and is the job
//! ingest receives.

mod common;

use common::*;
use mmsc_shared::adapters::embedded::{DirObjectStore, SqliteQueue};
use mmsc_shared::domain::Job;
use mmsc_shared::ports::{Clock, ManualClock, ObjectStore, Queue, queues};
use smtp_front::SmtpFront;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::watch;

async fn ingest_jobs(queue: &dyn Queue) -> Vec<mmsc_shared::ports::QueueMessage> {
    queue
        .receive(
            queues::INGEST,
            10,
            Duration::from_secs(30),
            Duration::from_secs(1),
        )
        .await
        .expect("receive")
}

async fn stop(tx: watch::Sender<bool>, server: tokio::task::JoinHandle<std::io::Result<()>>) {
    let _ = tx.send(true);
    tokio::time::timeout(Duration::from_secs(15), server)
        .await
        .expect("serve returns")
        .expect("task")
        .expect("serve ok");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn seed_message_lands_in_the_embedded_store_and_queue() {
    init_tracing();
    let dir = tempfile::tempdir().expect("tempdir");
    let objects = Arc::new(
        DirObjectStore::open(&dir.path().join("objects"))
            .await
            .expect("object store"),
    );
    let queue = Arc::new(
        SqliteQueue::open(&dir.path().join("queue.db"), 5)
            .await
            .expect("queue"),
    );
    let clock: Arc<dyn Clock> = Arc::new(ManualClock::new(
        mmsc_shared::domain::Timestamp::from_unix_secs(NOW_SECS),
    ));
    let front = Arc::new(
        SmtpFront::new(
            Arc::new(demo_config()),
            objects.clone() as Arc<dyn ObjectStore>,
            queue.clone() as Arc<dyn Queue>,
            clock,
        )
        .expect("front"),
    );
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let (tx, rx) = watch::channel(false);
    let server = tokio::spawn(front.serve(listener, rx));

    let mut c = Client::connect(addr).await;
    assert_eq!(c.reply().await.code, 220);
    c.expect("EHLO mms.oper.com", 250).await;
    let r = c.transaction(SEED_FROM, &[SEED_TO], SEED_PDU).await;
    let id = queued_id(&r);
    c.expect("QUIT", 221).await;

    let key = format!("in/mm4/{TODAY}/{id}.eml");
    let stored = objects
        .get(&key)
        .await
        .expect("get")
        .expect("object exists");
    assert!(stored.ends_with(SEED_PDU));
    // Durable on disk: a store opened afresh on the same directory has it.
    let reopened = DirObjectStore::open(&dir.path().join("objects"))
        .await
        .expect("reopen");
    assert_eq!(
        reopened.get(&key).await.expect("get").expect("on disk"),
        stored
    );

    let msgs = ingest_jobs(queue.as_ref()).await;
    assert_eq!(msgs.len(), 1);
    let Job::Ingest {
        object_key, peer, ..
    } = Job::from_bytes(&msgs[0].body).expect("job")
    else {
        panic!("ingest job")
    };
    assert_eq!(object_key, key);
    assert_eq!(peer, "demo");

    stop(tx, server).await;
}

/// As `mmsc serve` runs it: the data directory's intake (through the intake journal)
/// and the front on a thread of its own.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_its_own_thread_through_the_journal_what_got_250_is_there_after_a_reopen() {
    use mmsc_shared::adapters::embedded::EmbeddedBackend;
    init_tracing();
    let dir = tempfile::tempdir().expect("tempdir");
    let clock: Arc<dyn Clock> = Arc::new(ManualClock::new(
        mmsc_shared::domain::Timestamp::from_unix_secs(NOW_SECS),
    ));
    let backend = EmbeddedBackend::open(dir.path(), 5, clock.clone())
        .await
        .expect("backend");
    let front = Arc::new(
        SmtpFront::new(
            Arc::new(demo_config()),
            backend.objects.clone(),
            backend.queue.clone(),
            clock.clone(),
        )
        .expect("front")
        .with_intake(backend.intake()),
    );
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let (tx, rx) = watch::channel(false);
    let server = tokio::spawn(front.serve_on_own_thread(listener, rx));

    let mut ids = Vec::new();
    let mut c = Client::connect(addr).await;
    assert_eq!(c.reply().await.code, 220);
    c.expect("EHLO mms.oper.com", 250).await;
    for _ in 0..3 {
        let r = c.transaction(SEED_FROM, &[SEED_TO], SEED_PDU).await;
        ids.push(queued_id(&r));
    }
    c.expect("QUIT", 221).await;
    stop(tx, server).await;
    drop(backend);

    let backend = EmbeddedBackend::open(dir.path(), 5, clock)
        .await
        .expect("reopen");
    for id in &ids {
        let key = format!("in/mm4/{TODAY}/{id}.eml");
        let stored = backend.objects.get(&key).await.expect("get");
        assert!(stored.expect("stored").ends_with(SEED_PDU), "{key}");
    }
    let msgs = ingest_jobs(backend.queue.as_ref()).await;
    assert_eq!(
        msgs.len(),
        3,
        "one ingest job per message, none replayed twice"
    );
}
