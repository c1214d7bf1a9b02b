//! One SMTP session as an explicit state machine.
//!
//! The session owns a read buffer. It takes complete lines (or, in the DATA state,
//! message bytes) from the buffer and only reads from the socket when the buffer has
//! nothing complete left; replies are collected and flushed just before such a read.
//! That is what makes PIPELINING work: nothing a client sends ahead is lost, and a
//! batch of pipelined commands gets its replies in one write.
//!
//! States ([`Mode`]): `Command` (with or without a transaction, before or after
//! EHLO, TLS and AUTH as flags), `Auth` (waiting for a SASL continuation line), and
//! `Data` (a [`DataReceiver`], which has its own over-limit states).

use crate::command::{self, Command, CommandError, MailFrom, RcptTo};
use crate::data::{DataLimits, DataOutcome, DataReceiver};
use crate::identify::{self, Admission};
use crate::stream::Conn;
use crate::{ActiveGuard, Counters, Phase, SmtpFront, proxy, timefmt};
use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use bytes::{Bytes, BytesMut};
use mmsc_shared::domain::{Address, Interface, Job};
use mmsc_shared::ports::{Arrival, IntakeError, queues};
use mmsc_shared::routing::Route;
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::watch;
use tokio::time::Instant;
use tracing::{Instrument, Span, debug, info, info_span, warn};
use uuid::Uuid;

/// Bytes read from the socket at a time.
const READ_CHUNK: usize = 16 * 1024;
/// Protocol errors (unknown commands, bad syntax, bad sequence) before we hang up.
const MAX_ERRORS: u32 = 20;
/// Failed AUTH attempts before we hang up.
const MAX_AUTH_FAILURES: u32 = 3;
/// Commands a rejected client (554 at connect) may send before we hang up.
const MAX_REJECTED_COMMANDS: u32 = 3;
/// Longest EHLO name we copy into the `Received:` header.
const MAX_HELO_IN_HEADER: usize = 255;

/// Runs one accepted connection: PROXY header, per-peer limit, then the session.
pub(crate) async fn run(
    front: Arc<SmtpFront>,
    mut stream: TcpStream,
    socket_peer: SocketAddr,
    phase: watch::Receiver<Phase>,
    counters: Arc<Counters>,
    active: ActiveGuard,
) {
    let cfg = &front.config.smtp;
    let idle = Duration::from_secs(cfg.idle_timeout_secs);
    let client = if cfg.proxy_protocol {
        match tokio::time::timeout(idle, proxy::read_header(&mut stream)).await {
            Ok(Ok(h)) => h.client_addr(socket_peer),
            Ok(Err(e)) => {
                info!(peer = %socket_peer, error = %e, "bad PROXY protocol header; closing");
                return;
            }
            Err(_) => {
                info!(peer = %socket_peer, "no PROXY protocol header in time; closing");
                return;
            }
        }
    } else {
        socket_peer
    };
    let client = SocketAddr::new(identify::canonical(client.ip()), client.port());
    let Some(peer_guard) = counters.enter_peer(client.ip(), cfg.max_sessions_per_peer) else {
        info!(peer = %client.ip(), limit = cfg.max_sessions_per_peer, "per-peer session limit reached; 421");
        let line = format!(
            "421 4.7.0 {} Too many connections from your address, try again later\r\n",
            front.config.smtp_hostname()
        );
        crate::write_line_bounded(&mut stream, &line, Duration::from_secs(5)).await;
        return;
    };
    let span = info_span!(
        "smtp_session",
        peer = %client.ip(),
        port = client.port(),
        partner = tracing::field::Empty
    );
    let session = Session::new(front, Conn::Plain(stream), client, phase, span.clone());
    if let Err(e) = session.run().instrument(span).await {
        debug!(peer = %client.ip(), error = %e, "session ended with an I/O error");
    }
    drop(peer_guard);
    drop(active);
}

/// What the session is waiting for.
enum Mode {
    Command,
    Auth(AuthStep),
    Data(Box<DataReceiver>),
}

enum AuthStep {
    Plain,
    LoginUser,
    LoginPass(Vec<u8>),
}

/// What to do after handling one unit of input.
enum Flow {
    Continue,
    NeedInput,
    Close,
}

/// Result of waiting for input.
enum Input {
    Read,
    Eof,
    /// Stop with this reply (timeout, shutdown).
    Stop(String),
}

struct Helo {
    name: String,
    extended: bool,
}

struct Transaction {
    id: Uuid,
    span: Span,
    mail_from: String,
    rcpts: Vec<String>,
    rcpt_attempts: usize,
}

/// The state of one SMTP session.
pub(crate) struct Session<S> {
    front: Arc<SmtpFront>,
    conn: Conn<S>,
    rbuf: BytesMut,
    wbuf: Vec<u8>,
    scratch: Box<[u8]>,
    /// Bytes at the front of `rbuf` already searched for a command line's LF.
    scanned: usize,
    /// The current command line is over the limit; drop it up to its LF.
    skipping_line: bool,
    client: SocketAddr,
    admission: Admission,
    partner: Option<usize>,
    authenticated: bool,
    helo: Option<Helo>,
    txn: Option<Transaction>,
    mode: Mode,
    started: Instant,
    errors: u32,
    auth_failures: u32,
    phase: watch::Receiver<Phase>,
    span: Span,
}

impl<S: AsyncRead + AsyncWrite + Unpin + Send> Session<S> {
    pub(crate) fn new(
        front: Arc<SmtpFront>,
        conn: Conn<S>,
        client: SocketAddr,
        phase: watch::Receiver<Phase>,
        span: Span,
    ) -> Self {
        let admission = identify::admit(&front.config, client.ip());
        let partner = match admission {
            Admission::Partner(i) => Some(i),
            _ => None,
        };
        let session = Session {
            front,
            conn,
            rbuf: BytesMut::with_capacity(READ_CHUNK),
            wbuf: Vec::with_capacity(1024),
            scratch: vec![0u8; READ_CHUNK].into_boxed_slice(),
            scanned: 0,
            skipping_line: false,
            client,
            admission,
            partner,
            authenticated: false,
            helo: None,
            txn: None,
            mode: Mode::Command,
            started: Instant::now(),
            errors: 0,
            auth_failures: 0,
            phase,
            span,
        };
        session.record_partner();
        session
    }

    fn config(&self) -> &mmsc_shared::config::Config {
        &self.front.config
    }

    fn hostname(&self) -> &str {
        self.front.config.smtp_hostname()
    }

    fn partner_name(&self) -> Option<&str> {
        self.partner
            .and_then(|i| self.front.config.partners.get(i))
            .map(|p| p.name.as_str())
    }

    fn record_partner(&self) {
        if let Some(name) = self.partner_name() {
            self.span.record("partner", name);
        }
    }

    fn rejected(&self) -> bool {
        self.admission == Admission::Reject
    }

    /// Queues one reply line (`"250 2.0.0 Ok"`).
    fn say(&mut self, line: &str) {
        self.wbuf.extend_from_slice(line.as_bytes());
        self.wbuf.extend_from_slice(b"\r\n");
    }

    pub(crate) async fn run(mut self) -> io::Result<()> {
        if self.rejected() {
            info!("source address is not an MM4 partner; 554");
            let line = format!(
                "554 5.7.1 {} Access denied: {} is not a known MM4 partner",
                self.hostname(),
                self.client.ip()
            );
            self.say(&line);
        } else {
            debug!("session started");
            let line = format!("220 {} ESMTP MMSC", self.hostname());
            self.say(&line);
        }
        let result = self.serve_loop().await;
        // Best effort: deliver the last replies (221, 421...) and close politely.
        let _ = self.flush().await;
        let _ = tokio::time::timeout(Duration::from_secs(1), self.conn.shutdown()).await;
        result
    }

    async fn serve_loop(&mut self) -> io::Result<()> {
        loop {
            match self.step().await? {
                Flow::Continue => {}
                Flow::Close => return Ok(()),
                Flow::NeedInput => {
                    self.flush().await?;
                    match self.wait_for_input().await? {
                        Input::Read => {}
                        Input::Eof => {
                            debug!("client closed the connection");
                            return Ok(());
                        }
                        Input::Stop(line) => {
                            self.say(&line);
                            return Ok(());
                        }
                    }
                }
            }
        }
    }

    /// Handles the next complete unit of buffered input, if any.
    async fn step(&mut self) -> io::Result<Flow> {
        if let Mode::Data(rx) = &mut self.mode {
            let Some(outcome) = rx.feed(&mut self.rbuf) else {
                return Ok(Flow::NeedInput);
            };
            self.mode = Mode::Command;
            self.end_of_data(outcome).await;
            return Ok(Flow::Continue);
        }
        match self.take_line() {
            None => Ok(Flow::NeedInput),
            Some(None) => {
                let line = format!(
                    "500 5.5.2 Line too long (limit {} bytes)",
                    self.config().smtp.max_line_length
                );
                self.mode = Mode::Command;
                self.say(&line);
                Ok(self.count_error())
            }
            Some(Some(line)) => match std::mem::replace(&mut self.mode, Mode::Command) {
                Mode::Auth(step) => Ok(self.auth_response(step, &line)),
                _ => self.command(&line).await,
            },
        }
    }

    /// Takes one command line from the buffer: `Some(Some(line))` without its
    /// terminator, `Some(None)` for a line over the limit (dropped), `None` when no
    /// complete line is buffered. A partial line over the limit is discarded at once.
    fn take_line(&mut self) -> Option<Option<BytesMut>> {
        let max = self.config().smtp.max_line_length;
        let Some(at) = memchr::memchr(b'\n', &self.rbuf[self.scanned..]) else {
            if self.skipping_line || self.rbuf.len() > max + 1 {
                self.skipping_line = true;
                self.rbuf.clear();
            }
            self.scanned = self.rbuf.len();
            return None;
        };
        let mut line = self.rbuf.split_to(self.scanned + at + 1);
        self.scanned = 0;
        if std::mem::take(&mut self.skipping_line) {
            return Some(None);
        }
        line.truncate(line.len() - 1);
        if line.last() == Some(&b'\r') {
            line.truncate(line.len() - 1);
        }
        if line.len() > max {
            return Some(None);
        }
        Some(Some(line))
    }

    async fn flush(&mut self) -> io::Result<()> {
        if self.wbuf.is_empty() {
            return Ok(());
        }
        let idle = Duration::from_secs(self.config().smtp.idle_timeout_secs);
        let conn = &mut self.conn;
        let wbuf = &self.wbuf;
        let res = tokio::time::timeout(idle, async {
            conn.write_all(wbuf).await?;
            conn.flush().await
        })
        .await;
        self.wbuf.clear();
        match res {
            Ok(r) => r,
            Err(_) => Err(io::Error::new(
                io::ErrorKind::TimedOut,
                "client did not read our replies",
            )),
        }
    }

    /// Between transactions, with nothing buffered: where a draining server may
    /// close the session without losing anything.
    fn between_transactions(&self) -> bool {
        matches!(self.mode, Mode::Command) && self.txn.is_none() && self.rbuf.is_empty()
    }

    fn shutdown_reply(&self) -> String {
        format!(
            "421 4.3.2 {} Service shutting down, closing connection",
            self.hostname()
        )
    }

    /// Reads more input, honouring the idle timeout, the hard session deadline and
    /// the server's shutdown phases.
    async fn wait_for_input(&mut self) -> io::Result<Input> {
        let smtp = &self.front.config.smtp;
        let idle = Duration::from_secs(smtp.idle_timeout_secs);
        let hard_deadline =
            self.started + Duration::from_secs(smtp.session_lifetime_secs).saturating_mul(2);
        let deadline = (Instant::now() + idle).min(hard_deadline);
        loop {
            let phase = *self.phase.borrow_and_update();
            if phase == Phase::Closing || (phase == Phase::Draining && self.between_transactions())
            {
                return Ok(Input::Stop(self.shutdown_reply()));
            }
            let read = tokio::time::timeout_at(deadline, self.conn.read(&mut self.scratch));
            tokio::select! {
                r = read => {
                    return match r {
                        Err(_) if Instant::now() >= hard_deadline => {
                            info!("session lifetime far exceeded; closing");
                            Ok(Input::Stop(format!(
                                "421 4.4.2 {} Session lifetime exceeded, closing connection",
                                self.hostname()
                            )))
                        }
                        Err(_) => {
                            debug!("idle timeout");
                            Ok(Input::Stop(format!(
                                "421 4.4.2 {} Idle timeout, closing connection",
                                self.hostname()
                            )))
                        }
                        Ok(Ok(0)) => Ok(Input::Eof),
                        Ok(Ok(n)) => {
                            self.rbuf.extend_from_slice(&self.scratch[..n]);
                            Ok(Input::Read)
                        }
                        Ok(Err(e)) => Err(e),
                    };
                }
                changed = self.phase.changed() => {
                    if changed.is_err() {
                        // The server is gone: nobody will ever store a message.
                        return Ok(Input::Stop(self.shutdown_reply()));
                    }
                }
            }
        }
    }

    /// Counts a protocol error; closes the session after too many.
    fn count_error(&mut self) -> Flow {
        self.errors += 1;
        if self.errors >= MAX_ERRORS {
            info!(errors = self.errors, "too many protocol errors; closing");
            let line = format!(
                "421 4.7.0 {} Too many errors, closing connection",
                self.hostname()
            );
            self.say(&line);
            return Flow::Close;
        }
        Flow::Continue
    }

    fn reject(&mut self, line: &str) -> Flow {
        self.say(line);
        self.count_error()
    }

    async fn command(&mut self, line: &[u8]) -> io::Result<Flow> {
        let lifetime = Duration::from_secs(self.config().smtp.session_lifetime_secs);
        if self.started.elapsed() > lifetime {
            info!("session lifetime exceeded");
            let line = format!(
                "421 4.4.2 {} Session lifetime exceeded, closing connection",
                self.hostname()
            );
            self.say(&line);
            return Ok(Flow::Close);
        }
        let parsed = command::parse(line);
        if self.rejected() {
            return Ok(self.rejected_command(parsed));
        }
        let cmd = match parsed {
            Ok(cmd) => cmd,
            Err(e) => return Ok(self.command_error(e)),
        };
        Ok(match cmd {
            Command::Ehlo(name) => self.ehlo(name, true),
            Command::Helo(name) => self.ehlo(name, false),
            Command::Mail(m) => self.mail(m),
            Command::Rcpt(r) => self.rcpt(r),
            Command::Data => self.data(),
            Command::Rset => {
                self.txn = None;
                self.say("250 2.0.0 Ok");
                Flow::Continue
            }
            Command::Noop => {
                self.say("250 2.0.0 Ok");
                Flow::Continue
            }
            Command::Quit => {
                let line = format!("221 2.0.0 {} Bye", self.hostname());
                self.say(&line);
                Flow::Close
            }
            Command::Vrfy => {
                self.say("252 2.1.5 Cannot VRFY; send the message and we will try to deliver it");
                Flow::Continue
            }
            Command::Expn => self.reject("502 5.5.1 EXPN not available"),
            Command::Help => {
                self.say("214 2.0.0 Commands: EHLO HELO MAIL RCPT DATA RSET NOOP QUIT VRFY HELP STARTTLS AUTH");
                Flow::Continue
            }
            Command::StartTls => return self.starttls().await,
            Command::Auth { mechanism, initial } => self.auth(&mechanism, initial),
        })
    }

    fn command_error(&mut self, e: CommandError) -> Flow {
        match e {
            CommandError::Unknown => self.reject("500 5.5.1 Command unrecognized"),
            CommandError::Syntax(hint) => {
                let line = format!("501 5.5.4 {hint}");
                self.reject(&line)
            }
            CommandError::UnsupportedParameter(p) => {
                let p: String = p.chars().take(64).collect();
                let line = format!("555 5.5.4 Unsupported parameter {p}");
                self.reject(&line)
            }
            CommandError::Encoding => {
                self.reject("500 5.5.2 Invalid characters in command (8-bit or control bytes)")
            }
            CommandError::Forbidden => {
                info!("HTTP request on the SMTP port; closing");
                let line = format!(
                    "421 4.7.0 {} This is an SMTP server, closing",
                    self.hostname()
                );
                self.say(&line);
                Flow::Close
            }
        }
    }

    /// A client refused at connect: only QUIT is served.
    fn rejected_command(&mut self, parsed: Result<Command, CommandError>) -> Flow {
        if matches!(parsed, Ok(Command::Quit)) {
            let line = format!("221 2.0.0 {} Bye", self.hostname());
            self.say(&line);
            return Flow::Close;
        }
        self.errors += 1;
        self.say("554 5.7.1 Access denied: not a known MM4 partner");
        if self.errors >= MAX_REJECTED_COMMANDS {
            return Flow::Close;
        }
        Flow::Continue
    }

    fn ehlo(&mut self, name: String, extended: bool) -> Flow {
        self.txn = None;
        let host = self.hostname().to_string();
        if !extended {
            self.helo = Some(Helo { name, extended });
            self.say(&format!("250 {host}"));
            return Flow::Continue;
        }
        let mut lines = vec![
            format!("{host} Hello {name} [{}]", self.client.ip()),
            format!("SIZE {}", self.config().smtp.max_message_size),
            "PIPELINING".to_string(),
            "8BITMIME".to_string(),
            "ENHANCEDSTATUSCODES".to_string(),
        ];
        let tls_active = self.conn.is_tls();
        if self.front.tls.is_some() && !tls_active {
            lines.push("STARTTLS".into());
        }
        if self.auth_allowed_now() {
            lines.push("AUTH PLAIN LOGIN".into());
        }
        let last = lines.len() - 1;
        for (i, l) in lines.iter().enumerate() {
            let sep = if i == last { ' ' } else { '-' };
            self.wbuf
                .extend_from_slice(format!("250{sep}{l}\r\n").as_bytes());
        }
        self.helo = Some(Helo { name, extended });
        Flow::Continue
    }

    /// AUTH is offered when some partner has `inbound_auth`, and — when TLS is
    /// configured — only once TLS is active.
    fn auth_allowed_now(&self) -> bool {
        self.front.auth_offered && (self.front.tls.is_none() || self.conn.is_tls())
    }

    fn mail(&mut self, m: MailFrom) -> Flow {
        if self.helo.is_none() {
            return self.reject("503 5.5.1 Send EHLO or HELO first");
        }
        if self.txn.is_some() {
            return self.reject("503 5.5.1 Nested MAIL command");
        }
        if self.partner.is_none() {
            return match self.admission {
                Admission::NeedsAuth => self.reject("530 5.7.0 Authentication required"),
                _ => self
                    .reject("554 5.7.1 Access denied: not a known MM4 partner; authenticate first"),
            };
        }
        let max = self.config().smtp.max_message_size;
        if let Some(size) = m.size.filter(|s| *s > max) {
            info!(
                declared_size = size,
                limit = max,
                "declared SIZE over the limit; 552"
            );
            let line = format!("552 5.3.4 Message size exceeds fixed maximum message size ({max})");
            return self.reject(&line);
        }
        // Time-ordered (UUIDv7): the object key `in/mm4/<date>/<id>.eml` then grows
        // with time, so the embedded store appends to its key index instead of
        // touching a random page of it for every message (fewer pages per commit).
        let id = Uuid::now_v7();
        let span = info_span!(parent: &self.span, "smtp_transaction", id = %id);
        debug!(parent: &span, mail_from = %m.path, size = ?m.size, "MAIL FROM");
        self.txn = Some(Transaction {
            id,
            span,
            mail_from: m.path,
            rcpts: Vec::new(),
            rcpt_attempts: 0,
        });
        self.say("250 2.1.0 Ok");
        Flow::Continue
    }

    fn rcpt(&mut self, r: RcptTo) -> Flow {
        let max = self.config().smtp.max_recipients;
        let Some(txn) = self.txn.as_mut() else {
            return self.reject("503 5.5.1 Need MAIL command first");
        };
        txn.rcpt_attempts += 1;
        if txn.rcpts.len() >= max {
            let line = format!("452 4.5.3 Too many recipients (limit {max})");
            self.say(&line);
            return Flow::Continue;
        }
        let cc = self.front.config.mmsc.country_code.as_deref();
        let addr = match Address::parse_with(&r.path, cc) {
            Ok(a) => a,
            Err(e) => {
                debug!(parent: &txn.span, rcpt = %r.path, error = %e, "unparsable recipient");
                return self.reject("501 5.1.3 Bad recipient address syntax");
            }
        };
        let sender = self.partner_name().unwrap_or_default().to_string();
        if !recipient_allowed(&self.front, &sender, &addr) {
            let span = self
                .txn
                .as_ref()
                .map(|t| t.span.clone())
                .unwrap_or_else(Span::none);
            info!(parent: &span, rcpt = %addr.redacted(), "relaying denied");
            return self.reject("550 5.7.1 Relaying denied");
        }
        let Some(txn) = self.txn.as_mut() else {
            return self.reject("503 5.5.1 Need MAIL command first");
        };
        if !txn.rcpts.contains(&r.path) {
            txn.rcpts.push(r.path);
        }
        self.say("250 2.1.5 Ok");
        Flow::Continue
    }

    fn data(&mut self) -> Flow {
        let Some(txn) = &self.txn else {
            return self.reject("503 5.5.1 Need MAIL command first");
        };
        if txn.rcpts.is_empty() {
            return if txn.rcpt_attempts > 0 {
                self.reject("554 5.5.1 No valid recipients")
            } else {
                self.reject("503 5.5.1 Need RCPT command first")
            };
        }
        let smtp = &self.config().smtp;
        let limits = DataLimits {
            max_message_size: smtp.max_message_size,
            max_line_length: smtp.max_line_length,
            max_header_size: smtp.max_header_size,
        };
        self.mode = Mode::Data(Box::new(DataReceiver::new(limits)));
        self.say("354 Start mail input; end with <CRLF>.<CRLF>");
        Flow::Continue
    }

    async fn starttls(&mut self) -> io::Result<Flow> {
        let Some(acceptor) = self.front.tls.clone() else {
            return Ok(self.reject("502 5.5.1 STARTTLS not available"));
        };
        if self.conn.is_tls() {
            return Ok(self.reject("503 5.5.1 TLS already active"));
        }
        if self.helo.is_none() {
            return Ok(self.reject("503 5.5.1 Send EHLO first"));
        }
        self.say("220 2.0.0 Ready to start TLS");
        self.flush().await?;
        // RFC 3207 §5: whatever the client sent after STARTTLS in clear is discarded,
        // never executed after the handshake.
        if !self.rbuf.is_empty() {
            info!(
                bytes = self.rbuf.len(),
                "discarding input pipelined after STARTTLS"
            );
        }
        self.rbuf.clear();
        self.scanned = 0;
        self.skipping_line = false;
        let Conn::Plain(plain) = std::mem::replace(&mut self.conn, Conn::Upgrading) else {
            return Ok(Flow::Close);
        };
        let idle = Duration::from_secs(self.config().smtp.idle_timeout_secs);
        match tokio::time::timeout(idle, acceptor.accept(plain)).await {
            Ok(Ok(tls)) => {
                self.conn = Conn::Tls(Box::new(tls));
                debug!("TLS established");
                // RFC 3207 §4.2: forget everything learnt before TLS.
                self.helo = None;
                self.txn = None;
                self.authenticated = false;
                self.partner = match self.admission {
                    Admission::Partner(i) => Some(i),
                    _ => None,
                };
                Ok(Flow::Continue)
            }
            Ok(Err(e)) => {
                info!(error = %e, "TLS handshake failed");
                Ok(Flow::Close)
            }
            Err(_) => {
                info!("TLS handshake timed out");
                Ok(Flow::Close)
            }
        }
    }

    fn auth(&mut self, mechanism: &str, initial: Option<String>) -> Flow {
        if !self.front.auth_offered {
            return self.reject("502 5.5.1 AUTH not available");
        }
        // RFC 4954 wants EHLO first; the MM4 sample transaction (NowSMS) shows HELO
        // then AUTH LOGIN, so HELO is accepted too.
        if self.helo.is_none() {
            return self.reject("503 5.5.1 Send EHLO first");
        }
        if self.authenticated {
            return self.reject("503 5.5.1 Already authenticated");
        }
        if self.txn.is_some() {
            return self.reject("503 5.5.1 AUTH not permitted during a mail transaction");
        }
        if !self.auth_allowed_now() {
            return self.reject("538 5.7.11 Encryption required: issue STARTTLS first");
        }
        match (mechanism, initial) {
            ("PLAIN", None) => {
                self.mode = Mode::Auth(AuthStep::Plain);
                self.say("334 ");
                Flow::Continue
            }
            ("PLAIN", Some(ir)) => self.auth_response(AuthStep::Plain, ir.as_bytes()),
            ("LOGIN", None) => {
                self.mode = Mode::Auth(AuthStep::LoginUser);
                self.say("334 VXNlcm5hbWU6");
                Flow::Continue
            }
            ("LOGIN", Some(ir)) => self.auth_response(AuthStep::LoginUser, ir.as_bytes()),
            _ => self.reject("504 5.5.4 Unrecognized authentication type"),
        }
    }

    /// One SASL response line (or an initial response) for `step`.
    fn auth_response(&mut self, step: AuthStep, line: &[u8]) -> Flow {
        if line == b"*" {
            return self.reject("501 5.7.0 Authentication cancelled");
        }
        let decoded = if line == b"=" {
            Ok(Vec::new())
        } else {
            BASE64.decode(line)
        };
        let Ok(decoded) = decoded else {
            return self.reject("501 5.5.2 Invalid base64 data");
        };
        match step {
            AuthStep::LoginUser => {
                self.mode = Mode::Auth(AuthStep::LoginPass(decoded));
                self.say("334 UGFzc3dvcmQ6");
                Flow::Continue
            }
            AuthStep::LoginPass(user) => self.verify(&user, &decoded),
            AuthStep::Plain => {
                // authzid NUL authcid NUL passwd; authzid empty or equal to authcid.
                let parts: Vec<&[u8]> = decoded.split(|b| *b == 0).collect();
                match parts.as_slice() {
                    [authz, user, pass] if authz.is_empty() || authz == user => {
                        let (user, pass) = (user.to_vec(), pass.to_vec());
                        self.verify(&user, &pass)
                    }
                    _ => self.auth_failed("malformed PLAIN response"),
                }
            }
        }
    }

    fn verify(&mut self, user: &[u8], pass: &[u8]) -> Flow {
        match identify::authenticate(&self.front.config, self.client.ip(), user, pass) {
            Some(i) => {
                self.partner = Some(i);
                self.authenticated = true;
                self.record_partner();
                info!(
                    partner = self.partner_name().unwrap_or_default(),
                    "partner authenticated"
                );
                self.say("235 2.7.0 Authentication successful");
                Flow::Continue
            }
            None => self.auth_failed("bad credentials"),
        }
    }

    fn auth_failed(&mut self, why: &str) -> Flow {
        self.auth_failures += 1;
        info!(
            reason = why,
            failures = self.auth_failures,
            "authentication failed"
        );
        self.say("535 5.7.8 Authentication credentials invalid");
        if self.auth_failures >= MAX_AUTH_FAILURES {
            let line = format!(
                "421 4.7.0 {} Too many authentication failures, closing connection",
                self.hostname()
            );
            self.say(&line);
            return Flow::Close;
        }
        self.count_error()
    }

    async fn end_of_data(&mut self, outcome: DataOutcome) {
        let Some(txn) = self.txn.take() else {
            // Unreachable by construction (DATA needs a transaction); answer safely.
            self.say("451 4.3.0 Transaction lost, try again");
            return;
        };
        let smtp = &self.front.config.smtp;
        let reply = match outcome {
            DataOutcome::Complete(body) => {
                return self.store(txn, body).await;
            }
            DataOutcome::TooLarge => {
                format!(
                    "552 5.3.4 Message too big (limit {} bytes)",
                    smtp.max_message_size
                )
            }
            DataOutcome::LineTooLong => {
                format!(
                    "554 5.5.2 Line too long (limit {} bytes)",
                    smtp.max_line_length
                )
            }
            DataOutcome::HeadersTooLong => format!(
                "552 5.3.4 Headers too long (limit {} bytes)",
                smtp.max_header_size
            ),
        };
        info!(parent: &txn.span, reply = %reply, "message refused");
        self.say(&reply);
    }

    /// Stores the message, queues the ingest job, and answers 250 only if both
    /// succeeded; otherwise 451 (and the stored object is removed again).
    async fn store(&mut self, txn: Transaction, body: Vec<u8>) {
        let front = Arc::clone(&self.front);
        let now = front.clock.now();
        let key = format!("in/mm4/{}/{}.eml", timefmt::date_path(now), txn.id);
        let received = self.received_header(&txn, now);
        let size = body.len();
        let mut bytes = Vec::with_capacity(received.len() + size);
        bytes.extend_from_slice(received.as_bytes());
        bytes.extend_from_slice(&body);
        drop(body);
        let partner = self.partner_name().unwrap_or_default().to_string();
        let limit = front.backend_timeout;
        let span = txn.span.clone();

        let job = Job::Ingest {
            interface: Interface::Mm4,
            object_key: key.clone(),
            peer: partner.clone(),
            remote_addr: Some(self.client.to_string()),
            mail_from: Some(txn.mail_from.clone()),
            rcpt_to: txn.rcpts.clone(),
            received_at: now,
        };
        let job_bytes = job.to_bytes();
        let accepted = tokio::time::timeout(
            limit,
            front.intake.accept(Arrival {
                key: &key,
                body: Bytes::from(bytes),
                content_type: "message/rfc822",
                queue: queues::INGEST,
                job: &job_bytes,
            }),
        )
        .instrument(span.clone())
        .await;
        let error = match accepted {
            Ok(Ok(())) => {
                info!(
                    parent: &span,
                    %partner,
                    size,
                    %key,
                    rcpts = txn.rcpts.len(),
                    "accepted MM4 message"
                );
                let line = format!("250 2.0.0 Ok: queued as {}", txn.id);
                self.say(&line);
                // As Postfix's smtpd_hard_error_limit: errors count until mail is
                // delivered, so a long-lived partner session is not cut off for
                // rejected recipients spread over many good messages.
                self.errors = 0;
                return;
            }
            Ok(Err(e)) => e,
            Err(_) => {
                // The write may still land after this; do not leave the object behind
                // (the handler then drops the job: the peer was refused and retries).
                warn!(parent: &span, %key, "storing the message timed out after {limit:?}; 451");
                self.delete_object(&key, &span).await;
                self.say("451 4.3.0 Temporary failure storing the message, try again later");
                return;
            }
        };
        warn!(parent: &span, %error, %key, "storing or queueing the message failed; 451");
        let reply = match error {
            IntakeError::Queue(_) => {
                "451 4.3.0 Temporary failure queueing the message, try again later"
            }
            IntakeError::Store(_) | IntakeError::Backend(_) => {
                "451 4.3.0 Temporary failure storing the message, try again later"
            }
        };
        self.say(reply);
    }

    async fn delete_object(&self, key: &str, span: &Span) {
        let limit = self.front.backend_timeout;
        match tokio::time::timeout(limit, self.front.objects.delete(key)).await {
            Ok(Ok(())) => debug!(parent: span, %key, "removed the stored message"),
            Ok(Err(e)) => {
                warn!(parent: span, error = %e, %key, "could not remove the stored message")
            }
            Err(_) => warn!(parent: span, %key, "removing the stored message timed out"),
        }
    }

    /// Our trace header (RFC 5321 §4.4), with RFC 3848 protocol names.
    fn received_header(&self, txn: &Transaction, now: mmsc_shared::domain::Timestamp) -> String {
        let (helo, extended) = match &self.helo {
            Some(h) => (sanitize_helo(&h.name), h.extended),
            None => ("unknown".to_string(), false),
        };
        let proto = match (extended, self.conn.is_tls(), self.authenticated) {
            (false, _, _) => "SMTP",
            (true, false, false) => "ESMTP",
            (true, true, false) => "ESMTPS",
            (true, false, true) => "ESMTPA",
            (true, true, true) => "ESMTPSA",
        };
        let literal = match self.client.ip() {
            IpAddr::V4(v4) => format!("[{v4}]"),
            IpAddr::V6(v6) => format!("[IPv6:{v6}]"),
        };
        format!(
            "Received: from {helo} ({literal})\r\n\tby {} (MMSC smtp-front) with {proto}\r\n\tid {}; {}\r\n",
            self.hostname(),
            txn.id,
            timefmt::rfc5322(now)
        )
    }
}

/// The relay rule: local subscribers, transit to another partner, or our own domain.
fn recipient_allowed(front: &SmtpFront, sender: &str, addr: &Address) -> bool {
    match front.router.static_route(addr) {
        Route::Local => true,
        Route::Partner(p) if p != sender => true,
        _ => addr
            .domain()
            .is_some_and(|d| d.eq_ignore_ascii_case(&front.config.mmsc.domain)),
    }
}

/// The client's EHLO name as it may appear in our header: printable, no comment or
/// header syntax, bounded.
fn sanitize_helo(name: &str) -> String {
    name.chars()
        .take(MAX_HELO_IN_HEADER)
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_' | ':' | '[' | ']') {
                c
            } else {
                '?'
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sanitizes_helo_names() {
        assert_eq!(sanitize_helo("mmsc.oper.com"), "mmsc.oper.com");
        assert_eq!(sanitize_helo("[192.0.2.1]"), "[192.0.2.1]");
        assert_eq!(sanitize_helo("evil)(x;y"), "evil??x?y");
        assert_eq!(sanitize_helo(&"a".repeat(1000)).len(), MAX_HELO_IN_HEADER);
    }
}
