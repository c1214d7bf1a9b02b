//! The HTTP front: `/health`, the admin API (`/admin/v1/...`: a message's trace, and
//! recording a recipient's retrieval or delivery), MM7 for VASPs (`/mm7`, [`mm7`]) and
//! MM1 for handsets (`/mm1`, [`mm1`]). `mmsc serve` runs it in process; the
//! `http-front` binary (`src/main.rs`) runs it alone on the AWS backend (the ECS
//! service behind the ALB).
//!
//! Like every front it never routes or charges: it reads state, or stores and queues.

pub mod mm1;

use axum::Json;
use axum::extract::{ConnectInfo, Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use ipnet::IpNet;
use mmsc_shared::domain::{Job, RecipientState};
use mmsc_shared::handlers::records::Records;
use mmsc_shared::handlers::trace;
use mmsc_shared::ports::{Clock, Intake, ObjectStore, Queue, StateStore, queues};
use serde::Deserialize;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;
use tracing::{info, warn};

pub mod mm7;

pub struct HttpFront {
    state: Arc<dyn StateStore>,
    queue: Arc<dyn Queue>,
    clock: Arc<dyn Clock>,
    retention: Duration,
    admin_networks: Vec<IpNet>,
    mm7: Option<Arc<mm7::Mm7Front>>,
    mm1: Option<Arc<mm1::Mm1Front>>,
}

impl HttpFront {
    pub fn new(
        config: &mmsc_shared::config::Config,
        state: Arc<dyn StateStore>,
        queue: Arc<dyn Queue>,
        clock: Arc<dyn Clock>,
    ) -> Self {
        HttpFront {
            state,
            queue,
            clock,
            retention: Duration::from_secs(config.mmsc.retention_secs),
            admin_networks: config.http.admin_networks.clone(),
            mm7: None,
            mm1: None,
        }
    }

    /// Everything the front serves: health, admin, MM7 and MM1, on these ports;
    /// `intake` for MM7 and MM1 submissions (`None`: `SeparateIntake::new`).
    pub fn complete(
        config: &Arc<mmsc_shared::config::Config>,
        objects: Arc<dyn ObjectStore>,
        state: Arc<dyn StateStore>,
        queue: Arc<dyn Queue>,
        intake: Option<Arc<dyn Intake>>,
        clock: Arc<dyn Clock>,
    ) -> Self {
        let mut mm7 = mm7::Mm7Front::new(
            config.clone(),
            objects.clone(),
            state.clone(),
            queue.clone(),
            clock.clone(),
        );
        let mut mm1 = mm1::Mm1Front::new(
            config.clone(),
            objects,
            state.clone(),
            queue.clone(),
            clock.clone(),
        );
        if let Some(intake) = intake {
            mm7 = mm7.with_intake(intake.clone());
            mm1 = mm1.with_intake(intake);
        }
        HttpFront::new(config, state, queue, clock)
            .with_mm7(mm7)
            .with_mm1(mm1)
    }

    /// Serves `POST /mm7` (the MM7 interface for VASPs) too.
    pub fn with_mm7(mut self, front: mm7::Mm7Front) -> Self {
        self.mm7 = Some(Arc::new(front));
        self
    }

    /// Serves MM1 (`/mm1`) too.
    pub fn with_mm1(mut self, front: mm1::Mm1Front) -> Self {
        self.mm1 = Some(Arc::new(front));
        self
    }

    pub fn router(self: Arc<Self>) -> axum::Router {
        let mm7 = self.mm7.clone().map(|m| m.routes()).unwrap_or_default();
        let mm1 = self.mm1.clone().map(mm1::router).unwrap_or_default();
        axum::Router::new()
            .route("/health", get(health))
            .route("/admin/v1/messages/{id}", get(get_message))
            .route(
                "/admin/v1/messages/{id}/recipients/{index}/state",
                post(set_recipient_state),
            )
            .with_state(self)
            .merge(mm7)
            .merge(mm1)
    }

    /// Serves until `shutdown` becomes true; in-flight requests are finished.
    pub async fn serve(
        self: Arc<Self>,
        listener: tokio::net::TcpListener,
        mut shutdown: watch::Receiver<bool>,
    ) -> std::io::Result<()> {
        let app = self
            .router()
            .into_make_service_with_connect_info::<SocketAddr>();
        axum::serve(listener, app)
            .with_graceful_shutdown(async move {
                while !*shutdown.borrow() {
                    if shutdown.changed().await.is_err() {
                        break;
                    }
                }
            })
            .await
    }

    fn is_admin(&self, ip: IpAddr) -> bool {
        let ip = match ip {
            IpAddr::V6(v6) => v6
                .to_ipv4_mapped()
                .map(IpAddr::V4)
                .unwrap_or(IpAddr::V6(v6)),
            v4 => v4,
        };
        self.admin_networks.iter().any(|n| n.contains(&ip))
    }
}

type Shared = State<Arc<HttpFront>>;

fn problem(status: StatusCode, detail: impl Into<String>) -> Response {
    (status, Json(serde_json::json!({ "error": detail.into() }))).into_response()
}

async fn health(State(front): Shared) -> Response {
    let mut depths = serde_json::Map::new();
    for q in queues::ALL {
        match front.queue.depth(q).await {
            Ok(d) => {
                depths.insert(q.to_string(), d.into());
            }
            Err(e) => {
                return problem(StatusCode::SERVICE_UNAVAILABLE, format!("queue {q}: {e}"));
            }
        }
    }
    Json(serde_json::json!({ "status": "ok", "queues": depths })).into_response()
}

async fn get_message(
    State(front): Shared,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Path(id): Path<String>,
) -> Response {
    if !front.is_admin(peer.ip()) {
        return problem(
            StatusCode::FORBIDDEN,
            "admin API is not open to this address",
        );
    }
    let records = Records::new(front.state.as_ref(), front.clock.as_ref(), front.retention);
    let found = match records.resolve(&id).await {
        Ok(Some(mid)) => records.load(&mid).await,
        Ok(None) => Ok(None),
        Err(e) => Err(e),
    };
    match found {
        Ok(Some(view)) => Json(trace::to_json(&view)).into_response(),
        Ok(None) => problem(StatusCode::NOT_FOUND, format!("no message {id}")),
        Err(e) => problem(StatusCode::SERVICE_UNAVAILABLE, e.to_string()),
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct StateChange {
    state: RecipientState,
    reason: Option<String>,
}

/// Records a local recipient's retrieval/delivery (or rejection): queued to `ingest`
/// as a `RecipientEvent`, so the state change, reports and charging follow the same
/// path as every other event.
async fn set_recipient_state(
    State(front): Shared,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Path((id, index)): Path<(String, u32)>,
    body: Result<Json<StateChange>, axum::extract::rejection::JsonRejection>,
) -> Response {
    if !front.is_admin(peer.ip()) {
        return problem(
            StatusCode::FORBIDDEN,
            "admin API is not open to this address",
        );
    }
    let Json(change) = match body {
        Ok(b) => b,
        Err(e) => return problem(StatusCode::BAD_REQUEST, e.body_text()),
    };
    if !matches!(
        change.state,
        RecipientState::Retrieved
            | RecipientState::Delivered
            | RecipientState::Rejected
            | RecipientState::Failed
    ) {
        return problem(
            StatusCode::UNPROCESSABLE_ENTITY,
            "state must be retrieved, delivered, rejected or failed",
        );
    }
    let records = Records::new(front.state.as_ref(), front.clock.as_ref(), front.retention);
    let mid = match records.resolve(&id).await {
        Ok(Some(m)) => m,
        Ok(None) => return problem(StatusCode::NOT_FOUND, format!("no message {id}")),
        Err(e) => return problem(StatusCode::SERVICE_UNAVAILABLE, e.to_string()),
    };
    match records.recipient(&mid, index).await {
        Ok(Some(_)) => {}
        Ok(None) => {
            return problem(
                StatusCode::NOT_FOUND,
                format!("message {mid} has no recipient #{index}"),
            );
        }
        Err(e) => return problem(StatusCode::SERVICE_UNAVAILABLE, e.to_string()),
    }
    let job = Job::RecipientEvent {
        message_id: mid.clone(),
        recipient: index,
        state: change.state,
        reason: change.reason,
    };
    match front
        .queue
        .send(job.queue(), &job.to_bytes(), Duration::ZERO)
        .await
    {
        Ok(_) => {
            info!(message_id = %mid, recipient = index, state = %change.state, "recipient state change queued");
            (
                StatusCode::ACCEPTED,
                Json(serde_json::json!({ "message_id": mid, "queued": true })),
            )
                .into_response()
        }
        Err(e) => {
            warn!(error = %e, "could not queue recipient state change");
            problem(StatusCode::SERVICE_UNAVAILABLE, e.to_string())
        }
    }
}
