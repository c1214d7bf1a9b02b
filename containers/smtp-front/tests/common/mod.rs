//! Test harness: in-memory ObjectStore / Queue doubles (with failure injection), a
//! server on an ephemeral port, and a small SMTP client that reads real replies.
#![allow(dead_code)]

use async_trait::async_trait;
use bytes::Bytes;
use mmsc_shared::config::{Config, Credentials, PartnerConfig};
use mmsc_shared::domain::{Job, Timestamp};
use mmsc_shared::ports::{
    Clock, ManualClock, ObjectError, ObjectStore, Queue, QueueError, QueueMessage, validate_key,
};
use smtp_front::SmtpFront;
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncWrite, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// 2026-11-23T10:00:00Z.
pub const NOW_SECS: i64 = 1_795_428_000;
pub const TODAY: &str = "2026-11-23";

/// The seed's sample MM4_forward.REQ (seeds/001), CRLF line endings.
pub const SEED_PDU: &[u8] = include_bytes!("../fixtures/seed_001_mm4_forward_req.eml");
pub const SEED_FROM: &str = "+447779998888/TYPE=PLMN@mms.oper.com";
pub const SEED_TO: &str = "+447778889999/TYPE=PLMN@mms.domain.com";

pub fn init_tracing() {
    let _ = tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .with_test_writer()
        .try_init();
}

// ---------------------------------------------------------------- doubles

#[derive(Default)]
pub struct MemStore {
    objects: Mutex<BTreeMap<String, (Bytes, String)>>,
    pub fail_put: AtomicBool,
    pub deleted: Mutex<Vec<String>>,
}

impl MemStore {
    pub fn keys(&self) -> Vec<String> {
        self.objects.lock().expect("lock").keys().cloned().collect()
    }
    pub fn object(&self, key: &str) -> Option<(Bytes, String)> {
        self.objects.lock().expect("lock").get(key).cloned()
    }
    pub fn len(&self) -> usize {
        self.objects.lock().expect("lock").len()
    }
}

#[async_trait]
impl ObjectStore for MemStore {
    async fn put(&self, key: &str, body: Bytes, content_type: &str) -> Result<(), ObjectError> {
        validate_key(key)?;
        if self.fail_put.load(Ordering::SeqCst) {
            return Err(ObjectError::Backend("injected put failure".into()));
        }
        self.objects
            .lock()
            .expect("lock")
            .insert(key.to_string(), (body, content_type.to_string()));
        Ok(())
    }
    async fn get(&self, key: &str) -> Result<Option<Bytes>, ObjectError> {
        validate_key(key)?;
        Ok(self
            .objects
            .lock()
            .expect("lock")
            .get(key)
            .map(|(b, _)| b.clone()))
    }
    async fn delete(&self, key: &str) -> Result<(), ObjectError> {
        validate_key(key)?;
        self.objects.lock().expect("lock").remove(key);
        self.deleted.lock().expect("lock").push(key.to_string());
        Ok(())
    }
}

pub struct Sent {
    pub queue: String,
    pub body: Vec<u8>,
    pub delay: Duration,
}

#[derive(Default)]
pub struct MemQueue {
    sent: Mutex<Vec<Sent>>,
    next_id: AtomicU64,
    pub fail_send: AtomicBool,
}

impl MemQueue {
    pub fn jobs(&self) -> Vec<(String, Job, Duration)> {
        self.sent
            .lock()
            .expect("lock")
            .iter()
            .map(|s| {
                (
                    s.queue.clone(),
                    Job::from_bytes(&s.body).expect("job decodes"),
                    s.delay,
                )
            })
            .collect()
    }
    pub fn len(&self) -> usize {
        self.sent.lock().expect("lock").len()
    }
}

#[async_trait]
impl Queue for MemQueue {
    async fn send(&self, queue: &str, body: &[u8], delay: Duration) -> Result<String, QueueError> {
        if self.fail_send.load(Ordering::SeqCst) {
            return Err(QueueError::Backend("injected send failure".into()));
        }
        let id = self.next_id.fetch_add(1, Ordering::SeqCst).to_string();
        self.sent.lock().expect("lock").push(Sent {
            queue: queue.to_string(),
            body: body.to_vec(),
            delay,
        });
        Ok(id)
    }
    async fn receive(
        &self,
        queue: &str,
        max: usize,
        _visibility: Duration,
        _wait: Duration,
    ) -> Result<Vec<QueueMessage>, QueueError> {
        let mut sent = self.sent.lock().expect("lock");
        let mut out = Vec::new();
        let mut i = 0;
        while i < sent.len() && out.len() < max {
            if sent[i].queue == queue {
                let s = sent.remove(i);
                let id = self.next_id.fetch_add(1, Ordering::SeqCst).to_string();
                out.push(QueueMessage {
                    id: id.clone(),
                    receipt: id,
                    body: s.body,
                    receive_count: 1,
                });
            } else {
                i += 1;
            }
        }
        Ok(out)
    }
    async fn delete(&self, _queue: &str, _receipt: &str) -> Result<(), QueueError> {
        Ok(())
    }
    async fn set_visibility(
        &self,
        _queue: &str,
        _receipt: &str,
        _visibility: Duration,
    ) -> Result<(), QueueError> {
        Ok(())
    }
    async fn depth(&self, queue: &str) -> Result<u64, QueueError> {
        Ok(self
            .sent
            .lock()
            .expect("lock")
            .iter()
            .filter(|s| s.queue == queue)
            .count() as u64)
    }
}

// ---------------------------------------------------------------- configs

/// The demo config (loopback = partner "demo", every number local) with a
/// predictable hostname.
pub fn demo_config() -> Config {
    let mut c = Config::demo();
    c.mmsc.domain = "mms.example.net".into();
    c.smtp.hostname = Some("mmsc.test".into());
    c
}

pub fn partner(name: &str, nets: &[&str], auth: Option<(&str, &str)>) -> PartnerConfig {
    PartnerConfig {
        name: name.into(),
        domain: format!("mms.{name}.example"),
        smtp_host: Some("127.0.0.1:2626".into()),
        allowed_networks: nets.iter().map(|n| n.parse().expect("net")).collect(),
        inbound_auth: auth.map(|(u, p)| Credentials {
            username: u.into(),
            password: p.into(),
        }),
        ..PartnerConfig::default()
    }
}

// ---------------------------------------------------------------- server

pub struct TestServer {
    pub addr: SocketAddr,
    pub store: Arc<MemStore>,
    pub queue: Arc<MemQueue>,
    shutdown: watch::Sender<bool>,
    handle: JoinHandle<std::io::Result<()>>,
}

impl TestServer {
    pub async fn start(config: Config) -> TestServer {
        Self::start_with(config, |f| f).await
    }

    pub async fn start_with(
        config: Config,
        tune: impl FnOnce(SmtpFront) -> SmtpFront,
    ) -> TestServer {
        init_tracing();
        let store = Arc::new(MemStore::default());
        let queue = Arc::new(MemQueue::default());
        let clock: Arc<dyn Clock> = Arc::new(ManualClock::new(Timestamp::from_unix_secs(NOW_SECS)));
        let front = SmtpFront::new(
            Arc::new(config),
            store.clone() as Arc<dyn ObjectStore>,
            queue.clone() as Arc<dyn Queue>,
            clock,
        )
        .expect("front builds");
        let front = Arc::new(tune(front));
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        let (tx, rx) = watch::channel(false);
        let handle = tokio::spawn(front.serve(listener, rx));
        TestServer {
            addr,
            store,
            queue,
            shutdown: tx,
            handle,
        }
    }

    pub async fn client(&self) -> Client<TcpStream> {
        Client::connect(self.addr).await
    }

    /// Signals shutdown and waits for `serve` to return.
    pub async fn stop(self) {
        let _ = self.shutdown.send(true);
        tokio::time::timeout(Duration::from_secs(30), self.handle)
            .await
            .expect("serve returns after shutdown")
            .expect("serve task")
            .expect("serve ok");
    }

    pub fn signal_shutdown(&self) {
        let _ = self.shutdown.send(true);
    }

    pub async fn join(self) {
        tokio::time::timeout(Duration::from_secs(30), self.handle)
            .await
            .expect("serve returns")
            .expect("serve task")
            .expect("serve ok");
    }
}

// ---------------------------------------------------------------- client

#[derive(Debug, Clone)]
pub struct Reply {
    pub code: u16,
    pub lines: Vec<String>,
}

impl Reply {
    pub fn text(&self) -> String {
        self.lines.join("\n")
    }
    /// The text of the last line after the code.
    pub fn last(&self) -> &str {
        self.lines
            .last()
            .map(|l| l.get(4..).unwrap_or(""))
            .unwrap_or("")
    }
}

pub struct Client<S> {
    pub io: BufReader<S>,
}

pub const REPLY_TIMEOUT: Duration = Duration::from_secs(10);

impl Client<TcpStream> {
    pub async fn connect(addr: SocketAddr) -> Client<TcpStream> {
        let s = TcpStream::connect(addr).await.expect("connect");
        Client {
            io: BufReader::new(s),
        }
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> Client<S> {
    pub fn new(s: S) -> Self {
        Client {
            io: BufReader::new(s),
        }
    }

    pub async fn send(&mut self, bytes: &[u8]) {
        self.io.get_mut().write_all(bytes).await.expect("write");
        self.io.get_mut().flush().await.expect("flush");
    }

    /// Reads one (possibly multi-line) reply; panics on EOF or timeout.
    pub async fn reply(&mut self) -> Reply {
        self.try_reply(REPLY_TIMEOUT)
            .await
            .unwrap_or_else(|| panic!("no reply within {REPLY_TIMEOUT:?}"))
    }

    /// `None` on EOF (or timeout).
    pub async fn try_reply(&mut self, wait: Duration) -> Option<Reply> {
        let mut lines = Vec::new();
        loop {
            let mut line = String::new();
            let n = tokio::time::timeout(wait, self.io.read_line(&mut line))
                .await
                .ok()?
                .ok()?;
            if n == 0 {
                return None;
            }
            let line = line.trim_end_matches(['\r', '\n']).to_string();
            assert!(line.len() >= 3, "short reply line {line:?}");
            let code: u16 = line[..3].parse().expect("reply code");
            let more = line.as_bytes().get(3) == Some(&b'-');
            lines.push(line);
            if !more {
                return Some(Reply { code, lines });
            }
        }
    }

    /// Sends one command line and reads its reply.
    pub async fn cmd(&mut self, line: &str) -> Reply {
        self.send(format!("{line}\r\n").as_bytes()).await;
        self.reply().await
    }

    /// Sends a command and asserts the reply code; returns the reply.
    pub async fn expect(&mut self, line: &str, code: u16) -> Reply {
        let r = self.cmd(line).await;
        assert_eq!(r.code, code, "{line:?} -> {}", r.text());
        r
    }

    /// True when the server has closed the connection (EOF within `wait`).
    pub async fn closed(&mut self, wait: Duration) -> bool {
        let mut buf = String::new();
        matches!(
            tokio::time::timeout(wait, self.io.read_line(&mut buf)).await,
            Ok(Ok(0)) | Ok(Err(_))
        )
    }

    /// Sends DATA, the message (dot-stuffed), the end marker; returns the final reply.
    pub async fn data(&mut self, message: &[u8]) -> Reply {
        self.expect("DATA", 354).await;
        self.send(&dot_stuff(message)).await;
        self.send(b".\r\n").await;
        self.reply().await
    }

    /// A complete transaction after EHLO: MAIL, RCPTs, DATA.
    pub async fn transaction(&mut self, from: &str, to: &[&str], message: &[u8]) -> Reply {
        self.expect(&format!("MAIL FROM:<{from}>"), 250).await;
        for t in to {
            self.expect(&format!("RCPT TO:<{t}>"), 250).await;
        }
        self.data(message).await
    }
}

/// Dot-stuffs a message and makes sure it ends with CRLF.
pub fn dot_stuff(message: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(message.len() + 16);
    let mut at_line_start = true;
    for &b in message {
        if at_line_start && b == b'.' {
            out.push(b'.');
        }
        out.push(b);
        at_line_start = b == b'\n';
    }
    if !out.ends_with(b"\r\n") {
        out.extend_from_slice(b"\r\n");
    }
    out
}

/// The object id in `250 2.0.0 Ok: queued as <id>`.
pub fn queued_id(r: &Reply) -> String {
    assert_eq!(r.code, 250, "{}", r.text());
    r.last()
        .rsplit(' ')
        .next()
        .expect("queued as <id>")
        .to_string()
}
