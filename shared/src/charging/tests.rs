//! Charging policies over the embedded store with a scripted charging server.
#![allow(clippy::unwrap_used)]

use super::*;
use crate::adapters::embedded::EmbeddedBackend;
use crate::config::Config;
use crate::ports::ManualClock;
use crate::routing::Router;
use crate::test_support::RecordingTransport;
use async_trait::async_trait;
use std::sync::Mutex;

/// A charging server that records every request and answers from a script.
#[derive(Default)]
struct Scripted {
    seen: Mutex<Vec<ChargeRequest>>,
    /// Result-Code per recipient phone number (default 2001).
    codes: Mutex<Vec<(String, u32)>>,
    /// Fail this many requests as unavailable first.
    unavailable: Mutex<u32>,
}

#[async_trait]
impl Charging for Scripted {
    async fn charge(&self, req: &ChargeRequest) -> Result<ChargeOutcome, ChargingError> {
        self.seen.lock().unwrap().push(req.clone());
        {
            let mut u = self.unavailable.lock().unwrap();
            if *u > 0 {
                *u -= 1;
                return Err(ChargingError::Unavailable("down".into()));
            }
        }
        let code = self
            .codes
            .lock()
            .unwrap()
            .iter()
            .find(|(k, _)| k == req.recipient.key())
            .map_or(2001, |(_, c)| *c);
        Ok(ChargeOutcome {
            result_code: code,
            granted_units: Some(1),
            granted_money: None,
            session_id: Some(format!("s;{}", req.charge_key)),
            server: Some("ocs".into()),
        })
    }
}

impl Scripted {
    fn ops(&self) -> Vec<(ChargingOp, String, bool)> {
        self.seen
            .lock()
            .unwrap()
            .iter()
            .map(|r| (r.op, r.charge_key.clone(), r.retransmit))
            .collect()
    }
}

struct Rig {
    svc: Services,
    ocs: Arc<Scripted>,
    clock: Arc<ManualClock>,
    _dir: tempfile::TempDir,
}

async fn rig(mode: ChargingMode, refund: bool) -> Rig {
    let mut cfg = Config::default();
    cfg.charging.mode = mode;
    cfg.charging.refund_on_failure = refund;
    let cfg = Arc::new(cfg);
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(ManualClock::new(Timestamp::from_system(
        std::time::SystemTime::now(),
    )));
    let backend = EmbeddedBackend::open(dir.path(), 10, clock.clone())
        .await
        .unwrap();
    let ocs = Arc::new(Scripted::default());
    let svc = Services {
        config: cfg.clone(),
        router: Router::new(&cfg),
        objects: backend.objects.clone(),
        state: backend.state.clone(),
        queue: backend.queue.clone(),
        charging: ocs.clone(),
        clock: clock.clone(),
        mm4: Arc::new(RecordingTransport::default()),
    };
    Rig {
        svc,
        ocs,
        clock,
        _dir: dir,
    }
}

fn phone(n: &str) -> Address {
    Address::phone(n).unwrap()
}

async fn accept(r: &Rig, id: &MessageId, to: &[Address]) -> Result<(), ChargeReject> {
    let from = phone("+447700900123");
    charge_on_acceptance(
        &r.svc,
        &Submission {
            message_id: id,
            from: &from,
            recipients: to,
            size: 1000,
            content_type: Some("multipart/related"),
            submitted_at: r.svc.clock.now(),
            mms_message_id: Some("mid@oper"),
            service_code: None,
            charge_recipients: false,
        },
    )
    .await
}

async fn state_of(r: &Rig, id: &MessageId, i: u32) -> ChargeState {
    records(&r.svc, id)
        .await
        .unwrap()
        .into_iter()
        .find(|(n, _)| *n == i)
        .unwrap()
        .1
        .state
}

#[tokio::test]
async fn reserve_commit_charges_each_recipient_once_however_often_it_is_repeated() {
    let r = rig(ChargingMode::ReserveCommit, true).await;
    let id = MessageId("m1".into());
    let to = [phone("+15550000001"), phone("+15550000002")];
    accept(&r, &id, &to).await.unwrap();
    accept(&r, &id, &to).await.unwrap(); // a redelivered job
    for _ in 0..3 {
        settle(&r.svc, &id, 0, Outcome::Delivered).await.unwrap();
    }
    settle(&r.svc, &id, 0, Outcome::Failed).await.unwrap(); // too late: stays committed
    let ops = r.ocs.ops();
    assert_eq!(
        ops,
        vec![
            (ChargingOp::Reserve, "m1-0".into(), false),
            (ChargingOp::Reserve, "m1-1".into(), false),
            (ChargingOp::Commit, "m1-0".into(), false),
        ]
    );
    assert_eq!(state_of(&r, &id, 0).await, ChargeState::Committed);
    assert_eq!(state_of(&r, &id, 1).await, ChargeState::Reserved);
}

#[tokio::test]
async fn a_failure_releases_the_reservation_without_used_units() {
    let r = rig(ChargingMode::ReserveCommit, true).await;
    let id = MessageId("m2".into());
    accept(&r, &id, &[phone("+15550000001")]).await.unwrap();
    settle(&r.svc, &id, 0, Outcome::Failed).await.unwrap();
    settle(&r.svc, &id, 0, Outcome::Delivered).await.unwrap(); // no commit after release
    let ops: Vec<_> = r.ocs.ops().into_iter().map(|o| o.0).collect();
    assert_eq!(ops, vec![ChargingOp::Reserve, ChargingOp::Release]);
    assert_eq!(state_of(&r, &id, 0).await, ChargeState::Released);
}

#[tokio::test]
async fn event_mode_refunds_a_failure_only_when_configured() {
    for (refund, expect) in [
        (true, vec![ChargingOp::Event, ChargingOp::Refund]),
        (false, vec![ChargingOp::Event]),
    ] {
        let r = rig(ChargingMode::Event, refund).await;
        let id = MessageId("m3".into());
        accept(&r, &id, &[phone("+15550000001")]).await.unwrap();
        settle(&r.svc, &id, 0, Outcome::Failed).await.unwrap();
        settle(&r.svc, &id, 0, Outcome::Failed).await.unwrap();
        let ops: Vec<_> = r.ocs.ops().into_iter().map(|o| o.0).collect();
        assert_eq!(ops, expect);
    }
}

#[tokio::test]
async fn a_refusal_rejects_the_submission_and_undoes_the_other_recipients() {
    let r = rig(ChargingMode::ReserveCommit, true).await;
    r.ocs
        .codes
        .lock()
        .unwrap()
        .push(("+15550000002".into(), 4012));
    let id = MessageId("m4".into());
    let to = [phone("+15550000001"), phone("+15550000002")];
    let err = accept(&r, &id, &to).await.unwrap_err();
    assert_eq!(err, ChargeReject::Refused { result_code: 4012 });
    let ops: Vec<_> = r.ocs.ops().into_iter().map(|o| (o.0, o.1)).collect();
    assert_eq!(
        ops,
        vec![
            (ChargingOp::Reserve, "m4-0".into()),
            (ChargingOp::Reserve, "m4-1".into()),
            (ChargingOp::Release, "m4-0".into()),
        ]
    );
    // Asking again gives the same answer without charging anyone.
    let again = accept(&r, &id, &to).await.unwrap_err();
    assert_eq!(again, ChargeReject::Refused { result_code: 4012 });
    assert_eq!(r.ocs.ops().len(), 3);
}

#[tokio::test]
async fn an_unanswered_charge_is_resent_with_the_t_flag() {
    let r = rig(ChargingMode::Event, true).await;
    *r.ocs.unavailable.lock().unwrap() = 1;
    let id = MessageId("m5".into());
    let to = [phone("+15550000001")];
    let err = accept(&r, &id, &to).await.unwrap_err();
    assert!(matches!(err, ChargeReject::Unavailable(_)), "{err:?}");
    // Right away the claim may still be another attempt's: not resent yet.
    let busy = accept(&r, &id, &to).await.unwrap_err();
    assert!(matches!(busy, ChargeReject::Unavailable(_)), "{busy:?}");
    r.clock.advance(Duration::from_secs(60));
    accept(&r, &id, &to).await.unwrap();
    assert_eq!(
        r.ocs.ops(),
        vec![
            (ChargingOp::Event, "m5-0".into(), false),
            (ChargingOp::Event, "m5-0".into(), true),
        ]
    );
    // A commit step interrupted the same way is resent with T as well.
    let r = rig(ChargingMode::ReserveCommit, true).await;
    accept(&r, &id, &to).await.unwrap();
    *r.ocs.unavailable.lock().unwrap() = 1;
    let e = settle(&r.svc, &id, 0, Outcome::Delivered)
        .await
        .unwrap_err();
    assert!(matches!(e, HandlerError::Transient(_)));
    let busy = settle(&r.svc, &id, 0, Outcome::Delivered).await;
    assert!(matches!(busy, Err(HandlerError::Transient(_))), "{busy:?}");
    r.clock.advance(Duration::from_secs(60));
    settle(&r.svc, &id, 0, Outcome::Delivered).await.unwrap();
    let ops = r.ocs.ops();
    assert_eq!(ops[1], (ChargingOp::Commit, "m5-0".into(), false));
    assert_eq!(ops[2], (ChargingOp::Commit, "m5-0".into(), true));
    assert_eq!(ops.len(), 3);
}

#[tokio::test]
async fn mode_none_charges_nothing_and_writes_no_record() {
    let r = rig(ChargingMode::None, true).await;
    let id = MessageId("m6".into());
    accept(&r, &id, &[phone("+15550000001")]).await.unwrap();
    settle(&r.svc, &id, 0, Outcome::Delivered).await.unwrap();
    assert!(r.ocs.ops().is_empty());
    assert!(records(&r.svc, &id).await.unwrap().is_empty());
}

#[tokio::test]
async fn cdrs_are_json_lines_under_the_hour() {
    let r = rig(ChargingMode::ReserveCommit, true).await;
    let id = MessageId("m7".into());
    accept(&r, &id, &[phone("+15550000001")]).await.unwrap();
    settle(&r.svc, &id, 0, Outcome::Delivered).await.unwrap();
    let prefix = cdr::hour_prefix(r.svc.clock.now());
    assert!(prefix.starts_with("cdr/20") && prefix.len() == "cdr/2026/11/23/16".len());
    for (event, state) in [("reserve", "reserved"), ("commit", "committed")] {
        let key = format!("{prefix}/m7-0-{event}.jsonl");
        let body = r.svc.objects.get(&key).await.unwrap().expect(&key);
        assert!(body.ends_with(b"\n"));
        let v: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(v["chargingEvent"], event);
        assert_eq!(v["chargingState"], state);
        assert_eq!(v["originatorAddress"], "+447700900123");
        assert_eq!(v["recipientAddress"], "+15550000001");
        assert_eq!(v["messageID"], "m7");
        assert_eq!(v["mmsMessageID"], "mid@oper");
        assert_eq!(v["messageSize"], 1000);
        assert_eq!(v["resultCode"], 2001);
    }
}

#[test]
fn ccrs_for_each_step_carry_the_right_request_type_and_units() {
    use crate::codec::diameter::{CcRequestType, Command, RequestedAction, TerminationCause};
    let mut cfg = ChargingConfig {
        mode: ChargingMode::ReserveCommit,
        origin_host: Some("mmsc.example".into()),
        origin_realm: Some("example".into()),
        destination_realm: Some("ocs.example".into()),
        destination_host: Some("ocs1.ocs.example".into()),
        service_identifier: Some(7),
        money: Some("0.25".into()),
        currency: Some(978),
        peers: vec![crate::config::DiameterPeerConfig {
            name: "primary".into(),
            address: "127.0.0.1:3868".into(),
        }],
        ..ChargingConfig::default()
    };
    assert!(cfg.issues().is_empty(), "{:?}", cfg.issues());
    let s = CcrSettings::from_config(&cfg).unwrap();
    let mut req = ChargeRequest {
        op: ChargingOp::Reserve,
        message_id: MessageId("m8".into()),
        charge_key: "m8-0".into(),
        subscriber: phone("+447700900123"),
        recipient: phone("+447700900456"),
        size: 4000,
        service_code: None,
        content_type: Some("multipart/related".into()),
        submitted_at: Some(1_700_000_000),
        mms_message_id: None,
        retransmit: false,
    };
    let now = std::time::SystemTime::now();
    let reserve = s.build_ccr(&req, now);
    assert_eq!(reserve.cc_request_type, CcRequestType::INITIAL);
    assert_eq!(reserve.cc_request_number, 0);
    assert_eq!(reserve.requested_action, None);
    let rsu = reserve.requested_service_unit.clone().unwrap();
    assert_eq!(rsu.cc_money.unwrap().unit_value.value_digits, 25);
    assert_eq!(
        reserve.destination_host.as_deref(),
        Some("ocs1.ocs.example")
    );
    assert_eq!(reserve.service_identifier, Some(7));
    assert_eq!(
        reserve.subscription_ids[0].subscription_id_data,
        "447700900123"
    );
    let mms = reserve
        .service_information
        .as_ref()
        .unwrap()
        .mms_information
        .as_ref()
        .unwrap();
    assert_eq!(
        mms.recipient_addresses[0].address_data.as_deref(),
        Some("447700900456")
    );
    assert_eq!(mms.message_size, Some(4000));
    req.op = ChargingOp::Commit;
    req.retransmit = true;
    let commit = s.build_ccr(&req, now);
    assert_eq!(commit.session_id, reserve.session_id);
    assert_eq!(commit.cc_request_type, CcRequestType::TERMINATION);
    assert_eq!(commit.cc_request_number, 1);
    assert_eq!(commit.used_service_units.len(), 1);
    assert!(commit.retransmission);
    assert!(
        commit
            .header()
            .flags
            .contains(crate::codec::diameter::CommandFlags::RETRANSMITTED)
    );
    req.op = ChargingOp::Release;
    let release = s.build_ccr(&req, now);
    assert!(release.used_service_units.is_empty());
    assert_eq!(
        release.termination_cause,
        Some(TerminationCause::SERVICE_NOT_PROVIDED)
    );
    req.op = ChargingOp::Refund;
    let refund = s.build_ccr(&req, now);
    assert_eq!(refund.cc_request_type, CcRequestType::EVENT);
    assert_eq!(
        refund.requested_action,
        Some(RequestedAction::REFUND_ACCOUNT)
    );
    assert_ne!(refund.session_id, reserve.session_id);
    // Round trip through the codec.
    let bytes = commit.to_bytes().unwrap();
    assert_eq!(
        crate::codec::diameter::CreditControlRequest::from_bytes(&bytes).unwrap(),
        commit
    );

    // Validation names the key.
    cfg.money = Some("1.2.3".into());
    cfg.peers.clear();
    let keys: Vec<String> = cfg.issues().into_iter().map(|i| i.key).collect();
    assert!(keys.contains(&"charging.money".to_string()), "{keys:?}");
    assert!(keys.contains(&"charging.peers".to_string()), "{keys:?}");
}
