//! The glue every Lambda function shares: build configuration and clients once at cold
//! start, then turn each `SqsEvent` into [`handlers::handle`] calls and answer with the
//! records to retry (`ReportBatchItemFailures`).
//!
//! Per record:
//!
//! | handler result | answer | queue effect |
//! |---|---|---|
//! | `Ok` | not listed | the event source deletes it |
//! | `Transient` | listed | visibility set to the backoff for its receive count, then redelivered (dead letter after `maxReceiveCount`) |
//! | `Permanent` | not listed | deleted: the handler recorded the failure and reported it where asked |
//! | undecodable body | listed | visibility zero: it reaches the dead-letter queue after `maxReceiveCount` quick receives |
//!
//! [`local::poll`] plays the SQS event source for `mmsc serve --backend aws`, so the
//! local loop runs this very code.

pub mod local;

use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent, SqsMessage};
use lambda_runtime::{LambdaEvent, service_fn};
use mmsc_shared::adapters::aws::startup::{self, ConfigLoadError};
pub use mmsc_shared::adapters::aws::startup::{ConfigSource, load_config};
use mmsc_shared::adapters::aws::{AwsBackend, AwsContext, AwsResources, AwsSetupError};
use mmsc_shared::adapters::smtp_out::SmtpMm4Transport;
use mmsc_shared::config::{Config, LogFormat};
use mmsc_shared::domain::Job;
use mmsc_shared::handlers::{self, HandlerError, Services};
use mmsc_shared::ports::{Clock, SystemClock};
use mmsc_shared::routing::Router;
use mmsc_shared::worker::WorkerSettings;
use std::sync::Arc;
use std::time::Duration;
use tokio::task::JoinSet;
use tracing::{Instrument, error, info_span, warn};

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error(transparent)]
    Config(#[from] ConfigLoadError),
    #[error(transparent)]
    Aws(#[from] AwsSetupError),
    #[error("setting up outbound MM4: {0}")]
    Mm4(String),
    #[error("setting up charging: {0}")]
    Charging(String),
}

/// What a function keeps between invocations.
pub struct Function {
    pub queue: &'static str,
    pub svc: Arc<Services>,
    pub settings: WorkerSettings,
    pub aws: AwsContext,
}

/// The handler services on the AWS adapters.
pub fn services(
    cfg: Arc<Config>,
    aws: &AwsContext,
    clock: Arc<dyn Clock>,
) -> Result<Arc<Services>, StartError> {
    let res = AwsResources::from_config(&cfg.aws)?;
    let backend = AwsBackend::new(aws, &res, clock.clone());
    let mm4 = SmtpMm4Transport::new(&cfg, cfg.smtp_hostname())
        .map_err(|e| StartError::Mm4(e.to_string()))?;
    Ok(Arc::new(Services {
        config: cfg.clone(),
        router: Router::new(&cfg),
        objects: backend.objects,
        state: backend.state,
        queue: backend.queue,
        // On AWS `charging.sidecar_url` points at the diameter-sidecar service: the
        // functions never hold Diameter connections themselves.
        charging: mmsc_shared::charging::adapter(&cfg.charging).map_err(StartError::Charging)?,
        clock,
        mm4: Arc::new(mm4),
    }))
}

impl Function {
    /// Cold start: configuration, SDK clients and handler services, once.
    pub async fn from_env(queue: &'static str) -> Result<Self, StartError> {
        let (aws, cfg) = startup::from_env().await?;
        let cfg = Arc::new(cfg);
        let svc = services(cfg.clone(), &aws, Arc::new(SystemClock))?;
        Ok(Function {
            queue,
            settings: WorkerSettings::from_config(&cfg),
            svc,
            aws,
        })
    }

    /// One invocation.
    pub async fn handle(&self, event: SqsEvent) -> SqsBatchResponse {
        handle_batch(&self.svc, self.queue, &self.settings, event).await
    }
}

/// The entry point of every function binary.
pub async fn run(queue: &'static str) -> Result<(), lambda_runtime::Error> {
    let f = match Function::from_env(queue).await {
        Ok(f) => Arc::new(f),
        Err(e) => {
            // No configuration, so no log settings yet: plain stderr (CloudWatch).
            eprintln!("mmsc {queue} function: cold start failed: {e}");
            return Err(e.into());
        }
    };
    init_tracing(&f.svc.config);
    lambda_runtime::run(service_fn(move |event: LambdaEvent<SqsEvent>| {
        let f = f.clone();
        async move { Ok::<_, lambda_runtime::Error>(f.handle(event.payload).await) }
    }))
    .await
}

static TRACING: std::sync::Once = std::sync::Once::new();

/// JSON logs to stdout (CloudWatch); `RUST_LOG` or `log.filter` picks the level.
fn init_tracing(cfg: &Config) {
    TRACING.call_once(|| {
        let filter = tracing_subscriber::EnvFilter::try_from_default_env()
            .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(&cfg.log.filter));
        let builder = tracing_subscriber::fmt()
            .with_env_filter(filter)
            .without_time();
        match cfg.log.format {
            LogFormat::Text => builder.init(),
            LogFormat::Json => builder.json().init(),
        }
    });
}

/// What became of one record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Done,
    /// Retry after this delay (visibility set).
    Retry(Duration),
    /// Permanent failure, recorded by the handler; acknowledged.
    Dropped(String),
    /// The body is not a job.
    Undecodable(String),
}

impl Outcome {
    pub fn is_retry(&self) -> bool {
        matches!(self, Outcome::Retry(_) | Outcome::Undecodable(_))
    }
}

/// Handles every record of `event` concurrently; the answer lists the records to
/// retry.
pub async fn handle_batch(
    svc: &Arc<Services>,
    queue: &'static str,
    settings: &WorkerSettings,
    event: SqsEvent,
) -> SqsBatchResponse {
    let outcomes = handle_records(svc, queue, settings, event).await;
    let mut resp = SqsBatchResponse::default();
    for (id, outcome) in outcomes {
        if outcome.is_retry() {
            resp.add_failure(id);
        }
    }
    resp
}

/// [`handle_batch`] with each record's [`Outcome`] (message id, outcome), in event order.
pub async fn handle_records(
    svc: &Arc<Services>,
    queue: &'static str,
    settings: &WorkerSettings,
    event: SqsEvent,
) -> Vec<(String, Outcome)> {
    let mut set = JoinSet::new();
    for (i, record) in event.records.into_iter().enumerate() {
        let Some(id) = record.message_id.clone() else {
            // Lambda always sets it; without one the record cannot be reported.
            error!(queue, "SQS record without messageId ignored");
            continue;
        };
        let svc = svc.clone();
        let settings = settings.clone();
        set.spawn(async move {
            let outcome = handle_record(&svc, queue, &settings, &id, &record).await;
            (i, id, outcome)
        });
    }
    let mut out = Vec::new();
    while let Some(r) = set.join_next().await {
        match r {
            Ok(v) => out.push(v),
            Err(e) => error!(queue, error = %e, "record task failed"),
        }
    }
    out.sort_by_key(|(i, _, _)| *i);
    out.into_iter().map(|(_, id, o)| (id, o)).collect()
}

async fn handle_record(
    svc: &Services,
    queue: &'static str,
    settings: &WorkerSettings,
    id: &str,
    record: &SqsMessage,
) -> Outcome {
    let receive_count: u32 = record
        .attributes
        .get("ApproximateReceiveCount")
        .and_then(|n| n.parse().ok())
        .unwrap_or(1);
    let body = record.body.as_deref().unwrap_or("");
    let job = match Job::from_bytes(body.as_bytes()) {
        Ok(j) => j,
        Err(e) => {
            error!(queue, sqs_message_id = id, error = %e, "undecodable job; sending towards the dead-letter queue");
            if let Some(r) = &record.receipt_handle {
                let _ = svc.queue.set_visibility(queue, r, Duration::ZERO).await;
            }
            return Outcome::Undecodable(e.to_string());
        }
    };
    let span = info_span!(
        "job",
        queue,
        sqs_message_id = id,
        kind = job.kind(),
        attempt = receive_count
    );
    async {
        match handlers::handle(svc, &job, receive_count).await {
            Ok(()) => Outcome::Done,
            Err(HandlerError::Transient(reason)) => {
                let delay = settings.backoff(receive_count);
                warn!(%reason, retry_in = ?delay, "transient failure; will retry");
                if let Some(r) = &record.receipt_handle
                    && let Err(e) = svc.queue.set_visibility(queue, r, delay).await
                {
                    warn!(error = %e, "could not set the retry delay; the queue's visibility timeout applies");
                }
                Outcome::Retry(delay)
            }
            Err(HandlerError::Permanent(reason)) => {
                error!(%reason, "permanent failure; job acknowledged");
                Outcome::Dropped(reason)
            }
        }
    }
    .instrument(span)
    .await
}

#[cfg(test)]
mod tests;
