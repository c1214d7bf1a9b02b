//! Diameter client: long-lived connections to a primary and a secondary charging
//! server (RFC 6733 peer state machine as far as a client needs it, RFC 3539
//! watchdog, RFC 4006 failover).
//!
//! - Every connection opens with CER/CEA (seed 004 values, [`Capabilities::mmsc`]).
//! - A watchdog per connection (RFC 3539): OKAY -> SUSPECT after one unanswered
//!   DWR, SUSPECT -> DOWN after another Tw, DOWN -> reconnect -> REOPEN, and REOPEN
//!   -> OKAY after three DWAs in a row. Any traffic from the peer resets the timer.
//! - Many requests in flight per connection, matched to answers by Hop-by-Hop id.
//! - Requests go to the first peer (in configured order) that is OKAY. When a
//!   connection goes SUSPECT or DOWN, its unanswered requests are sent again to
//!   another peer with the T (retransmitted) flag and the same End-to-End id, so
//!   the server can recognise the duplicate. When the primary is OKAY again new
//!   requests go back to it (failback).
//! - The peer's DWR and DPR are answered; DPR/DPA is sent on [`DiameterClient::shutdown`].
//! - Each request has a deadline; past it the caller gets [`PeerError::Timeout`].

mod conn;
mod describe;
mod peer;

pub use conn::{Connection, FrameReader, MAX_MESSAGE, PacketDirection, PacketLog, PacketTap};
pub use describe::describe;

use crate::codec::diameter::{
    Address, Capabilities, Command, CommandFlags, CreditControlAnswer, CreditControlRequest,
    Message,
};
use peer::{PeerShared, PendingRequest};
use std::net::IpAddr;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::{mpsc, oneshot, watch};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PeerError {
    #[error("I/O error: {0}")]
    Io(String),
    #[error("protocol error: {0}")]
    Protocol(String),
    /// The peer answered the capabilities exchange with this Result-Code.
    #[error("peer refused the connection with Result-Code {0}")]
    Refused(u32),
    #[error("timed out: {0}")]
    Timeout(String),
    #[error("no charging server is available")]
    NoPeer,
    #[error("the Diameter client is shutting down")]
    Shutdown,
}

/// One charging server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PeerEndpoint {
    /// A label for logs and health (`primary`, `secondary`).
    pub name: String,
    /// `host:port`.
    pub address: String,
}

/// What the client says about itself and how it behaves.
#[derive(Clone)]
pub struct ClientConfig {
    pub origin_host: String,
    pub origin_realm: String,
    /// Host-IP-Address in CER; when empty, the connection's local address.
    pub host_ip_addresses: Vec<IpAddr>,
    pub product_name: String,
    /// In order of preference: primary first.
    pub peers: Vec<PeerEndpoint>,
    /// Tw (RFC 3539).
    pub watchdog_interval: Duration,
    pub request_timeout: Duration,
    pub connect_timeout: Duration,
    /// Pause between connection attempts to a peer that is down.
    pub reconnect_interval: Duration,
    pub tap: Option<Arc<dyn PacketTap>>,
    /// TLS from the first byte when set (RFC 6733 §2.1 TLS/TCP, usually port 5658).
    pub tls: Option<Arc<rustls::ClientConfig>>,
    /// The name the server's certificate must carry; default the host of its address.
    pub tls_server_name: Option<String>,
}

impl ClientConfig {
    pub fn new(origin_host: &str, origin_realm: &str, peers: Vec<PeerEndpoint>) -> Self {
        Self {
            origin_host: origin_host.into(),
            origin_realm: origin_realm.into(),
            host_ip_addresses: Vec::new(),
            product_name: "MMSC".into(),
            peers,
            watchdog_interval: Duration::from_secs(30),
            request_timeout: Duration::from_secs(10),
            connect_timeout: Duration::from_secs(5),
            reconnect_interval: Duration::from_secs(5),
            tap: None,
            tls: None,
            tls_server_name: None,
        }
    }

    /// CER contents for a connection whose local address is `local`.
    pub fn capabilities(&self, local: Option<IpAddr>) -> Capabilities {
        let ip = self
            .host_ip_addresses
            .first()
            .copied()
            .or(local)
            .unwrap_or(IpAddr::from([127, 0, 0, 1]));
        let mut caps = Capabilities::mmsc(&self.origin_host, &self.origin_realm, Address::from(ip));
        caps.host_ip_addresses = if self.host_ip_addresses.is_empty() {
            vec![Address::from(ip)]
        } else {
            self.host_ip_addresses
                .iter()
                .map(|a| Address::from(*a))
                .collect()
        };
        caps.product_name = self.product_name.clone();
        caps
    }
}

/// A TLS client configuration trusting the PEM certificates in `ca_pem` (the
/// charging servers' CA or their self-signed certificates).
pub fn tls_config(ca_pem: &[u8]) -> Result<Arc<rustls::ClientConfig>, String> {
    let mut roots = rustls::RootCertStore::empty();
    let mut reader = std::io::BufReader::new(ca_pem);
    for cert in rustls_pemfile::certs(&mut reader) {
        let cert = cert.map_err(|e| format!("bad PEM: {e}"))?;
        roots
            .add(cert)
            .map_err(|e| format!("bad CA certificate: {e}"))?;
    }
    if roots.is_empty() {
        return Err("no certificate in the CA file".into());
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let cfg = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(Arc::new(cfg))
}

/// RFC 3539 watchdog states, as seen in health.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum PeerState {
    Down,
    Connecting,
    Okay,
    Suspect,
    Reopen,
}

/// A peer's state for `health`.
#[derive(Debug, Clone, serde::Serialize)]
pub struct PeerStatus {
    pub name: String,
    pub address: String,
    pub state: PeerState,
    pub in_flight: usize,
    pub sent: u64,
    pub answered: u64,
    pub failed_over: u64,
    pub last_error: Option<String>,
}

pub(crate) struct ClientInner {
    pub(crate) cfg: ClientConfig,
    pub(crate) peers: Vec<Arc<PeerShared>>,
    waiting: Mutex<Vec<PendingRequest>>,
    end_to_end: AtomicU32,
    pub(crate) shutdown: watch::Sender<bool>,
}

/// A handle on the running client; cheap to clone.
#[derive(Clone)]
pub struct DiameterClient {
    inner: Arc<ClientInner>,
    tasks: Arc<Mutex<Vec<tokio::task::JoinHandle<()>>>>,
}

/// A random 32-bit number (for initial identifiers).
pub fn random_u32() -> u32 {
    (uuid::Uuid::new_v4().as_u128() & 0xffff_ffff) as u32
}

impl DiameterClient {
    /// Starts one connection task per peer. Must run inside a Tokio runtime.
    pub fn start(cfg: ClientConfig) -> Self {
        let (shutdown, _) = watch::channel(false);
        let mut receivers = Vec::new();
        let mut peers = Vec::new();
        for (i, ep) in cfg.peers.iter().enumerate() {
            let (tx, rx) = mpsc::unbounded_channel();
            peers.push(Arc::new(PeerShared::new(i, ep.clone(), tx)));
            receivers.push(rx);
        }
        // RFC 6733 §3: the high 12 bits from the clock, the low 20 random.
        let secs = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs() as u32)
            .unwrap_or(0);
        let e2e = (secs << 20) | (random_u32() & 0x000f_ffff);
        let inner = Arc::new(ClientInner {
            cfg,
            peers,
            waiting: Mutex::new(Vec::new()),
            end_to_end: AtomicU32::new(e2e),
            shutdown,
        });
        let tasks = receivers
            .into_iter()
            .enumerate()
            .map(|(i, rx)| tokio::spawn(peer::run(inner.clone(), i, rx)))
            .collect();
        Self {
            inner,
            tasks: Arc::new(Mutex::new(tasks)),
        }
    }

    pub fn config(&self) -> &ClientConfig {
        &self.inner.cfg
    }

    /// The state of each peer, primary first.
    pub fn status(&self) -> Vec<PeerStatus> {
        self.inner.peers.iter().map(|p| p.status()).collect()
    }

    /// True when some peer is OKAY.
    pub fn is_ready(&self) -> bool {
        self.inner
            .peers
            .iter()
            .any(|p| p.state() == PeerState::Okay)
    }

    /// Waits until some peer is OKAY, up to `timeout`.
    pub async fn wait_ready(&self, timeout: Duration) -> bool {
        let until = Instant::now() + timeout;
        while Instant::now() < until {
            if self.is_ready() {
                return true;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        self.is_ready()
    }

    /// A fresh End-to-End identifier.
    pub fn next_end_to_end(&self) -> u32 {
        self.inner.end_to_end.fetch_add(1, Ordering::Relaxed)
    }

    /// Sends a request and waits for its answer. The Hop-by-Hop id is set per
    /// connection; the End-to-End id is kept as given (0 means "assign one").
    pub async fn request(&self, mut msg: Message) -> Result<Message, PeerError> {
        if *self.inner.shutdown.borrow() {
            return Err(PeerError::Shutdown);
        }
        if msg.header.end_to_end == 0 {
            msg.header.end_to_end = self.next_end_to_end();
        }
        msg.header.flags = msg.header.flags.with(CommandFlags::REQUEST, true);
        let (tx, rx) = oneshot::channel();
        let pending = PendingRequest {
            msg,
            reply: tx,
            retransmit: false,
            deadline: Instant::now() + self.inner.cfg.request_timeout,
        };
        self.inner.dispatch(pending, None);
        match tokio::time::timeout(self.inner.cfg.request_timeout, rx).await {
            Ok(Ok(result)) => result,
            Ok(Err(_)) => Err(PeerError::Shutdown),
            Err(_) => Err(PeerError::Timeout(format!(
                "no answer within {:?}",
                self.inner.cfg.request_timeout
            ))),
        }
    }

    /// Sends a CCR and decodes the CCA. A protocol-error answer (3xxx, which may
    /// lack CCA AVPs) is returned as a CCA with only the Result-Code read.
    pub async fn credit_control(
        &self,
        ccr: &CreditControlRequest,
    ) -> Result<CreditControlAnswer, PeerError> {
        let bytes = ccr
            .to_bytes()
            .map_err(|e| PeerError::Protocol(format!("cannot encode CCR: {e}")))?;
        let msg = Message::from_bytes(&bytes).map_err(|e| PeerError::Protocol(e.to_string()))?;
        let answer = self.request(msg).await?;
        decode_cca(ccr, &answer)
    }

    /// Sends DPR to every connected peer, waits (briefly) for DPA, closes.
    pub async fn shutdown(&self) {
        let _ = self.inner.shutdown.send(true);
        let tasks: Vec<_> = self
            .tasks
            .lock()
            .map(|mut t| t.drain(..).collect())
            .unwrap_or_default();
        for t in tasks {
            let _ = tokio::time::timeout(Duration::from_secs(5), t).await;
        }
        let waiting: Vec<_> = self
            .inner
            .waiting
            .lock()
            .map(|mut w| w.drain(..).collect())
            .unwrap_or_default();
        for p in waiting {
            let _ = p.reply.send(Err(PeerError::Shutdown));
        }
    }
}

/// Reads a CCA from an answer, tolerating protocol-error answers that omit AVPs.
pub fn decode_cca(
    ccr: &CreditControlRequest,
    answer: &Message,
) -> Result<CreditControlAnswer, PeerError> {
    use crate::codec::diameter::{FindAvp, ResultCode, dict};
    match CreditControlAnswer::from_message(answer) {
        Ok(cca) => Ok(cca),
        Err(e) => {
            let code: Option<ResultCode> = answer.get(&dict::RESULT_CODE).ok().flatten();
            match code {
                Some(code) => {
                    let origin_host: String = answer
                        .get(&dict::ORIGIN_HOST)
                        .ok()
                        .flatten()
                        .unwrap_or_default();
                    let origin_realm: String = answer
                        .get(&dict::ORIGIN_REALM)
                        .ok()
                        .flatten()
                        .unwrap_or_default();
                    let mut cca =
                        CreditControlAnswer::for_request(ccr, code, &origin_host, &origin_realm);
                    cca.hop_by_hop = answer.header.hop_by_hop;
                    cca.end_to_end = answer.header.end_to_end;
                    cca.error_message = answer.get(&dict::ERROR_MESSAGE).ok().flatten();
                    Ok(cca)
                }
                None => Err(PeerError::Protocol(format!("bad CCA: {e}"))),
            }
        }
    }
}

impl ClientInner {
    /// Hands a request to the first OKAY peer other than `exclude`, or parks it
    /// until a peer becomes OKAY.
    pub(crate) fn dispatch(&self, p: PendingRequest, exclude: Option<usize>) {
        self.dispatch_marked(p, exclude, false)
    }

    /// As [`dispatch`](Self::dispatch); `sent` marks a request that already went
    /// out on a connection that failed: it is resent with the T flag.
    pub(crate) fn dispatch_marked(
        &self,
        mut p: PendingRequest,
        exclude: Option<usize>,
        sent: bool,
    ) {
        if p.reply.is_closed() {
            return; // the caller gave up
        }
        if sent {
            p.retransmit = true;
        }
        if *self.shutdown.borrow() {
            let _ = p.reply.send(Err(PeerError::Shutdown));
            return;
        }
        for peer in &self.peers {
            if Some(peer.index) == exclude || peer.state() != PeerState::Okay {
                continue;
            }
            match peer.tx.send(p) {
                Ok(()) => return,
                Err(e) => p = e.0,
            }
        }
        if let Ok(mut w) = self.waiting.lock() {
            w.push(p);
        }
    }

    /// A peer became OKAY: send it everything that was waiting.
    pub(crate) fn drain_waiting(&self) {
        let now = Instant::now();
        let parked: Vec<_> = self
            .waiting
            .lock()
            .map(|mut w| w.drain(..).collect())
            .unwrap_or_default();
        for p in parked {
            if p.deadline > now {
                self.dispatch(p, None);
            }
        }
    }
}

#[cfg(test)]
mod tests;
