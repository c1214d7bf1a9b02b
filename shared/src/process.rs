//! What every long-running process (`mmsc`, the fronts, the sidecar) does the same
//! way: logging set-up and waiting for the signal to stop.

use crate::config::{LogConfig, LogFormat};

/// Logs to stderr, text for people or JSON for log collectors (`log.format`),
/// filtered by `RUST_LOG` or else `log.filter`. A second call does nothing.
pub fn init_logging(log: &LogConfig) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(&log.filter));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    // `try_init`: an error only means a subscriber is already installed.
    let _ = match log.format {
        LogFormat::Json => builder.json().try_init(),
        LogFormat::Text => builder.try_init(),
    };
}

/// Resolves on SIGTERM (ECS, systemd, `kill`) or SIGINT (Ctrl-C) and logs which.
pub async fn stop_signal() -> std::io::Result<()> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut term = signal(SignalKind::terminate())?;
    let mut int = signal(SignalKind::interrupt())?;
    tokio::select! {
        _ = term.recv() => tracing::info!("SIGTERM"),
        _ = int.recv() => tracing::info!("SIGINT"),
    }
    Ok(())
}

/// Runs a server until SIGTERM/SIGINT: `serve` gets a receiver that turns `true` at
/// the signal and should then stop accepting, finish what is in flight and return.
/// A server error before the signal is returned at once.
pub async fn serve_until_stopped<F, E>(
    what: &str,
    serve: impl FnOnce(tokio::sync::watch::Receiver<bool>) -> F,
) -> std::io::Result<()>
where
    F: std::future::Future<Output = Result<(), E>> + Send + 'static,
    E: std::fmt::Display + Send + 'static,
{
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let mut serving = tokio::spawn(serve(stop_rx));
    let early = tokio::select! {
        signal = stop_signal() => { signal?; None }
        done = &mut serving => Some(done),
    };
    let done = match early {
        Some(done) => done,
        None => {
            tracing::info!("{what}: stopping; work in flight finishes");
            let _ = stop_tx.send(true);
            serving.await
        }
    };
    match done {
        Ok(Ok(())) => {
            tracing::info!("{what}: stopped");
            Ok(())
        }
        Ok(Err(e)) => Err(std::io::Error::other(format!("{what}: {e}"))),
        Err(e) => Err(std::io::Error::other(format!("{what}: task failed: {e}"))),
    }
}

/// The exit status of a binary whose start-up or run failed: the reason on stderr,
/// prefixed with the binary's name, and 2.
pub fn exit_status<E: std::fmt::Display>(
    name: &str,
    result: Result<(), E>,
) -> std::process::ExitCode {
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("{name}: {e:#}");
            std::process::ExitCode::from(2)
        }
    }
}
