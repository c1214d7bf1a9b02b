//! The [`Charging`] port over HTTP/JSON to a `diameter-sidecar`:
//! `POST {base}/v1/{event|reserve|commit|release|refund}` with a [`ChargeRequest`],
//! answered by a [`ChargeOutcome`] (200) or `{"error": ...}` (502/503 when the
//! charging servers are unavailable, 400 for a bad request).

use crate::ports::{ChargeOutcome, ChargeRequest, Charging, ChargingError, ChargingOp};
use async_trait::async_trait;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Bytes;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use std::time::Duration;

const MAX_ANSWER: usize = 64 * 1024;

/// The path of each operation.
pub fn op_path(op: ChargingOp) -> &'static str {
    match op {
        ChargingOp::Event => "event",
        ChargingOp::Reserve => "reserve",
        ChargingOp::Commit => "commit",
        ChargingOp::Release => "release",
        ChargingOp::Refund => "refund",
    }
}

pub struct HttpCharging {
    base: String,
    timeout: Duration,
    client: Client<HttpConnector, Full<Bytes>>,
}

impl HttpCharging {
    pub fn new(base_url: &str, timeout: Duration) -> Result<Self, String> {
        if !base_url.starts_with("http://") {
            return Err(format!("sidecar URL {base_url:?} must be http://"));
        }
        Ok(Self {
            base: base_url.trim_end_matches('/').to_string(),
            timeout,
            client: Client::builder(TokioExecutor::new()).build_http(),
        })
    }
}

#[async_trait]
impl Charging for HttpCharging {
    async fn charge(&self, req: &ChargeRequest) -> Result<ChargeOutcome, ChargingError> {
        let url = format!("{}/v1/{}", self.base, op_path(req.op));
        let body = serde_json::to_vec(req).map_err(|e| ChargingError::Protocol(e.to_string()))?;
        let request = hyper::Request::post(&url)
            .header("content-type", "application/json")
            .body(Full::new(Bytes::from(body)))
            .map_err(|e| ChargingError::Protocol(e.to_string()))?;
        let work = async {
            let resp = self
                .client
                .request(request)
                .await
                .map_err(|e| ChargingError::Unavailable(format!("sidecar {url}: {e}")))?;
            let status = resp.status().as_u16();
            let bytes = Limited::new(resp.into_body(), MAX_ANSWER)
                .collect()
                .await
                .map_err(|e| ChargingError::Unavailable(format!("sidecar {url}: {e}")))?
                .to_bytes();
            match status {
                200 => serde_json::from_slice::<ChargeOutcome>(&bytes)
                    .map_err(|e| ChargingError::Protocol(format!("sidecar answer: {e}"))),
                400..=499 => Err(ChargingError::Protocol(format!(
                    "sidecar refused the request ({status}): {}",
                    String::from_utf8_lossy(&bytes)
                ))),
                _ => Err(ChargingError::Unavailable(format!(
                    "sidecar {status}: {}",
                    String::from_utf8_lossy(&bytes)
                ))),
            }
        };
        tokio::time::timeout(self.timeout, work)
            .await
            .map_err(|_| ChargingError::Unavailable(format!("sidecar {url}: timed out")))?
    }
}
