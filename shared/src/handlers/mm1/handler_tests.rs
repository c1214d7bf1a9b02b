//! mm1-notify and MM1 ingest over the embedded adapters, with a manual clock and a
//! small PAP server standing in for the PPG.

use super::*;
use crate::adapters::embedded::EmbeddedBackend;
use crate::codec::mm1::{
    Body, Codec, ContentType, FromValue, MSendReq, MmsVersion, Pdu, TimeValue,
};
use crate::domain::{Interface, Job, RecipientState};
use crate::handlers::{Services, handle};
use crate::ports::{Clock, ManualClock, NoCharging, queues};
use crate::routing::Router;
use crate::test_support::RecordingTransport;
use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// A PAP server: records each push body, answers from a script (default 202
/// with PAP code 1001).
#[derive(Default)]
struct Ppg {
    bodies: Mutex<Vec<Vec<u8>>>,
    script: Mutex<VecDeque<u16>>,
}

async fn start_ppg() -> (Arc<Ppg>, u16) {
    let ppg = Arc::new(Ppg::default());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let p = ppg.clone();
    tokio::spawn(async move {
        while let Ok((mut s, _)) = listener.accept().await {
            let p = p.clone();
            tokio::spawn(async move {
                let mut buf = Vec::new();
                let mut chunk = [0u8; 8192];
                loop {
                    let n = s.read(&mut chunk).await.unwrap_or(0);
                    if n == 0 {
                        return;
                    }
                    buf.extend_from_slice(&chunk[..n]);
                    let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") else {
                        continue;
                    };
                    let head = String::from_utf8_lossy(&buf[..end]).to_ascii_lowercase();
                    let len: usize = head
                        .lines()
                        .find_map(|l| l.strip_prefix("content-length:"))
                        .and_then(|v| v.trim().parse().ok())
                        .unwrap_or(0);
                    if buf.len() >= end + 4 + len {
                        p.bodies
                            .lock()
                            .unwrap()
                            .push(buf[end + 4..end + 4 + len].to_vec());
                        break;
                    }
                }
                let status = p.script.lock().unwrap().pop_front().unwrap_or(202);
                let body = if status == 202 {
                    r#"<pap><push-response push-id="x"><response-result code="1001" desc="ok"/></push-response></pap>"#
                } else {
                    "no"
                };
                let resp = format!(
                    "HTTP/1.1 {status} X\r\ncontent-type: application/xml\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = s.write_all(resp.as_bytes()).await;
            });
        }
    });
    (ppg, port)
}

struct Rig {
    svc: Services,
    clock: Arc<ManualClock>,
    ppg: Arc<Ppg>,
    _dir: tempfile::TempDir,
}

async fn rig() -> Rig {
    rig_with(|_| {}).await
}

async fn rig_with(tweak: impl FnOnce(&mut Config)) -> Rig {
    let (ppg, port) = start_ppg().await;
    let mut cfg = Config::default();
    cfg.mmsc.domain = "mms.local.test".into();
    cfg.mmsc.local_numbers = vec!["+4477009*".into()];
    cfg.mmsc.default_expiry_secs = 3600;
    cfg.mm1.renotify_initial_secs = 60;
    cfg.mm1.renotify_limit = 3;
    cfg.wap_push.pap_url = Some(format!("http://127.0.0.1:{port}/wappush"));
    tweak(&mut cfg);
    let cfg = Arc::new(cfg);
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(ManualClock::new(Timestamp::from_system(
        std::time::SystemTime::now(),
    )));
    let backend = EmbeddedBackend::open(dir.path(), 10, clock.clone())
        .await
        .unwrap();
    let svc = Services {
        config: cfg.clone(),
        router: Router::new(&cfg),
        objects: backend.objects.clone(),
        state: backend.state.clone(),
        queue: backend.queue.clone(),
        charging: Arc::new(NoCharging),
        clock: clock.clone(),
        mm4: Arc::new(RecordingTransport::default()),
    };
    Rig {
        svc,
        clock,
        ppg,
        _dir: dir,
    }
}

impl Rig {
    /// Submits an m-send.req from +447700900001 to +447700900002 as the front would.
    async fn submit(&self) -> MessageId {
        self.submit_content(
            ContentType::new("text/plain"),
            Body::Single(b"hello".to_vec()),
        )
        .await
    }

    async fn submit_content(&self, ct: ContentType, body: Body) -> MessageId {
        let req = MSendReq::new(
            "tx-1".into(),
            MmsVersion::V1_2,
            FromValue::InsertAddress,
            ct,
            body,
        )
        .with_to(crate::codec::mm1::MmsAddress::new(
            "+447700900002/TYPE=PLMN",
        ))
        .with_delivery_report(crate::codec::mm1::YesNo::YES)
        .with_expiry(TimeValue::Relative(1800));
        let id = MessageId::generate();
        let key = submit::object_key(&id);
        self.svc
            .objects
            .put(&key, req.to_bytes().unwrap().into(), "x")
            .await
            .unwrap();
        let job = Job::Ingest {
            interface: Interface::Mm1,
            object_key: key,
            peer: "+447700900001".into(),
            remote_addr: None,
            mail_from: None,
            rcpt_to: vec![],
            received_at: self.clock.now(),
        };
        handle(&self.svc, &job, 1).await.unwrap();
        id
    }

    fn pushes(&self) -> Vec<Vec<u8>> {
        self.ppg.bodies.lock().unwrap().clone()
    }

    async fn state(&self, id: &MessageId) -> RecipientState {
        self.svc
            .records()
            .recipient(id, 0)
            .await
            .unwrap()
            .unwrap()
            .state
    }

    /// The MMS PDU inside push `n`.
    fn pushed_pdu(&self, n: usize) -> Pdu {
        let body = &self.pushes()[n];
        let marker = b"Content-Length: ";
        let at = body
            .windows(marker.len())
            .rposition(|w| w == marker)
            .unwrap();
        let rest = &body[at + marker.len()..];
        let eol = rest.windows(2).position(|w| w == b"\r\n").unwrap();
        let len: usize = std::str::from_utf8(&rest[..eol]).unwrap().parse().unwrap();
        let start = eol + 4;
        Pdu::from_bytes(&rest[start..start + len]).unwrap()
    }
}

#[tokio::test]
async fn routes_a_local_recipient_to_mm1_notify() {
    let r = rig().await;
    let id = r.submit().await;
    let jobs = r
        .svc
        .queue
        .receive(
            queues::MM1_NOTIFY,
            10,
            Duration::from_secs(30),
            Duration::ZERO,
        )
        .await
        .unwrap();
    assert_eq!(jobs.len(), 1);
    assert_eq!(
        Job::from_bytes(&jobs[0].body).unwrap(),
        Job::Mm1Notify {
            message_id: id.clone(),
            recipient: 0
        }
    );
    let msg = r.svc.records().message(&id).await.unwrap().unwrap().0;
    assert!(msg.delivery_report);
    assert_eq!(msg.from.e164(), Some("+447700900001"));
    assert_eq!(r.state(&id).await, RecipientState::Routed);
}

#[tokio::test]
async fn renotifies_with_backoff_then_expires_and_reports() {
    let r = rig().await;
    let id = r.submit().await;
    notify::notify(&r.svc, &id, 0).await.unwrap();
    assert_eq!(r.pushes().len(), 1);
    assert_eq!(r.state(&id).await, RecipientState::Notified);
    let Pdu::NotificationInd(first) = r.pushed_pdu(0) else {
        panic!("not a notification")
    };
    // Not due yet: nothing is pushed.
    r.clock.advance(Duration::from_secs(30));
    notify::notify(&r.svc, &id, 0).await.unwrap();
    assert_eq!(r.pushes().len(), 1);
    // Due after 60 s, then after 120 s more.
    r.clock.advance(Duration::from_secs(31));
    notify::notify(&r.svc, &id, 0).await.unwrap();
    assert_eq!(r.pushes().len(), 2);
    r.clock.advance(Duration::from_secs(100));
    notify::notify(&r.svc, &id, 0).await.unwrap();
    assert_eq!(r.pushes().len(), 2);
    r.clock.advance(Duration::from_secs(21));
    notify::notify(&r.svc, &id, 0).await.unwrap();
    assert_eq!(r.pushes().len(), 3);
    // The same location every time.
    let Pdu::NotificationInd(third) = r.pushed_pdu(2) else {
        panic!("not a notification")
    };
    assert_eq!(third.content_location, first.content_location);
    assert_eq!(third.transaction_id, first.transaction_id);
    // The limit (3) is reached: no more notifications.
    r.clock.advance(Duration::from_secs(900));
    notify::notify(&r.svc, &id, 0).await.unwrap();
    assert_eq!(r.pushes().len(), 3);
    // After the expiry (30 min): expired, and the sender gets m-delivery.ind Expired.
    r.clock.advance(Duration::from_secs(800));
    notify::notify(&r.svc, &id, 0).await.unwrap();
    assert_eq!(r.state(&id).await, RecipientState::Expired);
    let jobs = r
        .svc
        .queue
        .receive(
            queues::MM1_NOTIFY,
            10,
            Duration::from_secs(30),
            Duration::ZERO,
        )
        .await
        .unwrap();
    let push = jobs
        .iter()
        .filter_map(|j| Job::from_bytes(&j.body).ok())
        .find(|j| matches!(j, Job::Mm1Push { .. }))
        .expect("an m-delivery.ind push");
    let Job::Mm1Push {
        msisdn, object_key, ..
    } = push
    else {
        unreachable!()
    };
    assert_eq!(msisdn, "+447700900001");
    let pdu = r.svc.objects.get(&object_key).await.unwrap().unwrap();
    let Pdu::DeliveryInd(dr) = Pdu::from_bytes(&pdu).unwrap() else {
        panic!("not an m-delivery.ind")
    };
    assert_eq!(dr.status, crate::codec::mm1::Status::EXPIRED);
    assert_eq!(dr.message_id, id.to_string());
    // A retrieval after the expiry finds nothing to serve.
    let d = delivery_of(r.svc.state.as_ref(), &id, 0)
        .await
        .unwrap()
        .unwrap();
    assert!(r.clock.now() >= d.expires_at);
}

#[tokio::test]
async fn retries_when_the_ppg_is_unavailable_and_fails_when_it_refuses() {
    let r = rig().await;
    let id = r.submit().await;
    r.ppg.script.lock().unwrap().push_back(503);
    assert!(matches!(
        notify::notify(&r.svc, &id, 0).await,
        Err(crate::handlers::HandlerError::Transient(_))
    ));
    assert_eq!(r.state(&id).await, RecipientState::Routed);
    r.ppg.script.lock().unwrap().push_back(400);
    notify::notify(&r.svc, &id, 0).await.unwrap();
    assert_eq!(r.state(&id).await, RecipientState::Failed);
    let rec = r.svc.records().recipient(&id, 0).await.unwrap().unwrap();
    assert!(rec.reason.unwrap().contains("refused by the PPG"));
}

#[tokio::test]
async fn prepares_the_retrieve_conf_for_the_recipient() {
    let r = rig().await;
    let id = r.submit().await;
    notify::notify(&r.svc, &id, 0).await.unwrap();
    let d = delivery_of(r.svc.state.as_ref(), &id, 0)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(d.msisdn, "+447700900002");
    let by_token = delivery_by_token(r.svc.state.as_ref(), &d.token)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(by_token.retrieve_key, d.retrieve_key);
    let bytes = r.svc.objects.get(&d.retrieve_key).await.unwrap().unwrap();
    let Pdu::RetrieveConf(rc) = Pdu::from_bytes(&bytes).unwrap() else {
        panic!("not an m-retrieve.conf")
    };
    assert_eq!(rc.transaction_id.as_deref(), Some(d.token.as_str()));
    assert_eq!(rc.message_id.as_deref(), Some(id.as_str()));
    assert_eq!(rc.body.parts()[0].data, b"hello");
    assert_eq!(
        rc.from.unwrap().address().unwrap().as_text(),
        "+447700900001/TYPE=PLMN"
    );
}

#[tokio::test]
async fn adapts_large_images_for_the_handset() {
    use crate::codec::mm1::Part;
    let r = rig_with(|c| {
        c.mm1.image_max_bytes = 10_000;
        c.mm1.image_max_dimension = 200;
    })
    .await;
    let img = image::RgbImage::from_fn(900, 600, |x, y| {
        image::Rgb([(x % 256) as u8, (y % 256) as u8, ((x * y) % 256) as u8])
    });
    let mut png = Vec::new();
    image::DynamicImage::ImageRgb8(img)
        .write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png)
        .unwrap();
    let id = r
        .submit_content(
            ContentType::multipart_mixed(),
            Body::Multipart(vec![
                Part::new(ContentType::new("text/plain"), b"look".to_vec()),
                Part::new(ContentType::new("image/png"), png.clone()).with_content_id("<p>"),
            ]),
        )
        .await;
    notify::notify(&r.svc, &id, 0).await.unwrap();
    let d = delivery_of(r.svc.state.as_ref(), &id, 0)
        .await
        .unwrap()
        .unwrap();
    let bytes = r.svc.objects.get(&d.retrieve_key).await.unwrap().unwrap();
    let Pdu::RetrieveConf(rc) = Pdu::from_bytes(&bytes).unwrap() else {
        panic!("not an m-retrieve.conf")
    };
    let part = &rc.body.parts()[1];
    assert!(part.data.len() < png.len());
    let back = image::load_from_memory_with_format(&part.data, image::ImageFormat::Png).unwrap();
    assert_eq!((back.width(), back.height()), (200, 133));
    assert_eq!(rc.body.parts()[0].data, b"look");
    let view = r.svc.records().load(&id).await.unwrap().unwrap();
    assert!(view.events.iter().any(|e| e.kind == "adapted"));
}

#[tokio::test]
async fn routes_partner_and_vasp_recipients_of_an_mm1_message() {
    use crate::codec::mm1::MmsAddress;
    let r = rig_with(|c| {
        c.partners.push(crate::config::PartnerConfig {
            name: "far".into(),
            domain: "mms.far.net".into(),
            prefixes: vec!["+1555*".into()],
            smtp_host: Some("127.0.0.1:25".into()),
            allowed_networks: vec!["127.0.0.1/32".parse().unwrap()],
            ..crate::config::PartnerConfig::default()
        });
        c.vasps.push(crate::config::VaspConfig {
            id: "news".into(),
            short_codes: vec!["12345".into()],
            ..crate::config::VaspConfig::default()
        });
    })
    .await;
    let req = MSendReq::new(
        "tx-multi".into(),
        MmsVersion::V1_2,
        FromValue::InsertAddress,
        ContentType::new("text/plain"),
        Body::Single(b"hi all".to_vec()),
    )
    .with_to(MmsAddress::new("+15550001111/TYPE=PLMN"))
    .with_to(MmsAddress::new("12345/TYPE=PLMN"))
    .with_cc(MmsAddress::new("+447700900002/TYPE=PLMN"));
    let id = MessageId::generate();
    let key = submit::object_key(&id);
    r.svc
        .objects
        .put(&key, req.to_bytes().unwrap().into(), "x")
        .await
        .unwrap();
    let job = Job::Ingest {
        interface: Interface::Mm1,
        object_key: key,
        peer: "+447700900001".into(),
        remote_addr: None,
        mail_from: None,
        rcpt_to: vec![],
        received_at: r.clock.now(),
    };
    handle(&r.svc, &job, 1).await.unwrap();
    // A repeat of the same submission (at-least-once queues) changes nothing.
    handle(&r.svc, &job, 2).await.unwrap();
    let view = r.svc.records().load(&id).await.unwrap().unwrap();
    assert_eq!(view.recipients.len(), 3);
    let mut jobs = Vec::new();
    for q in [queues::MM4_OUT, queues::MM7_OUT, queues::MM1_NOTIFY] {
        for m in r
            .svc
            .queue
            .receive(q, 10, Duration::from_secs(30), Duration::ZERO)
            .await
            .unwrap()
        {
            jobs.push(Job::from_bytes(&m.body).unwrap());
        }
    }
    let mm4 = jobs
        .iter()
        .find_map(|j| match j {
            Job::Mm4Out {
                partner,
                object_key,
                rcpt_to,
                ..
            } => Some((partner.clone(), object_key.clone(), rcpt_to.clone())),
            _ => None,
        })
        .expect("an mm4-out job");
    assert_eq!(mm4.0, "far");
    assert_eq!(mm4.2, vec!["+15550001111/TYPE=PLMN@mms.far.net"]);
    let eml = r.svc.objects.get(&mm4.1).await.unwrap().unwrap();
    let crate::codec::mm4::Mm4Pdu::ForwardReq(f) = crate::codec::mm4::Mm4Pdu::parse(&eml).unwrap()
    else {
        panic!("not a forward.REQ")
    };
    assert_eq!(f.from.raw, "+447700900001/TYPE=PLMN@mms.local.test");
    assert!(String::from_utf8_lossy(&f.body).contains("hi all"));
    assert!(
        jobs.iter()
            .any(|j| matches!(j, Job::Mm7Out { vasp, .. } if vasp == "news"))
    );
    assert!(
        jobs.iter()
            .any(|j| matches!(j, Job::Mm1Notify { recipient: 2, .. }))
    );
}

/// A charging server that refuses every request with `4012` (credit limit reached).
struct RefusingCharging;

#[async_trait::async_trait]
impl crate::ports::Charging for RefusingCharging {
    async fn charge(
        &self,
        _req: &crate::ports::ChargeRequest,
    ) -> Result<crate::ports::ChargeOutcome, crate::ports::ChargingError> {
        Ok(crate::ports::ChargeOutcome {
            result_code: 4012,
            granted_units: None,
            granted_money: None,
            session_id: None,
            server: None,
        })
    }
}

#[tokio::test]
async fn a_submission_refused_by_charging_is_rejected_not_notified() {
    let mut r = rig_with(|c| c.charging.mode = crate::config::ChargingMode::Event).await;
    r.svc.charging = Arc::new(RefusingCharging);
    let id = r.submit().await;
    assert_eq!(r.state(&id).await, RecipientState::Rejected);
    let jobs = r
        .svc
        .queue
        .receive(
            queues::MM1_NOTIFY,
            10,
            Duration::from_secs(30),
            Duration::ZERO,
        )
        .await
        .unwrap();
    assert!(
        jobs.iter()
            .all(|j| !matches!(Job::from_bytes(&j.body), Ok(Job::Mm1Notify { .. }))),
        "a refused message is not notified"
    );
}
