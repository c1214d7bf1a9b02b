//! One peer's connection task: connect, CER/CEA, then serve requests with the
//! RFC 3539 watchdog until the connection fails, then reconnect.

use super::conn::{FrameReader, PacketDirection};
use super::{ClientInner, PeerEndpoint, PeerError, PeerState, PeerStatus, random_u32};
use crate::codec::diameter::dict;
use crate::codec::diameter::{
    Command, CommandCode, CommandFlags, DeviceWatchdogAnswer, DeviceWatchdogRequest,
    DisconnectCause, DisconnectPeerAnswer, DisconnectPeerRequest, Message, ResultCode,
    encode_message,
};
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt, WriteHalf};
use tokio::net::TcpStream;

/// A connection's byte stream: plain TCP or TLS over TCP.
pub(crate) trait Io: AsyncRead + AsyncWrite + Send + Unpin {}
impl<T: AsyncRead + AsyncWrite + Send + Unpin> Io for T {}
type Writer = WriteHalf<Box<dyn Io>>;
use tokio::sync::{mpsc, oneshot};
use tracing::{Instrument, debug, info, info_span, warn};

/// A request waiting for its answer.
pub(crate) struct PendingRequest {
    pub msg: Message,
    pub reply: oneshot::Sender<Result<Message, PeerError>>,
    pub retransmit: bool,
    pub deadline: Instant,
}

pub(crate) struct PeerShared {
    pub index: usize,
    pub endpoint: PeerEndpoint,
    pub tx: mpsc::UnboundedSender<PendingRequest>,
    state: Mutex<PeerState>,
    last_error: Mutex<Option<String>>,
    in_flight: AtomicU64,
    sent: AtomicU64,
    answered: AtomicU64,
    failed_over: AtomicU64,
}

impl PeerShared {
    pub fn new(
        index: usize,
        endpoint: PeerEndpoint,
        tx: mpsc::UnboundedSender<PendingRequest>,
    ) -> Self {
        Self {
            index,
            endpoint,
            tx,
            state: Mutex::new(PeerState::Down),
            last_error: Mutex::new(None),
            in_flight: AtomicU64::new(0),
            sent: AtomicU64::new(0),
            answered: AtomicU64::new(0),
            failed_over: AtomicU64::new(0),
        }
    }

    pub fn state(&self) -> PeerState {
        self.state.lock().map(|s| *s).unwrap_or(PeerState::Down)
    }

    fn set_state(&self, s: PeerState) {
        if let Ok(mut st) = self.state.lock()
            && *st != s
        {
            info!(peer = %self.endpoint.name, from = ?*st, to = ?s, "Diameter peer state");
            *st = s;
        }
    }

    fn set_error(&self, e: &str) {
        if let Ok(mut le) = self.last_error.lock() {
            *le = Some(e.to_string());
        }
    }

    pub fn status(&self) -> PeerStatus {
        PeerStatus {
            name: self.endpoint.name.clone(),
            address: self.endpoint.address.clone(),
            state: self.state(),
            in_flight: self.in_flight.load(Ordering::Relaxed) as usize,
            sent: self.sent.load(Ordering::Relaxed),
            answered: self.answered.load(Ordering::Relaxed),
            failed_over: self.failed_over.load(Ordering::Relaxed),
            last_error: self.last_error.lock().ok().and_then(|e| e.clone()),
        }
    }
}

/// The connection task of peer `index`.
pub(crate) async fn run(
    inner: Arc<ClientInner>,
    index: usize,
    mut rx: mpsc::UnboundedReceiver<PendingRequest>,
) {
    let Some(me) = inner.peers.get(index).cloned() else {
        return;
    };
    let span =
        info_span!("diameter_peer", peer = %me.endpoint.name, address = %me.endpoint.address);
    async move {
        let mut shutdown = inner.shutdown.subscribe();
        let mut ever_connected = false;
        loop {
            if *shutdown.borrow() {
                break;
            }
            me.set_state(PeerState::Connecting);
            match connect(&inner, &me).await {
                Ok((stream, local)) => {
                    let reopen = ever_connected;
                    ever_connected = true;
                    serve(&inner, &me, stream, local, reopen, &mut rx, &mut shutdown).await;
                }
                Err(e) => {
                    debug!(error = %e, "connection attempt failed");
                    me.set_error(&e.to_string());
                }
            }
            me.set_state(PeerState::Down);
            if *shutdown.borrow() {
                break;
            }
            // While down, hand anything that reaches us to another peer.
            let pause = tokio::time::sleep(inner.cfg.reconnect_interval);
            tokio::pin!(pause);
            loop {
                tokio::select! {
                    _ = &mut pause => break,
                    _ = shutdown.changed() => break,
                    Some(p) = rx.recv() => inner.dispatch(p, Some(index)),
                }
            }
        }
        me.set_state(PeerState::Down);
        while let Ok(p) = rx.try_recv() {
            let _ = p.reply.send(Err(PeerError::Shutdown));
        }
    }
    .instrument(span)
    .await
}

async fn connect(
    inner: &ClientInner,
    me: &PeerShared,
) -> Result<(Box<dyn Io>, Option<std::net::IpAddr>), PeerError> {
    let stream = tokio::time::timeout(
        inner.cfg.connect_timeout,
        TcpStream::connect(&me.endpoint.address),
    )
    .await
    .map_err(|_| PeerError::Timeout(format!("connect to {}", me.endpoint.address)))?
    .map_err(|e| PeerError::Io(format!("connect to {}: {e}", me.endpoint.address)))?;
    let _ = stream.set_nodelay(true);
    let local = stream.local_addr().ok().map(|a| a.ip());
    let Some(tls) = &inner.cfg.tls else {
        return Ok((Box::new(stream), local));
    };
    // TLS from the first byte (RFC 6733 §2.1, "TLS/TCP").
    let host = me
        .endpoint
        .address
        .rsplit_once(':')
        .map_or(me.endpoint.address.as_str(), |(h, _)| h)
        .trim_start_matches('[')
        .trim_end_matches(']')
        .to_string();
    let name = inner.cfg.tls_server_name.clone().unwrap_or(host);
    let server_name = rustls::pki_types::ServerName::try_from(name.clone())
        .map_err(|e| PeerError::Protocol(format!("TLS server name {name:?}: {e}")))?;
    let tls_stream = tokio::time::timeout(
        inner.cfg.connect_timeout,
        tokio_rustls::TlsConnector::from(tls.clone()).connect(server_name, stream),
    )
    .await
    .map_err(|_| PeerError::Timeout(format!("TLS handshake with {}", me.endpoint.address)))?
    .map_err(|e| PeerError::Io(format!("TLS handshake with {}: {e}", me.endpoint.address)))?;
    Ok((Box::new(tls_stream), local))
}

struct Watchdog {
    deadline: Instant,
    pending: bool,
    num_dwa: u32,
}

fn jittered(tw: Duration) -> Duration {
    // RFC 3539 §3.4.1: Tw plus a random jitter of up to +/- 2 s (smaller for short Tw).
    let span = (tw.as_millis() as u64 / 4).min(2000);
    if span == 0 {
        return tw;
    }
    let j = u64::from(random_u32()) % (2 * span + 1);
    (tw + Duration::from_millis(j)).saturating_sub(Duration::from_millis(span))
}

async fn serve(
    inner: &ClientInner,
    me: &PeerShared,
    stream: Box<dyn Io>,
    local: Option<std::net::IpAddr>,
    reopen: bool,
    rx: &mut mpsc::UnboundedReceiver<PendingRequest>,
    shutdown: &mut tokio::sync::watch::Receiver<bool>,
) {
    let cfg = &inner.cfg;
    let tap = cfg.tap.clone();
    let peer_name = me.endpoint.name.clone();
    let mut hop = random_u32();
    let mut next_hop = move || {
        hop = hop.wrapping_add(1);
        hop
    };
    let caps = cfg.capabilities(local);
    let (rd, mut wr) = tokio::io::split(stream);
    let mut reader = FrameReader::new(rd);

    // Capabilities exchange, then hand the reader to its own task.
    let tap_send = |bytes: &[u8]| {
        if let Some(t) = &tap {
            t.packet(&peer_name, PacketDirection::Sent, bytes);
        }
    };
    let cer = crate::codec::diameter::CapabilitiesExchangeRequest {
        hop_by_hop: next_hop(),
        end_to_end: inner.end_to_end.fetch_add(1, Ordering::Relaxed),
        capabilities: caps,
        extra: Vec::new(),
    };
    let Ok(cer_bytes) = cer.to_bytes() else {
        me.set_error("cannot encode CER");
        return;
    };
    tap_send(&cer_bytes);
    if let Err(e) = wr.write_all(&cer_bytes).await {
        me.set_error(&format!("sending CER: {e}"));
        return;
    }
    let cea = tokio::time::timeout(cfg.connect_timeout, reader.next_frame()).await;
    let cea = match cea {
        Ok(Ok(Some(f))) => f,
        Ok(Ok(None)) => {
            me.set_error("peer closed the connection before CEA");
            return;
        }
        Ok(Err(e)) => {
            me.set_error(&format!("reading CEA: {e}"));
            return;
        }
        Err(_) => {
            me.set_error("no CEA in time");
            return;
        }
    };
    if let Some(t) = &tap {
        t.packet(&peer_name, PacketDirection::Received, &cea);
    }
    let code = Message::from_bytes(&cea).ok().and_then(|m| {
        use crate::codec::diameter::FindAvp;
        (m.header.code == CommandCode::CEA && !m.header.is_request())
            .then(|| m.get::<ResultCode>(&dict::RESULT_CODE).ok().flatten())
            .flatten()
    });
    match code {
        Some(c) if c.is_success() => {}
        Some(c) => {
            warn!(result_code = c.0, "peer refused our CER");
            me.set_error(&format!("CEA Result-Code {}", c.0));
            return;
        }
        None => {
            me.set_error("no valid CEA");
            return;
        }
    }
    info!("Diameter connection up (CEA 2001)");

    let (in_tx, mut incoming) = mpsc::channel::<Result<Option<Vec<u8>>, PeerError>>(64);
    let reader_task = tokio::spawn(async move {
        loop {
            let r = reader.next_frame().await;
            let end = !matches!(r, Ok(Some(_)));
            if in_tx.send(r).await.is_err() || end {
                break;
            }
        }
    });

    let tw = cfg.watchdog_interval;
    let mut wd = Watchdog {
        deadline: Instant::now() + jittered(tw),
        pending: false,
        num_dwa: 0,
    };
    let mut in_flight: HashMap<u32, PendingRequest> = HashMap::new();
    let mut dwr_hops: Vec<u32> = Vec::new();
    let mut dpr_hop: Option<u32> = None;
    let mut dpr_deadline: Option<Instant> = None;

    if reopen {
        me.set_state(PeerState::Reopen);
        let h = next_hop();
        if send_dwr(inner, &mut wr, h, &tap, &peer_name).await.is_err() {
            reader_task.abort();
            return;
        }
        dwr_hops.push(h);
        wd.pending = true;
    } else {
        me.set_state(PeerState::Okay);
        inner.drain_waiting();
    }

    let mut sweep = tokio::time::interval(Duration::from_millis(200));
    let close_reason: String = loop {
        let wd_sleep = tokio::time::sleep_until(tokio::time::Instant::from_std(
            dpr_deadline.map_or(wd.deadline, |d| d.min(wd.deadline)),
        ));
        tokio::select! {
            frame = incoming.recv() => {
                let frame = match frame {
                    Some(Ok(Some(f))) => f,
                    Some(Ok(None)) | None => break "peer closed the connection".into(),
                    Some(Err(e)) => break e.to_string(),
                };
                if let Some(t) = &tap {
                    t.packet(&peer_name, PacketDirection::Received, &frame);
                }
                let msg = match Message::from_bytes(&frame) {
                    Ok(m) => m,
                    Err(e) => break format!("undecodable message: {e}"),
                };
                // Any traffic shows the peer alive.
                wd.deadline = Instant::now() + jittered(tw);
                let state = me.state();
                if state == PeerState::Suspect {
                    me.set_state(PeerState::Okay);
                    inner.drain_waiting();
                }
                if msg.header.is_request() {
                    match msg.header.code {
                        CommandCode::DWR => {
                            let dwa = DeviceWatchdogAnswer {
                                hop_by_hop: msg.header.hop_by_hop,
                                end_to_end: msg.header.end_to_end,
                                result_code: ResultCode::SUCCESS,
                                origin_host: cfg.origin_host.clone(),
                                origin_realm: cfg.origin_realm.clone(),
                                error_message: None,
                                failed_avp: None,
                                origin_state_id: None,
                                extra: Vec::new(),
                            };
                            if write_cmd(&mut wr, &dwa, &tap, &peer_name).await.is_err() {
                                break "write failed".into();
                            }
                        }
                        CommandCode::DPR => {
                            let dpa = DisconnectPeerAnswer {
                                hop_by_hop: msg.header.hop_by_hop,
                                end_to_end: msg.header.end_to_end,
                                result_code: ResultCode::SUCCESS,
                                origin_host: cfg.origin_host.clone(),
                                origin_realm: cfg.origin_realm.clone(),
                                error_message: None,
                                failed_avp: None,
                                extra: Vec::new(),
                            };
                            let _ = write_cmd(&mut wr, &dpa, &tap, &peer_name).await;
                            break "peer sent DPR".into();
                        }
                        _ => {
                            // We serve no application: DIAMETER_COMMAND_UNSUPPORTED.
                            if answer_unsupported(cfg, &msg, &mut wr, &tap, &peer_name).await.is_err() {
                                break "write failed".into();
                            }
                        }
                    }
                    continue;
                }
                let hbh = msg.header.hop_by_hop;
                if msg.header.code == CommandCode::DWA && dwr_hops.contains(&hbh) {
                    dwr_hops.retain(|h| *h != hbh);
                    wd.pending = false;
                    if me.state() == PeerState::Reopen {
                        wd.num_dwa += 1;
                        if wd.num_dwa >= 3 {
                            me.set_state(PeerState::Okay);
                            inner.drain_waiting();
                        }
                    }
                    continue;
                }
                if msg.header.code == CommandCode::DPA && dpr_hop == Some(hbh) {
                    break "DPA received".into();
                }
                if let Some(p) = in_flight.remove(&hbh) {
                    me.in_flight.store(in_flight.len() as u64, Ordering::Relaxed);
                    me.answered.fetch_add(1, Ordering::Relaxed);
                    let _ = p.reply.send(Ok(msg));
                } else {
                    debug!(hop_by_hop = hbh, "answer for no request in flight (late or duplicate); dropped");
                }
            }
            Some(mut p) = rx.recv(), if dpr_hop.is_none() => {
                if me.state() != PeerState::Okay || p.reply.is_closed() {
                    inner.dispatch(p, Some(me.index));
                    continue;
                }
                let h = next_hop();
                p.msg.header.hop_by_hop = h;
                // T when the caller asked for it or the request failed over.
                if p.retransmit {
                    p.msg.header.flags = p.msg.header.flags.with(CommandFlags::RETRANSMITTED, true);
                }
                let bytes = match p.msg.to_bytes() {
                    Ok(b) => b,
                    Err(e) => {
                        let _ = p.reply.send(Err(PeerError::Protocol(e.to_string())));
                        continue;
                    }
                };
                if let Some(t) = &tap {
                    t.packet(&peer_name, PacketDirection::Sent, &bytes);
                }
                let failed = wr.write_all(&bytes).await.is_err();
                me.sent.fetch_add(1, Ordering::Relaxed);
                in_flight.insert(h, p);
                me.in_flight.store(in_flight.len() as u64, Ordering::Relaxed);
                if failed {
                    break "write failed".into();
                }
            }
            _ = wd_sleep => {
                if let Some(d) = dpr_deadline && Instant::now() >= d {
                    break "no DPA in time".into();
                }
                if Instant::now() < wd.deadline {
                    continue;
                }
                wd.deadline = Instant::now() + jittered(tw);
                match (me.state(), wd.pending) {
                    (PeerState::Okay, true) => {
                        warn!("no answer to DWR: peer suspect; failing over its requests");
                        me.set_state(PeerState::Suspect);
                        fail_over(inner, me, &mut in_flight);
                    }
                    (PeerState::Suspect, _) => break "watchdog: peer down".into(),
                    (PeerState::Reopen, true) => break "watchdog: no DWA while reopening".into(),
                    _ => {
                        let h = next_hop();
                        if send_dwr(inner, &mut wr, h, &tap, &peer_name).await.is_err() {
                            break "write failed".into();
                        }
                        dwr_hops.push(h);
                        wd.pending = true;
                    }
                }
            }
            _ = sweep.tick() => {
                // Callers that timed out no longer wait: forget their requests.
                let before = in_flight.len();
                in_flight.retain(|_, p| !p.reply.is_closed());
                if in_flight.len() != before {
                    me.in_flight.store(in_flight.len() as u64, Ordering::Relaxed);
                }
            }
            changed = shutdown.changed(), if dpr_hop.is_none() => {
                if changed.is_err() || *shutdown.borrow() {
                    let h = next_hop();
                    let dpr = DisconnectPeerRequest {
                        hop_by_hop: h,
                        end_to_end: inner.end_to_end.fetch_add(1, Ordering::Relaxed),
                        origin_host: cfg.origin_host.clone(),
                        origin_realm: cfg.origin_realm.clone(),
                        disconnect_cause: DisconnectCause::REBOOTING,
                        extra: Vec::new(),
                    };
                    if write_cmd(&mut wr, &dpr, &tap, &peer_name).await.is_err() {
                        break "write failed".into();
                    }
                    dpr_hop = Some(h);
                    dpr_deadline = Some(Instant::now() + Duration::from_secs(2));
                }
            }
        }
    };
    info!(reason = %close_reason, "Diameter connection closed");
    me.set_error(&close_reason);
    reader_task.abort();
    let _ = wr.shutdown().await;
    me.set_state(PeerState::Down);
    if *shutdown.borrow() {
        for (_, p) in in_flight.drain() {
            let _ = p.reply.send(Err(PeerError::Shutdown));
        }
    } else {
        fail_over(inner, me, &mut in_flight);
    }
    me.in_flight.store(0, Ordering::Relaxed);
}

fn fail_over(inner: &ClientInner, me: &PeerShared, in_flight: &mut HashMap<u32, PendingRequest>) {
    for (_, p) in in_flight.drain() {
        me.failed_over.fetch_add(1, Ordering::Relaxed);
        inner.dispatch_marked(p, Some(me.index), true);
    }
    me.in_flight.store(0, Ordering::Relaxed);
}

async fn write_cmd<C: Command>(
    wr: &mut Writer,
    cmd: &C,
    tap: &Option<Arc<dyn super::PacketTap>>,
    peer: &str,
) -> Result<(), PeerError> {
    let bytes = cmd
        .to_bytes()
        .map_err(|e| PeerError::Protocol(e.to_string()))?;
    if let Some(t) = tap {
        t.packet(peer, PacketDirection::Sent, &bytes);
    }
    wr.write_all(&bytes)
        .await
        .map_err(|e| PeerError::Io(e.to_string()))
}

async fn send_dwr(
    inner: &ClientInner,
    wr: &mut Writer,
    hop: u32,
    tap: &Option<Arc<dyn super::PacketTap>>,
    peer: &str,
) -> Result<(), PeerError> {
    let dwr = DeviceWatchdogRequest {
        hop_by_hop: hop,
        end_to_end: inner.end_to_end.fetch_add(1, Ordering::Relaxed),
        origin_host: inner.cfg.origin_host.clone(),
        origin_realm: inner.cfg.origin_realm.clone(),
        origin_state_id: None,
        extra: Vec::new(),
    };
    write_cmd(wr, &dwr, tap, peer).await
}

/// Answers a request we do not serve with 3001 DIAMETER_COMMAND_UNSUPPORTED.
async fn answer_unsupported(
    cfg: &super::ClientConfig,
    req: &Message,
    wr: &mut Writer,
    tap: &Option<Arc<dyn super::PacketTap>>,
    peer: &str,
) -> Result<(), PeerError> {
    use crate::codec::diameter::FindAvp;
    let mut header = req.header;
    header.flags = CommandFlags::NONE
        .with(
            CommandFlags::PROXIABLE,
            req.header.flags.contains(CommandFlags::PROXIABLE),
        )
        .with(CommandFlags::ERROR, true);
    let session: Option<String> = req.get(&dict::SESSION_ID).ok().flatten();
    let mut out = Vec::new();
    encode_message(&mut out, &header, |w| {
        if let Some(s) = &session {
            w.put(&dict::SESSION_ID, s)?;
        }
        w.put(&dict::RESULT_CODE, &ResultCode::COMMAND_UNSUPPORTED)?;
        w.put(&dict::ORIGIN_HOST, &cfg.origin_host)?;
        w.put(&dict::ORIGIN_REALM, &cfg.origin_realm)
    })
    .map_err(|e| PeerError::Protocol(e.to_string()))?;
    if let Some(t) = tap {
        t.packet(peer, PacketDirection::Sent, &out);
    }
    wr.write_all(&out)
        .await
        .map_err(|e| PeerError::Io(e.to_string()))
}
