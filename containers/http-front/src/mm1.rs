//! MM1 for handsets (OMA MMS over HTTP, `application/vnd.wap.mms-message`):
//!
//! - `POST /mm1`: m-send.req, m-forward.req, m-notifyresp.ind, m-acknowledge.ind,
//!   m-read-rec.ind from a handset behind a trusted WAP gateway, which names the
//!   subscriber in an MSISDN header (`mm1.msisdn_headers`). Submissions are
//!   answered (m-send.conf / m-forward.conf with a Message-ID) only after the raw
//!   PDU is stored and an `ingest` job queued; if either fails the answer is
//!   `Error-transient-failure` and the handset retries.
//! - `GET /mm1/m/<token>`: the m-retrieve.conf of one recipient, for that
//!   recipient only. This is the front's only read path: it serves what
//!   `mm1-notify` prepared.
//!
//! HTTP status and MMS status go together: 200 Ok, 400 format corrupt, 403 service
//! denied / sending address unresolved, 404 unknown location, 413 too large (as
//! `Error-permanent-content-not-accepted`), 415 not an MMS PDU, 501 PDUs this MMSC
//! does not serve (MMBox, delete, cancel), 503 transient failure.

use axum::body::Body;
use axum::extract::{ConnectInfo, Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use http_body_util::BodyExt;
use ipnet::IpNet;
use mmsc_shared::codec::mm1::{
    Codec, EncodedString, FieldName, GenericPdu, Header, MForwardConf, MMS_MESSAGE_CONTENT_TYPE,
    MSendConf, MessageType, MmsVersion, Pdu, Reader, ResponseStatus, Status, Value, YesNo,
};
use mmsc_shared::config::Config;
use mmsc_shared::domain::{Address, Interface, Job, MessageId, RecipientState, Timestamp};
use mmsc_shared::handlers::mm1::{self, Mm1Delivery, submit};
use mmsc_shared::handlers::records::Records;
use mmsc_shared::ports::{
    Arrival, Clock, Intake, IntakeError, ObjectStore, Queue, SeparateIntake, StateStore,
};
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;
use tracing::{Instrument, info, info_span, warn};

/// What `/mm1` needs: configuration and the ports.
pub struct Mm1Front {
    config: Arc<Config>,
    objects: Arc<dyn ObjectStore>,
    state: Arc<dyn StateStore>,
    queue: Arc<dyn Queue>,
    intake: Arc<dyn Intake>,
    clock: Arc<dyn Clock>,
}

impl Mm1Front {
    pub fn new(
        config: Arc<Config>,
        objects: Arc<dyn ObjectStore>,
        state: Arc<dyn StateStore>,
        queue: Arc<dyn Queue>,
        clock: Arc<dyn Clock>,
    ) -> Self {
        Mm1Front {
            config,
            intake: Arc::new(SeparateIntake::new(objects.clone(), queue.clone())),
            objects,
            state,
            queue,
            clock,
        }
    }

    /// How submissions are stored and queued (see `SmtpFront::with_intake`).
    pub fn with_intake(mut self, intake: Arc<dyn Intake>) -> Self {
        self.intake = intake;
        self
    }

    fn trusted(&self, ip: IpAddr) -> bool {
        let ip = match ip {
            IpAddr::V6(v6) => v6
                .to_ipv4_mapped()
                .map(IpAddr::V4)
                .unwrap_or(IpAddr::V6(v6)),
            v4 => v4,
        };
        self.config
            .mm1
            .trusted_networks
            .iter()
            .any(|n: &IpNet| n.contains(&ip))
    }

    /// The subscriber named by the first configured MSISDN header present.
    fn msisdn(&self, headers: &HeaderMap) -> Option<Result<Address, String>> {
        let value = self.config.mm1.msisdn_headers.iter().find_map(|h| {
            headers
                .get(h.as_str())
                .and_then(|v| v.to_str().ok())
                .map(str::trim)
                .filter(|v| !v.is_empty())
        })?;
        Some(
            mm1::msisdn_address(value, self.config.mmsc.country_code.as_deref())
                .ok_or_else(|| value.to_string()),
        )
    }
}

/// The `/mm1` routes.
pub fn router(front: Arc<Mm1Front>) -> axum::Router {
    axum::Router::new()
        .route("/mm1", post(post_mm1))
        .route("/mm1/m/{token}", get(get_message))
        .with_state(front)
}

type Shared = State<Arc<Mm1Front>>;

fn mms(status: StatusCode, pdu: Vec<u8>) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, MMS_MESSAGE_CONTENT_TYPE)],
        pdu,
    )
        .into_response()
}

fn plain(status: StatusCode, text: &str) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "text/plain")],
        text.to_string(),
    )
        .into_response()
}

/// What the start of a PDU that may not decode as a whole says: message type,
/// Transaction-Id and MMS version.
#[derive(Debug, Clone, Default)]
struct Peek {
    mtype: Option<MessageType>,
    txid: String,
    version: Option<MmsVersion>,
}

fn peek(body: &[u8]) -> Peek {
    let mut r = Reader::new(body);
    let mut p = Peek::default();
    for i in 0..8 {
        let Ok(h) = Header::read(&mut r) else { break };
        match (h.field(), h.value) {
            (Some(FieldName::MESSAGE_TYPE), Value::Token(t)) if i == 0 => {
                p.mtype = Some(MessageType(t))
            }
            (Some(FieldName::TRANSACTION_ID), Value::Text(t)) => p.txid = t,
            (Some(FieldName::MMS_VERSION), Value::Token(t)) => {
                p.version = Some(MmsVersion(t & 0x7F));
                break;
            }
            _ if i == 0 => break,
            _ => {}
        }
    }
    p
}

/// MMS 1.0 knows only the 0x8X error codes; 1.1 and later clients get the
/// transient/permanent ones. Without a readable version, the 1.0 code (which
/// every client understands).
fn for_version(status: ResponseStatus, version: Option<MmsVersion>) -> ResponseStatus {
    if version.is_some_and(|v| v > MmsVersion::V1_0) {
        return status;
    }
    match status {
        ResponseStatus::PERMANENT_SERVICE_DENIED => ResponseStatus::ERROR_SERVICE_DENIED,
        ResponseStatus::PERMANENT_MESSAGE_FORMAT_CORRUPT => {
            ResponseStatus::ERROR_MESSAGE_FORMAT_CORRUPT
        }
        ResponseStatus::PERMANENT_SENDING_ADDRESS_UNRESOLVED => {
            ResponseStatus::ERROR_SENDING_ADDRESS_UNRESOLVED
        }
        ResponseStatus::PERMANENT_MESSAGE_NOT_FOUND => ResponseStatus::ERROR_MESSAGE_NOT_FOUND,
        ResponseStatus::PERMANENT_CONTENT_NOT_ACCEPTED => {
            ResponseStatus::ERROR_CONTENT_NOT_ACCEPTED
        }
        ResponseStatus::TRANSIENT_FAILURE => ResponseStatus::ERROR_NETWORK_PROBLEM,
        other => other,
    }
}

/// The answer a request of type `mtype` gets, if its type has one.
fn conf(
    mtype: Option<MessageType>,
    txid: &str,
    version: MmsVersion,
    status: ResponseStatus,
    text: Option<&str>,
    message_id: Option<&str>,
) -> Option<Vec<u8>> {
    let txid = txid.to_string();
    let text = text.map(EncodedString::text);
    match mtype {
        Some(MessageType::SEND_REQ) => {
            let mut c = MSendConf::new(txid, version, status);
            c.response_text = text;
            c.message_id = message_id.map(String::from);
            c.to_bytes().ok()
        }
        Some(MessageType::FORWARD_REQ) => {
            let mut c = MForwardConf::new(txid, version, status);
            c.response_text = text;
            c.message_id = message_id.map(String::from);
            c.to_bytes().ok()
        }
        _ => None,
    }
}

/// An error answer: the conf PDU when the request type has one, else text.
fn refuse(http: StatusCode, p: &Peek, status: ResponseStatus, why: &str) -> Response {
    let version = p.version.unwrap_or(MmsVersion::V1_0).min(MmsVersion::V1_3);
    let status = for_version(status, p.version);
    match conf(p.mtype, &p.txid, version, status, Some(why), None) {
        Some(pdu) => mms(http, pdu),
        None => plain(http, why),
    }
}

/// Reads at most `limit` octets; `Err(prefix)` when the body is larger.
async fn read_limited(body: Body, limit: usize) -> Result<Result<Vec<u8>, Vec<u8>>, String> {
    let mut body = body;
    let mut buf = Vec::new();
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|e| e.to_string())?;
        if let Ok(data) = frame.into_data() {
            buf.extend_from_slice(&data);
            if buf.len() > limit {
                return Ok(Err(buf));
            }
        }
    }
    Ok(Ok(buf))
}

async fn post_mm1(
    State(front): Shared,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let media = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .map(str::trim)
        .unwrap_or_default();
    if !media.eq_ignore_ascii_case(MMS_MESSAGE_CONTENT_TYPE) {
        return plain(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "MM1 requests are application/vnd.wap.mms-message",
        );
    }
    let limit = usize::try_from(front.config.mm1.max_message_size).unwrap_or(usize::MAX);
    let raw = match read_limited(body, limit).await {
        Ok(r) => r,
        Err(e) => return plain(StatusCode::BAD_REQUEST, &format!("reading the body: {e}")),
    };
    let (bytes, too_large) = match raw {
        Ok(b) => (b, false),
        Err(prefix) => (prefix, true),
    };
    let p = peek(&bytes);
    let span = info_span!(
        "mm1",
        peer = %peer.ip(),
        pdu = p.mtype.map(|t| t.to_string()).unwrap_or_default(),
        transaction_id = %p.txid
    );
    async move {
        if !front.trusted(peer.ip()) {
            warn!("MM1 request from an address outside mm1.trusted_networks refused");
            return refuse(
                StatusCode::FORBIDDEN,
                &p,
                ResponseStatus::PERMANENT_SERVICE_DENIED,
                "not a trusted gateway",
            );
        }
        let from = match front.msisdn(&headers) {
            Some(Ok(a)) => a,
            Some(Err(v)) => {
                warn!(value = %v, "MSISDN header is not a phone number");
                return refuse(
                    StatusCode::FORBIDDEN,
                    &p,
                    ResponseStatus::PERMANENT_SENDING_ADDRESS_UNRESOLVED,
                    "subscriber number not recognised",
                );
            }
            None => {
                return refuse(
                    StatusCode::FORBIDDEN,
                    &p,
                    ResponseStatus::PERMANENT_SENDING_ADDRESS_UNRESOLVED,
                    "the gateway did not identify the subscriber",
                );
            }
        };
        if too_large {
            return refuse(
                StatusCode::PAYLOAD_TOO_LARGE,
                &p,
                ResponseStatus::PERMANENT_CONTENT_NOT_ACCEPTED,
                &format!(
                    "message size exceeded: the limit is {} octets",
                    front.config.mm1.max_message_size
                ),
            );
        }
        let pdu = match GenericPdu::from_bytes(&bytes).and_then(Pdu::from_generic) {
            Ok(p) => p,
            Err(e) => {
                info!(error = %e, "corrupt MM1 PDU refused");
                return refuse(
                    StatusCode::BAD_REQUEST,
                    &p,
                    ResponseStatus::PERMANENT_MESSAGE_FORMAT_CORRUPT,
                    &format!("message format corrupt: {e}"),
                );
            }
        };
        handle_pdu(&front, peer, from, bytes, pdu, &p).await
    }
    .instrument(span)
    .await
}

async fn handle_pdu(
    front: &Mm1Front,
    peer: SocketAddr,
    from: Address,
    bytes: Vec<u8>,
    pdu: Pdu,
    p: &Peek,
) -> Response {
    match pdu {
        Pdu::SendReq(req) => {
            let cc = front.config.mmsc.country_code.as_deref();
            let any_recipient = req
                .to
                .iter()
                .chain(&req.cc)
                .chain(&req.bcc)
                .any(|a| a.to_address(cc).is_ok());
            if !any_recipient {
                return refuse(
                    StatusCode::BAD_REQUEST,
                    p,
                    ResponseStatus::PERMANENT_MESSAGE_FORMAT_CORRUPT,
                    "no usable recipient address",
                );
            }
            accept(front, peer, &from, bytes, p, req.mms_version).await
        }
        Pdu::ForwardReq(req) => {
            match owned_delivery(
                front,
                &from,
                mm1::token_from_location(&req.content_location),
            )
            .await
            {
                Ok(Some(_)) => {}
                Ok(None) => {
                    return refuse(
                        StatusCode::NOT_FOUND,
                        p,
                        ResponseStatus::PERMANENT_MESSAGE_NOT_FOUND,
                        "no such message to forward",
                    );
                }
                Err(e) => return transient(p, &e),
            }
            if req.to.is_empty() && req.cc.is_empty() && req.bcc.is_empty() {
                return refuse(
                    StatusCode::BAD_REQUEST,
                    p,
                    ResponseStatus::PERMANENT_MESSAGE_FORMAT_CORRUPT,
                    "no recipient",
                );
            }
            accept(front, peer, &from, bytes, p, req.mms_version).await
        }
        Pdu::ReadRecInd(_) => {
            match store_and_queue(front, peer, &from, bytes, &MessageId::generate()).await {
                Ok(()) => StatusCode::NO_CONTENT.into_response(),
                Err(e) => transient(p, &e),
            }
        }
        Pdu::NotifyRespInd(ind) => {
            let state = match ind.status {
                Status::RETRIEVED => Some(RecipientState::Delivered),
                Status::REJECTED => Some(RecipientState::Rejected),
                Status::UNRECOGNISED => Some(RecipientState::Failed),
                _ => None, // Deferred: the handset fetches later.
            };
            let reason = format!("m-notifyresp.ind {}", ind.status);
            recipient_event(front, &from, &ind.transaction_id, state, reason).await
        }
        Pdu::AcknowledgeInd(ind) => {
            let reason = match ind.report_allowed {
                Some(YesNo::NO) => "m-acknowledge.ind (report not allowed)".to_string(),
                _ => "m-acknowledge.ind".to_string(),
            };
            recipient_event(
                front,
                &from,
                &ind.transaction_id,
                Some(RecipientState::Delivered),
                reason,
            )
            .await
        }
        other => plain(
            StatusCode::NOT_IMPLEMENTED,
            &format!("{} is not served by this MMSC", other.message_type()),
        ),
    }
}

fn transient(p: &Peek, why: &str) -> Response {
    warn!(error = %why, "MM1 request not taken: temporary failure");
    refuse(
        StatusCode::SERVICE_UNAVAILABLE,
        p,
        ResponseStatus::TRANSIENT_FAILURE,
        "temporary failure, try again",
    )
}

/// The delivery record behind `token`, if it belongs to `who`.
async fn owned_delivery(
    front: &Mm1Front,
    who: &Address,
    token: Option<&str>,
) -> Result<Option<Mm1Delivery>, String> {
    let Some(token) = token else { return Ok(None) };
    Ok(mm1::delivery_by_token(front.state.as_ref(), token)
        .await
        .map_err(|e| e.to_string())?
        .filter(|d| d.msisdn == who.key()))
}

async fn store_and_queue(
    front: &Mm1Front,
    peer: SocketAddr,
    from: &Address,
    bytes: Vec<u8>,
    id: &MessageId,
) -> Result<(), String> {
    let key = submit::object_key(id);
    let job = Job::Ingest {
        interface: Interface::Mm1,
        object_key: key.clone(),
        peer: from.key().to_string(),
        remote_addr: Some(peer.to_string()),
        mail_from: None,
        rcpt_to: vec![],
        received_at: front.clock.now(),
    };
    let job_bytes = job.to_bytes();
    front
        .intake
        .accept(Arrival {
            key: &key,
            body: bytes.into(),
            content_type: MMS_MESSAGE_CONTENT_TYPE,
            queue: job.queue(),
            job: &job_bytes,
        })
        .await
        .map_err(|e| match e {
            IntakeError::Store(e) => e.to_string(),
            IntakeError::Queue(e) => e.to_string(),
            IntakeError::Backend(m) => m,
        })
}

/// Stores and queues a submission, then answers Ok with its Message-ID.
async fn accept(
    front: &Mm1Front,
    peer: SocketAddr,
    from: &Address,
    bytes: Vec<u8>,
    p: &Peek,
    version: MmsVersion,
) -> Response {
    let id = MessageId::generate();
    let size = bytes.len();
    match store_and_queue(front, peer, from, bytes, &id).await {
        Ok(()) => {
            info!(message_id = %id, size, "MM1 submission accepted");
            let version = version.min(MmsVersion::V1_3);
            match conf(
                p.mtype,
                &p.txid,
                version,
                ResponseStatus::OK,
                None,
                Some(id.as_str()),
            ) {
                Some(pdu) => mms(StatusCode::OK, pdu),
                None => StatusCode::NO_CONTENT.into_response(),
            }
        }
        Err(e) => transient(p, &e),
    }
}

/// m-notifyresp.ind / m-acknowledge.ind: queue the recipient's state change so
/// `ingest` records it and reports to the originator.
async fn recipient_event(
    front: &Mm1Front,
    from: &Address,
    token: &str,
    state: Option<RecipientState>,
    reason: String,
) -> Response {
    let d = match owned_delivery(
        front,
        from,
        Some(token).filter(|t| mm1::looks_like_token(t)),
    )
    .await
    {
        Ok(Some(d)) => d,
        Ok(None) => return plain(StatusCode::NOT_FOUND, "unknown transaction"),
        Err(e) => return plain(StatusCode::SERVICE_UNAVAILABLE, &e),
    };
    let Some(state) = state else {
        return StatusCode::NO_CONTENT.into_response();
    };
    let job = Job::RecipientEvent {
        message_id: d.message_id.clone(),
        recipient: d.recipient,
        state,
        reason: Some(reason),
    };
    match front
        .queue
        .send(job.queue(), &job.to_bytes(), Duration::ZERO)
        .await
    {
        Ok(_) => {
            info!(message_id = %d.message_id, recipient = d.recipient, %state, "MM1 recipient event queued");
            StatusCode::NO_CONTENT.into_response()
        }
        Err(e) => plain(StatusCode::SERVICE_UNAVAILABLE, &e.to_string()),
    }
}

/// `GET /mm1/m/<token>`: the recipient's m-retrieve.conf.
async fn get_message(
    State(front): Shared,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Path(token): Path<String>,
) -> Response {
    if !front.trusted(peer.ip()) {
        return plain(StatusCode::FORBIDDEN, "not a trusted gateway");
    }
    let who = match front.msisdn(&headers) {
        Some(Ok(a)) => a,
        _ => {
            return plain(
                StatusCode::FORBIDDEN,
                "the gateway did not identify the subscriber",
            );
        }
    };
    let not_found = || plain(StatusCode::NOT_FOUND, "no such message");
    let d = match owned_delivery(&front, &who, Some(token.as_str())).await {
        Ok(Some(d)) => d,
        Ok(None) => return not_found(),
        Err(e) => return plain(StatusCode::SERVICE_UNAVAILABLE, &e),
    };
    let now: Timestamp = front.clock.now();
    if now >= d.expires_at {
        return not_found();
    }
    let records = Records::new(
        front.state.as_ref(),
        front.clock.as_ref(),
        Duration::from_secs(front.config.mmsc.retention_secs),
    );
    let state = match records.recipient(&d.message_id, d.recipient).await {
        Ok(Some(r)) => r.state,
        Ok(None) => return not_found(),
        Err(e) => return plain(StatusCode::SERVICE_UNAVAILABLE, &e.to_string()),
    };
    if matches!(
        state,
        RecipientState::Rejected | RecipientState::Expired | RecipientState::Failed
    ) {
        return not_found();
    }
    let pdu = match front.objects.get(&d.retrieve_key).await {
        Ok(Some(b)) => b.to_vec(),
        Ok(None) => return not_found(),
        Err(e) => return plain(StatusCode::SERVICE_UNAVAILABLE, &e.to_string()),
    };
    if front.config.mm1.deliver_report_on_fetch
        && matches!(state, RecipientState::Routed | RecipientState::Notified)
    {
        let job = Job::RecipientEvent {
            message_id: d.message_id.clone(),
            recipient: d.recipient,
            state: RecipientState::Retrieved,
            reason: Some("content location fetched".into()),
        };
        if let Err(e) = front
            .queue
            .send(job.queue(), &job.to_bytes(), Duration::ZERO)
            .await
        {
            warn!(error = %e, "could not queue the retrieval event; the acknowledgement will report");
        }
    }
    info!(message_id = %d.message_id, recipient = d.recipient, size = pdu.len(), "m-retrieve.conf served");
    mms(StatusCode::OK, pdu)
}
