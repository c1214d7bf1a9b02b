//! The diameter-sidecar's HTTP/JSON API over the in-process Diameter charging
//! adapter ([`DiameterCharging`]). `mmsc serve` uses that adapter directly; the
//! Lambda functions (which cannot hold long-lived Diameter connections) reach it
//! through this API with [`HttpCharging`](mmsc_shared::charging::HttpCharging).
//!
//! | request | body | answer |
//! |---|---|---|
//! | `POST /v1/event` | [`ChargeRequest`] | [`ChargeOutcome`]: CCR EVENT, DIRECT_DEBITING |
//! | `POST /v1/reserve` | same | CCR INITIAL with Requested-Service-Unit |
//! | `POST /v1/commit` | same | CCR TERMINATION with Used-Service-Unit |
//! | `POST /v1/release` | same | CCR TERMINATION without used units |
//! | `POST /v1/refund` | same | CCR EVENT, REFUND_ACCOUNT |
//! | `GET /health` | — | `{"status":"ok"|"degraded","peers":[...]}` (503 when no peer is OKAY) |
//!
//! 200 carries the server's Result-Code (2001 or a refusal such as 4012) and the
//! granted units; 503 means no charging server answered (retry later); 502 a
//! protocol error; 400 or 422 a bad request body.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use mmsc_shared::charging::DiameterCharging;
use mmsc_shared::ports::{ChargeRequest, Charging, ChargingError, ChargingOp};
use std::sync::Arc;

pub fn router(charging: Arc<DiameterCharging>) -> axum::Router {
    axum::Router::new()
        .route("/health", get(health))
        .route("/v1/{op}", post(charge))
        .with_state(charging)
}

fn op_of(name: &str) -> Option<ChargingOp> {
    Some(match name {
        "event" => ChargingOp::Event,
        "reserve" => ChargingOp::Reserve,
        "commit" => ChargingOp::Commit,
        "release" => ChargingOp::Release,
        "refund" => ChargingOp::Refund,
        _ => return None,
    })
}

fn error(status: StatusCode, message: String) -> Response {
    (status, Json(serde_json::json!({ "error": message }))).into_response()
}

async fn charge(
    State(c): State<Arc<DiameterCharging>>,
    Path(op): Path<String>,
    body: Result<Json<ChargeRequest>, axum::extract::rejection::JsonRejection>,
) -> Response {
    let Some(op) = op_of(&op) else {
        return error(
            StatusCode::NOT_FOUND,
            format!("unknown operation {op:?}: event, reserve, commit, release or refund"),
        );
    };
    let Json(mut req) = match body {
        Ok(b) => b,
        Err(e) => return error(e.status(), e.body_text()),
    };
    req.op = op;
    match c.charge(&req).await {
        Ok(outcome) => (StatusCode::OK, Json(outcome)).into_response(),
        Err(ChargingError::Unavailable(e)) => error(StatusCode::SERVICE_UNAVAILABLE, e),
        Err(ChargingError::Protocol(e)) => error(StatusCode::BAD_GATEWAY, e),
    }
}

async fn health(State(c): State<Arc<DiameterCharging>>) -> Response {
    let peers = c.client.status();
    let ready = c.client.is_ready();
    let status = if ready {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (
        status,
        Json(serde_json::json!({
            "status": if ready { "ok" } else { "degraded" },
            "peers": peers,
        })),
    )
        .into_response()
}
