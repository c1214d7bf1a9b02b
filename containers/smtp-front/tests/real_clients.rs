//! Real SMTP clients against the front on an ephemeral port: Python's smtplib, swaks
//! and Postfix's smtp-source (installed by tests/setup-peers.sh). A missing tool fails
//! the test under CI=true and is skipped loudly otherwise.

mod common;

use common::*;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

/// Finds `name` on PATH or in /usr/sbin (where Postfix puts its tools).
fn tool(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    let found = std::env::split_paths(&path)
        .chain([PathBuf::from("/usr/sbin"), PathBuf::from("/usr/bin")])
        .map(|d| d.join(name))
        .find(|p| p.is_file());
    if found.is_none() {
        if std::env::var("CI").as_deref() == Ok("true") {
            panic!("{name} is not installed: run tests/setup-peers.sh (CI=true, not skipping)");
        }
        eprintln!(
            "\n!!!!!!!! SKIPPING: {name} is not installed; run tests/setup-peers.sh to test against it !!!!!!!!\n"
        );
    }
    found
}

fn python_with_smtplib() -> Option<PathBuf> {
    let py = tool("python3")?;
    let ok = Command::new(&py)
        .args(["-c", "import smtplib"])
        .status()
        .map(|s| s.success())
        .unwrap_or(false);
    ok.then_some(py)
}

async fn run(mut cmd: Command) -> Output {
    tokio::task::spawn_blocking(move || cmd.output().expect("spawn tool"))
        .await
        .expect("join")
}

fn show(o: &Output) -> String {
    format!(
        "status {:?}\n--- stdout\n{}\n--- stderr\n{}",
        o.status,
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

fn seed_file(dir: &Path) -> PathBuf {
    let p = dir.join("mm4_forward_req.eml");
    std::fs::write(&p, SEED_PDU).expect("write seed");
    p
}

const SMTPLIB_SCRIPT: &str = r#"
import smtplib, sys
host, port, mode, path, mail_from, rcpt = sys.argv[1:7]
msg = open(path, 'rb').read()
s = smtplib.SMTP(host, int(port), local_hostname='mms.oper.com', timeout=20)
code, _ = s.ehlo()
assert code == 250, code
for ext in ('size', 'pipelining', '8bitmime', 'enhancedstatuscodes'):
    assert s.has_extn(ext), ext
if mode == 'auth-login':
    assert 'LOGIN' in s.esmtp_features.get('auth', ''), s.esmtp_features
    s.user, s.password = 'test', 'wrong'
    try:
        s.auth('LOGIN', s.auth_login, initial_response_ok=False)
        raise SystemExit('bad password accepted')
    except smtplib.SMTPAuthenticationError as e:
        print('AUTHFAIL', e.smtp_code, e.smtp_error.decode())
    s.user, s.password = 'test', 'test'
    code, resp = s.auth('LOGIN', s.auth_login, initial_response_ok=False)
    print('AUTHOK', code, resp.decode())
code, resp = s.mail(mail_from, ['SIZE=%d' % len(msg)])
assert code == 250, (code, resp)
code, resp = s.rcpt(rcpt)
assert code == 250, (code, resp)
code, resp = s.data(msg)
print('DATA', code, resp.decode())
s.quit()
"#;

async fn smtplib_session(mode: &str, cfg: mmsc_shared::config::Config, expect_peer: &str) {
    let Some(py) = python_with_smtplib() else {
        return;
    };
    let srv = TestServer::start(cfg).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let file = seed_file(dir.path());
    let mut cmd = Command::new(py);
    cmd.args(["-c", SMTPLIB_SCRIPT, "127.0.0.1"])
        .arg(srv.addr.port().to_string())
        .arg(mode)
        .arg(&file)
        .args([SEED_FROM, SEED_TO]);
    let out = run(cmd).await;
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(out.status.success(), "{}", show(&out));
    assert!(
        text.contains("DATA 250 2.0.0 Ok: queued as "),
        "{}",
        show(&out)
    );
    if mode == "auth-login" {
        assert!(text.contains("AUTHFAIL 535 5.7.8"), "{}", show(&out));
        assert!(text.contains("AUTHOK 235 2.7.0"), "{}", show(&out));
    }
    let keys = srv.store.keys();
    assert_eq!(keys.len(), 1);
    let (stored, _) = srv.store.object(&keys[0]).expect("stored");
    assert!(stored.ends_with(SEED_PDU), "smtplib's bytes stored exactly");
    let jobs = srv.queue.jobs();
    let mmsc_shared::domain::Job::Ingest {
        peer,
        mail_from,
        rcpt_to,
        ..
    } = &jobs[0].1
    else {
        panic!("ingest job")
    };
    assert_eq!(peer, expect_peer);
    assert_eq!(mail_from.as_deref(), Some(SEED_FROM));
    assert_eq!(rcpt_to, &vec![SEED_TO.to_string()]);
    srv.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn python_smtplib_sends_the_seed_with_ehlo() {
    smtplib_session("ehlo", demo_config(), "demo").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn python_smtplib_sends_the_seed_with_auth_login() {
    let mut cfg = demo_config();
    cfg.partners = vec![partner("oper", &["127.0.0.0/8"], Some(("test", "test")))];
    smtplib_session("auth-login", cfg, "oper").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn swaks_sends_the_seed_plain_pipelined_and_with_auth() {
    let Some(swaks) = tool("swaks") else {
        return;
    };
    let dir = tempfile::tempdir().expect("tempdir");
    let file = seed_file(dir.path());
    let mut cfg = demo_config();
    cfg.partners = vec![
        partner("lo", &["127.0.0.0/8"], None),
        partner("oper", &[], Some(("test", "test"))),
    ];
    let srv = TestServer::start(cfg).await;
    let server = format!("127.0.0.1:{}", srv.addr.port());
    let data = format!("@{}", file.display());
    let variants: [&[&str]; 3] = [
        &[],
        &["--pipeline"],
        &[
            "--auth",
            "LOGIN",
            "--auth-user",
            "test",
            "--auth-password",
            "test",
        ],
    ];
    for extra in variants {
        let mut cmd = Command::new(&swaks);
        cmd.env("POSIXLY_CORRECT", "1")
            .args(["--server", &server, "--from", SEED_FROM, "--to", SEED_TO])
            .args(["--data", &data, "--timeout", "20"])
            .args(extra);
        let out = run(cmd).await;
        let text = String::from_utf8_lossy(&out.stdout).to_string();
        assert!(out.status.success(), "swaks {extra:?}: {}", show(&out));
        assert!(
            text.contains("<-  250 2.0.0 Ok: queued as ") || text.contains("<** 250"),
            "swaks {extra:?}: {}",
            show(&out)
        );
    }
    let keys = srv.store.keys();
    assert_eq!(keys.len(), 3);
    for k in &keys {
        let (stored, _) = srv.store.object(k).expect("stored");
        // swaks appends one empty line after --data; the PDU follows our
        // Received: header byte for byte.
        let end_of_received = stored
            .windows(7)
            .position(|w| w == b"+0000\r\n")
            .expect("our Received: header")
            + 7;
        assert!(
            stored[end_of_received..].starts_with(SEED_PDU),
            "{k}: {}",
            String::from_utf8_lossy(&stored)
        );
    }
    let peers: Vec<String> = srv
        .queue
        .jobs()
        .into_iter()
        .map(|(_, j, _)| match j {
            mmsc_shared::domain::Job::Ingest { peer, .. } => peer,
            other => panic!("unexpected job {other:?}"),
        })
        .collect();
    assert_eq!(peers, vec!["lo", "lo", "oper"]);
    srv.stop().await;
}

const LOAD: (usize, usize, usize) = (20, 2000, 4096); // sessions, messages, bytes

fn smtp_source(source: &Path, port: u16) -> Command {
    let (sessions, messages, size) = LOAD;
    let mut cmd = Command::new(source);
    cmd.args(["-s", &sessions.to_string(), "-m", &messages.to_string()])
        .args(["-l", &size.to_string(), "-d"])
        .args(["-f", "+447700900001@mms.oper.com"])
        .args(["-t", "+447700900123@mms.example.net"])
        .arg(format!("127.0.0.1:{port}"));
    cmd
}

/// Postfix's load generator: parallel sessions, connection reuse, every message
/// stored and queued. Prints the rate next to Postfix's own smtp-sink measured in
/// the same run on the same machine (this build's profile, in-memory doubles).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postfix_smtp_source_load() {
    let Some(source) = tool("smtp-source") else {
        return;
    };
    let (sessions, messages, size) = LOAD;
    let srv = TestServer::start(demo_config()).await;
    let t = Instant::now();
    let out = run(smtp_source(&source, srv.addr.port())).await;
    let took = t.elapsed();
    assert!(out.status.success(), "{}", show(&out));
    assert_eq!(srv.store.len(), messages, "{}", show(&out));
    assert_eq!(srv.queue.len(), messages);
    eprintln!(
        "smtp-source -> smtp-front: {messages} x {size} B over {sessions} sessions in {took:.2?} = {:.0} msg/s",
        messages as f64 / took.as_secs_f64()
    );
    srv.stop().await;
    assert!(took < Duration::from_secs(120));

    // The same load against Postfix's smtp-sink, for scale.
    let Some(sink) = tool("smtp-sink") else {
        return;
    };
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("free port")
        .port();
    let mut cmd = Command::new(sink);
    if is_root() {
        cmd.args(["-u", "nobody"]);
    }
    let mut child = cmd
        .arg(format!("127.0.0.1:{port}"))
        .arg("1000")
        .spawn()
        .expect("start smtp-sink");
    for _ in 0..100 {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let t = Instant::now();
    let out = run(smtp_source(&source, port)).await;
    let took = t.elapsed();
    let _ = child.kill();
    let _ = child.wait();
    if out.status.success() {
        eprintln!(
            "smtp-source -> smtp-sink:  {messages} x {size} B over {sessions} sessions in {took:.2?} = {:.0} msg/s",
            messages as f64 / took.as_secs_f64()
        );
    } else {
        eprintln!("smtp-sink comparison failed: {}", show(&out));
    }
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| o.stdout.starts_with(b"0\n"))
        .unwrap_or(false)
}
