//! Every sample event in `events/<function>/*.json` parses as an `SqsEvent` and drives
//! the function handler on the embedded adapters.
#![allow(clippy::unwrap_used)]

use super::*;
use mmsc_shared::adapters::embedded::EmbeddedBackend;
use mmsc_shared::codec::mm4::Mm4Pdu;
use mmsc_shared::config::PartnerConfig;
use mmsc_shared::domain::{RecipientState, Timestamp};
use mmsc_shared::ports::{ManualClock, NoCharging, queues};
use mmsc_shared::test_support::RecordingTransport;
use std::path::{Path, PathBuf};

/// `SentTimestamp` of the sample events; the rig's clock starts just after it.
const EVENT_TIME: i64 = 1_732_363_200_000;

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

fn event(function: &str, case: &str) -> SqsEvent {
    let path = repo().join("events").join(function).join(case);
    let text = std::fs::read_to_string(&path).unwrap();
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

struct Rig {
    svc: Arc<Services>,
    mm4: Arc<RecordingTransport>,
    _dir: tempfile::TempDir,
}

async fn rig() -> Rig {
    let mut cfg = Config::default();
    cfg.mmsc.domain = "mms.domain.com".into();
    cfg.mmsc.local_numbers = vec!["+447778*".into()];
    cfg.partners.push(PartnerConfig {
        name: "oper".into(),
        domain: "mms.oper.com".into(),
        smtp_host: Some("127.0.0.1:25".into()),
        allowed_networks: vec!["192.0.2.0/24".parse().unwrap()],
        max_attempts: 3,
        ..PartnerConfig::default()
    });
    let cfg = Arc::new(cfg);
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(ManualClock::new(Timestamp(EVENT_TIME + 1_000)));
    let backend = EmbeddedBackend::open(dir.path(), 10, clock.clone())
        .await
        .unwrap();
    let mm4 = Arc::new(RecordingTransport::default());
    let svc = Arc::new(Services {
        config: cfg.clone(),
        router: Router::new(&cfg),
        objects: backend.objects.clone(),
        state: backend.state.clone(),
        queue: backend.queue.clone(),
        charging: Arc::new(NoCharging),
        clock,
        mm4: mm4.clone(),
    });
    Rig {
        svc,
        mm4,
        _dir: dir,
    }
}

fn settings() -> WorkerSettings {
    WorkerSettings {
        concurrency: 4,
        visibility: Duration::from_secs(30),
        retry_initial: Duration::from_secs(5),
        retry_max: Duration::from_secs(60),
        poll_wait: Duration::ZERO,
        shutdown_grace: Duration::from_secs(1),
    }
}

fn failures(resp: &SqsBatchResponse) -> Vec<&str> {
    resp.batch_item_failures
        .iter()
        .map(|f| f.item_identifier.as_str())
        .collect()
}

async fn store_sample(rig: &Rig, key: &str, sample: &str) {
    let body = std::fs::read_to_string(repo().join("events/mm4").join(sample))
        .unwrap()
        .replace("\r\n", "\n")
        .replace('\n', "\r\n");
    rig.svc
        .objects
        .put(key, body.into_bytes().into(), "message/rfc822")
        .await
        .unwrap();
}

#[test]
fn every_sample_event_parses_and_carries_jobs_for_its_queue() {
    let mut seen = 0;
    for function in ["ingest", "mm4-out", "mm1-notify", "mm7-out", "expire"] {
        let dir = repo().join("events").join(function);
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().and_then(|e| e.to_str()) != Some("json") {
                continue;
            }
            let case = path.file_name().unwrap().to_str().unwrap();
            let ev = event(function, case);
            assert!(!ev.records.is_empty(), "{case}: no records");
            for r in &ev.records {
                assert_eq!(r.event_source.as_deref(), Some("aws:sqs"), "{case}");
                assert!(
                    r.event_source_arn
                        .as_deref()
                        .is_some_and(|a| a.ends_with(&format!(":mmsc-{function}"))),
                    "{case}: eventSourceARN must name the {function} queue"
                );
                assert!(r.message_id.is_some() && r.receipt_handle.is_some());
                let body = r.body.as_deref().unwrap();
                if let Ok(job) = Job::from_bytes(body.as_bytes()) {
                    assert_eq!(job.queue(), function, "{case}: job on the wrong queue");
                } else {
                    assert_eq!(case, "partial-batch.json", "{case}: undecodable body");
                }
            }
            seen += 1;
        }
    }
    assert!(seen >= 6, "expected the sample events, found {seen}");
}

#[tokio::test]
async fn ingest_event_records_the_message_and_queues_the_ack() {
    let rig = rig().await;
    store_sample(
        &rig,
        "in/mm4/events/sample-forward-req.eml",
        "sample-forward-req.eml",
    )
    .await;
    let resp = handle_batch(
        &rig.svc,
        queues::INGEST,
        &settings(),
        event("ingest", "mm4-forward-req.json"),
    )
    .await;
    assert!(failures(&resp).is_empty(), "{resp:?}");
    let records = rig.svc.records();
    let mid = records
        .resolve("148478240@mmsc.hub")
        .await
        .unwrap()
        .unwrap();
    let view = records.load(&mid).await.unwrap().unwrap();
    assert_eq!(view.recipients[0].state, RecipientState::Routed);
    // The sample asks for an acknowledgement: an MM4_forward.RES job for `oper`.
    let jobs = rig
        .svc
        .queue
        .receive(queues::MM4_OUT, 10, Duration::from_secs(30), Duration::ZERO)
        .await
        .unwrap();
    assert_eq!(jobs.len(), 1);
    let Job::Mm4Out { partner, pdu, .. } = Job::from_bytes(&jobs[0].body).unwrap() else {
        panic!("expected an mm4-out job");
    };
    assert_eq!(partner, "oper");
    assert_eq!(pdu.name(), "MM4_forward.RES");
}

#[tokio::test]
async fn a_partial_batch_lists_only_the_record_to_retry() {
    let rig = rig().await;
    store_sample(
        &rig,
        "in/mm4/events/sample-forward-req.eml",
        "sample-forward-req.eml",
    )
    .await;
    let ev = event("ingest", "partial-batch.json");
    let bad = ev.records[1].message_id.clone().unwrap();
    let outcomes = handle_records(&rig.svc, queues::INGEST, &settings(), ev).await;
    assert_eq!(outcomes[0].1, Outcome::Done);
    assert!(matches!(outcomes[1].1, Outcome::Undecodable(_)));
    let resp = handle_batch(
        &rig.svc,
        queues::INGEST,
        &settings(),
        event("ingest", "partial-batch.json"),
    )
    .await;
    assert_eq!(failures(&resp), vec![bad.as_str()]);
    // Handled twice (two events): still one message.
    let records = rig.svc.records();
    let mid = records
        .resolve("148478240@mmsc.hub")
        .await
        .unwrap()
        .unwrap();
    let view = records.load(&mid).await.unwrap().unwrap();
    assert_eq!(
        view.events.iter().filter(|e| e.kind == "received").count(),
        1
    );
}

#[tokio::test]
async fn mm4_out_event_sends_the_stored_pdu() {
    let rig = rig().await;
    store_sample(
        &rig,
        "out/mm4/events/forward-res.eml",
        "sample-forward-res.eml",
    )
    .await;
    let resp = handle_batch(
        &rig.svc,
        queues::MM4_OUT,
        &settings(),
        event("mm4-out", "forward-res.json"),
    )
    .await;
    assert!(failures(&resp).is_empty(), "{resp:?}");
    let sent = rig.mm4.sent();
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].partner, "oper");
    assert_eq!(sent[0].envelope.rcpt_to, vec!["system-user@mmsc.hub"]);
    assert!(matches!(
        Mm4Pdu::parse(&sent[0].message).unwrap(),
        Mm4Pdu::ForwardRes(_)
    ));
}

#[tokio::test]
async fn mm4_out_event_asks_for_a_retry_when_the_partner_is_down() {
    let rig = rig().await;
    store_sample(
        &rig,
        "out/mm4/events/forward-res.eml",
        "sample-forward-res.eml",
    )
    .await;
    rig.mm4
        .push_result(Err(mmsc_shared::ports::TransportError::Transient(
            "connection refused".into(),
        )));
    let ev = event("mm4-out", "forward-res.json");
    let id = ev.records[0].message_id.clone().unwrap();
    let outcomes = handle_records(&rig.svc, queues::MM4_OUT, &settings(), ev).await;
    // First receive: retry after the initial backoff.
    assert_eq!(outcomes, vec![(id, Outcome::Retry(Duration::from_secs(5)))]);
}

#[tokio::test]
async fn a_missing_pdu_is_a_permanent_failure_and_not_retried() {
    let rig = rig().await;
    let resp = handle_batch(
        &rig.svc,
        queues::MM4_OUT,
        &settings(),
        event("mm4-out", "forward-res.json"),
    )
    .await;
    assert!(failures(&resp).is_empty(), "{resp:?}");
    assert!(rig.mm4.sent().is_empty());
}

/// The other functions: the answer follows what `handlers::handle` says for each job
/// (retry on `Transient`, acknowledge otherwise).
#[tokio::test]
async fn other_function_events_follow_the_handler_outcome() {
    for (function, queue, case) in [
        ("mm1-notify", queues::MM1_NOTIFY, "notification.json"),
        ("mm7-out", queues::MM7_OUT, "deliver.json"),
        ("expire", queues::EXPIRE, "scheduled-tick.json"),
    ] {
        let rig = rig().await;
        let ev = event(function, case);
        let mut want = Vec::new();
        for r in &ev.records {
            let job = Job::from_bytes(r.body.as_deref().unwrap().as_bytes()).unwrap();
            let count = r.attributes["ApproximateReceiveCount"].parse().unwrap();
            if matches!(
                handlers::handle(&rig.svc, &job, count).await,
                Err(HandlerError::Transient(_))
            ) {
                want.push(r.message_id.clone().unwrap());
            }
        }
        let resp = handle_batch(&rig.svc, queue, &settings(), ev).await;
        assert_eq!(failures(&resp), want, "{function}/{case}");
    }
}

/// The scheduled tick runs the expire job: acknowledged, and the job's cursor is
/// stored with its lease released.
#[tokio::test]
async fn the_expire_tick_runs_the_expire_job() {
    let rig = rig().await;
    let resp = handle_batch(
        &rig.svc,
        queues::EXPIRE,
        &settings(),
        event("expire", "scheduled-tick.json"),
    )
    .await;
    assert!(failures(&resp).is_empty(), "{resp:?}");
    let cursor = rig
        .svc
        .state
        .get(&mmsc_shared::handlers::records::expire_cursor_key())
        .await
        .unwrap()
        .expect("the expire cursor");
    let cursor: mmsc_shared::handlers::expire::Cursor =
        serde_json::from_slice(&cursor.value).unwrap();
    assert_eq!(cursor.lease_until, None);
}

#[test]
fn local_event_source_builds_envelopes_lambda_would_send() {
    let source = local::EventSource {
        region: "us-east-1".into(),
        queue_name: "mmsc-ingest".into(),
    };
    let ev = local::sqs_event(
        &source,
        &[mmsc_shared::ports::QueueMessage {
            id: "m1".into(),
            receipt: "r1".into(),
            body: br#"{"job":"expire"}"#.to_vec(),
            receive_count: 3,
        }],
    )
    .unwrap();
    let r = &ev.records[0];
    assert_eq!(r.message_id.as_deref(), Some("m1"));
    assert_eq!(r.receipt_handle.as_deref(), Some("r1"));
    assert_eq!(r.attributes["ApproximateReceiveCount"], "3");
    assert_eq!(
        r.event_source_arn.as_deref(),
        Some("arn:aws:sqs:us-east-1:000000000000:mmsc-ingest")
    );
}
