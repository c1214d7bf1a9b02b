//! Harness for end-to-end tests: run the real `mmsc` binary, real SMTP peers
//! (Python smtplib, swaks, the aiosmtpd sink in `tests/peers/smtp_sink.py`) and wait
//! for observable effects. Everything listens on 127.0.0.1 ephemeral ports.
#![allow(dead_code, clippy::unwrap_used)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

/// The `mmsc` binary cargo built next to this test binary.
pub fn mmsc_bin() -> PathBuf {
    if let Ok(p) = std::env::var("MMSC_BIN") {
        return PathBuf::from(p);
    }
    workspace_bin("mmsc")
}

/// A binary of the workspace (`mmsc`, `smtp-front`, `http-front`, ...) from the
/// target directory this test binary runs from.
pub fn workspace_bin(name: &str) -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    let dir = exe.parent().unwrap().parent().unwrap();
    let bin = dir.join(name);
    assert!(
        bin.exists(),
        "{} not built: run `cargo build --workspace --bins` (tests/run-all.sh does)",
        bin.display()
    );
    bin
}

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Fails (under CI) or skips (locally) when an external tool is missing.
pub fn require_tool(tool: &str) -> bool {
    let found = Command::new("sh")
        .arg("-c")
        .arg(format!("command -v {tool} || test -x /usr/sbin/{tool}"))
        .stdout(Stdio::null())
        .status()
        .map(|s| s.success())
        .unwrap_or(false);
    if !found {
        let msg = format!("{tool} is missing: run tests/setup-peers.sh");
        if std::env::var("CI").is_ok_and(|v| v == "true") {
            panic!("{msg}");
        }
        eprintln!("SKIP: {msg}");
    }
    found
}

pub fn require_python_module(module: &str) -> bool {
    let ok = Command::new("python3")
        .args(["-c", &format!("import {module}")])
        .stderr(Stdio::null())
        .status()
        .map(|s| s.success())
        .unwrap_or(false);
    if !ok {
        let msg = format!("python3 module {module} is missing: run tests/setup-peers.sh");
        if std::env::var("CI").is_ok_and(|v| v == "true") {
            panic!("{msg}");
        }
        eprintln!("SKIP: {msg}");
    }
    ok
}

pub fn wait_until<T>(what: &str, timeout: Duration, mut f: impl FnMut() -> Option<T>) -> T {
    let start = Instant::now();
    loop {
        if let Some(v) = f() {
            return v;
        }
        if start.elapsed() > timeout {
            panic!("timed out after {timeout:?} waiting for {what}");
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// A running `mmsc serve`.
pub struct Mmsc {
    pub child: Option<Child>,
    pub smtp_port: u16,
    pub http_port: u16,
    pub data_dir: PathBuf,
    pub config: Option<PathBuf>,
    pub log: PathBuf,
}

impl Mmsc {
    /// Starts `mmsc serve` with `config` (TOML text, written to `dir/mmsc.toml`) or the
    /// demo when `None`, and waits until both listeners accept.
    pub fn start(dir: &Path, config: Option<&str>) -> Mmsc {
        Self::start_on(dir, config, free_port(), free_port())
    }

    pub fn start_on(dir: &Path, config: Option<&str>, smtp_port: u16, http_port: u16) -> Mmsc {
        let data_dir = dir.join("data");
        let config_path = config.map(|c| {
            let p = dir.join("mmsc.toml");
            std::fs::write(&p, c).unwrap();
            p
        });
        let mut m = Mmsc {
            child: None,
            smtp_port,
            http_port,
            data_dir,
            config: config_path,
            log: dir.join("mmsc.log"),
        };
        m.spawn();
        m
    }

    pub fn spawn(&mut self) {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.log)
            .unwrap();
        let mut cmd = Command::new(mmsc_bin());
        cmd.arg("serve")
            .arg("--data-dir")
            .arg(&self.data_dir)
            .arg("--smtp-listen")
            .arg(format!("127.0.0.1:{}", self.smtp_port))
            .arg("--http-listen")
            .arg(format!("127.0.0.1:{}", self.http_port))
            .env("RUST_LOG", "info,mmsc_shared=debug")
            .stdout(Stdio::null())
            .stderr(log);
        if let Some(c) = &self.config {
            cmd.arg("--config").arg(c);
        }
        self.child = Some(cmd.spawn().unwrap());
        let (s, h) = (self.smtp_port, self.http_port);
        wait_until("mmsc listeners", Duration::from_secs(60), || {
            if let Some(Ok(Some(status))) = self.child.as_mut().map(|c| c.try_wait()) {
                panic!("mmsc exited early with {status}; log:\n{}", self.log_text());
            }
            (TcpStream::connect(("127.0.0.1", s)).is_ok()
                && TcpStream::connect(("127.0.0.1", h)).is_ok())
            .then_some(())
        });
    }

    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// SIGKILL: no chance to clean up.
    pub fn kill9(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// SIGTERM and wait; returns the exit code.
    pub fn terminate(&mut self) -> Option<i32> {
        let mut c = self.child.take()?;
        let _ = Command::new("kill")
            .arg("-TERM")
            .arg(c.id().to_string())
            .status();
        let deadline = Instant::now() + Duration::from_secs(40);
        loop {
            if let Ok(Some(st)) = c.try_wait() {
                return st.code();
            }
            if Instant::now() > deadline {
                let _ = c.kill();
                let _ = c.wait();
                return None;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// `mmsc trace ID --json` against this instance's data; `None` when unknown.
    pub fn trace(&self, id: &str) -> Option<serde_json::Value> {
        let mut cmd = Command::new(mmsc_bin());
        cmd.arg("trace")
            .arg(id)
            .arg("--json")
            .arg("--data-dir")
            .arg(&self.data_dir);
        if let Some(c) = &self.config {
            cmd.arg("--config").arg(c);
        }
        let out = cmd.output().unwrap();
        if !out.status.success() {
            return None;
        }
        serde_json::from_slice(&out.stdout).ok()
    }

    /// Recipient `n`'s state in a trace.
    pub fn recipient_state(&self, id: &str, n: usize) -> Option<String> {
        let t = self.trace(id)?;
        t["recipients"][n]["state"].as_str().map(String::from)
    }

    /// A raw HTTP/1.1 request to the HTTP front; returns (status, body).
    pub fn http(&self, method: &str, path: &str, body: &str) -> (u16, String) {
        let mut s = TcpStream::connect(("127.0.0.1", self.http_port)).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        write!(
            s,
            "{method} {path} HTTP/1.1\r\nhost: localhost\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
            body.len()
        )
        .unwrap();
        let mut resp = String::new();
        s.read_to_string(&mut resp).unwrap();
        let status = resp
            .split_whitespace()
            .nth(1)
            .and_then(|c| c.parse().ok())
            .unwrap_or(0);
        let body = resp
            .split_once("\r\n\r\n")
            .map(|(_, b)| b.to_string())
            .unwrap_or_default();
        (status, body)
    }
}

impl Drop for Mmsc {
    fn drop(&mut self) {
        self.kill9();
    }
}

/// The aiosmtpd sink playing a partner MMSC.
pub struct Sink {
    child: Child,
    pub port: u16,
    pub dir: PathBuf,
}

impl Sink {
    pub fn start(dir: &Path, extra: &[&str]) -> Sink {
        Self::start_on(dir, 0, extra)
    }

    pub fn start_on(dir: &Path, port: u16, extra: &[&str]) -> Sink {
        std::fs::create_dir_all(dir).unwrap();
        let mut child = Command::new("python3")
            .arg(repo_root().join("tests/peers/smtp_sink.py"))
            .args(["--port", &port.to_string(), "--dir"])
            .arg(dir)
            .args(extra)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap();
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let port = line
            .trim()
            .strip_prefix("READY ")
            .and_then(|p| p.parse().ok())
            .unwrap_or_else(|| panic!("sink did not start: {line:?}"));
        Sink {
            child,
            port,
            dir: dir.to_path_buf(),
        }
    }

    /// Received messages in arrival order: (envelope JSON, raw bytes).
    pub fn messages(&self) -> Vec<(serde_json::Value, Vec<u8>)> {
        let mut out = Vec::new();
        for n in 1.. {
            let eml = self.dir.join(format!("{n}.eml"));
            if !eml.exists() {
                break;
            }
            let json = std::fs::read(self.dir.join(format!("{n}.json"))).unwrap();
            out.push((
                serde_json::from_slice(&json).unwrap(),
                std::fs::read(eml).unwrap(),
            ));
        }
        out
    }

    /// Waits for a message whose raw text contains every needle.
    pub fn wait_for(&self, needles: &[&str], timeout: Duration) -> Vec<u8> {
        wait_until(
            &format!("a message with {needles:?} at the sink"),
            timeout,
            || {
                self.messages().into_iter().map(|(_, raw)| raw).find(|raw| {
                    let t = String::from_utf8_lossy(raw);
                    needles.iter().all(|n| t.contains(n))
                })
            },
        )
    }
}

impl Drop for Sink {
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .arg("-TERM")
            .arg(self.child.id().to_string())
            .status();
        let _ = self.child.wait();
    }
}

pub fn sample_pdu() -> Vec<u8> {
    std::fs::read(repo_root().join("events/mm4/sample-forward-req.eml")).unwrap()
}

/// The sample with another transaction id and message id.
pub fn sample_with_ids(txid: &str, msgid: &str) -> Vec<u8> {
    String::from_utf8(sample_pdu())
        .unwrap()
        .replace("60755231.94578772@mmsc", txid)
        .replace("148478240@mmsc.hub", msgid)
        .into_bytes()
}

/// Sends with Python's smtplib; returns (code, text) of the final reply to DATA, or
/// of the first refusal.
pub fn smtplib_send(port: u16, mail_from: &str, rcpt_to: &[&str], data: &[u8]) -> (u16, String) {
    smtplib_send_from("127.0.0.1", port, mail_from, rcpt_to, data)
}

/// As [`smtplib_send`], connecting from `source_ip` (any 127.x.y.z works on Linux).
pub fn smtplib_send_from(
    source_ip: &str,
    port: u16,
    mail_from: &str,
    rcpt_to: &[&str],
    data: &[u8],
) -> (u16, String) {
    let script = r#"
import smtplib, sys, json
port, mail_from, rcpts, src = int(sys.argv[1]), sys.argv[2], json.loads(sys.argv[3]), sys.argv[4]
data = sys.stdin.buffer.read()
try:
    s = smtplib.SMTP("127.0.0.1", port, timeout=30, source_address=(src, 0))
    s.ehlo("partner.test")
    code, text = s.mail(mail_from)
    if code >= 400:
        print(code, text.decode()); sys.exit(0)
    for r in rcpts:
        code, text = s.rcpt(r)
        if code >= 400:
            print(code, text.decode()); sys.exit(0)
    code, text = s.data(data)
    print(code, text.decode())
    s.quit()
except smtplib.SMTPResponseException as e:
    print(e.smtp_code, e.smtp_error.decode(errors="replace"))
except smtplib.SMTPServerDisconnected as e:
    print(0, "disconnected: " + str(e))
"#;
    let rcpts = serde_json::to_string(rcpt_to).unwrap();
    let mut child = Command::new("python3")
        .args([
            "-c",
            script,
            &port.to_string(),
            mail_from,
            &rcpts,
            source_ip,
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(data).unwrap();
    let out = child.wait_with_output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout).trim().to_string();
    let (code, rest) = text.split_once(' ').unwrap_or((&text, ""));
    (code.parse().unwrap_or(0), rest.to_string())
}

/// Reads one SMTP reply (all lines) from a raw connection.
pub fn read_reply(r: &mut BufReader<TcpStream>) -> String {
    let mut all = String::new();
    loop {
        let mut line = String::new();
        if r.read_line(&mut line).unwrap_or(0) == 0 {
            return all;
        }
        all.push_str(&line);
        if line.len() < 4 || line.as_bytes()[3] == b' ' {
            return all;
        }
    }
}

/// A raw SMTP session: each command gets its reply.
pub struct RawSmtp {
    pub r: BufReader<TcpStream>,
    pub w: TcpStream,
    pub greeting: String,
}

impl RawSmtp {
    pub fn connect(port: u16) -> RawSmtp {
        let s = TcpStream::connect(("127.0.0.1", port)).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
        let w = s.try_clone().unwrap();
        let mut r = BufReader::new(s);
        let greeting = read_reply(&mut r);
        RawSmtp { r, w, greeting }
    }
    pub fn cmd(&mut self, line: &str) -> String {
        self.w.write_all(line.as_bytes()).unwrap();
        self.w.write_all(b"\r\n").unwrap();
        read_reply(&mut self.r)
    }
    pub fn send_raw(&mut self, bytes: &[u8]) -> String {
        self.w.write_all(bytes).unwrap();
        read_reply(&mut self.r)
    }
}

/// A config with one MM4 partner on loopback whose SMTP server is `sink_port`.
pub fn partner_config(
    domain: &str,
    partner: &str,
    partner_domain: &str,
    sink_port: u16,
    extra: &str,
) -> String {
    format!(
        r#"
[mmsc]
domain = "{domain}"
local_numbers = ["*"]

[queues]
retry_initial_secs = 1
retry_max_secs = 2
visibility_timeout_secs = 10

[[partners]]
name = "{partner}"
domain = "{partner_domain}"
smtp_host = "127.0.0.1:{sink_port}"
allowed_networks = ["127.0.0.0/8"]
max_attempts = 3
starttls = "never"
{extra}
"#
    )
}

/// Sends many messages over one smtplib session; returns each DATA reply code.
pub fn smtplib_send_many(port: u16, mail_from: &str, rcpt_to: &str, datas: &[Vec<u8>]) -> Vec<u16> {
    let script = r#"
import smtplib, sys, json
port, mail_from, rcpt = int(sys.argv[1]), sys.argv[2], sys.argv[3]
datas = [bytes.fromhex(h) for h in json.loads(sys.stdin.read())]
s = smtplib.SMTP("127.0.0.1", port, timeout=60)
s.ehlo("partner.test")
codes = []
for d in datas:
    try:
        s.sendmail(mail_from, [rcpt], d)
        codes.append(250)
    except smtplib.SMTPResponseException as e:
        codes.append(e.smtp_code)
    except smtplib.SMTPDataError as e:
        codes.append(e.smtp_code)
s.quit()
print(json.dumps(codes))
"#;
    let hex: Vec<String> = datas
        .iter()
        .map(|d| d.iter().map(|b| format!("{b:02x}")).collect())
        .collect();
    let mut child = Command::new("python3")
        .args(["-c", script, &port.to_string(), mail_from, rcpt_to])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(serde_json::to_string(&hex).unwrap().as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|_| panic!("sender failed: {}", String::from_utf8_lossy(&out.stdout)))
}
