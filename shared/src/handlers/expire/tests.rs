//! The `expire` job over the embedded adapters, with a manual clock, a recording MM4
//! transport and a scripted charging server in reserve-commit mode.

use super::*;
use crate::adapters::embedded::EmbeddedBackend;
use crate::charging::ChargeState;
use crate::codec::mm1::{
    Body, Codec, ContentType, FromValue, MSendReq, MmsAddress, MmsVersion, Pdu, Status, TimeValue,
    YesNo,
};
use crate::codec::mm4::Mm4Pdu;
use crate::config::{ChargingMode, Config, PartnerConfig};
use crate::domain::{
    Address, Direction, Interface, MessageRecord, MessageState, Origin, OutboundPdu,
    RecipientRecord,
};
use crate::handlers::handle;
use crate::handlers::records::{ExpiryEntry, expiry_key, expiry_pk};
use crate::ports::{
    ChargeOutcome, ChargeRequest, Charging, ChargingError, ChargingOp, Clock, ManualClock,
    SystemClock,
};
use crate::routing::Router;
use crate::test_support::RecordingTransport;
use crate::worker::{WorkerSettings, process};
use std::sync::Mutex;

const SAMPLE: &str = include_str!("../../../../events/mm4/sample-forward-req.eml");

/// A charging server that records every request; `unavailable` fails that many first.
#[derive(Default)]
struct Ocs {
    seen: Mutex<Vec<ChargeRequest>>,
    unavailable: Mutex<u32>,
}

#[async_trait::async_trait]
impl Charging for Ocs {
    async fn charge(&self, req: &ChargeRequest) -> Result<ChargeOutcome, ChargingError> {
        self.seen.lock().unwrap().push(req.clone());
        let mut down = self.unavailable.lock().unwrap();
        if *down > 0 {
            *down -= 1;
            return Err(ChargingError::Unavailable("down".into()));
        }
        Ok(ChargeOutcome {
            result_code: ChargeOutcome::SUCCESS,
            granted_units: Some(1),
            granted_money: None,
            session_id: Some(format!("s;{}", req.charge_key)),
            server: Some("ocs".into()),
        })
    }
}

impl Ocs {
    /// The operations sent for message `id`.
    fn ops(&self, id: &MessageId) -> Vec<ChargingOp> {
        self.seen
            .lock()
            .unwrap()
            .iter()
            .filter(|r| &r.message_id == id)
            .map(|r| r.op)
            .collect()
    }
}

struct Rig {
    svc: Arc<Services>,
    clock: Arc<ManualClock>,
    ocs: Arc<Ocs>,
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

/// A rig whose expire cursor is at the minute before now (so a run walks only what
/// the test creates), unless `seed_cursor` is false.
async fn rig_with(seed_cursor: bool) -> Rig {
    let mut cfg = Config::default();
    cfg.mmsc.domain = "mms.domain.com".into();
    cfg.mmsc.local_numbers = vec!["+447778*".into()];
    cfg.mmsc.default_expiry_secs = 3600;
    cfg.charging.mode = ChargingMode::ReserveCommit;
    cfg.charging.charge_mm4_incoming = true;
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
    let ocs = Arc::new(Ocs::default());
    let mm4 = Arc::new(RecordingTransport::default());
    let svc = Arc::new(Services {
        config: cfg.clone(),
        router: Router::new(&cfg),
        objects: backend.objects.clone(),
        state: backend.state.clone(),
        queue: backend.queue.clone(),
        charging: ocs.clone(),
        clock: clock.clone(),
        mm4: mm4.clone(),
    });
    let rig = Rig {
        svc,
        clock,
        ocs,
        mm4,
        _dir: dir,
    };
    if seed_cursor {
        rig.set_cursor(unix_minute(rig.clock.now()) - 1, None).await;
    }
    rig
}

async fn rig() -> Rig {
    rig_with(true).await
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
    async fn set_cursor(&self, minute: i64, lease_until: Option<Timestamp>) {
        let c = Cursor {
            minute,
            lease_until,
        };
        self.svc
            .state
            .put(&expire_cursor_key(), &serde_json::to_vec(&c).unwrap(), None)
            .await
            .unwrap();
    }

    async fn cursor(&self) -> Cursor {
        let item = self
            .svc
            .state
            .get(&expire_cursor_key())
            .await
            .unwrap()
            .expect("a cursor");
        serde_json::from_slice(&item.value).unwrap()
    }

    /// Stores an MM4 PDU as the SMTP front would and runs its ingest job.
    async fn receive_mm4(&self, partner: &str, pdu: &str) {
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
            interface: Interface::Mm4,
            object_key: key,
            peer: partner.into(),
            remote_addr: None,
            mail_from: None,
            rcpt_to: vec![],
            received_at: self.clock.now(),
        };
        handle(&self.svc, &job, 1).await.unwrap();
    }

    /// An m-send.req from local subscriber `from` to `to`, with a delivery report
    /// asked for, as the HTTP front stores it; runs its ingest job.
    async fn submit_mm1(&self, from: &str, to: &str, expiry: Duration) -> MessageId {
        let req = MSendReq::new(
            format!("tx-{}", uuid::Uuid::new_v4().simple()),
            MmsVersion::V1_2,
            FromValue::InsertAddress,
            ContentType::new("text/plain"),
            Body::Single(b"hello".to_vec()),
        )
        .with_to(MmsAddress::new(&format!("{to}/TYPE=PLMN")))
        .with_delivery_report(YesNo::YES)
        .with_expiry(TimeValue::Relative(expiry.as_secs()));
        let id = MessageId::generate();
        let key = crate::handlers::mm1::submit::object_key(&id);
        self.svc
            .objects
            .put(&key, req.to_bytes().unwrap().into(), "x")
            .await
            .unwrap();
        let job = Job::Ingest {
            interface: Interface::Mm1,
            object_key: key,
            peer: from.into(),
            remote_addr: None,
            mail_from: None,
            rcpt_to: vec![],
            received_at: self.clock.now(),
        };
        handle(&self.svc, &job, 1).await.unwrap();
        id
    }

    /// Runs the jobs on `ingest` and `mm4-out` until both are empty.
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

    /// Takes every job waiting on `queue` off it.
    async fn take(&self, queue: &str) -> Vec<Job> {
        let mut jobs = Vec::new();
        loop {
            let batch = self
                .svc
                .queue
                .receive(queue, 10, Duration::from_secs(30), Duration::ZERO)
                .await
                .unwrap();
            if batch.is_empty() {
                return jobs;
            }
            for m in batch {
                jobs.push(Job::from_bytes(&m.body).unwrap());
                self.svc.queue.delete(queue, &m.receipt).await.unwrap();
            }
        }
    }

    async fn view(&self, id: &MessageId) -> crate::handlers::records::MessageView {
        self.svc.records().load(id).await.unwrap().unwrap()
    }

    async fn charge_state(&self, id: &MessageId, index: u32) -> ChargeState {
        crate::charging::records(&self.svc, id)
            .await
            .unwrap()
            .into_iter()
            .find(|(i, _)| *i == index)
            .expect("a charge record")
            .1
            .state
    }

    /// A message recorded directly, with one recipient in `state` (forwarded to
    /// partner `far`), no report asked for, expiring at `expires_at`.
    async fn fixture(&self, expires_at: Timestamp, state: RecipientState) -> MessageId {
        let id = MessageId::generate();
        let now = self.clock.now();
        let msg = MessageRecord {
            id: id.clone(),
            origin: Origin::Mm4 {
                partner: "oper".into(),
            },
            peer_message_id: None,
            peer_transaction_id: None,
            from: Address::parse("+447779998888").unwrap(),
            subject: None,
            content_key: "in/mm4/test/none.eml".into(),
            content_type: None,
            size: 10,
            received_at: now,
            expires_at: Some(expires_at),
            delivery_report: false,
            read_report: false,
            state: MessageState::InProgress,
            recipient_count: 1,
        };
        let mut r = RecipientRecord::accepted(&id, 0, Address::parse("+15550009999").unwrap(), now);
        r.state = state;
        r.direction = Some(Direction::Mm4 {
            partner: "far".into(),
        });
        self.svc.records().create_message(&msg, &[r]).await.unwrap();
        id
    }

    async fn state_of(&self, id: &MessageId) -> RecipientState {
        self.view(id).await.recipients[0].state
    }

    async fn index_entries(&self, minute: i64) -> usize {
        let mut n = 0;
        for shard in 0..EXPIRY_SHARDS {
            n += self
                .svc
                .state
                .query(&expiry_pk(minute, shard))
                .await
                .unwrap()
                .len();
        }
        n
    }
}

/// Limits that never bind in these tests.
const WIDE: Limits = Limits {
    minutes: 10_000,
    messages: 10_000,
    time: Duration::from_secs(3600),
    lease: Duration::from_secs(360),
};

fn sample_transit(extra_headers: &str) -> String {
    SAMPLE
        .replace(
            "To: +447778889999/TYPE=PLMN@mms.domain.com",
            "To: +15550001111/TYPE=PLMN@mms.far.net",
        )
        .replace(
            "X-Mms-Ack-Request: Yes\n",
            &format!("X-Mms-Ack-Request: No\n{extra_headers}"),
        )
}

#[tokio::test]
async fn expires_a_partner_forward_that_never_got_an_answer() {
    let rig = rig().await;
    // From partner oper to partner far (transit), a delivery report asked for.
    rig.receive_mm4("oper", &sample_transit("X-Mms-Delivery-Report: Yes\n"))
        .await;
    rig.drain().await;
    let id = rig
        .svc
        .records()
        .resolve("148478240@mmsc.hub")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(rig.state_of(&id).await, RecipientState::Forwarded);
    assert_eq!(rig.charge_state(&id, 0).await, ChargeState::Reserved);
    let sent_before = rig.mm4.sent().len();

    // far never answers. Before the expiry (and its margin) nothing happens.
    rig.clock.advance(Duration::from_secs(3600));
    let report = run_with(&rig.svc, WIDE).await.unwrap();
    assert_eq!(report.expired, 0);
    assert_eq!(rig.state_of(&id).await, RecipientState::Forwarded);

    rig.clock.advance(SAFETY_MARGIN + Duration::from_secs(60));
    let report = run_with(&rig.svc, WIDE).await.unwrap();
    assert_eq!(
        (report.messages, report.expired, report.more),
        (1, 1, false)
    );
    let v = rig.view(&id).await;
    assert_eq!(v.recipients[0].state, RecipientState::Expired);
    assert_eq!(v.recipients[0].reason.as_deref(), Some(REASON));
    assert_eq!(v.message.state, MessageState::Completed);
    assert!(
        v.events.iter().any(|e| e.kind == "expired"),
        "{:?}",
        v.events
    );
    // The reservation is released, once.
    assert_eq!(
        rig.ocs.ops(&id),
        vec![ChargingOp::Reserve, ChargingOp::Release]
    );
    assert_eq!(rig.charge_state(&id, 0).await, ChargeState::Released);
    // The originating partner gets an MM4_delivery_report.REQ Expired.
    let jobs = rig.take(queues::MM4_OUT).await;
    assert_eq!(jobs.len(), 1, "{jobs:?}");
    let Job::Mm4Out { partner, pdu, .. } = &jobs[0] else {
        panic!("{jobs:?}")
    };
    assert_eq!(partner, "oper");
    assert!(
        matches!(pdu, OutboundPdu::DeliveryReportReq { .. }),
        "{pdu:?}"
    );
    for job in &jobs {
        handle(&rig.svc, job, 1).await.unwrap();
    }
    let events = rig.view(&id).await.events.len();
    let sent = rig.mm4.sent();
    assert_eq!(sent.len(), sent_before + 1);
    let last = sent.last().unwrap();
    let Mm4Pdu::DeliveryReportReq(dr) = Mm4Pdu::parse(&last.message).unwrap() else {
        panic!("not a delivery report")
    };
    assert_eq!(last.partner, "oper");
    assert_eq!(dr.mm_status.as_str(), "Expired");
    assert_eq!(dr.message_id.as_deref(), Some("148478240@mmsc.hub"));
    // The index entry is gone and the cursor moved to the last closed minute.
    let minute = unix_minute(v.message.expires_at.unwrap());
    assert_eq!(rig.index_entries(minute).await, 0);
    let cursor = rig.cursor().await;
    assert_eq!(cursor.minute, last_closed_minute(rig.clock.now()));
    assert_eq!(cursor.lease_until, None);

    // Running again does nothing more.
    let again = run_with(&rig.svc, WIDE).await.unwrap();
    assert_eq!((again.messages, again.expired), (0, 0));
    assert_eq!(rig.ocs.ops(&id).len(), 2);
    assert!(rig.take(queues::MM4_OUT).await.is_empty());
    assert_eq!(rig.view(&id).await.events.len(), events);
    assert_eq!(rig.mm4.sent().len(), sent_before + 1);
}

#[tokio::test]
async fn an_mm1_sender_gets_an_expired_delivery_report() {
    let rig = rig().await;
    let id = rig
        .submit_mm1("+447778000001", "+15550002222", Duration::from_secs(600))
        .await;
    rig.drain().await;
    assert_eq!(rig.state_of(&id).await, RecipientState::Forwarded);
    rig.clock
        .advance(Duration::from_secs(600) + SAFETY_MARGIN + Duration::from_secs(60));
    run(&rig.svc).await.unwrap();
    assert_eq!(rig.state_of(&id).await, RecipientState::Expired);
    assert_eq!(
        rig.ocs.ops(&id),
        vec![ChargingOp::Reserve, ChargingOp::Release]
    );
    // m-delivery.ind Expired, queued for a WAP Push to the sender.
    let jobs = rig.take(queues::MM1_NOTIFY).await;
    let [
        Job::Mm1Push {
            msisdn, object_key, ..
        },
    ] = jobs.as_slice()
    else {
        panic!("{jobs:?}")
    };
    assert_eq!(msisdn, "+447778000001");
    let pdu = rig.svc.objects.get(object_key).await.unwrap().unwrap();
    let Pdu::DeliveryInd(ind) = Pdu::from_bytes(&pdu).unwrap() else {
        panic!("not an m-delivery.ind")
    };
    assert_eq!(ind.status, Status::EXPIRED);
    assert_eq!(ind.message_id, id.to_string());
    // Once.
    run(&rig.svc).await.unwrap();
    assert!(rig.take(queues::MM1_NOTIFY).await.is_empty());
    assert_eq!(rig.ocs.ops(&id).len(), 2);
}

#[tokio::test]
async fn leaves_unexpired_and_final_recipients_alone() {
    let rig = rig().await;
    let now = rig.clock.now();
    let soon = now.plus(Duration::from_secs(120));
    let later = now.plus(Duration::from_secs(7200));
    let stuck = rig.fixture(soon, RecipientState::Forwarded).await;
    let delivered = rig.fixture(soon, RecipientState::Delivered).await;
    let retrieved = rig.fixture(soon, RecipientState::Retrieved).await;
    let pending = rig.fixture(later, RecipientState::Forwarded).await;
    rig.clock.advance(Duration::from_secs(600));
    let report = run_with(&rig.svc, WIDE).await.unwrap();
    assert_eq!((report.messages, report.expired), (3, 1));
    assert_eq!(rig.state_of(&stuck).await, RecipientState::Expired);
    assert_eq!(rig.state_of(&delivered).await, RecipientState::Delivered);
    assert_eq!(rig.state_of(&retrieved).await, RecipientState::Retrieved);
    assert_eq!(rig.state_of(&pending).await, RecipientState::Forwarded);
    for id in [&delivered, &retrieved] {
        let v = rig.view(id).await;
        assert!(!v.events.iter().any(|e| e.kind == "expired"));
    }
    // The later message is still indexed, under its own minute.
    assert_eq!(rig.index_entries(unix_minute(later)).await, 1);
    assert_eq!(rig.index_entries(unix_minute(soon)).await, 0);
    // Its time comes.
    rig.clock.advance(Duration::from_secs(7200));
    let report = run_with(&rig.svc, WIDE).await.unwrap();
    assert_eq!((report.messages, report.expired), (1, 1));
    assert_eq!(rig.state_of(&pending).await, RecipientState::Expired);
}

#[tokio::test]
async fn settles_a_final_recipient_whose_settlement_was_lost() {
    let rig = rig().await;
    // A message charged on acceptance, whose rejection was recorded but whose
    // release never happened (the job was lost).
    rig.receive_mm4("oper", &sample_transit("")).await;
    let id = rig
        .svc
        .records()
        .resolve("148478240@mmsc.hub")
        .await
        .unwrap()
        .unwrap();
    let msg = rig.svc.records().message(&id).await.unwrap().unwrap().0;
    let now = rig.clock.now();
    rig.svc
        .records()
        .update_recipient(&msg, 0, |r| {
            r.advance(RecipientState::Rejected, Some("lost".into()), now)
                .map(|()| true)
        })
        .await
        .unwrap()
        .unwrap();
    assert_eq!(rig.charge_state(&id, 0).await, ChargeState::Reserved);
    rig.clock.advance(Duration::from_secs(3600 + 180));
    let report = run_with(&rig.svc, WIDE).await.unwrap();
    assert_eq!(report.expired, 0);
    assert_eq!(rig.state_of(&id).await, RecipientState::Rejected);
    assert_eq!(rig.charge_state(&id, 0).await, ChargeState::Released);
}

#[tokio::test]
async fn catch_up_is_bounded_per_run_and_queues_the_next_run() {
    let rig = rig().await;
    let start = unix_minute(rig.clock.now());
    // One message expiring in each of the next ten minutes.
    let mut ids = Vec::new();
    for i in 0..10 {
        let at = Timestamp::from_unix_secs((start + 1 + i) * 60 + 30);
        ids.push(rig.fixture(at, RecipientState::Forwarded).await);
    }
    rig.clock.advance(Duration::from_secs(30 * 60));
    let last = last_closed_minute(rig.clock.now());
    let limits = Limits { minutes: 4, ..WIDE };
    let first = run_with(&rig.svc, limits).await.unwrap();
    assert_eq!((first.minutes, first.messages, first.more), (4, 3, true));
    assert_eq!(rig.cursor().await.minute, start - 1 + 4);
    // Minutes start+1 ..= start+3 are done; the rest wait.
    for (i, id) in ids.iter().enumerate() {
        let want = if i < 3 {
            RecipientState::Expired
        } else {
            RecipientState::Forwarded
        };
        assert_eq!(rig.state_of(id).await, want, "message {i}");
    }
    let queued = rig.take(queues::EXPIRE).await;
    assert_eq!(queued, vec![Job::Expire {}]);
    // The queued jobs carry it through, each within the bound.
    let mut runs = 1;
    loop {
        let r = run_with(&rig.svc, limits).await.unwrap();
        runs += 1;
        assert!(r.minutes <= 4);
        let queued = rig.take(queues::EXPIRE).await;
        assert_eq!(queued.len(), usize::from(r.more));
        if !r.more {
            break;
        }
        assert!(runs < 20, "catch-up does not end");
    }
    let walked = (last - (start - 1)) as u32;
    assert_eq!(runs, walked.div_ceil(4));
    assert_eq!(rig.cursor().await.minute, last);
    for id in &ids {
        assert_eq!(rig.state_of(id).await, RecipientState::Expired);
    }
}

#[tokio::test]
async fn a_busy_minute_is_split_over_runs_by_the_message_budget() {
    let rig = rig().await;
    let at = rig.clock.now().plus(Duration::from_secs(60));
    let mut ids = Vec::new();
    for _ in 0..5 {
        ids.push(rig.fixture(at, RecipientState::Forwarded).await);
    }
    rig.clock.advance(Duration::from_secs(600));
    let limits = Limits {
        messages: 2,
        ..WIDE
    };
    let before = rig.cursor().await.minute;
    let first = run_with(&rig.svc, limits).await.unwrap();
    assert_eq!((first.messages, first.expired, first.more), (2, 2, true));
    // The minute is not complete: the cursor stays before it.
    assert!(rig.cursor().await.minute < unix_minute(at));
    assert!(rig.cursor().await.minute >= before);
    assert_eq!(rig.index_entries(unix_minute(at)).await, 3);
    assert_eq!(rig.take(queues::EXPIRE).await.len(), 1);
    let second = run_with(&rig.svc, limits).await.unwrap();
    assert_eq!((second.messages, second.more), (2, true));
    let third = run_with(&rig.svc, limits).await.unwrap();
    assert_eq!((third.messages, third.more), (1, false));
    assert_eq!(rig.index_entries(unix_minute(at)).await, 0);
    for id in &ids {
        assert_eq!(rig.state_of(id).await, RecipientState::Expired);
    }
    assert_eq!(
        rig.cursor().await.minute,
        last_closed_minute(rig.clock.now())
    );
}

#[tokio::test]
async fn a_first_run_starts_one_horizon_back_and_catches_up_in_steps() {
    let rig = rig_with(false).await;
    let now = rig.clock.now();
    let id = rig
        .fixture(now.plus(Duration::from_secs(60)), RecipientState::Routed)
        .await;
    rig.clock.advance(Duration::from_secs(300));
    let first = run(&rig.svc).await;
    assert_eq!(first, Ok(()));
    let start = unix_minute(rig.clock.now().minus(BOOTSTRAP_HORIZON)) - 1;
    assert_eq!(
        rig.cursor().await.minute,
        start + i64::from(Limits::DEFAULT.minutes)
    );
    assert_eq!(rig.take(queues::EXPIRE).await, vec![Job::Expire {}]);
    // Through the job queue, as the workers would.
    let mut runs = 1;
    while rig.state_of(&id).await != RecipientState::Expired {
        handle(&rig.svc, &Job::Expire {}, 1).await.unwrap();
        runs += 1;
        assert!(runs < 30, "catch-up does not end");
    }
    let walked = (last_closed_minute(rig.clock.now()) - start) as u32;
    assert_eq!(runs, walked.div_ceil(Limits::DEFAULT.minutes));
}

#[tokio::test]
async fn a_run_holding_the_lease_keeps_others_out() {
    let rig = rig().await;
    let id = rig
        .fixture(
            rig.clock.now().plus(Duration::from_secs(60)),
            RecipientState::Forwarded,
        )
        .await;
    rig.clock.advance(Duration::from_secs(600));
    let cursor = rig.cursor().await.minute;
    let held = rig.clock.now().plus(Duration::from_secs(100));
    rig.set_cursor(cursor, Some(held)).await;
    let r = run_with(&rig.svc, WIDE).await.unwrap();
    assert!(r.busy);
    assert_eq!(r.messages, 0);
    assert_eq!(rig.state_of(&id).await, RecipientState::Forwarded);
    assert_eq!(rig.cursor().await.lease_until, Some(held));
    // A crashed run's lease lapses.
    rig.clock.advance(Duration::from_secs(101));
    let r = run_with(&rig.svc, WIDE).await.unwrap();
    assert!(!r.busy);
    assert_eq!(rig.state_of(&id).await, RecipientState::Expired);
    assert_eq!(rig.cursor().await.lease_until, None);
}

#[tokio::test]
async fn a_transient_failure_keeps_the_entry_and_the_cursor_for_a_retry() {
    let rig = rig().await;
    rig.receive_mm4("oper", &sample_transit("")).await;
    rig.drain().await;
    let id = rig
        .svc
        .records()
        .resolve("148478240@mmsc.hub")
        .await
        .unwrap()
        .unwrap();
    let other = rig
        .fixture(
            rig.clock.now().plus(Duration::from_secs(3600)),
            RecipientState::Routed,
        )
        .await;
    let cursor = rig.cursor().await.minute;
    rig.clock.advance(Duration::from_secs(3600 + 180));
    *rig.ocs.unavailable.lock().unwrap() = 1;
    let r = run_with(&rig.svc, WIDE).await;
    assert!(matches!(r, Err(HandlerError::Transient(_))), "{r:?}");
    assert_eq!(rig.state_of(&id).await, RecipientState::Forwarded);
    // The other message of the minute went ahead; the cursor did not move and the
    // lease is free for the retry.
    assert_eq!(rig.state_of(&other).await, RecipientState::Expired);
    let expiry_minute = unix_minute(rig.view(&id).await.message.expires_at.unwrap());
    assert!(cursor < expiry_minute);
    let c = rig.cursor().await;
    assert_eq!((c.minute, c.lease_until), (expiry_minute - 1, None));
    // The charging server is back (the claimed release is resent once stale).
    rig.clock.advance(Duration::from_secs(30));
    let r = run_with(&rig.svc, WIDE).await.unwrap();
    assert_eq!(r.expired, 1);
    assert_eq!(rig.state_of(&id).await, RecipientState::Expired);
    assert_eq!(rig.charge_state(&id, 0).await, ChargeState::Released);
    assert_eq!(
        rig.cursor().await.minute,
        last_closed_minute(rig.clock.now())
    );
}

#[tokio::test]
async fn drops_index_entries_of_gone_or_unreadable_messages_and_refiles_early_ones() {
    let rig = rig().await;
    let now = rig.clock.now();
    let minute = unix_minute(now) + 1;
    let at = Timestamp::from_unix_secs(minute * 60);
    // An entry for a message whose records are gone (or never written).
    let gone = MessageId::generate();
    let gone_key = expiry_key(minute, at, &gone);
    let entry = ExpiryEntry {
        message_id: gone.clone(),
        expires_at: at,
    };
    rig.svc
        .state
        .put(&gone_key, &serde_json::to_vec(&entry).unwrap(), None)
        .await
        .unwrap();
    // One that does not decode.
    let junk = Key::new(expiry_pk(minute, 3), "junk");
    rig.svc.state.put(&junk, b"{", None).await.unwrap();
    // One filed earlier than the message's own expiry.
    let later = now.plus(Duration::from_secs(7200));
    let early = rig.fixture(later, RecipientState::Forwarded).await;
    let early_key = expiry_key(minute, at, &early);
    let entry = ExpiryEntry {
        message_id: early.clone(),
        expires_at: at,
    };
    rig.svc
        .state
        .put(&early_key, &serde_json::to_vec(&entry).unwrap(), None)
        .await
        .unwrap();
    rig.clock.advance(Duration::from_secs(300));
    let r = run_with(&rig.svc, WIDE).await.unwrap();
    assert_eq!((r.messages, r.expired), (2, 0));
    assert_eq!(rig.index_entries(minute).await, 0);
    assert_eq!(rig.state_of(&early).await, RecipientState::Forwarded);
    assert_eq!(rig.index_entries(unix_minute(later)).await, 1);
}

#[tokio::test]
async fn the_expire_job_is_handled() {
    let rig = rig_with(false).await;
    assert_eq!(handle(&rig.svc, &Job::Expire {}, 1).await, Ok(()));
    // The first run made a cursor and released its lease.
    assert_eq!(rig.cursor().await.lease_until, None);
}

#[tokio::test]
async fn the_schedule_queues_a_tick_unless_one_is_pending_and_stops() {
    let dir = tempfile::tempdir().unwrap();
    let backend = EmbeddedBackend::open(dir.path(), 10, Arc::new(SystemClock))
        .await
        .unwrap();
    let queue: Arc<dyn Queue> = backend.queue.clone();
    let (stop_tx, stop_rx) = watch::channel(false);
    let task = tokio::spawn(tick(queue.clone(), Duration::from_millis(20), stop_rx));
    let depth_reaches = |n: u64| {
        let queue = queue.clone();
        async move {
            for _ in 0..500 {
                if queue.depth(queues::EXPIRE).await.unwrap() == n {
                    return true;
                }
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
            false
        }
    };
    assert!(depth_reaches(1).await, "no tick queued");
    // Ticks keep coming but one job waits: no pile-up.
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(queue.depth(queues::EXPIRE).await.unwrap(), 1);
    let got = queue
        .receive(queues::EXPIRE, 10, Duration::from_secs(30), Duration::ZERO)
        .await
        .unwrap();
    assert_eq!(Job::from_bytes(&got[0].body).unwrap(), Job::Expire {});
    queue.delete(queues::EXPIRE, &got[0].receipt).await.unwrap();
    assert!(depth_reaches(1).await, "no tick after the job was done");
    stop_tx.send(true).unwrap();
    tokio::time::timeout(Duration::from_secs(5), task)
        .await
        .expect("the schedule stops")
        .unwrap();
}
