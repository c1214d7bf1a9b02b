//! The inbound SMTP front of the MMSC: partner operators' MMSCs send MM4 PDUs
//! (3GPP TS 23.140 §8.4) here. A message is answered `250` only after its raw bytes
//! are in the object store (`in/mm4/<YYYY-MM-DD>/<id>.eml`) **and** an
//! [`Job::Ingest`](mmsc_shared::domain::Job::Ingest) is on the `ingest` queue;
//! otherwise `451 4.3.0`, so the partner retries and nothing is lost. Parsing and
//! validating the PDU is ingest's job, not ours.
//!
//! # Protocol
//! ESMTP (RFC 5321) as an explicit per-session state machine (`src/session.rs`):
//! `EHLO`/`HELO`, `MAIL` (`SIZE=`, `BODY=7BIT|8BITMIME`, `AUTH=` ignored), `RCPT`,
//! `DATA`, `RSET`, `NOOP`, `QUIT`, `VRFY` (always 252), `HELP`, `STARTTLS`, `AUTH
//! PLAIN|LOGIN`. EHLO advertises `SIZE`, `PIPELINING`, `8BITMIME`,
//! `ENHANCEDSTATUSCODES`, `STARTTLS` (TLS configured and not active) and `AUTH PLAIN
//! LOGIN` (see below). Every 2xx/4xx/5xx reply carries an RFC 3463 enhanced code,
//! except the greeting and the EHLO/HELO replies, which RFC 2034 §3 exempts (EHLO
//! keyword lines must not carry one); `354` and `334` are intermediate replies
//! without a class to code.
//!
//! Commands are read from a buffer, so pipelined input (RFC 2920) is never lost;
//! replies are flushed when the buffer runs dry. Input after `STARTTLS` in the same
//! packet is discarded (the STARTTLS command-injection class of bugs).
//!
//! # Partners
//! See [`identify`]. A client whose address matches no partner and which could not
//! authenticate as any gets `554 5.7.1` at connect (then only `QUIT` is answered
//! `221`); when some partner may authenticate from anywhere, the unknown client gets
//! its greeting and `554 5.7.1` at `MAIL` unless it authenticated. A partner that must
//! authenticate gets `530 5.7.0` at `MAIL` until it does. **AUTH and TLS:** when TLS is
//! configured, AUTH is advertised and accepted only after STARTTLS (`538 5.7.11`
//! before), so credentials never cross the wire in clear on a listener that could
//! protect them; without TLS configured (private interconnects, IPsec, the demo) AUTH
//! is accepted in clear, as MM4 partners commonly do. AUTH is accepted after HELO as
//! well as EHLO, because the MM4 sample dialogue (NowSMS) does exactly that. Three
//! failed AUTHs close the session (`421 4.7.0`).
//!
//! # Relaying
//! `RCPT TO` is parsed with `Address::parse_with(.., mmsc.country_code)` (`501 5.1.3`
//! if it cannot be) and accepted when static routing says local subscriber, or
//! another partner than the sender (transit), or when its domain is our
//! `mmsc.domain`; otherwise `550 5.7.1 relaying denied`. More than
//! `smtp.max_recipients`: `452 4.5.3`.
//!
//! # Limits (`[smtp]`)
//! Over-limit DATA is a state that consumes input to the end of data and then answers
//! (`552 5.3.4` size, `554 5.5.2` line, `552 5.3.4` headers); nothing over a limit is
//! buffered and the session goes on. A declared `SIZE=` over the limit gets `552 5.3.4`
//! at `MAIL`. A command line over `max_line_length` gets `500 5.5.2`. No input for
//! `idle_timeout_secs`: `421 4.4.2` and close (replies the client does not read within
//! it: close). `session_lifetime_secs`: `421 4.4.2` at the next command; a session
//! still going at twice its lifetime (a client trickling an endless DATA) is closed
//! with `421 4.4.2` wherever it is. `max_sessions` / `max_sessions_per_peer` (per real
//! client IP): `421 4.7.0` at connect. Twenty refused commands without a message
//! delivered in between: `421 4.7.0`. An HTTP request sent to the port: `421 4.7.0`
//! and close. Messages are held in memory until stored (the `ObjectStore` port takes
//! whole bodies): budget `max_sessions x max_message_size` at worst.
//!
//! End of data is `CRLF.CRLF` (bare-LF clients are tolerated; see [`data`] for the
//! SMTP-smuggling rules). The stored message is the bytes received, dot-unstuffed,
//! with our `Received:` trace header prepended.
//!
//! # PROXY protocol
//! With `smtp.proxy_protocol` every connection must start with a v2 header
//! ([`proxy`]); its source address is then the client for identification, limits,
//! logs and the job's `remote_addr`. `LOCAL` (load balancer health checks) uses the
//! socket address. A malformed header, or none within the idle timeout, closes the
//! connection without a greeting.
//!
//! # Shutdown
//! When the shutdown signal turns `true` (or its sender is dropped) the listener
//! closes; sessions waiting between transactions get `421 4.3.2` at once, sessions in
//! a transaction may finish it and then get `421 4.3.2`. After the drain timeout
//! (10 s, [`SmtpFront::with_drain_timeout`]) every remaining session gets `421 4.3.2`
//! and is closed.

pub mod command;
pub mod data;
pub mod identify;
pub mod proxy;
mod session;
mod stream;
pub mod timefmt;
mod tls;

use mmsc_shared::config::Config;
use mmsc_shared::ports::{Clock, Intake, ObjectStore, Queue, SeparateIntake};
use mmsc_shared::routing::Router;
use std::collections::HashMap;
use std::io;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::AsyncWriteExt;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio::task::JoinSet;
use tracing::{debug, error, info, warn};

/// Default bound on waiting for sessions to finish after shutdown.
pub const DEFAULT_DRAIN_TIMEOUT: Duration = Duration::from_secs(10);
/// Bound on one object-store put or queue send before answering `451`.
pub const DEFAULT_BACKEND_TIMEOUT: Duration = Duration::from_secs(60);
/// After the drain timeout, how long sessions get to say `421` before being aborted.
const CLOSE_GRACE: Duration = Duration::from_secs(5);

#[derive(Debug, thiserror::Error)]
pub enum SmtpFrontError {
    #[error("smtp.tls_cert / smtp.tls_key: cannot read PEM from {path}: {message}")]
    Pem { path: PathBuf, message: String },
    #[error("smtp.tls_cert: no certificate in {0}")]
    NoCertificate(PathBuf),
    #[error("smtp.tls_key: no private key in {0}")]
    NoPrivateKey(PathBuf),
    #[error("smtp.tls_cert / smtp.tls_key: TLS configuration rejected: {0}")]
    Tls(#[source] rustls::Error),
    #[error("smtp.tls_cert and smtp.tls_key must be set together")]
    TlsHalfConfigured,
}

impl SmtpFrontError {
    fn pem(path: &Path, e: impl std::fmt::Display) -> Self {
        SmtpFrontError::Pem {
            path: path.to_path_buf(),
            message: e.to_string(),
        }
    }
}

/// The inbound SMTP server. Build it once, then [`serve`](SmtpFront::serve) a listener.
pub struct SmtpFront {
    config: Arc<Config>,
    router: Router,
    objects: Arc<dyn ObjectStore>,
    intake: Arc<dyn Intake>,
    clock: Arc<dyn Clock>,
    tls: Option<tokio_rustls::TlsAcceptor>,
    auth_offered: bool,
    drain_timeout: Duration,
    backend_timeout: Duration,
}

impl std::fmt::Debug for SmtpFront {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SmtpFront")
            .field("hostname", &self.config.smtp_hostname())
            .field("tls", &self.tls.is_some())
            .field("auth_offered", &self.auth_offered)
            .field("drain_timeout", &self.drain_timeout)
            .finish_non_exhaustive()
    }
}

/// Where the server is in its life; sessions watch it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Phase {
    Running,
    /// Finish the current transaction, then `421`.
    Draining,
    /// `421` now.
    Closing,
}

impl SmtpFront {
    /// Builds the front; loads the STARTTLS certificate and key when configured.
    pub fn new(
        config: Arc<Config>,
        objects: Arc<dyn ObjectStore>,
        queue: Arc<dyn Queue>,
        clock: Arc<dyn Clock>,
    ) -> Result<SmtpFront, SmtpFrontError> {
        let tls = match (&config.smtp.tls_cert, &config.smtp.tls_key) {
            (Some(cert), Some(key)) => Some(tls::load_acceptor(cert, key)?),
            (None, None) => None,
            _ => return Err(SmtpFrontError::TlsHalfConfigured),
        };
        Ok(SmtpFront {
            router: Router::new(&config),
            auth_offered: identify::auth_offered(&config),
            config,
            intake: Arc::new(SeparateIntake::at_once(objects.clone(), queue)),
            objects,
            clock,
            tls,
            drain_timeout: DEFAULT_DRAIN_TIMEOUT,
            backend_timeout: DEFAULT_BACKEND_TIMEOUT,
        })
    }

    /// How messages are stored and queued (by default [`SeparateIntake::at_once`]: a
    /// put to the object store and a send to the queue, at the same time). The embedded backend passes its own,
    /// which writes a small message and its job in one transaction.
    pub fn with_intake(mut self, intake: Arc<dyn Intake>) -> Self {
        self.intake = intake;
        self
    }

    /// How long [`serve`](SmtpFront::serve) lets sessions finish after shutdown.
    pub fn with_drain_timeout(mut self, d: Duration) -> Self {
        self.drain_timeout = d;
        self
    }

    /// Bound on one object-store put or queue send (then `451`).
    pub fn with_backend_timeout(mut self, d: Duration) -> Self {
        self.backend_timeout = d;
        self
    }

    /// Whether STARTTLS is offered.
    pub fn tls_enabled(&self) -> bool {
        self.tls.is_some()
    }

    /// Accepts connections until `shutdown` turns `true` (or its sender is dropped),
    /// then drains sessions (see the crate docs) and returns. Accept errors (such as
    /// running out of file descriptors) are logged and retried, never returned.
    pub async fn serve(
        self: Arc<Self>,
        listener: TcpListener,
        mut shutdown: watch::Receiver<bool>,
    ) -> io::Result<()> {
        let local = listener.local_addr()?;
        info!(%local, tls = self.tls.is_some(), proxy_protocol = self.config.smtp.proxy_protocol, "smtp-front listening");
        let (phase_tx, phase_rx) = watch::channel(Phase::Running);
        let counters = Arc::new(Counters::default());
        let mut sessions = JoinSet::new();
        loop {
            while let Some(done) = sessions.try_join_next() {
                if let Err(e) = done
                    && e.is_panic()
                {
                    error!(error = %e, "an SMTP session panicked; the server goes on");
                }
            }
            if *shutdown.borrow_and_update() {
                break;
            }
            tokio::select! {
                changed = shutdown.changed() => {
                    if changed.is_err() {
                        break;
                    }
                }
                accepted = listener.accept() => match accepted {
                    Ok((stream, peer)) => {
                        let _ = stream.set_nodelay(true);
                        let active = ActiveGuard::enter(&counters);
                        if active.count > self.config.smtp.max_sessions {
                            info!(%peer, limit = self.config.smtp.max_sessions, "session limit reached; 421");
                            refuse_now(&stream, &self.config);
                            continue;
                        }
                        let front = Arc::clone(&self);
                        let phase = phase_rx.clone();
                        let counters = Arc::clone(&counters);
                        sessions.spawn(async move {
                            session::run(front, stream, peer, phase, counters, active).await;
                        });
                    }
                    Err(e) => {
                        warn!(error = %e, "accept failed; retrying");
                        tokio::time::sleep(Duration::from_millis(100)).await;
                    }
                },
            }
        }
        drop(listener);
        info!(
            sessions = sessions.len(),
            "smtp-front shutting down; draining sessions"
        );
        let _ = phase_tx.send(Phase::Draining);
        let drained = tokio::time::timeout(self.drain_timeout, join_all(&mut sessions)).await;
        if drained.is_err() {
            warn!(
                sessions = sessions.len(),
                "drain timeout; closing remaining sessions"
            );
            let _ = phase_tx.send(Phase::Closing);
            if tokio::time::timeout(CLOSE_GRACE, join_all(&mut sessions))
                .await
                .is_err()
            {
                warn!(sessions = sessions.len(), "aborting stuck sessions");
                sessions.abort_all();
                join_all(&mut sessions).await;
            }
        }
        info!("smtp-front stopped");
        Ok(())
    }
}

impl SmtpFront {
    /// [`SmtpFront::serve`] on a thread of its own (`mmsc-smtp`) with a
    /// single-threaded runtime: every session's socket, timer and task is then driven
    /// by that one event loop, as in an event-driven MTA, instead of being passed
    /// between the worker threads of a shared runtime. Only the answers of the
    /// backend (the intake's) come from other threads. The returned future ends when
    /// that thread's `serve` does.
    pub fn serve_on_own_thread(
        self: Arc<Self>,
        listener: TcpListener,
        shutdown: watch::Receiver<bool>,
    ) -> impl std::future::Future<Output = io::Result<()>> + Send + 'static {
        let (done_tx, done_rx) = tokio::sync::oneshot::channel();
        // The listener (and so every session's socket) must belong to the thread's
        // own I/O driver, not to the runtime it was bound on.
        let started = listener.into_std().and_then(|std_listener| {
            std::thread::Builder::new()
                .name("mmsc-smtp".to_string())
                .spawn(move || {
                    let result = tokio::runtime::Builder::new_current_thread()
                        .enable_all()
                        .build()
                        .and_then(|rt| {
                            rt.block_on(async move {
                                let listener = TcpListener::from_std(std_listener)?;
                                self.serve(listener, shutdown).await
                            })
                        });
                    let _ = done_tx.send(result);
                })
        });
        async move {
            started?;
            done_rx
                .await
                .unwrap_or_else(|_| Err(io::Error::other("the SMTP front's thread panicked")))
        }
    }
}

async fn join_all(set: &mut JoinSet<()>) {
    while set.join_next().await.is_some() {}
}

/// Writes a `421` without waiting (a fresh socket's buffer always has room) and drops
/// the connection, so a connection flood costs no task and no timer.
fn refuse_now(stream: &TcpStream, config: &Config) {
    let line = format!(
        "421 4.7.0 {} Too many connections, try again later\r\n",
        config.smtp_hostname()
    );
    let _ = stream.try_write(line.as_bytes());
}

/// Session counts shared by the accept loop and the sessions.
#[derive(Debug, Default)]
pub(crate) struct Counters {
    active: AtomicUsize,
    per_peer: Mutex<HashMap<IpAddr, usize>>,
}

/// One live connection in [`Counters::active`].
#[derive(Debug)]
pub(crate) struct ActiveGuard {
    counters: Arc<Counters>,
    count: usize,
}

impl ActiveGuard {
    fn enter(counters: &Arc<Counters>) -> ActiveGuard {
        let count = counters.active.fetch_add(1, Ordering::SeqCst) + 1;
        ActiveGuard {
            counters: Arc::clone(counters),
            count,
        }
    }
}

impl Drop for ActiveGuard {
    fn drop(&mut self) {
        self.counters.active.fetch_sub(1, Ordering::SeqCst);
    }
}

/// One live session of a client IP.
#[derive(Debug)]
pub(crate) struct PeerGuard {
    counters: Arc<Counters>,
    ip: IpAddr,
}

impl Counters {
    /// Registers a session of `ip`; `None` when it already has `max`.
    pub(crate) fn enter_peer(self: &Arc<Self>, ip: IpAddr, max: usize) -> Option<PeerGuard> {
        let mut map = self.per_peer.lock().unwrap_or_else(|e| e.into_inner());
        let n = map.entry(ip).or_insert(0);
        if *n >= max {
            return None;
        }
        *n += 1;
        Some(PeerGuard {
            counters: Arc::clone(self),
            ip,
        })
    }
}

impl Drop for PeerGuard {
    fn drop(&mut self) {
        let mut map = self
            .counters
            .per_peer
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        if let Some(n) = map.get_mut(&self.ip) {
            *n = n.saturating_sub(1);
            if *n == 0 {
                map.remove(&self.ip);
            }
        }
    }
}

/// Writes one line with a bound on the time it may take (used before a session
/// exists: per-peer limit at connect).
pub(crate) async fn write_line_bounded<W: tokio::io::AsyncWrite + Unpin>(
    w: &mut W,
    line: &str,
    limit: Duration,
) {
    let res = tokio::time::timeout(limit, async {
        w.write_all(line.as_bytes()).await?;
        w.flush().await
    })
    .await;
    if !matches!(res, Ok(Ok(()))) {
        debug!("could not deliver {:?} before closing", line.trim_end());
    }
}
