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
use mmsc_shared::adapters::aws::startup::Deployed;
use std::sync::Arc;
use tracing::info;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    mmsc_shared::process::exit_status("http-front", run().await)
}

async fn run() -> Result<()> {
    let d = Deployed::from_env().await?;
    let cfg = d.config;
    let b = d.backend;
    let front = Arc::new(HttpFront::complete(
        &cfg, b.objects, b.state, b.queue, None, d.clock,
    ));
    let listener = tokio::net::TcpListener::bind(cfg.http.listen)
        .await
        .with_context(|| format!("binding {} (http.listen)", cfg.http.listen))?;
    info!(listen = %cfg.http.listen, bucket = %d.resources.bucket, table = %d.resources.table, "http-front on the AWS backend");
    mmsc_shared::process::serve_until_stopped("http-front", |stop| front.serve(listener, stop))
        .await?;
    Ok(())
}
