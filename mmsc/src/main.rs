//! `mmsc`: the one-process MMSC on the embedded backend, and its operator tools.
//!
//! ```text
//! mmsc serve [--config FILE]        run the SMTP front, the HTTP front and a worker per queue
//! mmsc config check FILE            validate a configuration, naming each bad key
//! mmsc config demo                  print the built-in demo configuration as TOML
//! mmsc trace ID [--json]            a message's state and timeline (our id, peer Message-ID or Transaction-ID)
//! mmsc mm9test --server H --port N ...  NowSMS MM9Test: CER + one CCR; ends with `Diameter Result Code NNNN`
//! ```

mod aws;

use anyhow::{Context, Result, bail};
use clap::{Parser, Subcommand};
use mmsc_shared::adapters::embedded::EmbeddedBackend;
use mmsc_shared::adapters::smtp_out::SmtpMm4Transport;
use mmsc_shared::config::Config;
use mmsc_shared::handlers::records::Records;
use mmsc_shared::handlers::{Services, expire, trace};
use mmsc_shared::ports::{Clock, SystemClock, queues};
use mmsc_shared::routing::Router;
use mmsc_shared::worker::{self, WorkerSettings};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;
use tracing::{error, info};

mod mm9test;

#[derive(Parser)]
#[command(
    name = "mmsc",
    version,
    about = "A serverless MMSC: MM4, MM7, MM1 and MM9 in Rust"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the MMSC in one process on the embedded backend.
    Serve {
        /// Configuration file; without one, a loopback-only demo MMSC runs.
        #[arg(long, short)]
        config: Option<PathBuf>,
        /// Overrides mmsc.data_dir.
        #[arg(long)]
        data_dir: Option<PathBuf>,
        /// Overrides smtp.listen.
        #[arg(long)]
        smtp_listen: Option<std::net::SocketAddr>,
        /// Overrides http.listen.
        #[arg(long)]
        http_listen: Option<std::net::SocketAddr>,
        /// `embedded` (one process, local store) or `aws` (S3, DynamoDB, SQS from the
        /// standard AWS configuration, e.g. AWS_ENDPOINT_URL for LocalStack).
        #[arg(long, value_enum, default_value = "embedded")]
        backend: Backend,
        /// With --backend aws: create the bucket, table and queues first if missing.
        #[arg(long)]
        create_resources: bool,
    },
    /// Configuration tools.
    Config {
        #[command(subcommand)]
        command: ConfigCommand,
    },
    /// MM9Test: CER and one CCR against a charging server; ends with `Diameter Result Code NNNN`.
    Mm9test(Box<mm9test::Args>),
    /// Show a message's state and event timeline.
    Trace {
        /// Our message id, or the originator's Message-ID, or a Transaction-ID.
        id: String,
        #[arg(long)]
        json: bool,
        #[arg(long, short)]
        config: Option<PathBuf>,
        #[arg(long)]
        data_dir: Option<PathBuf>,
    },
}

#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum Backend {
    Embedded,
    Aws,
}

#[derive(Subcommand)]
enum ConfigCommand {
    /// Validate a configuration file; exit 1 and name every bad key if it is invalid.
    Check { file: PathBuf },
    /// Print the demo configuration (what `serve` runs without --config) as TOML.
    Demo,
}

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Config {
            command: ConfigCommand::Check { file },
        } => config_check(&file),
        Command::Config {
            command: ConfigCommand::Demo,
        } => config_demo(),
        Command::Serve {
            config,
            smtp_listen,
            http_listen,
            backend: Backend::Aws,
            create_resources,
            ..
        } => run_async(async move {
            let (mut cfg, _) = load_config(config.as_deref(), None)?;
            cfg.smtp.listen = smtp_listen.unwrap_or(cfg.smtp.listen);
            cfg.http.listen = http_listen.unwrap_or(cfg.http.listen);
            init_tracing(&cfg);
            aws::serve(cfg, create_resources).await
        }),
        Command::Serve {
            config,
            data_dir,
            smtp_listen,
            http_listen,
            ..
        } => run_async(serve(config, data_dir, smtp_listen, http_listen)),
        Command::Trace {
            id,
            json,
            config,
            data_dir,
        } => run_async(trace_cmd(id, json, config, data_dir)),
        Command::Mm9test(args) => run_async(mm9test::run(*args)),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("mmsc: {e:#}");
            std::process::ExitCode::from(2)
        }
    }
}

fn run_async(
    f: impl std::future::Future<Output = Result<std::process::ExitCode>>,
) -> Result<std::process::ExitCode> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the runtime")?
        .block_on(f)
}

fn config_check(file: &Path) -> Result<std::process::ExitCode> {
    match Config::load(file) {
        Ok(_) => {
            println!("{}: ok", file.display());
            Ok(std::process::ExitCode::SUCCESS)
        }
        Err(e) => {
            eprint!("{e}");
            Ok(std::process::ExitCode::from(1))
        }
    }
}

fn config_demo() -> Result<std::process::ExitCode> {
    print!(
        "{}",
        toml::to_string_pretty(&Config::demo()).context("serialising the demo config")?
    );
    Ok(std::process::ExitCode::SUCCESS)
}

fn load_config(path: Option<&Path>, data_dir: Option<PathBuf>) -> Result<(Config, bool)> {
    let (mut cfg, demo) = match path {
        Some(p) => (Config::load(p).map_err(|e| anyhow::anyhow!("{e}"))?, false),
        None => (Config::demo(), true),
    };
    if let Some(d) = data_dir {
        cfg.mmsc.data_dir = d;
    }
    Ok((cfg, demo))
}

fn init_tracing(cfg: &Config) {
    mmsc_shared::process::init_logging(&cfg.log);
}

async fn serve(
    config: Option<PathBuf>,
    data_dir: Option<PathBuf>,
    smtp_listen: Option<std::net::SocketAddr>,
    http_listen: Option<std::net::SocketAddr>,
) -> Result<std::process::ExitCode> {
    let (mut cfg, demo) = load_config(config.as_deref(), data_dir)?;
    if let Some(a) = smtp_listen {
        cfg.smtp.listen = a;
    }
    if let Some(a) = http_listen {
        cfg.http.listen = a;
    }
    init_tracing(&cfg);
    if demo {
        info!(
            "no --config given: running the loopback-only demo (loopback clients are MM4 partner \"demo\"; every E.164 number is local; acks go to 127.0.0.1:2626)"
        );
    }
    let cfg = Arc::new(cfg);
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let backend = EmbeddedBackend::open(&cfg.mmsc.data_dir, cfg.queues.max_receives, clock.clone())
        .await
        .with_context(|| {
            format!(
                "opening the embedded store in {}",
                cfg.mmsc.data_dir.display()
            )
        })?;
    info!(data_dir = %cfg.mmsc.data_dir.display(), "embedded store open");
    let mm4 =
        SmtpMm4Transport::new(&cfg, cfg.smtp_hostname()).context("setting up outbound MM4")?;
    let svc = Arc::new(Services {
        config: cfg.clone(),
        router: Router::new(&cfg),
        objects: backend.objects.clone(),
        state: backend.state.clone(),
        queue: backend.queue.clone(),
        charging: mmsc_shared::charging::adapter(&cfg.charging).map_err(anyhow::Error::msg)?,
        clock: clock.clone(),
        mm4: Arc::new(mm4),
    });

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
    spawn_fronts(
        &mut tasks,
        &cfg,
        Ports {
            objects: backend.objects.clone(),
            state: backend.state.clone(),
            queue: backend.queue.clone(),
            intake: Some(backend.intake()),
            clock: clock.clone(),
        },
        (smtp_listener, http_listener),
        &stop_rx,
    )?;
    let settings = WorkerSettings::from_config(&cfg);
    for q in [
        queues::INGEST,
        queues::MM4_OUT,
        queues::MM1_NOTIFY,
        queues::MM7_OUT,
        queues::EXPIRE,
    ] {
        tasks.spawn(worker::run(
            q,
            svc.clone(),
            settings.clone(),
            stop_rx.clone(),
        ));
    }
    // The schedule EventBridge keeps on AWS.
    tasks.spawn(expire::tick(
        svc.queue.clone(),
        Duration::from_secs(cfg.mmsc.expire_interval_secs),
        stop_rx.clone(),
    ));
    info!(
        queues = "ingest, mm4-out, mm1-notify, mm7-out, expire",
        workers = settings.concurrency,
        "workers running"
    );

    wait_for_signal().await?;
    info!("shutting down: no new sessions; finishing in-flight work");
    let _ = stop_tx.send(true);
    let drain = async { while tasks.join_next().await.is_some() {} };
    if tokio::time::timeout(Duration::from_secs(30), drain)
        .await
        .is_err()
    {
        error!("shutdown took longer than 30 s; exiting anyway (unfinished jobs are redelivered)");
    }
    svc.charging.shutdown().await;
    info!("stopped");
    Ok(std::process::ExitCode::SUCCESS)
}

async fn wait_for_signal() -> Result<()> {
    mmsc_shared::process::stop_signal()
        .await
        .context("installing the signal handlers")
}

async fn trace_cmd(
    id: String,
    json: bool,
    config: Option<PathBuf>,
    data_dir: Option<PathBuf>,
) -> Result<std::process::ExitCode> {
    let (cfg, _) = load_config(config.as_deref(), data_dir)?;
    if !cfg.mmsc.data_dir.exists() {
        bail!(
            "no data in {} (is this where `mmsc serve` keeps it? see --data-dir)",
            cfg.mmsc.data_dir.display()
        );
    }
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let backend = EmbeddedBackend::open(&cfg.mmsc.data_dir, cfg.queues.max_receives, clock.clone())
        .await
        .with_context(|| {
            format!(
                "opening the embedded store in {}",
                cfg.mmsc.data_dir.display()
            )
        })?;
    let records = Records::new(
        backend.state.as_ref(),
        clock.as_ref(),
        Duration::from_secs(cfg.mmsc.retention_secs),
    );
    let Some(mid) = records.resolve(&id).await? else {
        eprintln!("mmsc: no message known as {id}");
        return Ok(std::process::ExitCode::from(1));
    };
    let Some(view) = records.load(&mid).await? else {
        eprintln!("mmsc: message {mid} has expired");
        return Ok(std::process::ExitCode::from(1));
    };
    if json {
        println!("{}", serde_json::to_string_pretty(&trace::to_json(&view))?);
    } else {
        print!("{}", trace::render_text(&view));
    }
    Ok(std::process::ExitCode::SUCCESS)
}

/// The ports the fronts write to.
pub(crate) struct Ports {
    pub objects: Arc<dyn mmsc_shared::ports::ObjectStore>,
    pub state: Arc<dyn mmsc_shared::ports::StateStore>,
    pub queue: Arc<dyn mmsc_shared::ports::Queue>,
    /// How the fronts store a PDU and queue its job; `None`: each front's default
    /// (`SeparateIntake`).
    pub intake: Option<Arc<dyn mmsc_shared::ports::Intake>>,
    pub clock: Arc<dyn Clock>,
}

/// Starts the SMTP front and the HTTP front (health, admin, `/mm7`, `/mm1`) on their
/// listeners; both stop when `stop` turns true. Shared by both backends.
pub(crate) fn spawn_fronts(
    tasks: &mut tokio::task::JoinSet<()>,
    cfg: &Arc<Config>,
    p: Ports,
    (smtp_listener, http_listener): (tokio::net::TcpListener, tokio::net::TcpListener),
    stop: &watch::Receiver<bool>,
) -> Result<()> {
    let mut smtp = smtp_front::SmtpFront::new(
        cfg.clone(),
        p.objects.clone(),
        p.queue.clone(),
        p.clock.clone(),
    )
    .context("setting up the SMTP front")?;
    if let Some(intake) = &p.intake {
        smtp = smtp.with_intake(intake.clone());
    }
    let smtp = Arc::new(smtp);
    let http = Arc::new(http_front::HttpFront::complete(
        cfg, p.objects, p.state, p.queue, p.intake, p.clock,
    ));
    info!(smtp = %smtp_listener.local_addr()?, http = %http_listener.local_addr()?, "listening");
    let rx = stop.clone();
    let own_thread = cfg.smtp.own_thread;
    tasks.spawn(async move {
        let served = if own_thread {
            smtp.serve_on_own_thread(smtp_listener, rx).await
        } else {
            smtp.serve(smtp_listener, rx).await
        };
        if let Err(e) = served {
            error!(error = %e, "SMTP front stopped with an error");
        }
    });
    let rx = stop.clone();
    tasks.spawn(async move {
        if let Err(e) = http.serve(http_listener, rx).await {
            error!(error = %e, "HTTP front stopped with an error");
        }
    });
    Ok(())
}
