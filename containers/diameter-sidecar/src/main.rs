//! `diameter-sidecar --config mmsc.toml [--listen 127.0.0.1:3869] [--log FILE]`:
//! reads `[charging]` from the MMSC configuration, keeps the Diameter connections
//! to the charging servers, and serves the HTTP/JSON API (see the library docs).
//! SIGINT/SIGTERM: stop accepting, DPR/DPA every peer, exit 0.
//!
//! In its container (ECS) the flags come from the environment: `MMSC_CONFIG` (a
//! file) or, without it, `MMSC_CONFIG_S3` (`s3://bucket/key`, read with the
//! standard AWS configuration), `MMSC_SIDECAR_LISTEN`, and `MMSC_LOG_FORMAT`.

use anyhow::{Context, Result};
use clap::Parser;
use mmsc_shared::adapters::aws::startup;
use mmsc_shared::charging::DiameterCharging;
use mmsc_shared::charging::diameter::{CcrSettings, client_config};
use mmsc_shared::config::Config;
use mmsc_shared::diameter_peer::{DiameterClient, PacketLog};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use tracing::info;

#[derive(Parser)]
#[command(name = "diameter-sidecar", version, about = "MM9 charging sidecar")]
struct Args {
    /// MMSC configuration file; its [charging] section is used. Without it the
    /// configuration is read from MMSC_CONFIG_S3.
    #[arg(long, short, env = "MMSC_CONFIG")]
    config: Option<PathBuf>,
    /// HTTP listen address.
    #[arg(long, env = "MMSC_SIDECAR_LISTEN", default_value = "127.0.0.1:3869")]
    listen: SocketAddr,
    /// Write every raw Diameter packet to this file (text2pcap -D format).
    #[arg(long)]
    log: Option<PathBuf>,
}

#[tokio::main]
async fn main() -> Result<()> {
    let args = Args::parse();
    let cfg = match &args.config {
        Some(path) => {
            let mut cfg = Config::load(path).map_err(|e| anyhow::anyhow!("{e}"))?;
            startup::apply_env_overrides(&mut cfg, |k| std::env::var(k).ok())?;
            cfg
        }
        None => startup::from_env().await?.1,
    };
    mmsc_shared::process::init_logging(&cfg.log);
    let c = &cfg.charging;
    let settings = CcrSettings::from_config(c)
        .context("[charging] needs origin_host, origin_realm and destination_realm")?;
    let mut client_cfg = client_config(c).map_err(anyhow::Error::msg)?;
    anyhow::ensure!(
        !client_cfg.peers.is_empty(),
        "[charging] needs at least one [[charging.peers]]"
    );
    if let Some(p) = &args.log {
        let log = PacketLog::create(p).with_context(|| format!("creating {}", p.display()))?;
        client_cfg.tap = Some(Arc::new(log));
    }
    let charging = Arc::new(DiameterCharging {
        client: DiameterClient::start(client_cfg),
        settings,
    });
    let listener = tokio::net::TcpListener::bind(args.listen)
        .await
        .with_context(|| format!("binding {}", args.listen))?;
    info!(listen = %listener.local_addr()?, "diameter-sidecar listening");
    let app = diameter_sidecar::router(charging.clone());
    mmsc_shared::process::serve_until_stopped("diameter-sidecar", |stop| async move {
        axum::serve(listener, app)
            .with_graceful_shutdown(async move {
                let mut stop = stop;
                while !*stop.borrow_and_update() {
                    if stop.changed().await.is_err() {
                        break;
                    }
                }
            })
            .await
    })
    .await?;
    info!("stopping: disconnecting from the charging servers (DPR)");
    charging.client.shutdown().await;
    Ok(())
}
