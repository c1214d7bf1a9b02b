//! `POST /mm7`: the MM7 interface for content providers (VASPs), SOAP 1.1 with
//! attachments (3GPP TS 23.140 §8.7).
//!
//! Order of work for every request: read the body (to the end, however large: over
//! `http.max_body_size` it is answered 413 after it was consumed), identify the VASP
//! (Basic / Digest / network, 401 + 4001), apply its rate limit (4006), parse (2007 /
//! 4004 / 4002 / 4003), authorise (sender, VASPID, service code, recipients), and then:
//!
//! * `SubmitReq`: every recipient is checked for a route with the static routing tables
//!   (no callback, no charging here), the raw request is stored and an `Ingest` job is
//!   queued; only then `SubmitRsp` with our MessageID, 1000 or 1100 listing the
//!   recipients that cannot be resolved (none resolvable: 2002/2003, nothing stored).
//!   Store or queue failure: 3000 and nothing is kept.
//! * `CancelReq` / `ReplaceReq`: only for our MessageIDs (2005), only by the VASP that
//!   submitted it (2001), only while local recipients have not retrieved it (3001);
//!   cancel queues a `rejected` event per such recipient, replace stores the request
//!   and queues it to `ingest`, which swaps the content.
//!
//! Like every front it reads state or stores and queues; it never routes for real or
//! charges (that is `ingest`).

pub mod auth;

#[cfg(test)]
mod tests;

use axum::body::Body;
use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode as HttpStatus, header};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use http_body_util::BodyExt;
use mmsc_shared::codec::mm7::{
    CancelReq, GenericRsp, Mm7Body, Mm7Message, ReplaceReq, SenderIdentification, Status,
    StatusCode, SubmitReq, SubmitRsp, Version,
};
use mmsc_shared::config::{Config, VaspConfig};
use mmsc_shared::domain::{Address, Direction, Interface, Job, MessageId, Origin, RecipientState};
use mmsc_shared::handlers::records::Records;
use mmsc_shared::ports::{
    Arrival, Clock, Intake, IntakeError, ObjectStore, Queue, SeparateIntake, StateStore,
};
use mmsc_shared::routing::{Route, Router};
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tracing::{Instrument, info, info_span, warn};

/// Everything `/mm7` needs.
pub struct Mm7Front {
    config: Arc<Config>,
    router: Router,
    state: Arc<dyn StateStore>,
    queue: Arc<dyn Queue>,
    intake: Arc<dyn Intake>,
    clock: Arc<dyn Clock>,
    nonces: auth::Nonces,
    buckets: Mutex<HashMap<String, (f64, Instant)>>,
}

/// Hard cap on what we read of an oversize body before giving up on the connection.
const DISCARD_FACTOR: u64 = 4;

impl Mm7Front {
    pub fn new(
        config: Arc<Config>,
        objects: Arc<dyn ObjectStore>,
        state: Arc<dyn StateStore>,
        queue: Arc<dyn Queue>,
        clock: Arc<dyn Clock>,
    ) -> Self {
        Mm7Front {
            router: Router::new(&config),
            config,
            intake: Arc::new(SeparateIntake::new(objects, queue.clone())),
            state,
            queue,
            clock,
            nonces: auth::Nonces::new(),
            buckets: Mutex::new(HashMap::new()),
        }
    }

    /// How submissions are stored and queued (see `SmtpFront::with_intake`).
    pub fn with_intake(mut self, intake: Arc<dyn Intake>) -> Self {
        self.intake = intake;
        self
    }

    pub fn routes(self: Arc<Self>) -> axum::Router {
        axum::Router::new()
            .route("/mm7", axum::routing::post(post_mm7))
            .with_state(self)
    }

    fn records(&self) -> Records<'_> {
        Records::new(
            self.state.as_ref(),
            self.clock.as_ref(),
            Duration::from_secs(self.config.mmsc.retention_secs),
        )
    }

    /// Token bucket per VASP: `rate_limit` requests a second, bursts of as many.
    fn allow(&self, vasp: &VaspConfig) -> bool {
        if vasp.rate_limit == 0 {
            return true;
        }
        let rate = f64::from(vasp.rate_limit);
        let now = Instant::now();
        let mut b = self.buckets.lock().unwrap_or_else(|p| p.into_inner());
        let (tokens, at) = b.entry(vasp.id.clone()).or_insert((rate, now));
        *tokens = (*tokens + now.duration_since(*at).as_secs_f64() * rate).min(rate);
        *at = now;
        if *tokens >= 1.0 {
            *tokens -= 1.0;
            true
        } else {
            false
        }
    }
}

/// The MM7 answer: SOAP in an HTTP response.
fn soap(status: HttpStatus, msg: &Mm7Message) -> Response {
    let (ct, body) = msg.to_http();
    let mut r = (status, body).into_response();
    if let Ok(v) = HeaderValue::from_str(&ct) {
        r.headers_mut().insert(header::CONTENT_TYPE, v);
    }
    r
}

/// An `RSErrorRsp` (in a SOAP Fault) in `version`.
fn rs_error(http: HttpStatus, txid: &str, version: &Version, status: Status) -> Response {
    let body = Mm7Body::RsErrorRsp(GenericRsp {
        mm7_version: version.mm7_version().to_string(),
        status,
    });
    soap(http, &Mm7Message::new(txid, version.clone(), body))
}

/// Transaction id and version of a request we could not fully parse, so the error is
/// answered in kind where that is possible.
fn sniff(ct: &str, body: &[u8]) -> (String, Version) {
    match Mm7Message::parse(ct, body) {
        Ok(m) => (m.transaction_id, m.version),
        Err(_) => (sniff_transaction_id(body), Version::default()),
    }
}

/// The text of the first `TransactionID` element, found without parsing (the request
/// did not parse); `unknown` when there is none.
fn sniff_transaction_id(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(&body[..body.len().min(64 * 1024)]);
    text.find("TransactionID")
        .and_then(|i| {
            let rest = &text[i..];
            let open = rest.find('>')?;
            let value = &rest[open + 1..];
            let end = value.find('<')?;
            let v = value[..end].trim();
            (!v.is_empty() && v.len() <= 200 && !v.contains(['>', '&'])).then(|| v.to_string())
        })
        .unwrap_or_else(|| "unknown".into())
}

enum ReadBody {
    Ok(Bytes),
    TooLarge(u64),
    Failed(String),
}

/// Reads the whole body; beyond `limit` the rest is consumed and dropped (up to a hard
/// cap) so the client gets an answer rather than a reset.
async fn read_body(body: Body, limit: u64) -> ReadBody {
    let mut body = body;
    let mut buf = Vec::new();
    let mut total: u64 = 0;
    while let Some(frame) = body.frame().await {
        let frame = match frame {
            Ok(f) => f,
            Err(e) => return ReadBody::Failed(e.to_string()),
        };
        if let Ok(data) = frame.into_data() {
            total += data.len() as u64;
            if total <= limit {
                buf.extend_from_slice(&data);
            } else if total > limit.saturating_mul(DISCARD_FACTOR) {
                return ReadBody::TooLarge(total);
            }
        }
    }
    if total > limit {
        ReadBody::TooLarge(total)
    } else {
        ReadBody::Ok(Bytes::from(buf))
    }
}

async fn post_mm7(
    State(front): State<Arc<Mm7Front>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let span = info_span!("mm7", remote = %peer, vasp = tracing::field::Empty, op = tracing::field::Empty, transaction_id = tracing::field::Empty);
    handle(front, peer, headers, body).instrument(span).await
}

async fn handle(
    front: Arc<Mm7Front>,
    peer: SocketAddr,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let ct = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("text/xml")
        .to_string();
    let limit = front.config.http.max_body_size;
    let raw = match read_body(body, limit).await {
        ReadBody::Ok(b) => b,
        ReadBody::TooLarge(n) => {
            warn!(bytes = n, limit, "MM7 request over the size limit");
            return rs_error(
                HttpStatus::PAYLOAD_TOO_LARGE,
                "unknown",
                &Version::default(),
                Status::with_details(
                    StatusCode::MULTIMEDIA_CONTENT_REFUSED,
                    format!("request of {n}+ bytes exceeds the limit of {limit} bytes"),
                ),
            );
        }
        ReadBody::Failed(e) => {
            return rs_error(
                HttpStatus::BAD_REQUEST,
                "unknown",
                &Version::default(),
                Status::with_details(StatusCode::MESSAGE_FORMAT_CORRUPT, e),
            );
        }
    };
    let now_secs = front.clock.now().unix_secs();
    let presented = auth::parse_authorization(
        headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok()),
    );
    let vasp = match auth::identify(
        &front.config.vasps,
        &presented,
        peer.ip(),
        "POST",
        &front.nonces,
        now_secs,
    ) {
        Ok(v) => v,
        Err(why) => {
            warn!(reason = %why, "MM7 client not identified");
            let (txid, version) = sniff(&ct, &raw);
            let mut r = rs_error(
                HttpStatus::UNAUTHORIZED,
                &txid,
                &version,
                Status::with_details(StatusCode::IMPROPER_IDENTIFICATION, why.to_string()),
            );
            for c in auth::challenges(&front.nonces, now_secs) {
                if let Ok(v) = HeaderValue::from_str(&c) {
                    r.headers_mut().append(header::WWW_AUTHENTICATE, v);
                }
            }
            return r;
        }
    };
    tracing::Span::current().record("vasp", vasp.id.as_str());
    if !front.allow(vasp) {
        let (txid, version) = sniff(&ct, &raw);
        warn!("MM7 rate limit exceeded");
        return rs_error(
            HttpStatus::SERVICE_UNAVAILABLE,
            &txid,
            &version,
            Status::with_details(
                StatusCode::SERVICE_UNAVAILABLE,
                format!("more than {} requests per second", vasp.rate_limit),
            ),
        );
    }
    let msg = match Mm7Message::parse(&ct, &raw) {
        Ok(m) => m,
        Err(e) => {
            warn!(error = %e, "unparsable MM7 request");
            return rs_error(
                HttpStatus::INTERNAL_SERVER_ERROR,
                &sniff_transaction_id(&raw),
                &Version::default(),
                Status::with_details(e.status_code(), e.to_string()),
            );
        }
    };
    let span = tracing::Span::current();
    span.record("op", msg.body.name());
    span.record("transaction_id", msg.transaction_id.as_str());
    match &msg.body {
        Mm7Body::SubmitReq(req) => front.submit(vasp, peer, &msg, req, &ct, &raw).await,
        Mm7Body::CancelReq(req) => front.cancel(vasp, &msg, req).await,
        Mm7Body::ReplaceReq(req) => front.replace(vasp, peer, &msg, req, &ct, &raw).await,
        other => rs_error(
            HttpStatus::INTERNAL_SERVER_ERROR,
            &msg.transaction_id,
            &msg.version,
            Status::with_details(
                StatusCode::UNSUPPORTED_OPERATION,
                format!("{} is not a request a VASP sends to the MMSC", other.name()),
            ),
        ),
    }
}

fn submit_rsp(msg: &Mm7Message, status: Status, message_id: Option<&MessageId>) -> Response {
    let body = Mm7Body::SubmitRsp(SubmitRsp {
        mm7_version: msg.version.mm7_version().to_string(),
        status,
        message_id: message_id.map(|m| m.to_string()),
    });
    soap(
        HttpStatus::OK,
        &Mm7Message::new(&msg.transaction_id, msg.version.clone(), body),
    )
}

fn generic_rsp(msg: &Mm7Message, cancel: bool, status: Status) -> Response {
    let g = GenericRsp {
        mm7_version: msg.version.mm7_version().to_string(),
        status,
    };
    let body = if cancel {
        Mm7Body::CancelRsp(g)
    } else {
        Mm7Body::ReplaceRsp(g)
    };
    soap(
        HttpStatus::OK,
        &Mm7Message::new(&msg.transaction_id, msg.version.clone(), body),
    )
}

fn server_error(msg: &Mm7Message, detail: String) -> Response {
    rs_error(
        HttpStatus::INTERNAL_SERVER_ERROR,
        &msg.transaction_id,
        &msg.version,
        Status::with_details(StatusCode::SERVER_ERROR, detail),
    )
}

/// `SenderIdentification` names this VASP (or no one).
fn check_vasp_id(vasp: &VaspConfig, si: &SenderIdentification) -> Result<(), Status> {
    match &si.vasp_id {
        Some(id) if !id.is_empty() && id != &vasp.id => Err(Status::with_details(
            StatusCode::OPERATION_RESTRICTED,
            format!("VASPID {id:?} is not the authenticated VASP"),
        )),
        _ => Ok(()),
    }
}

fn date_segment(clock: &dyn Clock) -> String {
    let secs = clock.now().unix_secs();
    format!("d{}", secs.div_euclid(86_400))
}

impl Mm7Front {
    /// Stores the raw request as a MIME entity (its Content-Type, an empty line, the
    /// HTTP body) and queues it to `ingest`, through the intake: answered only when
    /// both are durable, nothing left behind on failure.
    async fn store_and_queue(
        &self,
        key: &str,
        vasp: &VaspConfig,
        peer: SocketAddr,
        ct: &str,
        raw: &[u8],
    ) -> Result<(), String> {
        let mut entity = Vec::with_capacity(raw.len() + ct.len() + 20);
        entity.extend_from_slice(b"Content-Type: ");
        entity.extend_from_slice(ct.replace(['\r', '\n'], " ").as_bytes());
        entity.extend_from_slice(b"\r\n\r\n");
        entity.extend_from_slice(raw);
        let job = Job::Ingest {
            interface: Interface::Mm7,
            object_key: key.to_string(),
            peer: vasp.id.clone(),
            remote_addr: Some(peer.to_string()),
            mail_from: None,
            rcpt_to: Vec::new(),
            received_at: self.clock.now(),
        };
        let job_bytes = job.to_bytes();
        self.intake
            .accept(Arrival {
                key,
                body: Bytes::from(entity),
                content_type: "message/rfc822",
                queue: job.queue(),
                job: &job_bytes,
            })
            .await
            .map_err(|e| match e {
                IntakeError::Queue(e) => format!("queueing the request: {e}"),
                e => format!("storing the request: {e}"),
            })
    }

    async fn submit(
        &self,
        vasp: &VaspConfig,
        peer: SocketAddr,
        msg: &Mm7Message,
        req: &SubmitReq,
        ct: &str,
        raw: &[u8],
    ) -> Response {
        let cc = self.config.mmsc.country_code.as_deref();
        if let Err(s) = check_vasp_id(vasp, &req.sender_identification) {
            return submit_rsp(msg, s, None);
        }
        if let Some(sa) = &req.sender_identification.sender_address {
            match Address::parse_with(&sa.value, cc) {
                Ok(a) if vasp.may_send_as(&a) => {}
                Ok(a) => {
                    warn!(sender = %a.redacted(), "sender address not authorised for this VASP");
                    return submit_rsp(
                        msg,
                        Status::with_details(
                            StatusCode::OPERATION_RESTRICTED,
                            format!(
                                "sender {} is not authorised for VASP {}",
                                a.redacted(),
                                vasp.id
                            ),
                        ),
                        None,
                    );
                }
                Err(e) => {
                    return submit_rsp(
                        msg,
                        Status::with_details(
                            StatusCode::ADDRESS_ERROR,
                            format!("SenderAddress: {e}"),
                        ),
                        None,
                    );
                }
            }
        }
        if !vasp.service_codes.is_empty()
            && let Some(code) = &req.service_code
            && !vasp.service_codes.iter().any(|c| c == code)
        {
            return submit_rsp(
                msg,
                Status::with_details(
                    StatusCode::SERVICE_DENIED,
                    format!("service code {code:?} is not allowed for VASP {}", vasp.id),
                ),
                None,
            );
        }
        let targets: Vec<_> = req.recipients.all().filter(|a| !a.display_only).collect();
        if targets.len() > vasp.max_recipients {
            return submit_rsp(
                msg,
                Status::with_details(
                    StatusCode::OPERATION_RESTRICTED,
                    format!(
                        "{} recipients; VASP {} may address at most {}",
                        targets.len(),
                        vasp.id,
                        vasp.max_recipients
                    ),
                ),
                None,
            );
        }
        if let Err(e) = msg.content() {
            return submit_rsp(
                msg,
                Status::with_details(e.status_code(), e.to_string()),
                None,
            );
        }
        let mut unresolved = Vec::new();
        let mut any_parse_error = false;
        let mut resolved = 0usize;
        for a in &targets {
            match Address::parse_with(&a.value, cc) {
                Err(e) => {
                    any_parse_error = true;
                    unresolved.push(format!("{}: {e}", a.value));
                }
                Ok(addr) => match self.router.static_route(&addr) {
                    Route::Unroutable(why) => unresolved.push(format!("{}: {why}", a.value)),
                    Route::Blocked => unresolved.push(format!("{}: blocked", a.value)),
                    _ => resolved += 1,
                },
            }
        }
        if resolved == 0 {
            let code = if any_parse_error {
                StatusCode::ADDRESS_ERROR
            } else {
                StatusCode::ADDRESS_NOT_FOUND
            };
            info!(
                recipients = targets.len(),
                "MM7 submit refused: no recipient can be resolved"
            );
            return submit_rsp(msg, Status::with_details(code, unresolved.join("; ")), None);
        }
        let id = MessageId::generate();
        let key = format!("in/mm7/{}/{id}.mm7", date_segment(self.clock.as_ref()));
        if let Err(e) = self.store_and_queue(&key, vasp, peer, ct, raw).await {
            warn!(error = %e, "MM7 submit not accepted: backend failure");
            return server_error(msg, e);
        }
        info!(message_id = %id, recipients = targets.len(), unresolved = unresolved.len(), "MM7 submit accepted");
        let status = if unresolved.is_empty() {
            Status::new(StatusCode::SUCCESS)
        } else {
            Status::with_details(StatusCode::PARTIAL_SUCCESS, unresolved.join("; "))
        };
        submit_rsp(msg, status, Some(&id))
    }

    /// Finds message `message_id` and checks that `vasp` owns it. The cancellable
    /// recipients are the local ones not yet retrieved.
    async fn owned(
        &self,
        vasp: &VaspConfig,
        message_id: &str,
    ) -> Result<(MessageId, Vec<u32>), Status> {
        let records = self.records();
        let id = message_id.trim();
        if !MessageId::looks_like(id) {
            return Err(Status::with_details(
                StatusCode::MESSAGE_ID_NOT_FOUND,
                format!("no message {id:?}"),
            ));
        }
        let mid = MessageId(id.to_string());
        let view = match records.load(&mid).await {
            Ok(Some(v)) => v,
            Ok(None) => {
                return Err(Status::with_details(
                    StatusCode::MESSAGE_ID_NOT_FOUND,
                    format!("no message {id}"),
                ));
            }
            Err(e) => {
                return Err(Status::with_details(
                    StatusCode::SERVER_ERROR,
                    e.to_string(),
                ));
            }
        };
        match &view.message.origin {
            Origin::Mm7 { vasp: owner } if owner == &vasp.id => {}
            _ => {
                return Err(Status::with_details(
                    StatusCode::OPERATION_RESTRICTED,
                    format!("message {id} was not submitted by VASP {}", vasp.id),
                ));
            }
        }
        let pending: Vec<u32> = view
            .recipients
            .iter()
            .filter(|r| {
                matches!(
                    r.state,
                    RecipientState::Accepted | RecipientState::Routed | RecipientState::Notified
                ) && matches!(r.direction, None | Some(Direction::Local))
            })
            .map(|r| r.index)
            .collect();
        if pending.is_empty() {
            return Err(Status::with_details(
                StatusCode::NOT_POSSIBLE,
                format!(
                    "message {id} has no recipient left that has not retrieved or been sent it"
                ),
            ));
        }
        Ok((mid, pending))
    }

    async fn cancel(&self, vasp: &VaspConfig, msg: &Mm7Message, req: &CancelReq) -> Response {
        if let Err(s) = check_vasp_id(vasp, &req.sender_identification) {
            return generic_rsp(msg, true, s);
        }
        let (mid, pending) = match self.owned(vasp, &req.message_id).await {
            Ok(x) => x,
            Err(s) if s.code == StatusCode::SERVER_ERROR => {
                return server_error(msg, s.details.unwrap_or_default());
            }
            Err(s) => return generic_rsp(msg, true, s),
        };
        for index in &pending {
            let job = Job::RecipientEvent {
                message_id: mid.clone(),
                recipient: *index,
                state: RecipientState::Rejected,
                reason: Some(format!("cancelled by VASP {}", vasp.id)),
            };
            if let Err(e) = self
                .queue
                .send(job.queue(), &job.to_bytes(), Duration::ZERO)
                .await
            {
                return server_error(msg, format!("queueing the cancellation: {e}"));
            }
        }
        info!(message_id = %mid, recipients = pending.len(), "MM7 cancel accepted");
        generic_rsp(msg, true, Status::new(StatusCode::SUCCESS))
    }

    async fn replace(
        &self,
        vasp: &VaspConfig,
        peer: SocketAddr,
        msg: &Mm7Message,
        req: &ReplaceReq,
        ct: &str,
        raw: &[u8],
    ) -> Response {
        if let Err(s) = check_vasp_id(vasp, &req.sender_identification) {
            return generic_rsp(msg, false, s);
        }
        if let Err(e) = msg.content() {
            return generic_rsp(
                msg,
                false,
                Status::with_details(e.status_code(), e.to_string()),
            );
        }
        let (mid, _) = match self.owned(vasp, &req.message_id).await {
            Ok(x) => x,
            Err(s) if s.code == StatusCode::SERVER_ERROR => {
                return server_error(msg, s.details.unwrap_or_default());
            }
            Err(s) => return generic_rsp(msg, false, s),
        };
        let key = format!(
            "in/mm7/{}/{mid}.replace-{}.mm7",
            date_segment(self.clock.as_ref()),
            uuid::Uuid::new_v4().simple()
        );
        if let Err(e) = self.store_and_queue(&key, vasp, peer, ct, raw).await {
            return server_error(msg, e);
        }
        info!(message_id = %mid, "MM7 replace accepted");
        generic_rsp(msg, false, Status::new(StatusCode::SUCCESS))
    }
}
