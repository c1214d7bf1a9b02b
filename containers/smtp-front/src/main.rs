//! `smtp-front`: the SMTP (MM4) front alone, on the AWS backend: the ECS service
//! behind the Network Load Balancer. It stores each accepted message in S3 and puts
//! its job on the `ingest` SQS queue before answering `250`; the Lambda functions do
//! the rest. (`mmsc serve` runs the same front in process on the embedded backend.)
//!
//! Configuration: `MMSC_CONFIG_S3` (`s3://bucket/key`) or `MMSC_CONFIG` (a file),
//! `MMSC_SMTP_LISTEN` overriding `smtp.listen`, `MMSC_LOG_FORMAT`, the `MMSC_AWS_*`
//! resource names and the standard AWS environment (`AWS_ENDPOINT_URL` for
//! LocalStack or moto). SIGTERM: stop accepting, let sessions finish, exit 0.
//! Exit 2 when it cannot start.

use anyhow::{Context, Result};
use mmsc_shared::adapters::aws::startup::Deployed;
use smtp_front::SmtpFront;
use std::sync::Arc;
use tracing::info;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    mmsc_shared::process::exit_status("smtp-front", run().await)
}

async fn run() -> Result<()> {
    let d = Deployed::from_env().await?;
    let cfg = d.config;
    let front = Arc::new(
        SmtpFront::new(cfg.clone(), d.backend.objects, d.backend.queue, d.clock)
            .context("setting up the SMTP front")?,
    );
    let listener = tokio::net::TcpListener::bind(cfg.smtp.listen)
        .await
        .with_context(|| format!("binding {} (smtp.listen)", cfg.smtp.listen))?;
    info!(bucket = %d.resources.bucket, queue_prefix = %d.resources.queue_prefix, "smtp-front on the AWS backend");
    mmsc_shared::process::serve_until_stopped("smtp-front", |stop| front.serve(listener, stop))
        .await?;
    Ok(())
}
