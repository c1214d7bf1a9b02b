//! Outbound MM4 (3GPP TS 23.140 §8.4): sends PDUs to partner MMSCs over SMTP with
//! lettre's async SMTP client.
//!
//! One small connection pool per partner that has an `smtp_host`:
//!
//! * at most `max_connections` SMTP sessions are open to a partner at any moment
//!   (NowSMS "Max Connections"); further sends wait for a free session;
//! * a session is reused for later sends after a successful transaction (checked with
//!   `NOOP` first); one idle for longer than [`IDLE_TIMEOUT`] is closed instead, at
//!   the next send or at [`SmtpMm4Transport::shutdown`] (there is no reaper task);
//! * `connect_timeout_secs` bounds the TCP connect, and a whole send (waiting for a
//!   session, connecting, TLS, AUTH and the transaction) is bounded by the send
//!   timeout: [`DEFAULT_SEND_TIMEOUT`], or three quarters of the queue visibility
//!   timeout when that is shorter (see [`SmtpMm4Transport::with_send_timeout`]).
//!
//! This is built on lettre's `AsyncSmtpConnection` rather than `AsyncSmtpTransport`:
//! lettre's pool `max_size` only caps *idle* connections (concurrent sends each open
//! their own), its async client has no timeout after the TCP connect, and a send
//! cancelled by an outer timeout could hand a half-finished session back to its pool.
//!
//! Error classes ([`TransportError`]):
//!
//! * a 4xx reply to MAIL, RCPT or DATA: `Transient("451 4.3.0 ...")`;
//! * a 5xx reply to MAIL, RCPT or DATA: `Permanent("550 5.7.1 ...")`;
//! * anything that goes wrong *before* the transaction (connect, greeting, EHLO,
//!   STARTTLS, TLS handshake, AUTH — even with a 5xx reply), a `530` (authentication
//!   required, RFC 4954) and timeouts: `Transient`. That follows Postfix's defaults
//!   (`smtp_sasl_auth_soft_bounce`, a TLS-required destination that offers no
//!   STARTTLS is deferred): such failures are about our link with the partner, not
//!   about the message, and must not bounce it;
//! * an envelope address lettre cannot put on the wire safely: `Permanent`, before
//!   connecting.
//!
//! The message is sent with CRLF line endings: bare LF and bare CR are turned into
//! CRLF (SMTP forbids them, and lenient receivers disagree on them — the root of
//! "SMTP smuggling"). A message that ends in CRLF arrives byte for byte; one that does
//! not gets a final CRLF (SMTP's end of data implies it).
//!
//! Message bodies are never logged. lettre's own wire logging needs its `tracing`
//! feature, which this workspace does not enable; enabling it would log every byte
//! sent at DEBUG.

use crate::config::{Config, StartTls};
use crate::ports::{Envelope, Mm4Transport, TransportError};
use async_trait::async_trait;
use lettre::Address;
use lettre::transport::smtp::authentication::{Credentials, Mechanism};
use lettre::transport::smtp::client::{AsyncSmtpConnection, TlsParameters};
use lettre::transport::smtp::extension::ClientId;
use lettre::transport::smtp::response::Response;
use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};
use std::time::Duration;
use tokio::sync::Semaphore;
use tokio::time::{Instant, timeout_at};
use tracing::Instrument;

/// Longest default bound on one whole send (see [`SmtpMm4Transport::with_send_timeout`]).
pub const DEFAULT_SEND_TIMEOUT: Duration = Duration::from_secs(120);

/// An idle session unused for this long is closed instead of reused.
pub const IDLE_TIMEOUT: Duration = Duration::from_secs(60);

/// Mechanisms we offer, in order of preference, when a partner has `outbound_auth`.
const AUTH_MECHANISMS: [Mechanism; 2] = [Mechanism::Plain, Mechanism::Login];

/// Why [`SmtpMm4Transport::new`] refused a configuration; names the offending key.
#[derive(Debug, thiserror::Error)]
pub enum SmtpOutError {
    #[error("{key}: {message}")]
    Config { key: String, message: String },
    #[error("{key}: cannot set up TLS: {source}")]
    Tls {
        key: String,
        #[source]
        source: lettre::transport::smtp::Error,
    },
}

/// [`Mm4Transport`] over SMTP to the partners of a [`Config`].
pub struct SmtpMm4Transport {
    partners: HashMap<String, Partner>,
    send_timeout: Duration,
}

impl std::fmt::Debug for SmtpMm4Transport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut names: Vec<&str> = self.partners.keys().map(String::as_str).collect();
        names.sort_unstable();
        f.debug_struct("SmtpMm4Transport")
            .field("partners", &names)
            .field("send_timeout", &self.send_timeout)
            .finish()
    }
}

impl SmtpMm4Transport {
    /// One connection pool per partner; `helo_name` is what we say in EHLO (usually
    /// [`Config::smtp_hostname`]). Connects to nobody yet. Partners without
    /// `smtp_host` are known but cannot be sent to (a send gets `Permanent`).
    pub fn new(config: &Config, helo_name: &str) -> Result<Self, SmtpOutError> {
        let helo = helo_name.trim();
        if helo.is_empty() || helo.bytes().any(|b| b.is_ascii_whitespace() || b < 0x21) {
            return Err(SmtpOutError::Config {
                key: "helo_name".into(),
                message: format!("{helo_name:?} is not a host name for EHLO"),
            });
        }
        let hello = match helo.parse::<std::net::IpAddr>() {
            Ok(std::net::IpAddr::V4(ip)) => ClientId::Ipv4(ip),
            Ok(std::net::IpAddr::V6(ip)) => ClientId::Ipv6(ip),
            Err(_) => ClientId::Domain(helo.to_string()),
        };
        let mut partners = HashMap::new();
        for (i, p) in config.partners.iter().enumerate() {
            let key = |k: &str| format!("partners[{i}].{k}");
            let endpoint = match &p.smtp_host {
                None => None,
                Some(h) => {
                    let (host, port) =
                        crate::config::parse_host_port(h, 25).map_err(|message| {
                            SmtpOutError::Config {
                                key: key("smtp_host"),
                                message,
                            }
                        })?;
                    if p.max_connections == 0 {
                        return Err(SmtpOutError::Config {
                            key: key("max_connections"),
                            message: "must be at least 1".into(),
                        });
                    }
                    if p.connect_timeout_secs == 0 {
                        return Err(SmtpOutError::Config {
                            key: key("connect_timeout_secs"),
                            message: "must be above 0".into(),
                        });
                    }
                    let tls = match p.starttls {
                        StartTls::Never => TlsMode::Never,
                        StartTls::Opportunistic => {
                            TlsMode::Opportunistic(tls_parameters(&host, p.tls_insecure, &key)?)
                        }
                        StartTls::Required => {
                            TlsMode::Required(tls_parameters(&host, p.tls_insecure, &key)?)
                        }
                    };
                    Some(Endpoint {
                        host,
                        port,
                        hello: hello.clone(),
                        tls,
                        credentials: p
                            .outbound_auth
                            .as_ref()
                            .map(|c| Credentials::new(c.username.clone(), c.password.clone())),
                        connect_timeout: Duration::from_secs(p.connect_timeout_secs),
                        max_connections: p.max_connections,
                        slots: Semaphore::new(p.max_connections),
                        idle: Mutex::new(Vec::new()),
                    })
                }
            };
            if partners
                .insert(p.name.clone(), Partner { endpoint })
                .is_some()
            {
                return Err(SmtpOutError::Config {
                    key: key("name"),
                    message: format!("duplicate partner name {:?}", p.name),
                });
            }
        }
        // A send still running when its job becomes visible again would let another
        // worker send the same PDU.
        let visibility = config.visibility_timeout();
        let send_timeout = DEFAULT_SEND_TIMEOUT.min(visibility - visibility / 4);
        Ok(SmtpMm4Transport {
            partners,
            send_timeout,
        })
    }

    /// Bounds a whole send: waiting for a free session, connecting, STARTTLS, AUTH
    /// and the transaction. Keep it below the queue's visibility timeout, or a slow
    /// partner gets the same PDU twice. A send that times out after the partner took
    /// the message may still be delivered twice (as with any SMTP client).
    pub fn with_send_timeout(mut self, send_timeout: Duration) -> Self {
        self.send_timeout = send_timeout;
        self
    }

    /// The bound on one whole send.
    pub fn send_timeout(&self) -> Duration {
        self.send_timeout
    }

    /// Says QUIT on every idle session. Sends still running are not affected.
    pub async fn shutdown(&self) {
        for p in self.partners.values() {
            if let Some(e) = &p.endpoint {
                for mut c in e.take_all_idle() {
                    c.conn.abort().await;
                }
            }
        }
    }
}

struct Partner {
    /// `None` when the partner has no `smtp_host`.
    endpoint: Option<Endpoint>,
}

enum TlsMode {
    Never,
    Opportunistic(TlsParameters),
    Required(TlsParameters),
}

struct Endpoint {
    host: String,
    port: u16,
    hello: ClientId,
    tls: TlsMode,
    credentials: Option<Credentials>,
    connect_timeout: Duration,
    max_connections: usize,
    /// One permit per session in use. A session is only opened by a permit holder
    /// that found no idle one, so open sessions never exceed `max_connections`.
    slots: Semaphore,
    idle: Mutex<Vec<IdleConnection>>,
}

struct IdleConnection {
    conn: AsyncSmtpConnection,
    since: Instant,
}

fn tls_parameters(
    host: &str,
    insecure: bool,
    key: &dyn Fn(&str) -> String,
) -> Result<TlsParameters, SmtpOutError> {
    TlsParameters::builder(host.to_string())
        .dangerous_accept_invalid_certs(insecure)
        .dangerous_accept_invalid_hostnames(insecure)
        .build()
        .map_err(|source| SmtpOutError::Tls {
            key: key(if insecure { "tls_insecure" } else { "starttls" }),
            source,
        })
}

/// Where in the session an error happened: before MAIL FROM or in the transaction.
#[derive(Clone, Copy)]
enum Phase {
    Setup(&'static str),
    Transaction,
}

impl Endpoint {
    fn addr(&self) -> String {
        if self.host.contains(':') {
            format!("[{}]:{}", self.host, self.port)
        } else {
            format!("{}:{}", self.host, self.port)
        }
    }

    fn take_all_idle(&self) -> Vec<IdleConnection> {
        std::mem::take(&mut *self.idle.lock().unwrap_or_else(PoisonError::into_inner))
    }

    fn pop_idle(&self) -> Option<IdleConnection> {
        self.idle
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .pop()
    }

    fn park(&self, conn: AsyncSmtpConnection) {
        let mut idle = self.idle.lock().unwrap_or_else(PoisonError::into_inner);
        if idle.len() < self.max_connections {
            idle.push(IdleConnection {
                conn,
                since: Instant::now(),
            });
        }
        // else: dropped, which closes the socket. Cannot happen while the permit
        // invariant holds.
    }

    /// A live idle session, or `None` when a new one has to be opened.
    async fn reuse(&self) -> Option<AsyncSmtpConnection> {
        while let Some(IdleConnection { mut conn, since }) = self.pop_idle() {
            if since.elapsed() <= IDLE_TIMEOUT && conn.test_connected().await {
                tracing::debug!("reusing an idle session");
                return Some(conn);
            }
            conn.abort().await;
        }
        None
    }

    async fn connect(
        &self,
    ) -> Result<AsyncSmtpConnection, (Phase, lettre::transport::smtp::Error)> {
        tracing::debug!(server = %self.addr(), "opening a session");
        let mut conn = AsyncSmtpConnection::connect_tokio1(
            (self.host.as_str(), self.port),
            Some(self.connect_timeout),
            &self.hello,
            None,
            None,
        )
        .await
        .map_err(|e| (Phase::Setup("connect"), e))?;
        let tls = match &self.tls {
            TlsMode::Never => None,
            TlsMode::Opportunistic(t) if conn.can_starttls() => Some(t),
            TlsMode::Opportunistic(_) => None,
            TlsMode::Required(t) => Some(t),
        };
        if let Some(t) = tls
            && let Err(e) = conn.starttls(t.clone(), &self.hello).await
        {
            // Dropped, not aborted: after a failed handshake lettre has no stream
            // left, and writing QUIT to it trips a debug assertion in lettre 0.11.
            return Err((Phase::Setup("STARTTLS"), e));
        }
        if let Some(c) = &self.credentials
            && let Err(e) = conn.auth(&AUTH_MECHANISMS, c).await
        {
            conn.abort().await;
            return Err((Phase::Setup("AUTH"), e));
        }
        Ok(conn)
    }

    async fn send(
        &self,
        envelope: &lettre::address::Envelope,
        body: &[u8],
        deadline: Instant,
        send_timeout: Duration,
    ) -> Result<Response, TransportError> {
        let timed_out = |what: &str| {
            TransportError::Transient(format!(
                "{}: timed out after {}s {what}",
                self.addr(),
                send_timeout.as_secs_f32()
            ))
        };
        let _permit = timeout_at(deadline, self.slots.acquire())
            .await
            .map_err(|_| timed_out("waiting for a free session"))?
            .map_err(|_| TransportError::Transient("transport is shut down".into()))?;
        let outcome = timeout_at(deadline, async {
            let mut conn = match self.reuse().await {
                Some(c) => c,
                None => self.connect().await?,
            };
            match conn.send(envelope, body).await {
                Ok(reply) => {
                    if !conn.has_broken() {
                        self.park(conn);
                    }
                    Ok(reply)
                }
                Err(e) => {
                    conn.abort().await;
                    Err((Phase::Transaction, e))
                }
            }
        })
        .await
        // On timeout the session is dropped mid-way (socket closed), never reused.
        .map_err(|_| timed_out("before the final reply"))?;
        outcome.map_err(|(phase, e)| classify(&self.addr(), phase, &e))
    }
}

/// `"550 5.7.1 text"` for a reply error, lettre's description otherwise.
fn describe(e: &lettre::transport::smtp::Error) -> String {
    match (e.status(), std::error::Error::source(e)) {
        (Some(code), Some(text)) => format!("{code} {text}"),
        (Some(code), None) => code.to_string(),
        // lettre nests connection errors: "Connection error: Connection error: ...".
        _ => e
            .to_string()
            .replace("Connection error: Connection error: ", "Connection error: "),
    }
}

fn classify(addr: &str, phase: Phase, e: &lettre::transport::smtp::Error) -> TransportError {
    // RFC 4954 §6: "530 5.7.0 Authentication required" answers MAIL when the partner
    // wants AUTH and we have no credentials for it: a setup problem, not the message's.
    let auth_required = e.status().map(u16::from) == Some(530);
    match phase {
        Phase::Transaction if e.is_permanent() && !auth_required => {
            TransportError::Permanent(describe(e))
        }
        Phase::Transaction if e.is_transient() => TransportError::Transient(describe(e)),
        Phase::Transaction => TransportError::Transient(format!("{addr}: {}", describe(e))),
        Phase::Setup(step) => TransportError::Transient(format!("{addr}: {step}: {}", describe(e))),
    }
}

fn reply_text(r: &Response) -> String {
    let mut s = r.code().to_string();
    for line in r.message() {
        s.push(' ');
        s.push_str(line);
    }
    s
}

/// The text of an address for an error: the domain only, as local parts of MM4
/// addresses are phone numbers.
fn redacted(addr: &str) -> String {
    match addr.rsplit_once('@') {
        Some((_, domain)) => format!("…@{domain}"),
        None => "(no @)".into(),
    }
}

/// An MM4 address as lettre sends it. `+447779998888/TYPE=PLMN@mms.oper.com` is a
/// plain dot-atom; a local part that is not one (an IPv6 `fe80::1/TYPE=IPv6`) is sent
/// as a quoted string, as RFC 5321 requires. Refused: no `@`, a local part over 64
/// octets, control characters, a bad domain.
fn to_address(which: &str, raw: &str) -> Result<Address, TransportError> {
    let a = raw.trim();
    let a = a
        .strip_prefix('<')
        .and_then(|s| s.strip_suffix('>'))
        .unwrap_or(a);
    let refuse = |why: String| {
        TransportError::Permanent(format!(
            "{which} {} cannot be sent over SMTP: {why}",
            redacted(a)
        ))
    };
    if a.bytes().any(|b| b.is_ascii_control()) {
        return Err(refuse("control characters".into()));
    }
    let (local, domain) = a
        .rsplit_once('@')
        .ok_or_else(|| refuse("no @domain".into()))?;
    match Address::new(local, domain) {
        Ok(addr) => Ok(addr),
        Err(lettre::address::AddressError::InvalidUser)
            if !local.starts_with('"') && local.bytes().all(|b| (0x20..0x7f).contains(&b)) =>
        {
            let mut quoted = String::with_capacity(local.len() + 2);
            quoted.push('"');
            for c in local.chars() {
                if c == '"' || c == '\\' {
                    quoted.push('\\');
                }
                quoted.push(c);
            }
            quoted.push('"');
            Address::new(&quoted, domain).map_err(|e| refuse(e.to_string()))
        }
        Err(e) => Err(refuse(e.to_string())),
    }
}

/// lettre's envelope for ours; an empty `mail_from` (or `<>`) is the null
/// reverse-path.
fn to_envelope(e: &Envelope) -> Result<lettre::address::Envelope, TransportError> {
    let from = match e.mail_from.trim() {
        "" | "<>" => None,
        f => Some(to_address("MAIL FROM", f)?),
    };
    let to = e
        .rcpt_to
        .iter()
        .enumerate()
        .map(|(i, r)| to_address(&format!("RCPT TO[{i}]"), r))
        .collect::<Result<Vec<_>, _>>()?;
    lettre::address::Envelope::new(from, to)
        .map_err(|e| TransportError::Permanent(format!("bad envelope: {e}")))
}

/// The message with every line ending CRLF, less one final CRLF (lettre's end of
/// data, `CRLF . CRLF`, supplies it). Borrows when nothing changes.
fn wire_body(message: &[u8]) -> Cow<'_, [u8]> {
    let clean = message.iter().enumerate().all(|(i, &b)| match b {
        b'\r' => message.get(i + 1) == Some(&b'\n'),
        b'\n' => i > 0 && message[i - 1] == b'\r',
        _ => true,
    });
    let mut body: Cow<'_, [u8]> = if clean {
        Cow::Borrowed(message)
    } else {
        let mut out = Vec::with_capacity(message.len() + message.len() / 32 + 2);
        let mut i = 0;
        while i < message.len() {
            match message[i] {
                b'\r' => {
                    out.extend_from_slice(b"\r\n");
                    if message.get(i + 1) == Some(&b'\n') {
                        i += 1;
                    }
                }
                b'\n' => out.extend_from_slice(b"\r\n"),
                b => out.push(b),
            }
            i += 1;
        }
        Cow::Owned(out)
    };
    if body.ends_with(b"\r\n") {
        match &mut body {
            Cow::Borrowed(b) => *b = &b[..b.len() - 2],
            Cow::Owned(v) => v.truncate(v.len() - 2),
        }
    }
    body
}

#[async_trait]
impl Mm4Transport for SmtpMm4Transport {
    async fn send(
        &self,
        partner: &str,
        envelope: &Envelope,
        message: &[u8],
    ) -> Result<String, TransportError> {
        let span = tracing::info_span!(
            "mm4_send",
            partner,
            size = message.len(),
            rcpts = envelope.rcpt_to.len()
        );
        async {
            let deadline = Instant::now() + self.send_timeout;
            let p = self
                .partners
                .get(partner)
                .ok_or_else(|| TransportError::UnknownPartner(partner.to_string()))?;
            let endpoint = p.endpoint.as_ref().ok_or_else(|| {
                TransportError::Permanent(format!("partner {partner:?} has no smtp_host"))
            })?;
            let env = to_envelope(envelope)?;
            let body = wire_body(message);
            let result = endpoint
                .send(&env, &body, deadline, self.send_timeout)
                .await
                .map(|r| reply_text(&r));
            match &result {
                Ok(reply) => tracing::info!(%reply, "partner accepted the PDU"),
                Err(e) => tracing::warn!(error = %e, "partner did not accept the PDU"),
            }
            result
        }
        .instrument(span)
        .await
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use crate::config::{Credentials as AuthConfig, PartnerConfig};
    use std::io::{BufRead, BufReader};
    use std::path::{Path, PathBuf};
    use std::process::{Child, Command, ExitStatus, Stdio};
    use std::sync::Arc;

    /// The sample MM4_forward.REQ of the NowSMS MM4 notes (seed 001), as printed there.
    const SEED_MM4_FORWARD_REQ: &str = "X-Mms-3GPP-MMS-Version: 5.9.0
X-Mms-Message-Type: MM4_forward.REQ
X-Mms-Transaction-ID: \"60755231.94578772@mmsc\"
X-Mms-Message-ID: \"148478240@mmsc.hub\"
X-Mms-Ack-Request: Yes
X-Mms-Originator-System: system-user@mmsc.hub
Message-ID: <60755231.94578772@mmsc>
Date: Tue, 8 May 2007 12:18:32 +0300
To: +447778889999/TYPE=PLMN@mms.domain.com
From: +447779998888/TYPE=PLMN@mms.oper.com
Subject: News for today
Content-Type: multipart/mixed; boundary=\"StoryParts-74526-8432-2002-77645\"
Content-ID: <SaturnPics-01020930@news.tnn.com>
--StoryParts-74526-8432-2002-77645
Content-Type: text/plain; charset=\"us-ascii\"
Science news, new Saturn pictures...
--StoryParts-74526-8432-2002-77645
Content-Type: image/gif
Content-ID:<saturn.gif>
Content-Transfer-Encoding: base64
R01GODdhZAAwAOMAAAAAIGJjGltcDE00OfWo6Ochbi1n1pmcbGojpKbnP/lpW54fBMTE1RYXEFO
--StoryParts-74526-8432-2002-77645--
";

    const FROM: &str = "+447779998888/TYPE=PLMN@mms.oper.com";
    const TO: &str = "+447778889999/TYPE=PLMN@mms.domain.com";

    /// The seed sample with CRLF line endings (the seed has LF only).
    fn seed_pdu() -> Vec<u8> {
        SEED_MM4_FORWARD_REQ
            .lines()
            .flat_map(|l| [l.as_bytes(), b"\r\n"].concat())
            .collect()
    }

    fn envelope() -> Envelope {
        Envelope {
            mail_from: FROM.into(),
            rcpt_to: vec![TO.into()],
        }
    }

    // ---- the python sink -------------------------------------------------------

    fn sink_script() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/peers/smtp_sink.py")
    }

    /// True when python3 with aiosmtpd is here. Otherwise fails under CI=true and
    /// skips (loudly) elsewhere.
    fn peer_available(test: &str) -> bool {
        let ok = Command::new("python3")
            .args(["-c", "import aiosmtpd"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        if ok {
            return true;
        }
        if std::env::var("CI").is_ok_and(|v| v == "true") {
            panic!("{test}: python3 with aiosmtpd is required; run tests/setup-peers.sh");
        }
        eprintln!(
            "\n*** SKIP {test}: python3 with aiosmtpd not found; run tests/setup-peers.sh ***\n"
        );
        false
    }

    struct Sink {
        child: Option<Child>,
        port: u16,
        dir: tempfile::TempDir,
    }

    impl Sink {
        fn start(args: &[&str]) -> Sink {
            let dir = tempfile::tempdir().unwrap();
            let mut child = Command::new("python3")
                .arg(sink_script())
                .args(["--port", "0", "--dir"])
                .arg(dir.path().join("mail"))
                .args(args)
                .stdin(Stdio::null())
                .stdout(Stdio::piped())
                .stderr(Stdio::inherit())
                .spawn()
                .unwrap();
            let stdout = child.stdout.take().unwrap();
            let (tx, rx) = std::sync::mpsc::channel();
            std::thread::spawn(move || {
                let mut line = String::new();
                let _ = BufReader::new(stdout).read_line(&mut line);
                let _ = tx.send(line);
            });
            let line = rx.recv_timeout(Duration::from_secs(20)).unwrap_or_default();
            let port = line
                .strip_prefix("READY ")
                .and_then(|p| p.trim().parse().ok());
            let mut sink = Sink {
                child: Some(child),
                port: 0,
                dir,
            };
            match port {
                Some(p) => sink.port = p,
                None => panic!("smtp_sink.py did not start: {line:?}"),
            }
            sink
        }

        fn mail_dir(&self) -> PathBuf {
            self.dir.path().join("mail")
        }

        fn eml(&self, n: usize) -> Vec<u8> {
            std::fs::read(self.mail_dir().join(format!("{n}.eml"))).unwrap()
        }

        fn meta(&self, n: usize) -> serde_json::Value {
            let text = std::fs::read(self.mail_dir().join(format!("{n}.json"))).unwrap();
            serde_json::from_slice(&text).unwrap()
        }

        fn stored(&self) -> usize {
            std::fs::read_dir(self.mail_dir()).map_or(0, |d| {
                d.filter_map(Result::ok)
                    .filter(|e| e.path().extension().is_some_and(|x| x == "eml"))
                    .count()
            })
        }

        /// SIGTERM (by pid), then the exit status.
        fn stop(&mut self) -> Option<ExitStatus> {
            let mut child = self.child.take()?;
            let _ = Command::new("kill")
                .args(["-TERM", &child.id().to_string()])
                .status();
            for _ in 0..100 {
                if let Ok(Some(status)) = child.try_wait() {
                    return Some(status);
                }
                std::thread::sleep(Duration::from_millis(50));
            }
            let _ = child.kill();
            child.wait().ok()
        }
    }

    impl Drop for Sink {
        fn drop(&mut self) {
            self.stop();
        }
    }

    fn partner(name: &str, port: u16) -> PartnerConfig {
        PartnerConfig {
            name: name.into(),
            domain: format!("mms.{name}.test"),
            smtp_host: Some(format!("127.0.0.1:{port}")),
            starttls: StartTls::Never,
            connect_timeout_secs: 5,
            ..PartnerConfig::default()
        }
    }

    fn transport(partners: Vec<PartnerConfig>) -> SmtpMm4Transport {
        let config = Config {
            partners,
            ..Config::default()
        };
        SmtpMm4Transport::new(&config, "mmsc.example.net")
            .unwrap()
            .with_send_timeout(Duration::from_secs(20))
    }

    /// A PEM certificate and key for 127.0.0.1 written into `dir`.
    fn self_signed(dir: &Path) -> (String, String) {
        let ck = rcgen::generate_simple_self_signed(vec!["127.0.0.1".into(), "localhost".into()])
            .unwrap();
        let cert = dir.join("cert.pem");
        let key = dir.join("key.pem");
        std::fs::write(&cert, ck.cert.pem()).unwrap();
        std::fs::write(&key, ck.signing_key.serialize_pem()).unwrap();
        (cert.display().to_string(), key.display().to_string())
    }

    // ---- sending -----------------------------------------------------------------

    #[tokio::test]
    async fn sends_the_seed_mm4_forward_req_byte_for_byte() {
        if !peer_available("sends_the_seed_mm4_forward_req_byte_for_byte") {
            return;
        }
        let mut sink = Sink::start(&[]);
        let t = transport(vec![partner("oper", sink.port)]);
        let pdu = seed_pdu();
        let reply = t.send("oper", &envelope(), &pdu).await.unwrap();
        assert_eq!(reply, "250 2.0.0 Ok: queued as SINK1");
        let meta = sink.meta(1);
        assert_eq!(meta["mail_from"], FROM);
        assert_eq!(meta["rcpt_tos"], serde_json::json!([TO]));
        assert_eq!(meta["peer"][0], "127.0.0.1");
        assert_eq!(meta["tls"], false);
        assert_eq!(sink.eml(1), pdu);
        assert!(
            sink.stop().is_some_and(|s| s.success()),
            "sink exits 0 on SIGTERM"
        );
    }

    #[tokio::test]
    async fn normalises_line_endings_and_keeps_leading_dots() {
        if !peer_available("normalises_line_endings_and_keeps_leading_dots") {
            return;
        }
        let sink = Sink::start(&[]);
        let t = transport(vec![partner("oper", sink.port)]);
        let sloppy = b"Subject: dots\n\n.leading dot\r\n..two\rbare cr\n.\nend";
        t.send("oper", &envelope(), sloppy).await.unwrap();
        assert_eq!(
            sink.eml(1),
            b"Subject: dots\r\n\r\n.leading dot\r\n..two\r\nbare cr\r\n.\r\nend\r\n"
        );
    }

    #[tokio::test]
    async fn reuses_the_session_for_later_sends() {
        if !peer_available("reuses_the_session_for_later_sends") {
            return;
        }
        let sink = Sink::start(&[]);
        let t = transport(vec![partner("oper", sink.port)]);
        for _ in 0..3 {
            t.send("oper", &envelope(), &seed_pdu()).await.unwrap();
        }
        let ports: std::collections::HashSet<_> =
            (1..=3).map(|n| sink.meta(n)["peer"][1].clone()).collect();
        assert_eq!(ports.len(), 1, "one TCP session for three sends");
        t.shutdown().await;
    }

    #[tokio::test]
    async fn authenticates_with_plain_and_with_login() {
        if !peer_available("authenticates_with_plain_and_with_login") {
            return;
        }
        for (offered, expected) in [("PLAIN,LOGIN", "PLAIN"), ("LOGIN", "LOGIN")] {
            let sink = Sink::start(&["--auth", "mm4user:s3cret", "--auth-mechanisms", offered]);
            let t = transport(vec![PartnerConfig {
                outbound_auth: Some(AuthConfig {
                    username: "mm4user".into(),
                    password: "s3cret".into(),
                }),
                ..partner("oper", sink.port)
            }]);
            t.send("oper", &envelope(), &seed_pdu()).await.unwrap();
            let meta = sink.meta(1);
            assert_eq!(meta["auth"]["mechanism"], expected, "offered {offered}");
            assert_eq!(meta["auth"]["login"], "mm4user");
        }
    }

    #[tokio::test]
    async fn rejected_or_missing_credentials_are_transient() {
        if !peer_available("rejected_or_missing_credentials_are_transient") {
            return;
        }
        let sink = Sink::start(&["--auth", "mm4user:s3cret"]);
        let wrong = transport(vec![PartnerConfig {
            outbound_auth: Some(AuthConfig {
                username: "mm4user".into(),
                password: "wrong".into(),
            }),
            ..partner("oper", sink.port)
        }]);
        let err = wrong
            .send("oper", &envelope(), &seed_pdu())
            .await
            .unwrap_err();
        assert!(err.is_transient(), "{err}");
        assert!(err.to_string().contains("AUTH: 535"), "{err}");
        // Without credentials the sink answers MAIL FROM with 530: also transient.
        let none = transport(vec![partner("oper", sink.port)]);
        let err = none
            .send("oper", &envelope(), &seed_pdu())
            .await
            .unwrap_err();
        assert!(
            matches!(&err, TransportError::Transient(m) if m.contains("530 5.7.0")),
            "{err}"
        );
        assert_eq!(sink.stored(), 0);
    }

    #[tokio::test]
    async fn a_451_is_transient_and_the_retry_succeeds() {
        if !peer_available("a_451_is_transient_and_the_retry_succeeds") {
            return;
        }
        let sink = Sink::start(&["--fail-first", "1", "--fail-code", "451"]);
        let t = transport(vec![partner("oper", sink.port)]);
        let err = t.send("oper", &envelope(), &seed_pdu()).await.unwrap_err();
        assert_eq!(
            err,
            TransportError::Transient("451 4.3.0 Temporary failure, try again later".into())
        );
        let reply = t.send("oper", &envelope(), &seed_pdu()).await.unwrap();
        assert!(reply.starts_with("250 "), "{reply}");
        assert_eq!(sink.stored(), 1);
    }

    #[tokio::test]
    async fn a_550_is_permanent_at_data_and_at_rcpt() {
        if !peer_available("a_550_is_permanent_at_data_and_at_rcpt") {
            return;
        }
        for stage in ["data", "rcpt"] {
            let sink = Sink::start(&["--reject-code", "550", "--reject-at", stage]);
            let t = transport(vec![partner("oper", sink.port)]);
            let err = t.send("oper", &envelope(), &seed_pdu()).await.unwrap_err();
            assert_eq!(
                err,
                TransportError::Permanent("550 5.7.1 Message rejected".into()),
                "at {stage}"
            );
            assert_eq!(sink.stored(), 0);
        }
    }

    #[tokio::test]
    async fn connection_refused_is_transient() {
        let port = {
            let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            l.local_addr().unwrap().port()
        };
        let t = transport(vec![partner("oper", port)]);
        let err = t.send("oper", &envelope(), &seed_pdu()).await.unwrap_err();
        assert!(err.is_transient(), "{err}");
        let text = err.to_string();
        assert!(
            text.contains(&format!("127.0.0.1:{port}: connect:")),
            "{text}"
        );
    }

    #[tokio::test]
    async fn a_stalled_server_times_out_as_transient() {
        if !peer_available("a_stalled_server_times_out_as_transient") {
            return;
        }
        let sink = Sink::start(&["--stall", "--reject-at", "data"]);
        let t = transport(vec![partner("oper", sink.port)])
            .with_send_timeout(Duration::from_millis(1500));
        let started = std::time::Instant::now();
        let err = t.send("oper", &envelope(), &seed_pdu()).await.unwrap_err();
        assert!(started.elapsed() < Duration::from_secs(5));
        assert!(err.is_transient(), "{err}");
        assert!(err.to_string().contains("timed out"), "{err}");
        let idle = t.partners["oper"].endpoint.as_ref().unwrap().pop_idle();
        assert!(idle.is_none(), "a timed-out session is never reused");
    }

    #[tokio::test]
    async fn unknown_partner_and_partner_without_smtp_host() {
        let t = transport(vec![PartnerConfig {
            smtp_host: None,
            ..partner("inbound-only", 25)
        }]);
        let err = t.send("nobody", &envelope(), b"x\r\n").await.unwrap_err();
        assert_eq!(err, TransportError::UnknownPartner("nobody".into()));
        let err = t
            .send("inbound-only", &envelope(), b"x\r\n")
            .await
            .unwrap_err();
        assert!(matches!(err, TransportError::Permanent(_)), "{err}");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn respects_max_connections_per_partner() {
        if !peer_available("respects_max_connections_per_partner") {
            return;
        }
        let a = Sink::start(&["--delay", "0.3"]);
        let b = Sink::start(&["--delay", "0.3"]);
        let t = Arc::new(transport(vec![
            PartnerConfig {
                max_connections: 2,
                ..partner("a", a.port)
            },
            PartnerConfig {
                max_connections: 1,
                ..partner("b", b.port)
            },
        ]));
        let mut jobs = tokio::task::JoinSet::new();
        for name in ["a", "a", "a", "a", "a", "a", "b", "b", "b"] {
            let t = Arc::clone(&t);
            jobs.spawn(async move { t.send(name, &envelope(), &seed_pdu()).await });
        }
        while let Some(r) = jobs.join_next().await {
            r.unwrap().unwrap();
        }
        assert_eq!((a.stored(), b.stored()), (6, 3));
        let max_open = |s: &Sink, n: usize| {
            (1..=n)
                .map(|i| s.meta(i)["max_open_sessions"].as_u64().unwrap())
                .max()
                .unwrap()
        };
        assert_eq!(
            max_open(&a, 6),
            2,
            "partner a: 2 sessions, used in parallel"
        );
        assert_eq!(max_open(&b, 3), 1, "partner b: 1 session");
    }

    // ---- TLS -----------------------------------------------------------------------

    #[tokio::test]
    async fn required_starttls_without_offer_is_transient() {
        if !peer_available("required_starttls_without_offer_is_transient") {
            return;
        }
        let sink = Sink::start(&[]);
        let t = transport(vec![PartnerConfig {
            starttls: StartTls::Required,
            ..partner("oper", sink.port)
        }]);
        let err = t.send("oper", &envelope(), &seed_pdu()).await.unwrap_err();
        assert!(err.is_transient(), "{err}");
        assert!(
            err.to_string().contains("STARTTLS is not supported"),
            "{err}"
        );
        assert_eq!(sink.stored(), 0);
    }

    #[tokio::test]
    async fn opportunistic_starttls_uses_tls_when_offered_else_plain() {
        if !peer_available("opportunistic_starttls_uses_tls_when_offered_else_plain") {
            return;
        }
        let certs = tempfile::tempdir().unwrap();
        let (cert, key) = self_signed(certs.path());
        let tls = Sink::start(&["--tls-cert", &cert, "--tls-key", &key]);
        let plain = Sink::start(&[]);
        let t = transport(vec![
            PartnerConfig {
                starttls: StartTls::Opportunistic,
                tls_insecure: true,
                ..partner("tls", tls.port)
            },
            PartnerConfig {
                starttls: StartTls::Opportunistic,
                ..partner("plain", plain.port)
            },
        ]);
        let pdu = seed_pdu();
        t.send("tls", &envelope(), &pdu).await.unwrap();
        assert_eq!(tls.meta(1)["tls"], true);
        assert_eq!(tls.eml(1), pdu);
        t.send("plain", &envelope(), &pdu).await.unwrap();
        assert_eq!(plain.meta(1)["tls"], false);
    }

    #[tokio::test]
    async fn required_starttls_with_auth_over_tls() {
        if !peer_available("required_starttls_with_auth_over_tls") {
            return;
        }
        let certs = tempfile::tempdir().unwrap();
        let (cert, key) = self_signed(certs.path());
        let sink = Sink::start(&["--tls-cert", &cert, "--tls-key", &key, "--auth", "u:p"]);
        let t = transport(vec![PartnerConfig {
            starttls: StartTls::Required,
            tls_insecure: true,
            outbound_auth: Some(AuthConfig {
                username: "u".into(),
                password: "p".into(),
            }),
            ..partner("oper", sink.port)
        }]);
        t.send("oper", &envelope(), &seed_pdu()).await.unwrap();
        let meta = sink.meta(1);
        assert_eq!(meta["tls"], true);
        assert_eq!(meta["auth"]["login"], "u");
    }

    #[tokio::test]
    async fn untrusted_certificate_is_transient_unless_tls_insecure() {
        if !peer_available("untrusted_certificate_is_transient_unless_tls_insecure") {
            return;
        }
        let certs = tempfile::tempdir().unwrap();
        let (cert, key) = self_signed(certs.path());
        let sink = Sink::start(&["--tls-cert", &cert, "--tls-key", &key]);
        let t = transport(vec![PartnerConfig {
            starttls: StartTls::Opportunistic,
            ..partner("oper", sink.port)
        }]);
        let err = t.send("oper", &envelope(), &seed_pdu()).await.unwrap_err();
        assert!(err.is_transient(), "{err}");
        assert!(err.to_string().contains("STARTTLS"), "{err}");
        assert!(
            err.to_string().contains("invalid peer certificate"),
            "{err}"
        );
        assert_eq!(sink.stored(), 0);
    }

    // ---- envelope and body -----------------------------------------------------------

    #[test]
    fn accepts_mm4_address_forms() {
        for a in [
            FROM,
            "+447778889999/TYPE=PLMN@mms.domain.com",
            "<+447778889999/TYPE=PLMN@mms.domain.com>",
            "192.0.2.7/TYPE=IPv4@mms.oper.com",
            "system-user@mmsc.hub",
            "+4477/TYPE=PLMN@[192.0.2.1]",
        ] {
            let addr = to_address("RCPT TO", a).unwrap();
            assert_eq!(addr.to_string(), a.trim_matches(|c| c == '<' || c == '>'));
        }
    }

    #[test]
    fn quotes_local_parts_that_are_not_dot_atoms() {
        let a = to_address("RCPT TO", "fe80::1/TYPE=IPv6@mms.oper.com").unwrap();
        assert_eq!(a.to_string(), "\"fe80::1/TYPE=IPv6\"@mms.oper.com");
        let a = to_address("RCPT TO", "John Smith@mms.oper.com").unwrap();
        assert_eq!(a.to_string(), "\"John Smith\"@mms.oper.com");
    }

    #[test]
    fn refuses_addresses_it_cannot_send_as_permanent() {
        for a in [
            "+447778889999/TYPE=PLMN@mms.domain.com\r\nRCPT TO:<x@evil.test>",
            "+447778889999/TYPE=PLMN",
            &format!("{}@mms.oper.com", "1".repeat(65)),
            "+4477/TYPE=PLMN@not a domain",
        ] {
            let err = to_address("RCPT TO[0]", a).unwrap_err();
            assert!(matches!(err, TransportError::Permanent(_)), "{a:?}: {err}");
            assert!(!err.to_string().contains("447778889999"), "redacted: {err}");
        }
        let no_rcpt = Envelope {
            mail_from: FROM.into(),
            rcpt_to: vec![],
        };
        assert!(matches!(
            to_envelope(&no_rcpt),
            Err(TransportError::Permanent(_))
        ));
    }

    #[tokio::test]
    async fn a_bad_address_fails_before_connecting() {
        // Nothing listens on port 9: a connect attempt would be Transient.
        let t = transport(vec![partner("oper", 9)]);
        let bad = Envelope {
            mail_from: FROM.into(),
            rcpt_to: vec!["no-at-sign".into()],
        };
        let err = t.send("oper", &bad, b"x\r\n").await.unwrap_err();
        assert!(matches!(err, TransportError::Permanent(_)), "{err}");
    }

    #[test]
    fn empty_mail_from_is_the_null_reverse_path() {
        for from in ["", "<>"] {
            let e = to_envelope(&Envelope {
                mail_from: from.into(),
                rcpt_to: vec![TO.into()],
            })
            .unwrap();
            assert!(e.from().is_none());
        }
    }

    #[test]
    fn wire_body_ends_lines_with_crlf_and_drops_the_last_one() {
        assert_eq!(&*wire_body(b"a\r\nb\r\n"), b"a\r\nb");
        assert!(matches!(wire_body(b"a\r\nb\r\n"), Cow::Borrowed(_)));
        assert_eq!(&*wire_body(b"a\nb"), b"a\r\nb");
        assert_eq!(&*wire_body(b"a\rb\n"), b"a\r\nb");
        assert_eq!(&*wire_body(b"\n\r\n\r"), b"\r\n\r\n");
        assert_eq!(&*wire_body(b""), b"");
    }

    #[test]
    fn refuses_bad_partner_settings_by_key() {
        let mut c = Config::default();
        c.partners.push(PartnerConfig {
            max_connections: 0,
            ..partner("a", 25)
        });
        let err = SmtpMm4Transport::new(&c, "mmsc.example.net").unwrap_err();
        assert_eq!(
            err.to_string(),
            "partners[0].max_connections: must be at least 1"
        );
        assert!(SmtpMm4Transport::new(&Config::default(), "bad name").is_err());
        assert!(SmtpMm4Transport::new(&Config::default(), "192.0.2.1").is_ok());
    }

    #[test]
    fn default_send_timeout_stays_inside_the_visibility_timeout() {
        let mut c = Config::default();
        c.queues.visibility_timeout_secs = 60;
        let t = SmtpMm4Transport::new(&c, "mmsc.example.net").unwrap();
        assert_eq!(t.send_timeout(), Duration::from_secs(45));
        c.queues.visibility_timeout_secs = 900;
        let t = SmtpMm4Transport::new(&c, "mmsc.example.net").unwrap();
        assert_eq!(t.send_timeout(), DEFAULT_SEND_TIMEOUT);
    }
}
