//! MM9 charging end to end: `mmsc mm9test`, the diameter-sidecar and `mmsc serve`
//! against a charging server nobody here wrote (python-diameter, in
//! `tests/peers/ocs.py`), tshark as the decoding oracle, and the DMZ scenario of
//! seed 000 through a store-and-forward SMTP relay (`tests/peers/smtp_relay.py`).

#![allow(clippy::unwrap_used)]

mod common;

use common::*;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

const WAIT: Duration = Duration::from_secs(60);
const ORIGIN: &str = "mmsc.test.local";
const REALM: &str = "test.local";

fn diameter_present() -> bool {
    require_python_module("diameter")
}

/// A python-diameter charging server.
struct Ocs {
    child: Option<Child>,
    log: PathBuf,
}

impl Ocs {
    fn start(dir: &Path, name: &str, port: u16, ledger: &Path, extra: &[&str]) -> Ocs {
        let log = dir.join(format!("{name}.jsonl"));
        let err = std::fs::File::create(dir.join(format!("{name}.stderr"))).unwrap();
        let child = Command::new("python3")
            .arg(repo_root().join("tests/peers/ocs.py"))
            .args(["--port", &port.to_string()])
            .args([
                "--origin-host",
                &format!("{name}.{REALM}"),
                "--realm",
                REALM,
            ])
            .args(["--client", ORIGIN])
            .arg("--ledger")
            .arg(ledger)
            .arg("--log")
            .arg(&log)
            .args(extra)
            .stdout(Stdio::null())
            .stderr(err)
            .spawn()
            .unwrap();
        wait_until("the charging server to listen", WAIT, || {
            TcpStream::connect(("127.0.0.1", port)).ok()
        });
        Ocs {
            child: Some(child),
            log,
        }
    }

    fn kill9(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// Every CCR this server received.
    fn ccrs(&self) -> Vec<serde_json::Value> {
        std::fs::read_to_string(&self.log)
            .unwrap_or_default()
            .lines()
            .filter_map(|l| serde_json::from_str(l).ok())
            .collect()
    }
}

impl Drop for Ocs {
    fn drop(&mut self) {
        self.kill9();
    }
}

/// Rows of the shared ledger: (session, number, type, action, server, t_flag).
fn ledger(path: &Path) -> Vec<(String, i64, i64, Option<i64>, String, i64)> {
    let out = Command::new("python3")
        .args([
            "-c",
            "import sqlite3,sys,json; print(json.dumps(sqlite3.connect(sys.argv[1]).execute('SELECT session,number,type,action,server,t_flag FROM charges').fetchall()))",
        ])
        .arg(path)
        .output()
        .unwrap();
    serde_json::from_slice(&out.stdout).unwrap_or_default()
}

fn mm9test(port: u16, extra: &[&str]) -> (i32, String) {
    let out = Command::new(mmsc_bin())
        .arg("mm9test")
        .args(["--server", "127.0.0.1", "--port", &port.to_string()])
        .args(["--destination-realm", REALM, "--host-ip", "127.0.0.1"])
        .args(["--origin-host", ORIGIN, "--origin-realm", REALM])
        .args(["--sender", "447700900123", "--recipient", "447700900456"])
        .args(extra)
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.code().unwrap_or(-1), text)
}

/// Turns a `--log` file into a pcap and has tshark print `fields` per message.
fn tshark_fields(log: &Path, fields: &[&str]) -> Vec<Vec<String>> {
    let pcap = log.with_extension("pcap");
    let st = Command::new("text2pcap")
        .args(["-q", "-D", "-T", "40000,3868"])
        .arg(log)
        .arg(&pcap)
        .status()
        .unwrap();
    assert!(st.success(), "text2pcap failed on {}", log.display());
    let mut cmd = Command::new("tshark");
    cmd.arg("-r")
        .arg(&pcap)
        .args(["-T", "fields", "-E", "occurrence=a", "-E", "separator=|"]);
    for f in fields {
        cmd.args(["-e", f]);
    }
    let out = cmd.output().unwrap();
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| l.split('|').map(String::from).collect())
        .collect()
}

#[test]
fn mm9test_gets_2001_from_python_diameter_and_tshark_decodes_it() {
    if !diameter_present() || !require_tool("tshark") || !require_tool("text2pcap") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let ocs = Ocs::start(dir.path(), "ocs", port, &dir.path().join("l.db"), &[]);
    let log = dir.path().join("mm9test.log");
    let (code, out) = mm9test(
        port,
        &[
            "--money",
            "0.25",
            "--currency",
            "EUR",
            "--service-identifier",
            "7",
            "--sgsn-mcc-mnc",
            "23415",
            "--sgsn-address",
            "10.1.1.1",
            "--log",
            log.to_str().unwrap(),
        ],
    );
    assert_eq!(code, 0, "{out}");
    assert_eq!(
        out.trim_end().lines().last(),
        Some("Diameter Result Code 2001"),
        "{out}"
    );
    assert!(out.contains("Capabilities-Exchange (257) Request"), "{out}");
    let ccrs = ocs.ccrs();
    assert_eq!(ccrs.len(), 1, "{ccrs:?}");
    assert_eq!(ccrs[0]["type"], 4); // EVENT_REQUEST
    assert_eq!(ccrs[0]["action"], 0); // DIRECT_DEBITING
    assert_eq!(ccrs[0]["subscription"][0], "447700900123");

    let rows = tshark_fields(
        &log,
        &[
            "diameter.cmd.code",
            "diameter.flags.request",
            "diameter.Vendor-Id",
            "diameter.Product-Name",
            "diameter.Auth-Application-Id",
            "diameter.Acct-Application-Id",
            "diameter.Service-Context-Id",
            "diameter.Subscription-Id-Data",
            "diameter.Address-Data",
            "diameter.Value-Digits",
            "diameter.Currency-Code",
            "diameter.Result-Code",
            "_ws.malformed",
            "_ws.expert.message",
        ],
    );
    let all = format!("{rows:?}");
    assert!(rows.len() >= 4, "{all}");
    for r in &rows {
        assert!(
            r[12].is_empty() && r[13].is_empty(),
            "malformed/expert: {all}"
        );
    }
    let cer = rows
        .iter()
        .find(|r| r[0] == "257" && r[1] == "1")
        .expect(&all);
    assert_eq!(
        (&*cer[2], &*cer[3], &*cer[4], &*cer[5]),
        ("10415", "MMSC", "4", "0"),
        "{all}"
    );
    let ccr = rows
        .iter()
        .find(|r| r[0] == "272" && r[1] == "1")
        .expect(&all);
    assert_eq!(ccr[6], "32270@3gpp.org", "{all}");
    assert_eq!(ccr[7], "447700900123", "{all}");
    assert_eq!(ccr[8], "447700900123,447700900456", "{all}");
    assert_eq!((&*ccr[9], &*ccr[10]), ("25", "978"), "{all}");
    let cca = rows
        .iter()
        .find(|r| r[0] == "272" && r[1] == "0")
        .expect(&all);
    assert_eq!(cca[11], "2001", "{all}");
}

#[test]
fn mm9test_prints_a_rejecting_servers_code_and_fails() {
    if !diameter_present() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let _ocs = Ocs::start(
        dir.path(),
        "ocs",
        port,
        &dir.path().join("l.db"),
        &["--result-code", "4012"],
    );
    let (code, out) = mm9test(port, &["--units", "1"]);
    assert_eq!(code, 1, "{out}");
    assert_eq!(
        out.trim_end().lines().last(),
        Some("Diameter Result Code 4012"),
        "{out}"
    );
}

#[test]
fn mm9test_reports_a_refused_capabilities_exchange() {
    if !diameter_present() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let _ocs = Ocs::start(dir.path(), "ocs", port, &dir.path().join("l.db"), &[]);
    // An Origin-Host the server does not know: CEA 3010 DIAMETER_UNKNOWN_PEER.
    let out = Command::new(mmsc_bin())
        .arg("mm9test")
        .args(["--server", "127.0.0.1", "--port", &port.to_string()])
        .args(["--destination-realm", REALM, "--host-ip", "127.0.0.1"])
        .args([
            "--origin-host",
            "stranger.test.local",
            "--origin-realm",
            REALM,
        ])
        .args(["--sender", "447700900123", "--recipient", "447700900456"])
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert_eq!(
        text.trim_end().lines().last(),
        Some("Diameter Result Code 3010"),
        "{text}"
    );
}

#[test]
fn mm9test_names_missing_parameters_without_a_terminal() {
    let out = Command::new(mmsc_bin())
        .args(["mm9test", "--server", "127.0.0.1"])
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(
        err.contains("--port") && err.contains("--origin-host"),
        "{err}"
    );
}

/// A running diameter-sidecar.
struct Sidecar {
    child: Child,
    port: u16,
    log: PathBuf,
}

fn sidecar_bin() -> PathBuf {
    let bin = mmsc_bin().parent().unwrap().join("diameter-sidecar");
    assert!(
        bin.exists(),
        "{} not built: run `cargo build -p diameter-sidecar` (cargo test --workspace does)",
        bin.display()
    );
    bin
}

fn charging_toml(mode: &str, peers: &[u16], extra: &str) -> String {
    let mut s = format!(
        r#"
[charging]
mode = "{mode}"
origin_host = "{ORIGIN}"
origin_realm = "{REALM}"
destination_realm = "{REALM}"
watchdog_interval_secs = 1
request_timeout_ms = 8000
units = 1
{extra}
"#
    );
    for (i, p) in peers.iter().enumerate() {
        s.push_str(&format!(
            "[[charging.peers]]\nname = \"{}\"\naddress = \"127.0.0.1:{p}\"\n",
            if i == 0 { "primary" } else { "secondary" }
        ));
    }
    s
}

impl Sidecar {
    fn start(dir: &Path, peers: &[u16]) -> Sidecar {
        let cfg = dir.join("sidecar.toml");
        std::fs::write(&cfg, charging_toml("reserve-commit", peers, "")).unwrap();
        let port = free_port();
        let log = dir.join("sidecar-packets.log");
        let err = std::fs::File::create(dir.join("sidecar.stderr")).unwrap();
        let child = Command::new(sidecar_bin())
            .arg("--config")
            .arg(&cfg)
            .args(["--listen", &format!("127.0.0.1:{port}")])
            .arg("--log")
            .arg(&log)
            .stdout(Stdio::null())
            .stderr(err)
            .spawn()
            .unwrap();
        wait_until("the sidecar to listen", WAIT, || {
            TcpStream::connect(("127.0.0.1", port)).ok()
        });
        Sidecar { child, port, log }
    }

    fn http(&self, method: &str, path: &str, body: &str) -> (u16, String) {
        http(self.port, method, path, body)
    }

    fn wait_peer(&self, index: usize, state: &str) {
        wait_until(&format!("peer {index} {state}"), WAIT, || {
            let (_, body) = self.http("GET", "/health", "");
            let v: serde_json::Value = serde_json::from_str(&body).ok()?;
            (v["peers"][index]["state"] == state).then_some(())
        });
    }
}

impl Drop for Sidecar {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn http(port: u16, method: &str, path: &str, body: &str) -> (u16, String) {
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
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

fn charge_body(key: &str) -> String {
    format!(
        r#"{{"op":"event","message_id":"{key}","charge_key":"{key}","subscriber":{{"type":"phone","e164":"+447700900123","domain":null}},"recipient":{{"type":"phone","e164":"+447700900456","domain":null}},"size":2048,"service_code":null,"content_type":"multipart/related"}}"#
    )
}

#[test]
fn tshark_decodes_the_sidecars_cer_ccr_and_dwr() {
    if !diameter_present() || !require_tool("tshark") || !require_tool("text2pcap") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let _ocs = Ocs::start(dir.path(), "ocs", port, &dir.path().join("l.db"), &[]);
    let sc = Sidecar::start(dir.path(), &[port]);
    sc.wait_peer(0, "okay");
    let (st, body) = sc.http("POST", "/v1/reserve", &charge_body("tshark-1"));
    assert_eq!(st, 200, "{body}");
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(v["result_code"], 2001, "{body}");
    assert_eq!(v["granted_units"], 1, "{body}");
    // Tw is 1 s: a DWR follows within a few seconds of silence.
    wait_until("a DWR in the packet log", WAIT, || {
        std::fs::read_to_string(&sc.log)
            .ok()?
            .contains("sent to primary: Device-Watchdog (280) request")
            .then_some(())
    });
    let rows = tshark_fields(
        &sc.log,
        &[
            "diameter.cmd.code",
            "diameter.flags.request",
            "diameter.Service-Context-Id",
            "diameter.Subscription-Id-Data",
            "diameter.CC-Request-Type",
            "diameter.Address-Data",
            "diameter.Message-Size",
            "diameter.Origin-Host",
            "_ws.malformed",
            "_ws.expert.message",
        ],
    );
    let all = format!("{rows:?}");
    for r in &rows {
        assert!(
            r[8].is_empty() && r[9].is_empty(),
            "malformed/expert: {all}"
        );
    }
    assert!(
        rows.iter()
            .any(|r| r[0] == "257" && r[1] == "1" && r[7] == ORIGIN),
        "{all}"
    );
    let ccr = rows
        .iter()
        .find(|r| r[0] == "272" && r[1] == "1")
        .expect(&all);
    assert_eq!(ccr[2], "32270@3gpp.org", "{all}");
    assert_eq!(ccr[3], "447700900123", "{all}");
    assert_eq!(ccr[4], "1", "{all}"); // INITIAL_REQUEST
    assert_eq!(ccr[5], "447700900123,447700900456", "{all}");
    assert_eq!(ccr[6], "2048", "{all}");
    assert!(
        rows.iter()
            .any(|r| r[0] == "280" && r[1] == "1" && r[7] == ORIGIN),
        "{all}"
    );
}

#[test]
fn sidecar_answers_bad_requests_and_unavailable_servers_with_errors() {
    let dir = tempfile::tempdir().unwrap();
    // Nobody listens on this port: every charge is 503, health is 503.
    let sc = Sidecar::start(dir.path(), &[free_port()]);
    let (st, body) = sc.http("POST", "/v1/bogus", &charge_body("x"));
    assert_eq!(st, 404, "{body}");
    let (st, body) = sc.http("POST", "/v1/event", "{not json");
    assert!((400..500).contains(&st), "{st} {body}");
    let (st, body) = sc.http("GET", "/health", "");
    assert_eq!(st, 503, "{body}");
    let (st, body) = sc.http("POST", "/v1/event", &charge_body("y"));
    assert_eq!(st, 503, "{body}");
}

/// The primary is killed while requests are in flight: they complete on the
/// secondary (resent with the T flag), nobody is charged twice, and new requests
/// go back to the primary once it is up again.
#[test]
fn fails_over_to_the_secondary_without_double_charging_and_fails_back() {
    if !diameter_present() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("ledger.db");
    let (p1, p2) = (free_port(), free_port());
    let mut primary = Ocs::start(dir.path(), "ocs1", p1, &db, &["--delay-ms", "300"]);
    let secondary = Ocs::start(dir.path(), "ocs2", p2, &db, &[]);
    let sc = Sidecar::start(dir.path(), &[p1, p2]);
    sc.wait_peer(0, "okay");
    sc.wait_peer(1, "okay");

    const N: usize = 40;
    let port = sc.port;
    let workers: Vec<_> = (0..N)
        .map(|i| {
            std::thread::spawn(move || {
                std::thread::sleep(Duration::from_millis(20 * i as u64));
                http(port, "POST", "/v1/event", &charge_body(&format!("fo-{i}")))
            })
        })
        .collect();
    // Kill the primary while it holds requests (it answers after 300 ms).
    wait_until("requests in flight at the primary", WAIT, || {
        (primary.ccrs().len() >= 5).then_some(())
    });
    primary.kill9();
    for w in workers {
        let (st, body) = w.join().unwrap();
        assert_eq!(st, 200, "{body}");
        let v: serde_json::Value = serde_json::from_str(&body).unwrap();
        assert_eq!(v["result_code"], 2001, "{body}");
    }
    let rows = ledger(&db);
    let mut sessions: Vec<&str> = rows.iter().map(|r| r.0.as_str()).collect();
    sessions.sort();
    let total = sessions.len();
    sessions.dedup();
    assert_eq!(
        total,
        sessions.len(),
        "a session was charged twice: {rows:?}"
    );
    assert_eq!(sessions.len(), N, "{rows:?}");
    let resent: Vec<_> = secondary
        .ccrs()
        .into_iter()
        .filter(|c| c["t_flag"] == true)
        .collect();
    assert!(
        !resent.is_empty(),
        "no request was failed over with the T flag"
    );

    // Failback: the primary returns (REOPEN, three DWAs) and takes new requests.
    let _primary = Ocs::start(dir.path(), "ocs1b", p1, &db, &[]);
    sc.wait_peer(0, "okay");
    let (st, body) = sc.http("POST", "/v1/event", &charge_body("after-failback"));
    assert_eq!(st, 200, "{body}");
    assert!(body.contains("ocs1b.test.local"), "answered by {body}");
}

// ---- the DMZ scenario (seed 000) ----

/// A store-and-forward relay (the DMZ MTA).
struct Relay {
    child: Child,
    port: u16,
}

impl Relay {
    fn start(next: u16, source: &str) -> Relay {
        let port = free_port();
        let child = Command::new("python3")
            .arg(repo_root().join("tests/peers/smtp_relay.py"))
            .args(["--port", &port.to_string()])
            .args(["--next", &format!("127.0.0.1:{next}"), "--source", source])
            .stdout(Stdio::null())
            .spawn()
            .unwrap();
        wait_until("the relay to listen", WAIT, || {
            TcpStream::connect(("127.0.0.1", port)).ok()
        });
        Relay { child, port }
    }
}

impl Drop for Relay {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

struct Dmz {
    _dir: tempfile::TempDir,
    a: Mmsc,
    b: Mmsc,
    third: Sink,
    ocs: Ocs,
    db: PathBuf,
    _relays: (Relay, Relay),
}

/// MMSC A (charging) -> relay -> MMSC B, answers B -> relay -> A; the message enters
/// A from a third operator (127.0.0.2, whose MMSC is an aiosmtpd sink).
fn dmz(mode: &str) -> Dmz {
    dmz_with(mode, true)
}

/// As [`dmz`]; `ack` is whether A asks B for `MM4_forward.RES`.
fn dmz_with(mode: &str, ack: bool) -> Dmz {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("ledger.db");
    let ocs_port = free_port();
    let ocs = Ocs::start(dir.path(), "ocs", ocs_port, &db, &[]);
    let third = Sink::start(&dir.path().join("third"), &[]);
    let (a_smtp, b_smtp) = (free_port(), free_port());
    // A -> B goes through relay_ab (B sees it from 127.0.0.4); B -> A through
    // relay_ba (A sees it from 127.0.0.5).
    let relay_ab = Relay::start(b_smtp, "127.0.0.4");
    let relay_ba = Relay::start(a_smtp, "127.0.0.5");
    let a_cfg = format!(
        r#"
[mmsc]
domain = "mms.a.test"
local_numbers = ["+1555100*"]
[queues]
retry_initial_secs = 1
retry_max_secs = 2
[[partners]]
name = "b"
domain = "mms.b.test"
prefixes = ["+1555200*", "+1555299*"]
smtp_host = "127.0.0.1:{ab}"
allowed_networks = ["127.0.0.5/32"]
starttls = "never"
request_ack = {ack}
[[partners]]
name = "third"
domain = "mms.third.test"
smtp_host = "127.0.0.1:{third}"
allowed_networks = ["127.0.0.2/32"]
starttls = "never"
{charging}"#,
        ab = relay_ab.port,
        third = third.port,
        charging = charging_toml(
            mode,
            &[ocs_port],
            "charge_mm4_incoming = true\nrefund_on_failure = true"
        ),
    );
    let b_cfg = format!(
        r#"
[mmsc]
domain = "mms.b.test"
local_numbers = ["+1555200*"]
[queues]
retry_initial_secs = 1
retry_max_secs = 2
[[partners]]
name = "a"
domain = "mms.a.test"
prefixes = ["+1555100*"]
smtp_host = "127.0.0.1:{ba}"
allowed_networks = ["127.0.0.4/32"]
starttls = "never"
"#,
        ba = relay_ba.port
    );
    for d in ["a", "b"] {
        std::fs::create_dir_all(dir.path().join(d)).unwrap();
    }
    let a = Mmsc::start_on(&dir.path().join("a"), Some(&a_cfg), a_smtp, free_port());
    let b = Mmsc::start_on(&dir.path().join("b"), Some(&b_cfg), b_smtp, free_port());
    Dmz {
        _dir: dir,
        a,
        b,
        third,
        ocs,
        db,
        _relays: (relay_ab, relay_ba),
    }
}

fn send_from_third(d: &Dmz, to: &str, mid: &str) {
    let from = "+15553000003/TYPE=PLMN@mms.third.test";
    let pdu = format!(
        "X-Mms-3GPP-MMS-Version: 6.10.0\r\nX-Mms-Message-Type: MM4_forward.REQ\r\nX-Mms-Transaction-ID: tx-{mid}\r\nX-Mms-Message-ID: {mid}\r\nX-Mms-Ack-Request: Yes\r\nX-Mms-Delivery-Report: Yes\r\nX-Mms-Originator-System: system-user@mms.third.test\r\nFrom: {from}\r\nTo: {to}\r\nSubject: hello\r\nContent-Type: text/plain\r\n\r\nhi there\r\n"
    );
    let (code, text) = smtplib_send_from("127.0.0.2", d.a.smtp_port, from, &[to], pdu.as_bytes());
    assert_eq!(code, 250, "{text}\n{}", d.a.log_text());
}

/// CCRs the server applied for message `mid` (our session ids carry our message
/// id, which the trace gives).
fn charges_for(d: &Dmz, mid: &str) -> Vec<(String, i64, i64, Option<i64>, String, i64)> {
    let ours = d.a.trace(mid).unwrap()["message"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    ledger(&d.db)
        .into_iter()
        .filter(|r| r.0.contains(&ours))
        .collect()
}

fn has_event(d: &Dmz, mid: &str, kind: &str) -> bool {
    d.a.trace(mid).is_some_and(|t| {
        t["events"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["kind"] == kind)
    })
}

#[test]
fn dmz_reserve_commit_releases_an_unknown_recipient_and_commits_a_known_one_once() {
    if !diameter_present() || !require_python_module("aiosmtpd") {
        return;
    }
    let d = dmz("reserve-commit");
    // Unknown at B: the relay says 250 (A marks it forwarded), B refuses it with
    // MM4_forward.RES, which comes back through the relay.
    let mid = "dmz-unknown@mms.third.test";
    send_from_third(&d, "+15552999999/TYPE=PLMN@mms.b.test", mid);
    wait_until("the rejection at A", WAIT, || {
        (d.a.recipient_state(mid, 0)? == "rejected").then_some(())
    });
    d.third
        .wait_for(&["MM4_delivery_report.REQ", mid, "Rejected"], WAIT);
    wait_until("the release", WAIT, || {
        let c = charges_for(&d, mid);
        (c.len() == 2).then_some(())
    });
    let c = charges_for(&d, mid);
    // CCR INITIAL (1) then TERMINATION (3) without Used-Service-Unit.
    assert_eq!((c[0].2, c[1].2), (1, 3), "{c:?}");
    let term = d.ocs.ccrs().into_iter().filter(|x| x["type"] == 3).count();
    assert_eq!(term, 1);
    assert!(has_event(&d, mid, "forwarded") || d.a.log_text().contains("forwarded"));

    // Known at B: forward.RES Ok -> committed exactly once.
    let mid = "dmz-known@mms.third.test";
    send_from_third(&d, "+15552000002/TYPE=PLMN@mms.b.test", mid);
    wait_until("forward.RES at A", WAIT, || {
        has_event(&d, mid, "forward-res").then_some(())
    });
    wait_until("the commit", WAIT, || {
        (charges_for(&d, mid).len() == 2).then_some(())
    });
    std::thread::sleep(Duration::from_secs(2));
    let c = charges_for(&d, mid);
    assert_eq!(c.len(), 2, "{c:?}");
    assert_eq!((c[0].2, c[1].2), (1, 3), "{c:?}");
    let d2 = &d;
    let ours = d2.a.trace(mid).unwrap()["message"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let used: Vec<_> = d
        .ocs
        .ccrs()
        .into_iter()
        .filter(|x| x["type"] == 3 && x["session_id"].as_str().unwrap().contains(&ours))
        .collect();
    assert_eq!(used.len(), 1, "{used:?}");

    // The subscriber at B retrieves it: the delivery report Retrieved reaches A
    // (through the relay) and is evidence too, but the charge is already committed.
    let (st, body) = d.b.http(
        "POST",
        &format!("/admin/v1/messages/{mid}/recipients/0/state"),
        r#"{"state":"retrieved"}"#,
    );
    assert_eq!(st, 202, "{body}");
    wait_until("delivered at A", WAIT, || {
        (d.a.recipient_state(mid, 0)? == "delivered").then_some(())
    });
    std::thread::sleep(Duration::from_secs(1));
    assert_eq!(charges_for(&d, mid).len(), 2, "committed twice");
}

#[test]
fn dmz_event_mode_refunds_an_unknown_recipient() {
    if !diameter_present() || !require_python_module("aiosmtpd") {
        return;
    }
    let d = dmz("event");
    let mid = "dmz-ev-unknown@mms.third.test";
    send_from_third(&d, "+15552999999/TYPE=PLMN@mms.b.test", mid);
    d.third
        .wait_for(&["MM4_delivery_report.REQ", mid, "Rejected"], WAIT);
    wait_until("the refund", WAIT, || {
        (charges_for(&d, mid).len() == 2).then_some(())
    });
    let c = charges_for(&d, mid);
    // EVENT DIRECT_DEBITING (action 0), then EVENT REFUND_ACCOUNT (action 1).
    assert_eq!((c[0].2, c[0].3), (4, Some(0)), "{c:?}");
    assert_eq!((c[1].2, c[1].3), (4, Some(1)), "{c:?}");

    // A known recipient is debited once and never refunded.
    let mid = "dmz-ev-known@mms.third.test";
    send_from_third(&d, "+15552000002/TYPE=PLMN@mms.b.test", mid);
    wait_until("forward.RES at A", WAIT, || {
        has_event(&d, mid, "forward-res").then_some(())
    });
    std::thread::sleep(Duration::from_secs(2));
    let c = charges_for(&d, mid);
    assert_eq!(c.len(), 1, "{c:?}");
    assert_eq!((c[0].2, c[0].3), (4, Some(0)), "{c:?}");
}

#[test]
fn a_refusing_charging_server_rejects_the_submission() {
    if !diameter_present() || !require_python_module("aiosmtpd") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let ocs_port = free_port();
    let _ocs = Ocs::start(
        dir.path(),
        "ocs",
        ocs_port,
        &dir.path().join("l.db"),
        &["--result-code", "4012"],
    );
    let third = Sink::start(&dir.path().join("third"), &[]);
    let cfg = format!(
        r#"
[mmsc]
domain = "mms.a.test"
local_numbers = ["+1555100*"]
[[partners]]
name = "third"
domain = "mms.third.test"
smtp_host = "127.0.0.1:{third}"
allowed_networks = ["127.0.0.2/32"]
starttls = "never"
{charging}"#,
        third = third.port,
        charging = charging_toml("event", &[ocs_port], "charge_mm4_incoming = true"),
    );
    let a = Mmsc::start(dir.path(), Some(&cfg));
    let mid = "refused@mms.third.test";
    let from = "+15553000003/TYPE=PLMN@mms.third.test";
    let to = "+15551000001/TYPE=PLMN@mms.a.test";
    let pdu = format!(
        "X-Mms-3GPP-MMS-Version: 6.10.0\r\nX-Mms-Message-Type: MM4_forward.REQ\r\nX-Mms-Transaction-ID: tx-{mid}\r\nX-Mms-Message-ID: {mid}\r\nX-Mms-Ack-Request: Yes\r\nFrom: {from}\r\nTo: {to}\r\nSubject: hi\r\nContent-Type: text/plain\r\n\r\nhi\r\n"
    );
    let (code, text) = smtplib_send_from("127.0.0.2", a.smtp_port, from, &[to], pdu.as_bytes());
    assert_eq!(code, 250, "{text}");
    wait_until("the rejection", WAIT, || {
        (a.recipient_state(mid, 0)? == "rejected").then_some(())
    });
    third.wait_for(&["MM4_forward.RES", "Error-service-denied"], WAIT);
}

/// `mmsc serve` charging through the diameter-sidecar (`charging.sidecar_url`):
/// a message for a local subscriber is reserved on acceptance and committed when
/// the subscriber retrieves it (a RecipientEvent), once.
#[test]
fn serve_reserves_through_the_sidecar_and_commits_on_local_retrieval() {
    if !diameter_present() || !require_python_module("aiosmtpd") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("ledger.db");
    let ocs_port = free_port();
    let ocs = Ocs::start(dir.path(), "ocs", ocs_port, &db, &[]);
    let sc = Sidecar::start(dir.path(), &[ocs_port]);
    sc.wait_peer(0, "okay");
    let third = Sink::start(&dir.path().join("third"), &[]);
    let cfg = format!(
        r#"
[mmsc]
domain = "mms.a.test"
local_numbers = ["+1555100*"]
[[partners]]
name = "third"
domain = "mms.third.test"
smtp_host = "127.0.0.1:{third}"
allowed_networks = ["127.0.0.2/32"]
starttls = "never"
[charging]
mode = "reserve-commit"
charge_mm4_incoming = true
sidecar_url = "http://127.0.0.1:{sc}"
"#,
        third = third.port,
        sc = sc.port,
    );
    let a = Mmsc::start(dir.path(), Some(&cfg));
    let mid = "local@mms.third.test";
    let from = "+15553000003/TYPE=PLMN@mms.third.test";
    let to = "+15551000001/TYPE=PLMN@mms.a.test";
    let pdu = format!(
        "X-Mms-3GPP-MMS-Version: 6.10.0\r\nX-Mms-Message-Type: MM4_forward.REQ\r\nX-Mms-Transaction-ID: tx-{mid}\r\nX-Mms-Message-ID: {mid}\r\nX-Mms-Ack-Request: Yes\r\nFrom: {from}\r\nTo: {to}\r\nSubject: hi\r\nContent-Type: text/plain\r\n\r\nhi\r\n"
    );
    let (code, text) = smtplib_send_from("127.0.0.2", a.smtp_port, from, &[to], pdu.as_bytes());
    assert_eq!(code, 250, "{text}");
    wait_until("routed at A", WAIT, || {
        (a.recipient_state(mid, 0)? == "routed").then_some(())
    });
    let reserved: Vec<_> = ocs.ccrs().into_iter().filter(|c| c["type"] == 1).collect();
    assert_eq!(reserved.len(), 1, "{reserved:?}");
    assert!(
        ocs.ccrs().iter().all(|c| c["type"] != 3),
        "committed before delivery"
    );
    for _ in 0..2 {
        let (st, body) = a.http(
            "POST",
            &format!("/admin/v1/messages/{mid}/recipients/0/state"),
            r#"{"state":"retrieved"}"#,
        );
        assert_eq!(st, 202, "{body}");
    }
    wait_until("the commit", WAIT, || {
        ocs.ccrs().iter().any(|c| c["type"] == 3).then_some(())
    });
    std::thread::sleep(Duration::from_secs(2));
    let rows = ledger(&db);
    assert_eq!(
        rows.len(),
        2,
        "{rows:?}\n{:?}\n{}\n{}",
        ocs.ccrs(),
        a.log_text(),
        std::fs::read_to_string(dir.path().join("sidecar.stderr")).unwrap_or_default()
    );
    assert_eq!((rows[0].2, rows[1].2), (1, 3), "{rows:?}");
}

// ---- freeDiameter (Debian) with our compiled answering extension ----

/// freeDiameterd with `tests/peers/freediameter/ccr_answer.c` answering CCRs.
struct FreeDiameter {
    child: Child,
    port: u16,
}

impl FreeDiameter {
    fn start(dir: &Path, result_code: u32) -> FreeDiameter {
        let ext = dir.join("ccr_answer.fdx");
        let st = Command::new("gcc")
            .args(["-shared", "-fPIC", "-o"])
            .arg(&ext)
            .arg(repo_root().join("tests/peers/freediameter/ccr_answer.c"))
            .args(["-lfdcore", "-lfdproto"])
            .status()
            .unwrap();
        assert!(st.success(), "compiling the freeDiameter extension failed");
        // freeDiameter insists on TLS credentials even when no peer uses TLS.
        let (cert, key) = (dir.join("cert.pem"), dir.join("key.pem"));
        let st = Command::new("openssl")
            .args([
                "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
            ])
            .args(["-subj", "/CN=ocs.test.local", "-keyout"])
            .arg(&key)
            .arg("-out")
            .arg(&cert)
            .stderr(Stdio::null())
            .status()
            .unwrap();
        assert!(st.success(), "openssl req failed");
        let acl = dir.join("acl.conf");
        std::fs::write(&acl, "ALLOW_IPSEC *.test.local\n").unwrap();
        let (port, sec) = (free_port(), free_port());
        let lib = "/usr/lib/freeDiameter";
        let conf = format!(
            "Identity = \"ocs.test.local\";\nRealm = \"{REALM}\";\nPort = {port};\nSecPort = {sec};\nNo_SCTP;\nNo_IPv6;\n\
             TLS_Cred = \"{c}\", \"{k}\";\nTLS_CA = \"{c}\";\n\
             LoadExtension = \"{lib}/dict_nasreq.fdx\";\nLoadExtension = \"{lib}/dict_dcca.fdx\";\n\
             LoadExtension = \"{lib}/dict_dcca_3gpp.fdx\";\nLoadExtension = \"{lib}/acl_wl.fdx\" : \"{a}\";\n\
             LoadExtension = \"{e}\" : \"{result_code}\";\n",
            c = cert.display(),
            k = key.display(),
            a = acl.display(),
            e = ext.display(),
        );
        let conf_path = dir.join("fd.conf");
        std::fs::write(&conf_path, conf).unwrap();
        let log = std::fs::File::create(dir.join("freediameter.log")).unwrap();
        let child = Command::new("freeDiameterd")
            .arg("-c")
            .arg(&conf_path)
            .stdout(log)
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        wait_until("freeDiameterd to listen", WAIT, || {
            TcpStream::connect(("127.0.0.1", port)).ok()
        });
        FreeDiameter { child, port }
    }
}

impl Drop for FreeDiameter {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn freediameter_present() -> bool {
    require_tool("freeDiameterd") && require_tool("gcc") && require_tool("openssl")
}

/// A unique Origin-Host per run: freeDiameter drops the first answer to a peer
/// that reconnects with an identity it just saw (REOPEN).
fn unique_origin() -> String {
    format!("mmsc-{}.{REALM}", free_port())
}

#[test]
fn mm9test_gets_2001_from_freediameter_and_its_refusal_code() {
    if !freediameter_present() {
        return;
    }
    for (code, exit) in [(2001, 0), (4010, 1)] {
        let dir = tempfile::tempdir().unwrap();
        let fd = FreeDiameter::start(dir.path(), code);
        let origin = unique_origin();
        let out = Command::new(mmsc_bin())
            .arg("mm9test")
            .args(["--server", "127.0.0.1", "--port", &fd.port.to_string()])
            .args(["--destination-realm", REALM, "--host-ip", "127.0.0.1"])
            .args(["--origin-host", &origin, "--origin-realm", REALM])
            .args(["--sender", "447700900123", "--recipient", "447700900456"])
            .args(["--units", "1"])
            .stdin(Stdio::null())
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout);
        assert_eq!(out.status.code(), Some(exit), "{text}");
        let want = format!("Diameter Result Code {code}");
        assert_eq!(
            text.trim_end().lines().last(),
            Some(want.as_str()),
            "{text}"
        );
    }
}

/// Without `MM4_forward.RES` the relay's `250` (A: "forwarded") commits nothing;
/// the delivery report Retrieved from B does.
#[test]
fn dmz_without_acks_commits_only_on_the_delivery_report() {
    if !diameter_present() || !require_python_module("aiosmtpd") {
        return;
    }
    let d = dmz_with("reserve-commit", false);
    let mid = "dmz-noack@mms.third.test";
    send_from_third(&d, "+15552000002/TYPE=PLMN@mms.b.test", mid);
    wait_until("forwarded at A", WAIT, || {
        (d.a.recipient_state(mid, 0)? == "forwarded").then_some(())
    });
    wait_until("the message at B", WAIT, || {
        (d.b.recipient_state(mid, 0)? == "routed").then_some(())
    });
    std::thread::sleep(Duration::from_secs(2));
    let c = charges_for(&d, mid);
    assert_eq!(c.len(), 1, "charged on SMTP 250 alone: {c:?}");
    assert_eq!(c[0].2, 1, "{c:?}"); // only the reservation
    let (st, body) = d.b.http(
        "POST",
        &format!("/admin/v1/messages/{mid}/recipients/0/state"),
        r#"{"state":"retrieved"}"#,
    );
    assert_eq!(st, 202, "{body}");
    wait_until("the commit", WAIT, || {
        (charges_for(&d, mid).len() == 2).then_some(())
    });
    let c = charges_for(&d, mid);
    assert_eq!((c[0].2, c[1].2), (1, 3), "{c:?}");
}
