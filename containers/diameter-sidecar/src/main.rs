//! `diameter-sidecar --config mmsc.toml [--listen 127.0.0.1:3869] [--log FILE]`:
//! reads `[charging]` from the MMSC configuration, keeps the Diameter connections
//! to the charging servers, and serves the HTTP/JSON API (see the library docs).
//! SIGINT/SIGTERM: stop accepting, DPR/DPA every peer, exit 0.

use anyhow::{Context, Result};
use clap::Parser;
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
    /// MMSC configuration file; its [charging] section is used.
    #[arg(long, short)]
    config: PathBuf,
    /// HTTP listen address.
    #[arg(long, default_value = "127.0.0.1:3869")]
    listen: SocketAddr,
    /// Write every raw Diameter packet to this file (text2pcap -D format).
    #[arg(long)]
    log: Option<PathBuf>,
}

#[tokio::main]
async fn main() -> Result<()> {
    let args = Args::parse();
    let cfg = Config::load(&args.config).map_err(|e| anyhow::anyhow!("{e}"))?;
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(&cfg.log.filter));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .init();
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
    axum::serve(listener, app)
        .with_graceful_shutdown(async {
            use tokio::signal::unix::{SignalKind, signal};
            if let (Ok(mut t), Ok(mut i)) = (
                signal(SignalKind::terminate()),
                signal(SignalKind::interrupt()),
            ) {
                tokio::select! { _ = t.recv() => {}, _ = i.recv() => {} }
            }
        })
        .await?;
    info!("stopping: disconnecting from the charging servers (DPR)");
    charging.client.shutdown().await;
    Ok(())
}
