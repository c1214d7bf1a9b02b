//! Handler tests over real embedded adapters (SQLite queue and state, directory
//! objects) with a recording MM4 transport in place of the network.

use super::*;
use crate::adapters::embedded::EmbeddedBackend;
use crate::codec::mm4::{Mm4Pdu, RequestStatus};
use crate::config::PartnerConfig;
use crate::domain::{Job, RecipientState, Timestamp};
use crate::ports::{
    Item, Key, ManualClock, NoCharging, StateStore, StoreError, TransportError, Version, queues,
};
use crate::test_support::RecordingTransport;
use crate::worker::{WorkerSettings, process};
use std::sync::Arc;

const SAMPLE: &str = include_str!("../../../events/mm4/sample-forward-req.eml");

struct Rig {
    svc: Arc<Services>,
    mm4: Arc<RecordingTransport>,
    _dir: tempfile::TempDir,
}

fn partner(name: &str, domain: &str, prefixes: &[&str]) -> PartnerConfig {
    PartnerConfig {
        name: name.into(),
        domain: domain.into(),
        prefixes: prefixes.iter().map(|s| s.to_string()).collect(),
        smtp_host: Some("127.0.0.1:25".into()),
        allowed_networks: vec!["127.0.0.1/32".parse().unwrap()],
        max_attempts: 3,
        ..PartnerConfig::default()
    }
}

async fn rig() -> Rig {
    rig_with(|state| state).await
}

/// A rig whose handlers see the state store through `wrap`.
async fn rig_with(wrap: impl FnOnce(Arc<dyn StateStore>) -> Arc<dyn StateStore>) -> Rig {
    let mut cfg = Config::default();
    cfg.mmsc.domain = "mms.domain.com".into();
    cfg.mmsc.local_numbers = vec!["+447778*".into()];
    cfg.partners.push(partner("oper", "mms.oper.com", &[]));
    cfg.partners
        .push(partner("far", "mms.far.net", &["+1555*"]));
    let cfg = Arc::new(cfg);
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(ManualClock::new(Timestamp::from_system(
        std::time::SystemTime::now(),
    )));
    let backend = EmbeddedBackend::open(dir.path(), 10, clock.clone())
        .await
        .unwrap();
    let mm4 = Arc::new(RecordingTransport::default());
    let svc = Arc::new(Services {
        config: cfg.clone(),
        router: Router::new(&cfg),
        objects: backend.objects.clone(),
        state: wrap(backend.state.clone()),
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
        concurrency: 1,
        visibility: Duration::from_secs(30),
        retry_initial: Duration::ZERO,
        retry_max: Duration::ZERO,
        poll_wait: Duration::ZERO,
        shutdown_grace: Duration::from_secs(1),
    }
}

impl Rig {
    /// Stores `pdu` as if the SMTP front received it from `partner` and queues it.
    async fn receive(&self, partner: &str, pdu: &str, rcpt: &[&str]) {
        let key = format!("in/mm4/test/{}.eml", uuid::Uuid::new_v4().simple());
        self.svc
            .objects
            .put(
                &key,
                pdu.replace('\n', "\r\n").into_bytes().into(),
                "message/rfc822",
            )
            .await
            .unwrap();
        let job = Job::Ingest {
            interface: crate::domain::Interface::Mm4,
            object_key: key,
            peer: partner.into(),
            remote_addr: None,
            mail_from: None,
            rcpt_to: rcpt.iter().map(|s| s.to_string()).collect(),
            received_at: self.svc.clock.now(),
        };
        self.svc
            .queue
            .send(queues::INGEST, &job.to_bytes(), Duration::ZERO)
            .await
            .unwrap();
    }

    /// Runs every job on `ingest` and `mm4-out` until both are empty.
    async fn drain(&self) {
        for _ in 0..50 {
            let mut any = false;
            for q in [queues::INGEST, queues::MM4_OUT] {
                for m in self
                    .svc
                    .queue
                    .receive(q, 10, Duration::from_secs(30), Duration::ZERO)
                    .await
                    .unwrap()
                {
                    any = true;
                    process(q, &self.svc, &settings(), &m).await;
                }
            }
            if !any {
                return;
            }
        }
        panic!("queues did not drain");
    }

    async fn view(&self, id: &str) -> records::MessageView {
        let r = self.svc.records();
        let mid = r
            .resolve(id)
            .await
            .unwrap()
            .unwrap_or_else(|| panic!("no message {id}"));
        r.load(&mid).await.unwrap().unwrap()
    }

    fn sent(&self) -> Vec<(String, Mm4Pdu)> {
        self.mm4
            .sent()
            .into_iter()
            .map(|s| (s.partner, Mm4Pdu::parse(&s.message).unwrap()))
            .collect()
    }
}

fn sample_to(rcpt: &str, extra_headers: &str) -> String {
    SAMPLE
        .replace(
            "To: +447778889999/TYPE=PLMN@mms.domain.com",
            &format!("To: {rcpt}"),
        )
        .replacen(
            "X-Mms-Ack-Request: Yes\n",
            &format!("X-Mms-Ack-Request: Yes\n{extra_headers}"),
            1,
        )
}

#[tokio::test]
async fn accepts_the_sample_routes_it_locally_and_acknowledges() {
    let rig = rig().await;
    rig.receive("oper", SAMPLE, &["+447778889999/TYPE=PLMN@mms.domain.com"])
        .await;
    rig.drain().await;
    let v = rig.view("148478240@mmsc.hub").await;
    assert_eq!(v.recipients[0].state, RecipientState::Routed);
    assert_eq!(
        v.recipients[0].direction,
        Some(crate::domain::Direction::Local)
    );
    assert_eq!(v.message.subject.as_deref(), Some("News for today"));
    let sent = rig.sent();
    assert_eq!(sent.len(), 1);
    let (to, Mm4Pdu::ForwardRes(res)) = &sent[0] else {
        panic!("expected a forward.RES, got {sent:?}")
    };
    assert_eq!(to, "oper");
    assert_eq!(res.transaction_id, "60755231.94578772@mmsc");
    assert_eq!(res.request_status, RequestStatus::OK);
    assert_eq!(
        rig.mm4.sent()[0].envelope.rcpt_to,
        vec!["system-user@mmsc.hub".to_string()]
    );
}

/// A state store whose `fail_at`-th write fails, as if the worker died right there:
/// the job is redelivered and the handler runs again from the start.
struct DiesAtWrite {
    inner: Arc<dyn StateStore>,
    writes: std::sync::atomic::AtomicUsize,
    fail_at: usize,
}

impl DiesAtWrite {
    fn write(&self) -> Result<(), StoreError> {
        let n = 1 + self
            .writes
            .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        if n == self.fail_at {
            Err(StoreError::Backend(format!("worker died at write {n}")))
        } else {
            Ok(())
        }
    }
}

#[async_trait::async_trait]
impl StateStore for DiesAtWrite {
    async fn get(&self, key: &Key) -> Result<Option<Item>, StoreError> {
        self.inner.get(key).await
    }
    async fn put(&self, key: &Key, v: &[u8], e: Option<Timestamp>) -> Result<Version, StoreError> {
        self.write()?;
        self.inner.put(key, v, e).await
    }
    async fn create(
        &self,
        key: &Key,
        v: &[u8],
        e: Option<Timestamp>,
    ) -> Result<Version, StoreError> {
        self.write()?;
        self.inner.create(key, v, e).await
    }
    async fn update(
        &self,
        key: &Key,
        expected: Version,
        v: &[u8],
        e: Option<Timestamp>,
    ) -> Result<Version, StoreError> {
        self.write()?;
        self.inner.update(key, expected, v, e).await
    }
    async fn query(&self, pk: &str) -> Result<Vec<Item>, StoreError> {
        self.inner.query(pk).await
    }
    async fn delete(&self, key: &Key) -> Result<(), StoreError> {
        self.write()?;
        self.inner.delete(key).await
    }
}

#[tokio::test]
async fn a_worker_dying_between_any_two_writes_still_records_the_message_once() {
    // The first writes of an MM4_forward.REQ: dedup claim, aliases, the received
    // event, recipients, expiry index, the message record, then routing.
    for fail_at in 1..=12 {
        let rig = rig_with(|inner| {
            Arc::new(DiesAtWrite {
                inner,
                writes: Default::default(),
                fail_at,
            })
        })
        .await;
        rig.receive("oper", SAMPLE, &["+447778889999/TYPE=PLMN@mms.domain.com"])
            .await;
        rig.drain().await;
        let v = rig.view("60755231.94578772@mmsc").await;
        assert_eq!(
            v.events.iter().filter(|e| e.kind == "received").count(),
            1,
            "died at write {fail_at}: {:?}",
            v.events
        );
        // The ack is at least once: a job queued before the worker died is sent
        // again by the handler's second run (partners see a repeated .RES).
        assert!(!rig.sent().is_empty(), "died at write {fail_at}: no ack");
    }
}

#[tokio::test]
async fn a_retransmitted_request_is_one_message_and_one_ack() {
    let rig = rig().await;
    for _ in 0..3 {
        rig.receive("oper", SAMPLE, &["+447778889999/TYPE=PLMN@mms.domain.com"])
            .await;
    }
    rig.drain().await;
    let v = rig.view("60755231.94578772@mmsc").await;
    assert_eq!(v.events.iter().filter(|e| e.kind == "received").count(), 1);
    assert_eq!(rig.sent().len(), 1);
}

#[tokio::test]
async fn relays_transit_recipients_to_the_next_partner() {
    let rig = rig().await;
    rig.receive(
        "oper",
        &sample_to("+15550001111/TYPE=PLMN@mms.far.net", ""),
        &["+15550001111/TYPE=PLMN@mms.far.net"],
    )
    .await;
    rig.drain().await;
    let sent = rig.sent();
    let fwd = sent.iter().find_map(|(p, pdu)| match pdu {
        Mm4Pdu::ForwardReq(r) if p == "far" => Some(r.clone()),
        _ => None,
    });
    let fwd = fwd.unwrap_or_else(|| panic!("no forward.REQ to far in {sent:?}"));
    assert_ne!(fwd.transaction_id, "60755231.94578772@mmsc");
    assert_eq!(fwd.message_id.as_deref(), Some("148478240@mmsc.hub"));
    assert_eq!(fwd.forward_counter, Some(1));
    let v = rig.view("148478240@mmsc.hub").await;
    assert_eq!(v.recipients[0].state, RecipientState::Forwarded);
    // The partner's forward.RES correlates to our transit copy.
    let res = format!(
        "X-Mms-3GPP-MMS-Version: 6.10.0\nX-Mms-Message-Type: MM4_forward.RES\nX-Mms-Transaction-ID: {}\nX-Mms-Message-ID: 148478240@mmsc.hub\nX-Mms-Request-Status-Code: Ok\n\n",
        fwd.transaction_id
    );
    rig.receive("far", &res, &[]).await;
    rig.drain().await;
    let v = rig.view("148478240@mmsc.hub").await;
    assert!(
        v.events.iter().any(|e| e.kind == "forward-res"),
        "{:?}",
        v.events
    );
}

#[tokio::test]
async fn refuses_loops_and_unroutable_recipients_in_the_ack() {
    let rig = rig().await;
    rig.receive(
        "oper",
        &sample_to("+99912345678/TYPE=PLMN@nowhere.test", ""),
        &["+99912345678/TYPE=PLMN@nowhere.test"],
    )
    .await;
    rig.drain().await;
    let v = rig.view("148478240@mmsc.hub").await;
    assert_eq!(v.recipients[0].state, RecipientState::Rejected);
    let (_, Mm4Pdu::ForwardRes(res)) = &rig.sent()[0] else {
        panic!()
    };
    assert_eq!(
        res.request_status,
        RequestStatus::ERROR_SENDING_ADDRESS_UNRESOLVED
    );
}

#[tokio::test]
async fn retries_then_fails_and_reports_to_the_originator() {
    let rig = rig().await;
    for _ in 0..3 {
        rig.mm4
            .push_result(Err(TransportError::Transient("421 busy".into())));
    }
    rig.receive(
        "oper",
        &sample_to(
            "+15550001111/TYPE=PLMN@mms.far.net",
            "X-Mms-Delivery-Report: Yes\n",
        )
        .replace("X-Mms-Ack-Request: Yes", "X-Mms-Ack-Request: No"),
        &["+15550001111/TYPE=PLMN@mms.far.net"],
    )
    .await;
    rig.drain().await;
    let v = rig.view("148478240@mmsc.hub").await;
    assert_eq!(
        v.recipients[0].state,
        RecipientState::Failed,
        "{:?}",
        v.events
    );
    assert_eq!(
        v.events.iter().filter(|e| e.kind == "send-retry").count(),
        2
    );
    let sent = rig.sent();
    let dr = sent.iter().find_map(|(p, pdu)| match pdu {
        Mm4Pdu::DeliveryReportReq(r) if p == "oper" => Some(r.clone()),
        _ => None,
    });
    let dr = dr.unwrap_or_else(|| panic!("no delivery report in {sent:?}"));
    assert_eq!(dr.message_id.as_deref(), Some("148478240@mmsc.hub"));
}

#[tokio::test]
async fn a_permanent_refusal_fails_at_once() {
    let rig = rig().await;
    rig.mm4
        .push_result(Err(TransportError::Permanent("550 5.7.1 no".into())));
    rig.receive(
        "oper",
        &sample_to("+15550001111/TYPE=PLMN@mms.far.net", "")
            .replace("X-Mms-Ack-Request: Yes", "X-Mms-Ack-Request: No"),
        &[],
    )
    .await;
    rig.drain().await;
    let v = rig.view("148478240@mmsc.hub").await;
    assert_eq!(v.recipients[0].state, RecipientState::Failed);
    assert!(
        v.recipients[0]
            .reason
            .as_deref()
            .unwrap_or("")
            .contains("550")
    );
}

#[tokio::test]
async fn local_retrieval_sends_a_delivery_report_and_answers_are_correlated() {
    let rig = rig().await;
    rig.receive(
        "oper",
        &SAMPLE.replace(
            "X-Mms-Ack-Request: Yes",
            "X-Mms-Ack-Request: No\nX-Mms-Delivery-Report: Yes",
        ),
        &[],
    )
    .await;
    rig.drain().await;
    let v = rig.view("148478240@mmsc.hub").await;
    let job = Job::RecipientEvent {
        message_id: v.message.id.clone(),
        recipient: 0,
        state: RecipientState::Retrieved,
        reason: None,
    };
    rig.svc
        .queue
        .send(queues::INGEST, &job.to_bytes(), Duration::ZERO)
        .await
        .unwrap();
    rig.drain().await;
    let v = rig.view("148478240@mmsc.hub").await;
    assert_eq!(v.recipients[0].state, RecipientState::Retrieved);
    let sent = rig.sent();
    let Some((_, Mm4Pdu::DeliveryReportReq(dr))) = sent.last() else {
        panic!("{sent:?}")
    };
    assert_eq!(dr.mm_status.as_str(), "Retrieved");
    // The originator's .RES to our report lands on the timeline.
    let res = format!(
        "X-Mms-3GPP-MMS-Version: 6.10.0\nX-Mms-Message-Type: MM4_delivery_report.RES\nX-Mms-Transaction-ID: {}\nX-Mms-Message-ID: 148478240@mmsc.hub\nX-Mms-Request-Status-Code: Ok\n\n",
        dr.transaction_id
    );
    rig.receive("oper", &res, &[]).await;
    rig.drain().await;
    assert!(
        rig.view("148478240@mmsc.hub")
            .await
            .events
            .iter()
            .any(|e| e.kind == "delivery-report-res")
    );
    // A repeated event changes nothing and sends nothing.
    let before = rig.sent().len();
    rig.svc
        .queue
        .send(queues::INGEST, &job.to_bytes(), Duration::ZERO)
        .await
        .unwrap();
    rig.drain().await;
    assert_eq!(rig.sent().len(), before);
}

#[tokio::test]
async fn a_delivery_report_from_the_next_hop_is_applied_relayed_and_answered() {
    let rig = rig().await;
    rig.receive(
        "oper",
        &sample_to(
            "+15550001111/TYPE=PLMN@mms.far.net",
            "X-Mms-Delivery-Report: Yes\n",
        )
        .replace("X-Mms-Ack-Request: Yes", "X-Mms-Ack-Request: No"),
        &[],
    )
    .await;
    rig.drain().await;
    let dr = "X-Mms-3GPP-MMS-Version: 6.10.0\nX-Mms-Message-Type: MM4_delivery_report.REQ\nX-Mms-Transaction-ID: far-dr-1\nX-Mms-Message-ID: 148478240@mmsc.hub\nX-Mms-Ack-Request: Yes\nX-Mms-MM-Status-Code: Retrieved\nFrom: +15550001111/TYPE=PLMN@mms.far.net\nTo: +447779998888/TYPE=PLMN@mms.oper.com\nDate: Tue, 8 May 2007 12:20:00 +0300\n\n";
    rig.receive("far", dr, &[]).await;
    rig.drain().await;
    let v = rig.view("148478240@mmsc.hub").await;
    assert_eq!(
        v.recipients[0].state,
        RecipientState::Delivered,
        "{:?}",
        v.events
    );
    let sent = rig.sent();
    assert!(
        sent.iter()
            .any(|(p, pdu)| p == "oper" && matches!(pdu, Mm4Pdu::DeliveryReportReq(_))),
        "relayed: {sent:?}"
    );
    assert!(
        sent.iter().any(|(p, pdu)| p == "far"
            && matches!(pdu, Mm4Pdu::DeliveryReportRes(r) if r.transaction_id == "far-dr-1")),
        "answered: {sent:?}"
    );
}

#[tokio::test]
async fn unparsable_and_missing_pdus_are_permanent_failures() {
    let rig = rig().await;
    let job = |key: &str| Job::Ingest {
        interface: crate::domain::Interface::Mm4,
        object_key: key.into(),
        peer: "oper".into(),
        remote_addr: None,
        mail_from: None,
        rcpt_to: vec![],
        received_at: Timestamp(0),
    };
    rig.svc
        .objects
        .put(
            "in/garbage.eml",
            b"\x00\x01 not a message".to_vec().into(),
            "message/rfc822",
        )
        .await
        .unwrap();
    assert!(matches!(
        handle(&rig.svc, &job("in/garbage.eml"), 1).await,
        Err(HandlerError::Permanent(_))
    ));
    assert!(matches!(
        handle(&rig.svc, &job("in/missing.eml"), 1).await,
        Err(HandlerError::Permanent(_))
    ));
    let ev = Job::RecipientEvent {
        message_id: crate::domain::MessageId::generate(),
        recipient: 0,
        state: RecipientState::Retrieved,
        reason: None,
    };
    assert!(matches!(
        handle(&rig.svc, &ev, 1).await,
        Err(HandlerError::Permanent(_))
    ));
}

#[tokio::test]
async fn a_job_whose_pdu_is_not_stored_waits_then_is_dropped() {
    let r = rig().await;
    let now = r.svc.clock.now();
    let key = "in/mm4/2026/11/23/never-stored.eml";
    let rcpt = vec!["+447778889999/TYPE=PLMN@mms.domain.com".to_string()];
    // Just received: the front may still be committing the object.
    let early = ingest::mm4(&r.svc, key, "oper", &rcpt, now).await;
    assert!(
        matches!(early, Err(HandlerError::Transient(_))),
        "{early:?}"
    );
    // Long after: the store failed and the peer was answered 451; the job is an orphan.
    let received = Timestamp(now.0 - 2 * ingest::MISSING_OBJECT_GRACE.as_millis() as i64);
    let late = ingest::mm4(&r.svc, key, "oper", &rcpt, received).await;
    assert!(matches!(late, Err(HandlerError::Permanent(_))), "{late:?}");
}
