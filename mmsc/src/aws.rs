//! `mmsc serve --backend aws`: the SMTP and HTTP fronts on the AWS adapters (S3,
//! DynamoDB, SQS) plus a local SQS event source per queue that runs the Lambda
//! functions' own batch handler (`mmsc_functions::local`), so a developer runs the
//! deployed code paths against LocalStack or moto without deploying anything.
//! Endpoint, region and credentials come from the standard AWS configuration
//! (`AWS_ENDPOINT_URL=http://localhost:4566` for LocalStack).

use anyhow::{Context, Result};
use mmsc_functions::local::{self, EventSource};
use mmsc_shared::adapters::aws::{AwsContext, AwsResources, provision};
use mmsc_shared::config::Config;
use mmsc_shared::ports::{Clock, SystemClock, queues};
use mmsc_shared::worker::WorkerSettings;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;
use tracing::{error, info};

/// Queues the local event source polls: every queue with a worker in the embedded
/// backend. The `expire` queue is fed by a local tick here (an EventBridge schedule
/// on AWS).
const POLLED: [&str; 5] = [
    queues::INGEST,
    queues::MM4_OUT,
    queues::MM1_NOTIFY,
    queues::MM7_OUT,
    queues::EXPIRE,
];

pub async fn serve(cfg: Config, create_resources: bool) -> Result<std::process::ExitCode> {
    let cfg = Arc::new(cfg);
    let aws = AwsContext::load(cfg.aws.region.as_deref()).await?;
    let res = AwsResources::from_config(&cfg.aws)?;
    let region = aws
        .sdk
        .region()
        .map(|r| r.as_ref().to_string())
        .unwrap_or_default();
    info!(
        bucket = %res.bucket,
        table = %res.table,
        queue_prefix = %res.queue_prefix,
        region = %region,
        endpoint = aws.sdk.endpoint_url().unwrap_or("(AWS)"),
        "AWS backend"
    );
    if create_resources {
        let mut names: Vec<&str> = provision::DEPLOYMENT_QUEUES.to_vec();
        names.push(queues::EXPIRE);
        provision::create_resources(
            &aws,
            &res,
            &names,
            cfg.queues.max_receives,
            Duration::from_secs(cfg.queues.visibility_timeout_secs),
        )
        .await
        .context("creating the AWS resources")?;
        info!("bucket, table and queues are in place");
    }
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let svc = mmsc_functions::services(cfg.clone(), &aws, clock.clone())?;

    let (stop_tx, stop_rx) = watch::channel(false);
    let smtp_listener = tokio::net::TcpListener::bind(cfg.smtp.listen)
        .await
        .with_context(|| {
            format!(
                "binding the SMTP listener on {} (smtp.listen)",
                cfg.smtp.listen
            )
        })?;
    let http_listener = tokio::net::TcpListener::bind(cfg.http.listen)
        .await
        .with_context(|| {
            format!(
                "binding the HTTP listener on {} (http.listen)",
                cfg.http.listen
            )
        })?;
    let mut tasks = tokio::task::JoinSet::new();
    crate::spawn_fronts(
        &mut tasks,
        &cfg,
        crate::Ports {
            objects: svc.objects.clone(),
            state: svc.state.clone(),
            queue: svc.queue.clone(),
            // Each front's default: S3 and SQS are separate services.
            intake: None,
            clock: clock.clone(),
        },
        (smtp_listener, http_listener),
        &stop_rx,
    )?;
    let settings = WorkerSettings::from_config(&cfg);
    for q in POLLED {
        let source = EventSource {
            region: region.clone(),
            queue_name: format!("{}{q}", res.queue_prefix),
        };
        tasks.spawn(local::poll(
            q,
            source,
            svc.clone(),
            settings.clone(),
            cfg.queues.workers.min(10),
            stop_rx.clone(),
        ));
    }
    tasks.spawn(mmsc_shared::handlers::expire::tick(
        svc.queue.clone(),
        Duration::from_secs(cfg.mmsc.expire_interval_secs),
        stop_rx.clone(),
    ));
    info!(
        queues = "ingest, mm4-out, mm1-notify, mm7-out, expire",
        "local SQS event sources running"
    );

    crate::wait_for_signal().await?;
    info!("shutting down: no new sessions; finishing in-flight work");
    let _ = stop_tx.send(true);
    let drain = async { while tasks.join_next().await.is_some() {} };
    if tokio::time::timeout(Duration::from_secs(30), drain)
        .await
        .is_err()
    {
        error!("shutdown took longer than 30 s; exiting anyway (unfinished jobs are redelivered)");
    }
    info!("stopped");
    Ok(std::process::ExitCode::SUCCESS)
}
