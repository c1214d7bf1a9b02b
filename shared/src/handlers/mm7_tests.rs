//! MM7 handler tests over the real embedded adapters, with a loopback TCP responder
//! playing the VASP's MM7 endpoint and a scriptable charging double.
#![allow(clippy::unwrap_used)]

use super::super::{HandlerError, Services, handle};
use crate::adapters::embedded::EmbeddedBackend;
use crate::codec::mm7::{
    AddressKind, ContentRef, Mm7Address, Mm7Body, Mm7Message, Part, Recipients, ReplaceReq,
    SenderIdentification, SubmitReq, Version,
};
use crate::config::{Config, PartnerConfig, VaspConfig};
use crate::domain::{Interface, Job, MessageId, RecipientState, Timestamp};
use crate::ports::{ChargeOutcome, ChargeRequest, Charging, ChargingError, ManualClock, queues};
use crate::routing::Router;
use crate::test_support::RecordingTransport;
use async_trait::async_trait;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

#[derive(Default)]
struct ScriptedCharging {
    seen: Mutex<Vec<ChargeRequest>>,
    result: Mutex<Option<Result<u32, String>>>,
}

#[async_trait]
impl Charging for ScriptedCharging {
    async fn charge(&self, req: &ChargeRequest) -> Result<ChargeOutcome, ChargingError> {
        self.seen.lock().unwrap().push(req.clone());
        match self.result.lock().unwrap().clone() {
            Some(Err(e)) => Err(ChargingError::Unavailable(e)),
            Some(Ok(code)) => Ok(ChargeOutcome {
                result_code: code,
                granted_units: None,
                granted_money: None,
                session_id: None,
                server: None,
            }),
            None => Ok(ChargeOutcome {
                result_code: ChargeOutcome::SUCCESS,
                granted_units: None,
                granted_money: None,
                session_id: None,
                server: None,
            }),
        }
    }
}

/// A VASP endpoint answering every POST with `status`; returns its port and the
/// request bodies it saw.
async fn vasp_endpoint(status: u16) -> (u16, Arc<Mutex<Vec<String>>>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = seen.clone();
    tokio::spawn(async move {
        loop {
            let Ok((mut s, _)) = listener.accept().await else {
                return;
            };
            let log = log.clone();
            tokio::spawn(async move {
                let mut buf = Vec::new();
                let mut chunk = [0u8; 8192];
                loop {
                    let n = s.read(&mut chunk).await.unwrap_or(0);
                    if n == 0 {
                        return;
                    }
                    buf.extend_from_slice(&chunk[..n]);
                    let text = String::from_utf8_lossy(&buf).to_string();
                    if let Some(h) = text.find("\r\n\r\n") {
                        let len: usize = text[..h]
                            .lines()
                            .find_map(|l| {
                                l.to_ascii_lowercase()
                                    .strip_prefix("content-length:")
                                    .map(|v| v.trim().parse().unwrap_or(0))
                            })
                            .unwrap_or(0);
                        if buf.len() >= h + 4 + len {
                            let body =
                                String::from_utf8_lossy(&buf[h + 4..h + 4 + len]).to_string();
                            let op = if body.contains("DeliveryReportReq") {
                                "DeliveryReportRsp"
                            } else if body.contains("ReadReplyReq") {
                                "ReadReplyRsp"
                            } else {
                                "DeliverRsp"
                            };
                            let auth = text[..h]
                                .lines()
                                .find(|l| l.to_ascii_lowercase().starts_with("authorization:"))
                                .unwrap_or("")
                                .to_string();
                            log.lock().unwrap().push(format!("{auth}\n{body}"));
                            let xml = format!(
                                r#"<e:Envelope xmlns:e="http://schemas.xmlsoap.org/soap/envelope/"><e:Header><TransactionID xmlns="http://www.3gpp.org/ftp/Specs/archive/23_series/23.140/schema/REL-6-MM7-1-4">t</TransactionID></e:Header><e:Body><{op} xmlns="http://www.3gpp.org/ftp/Specs/archive/23_series/23.140/schema/REL-6-MM7-1-4"><MM7Version>6.8.0</MM7Version><Status><StatusCode>{status}</StatusCode></Status></{op}></e:Body></e:Envelope>"#
                            );
                            let resp = format!(
                                "HTTP/1.1 200 OK\r\ncontent-type: text/xml\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{xml}",
                                xml.len()
                            );
                            let _ = s.write_all(resp.as_bytes()).await;
                            return;
                        }
                    }
                }
            });
        }
    });
    (port, seen)
}

struct Rig {
    svc: Arc<Services>,
    charging: Arc<ScriptedCharging>,
    _dir: tempfile::TempDir,
}

async fn rig(vasp_port: u16) -> Rig {
    let mut cfg = Config::default();
    cfg.mmsc.domain = "mms.example.net".into();
    cfg.mmsc.local_numbers = vec!["+4477009*".into()];
    // Event charging through the policy, with the scripted double as the server.
    cfg.charging.mode = crate::config::ChargingMode::Event;
    cfg.partners.push(PartnerConfig {
        name: "far".into(),
        domain: "mms.far.net".into(),
        prefixes: vec!["+1555*".into()],
        smtp_host: Some("127.0.0.1:25".into()),
        allowed_networks: vec!["127.0.0.1/32".parse().unwrap()],
        max_attempts: 3,
        ..PartnerConfig::default()
    });
    for (id, code) in [("acme", "12345"), ("other", "777")] {
        cfg.vasps.push(VaspConfig {
            id: id.into(),
            short_codes: vec![code.into()],
            allowed_networks: vec!["127.0.0.1/32".parse().unwrap()],
            deliver_url: Some(format!("http://127.0.0.1:{vasp_port}/mm7")),
            outbound_auth: Some(crate::config::Credentials {
                username: format!("mmsc-{id}"),
                password: "pw".into(),
            }),
            max_attempts: 2,
            ..VaspConfig::default()
        });
    }
    let cfg = Arc::new(cfg);
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(ManualClock::new(Timestamp::from_system(
        std::time::SystemTime::now(),
    )));
    let backend = EmbeddedBackend::open(dir.path(), 10, clock.clone())
        .await
        .unwrap();
    let charging = Arc::new(ScriptedCharging::default());
    let svc = Arc::new(Services {
        config: cfg.clone(),
        router: Router::new(&cfg),
        objects: backend.objects.clone(),
        state: backend.state.clone(),
        queue: backend.queue.clone(),
        charging: charging.clone(),
        clock,
        mm4: Arc::new(RecordingTransport::default()),
    });
    Rig {
        svc,
        charging,
        _dir: dir,
    }
}

impl Rig {
    /// Stores a submit as the front does and runs its ingest job.
    async fn submit(
        &self,
        to: &[&str],
        delivery_report: bool,
    ) -> (MessageId, Result<(), HandlerError>) {
        let id = MessageId::generate();
        let req = SubmitReq {
            mm7_version: "6.8.0".into(),
            sender_identification: SenderIdentification {
                vasp_id: Some("acme".into()),
                vas_id: Some("news".into()),
                sender_address: Some(Mm7Address::new(AddressKind::ShortCode, "12345")),
            },
            recipients: Recipients {
                to: to
                    .iter()
                    .map(|t| Mm7Address::new(AddressKind::Number, *t))
                    .collect(),
                ..Recipients::default()
            },
            service_code: Some("gold".into()),
            charged_party: Some("Recipient".into()),
            delivery_report: Some(delivery_report),
            subject: Some("hi".into()),
            content: Some(ContentRef {
                href: "cid:c".into(),
                allow_adaptations: None,
            }),
            ..SubmitReq::default()
        };
        let mut m = Mm7Message::new("tx", Version::default(), Mm7Body::SubmitReq(req));
        m.attachments = vec![Part::new("text/plain", Some("c"), b"Hello".to_vec())];
        let key = format!("in/mm7/d1/{id}.mm7");
        self.store(&key, &m).await;
        let r = self.ingest(&key).await;
        (id, r)
    }
    async fn store(&self, key: &str, m: &Mm7Message) {
        let (ct, body) = m.to_http();
        let mut entity = format!("Content-Type: {ct}\r\n\r\n").into_bytes();
        entity.extend_from_slice(&body);
        self.svc
            .objects
            .put(key, entity.into(), "message/rfc822")
            .await
            .unwrap();
    }
    async fn ingest(&self, key: &str) -> Result<(), HandlerError> {
        let job = Job::Ingest {
            interface: Interface::Mm7,
            object_key: key.into(),
            peer: "acme".into(),
            remote_addr: None,
            mail_from: None,
            rcpt_to: vec![],
            received_at: self.svc.clock.now(),
        };
        handle(&self.svc, &job, 1).await
    }
    async fn jobs(&self, queue: &str) -> Vec<Job> {
        let msgs = self
            .svc
            .queue
            .receive(queue, 10, Duration::from_secs(30), Duration::ZERO)
            .await
            .unwrap();
        msgs.iter()
            .map(|m| Job::from_bytes(&m.body).unwrap())
            .collect()
    }
    async fn state(&self, id: &MessageId, n: u32) -> RecipientState {
        self.svc
            .records()
            .recipient(id, n)
            .await
            .unwrap()
            .unwrap()
            .state
    }
}

#[tokio::test]
async fn routes_charges_and_delivers_a_submit() {
    let (port, seen) = vasp_endpoint(1000).await;
    let rig = rig(port).await;
    let (id, r) = rig
        .submit(&["+447700900123", "+15550100", "777", "+999"], true)
        .await;
    r.unwrap();
    use RecipientState::*;
    assert_eq!(rig.state(&id, 0).await, Routed);
    assert_eq!(rig.state(&id, 1).await, Routed);
    assert_eq!(rig.state(&id, 2).await, Routed);
    assert_eq!(rig.state(&id, 3).await, Rejected);
    assert!(matches!(
        rig.jobs(queues::MM1_NOTIFY).await.as_slice(),
        [Job::Mm1Notify { recipient: 0, .. }]
    ));
    let out = rig.jobs(queues::MM4_OUT).await;
    let [
        Job::Mm4Out {
            partner,
            object_key,
            ..
        },
    ] = out.as_slice()
    else {
        panic!("{out:?}")
    };
    assert_eq!(partner, "far");
    let fwd = rig.svc.objects.get(object_key).await.unwrap().unwrap();
    let text = String::from_utf8_lossy(&fwd);
    assert!(
        text.contains("X-Mms-VASP-ID: acme") && text.contains("Hello"),
        "{text}"
    );
    // Charged per recipient, the recipient paying, with the service code; the
    // recipient no route reaches is refunded (event mode, refund_on_failure).
    let charges = rig.charging.seen.lock().unwrap().clone();
    assert_eq!(charges.len(), 5, "{charges:?}");
    assert!(
        charges[..4]
            .iter()
            .all(|c| c.op == crate::ports::ChargingOp::Event)
    );
    assert_eq!(charges[4].op, crate::ports::ChargingOp::Refund);
    assert_eq!(charges[4].recipient.key(), "+999");
    assert_eq!(charges[0].service_code.as_deref(), Some("gold"));
    assert_eq!(charges[0].subscriber.key(), "+447700900123");
    // A repeated job changes nothing and charges under the same keys.
    rig.ingest(&format!("in/mm7/d1/{id}.mm7")).await.unwrap();

    // The short code 777 goes to VASP "other" as DeliverReq, and the sender (who asked
    // for reports) hears about it as DeliveryReportReq.
    let mm7 = rig.jobs(queues::MM7_OUT).await;
    let deliver = mm7
        .iter()
        .find(|j| matches!(j, Job::Mm7Out { vasp, recipient: 2, .. } if vasp == "other"))
        .unwrap();
    handle(&rig.svc, deliver, 1).await.unwrap();
    assert_eq!(rig.state(&id, 2).await, Delivered);
    let body = seen.lock().unwrap()[0].clone();
    assert!(
        body.contains("<ShortCode>777</ShortCode>") && body.contains("Hello"),
        "{body}"
    );
    let report = rig
        .jobs(queues::MM7_OUT)
        .await
        .into_iter()
        .find(|j| matches!(j, Job::Mm7Request { .. }))
        .unwrap();
    handle(&rig.svc, &report, 1).await.unwrap();
    let body = seen.lock().unwrap()[1].clone();
    assert!(
        body.contains("DeliveryReportReq")
            && body.contains("Retrieved")
            && body.contains(id.as_str()),
        "{body}"
    );
}

#[tokio::test]
async fn charging_refusals_reject_and_outages_retry() {
    let rig = rig(1).await;
    *rig.charging.result.lock().unwrap() = Some(Ok(4012));
    let (id, r) = rig.submit(&["+447700900123"], false).await;
    r.unwrap();
    assert_eq!(rig.state(&id, 0).await, RecipientState::Rejected);
    *rig.charging.result.lock().unwrap() = Some(Err("down".into()));
    let (id, r) = rig.submit(&["+447700900123"], false).await;
    assert!(matches!(r, Err(HandlerError::Transient(_))), "{r:?}");
    assert_eq!(rig.state(&id, 0).await, RecipientState::Accepted);
}

#[tokio::test]
async fn vasp_outages_retry_then_fail_and_refusals_reject() {
    // Nothing listens on the VASP's port.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = closed.local_addr().unwrap().port();
    drop(closed);
    let rig = rig(port).await;
    let (id, r) = rig.submit(&["777"], false).await;
    r.unwrap();
    let job = rig.jobs(queues::MM7_OUT).await.remove(0);
    assert!(matches!(
        handle(&rig.svc, &job, 1).await,
        Err(HandlerError::Transient(_))
    ));
    assert_eq!(rig.state(&id, 0).await, RecipientState::Routed);
    assert!(matches!(
        handle(&rig.svc, &job, 2).await,
        Err(HandlerError::Permanent(_))
    ));
    assert_eq!(rig.state(&id, 0).await, RecipientState::Failed);

    let (port, _) = vasp_endpoint(2001).await;
    let rig = self::rig(port).await;
    let (id, _) = rig.submit(&["777"], false).await;
    let job = rig.jobs(queues::MM7_OUT).await.remove(0);
    assert!(matches!(
        handle(&rig.svc, &job, 1).await,
        Err(HandlerError::Permanent(_))
    ));
    assert_eq!(rig.state(&id, 0).await, RecipientState::Rejected);
}

#[tokio::test]
async fn replace_swaps_the_content_of_own_messages_only() {
    let rig = rig(1).await;
    let (id, r) = rig.submit(&["+447700900123"], false).await;
    r.unwrap();
    let mut m = Mm7Message::new(
        "r",
        Version::default(),
        Mm7Body::ReplaceReq(ReplaceReq {
            mm7_version: "6.8.0".into(),
            message_id: id.to_string(),
            content: Some(ContentRef {
                href: "cid:n".into(),
                allow_adaptations: None,
            }),
            ..ReplaceReq::default()
        }),
    );
    m.attachments = vec![Part::new("text/plain", Some("n"), b"Version two".to_vec())];
    let key = format!("in/mm7/d1/{id}.replace-1.mm7");
    rig.store(&key, &m).await;
    rig.ingest(&key).await.unwrap();
    let (msg, _) = rig.svc.records().message(&id).await.unwrap().unwrap();
    assert_eq!(msg.content_key, key);
    assert_eq!(msg.size, 11);
    // Another VASP's replace of it is refused for good.
    let job = Job::Ingest {
        interface: Interface::Mm7,
        object_key: key.clone(),
        peer: "other".into(),
        remote_addr: None,
        mail_from: None,
        rcpt_to: vec![],
        received_at: rig.svc.clock.now(),
    };
    let r = handle(&rig.svc, &job, 1).await;
    assert!(matches!(r, Err(HandlerError::Permanent(_))), "{r:?}");
}

#[tokio::test]
async fn relays_a_partner_read_report_to_the_vasp() {
    use crate::codec::mm4::{Mm4Address, Mm4Pdu, ReadReplyReq, ReadStatus};
    let (port, seen) = vasp_endpoint(1000).await;
    let rig = rig(port).await;
    let id = MessageId::generate();
    let req = SubmitReq {
        mm7_version: "6.8.0".into(),
        recipients: Recipients {
            to: vec![Mm7Address::new(AddressKind::Number, "+15550100")],
            ..Recipients::default()
        },
        read_reply: Some(true),
        ..SubmitReq::default()
    };
    let key = format!("in/mm7/d1/{id}.mm7");
    rig.store(
        &key,
        &Mm7Message::new("t", Version::default(), Mm7Body::SubmitReq(req)),
    )
    .await;
    rig.ingest(&key).await.unwrap();
    let rr = ReadReplyReq::new(
        "rr-1@mms.far.net",
        format!("{id}@mms.example.net"),
        Mm4Address::parse("+15550100/TYPE=PLMN@mms.far.net"),
        Mm4Address::parse("12345@mms.example.net"),
        ReadStatus::DELETED_WITHOUT_BEING_READ,
        1_700_000_000,
    );
    rig.svc
        .objects
        .put(
            "in/mm4/rr1.eml",
            Mm4Pdu::ReadReplyReq(rr).to_bytes().into(),
            "message/rfc822",
        )
        .await
        .unwrap();
    let job = Job::Ingest {
        interface: Interface::Mm4,
        object_key: "in/mm4/rr1.eml".into(),
        peer: "far".into(),
        remote_addr: None,
        mail_from: None,
        rcpt_to: vec![],
        received_at: rig.svc.clock.now(),
    };
    handle(&rig.svc, &job, 1).await.unwrap();
    let out = rig
        .jobs(queues::MM7_OUT)
        .await
        .into_iter()
        .find(|j| matches!(j, Job::Mm7Request { operation, .. } if operation == "ReadReplyReq"))
        .unwrap();
    handle(&rig.svc, &out, 1).await.unwrap();
    let body = seen.lock().unwrap()[0].clone();
    assert!(
        body.contains("ReadReplyReq") && body.contains("<MMStatus>Deleted</MMStatus>"),
        "{body}"
    );
    assert!(
        body.contains("<Number>+15550100</Number>") && body.contains(id.as_str()),
        "{body}"
    );
}

#[tokio::test]
async fn an_mm1_message_to_a_short_code_reaches_the_vasp_as_deliver_req() {
    use crate::codec::mm1::{
        Body, Codec, ContentType, FromValue, MSendReq, MmsAddress, MmsVersion,
    };
    let (port, seen) = vasp_endpoint(1000).await;
    let rig = rig(port).await;
    let req = MSendReq::new(
        "tx-mm1-vasp".into(),
        MmsVersion::V1_2,
        FromValue::InsertAddress,
        ContentType::new("text/plain"),
        Body::Single(b"VOTE 7".to_vec()),
    )
    .with_to(MmsAddress::new("777/TYPE=PLMN"));
    let id = MessageId::generate();
    let key = super::super::mm1::submit::object_key(&id);
    rig.svc
        .objects
        .put(
            &key,
            req.to_bytes().unwrap().into(),
            "application/vnd.wap.mms-message",
        )
        .await
        .unwrap();
    let job = Job::Ingest {
        interface: Interface::Mm1,
        object_key: key,
        peer: "+447700900123".into(),
        remote_addr: None,
        mail_from: None,
        rcpt_to: vec![],
        received_at: rig.svc.clock.now(),
    };
    handle(&rig.svc, &job, 1).await.unwrap();
    let deliver = rig
        .jobs(queues::MM7_OUT)
        .await
        .into_iter()
        .find(|j| matches!(j, Job::Mm7Out { vasp, .. } if vasp == "other"))
        .expect("an mm7-out job for the short code's VASP");
    handle(&rig.svc, &deliver, 1).await.unwrap();
    let body = seen.lock().unwrap()[0].clone();
    assert!(
        body.contains("DeliverReq")
            && body.contains("<ShortCode>777</ShortCode>")
            && body.contains("VOTE 7")
            && body.contains("+447700900123"),
        "{body}"
    );
}
