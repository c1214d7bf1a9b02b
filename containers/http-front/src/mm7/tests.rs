//! `/mm7` over real TCP with in-memory store/queue doubles (failures injectable).
#![allow(clippy::unwrap_used)]

use super::*;
use async_trait::async_trait;
use mmsc_shared::codec::mm7::{
    AddressKind, CancelReq, ContentRef, Mm7Address, Part, Recipients, ReplaceReq,
};
use mmsc_shared::config::Credentials;
use mmsc_shared::domain::{MessageRecord, MessageState, RecipientRecord, Timestamp};
use mmsc_shared::ports::{QueueError, QueueMessage, SystemClock};
use mmsc_shared::test_support::{MemoryObjects, MemoryState};
use std::sync::atomic::{AtomicBool, Ordering};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

#[derive(Default)]
struct TestQueue {
    sent: Mutex<Vec<(String, Vec<u8>)>>,
    fail_send: AtomicBool,
}

impl TestQueue {
    fn jobs(&self) -> Vec<Job> {
        self.sent
            .lock()
            .unwrap()
            .iter()
            .map(|(_, b)| Job::from_bytes(b).unwrap())
            .collect()
    }
}

#[async_trait]
impl Queue for TestQueue {
    async fn send(&self, queue: &str, body: &[u8], _: Duration) -> Result<String, QueueError> {
        if self.fail_send.load(Ordering::SeqCst) {
            return Err(QueueError::Backend("injected failure".into()));
        }
        self.sent
            .lock()
            .unwrap()
            .push((queue.into(), body.to_vec()));
        Ok("1".into())
    }
    async fn receive(
        &self,
        _: &str,
        _: usize,
        _: Duration,
        _: Duration,
    ) -> Result<Vec<QueueMessage>, QueueError> {
        Ok(vec![])
    }
    async fn delete(&self, _: &str, _: &str) -> Result<(), QueueError> {
        Ok(())
    }
    async fn set_visibility(&self, _: &str, _: &str, _: Duration) -> Result<(), QueueError> {
        Ok(())
    }
    async fn depth(&self, _: &str) -> Result<u64, QueueError> {
        Ok(0)
    }
}

struct Srv {
    addr: SocketAddr,
    objects: Arc<MemoryObjects>,
    queue: Arc<TestQueue>,
    state: Arc<MemoryState>,
}

async fn start(cfg: Config) -> Srv {
    let objects = Arc::new(MemoryObjects::default());
    let queue = Arc::new(TestQueue::default());
    let state = Arc::new(MemoryState::default());
    let front = Arc::new(Mm7Front::new(
        Arc::new(cfg),
        objects.clone(),
        state.clone(),
        queue.clone(),
        Arc::new(SystemClock),
    ));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let app = front
        .routes()
        .into_make_service_with_connect_info::<SocketAddr>();
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    Srv {
        addr,
        objects,
        queue,
        state,
    }
}

struct Answer {
    status: u16,
    headers: String,
    body: String,
}

impl Answer {
    fn mm7(&self) -> Mm7Message {
        let ct = self
            .headers
            .lines()
            .find_map(|l| {
                l.to_ascii_lowercase()
                    .strip_prefix("content-type:")
                    .map(|v| v.trim().to_string())
            })
            .unwrap_or_default();
        Mm7Message::parse(&ct, self.body.as_bytes())
            .unwrap_or_else(|e| panic!("{e}: {}", self.body))
    }
    fn code(&self) -> u16 {
        self.mm7().body.status().unwrap().code.0
    }
}

async fn post(srv: &Srv, ct: &str, body: &[u8], auth: Option<&str>) -> Answer {
    let mut s = tokio::net::TcpStream::connect(srv.addr).await.unwrap();
    let mut head = format!(
        "POST /mm7 HTTP/1.1\r\nhost: x\r\ncontent-type: {ct}\r\ncontent-length: {}\r\nconnection: close\r\n",
        body.len()
    );
    if let Some(a) = auth {
        head.push_str(&format!("authorization: {a}\r\n"));
    }
    head.push_str("\r\n");
    s.write_all(head.as_bytes()).await.unwrap();
    s.write_all(body).await.unwrap();
    let mut resp = Vec::new();
    s.read_to_end(&mut resp).await.unwrap();
    let text = String::from_utf8_lossy(&resp).to_string();
    let (headers, body) = text.split_once("\r\n\r\n").unwrap();
    Answer {
        status: headers.split_whitespace().nth(1).unwrap().parse().unwrap(),
        headers: headers.to_string(),
        body: body.to_string(),
    }
}

fn submit(version: &str, to: &[&str], sender: Option<&str>) -> Mm7Message {
    let req = SubmitReq {
        mm7_version: "6.8.0".into(),
        sender_identification: SenderIdentification {
            vasp_id: None,
            vas_id: Some("news".into()),
            sender_address: sender.map(|s| Mm7Address::new(AddressKind::ShortCode, s)),
        },
        recipients: Recipients {
            to: to
                .iter()
                .map(|t| {
                    let kind = if t.contains('@') {
                        AddressKind::Rfc2822
                    } else {
                        AddressKind::Number
                    };
                    Mm7Address::new(kind, *t)
                })
                .collect(),
            ..Recipients::default()
        },
        service_code: Some("gold".into()),
        subject: Some("News".into()),
        content: Some(ContentRef {
            href: "cid:c1".into(),
            allow_adaptations: None,
        }),
        ..SubmitReq::default()
    };
    let mut m = Mm7Message::new(
        "tx-1",
        Version::new(version).unwrap(),
        Mm7Body::SubmitReq(req),
    );
    m.attachments = vec![Part::new("text/plain", Some("c1"), b"Hello".to_vec())];
    m
}

async fn send(srv: &Srv, m: &Mm7Message, auth: Option<&str>) -> Answer {
    let (ct, body) = m.to_http();
    post(srv, &ct, &body, auth).await
}

fn basic(u: &str, p: &str) -> String {
    use base64::Engine;
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{u}:{p}"))
    )
}

fn acme_config() -> Config {
    let mut c = Config::demo();
    c.vasps = vec![VaspConfig {
        id: "acme".into(),
        short_codes: vec!["12345".into()],
        credentials: Some(Credentials {
            username: "acme".into(),
            password: "s3cret".into(),
        }),
        service_codes: vec!["gold".into()],
        max_recipients: 3,
        ..VaspConfig::default()
    }];
    c
}

#[tokio::test]
async fn accepts_a_submit_after_storing_and_queueing_it_in_kind() {
    let srv = start(Config::demo()).await;
    for v in ["REL-5-MM7-1-2", "REL-6-MM7-1-4"] {
        let a = send(&srv, &submit(v, &["+447700900123"], Some("12345")), None).await;
        assert_eq!(a.status, 200, "{}", a.body);
        let rsp = a.mm7();
        assert_eq!(rsp.version.name(), v, "answered in the VASP's version");
        assert_eq!(rsp.transaction_id, "tx-1");
        let Mm7Body::SubmitRsp(r) = rsp.body else {
            panic!("{}", a.body)
        };
        assert_eq!(r.status.code, StatusCode::SUCCESS);
        let id = r.message_id.unwrap();
        assert!(MessageId::looks_like(&id));
        let Some(Job::Ingest {
            interface: Interface::Mm7,
            object_key,
            peer,
            ..
        }) = srv.queue.jobs().last().cloned()
        else {
            panic!("no ingest job")
        };
        assert_eq!(peer, "demo-vasp");
        assert!(object_key.ends_with(&format!("{id}.mm7")));
        let stored = srv.objects.get(&object_key).await.unwrap().unwrap();
        assert!(stored.starts_with(b"Content-Type: multipart/related"));
    }
}

#[tokio::test]
async fn answers_partial_success_with_details_and_refuses_all_unresolvable() {
    let srv = start(Config::demo()).await;
    let a = send(
        &srv,
        &submit(
            "REL-6-MM7-1-4",
            &["+447700900123", "bob@nowhere.example"],
            None,
        ),
        None,
    )
    .await;
    let Mm7Body::SubmitRsp(r) = a.mm7().body else {
        panic!()
    };
    assert_eq!(r.status.code, StatusCode::PARTIAL_SUCCESS);
    assert!(r.status.details.unwrap().contains("bob@nowhere.example"));
    assert!(r.message_id.is_some());
    let a = send(
        &srv,
        &submit("REL-6-MM7-1-4", &["bob@nowhere.example"], None),
        None,
    )
    .await;
    assert_eq!(a.code(), 2003);
    let a = send(
        &srv,
        &submit("REL-6-MM7-1-4", &["not an address!"], None),
        None,
    )
    .await;
    assert_eq!(a.code(), 2002);
    assert_eq!(srv.queue.jobs().len(), 1, "refused submits queue nothing");
}

#[tokio::test]
async fn answers_3000_when_store_or_queue_fails_and_keeps_nothing() {
    let srv = start(Config::demo()).await;
    let m = submit("REL-6-MM7-1-4", &["+447700900123"], None);
    srv.objects.fail_puts.store(true, Ordering::SeqCst);
    let a = send(&srv, &m, None).await;
    assert_eq!(a.status, 500);
    assert!(matches!(a.mm7().body, Mm7Body::RsErrorRsp(_)));
    assert_eq!(a.code(), 3000);
    assert!(srv.queue.jobs().is_empty());
    srv.objects.fail_puts.store(false, Ordering::SeqCst);
    srv.queue.fail_send.store(true, Ordering::SeqCst);
    let a = send(&srv, &m, None).await;
    assert_eq!(a.code(), 3000);
    assert!(
        srv.objects.objects.lock().unwrap().is_empty(),
        "orphan removed"
    );
    srv.queue.fail_send.store(false, Ordering::SeqCst);
    assert_eq!(send(&srv, &m, None).await.code(), 1000);
}

#[tokio::test]
async fn authenticates_with_basic_and_digest() {
    let srv = start(acme_config()).await;
    let m = submit("REL-6-MM7-1-4", &["+447700900123"], None);
    for auth in [
        None,
        Some(basic("acme", "wrong")),
        Some(basic("ghost", "x")),
    ] {
        let a = send(&srv, &m, auth.as_deref()).await;
        assert_eq!(a.status, 401, "{}", a.body);
        assert_eq!(a.code(), 4001);
        let h = a.headers.to_ascii_lowercase();
        assert!(h.contains("www-authenticate: digest") && h.contains("www-authenticate: basic"));
    }
    assert_eq!(
        send(&srv, &m, Some(&basic("acme", "s3cret"))).await.code(),
        1000
    );
    // Digest: take the nonce from a challenge and answer it.
    let a = send(&srv, &m, None).await;
    let nonce = a
        .headers
        .split("nonce=\"")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap()
        .to_string();
    let mut d = auth::DigestParams {
        username: "acme".into(),
        realm: auth::REALM.into(),
        nonce: nonce.clone(),
        uri: "/mm7".into(),
        response: String::new(),
        qop: Some("auth".into()),
        nc: Some("00000001".into()),
        cnonce: Some("0a4f113b".into()),
    };
    d.response = auth::digest_response(&d, "s3cret", "POST");
    let header = format!(
        "Digest username=\"acme\", realm=\"mm7\", nonce=\"{nonce}\", uri=\"/mm7\", qop=auth, nc=00000001, cnonce=\"0a4f113b\", response=\"{}\"",
        d.response
    );
    assert_eq!(send(&srv, &m, Some(&header)).await.code(), 1000);
}

#[tokio::test]
async fn authorises_sender_service_code_and_recipient_count() {
    let srv = start(acme_config()).await;
    let auth = basic("acme", "s3cret");
    let a = send(
        &srv,
        &submit("REL-6-MM7-1-4", &["+447700900123"], Some("99999")),
        Some(&auth),
    )
    .await;
    assert_eq!(a.code(), 2001, "{}", a.body);
    let mut m = submit("REL-6-MM7-1-4", &["+447700900123"], Some("12345"));
    if let Mm7Body::SubmitReq(r) = &mut m.body {
        r.service_code = Some("platinum".into());
    }
    assert_eq!(send(&srv, &m, Some(&auth)).await.code(), 4007);
    if let Mm7Body::SubmitReq(r) = &mut m.body {
        r.service_code = None;
        r.sender_identification.vasp_id = Some("someone-else".into());
    }
    assert_eq!(send(&srv, &m, Some(&auth)).await.code(), 2001);
    let many = submit(
        "REL-6-MM7-1-4",
        &[
            "+447700900001",
            "+447700900002",
            "+447700900003",
            "+447700900004",
        ],
        None,
    );
    assert_eq!(send(&srv, &many, Some(&auth)).await.code(), 2001);
    assert!(srv.queue.jobs().is_empty());
}

#[tokio::test]
async fn refuses_bad_requests_with_their_codes_and_stays_up() {
    let mut cfg = Config::demo();
    cfg.http.max_body_size = 64 * 1024;
    let srv = start(cfg).await;
    let ns6 = "http://www.3gpp.org/ftp/Specs/archive/23_series/23.140/schema/REL-6-MM7-1-4";
    let cases: Vec<(String, Vec<u8>, u16, u16)> = vec![
        ("text/xml".into(), b"<not xml".to_vec(), 500, 2007),
        (
            "text/xml".into(),
            br#"<?xml version="1.0"?><!DOCTYPE z [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;">]><Envelope><Body><x>&b;</x></Body></Envelope>"#.to_vec(),
            500,
            2007,
        ),
        (
            "text/xml".into(),
            format!("<Envelope><Body>{}{}</Body></Envelope>", "<a>".repeat(2_000), "</a>".repeat(2_000)).into_bytes(),
            500,
            2007,
        ),
        (
            "text/xml".into(),
            r#"<Envelope><Header><TransactionID xmlns="http://www.3gpp.org/ftp/Specs/archive/23_series/23.140/schema/REL-9-MM7-1-0">t</TransactionID></Header><Body><SubmitReq xmlns="http://www.3gpp.org/ftp/Specs/archive/23_series/23.140/schema/REL-9-MM7-1-0"/></Body></Envelope>"#.as_bytes().to_vec(),
            500,
            4002,
        ),
        (
            "text/xml".into(),
            format!(r#"<Envelope><Header><TransactionID xmlns="{ns6}">t</TransactionID></Header><Body><SubmitReq xmlns="{ns6}"><MM7Version>6.8.0</MM7Version></SubmitReq></Body></Envelope>"#).into_bytes(),
            500,
            4004,
        ),
        (
            "multipart/related; boundary=zz".into(),
            b"--zz\r\nContent-Type: text/xml\r\n\r\n<Envelope/>".to_vec(),
            500,
            2007,
        ),
        ("text/xml".into(), vec![b'x'; 200 * 1024], 413, 2004),
    ];
    for (ct, body, http, code) in cases {
        let a = post(&srv, &ct, &body, None).await;
        assert_eq!((a.status, a.code()), (http, code), "{ct}: {}", a.body);
    }
    // A response posted to us is not an operation we take.
    let rsp = Mm7Message::new(
        "t",
        Version::default(),
        Mm7Body::SubmitRsp(SubmitRsp {
            mm7_version: "6.8.0".into(),
            status: Status::new(StatusCode::SUCCESS),
            message_id: None,
        }),
    );
    assert_eq!(send(&srv, &rsp, None).await.code(), 4003);
    // Still up.
    let ok = send(
        &srv,
        &submit("REL-6-MM7-1-4", &["+447700900123"], None),
        None,
    )
    .await;
    assert_eq!(ok.code(), 1000);
    assert_eq!(srv.queue.jobs().len(), 1);
}

#[tokio::test]
async fn limits_the_request_rate() {
    let mut cfg = Config::demo();
    cfg.vasps[0].rate_limit = 1;
    let srv = start(cfg).await;
    let m = submit("REL-5-MM7-1-2", &["+447700900123"], None);
    assert_eq!(send(&srv, &m, None).await.code(), 1000);
    let a = send(&srv, &m, None).await;
    assert_eq!((a.status, a.code()), (503, 4006));
    assert_eq!(a.mm7().version.name(), "REL-5-MM7-1-2");
}

async fn seed(srv: &Srv, owner: &str, state: RecipientState) -> MessageId {
    let records = Records::new(srv.state.as_ref(), &SystemClock, Duration::from_secs(3600));
    let id = MessageId::generate();
    let m = MessageRecord {
        id: id.clone(),
        origin: Origin::Mm7 { vasp: owner.into() },
        peer_message_id: None,
        peer_transaction_id: None,
        from: Address::parse("12345").unwrap(),
        subject: None,
        content_key: "in/mm7/x.mm7".into(),
        content_type: None,
        size: 1,
        received_at: SystemClock.now(),
        expires_at: None,
        delivery_report: false,
        read_report: false,
        state: MessageState::InProgress,
        recipient_count: 1,
    };
    let r = RecipientRecord {
        message_id: id.clone(),
        index: 0,
        address: Address::parse("+447700900123").unwrap(),
        state,
        direction: Some(Direction::Local),
        reason: None,
        our_transaction_id: None,
        attempts: 0,
        updated_at: Timestamp(1),
    };
    records.create_message(&m, &[r]).await.unwrap();
    id
}

fn cancel(id: &str) -> Mm7Message {
    Mm7Message::new(
        "c-1",
        Version::default(),
        Mm7Body::CancelReq(CancelReq {
            mm7_version: "6.8.0".into(),
            sender_identification: SenderIdentification::default(),
            message_id: id.into(),
        }),
    )
}

#[tokio::test]
async fn cancels_and_replaces_only_own_unretrieved_messages() {
    let srv = start(Config::demo()).await;
    let mine = seed(&srv, "demo-vasp", RecipientState::Routed).await;
    let theirs = seed(&srv, "other", RecipientState::Routed).await;
    let done = seed(&srv, "demo-vasp", RecipientState::Retrieved).await;
    let code = |a: Answer| a.code();
    assert_eq!(code(send(&srv, &cancel("nope"), None).await), 2005);
    assert_eq!(
        code(send(&srv, &cancel(&MessageId::generate().0), None).await),
        2005
    );
    assert_eq!(code(send(&srv, &cancel(theirs.as_str()), None).await), 2001);
    assert_eq!(code(send(&srv, &cancel(done.as_str()), None).await), 3001);
    assert!(srv.queue.jobs().is_empty());
    let a = send(&srv, &cancel(mine.as_str()), None).await;
    assert!(matches!(a.mm7().body, Mm7Body::CancelRsp(_)));
    assert_eq!(a.code(), 1000);
    assert!(matches!(
        srv.queue.jobs().as_slice(),
        [Job::RecipientEvent { message_id, recipient: 0, state: RecipientState::Rejected, .. }] if *message_id == mine
    ));
    let mut replace = Mm7Message::new(
        "r-1",
        Version::default(),
        Mm7Body::ReplaceReq(ReplaceReq {
            mm7_version: "6.8.0".into(),
            message_id: mine.to_string(),
            content: Some(ContentRef {
                href: "cid:new".into(),
                allow_adaptations: None,
            }),
            ..ReplaceReq::default()
        }),
    );
    replace.attachments = vec![Part::new("text/plain", Some("new"), b"v2".to_vec())];
    let a = send(&srv, &replace, None).await;
    assert!(matches!(a.mm7().body, Mm7Body::ReplaceRsp(_)));
    assert_eq!(a.code(), 1000);
    assert!(matches!(
        srv.queue.jobs().last(),
        Some(Job::Ingest { interface: Interface::Mm7, object_key, .. }) if object_key.contains(".replace-")
    ));
    if let Mm7Body::ReplaceReq(r) = &mut replace.body {
        r.message_id = theirs.to_string();
    }
    let a = send(&srv, &replace, None).await;
    assert_eq!(a.code(), 2001, "{}", a.body);
}
