//! CCR/CCA round trips against python-diameter (`tests/peers/ocs.py`), in one run:
//! 1. our Diameter client in process (what `mmsc serve` uses),
//! 2. through the diameter-sidecar's HTTP API (keep-alive connections),
//! 3. python-diameter's own client (`tests/peers/ocs_client_bench.py`) beside them.
//!
//! Each with CONC concurrent requesters for SECS seconds; prints CCR/s, p50, p99.
//!
//! `cargo bench -p diameter-sidecar --bench ccr` (needs `pip install python-diameter`).
#![allow(clippy::unwrap_used)]

use mmsc_shared::charging::CcrSettings;
use mmsc_shared::diameter_peer::{ClientConfig, DiameterClient, PeerEndpoint};
use mmsc_shared::domain::{Address, MessageId};
use mmsc_shared::ports::{ChargeRequest, ChargingOp};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};

const CONC: usize = 16;
const SECS: u64 = 5;

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .unwrap_or(0)
}

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn report(name: &str, mut lat: Vec<Duration>, wall: Duration) {
    lat.sort();
    if lat.is_empty() {
        println!("{name}: no answers");
        return;
    }
    let p =
        |q: f64| lat[((lat.len() as f64 * q) as usize).min(lat.len() - 1)].as_secs_f64() * 1000.0;
    println!(
        "{name}: {:.0} CCR/s, p50 {:.2} ms, p99 {:.2} ms ({} requests, {CONC} concurrent)",
        lat.len() as f64 / wall.as_secs_f64(),
        p(0.5),
        p(0.99),
        lat.len()
    );
}

fn request(i: usize, n: usize) -> ChargeRequest {
    let id = MessageId(format!("bench{i}x{n}"));
    ChargeRequest {
        op: ChargingOp::Event,
        charge_key: id.to_string(),
        message_id: id,
        subscriber: Address::phone("+447700900123").unwrap(),
        recipient: Address::phone("+447700900456").unwrap(),
        size: 2048,
        service_code: None,
        content_type: Some("multipart/related".into()),
        submitted_at: None,
        mms_message_id: None,
        retransmit: false,
    }
}

async fn in_process(port: u16, origin: &str, label: &str) {
    let mut cfg = ClientConfig::new(
        origin,
        "test.local",
        vec![PeerEndpoint {
            name: "primary".into(),
            address: format!("127.0.0.1:{port}"),
        }],
    );
    cfg.request_timeout = Duration::from_secs(10);
    let client = DiameterClient::start(cfg);
    assert!(
        client.wait_ready(Duration::from_secs(10)).await,
        "no CEA from the server"
    );
    let settings = Arc::new(CcrSettings {
        origin_host: origin.into(),
        origin_realm: "test.local".into(),
        destination_host: None,
        destination_realm: "test.local".into(),
        service_context_id: "32270@3gpp.org".into(),
        service_identifier: None,
        units: Some(1),
        money: None,
        sgsn_mcc_mnc: None,
        sgsn_address: None,
    });
    let stop = Instant::now() + Duration::from_secs(SECS);
    let start = Instant::now();
    let mut tasks = Vec::new();
    for i in 0..CONC {
        let c = client.clone();
        let s = settings.clone();
        tasks.push(tokio::spawn(async move {
            let mut lat = Vec::new();
            let mut n = 0;
            while Instant::now() < stop {
                n += 1;
                let ccr = s.build_ccr(&request(i, n), std::time::SystemTime::now());
                let t = Instant::now();
                let cca = c.credit_control(&ccr).await.unwrap();
                assert!(cca.is_success());
                lat.push(t.elapsed());
            }
            lat
        }));
    }
    let mut lat = Vec::new();
    for t in tasks {
        lat.extend(t.await.unwrap());
    }
    report(
        &format!("{label}: our Diameter client (in process)"),
        lat,
        start.elapsed(),
    );
    client.shutdown().await;
}

async fn through_sidecar(http_port: u16, label: &str) {
    let stop = Instant::now() + Duration::from_secs(SECS);
    let start = Instant::now();
    let mut tasks = Vec::new();
    for i in 0..CONC {
        tasks.push(tokio::spawn(async move {
            let s = tokio::net::TcpStream::connect(("127.0.0.1", http_port)).await.unwrap();
            s.set_nodelay(true).unwrap();
            let mut s = BufReader::new(s);
            let mut lat = Vec::new();
            let mut n = 0;
            while Instant::now() < stop {
                n += 1;
                let body = serde_json::to_string(&request(i, n)).unwrap();
                let req = format!(
                    "POST /v1/event HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{body}",
                    body.len()
                );
                let t = Instant::now();
                s.get_mut().write_all(req.as_bytes()).await.unwrap();
                let mut len = 0usize;
                let mut status = String::new();
                loop {
                    let mut line = String::new();
                    s.read_line(&mut line).await.unwrap();
                    if status.is_empty() {
                        status = line.clone();
                    }
                    if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                        len = v.trim().parse().unwrap();
                    }
                    if line == "\r\n" {
                        break;
                    }
                }
                let mut buf = vec![0u8; len];
                s.read_exact(&mut buf).await.unwrap();
                assert!(status.contains(" 200 "), "{status}");
                lat.push(t.elapsed());
            }
            lat
        }));
    }
    let mut lat = Vec::new();
    for t in tasks {
        lat.extend(t.await.unwrap());
    }
    report(
        &format!("{label}: through diameter-sidecar (HTTP/JSON)"),
        lat,
        start.elapsed(),
    );
}

fn main() {
    if Command::new("python3")
        .args(["-c", "import diameter.node"])
        .status()
        .map(|s| !s.success())
        .unwrap_or(true)
    {
        eprintln!("python-diameter is missing: run tests/setup-peers.sh");
        std::process::exit(1);
    }
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let mut ocs = Command::new("python3")
        .arg(repo().join("tests/peers/ocs.py"))
        .args(["--port", &port.to_string()])
        .args([
            "--client",
            "mmsc.test.local",
            "--client",
            "pyclient.test.local",
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(15);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "ocs.py did not start");
        std::thread::sleep(Duration::from_millis(100));
    }
    println!("server: python-diameter (tests/peers/ocs.py) on 127.0.0.1:{port}");
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(in_process(port, "mmsc.test.local", "python-diameter"));

    sidecar_run(&rt, dir.path(), port, "mmsc.test.local", "python-diameter");

    let out = Command::new("python3")
        .arg(repo().join("tests/peers/ocs_client_bench.py"))
        .args(["--port", &port.to_string(), "--conc", &CONC.to_string()])
        .args(["--secs", &SECS.to_string()])
        .stderr(Stdio::null())
        .output()
        .unwrap();
    print!("{}", String::from_utf8_lossy(&out.stdout));
    let _ = ocs.kill();
    let _ = ocs.wait();

    // The same client against a C server, where the server is not the limit.
    if let Some((mut fd, fd_port)) = freediameter(dir.path()) {
        println!(
            "server: freeDiameter 1.2 + tests/peers/freediameter/ccr_answer.c on 127.0.0.1:{fd_port}"
        );
        rt.block_on(in_process(
            fd_port,
            "mmsc-bench1.test.local",
            "freeDiameter",
        ));
        sidecar_run(
            &rt,
            dir.path(),
            fd_port,
            "mmsc-bench2.test.local",
            "freeDiameter",
        );
        let _ = fd.kill();
        let _ = fd.wait();
    }
}

fn sidecar_run(
    rt: &tokio::runtime::Runtime,
    dir: &std::path::Path,
    port: u16,
    origin: &str,
    label: &str,
) {
    let cfg = dir.join(format!("sidecar-{port}.toml"));
    std::fs::write(
        &cfg,
        format!(
            "[charging]\nmode = \"event\"\norigin_host = \"{origin}\"\norigin_realm = \"test.local\"\ndestination_realm = \"test.local\"\nunits = 1\n[[charging.peers]]\nname = \"primary\"\naddress = \"127.0.0.1:{port}\"\n[log]\nfilter = \"warn\"\n"
        ),
    )
    .unwrap();
    let http_port = free_port();
    let mut sidecar = Command::new(env!("CARGO_BIN_EXE_diameter-sidecar"))
        .arg("--config")
        .arg(&cfg)
        .args(["--listen", &format!("127.0.0.1:{http_port}")])
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        assert!(Instant::now() < deadline, "sidecar not ready");
        let ready = std::net::TcpStream::connect(("127.0.0.1", http_port))
            .ok()
            .and_then(|mut s| {
                use std::io::{Read, Write};
                s.write_all(b"GET /health HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n")
                    .ok()?;
                let mut r = String::new();
                s.read_to_string(&mut r).ok()?;
                r.contains(" 200 ").then_some(())
            });
        if ready.is_some() {
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    rt.block_on(through_sidecar(http_port, label));
    let _ = sidecar.kill();
    let _ = sidecar.wait();
}

/// freeDiameterd (C) with our CCR-answering extension, when installed.
fn freediameter(dir: &std::path::Path) -> Option<(std::process::Child, u16)> {
    let have = |t: &str| {
        Command::new("sh")
            .args(["-c", &format!("command -v {t}")])
            .stdout(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    };
    if !(have("freeDiameterd") && have("gcc") && have("openssl")) {
        println!("freeDiameter: not installed (tests/setup-peers.sh installs it); skipped");
        return None;
    }
    let ext = dir.join("ccr_answer.fdx");
    let ok = Command::new("gcc")
        .args(["-O2", "-shared", "-fPIC", "-o"])
        .arg(&ext)
        .arg(repo().join("tests/peers/freediameter/ccr_answer.c"))
        .args(["-lfdcore", "-lfdproto"])
        .status()
        .is_ok_and(|s| s.success())
        && Command::new("openssl")
            .args([
                "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
            ])
            .args(["-subj", "/CN=ocs.test.local", "-keyout"])
            .arg(dir.join("key.pem"))
            .arg("-out")
            .arg(dir.join("cert.pem"))
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
    assert!(
        ok,
        "building the freeDiameter extension or its certificate failed"
    );
    std::fs::write(dir.join("acl.conf"), "ALLOW_IPSEC *.test.local\n").unwrap();
    let (port, sec) = (free_port(), free_port());
    let lib = "/usr/lib/freeDiameter";
    let d = dir.display();
    let conf = format!(
        "Identity = \"ocs.test.local\";\nRealm = \"test.local\";\nPort = {port};\nSecPort = {sec};\nNo_SCTP;\nNo_IPv6;\n\
         TLS_Cred = \"{d}/cert.pem\", \"{d}/key.pem\";\nTLS_CA = \"{d}/cert.pem\";\n\
         LoadExtension = \"{lib}/dict_nasreq.fdx\";\nLoadExtension = \"{lib}/dict_dcca.fdx\";\n\
         LoadExtension = \"{lib}/dict_dcca_3gpp.fdx\";\nLoadExtension = \"{lib}/acl_wl.fdx\" : \"{d}/acl.conf\";\n\
         LoadExtension = \"{e}\" : \"2001\";\n",
        e = ext.display()
    );
    std::fs::write(dir.join("fd.conf"), conf).unwrap();
    let child = Command::new("freeDiameterd")
        .arg("-c")
        .arg(dir.join("fd.conf"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(15);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "freeDiameterd did not start");
        std::thread::sleep(Duration::from_millis(100));
    }
    Some((child, port))
}
