//! Start-up of every process deployed on AWS (the Lambda functions and the ECS
//! containers): where the configuration comes from, and the environment overrides
//! the deployment sets (Terraform writes them; README "Environment").
//!
//! | variable | meaning |
//! |---|---|
//! | `MMSC_CONFIG_S3` | `s3://bucket/key` of the configuration file (wins over `MMSC_CONFIG`) |
//! | `MMSC_CONFIG` | path of the configuration file |
//! | `MMSC_SMTP_LISTEN` | overrides `smtp.listen` |
//! | `MMSC_HTTP_LISTEN` | overrides `http.listen` |
//! | `MMSC_LOG_FORMAT` | overrides `log.format` (`text` or `json`) |
//! | `MMSC_DIAMETER_SIDECAR_URL` | overrides `charging.sidecar_url` (the sidecar service's address) |
//!
//! Resource names (`MMSC_AWS_*`) are read by [`super::AwsResources::from_config`].

use super::{AwsBackend, AwsContext, AwsResources, AwsSetupError, error_message};
use crate::config::{Config, LogFormat};
use crate::ports::{Clock, SystemClock};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

/// Environment variable: path of the configuration file.
pub const CONFIG_PATH_ENV: &str = "MMSC_CONFIG";
/// Environment variable: `s3://bucket/key` of the configuration file.
pub const CONFIG_S3_ENV: &str = "MMSC_CONFIG_S3";

/// The configuration could not be had.
#[derive(Debug, thiserror::Error)]
pub enum ConfigLoadError {
    #[error("set {CONFIG_PATH_ENV} (a file) or {CONFIG_S3_ENV} (s3://bucket/key)")]
    NoConfig,
    #[error("{CONFIG_S3_ENV}={0:?} is not s3://bucket/key")]
    BadS3Url(String),
    #[error("reading the configuration {url}: {message}")]
    Fetch { url: String, message: String },
    #[error("{0}")]
    Invalid(String),
    #[error("{var}={value:?}: {message}")]
    BadOverride {
        var: &'static str,
        value: String,
        message: &'static str,
    },
    #[error(transparent)]
    Aws(#[from] AwsSetupError),
}

/// Where the configuration comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConfigSource {
    File(PathBuf),
    S3 { bucket: String, key: String },
}

impl ConfigSource {
    pub fn from_env() -> Result<Self, ConfigLoadError> {
        Self::from_vars(|k| std::env::var(k).ok())
    }

    pub fn from_vars(var: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigLoadError> {
        if let Some(url) = var(CONFIG_S3_ENV).filter(|v| !v.is_empty()) {
            let rest = url
                .strip_prefix("s3://")
                .ok_or_else(|| ConfigLoadError::BadS3Url(url.clone()))?;
            return match rest.split_once('/') {
                Some((bucket, key)) if !bucket.is_empty() && !key.is_empty() => {
                    Ok(ConfigSource::S3 {
                        bucket: bucket.into(),
                        key: key.into(),
                    })
                }
                _ => Err(ConfigLoadError::BadS3Url(url)),
            };
        }
        match var(CONFIG_PATH_ENV).filter(|v| !v.is_empty()) {
            Some(p) => Ok(ConfigSource::File(p.into())),
            None => Err(ConfigLoadError::NoConfig),
        }
    }
}

/// Reads the configuration once (cold start, container start).
pub async fn load_config(
    source: &ConfigSource,
    aws: &AwsContext,
) -> Result<Config, ConfigLoadError> {
    match source {
        ConfigSource::File(path) => {
            Config::load(path).map_err(|e| ConfigLoadError::Invalid(e.to_string()))
        }
        ConfigSource::S3 { bucket, key } => {
            let url = format!("s3://{bucket}/{key}");
            let fetch = |message: String| ConfigLoadError::Fetch {
                url: url.clone(),
                message,
            };
            let out = aws
                .s3()
                .get_object()
                .bucket(bucket)
                .key(key)
                .send()
                .await
                .map_err(|e| fetch(error_message(&e)))?;
            let body = out
                .body
                .collect()
                .await
                .map_err(|e| fetch(e.to_string()))?
                .into_bytes();
            let text = std::str::from_utf8(&body).map_err(|_| fetch("not UTF-8".into()))?;
            Config::from_toml(text, &url).map_err(|e| ConfigLoadError::Invalid(e.to_string()))
        }
    }
}

/// Applies `MMSC_SMTP_LISTEN`, `MMSC_HTTP_LISTEN`, `MMSC_LOG_FORMAT` and
/// `MMSC_DIAMETER_SIDECAR_URL`.
pub fn apply_env_overrides(
    cfg: &mut Config,
    var: impl Fn(&str) -> Option<String>,
) -> Result<(), ConfigLoadError> {
    let addr = |name: &'static str| -> Result<Option<SocketAddr>, ConfigLoadError> {
        match var(name).filter(|v| !v.is_empty()) {
            None => Ok(None),
            Some(v) => v
                .parse()
                .map(Some)
                .map_err(|_| ConfigLoadError::BadOverride {
                    var: name,
                    value: v,
                    message: "not an address:port",
                }),
        }
    };
    if let Some(a) = addr("MMSC_SMTP_LISTEN")? {
        cfg.smtp.listen = a;
    }
    if let Some(a) = addr("MMSC_HTTP_LISTEN")? {
        cfg.http.listen = a;
    }
    match var("MMSC_LOG_FORMAT").filter(|v| !v.is_empty()).as_deref() {
        None => {}
        Some("json") => cfg.log.format = LogFormat::Json,
        Some("text") => cfg.log.format = LogFormat::Text,
        Some(v) => {
            return Err(ConfigLoadError::BadOverride {
                var: "MMSC_LOG_FORMAT",
                value: v.into(),
                message: "must be text or json",
            });
        }
    }
    if let Some(url) = var("MMSC_DIAMETER_SIDECAR_URL").filter(|v| !v.is_empty()) {
        if !url.starts_with("http://") {
            return Err(ConfigLoadError::BadOverride {
                var: "MMSC_DIAMETER_SIDECAR_URL",
                value: url,
                message: "must be an http:// URL",
            });
        }
        cfg.charging.sidecar_url = Some(url);
    }
    Ok(())
}

/// What a deployed process needs first: the AWS configuration and its own
/// configuration (from [`ConfigSource::from_env`], with [`apply_env_overrides`]).
pub async fn from_env() -> Result<(AwsContext, Config), ConfigLoadError> {
    let source = ConfigSource::from_env()?;
    let aws = AwsContext::load(None).await?;
    let mut cfg = load_config(&source, &aws).await?;
    apply_env_overrides(&mut cfg, |k| std::env::var(k).ok())?;
    Ok((aws, cfg))
}

/// What a front container runs on: its configuration (logging set up from it) and
/// the S3, DynamoDB and SQS adapters of its deployment.
pub struct Deployed {
    pub config: Arc<Config>,
    pub resources: AwsResources,
    pub backend: AwsBackend,
    pub clock: Arc<dyn Clock>,
}

impl Deployed {
    pub async fn from_env() -> Result<Self, ConfigLoadError> {
        let (aws, cfg) = from_env().await?;
        crate::process::init_logging(&cfg.log);
        let resources = AwsResources::from_config(&cfg.aws)?;
        let clock: Arc<dyn Clock> = Arc::new(SystemClock);
        let backend = AwsBackend::new(&aws, &resources, clock.clone());
        Ok(Deployed {
            config: Arc::new(cfg),
            resources,
            backend,
            clock,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars(pairs: &'static [(&'static str, &'static str)]) -> impl Fn(&str) -> Option<String> {
        move |k| {
            pairs
                .iter()
                .find(|(n, _)| *n == k)
                .map(|(_, v)| v.to_string())
        }
    }

    #[test]
    fn s3_wins_over_a_file_and_bad_urls_are_named() {
        assert_eq!(
            ConfigSource::from_vars(vars(&[("MMSC_CONFIG", "/etc/mmsc.toml")])).unwrap(),
            ConfigSource::File("/etc/mmsc.toml".into())
        );
        assert_eq!(
            ConfigSource::from_vars(vars(&[
                ("MMSC_CONFIG", "/etc/mmsc.toml"),
                ("MMSC_CONFIG_S3", "s3://cfg/mmsc/prod.toml"),
            ]))
            .unwrap(),
            ConfigSource::S3 {
                bucket: "cfg".into(),
                key: "mmsc/prod.toml".into()
            }
        );
        for bad in ["cfg/key", "s3://cfg", "s3:///key", "s3://cfg/"] {
            let pairs: &'static [(&str, &str)] =
                Box::leak(vec![("MMSC_CONFIG_S3", bad)].into_boxed_slice());
            assert!(
                matches!(
                    ConfigSource::from_vars(vars(pairs)),
                    Err(ConfigLoadError::BadS3Url(_))
                ),
                "{bad}"
            );
        }
        assert!(matches!(
            ConfigSource::from_vars(vars(&[])),
            Err(ConfigLoadError::NoConfig)
        ));
    }

    #[test]
    fn overrides_set_listeners_and_log_format_and_refuse_nonsense() {
        let mut cfg = Config::default();
        apply_env_overrides(
            &mut cfg,
            vars(&[
                ("MMSC_SMTP_LISTEN", "0.0.0.0:2525"),
                ("MMSC_HTTP_LISTEN", "0.0.0.0:8080"),
                ("MMSC_LOG_FORMAT", "json"),
                ("MMSC_DIAMETER_SIDECAR_URL", "http://sidecar.internal:8090"),
            ]),
        )
        .unwrap();
        assert_eq!(cfg.smtp.listen.to_string(), "0.0.0.0:2525");
        assert_eq!(cfg.http.listen.to_string(), "0.0.0.0:8080");
        assert_eq!(cfg.log.format, LogFormat::Json);
        assert_eq!(
            cfg.charging.sidecar_url.as_deref(),
            Some("http://sidecar.internal:8090")
        );

        let before = cfg.clone();
        apply_env_overrides(&mut cfg, vars(&[])).unwrap();
        assert_eq!(cfg, before);

        let e = apply_env_overrides(&mut cfg, vars(&[("MMSC_SMTP_LISTEN", "port 25")]))
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("MMSC_SMTP_LISTEN") && e.contains("port 25"),
            "{e}"
        );
        let e = apply_env_overrides(&mut cfg, vars(&[("MMSC_LOG_FORMAT", "xml")]))
            .unwrap_err()
            .to_string();
        assert!(e.contains("text or json"), "{e}");
        let e = apply_env_overrides(
            &mut cfg,
            vars(&[("MMSC_DIAMETER_SIDECAR_URL", "sidecar:8090")]),
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("http://"), "{e}");
    }
}
