//! `http-front`: the HTTP front alone (MM7 for VASPs, MM1 for handsets, `/health`,
//! the admin API), on the AWS backend: the ECS service behind the Application Load
//! Balancer. Submissions are stored in S3 and queued on SQS before they are answered;
//! retrievals and the admin API read DynamoDB and S3. (`mmsc serve` runs the same
//! front in process on the embedded backend.)
//!
//! Configuration: `MMSC_CONFIG_S3` (`s3://bucket/key`) or `MMSC_CONFIG` (a file),
//! `MMSC_HTTP_LISTEN` overriding `http.listen`, `MMSC_LOG_FORMAT`, the `MMSC_AWS_*`
//! resource names and the standard AWS environment (`AWS_ENDPOINT_URL` for
//! LocalStack or moto). SIGTERM: stop accepting, finish requests in flight, exit 0.
//! Exit 2 when it cannot start.

use anyhow::{Context, Result};
use http_front::HttpFront;
use mmsc_shared::adapters::aws::{AwsBackend, AwsResources, startup};
use mmsc_shared::ports::{Clock, SystemClock};
use std::sync::Arc;
use tracing::info;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    match run().await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("http-front: {e:#}");
            std::process::ExitCode::from(2)
        }
    }
}

async fn run() -> Result<()> {
    let (aws, cfg) = startup::from_env().await?;
    mmsc_shared::process::init_logging(&cfg.log);
    let cfg = Arc::new(cfg);
    let res = AwsResources::from_config(&cfg.aws)?;
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let backend = AwsBackend::new(&aws, &res, clock.clone());
    let front = Arc::new(HttpFront::complete(
        &cfg,
        backend.objects,
        backend.state,
        backend.queue,
        clock,
    ));
    let listener = tokio::net::TcpListener::bind(cfg.http.listen)
        .await
        .with_context(|| format!("binding {} (http.listen)", cfg.http.listen))?;
    info!(listen = %cfg.http.listen, bucket = %res.bucket, table = %res.table, "http-front on the AWS backend");
    mmsc_shared::process::serve_until_stopped("http-front", |stop| front.serve(listener, stop))
        .await?;
    Ok(())
}
