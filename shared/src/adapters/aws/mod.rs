//! AWS adapters (cargo feature `aws`): S3 objects, DynamoDB state, SQS queues.
//!
//! One [`AwsContext`] holds the shared SDK configuration (loaded once with
//! `BehaviorVersion::latest()`, endpoint, region and credentials from the standard AWS
//! configuration: `AWS_ENDPOINT_URL`, `AWS_REGION`, profiles, the ECS/Lambda
//! credential providers) and the request counters; [`AwsBackend::new`] builds the three
//! clients from it once. With `AWS_ENDPOINT_URL=http://localhost:4566` the very same
//! code talks to LocalStack or a moto server.
//!
//! * [`S3ObjectStore`]: one bucket, server-side encryption, content types, bodies
//!   streamed from and to [`bytes::Bytes`] without copies.
//! * [`DynamoStateStore`]: one table (`pk`, `sk`), versions and expiry in attributes,
//!   every conditional write one request; see the module for the item layout.
//! * [`SqsQueue`]: one SQS queue per logical queue (`<prefix><name>`) with a `-dlq`
//!   twin reached through the redrive policy.
//!
//! [`provision`] creates these resources (tests, LocalStack); on AWS, Terraform does.

mod counter;
mod dynamodb;
pub mod moto;
pub mod provision;
mod s3;
mod sqs;
pub mod startup;

pub use counter::{RequestCounter, RequestCounts};
pub use dynamodb::DynamoStateStore;
pub use s3::{S3ObjectStore, ServerSideEncryption};
pub use sqs::SqsQueue;

use crate::config::AwsConfig;
use crate::ports::Clock;
use aws_config::{BehaviorVersion, SdkConfig};
use aws_sdk_s3::error::{ProvideErrorMetadata, SdkError};
use std::sync::Arc;

/// Setting up the AWS backend failed.
#[derive(Debug, thiserror::Error)]
pub enum AwsSetupError {
    #[error("no AWS region: set aws.region in the configuration, AWS_REGION, or a profile region")]
    NoRegion,
    #[error("{key}: {message}")]
    Config { key: &'static str, message: String },
    #[error("AWS request failed while {what}: {message}")]
    Request { what: String, message: String },
}

/// The shared SDK configuration and the request counters of every client built from it.
#[derive(Clone, Debug)]
pub struct AwsContext {
    pub sdk: SdkConfig,
    pub counter: RequestCounter,
}

/// The HTTP(S) client every AWS SDK client shares: hyper 1 + rustls with ring (no
/// aws-lc-rs build, no hyper 0.14).
fn http_client() -> aws_smithy_runtime_api::client::http::SharedHttpClient {
    use aws_smithy_http_client::tls;
    aws_smithy_http_client::Builder::new()
        .tls_provider(tls::Provider::Rustls(
            tls::rustls_provider::CryptoMode::Ring,
        ))
        .build_https()
}

impl AwsContext {
    /// Loads the standard AWS configuration (environment, profile, container and
    /// instance credentials); `region` overrides the standard region.
    pub async fn load(region: Option<&str>) -> Result<Self, AwsSetupError> {
        let mut loader = aws_config::defaults(BehaviorVersion::latest()).http_client(http_client());
        if let Some(r) = region {
            loader = loader.region(aws_config::Region::new(r.to_string()));
        }
        let sdk = loader.load().await;
        if sdk.region().is_none() {
            return Err(AwsSetupError::NoRegion);
        }
        Ok(AwsContext {
            sdk,
            counter: RequestCounter::default(),
        })
    }

    /// A context for a local AWS-compatible server (moto, LocalStack): the given
    /// endpoint, region `us-east-1` and static test credentials.
    pub fn local(endpoint: &str) -> Self {
        let sdk = SdkConfig::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(aws_config::Region::new("us-east-1"))
            .endpoint_url(endpoint)
            .credentials_provider(aws_sdk_s3::config::SharedCredentialsProvider::new(
                aws_sdk_s3::config::Credentials::new("test", "test", None, None, "local"),
            ))
            .http_client(http_client())
            .build();
        AwsContext {
            sdk,
            counter: RequestCounter::default(),
        }
    }

    /// Whether requests go to an endpoint override (LocalStack, moto) rather than AWS.
    pub fn has_endpoint_override(&self) -> bool {
        self.sdk.endpoint_url().is_some() || std::env::var_os("AWS_ENDPOINT_URL_S3").is_some()
    }

    pub fn s3(&self) -> aws_sdk_s3::Client {
        let conf = aws_sdk_s3::config::Builder::from(&self.sdk)
            .force_path_style(self.has_endpoint_override())
            .interceptor(self.counter.clone())
            .build();
        aws_sdk_s3::Client::from_conf(conf)
    }

    pub fn dynamodb(&self) -> aws_sdk_dynamodb::Client {
        let conf = aws_sdk_dynamodb::config::Builder::from(&self.sdk)
            .interceptor(self.counter.clone())
            .build();
        aws_sdk_dynamodb::Client::from_conf(conf)
    }

    pub fn sqs(&self) -> aws_sdk_sqs::Client {
        let conf = aws_sdk_sqs::config::Builder::from(&self.sdk)
            .interceptor(self.counter.clone())
            .build();
        aws_sdk_sqs::Client::from_conf(conf)
    }
}

/// Resource names of one deployment (from `[aws]` and `MMSC_AWS_*` environment).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AwsResources {
    pub bucket: String,
    pub table: String,
    /// Queue `ingest` is the SQS queue `<queue_prefix>ingest`.
    pub queue_prefix: String,
    /// When set, queue URLs are `<queue_url_prefix><queue_prefix><name>` (no
    /// `GetQueueUrl` at start).
    pub queue_url_prefix: Option<String>,
    pub sse: ServerSideEncryption,
}

impl AwsResources {
    /// Names from the configuration, each overridable by its environment variable
    /// (`MMSC_AWS_BUCKET`, `MMSC_AWS_TABLE`, `MMSC_AWS_QUEUE_PREFIX`,
    /// `MMSC_AWS_QUEUE_URL_PREFIX`, `MMSC_AWS_KMS_KEY_ID`).
    pub fn from_config(cfg: &AwsConfig) -> Result<Self, AwsSetupError> {
        Self::from_config_and_env(cfg, |k| std::env::var(k).ok())
    }

    pub fn from_config_and_env(
        cfg: &AwsConfig,
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<Self, AwsSetupError> {
        let pick = |var: &str, v: &str| env(var).filter(|s| !s.is_empty()).unwrap_or(v.into());
        let res = AwsResources {
            bucket: pick("MMSC_AWS_BUCKET", &cfg.bucket),
            table: pick("MMSC_AWS_TABLE", &cfg.table),
            queue_prefix: pick("MMSC_AWS_QUEUE_PREFIX", &cfg.queue_prefix),
            queue_url_prefix: env("MMSC_AWS_QUEUE_URL_PREFIX")
                .filter(|s| !s.is_empty())
                .or_else(|| cfg.queue_url_prefix.clone()),
            sse: match env("MMSC_AWS_KMS_KEY_ID")
                .filter(|s| !s.is_empty())
                .or_else(|| cfg.kms_key_id.clone())
            {
                Some(key) => ServerSideEncryption::Kms(key),
                None => ServerSideEncryption::S3Managed,
            },
        };
        if res.bucket.is_empty() {
            return Err(AwsSetupError::Config {
                key: "aws.bucket",
                message: "is empty (set it or MMSC_AWS_BUCKET)".into(),
            });
        }
        if res.table.is_empty() {
            return Err(AwsSetupError::Config {
                key: "aws.table",
                message: "is empty (set it or MMSC_AWS_TABLE)".into(),
            });
        }
        Ok(res)
    }
}

/// The three AWS adapters of one deployment, sharing one [`AwsContext`].
#[derive(Clone)]
pub struct AwsBackend {
    pub objects: Arc<S3ObjectStore>,
    pub state: Arc<DynamoStateStore>,
    pub queue: Arc<SqsQueue>,
}

impl AwsBackend {
    pub fn new(ctx: &AwsContext, res: &AwsResources, clock: Arc<dyn Clock>) -> Self {
        AwsBackend {
            objects: Arc::new(S3ObjectStore::new(
                ctx.s3(),
                res.bucket.clone(),
                res.sse.clone(),
            )),
            state: Arc::new(DynamoStateStore::new(
                ctx.dynamodb(),
                res.table.clone(),
                clock,
            )),
            queue: Arc::new(SqsQueue::new(
                ctx.sqs(),
                res.queue_prefix.clone(),
                res.queue_url_prefix.clone(),
            )),
        }
    }
}

/// The message of an SDK error, with its service error code when there is one.
pub fn error_message<E, R>(e: &SdkError<E, R>) -> String
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug,
{
    match e {
        SdkError::ServiceError(se) => {
            let err = se.err();
            match (err.code(), err.message()) {
                (Some(c), Some(m)) => format!("{c}: {m}"),
                (Some(c), None) => c.to_string(),
                _ => err.to_string(),
            }
        }
        other => {
            // DisplayErrorContext includes the source chain (connection refused, ...).
            aws_sdk_s3::error::DisplayErrorContext(other).to_string()
        }
    }
}
