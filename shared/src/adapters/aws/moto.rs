//! A moto server (`pip install 'moto[server]'`) for tests: an AWS-compatible S3,
//! DynamoDB and SQS endpoint on a free loopback port, started on demand and killed on
//! drop. Not used by any production path.

use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub const INSTALL_HINT: &str =
    "moto_server not found: run tests/setup-peers.sh (or `pip install 'moto[server]'`)";

pub struct MotoServer {
    child: Child,
    pub port: u16,
    /// moto's request log.
    pub log: std::path::PathBuf,
}

#[derive(Debug, thiserror::Error)]
pub enum MotoError {
    #[error("{INSTALL_HINT}")]
    Missing,
    #[error("moto_server did not answer on 127.0.0.1:{port} within {secs} s: {detail}")]
    NotReady {
        port: u16,
        secs: u64,
        detail: String,
    },
    #[error("starting moto_server: {0}")]
    Io(#[from] std::io::Error),
}

impl MotoServer {
    /// Starts `moto_server -H 127.0.0.1 -p <free port>` (threaded, as shipped) and waits
    /// until it answers.
    pub fn start() -> Result<Self, MotoError> {
        Self::launch(false)
    }

    /// Starts moto's application on a single-threaded server: one request at a time.
    ///
    /// moto's DynamoDB evaluates a condition and then writes without a lock, so on the
    /// threaded server two concurrent conditional writes can both pass (a lost
    /// compare-and-set, which DynamoDB itself never allows). Serialised requests make
    /// its conditional writes atomic, so the state-store contract's concurrency checks
    /// test the adapter rather than moto. Not for SQS: a long poll would block it.
    pub fn start_serial() -> Result<Self, MotoError> {
        Self::launch(true)
    }

    fn launch(serial: bool) -> Result<Self, MotoError> {
        let port = TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
        if serial {
            let script = format!(
                "from werkzeug.serving import run_simple\n\
                 from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app\n\
                 run_simple('127.0.0.1', {port}, DomainDispatcherApplication(create_backend_app), threaded=False, use_reloader=False)\n"
            );
            let log = std::env::temp_dir().join(format!("moto-{port}.log"));
            let file = std::fs::File::create(&log)?;
            let child = match Command::new("python3")
                .args(["-c", &script])
                .stdin(Stdio::null())
                .stdout(Stdio::from(file.try_clone()?))
                .stderr(Stdio::from(file))
                .spawn()
            {
                Ok(c) => c,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                    return Err(MotoError::Missing);
                }
                Err(e) => return Err(e.into()),
            };
            let mut server = MotoServer { child, port, log };
            server.wait_ready(Duration::from_secs(30))?;
            return Ok(server);
        }
        let args = ["-H", "127.0.0.1", "-p", &port.to_string()];
        let log = std::env::temp_dir().join(format!("moto-{port}.log"));
        let spawn = |cmd: &mut Command| -> std::io::Result<Child> {
            let file = std::fs::File::create(&log)?;
            cmd.stdin(Stdio::null())
                .stdout(Stdio::from(file.try_clone()?))
                .stderr(Stdio::from(file))
                .spawn()
        };
        let child = match spawn(Command::new("moto_server").args(args)) {
            Ok(c) => c,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let ok = Command::new("python3")
                    .args(["-c", "import moto.server"])
                    .stdout(Stdio::null())
                    .stderr(Stdio::null())
                    .status()
                    .is_ok_and(|s| s.success());
                if !ok {
                    return Err(MotoError::Missing);
                }
                spawn(
                    Command::new("python3")
                        .args(["-m", "moto.server"])
                        .args(args),
                )?
            }
            Err(e) => return Err(e.into()),
        };
        let mut server = MotoServer { child, port, log };
        server.wait_ready(Duration::from_secs(30))?;
        Ok(server)
    }

    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    fn wait_ready(&mut self, limit: Duration) -> Result<(), MotoError> {
        let started = Instant::now();
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                let err = std::fs::read_to_string(&self.log).unwrap_or_default();
                if err.contains("No module named") || status.code() == Some(127) {
                    return Err(MotoError::Missing);
                }
                return Err(MotoError::NotReady {
                    port: self.port,
                    secs: 0,
                    detail: format!("exited with {status}: {}", err.trim()),
                });
            }
            if TcpStream::connect(("127.0.0.1", self.port)).is_ok() {
                return Ok(());
            }
            if started.elapsed() > limit {
                return Err(MotoError::NotReady {
                    port: self.port,
                    secs: limit.as_secs(),
                    detail: "no TCP listener".into(),
                });
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

impl Drop for MotoServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
