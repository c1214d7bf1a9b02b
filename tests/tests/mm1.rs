//! MM1 end to end, through the real `mmsc` binary: handsets are played over raw
//! HTTP, the push proxy gateway by `tests/peers/ppg.py` (a PAP server that decodes
//! every pushed PDU with python-messaging), partners by the aiosmtpd sink. Every
//! PDU the MMSC produces is checked by python-messaging's decoder and by tshark's
//! MMSE dissector.

#![allow(clippy::unwrap_used)]

mod common;

use common::*;
use mmsc_shared::codec::mm1::*;
use serde_json::Value;
use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

const WAIT: Duration = Duration::from_secs(60);
const ALICE: &str = "447700900001";
const BOB: &str = "447700900002";
const EVE: &str = "447700900003";

const PNG: &[u8] = &[
    0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x48, 0x44, 0x52,
    0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x02, 0x00, 0x00, 0x00, 0x90, 0x77, 0x53,
    0xde, 0x00, 0x00, 0x00, 0x0c, 0x49, 0x44, 0x41, 0x54, 0x78, 0x9c, 0x63, 0xf8, 0xcf, 0xc0, 0x00,
    0x00, 0x03, 0x01, 0x01, 0x00, 0xc9, 0xfe, 0x92, 0xef, 0x00, 0x00, 0x00, 0x00, 0x49, 0x45, 0x4e,
    0x44, 0xae, 0x42, 0x60, 0x82,
];

fn peers_present() -> bool {
    require_python_module("messaging.mms")
        && require_python_module("aiosmtpd")
        && require_tool("tshark")
        && require_tool("text2pcap")
}

/// The PPG played by `tests/peers/ppg.py`.
struct Ppg {
    child: Child,
    port: u16,
    dir: PathBuf,
}

impl Ppg {
    fn start(dir: &Path, extra: &[&str]) -> Ppg {
        std::fs::create_dir_all(dir).unwrap();
        let mut child = Command::new("python3")
            .arg(repo_root().join("tests/peers/ppg.py"))
            .arg("--dir")
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
            .unwrap_or_else(|| panic!("ppg did not start: {line:?}"));
        Ppg {
            child,
            port,
            dir: dir.to_path_buf(),
        }
    }

    fn pushes(&self) -> Vec<Value> {
        let mut out = Vec::new();
        for n in 1.. {
            let p = self.dir.join(format!("{n}.json"));
            let Ok(b) = std::fs::read(&p) else { break };
            out.push(serde_json::from_slice(&b).unwrap());
        }
        out
    }

    /// Waits for a push to `msisdn` of X-Mms-Message-Type `mtype` (0x82
    /// notification, 0x86 delivery, 0x88 read-orig).
    fn wait_for(&self, mmsc: &Mmsc, msisdn: &str, mtype: u8) -> Value {
        let address = format!("WAPPUSH=+{msisdn}/TYPE=PLMN@");
        let start = std::time::Instant::now();
        loop {
            if let Some(p) = self.pushes().into_iter().find(|p| {
                p["address"]
                    .as_str()
                    .unwrap_or_default()
                    .starts_with(&address)
                    && p["type"] == u64::from(mtype)
            }) {
                return p;
            }
            if start.elapsed() > WAIT {
                panic!(
                    "no push of type {mtype:#x} to {msisdn} in {WAIT:?}; pushes: {:?}\nmmsc log:\n{}",
                    self.pushes(),
                    mmsc.log_text()
                );
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

impl Drop for Ppg {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn unhex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

/// One HTTP/1.1 request over a fresh connection: (status, body).
fn http(
    port: u16,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> (u16, Vec<u8>) {
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    let mut req = format!(
        "{method} {path} HTTP/1.1\r\nhost: mmsc.test\r\nconnection: close\r\ncontent-length: {}\r\n",
        body.len()
    );
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    req.push_str("\r\n");
    s.write_all(req.as_bytes()).unwrap();
    s.write_all(body).unwrap();
    let mut resp = Vec::new();
    s.read_to_end(&mut resp).unwrap();
    let split = resp
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("an HTTP response");
    let head = String::from_utf8_lossy(&resp[..split]).to_string();
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    (status, resp[split + 4..].to_vec())
}

fn post_mm1(port: u16, msisdn: Option<&str>, pdu: &[u8]) -> (u16, Vec<u8>) {
    let mut h = vec![("content-type", MMS_MESSAGE_CONTENT_TYPE)];
    if let Some(m) = msisdn {
        h.push(("x-msisdn", m));
    }
    http(port, "POST", "/mm1", &h, pdu)
}

/// python-messaging's view of a PDU: `{"headers": {...}, "parts": [...]}`.
fn pm_decode(pdu: &[u8]) -> Value {
    let script = "import sys, json; sys.path.insert(0, sys.argv[1]); import ppg; \
                  print(json.dumps(ppg.decode_mms(bytes.fromhex(sys.stdin.read()))))";
    let mut child = Command::new("python3")
        .args(["-c", script])
        .arg(repo_root().join("tests/peers"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let hex: String = pdu.iter().map(|b| format!("{b:02x}")).collect();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(hex.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "python-messaging could not decode {hex}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

const TSHARK_FIELDS: &[&str] = &[
    "mmse.message_type",
    "mmse.transaction_id",
    "mmse.response_status",
    "mmse.status",
    "mmse.message_id",
    "mmse.content_location",
    "mmse.from",
    "mmse.to",
    "mmse.read_status",
    "_ws.malformed",
    "_ws.expert.severity",
];

/// tshark's MMSE dissector on the PDU: its fields (`mmse.message_type` ->
/// `0x81`, ...), after checking it saw no malformed data and no warning/error.
fn tshark(dir: &Path, name: &str, pdu: &[u8]) -> HashMap<String, String> {
    let mut req = format!(
        "POST /mms HTTP/1.1\r\nHost: mmsc.test\r\nContent-Type: {MMS_MESSAGE_CONTENT_TYPE}\r\nContent-Length: {}\r\n\r\n",
        pdu.len()
    )
    .into_bytes();
    req.extend_from_slice(pdu);
    let mut dump = String::new();
    for (i, chunk) in req.chunks(16).enumerate() {
        let bytes: Vec<String> = chunk.iter().map(|b| format!("{b:02x}")).collect();
        dump.push_str(&format!("{:06x} {}\n", i * 16, bytes.join(" ")));
    }
    let txt = dir.join(format!("{name}.txt"));
    let pcap = dir.join(format!("{name}.pcap"));
    std::fs::write(&txt, dump).unwrap();
    assert!(
        Command::new("text2pcap")
            .args(["-q", "-T", "40000,8080"])
            .arg(&txt)
            .arg(&pcap)
            .status()
            .unwrap()
            .success()
    );
    let mut cmd = Command::new("tshark");
    cmd.arg("-r").arg(&pcap).args([
        "-Y",
        "mmse",
        "-T",
        "fields",
        "-E",
        "separator=|",
        "-E",
        "occurrence=a",
        "-E",
        "aggregator=,",
    ]);
    for f in TSHARK_FIELDS {
        cmd.args(["-e", f]);
    }
    let out = cmd.output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout).trim().to_string();
    let fields: Vec<&str> = text.split('|').collect();
    assert_eq!(
        fields.len(),
        TSHARK_FIELDS.len(),
        "{name}: tshark saw no MMSE PDU: {text:?}"
    );
    let got: HashMap<String, String> = TSHARK_FIELDS
        .iter()
        .zip(fields)
        .map(|(f, v)| (f.to_string(), v.to_string()))
        .collect();
    assert_eq!(
        got["_ws.malformed"], "",
        "{name}: tshark marks it malformed: {got:?}"
    );
    for sev in got["_ws.expert.severity"]
        .split(',')
        .filter(|s| !s.is_empty())
    {
        assert!(
            number(sev) < 0x0060_0000,
            "{name}: tshark expert warning/error: {got:?}"
        );
    }
    got
}

/// A tshark number field (`0x81` or `129`).
fn number(s: &str) -> u64 {
    match s.strip_prefix("0x") {
        Some(h) => u64::from_str_radix(h, 16).unwrap(),
        None => s.parse().unwrap_or_else(|_| panic!("not a number: {s:?}")),
    }
}

/// tshark's message type (`0x84`) of a clean PDU.
fn tshark_check(dir: &Path, name: &str, pdu: &[u8]) -> u64 {
    number(&tshark(dir, name, pdu)["mmse.message_type"])
}

fn send_req(txid: &str, to: &str) -> Vec<u8> {
    let smil =
        b"<smil><body><par><img src=\"pic.png\"/><text src=\"hello.txt\"/></par></body></smil>";
    let body = Body::Multipart(vec![
        Part::new(ContentType::new("application/smil"), smil.to_vec())
            .with_content_id("<smil>")
            .with_content_location("smil.xml"),
        Part::new(
            ContentType::new("text/plain").with_charset(Charset::UTF_8),
            "Hello from MM1".as_bytes().to_vec(),
        )
        .with_content_id("<hello>")
        .with_content_location("hello.txt"),
        Part::new(ContentType::new("image/png"), PNG.to_vec())
            .with_content_id("<pic>")
            .with_content_location("pic.png"),
    ]);
    MSendReq::new(
        txid.into(),
        MmsVersion::V1_2,
        FromValue::InsertAddress,
        ContentType::multipart_related("application/smil", "<smil>"),
        body,
    )
    .with_to(MmsAddress::new(to))
    .with_subject(EncodedString::text("Hello"))
    .with_delivery_report(YesNo::YES)
    .with_read_report(YesNo::YES)
    .to_bytes()
    .unwrap()
}

fn mm1_config(http_port: u16, ppg_port: u16, extra: &str) -> String {
    format!(
        r#"
[mmsc]
domain = "mms.local.test"
local_numbers = ["+447700900*", "+447778889999"]

[queues]
retry_initial_secs = 1
retry_max_secs = 2
visibility_timeout_secs = 10

[mm1]
public_base_url = "http://127.0.0.1:{http_port}"

[wap_push]
pap_url = "http://127.0.0.1:{ppg_port}/wappush"
credentials = {{ username = "mmsc", password = "pap-secret" }}
{extra}
"#
    )
}

/// The acceptance loop: m-send.req -> m-send.conf; the PPG gets the
/// m-notification.ind; the recipient fetches m-retrieve.conf (nobody else can);
/// m-acknowledge.ind -> the sender gets m-delivery.ind (Retrieved); m-read-rec.ind
/// -> the sender gets m-read-orig.ind.
#[test]
fn mo_to_mt_loop_with_delivery_and_read_reports() {
    if !peers_present() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let ppg = Ppg::start(
        &dir.path().join("ppg"),
        &["--user", "mmsc", "--password", "pap-secret"],
    );
    let http_port = free_port();
    let cfg = mm1_config(http_port, ppg.port, "");
    let mmsc = Mmsc::start_on(dir.path(), Some(&cfg), free_port(), http_port);

    // The handset's m-send.req, built by our codec, decodes in python-messaging.
    let req = send_req("tx-mo-1", "+447700900002/TYPE=PLMN");
    let pm = pm_decode(&req);
    assert_eq!(pm["headers"]["Message-Type"], "m-send-req", "{pm}");
    assert_eq!(pm["parts"].as_array().unwrap().len(), 3, "{pm}");

    let (status, body) = post_mm1(mmsc.http_port, Some(ALICE), &req);
    assert_eq!(status, 200, "{}", mmsc.log_text());
    assert_eq!(tshark_check(dir.path(), "send-conf", &body), 0x81);
    let pm = pm_decode(&body);
    assert_eq!(pm["headers"]["Message-Type"], "m-send-conf", "{pm}");
    assert_eq!(pm["headers"]["Transaction-Id"], "tx-mo-1");
    assert_eq!(pm["headers"]["Response-Status"], "Ok", "{pm}");
    let Pdu::SendConf(conf) = Pdu::from_bytes(&body).unwrap() else {
        panic!("not an m-send.conf")
    };
    let message_id = conf.message_id.expect("a Message-ID");

    // The PPG receives the notification for Bob.
    let push = ppg.wait_for(&mmsc, BOB, 0x82);
    assert_eq!(push["application_id"], "x-wap-application:mms.ua");
    assert_eq!(push["content_type"], MMS_MESSAGE_CONTENT_TYPE);
    let pdu = unhex(push["pdu_hex"].as_str().unwrap());
    assert_eq!(tshark_check(dir.path(), "notification", &pdu), 0x82);
    let h = &push["mms"]["headers"];
    assert_eq!(h["From"], "+447700900001/TYPE=PLMN", "{h}");
    assert_eq!(h["Subject"], "Hello");
    let location = h["Content-Location"].as_str().unwrap().to_string();
    let path = location
        .strip_prefix(&format!("http://127.0.0.1:{http_port}"))
        .expect("a location on our front")
        .to_string();
    let trace = mmsc.trace(&message_id).unwrap();
    assert_eq!(trace["recipients"][0]["state"], "notified", "{trace}");

    // Someone else cannot fetch it; nor can a request without the gateway's header.
    let (st, _) = http(mmsc.http_port, "GET", &path, &[("x-msisdn", EVE)], b"");
    assert_eq!(st, 404);
    let (st, _) = http(mmsc.http_port, "GET", &path, &[], b"");
    assert_eq!(st, 403);
    let (st, _) = http(
        mmsc.http_port,
        "GET",
        "/mm1/m/0123456789abcdef0123456789abcdef",
        &[("x-msisdn", BOB)],
        b"",
    );
    assert_eq!(st, 404);

    // Bob forwards it to Eve without downloading it (m-forward.req).
    let fwd = MForwardReq::new(
        "tx-fwd-1".into(),
        MmsVersion::V1_2,
        FromValue::InsertAddress,
        location.clone(),
    )
    .with_to(MmsAddress::new("+447700900003/TYPE=PLMN"))
    .to_bytes()
    .unwrap();
    assert_eq!(tshark_check(dir.path(), "forward-req", &fwd), 0x89);
    let (st, body) = post_mm1(mmsc.http_port, Some(BOB), &fwd);
    assert_eq!(st, 200, "{}", mmsc.log_text());
    let t = tshark(dir.path(), "forward-conf", &body);
    assert_eq!(number(&t["mmse.message_type"]), 0x8A);
    assert_eq!(number(&t["mmse.response_status"]), 0x80);
    assert_eq!(t["mmse.transaction_id"], "tx-fwd-1");
    // Eve is notified of the forwarded message and fetches it, from Bob.
    let push = ppg.wait_for(&mmsc, EVE, 0x82);
    let eve_loc = push["mms"]["headers"]["Content-Location"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(push["mms"]["headers"]["From"], "+447700900002/TYPE=PLMN");
    let eve_path = eve_loc.split_once(&format!(":{http_port}")).unwrap().1;
    let (st, eve_msg) = http(mmsc.http_port, "GET", eve_path, &[("x-msisdn", EVE)], b"");
    assert_eq!(st, 200);
    let pm = pm_decode(&eve_msg);
    assert_eq!(pm["parts"].as_array().unwrap().len(), 3, "{pm}");
    // A forward of a message that is not yours is refused.
    let (st, body) = post_mm1(mmsc.http_port, Some(ALICE), &fwd);
    assert_eq!(st, 404);
    assert_eq!(
        number(&tshark(dir.path(), "forward-refused", &body)["mmse.response_status"]),
        u64::from(ResponseStatus::PERMANENT_MESSAGE_NOT_FOUND.0)
    );

    // Bob fetches it.
    let (st, retrieved) = http(mmsc.http_port, "GET", &path, &[("x-msisdn", BOB)], b"");
    assert_eq!(st, 200, "{}", mmsc.log_text());
    assert_eq!(tshark_check(dir.path(), "retrieve-conf", &retrieved), 0x84);
    let pm = pm_decode(&retrieved);
    assert_eq!(pm["headers"]["Message-Type"], "m-retrieve-conf", "{pm}");
    assert_eq!(pm["headers"]["From"], "+447700900001/TYPE=PLMN", "{pm}");
    assert_eq!(pm["headers"]["Subject"], "Hello");
    assert_eq!(pm["headers"]["Message-ID"], message_id.as_str());
    let parts = pm["parts"].as_array().unwrap();
    assert_eq!(parts.len(), 3, "{pm}");
    assert_eq!(parts[2]["size"], PNG.len());
    let Pdu::RetrieveConf(rc) = Pdu::from_bytes(&retrieved).unwrap() else {
        panic!("not an m-retrieve.conf")
    };
    assert_eq!(rc.body.parts()[2].data, PNG);
    assert_eq!(rc.body.parts()[1].data, b"Hello from MM1");

    // Bob acknowledges; Alice gets the delivery report.
    let ack = MAcknowledgeInd::new(rc.transaction_id.clone().unwrap(), MmsVersion::V1_2)
        .to_bytes()
        .unwrap();
    assert_eq!(
        pm_decode(&ack)["headers"]["Message-Type"],
        "m-acknowledge-ind"
    );
    let (st, _) = post_mm1(mmsc.http_port, Some(BOB), &ack);
    assert_eq!(st, 204, "{}", mmsc.log_text());
    let dr = ppg.wait_for(&mmsc, ALICE, 0x86);
    let pdu = unhex(dr["pdu_hex"].as_str().unwrap());
    assert_eq!(tshark_check(dir.path(), "delivery-ind", &pdu), 0x86);
    assert_eq!(dr["mms"]["headers"]["Message-ID"], message_id.as_str());
    assert_eq!(dr["mms"]["headers"]["Status"], "Retrieved", "{dr}");
    wait_until("Bob delivered", WAIT, || {
        (mmsc.recipient_state(&message_id, 0).as_deref() == Some("delivered")).then_some(())
    });

    // Bob's read report reaches Alice as m-read-orig.ind.
    let rr = MReadRecInd::new(
        MmsVersion::V1_2,
        message_id.clone(),
        MmsAddress::new("+447700900001/TYPE=PLMN"),
        FromValue::InsertAddress,
        ReadStatus::READ,
    )
    .to_bytes()
    .unwrap();
    assert_eq!(tshark_check(dir.path(), "read-rec", &rr), 0x87);
    let (st, _) = post_mm1(mmsc.http_port, Some(BOB), &rr);
    assert_eq!(st, 204);
    // python-messaging knows MMS 1.0 only: tshark checks the 1.1 read report.
    let ro = ppg.wait_for(&mmsc, ALICE, 0x88);
    let pdu = unhex(ro["pdu_hex"].as_str().unwrap());
    let t = tshark(dir.path(), "read-orig", &pdu);
    assert_eq!(number(&t["mmse.message_type"]), 0x88);
    assert_eq!(t["mmse.message_id"], message_id.as_str());
    assert_eq!(number(&t["mmse.read_status"]), 0x80, "{t:?}");
    assert!(t["mmse.from"].contains("+447700900002"), "{t:?}");
    // Only one delivery report: the acknowledgement did not repeat it.
    std::thread::sleep(Duration::from_millis(500));
    let reports = ppg
        .pushes()
        .iter()
        .filter(|p| p["mms"]["headers"]["Message-Type"] == "m-delivery-ind")
        .count();
    assert_eq!(reports, 1);
}

/// MM4 -> MM1: a partner's forward.REQ to a local subscriber is notified,
/// retrieved, acknowledged, and a delivery_report.REQ goes back to the partner.
#[test]
fn mm4_message_is_delivered_over_mm1_and_reported_to_the_partner() {
    if !peers_present() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let sink = Sink::start(&dir.path().join("sink"), &[]);
    let ppg = Ppg::start(&dir.path().join("ppg"), &[]);
    let http_port = free_port();
    let partner = partner_config("mms.local.test", "oper", "mms.oper.com", sink.port, "");
    let cfg = format!(
        "{partner}\n[mm1]\npublic_base_url = \"http://127.0.0.1:{http_port}\"\n[wap_push]\npap_url = \"http://127.0.0.1:{}/wappush\"\n",
        ppg.port
    );
    let mmsc = Mmsc::start_on(dir.path(), Some(&cfg), free_port(), http_port);
    let eml = String::from_utf8(sample_with_ids("mm4-to-mm1-1@mmsc", "mm4-msg-1@mmsc.hub"))
        .unwrap()
        .replace(
            "X-Mms-Ack-Request: Yes\n",
            "X-Mms-Ack-Request: Yes\nX-Mms-Delivery-Report: Yes\n",
        );
    let (code, text) = smtplib_send(
        mmsc.smtp_port,
        "+447779998888/TYPE=PLMN@mms.oper.com",
        &["+447778889999/TYPE=PLMN@mms.local.test"],
        eml.as_bytes(),
    );
    assert_eq!(code, 250, "{text}");

    let push = ppg.wait_for(&mmsc, "447778889999", 0x82);
    let pdu = unhex(push["pdu_hex"].as_str().unwrap());
    tshark_check(dir.path(), "mm4-notification", &pdu);
    let h = &push["mms"]["headers"];
    assert_eq!(h["From"], "+447779998888/TYPE=PLMN", "{h}");
    let location = h["Content-Location"].as_str().unwrap();
    let path = location
        .split_once(&format!(":{http_port}"))
        .unwrap()
        .1
        .to_string();

    let (st, retrieved) = http(
        mmsc.http_port,
        "GET",
        &path,
        &[("x-msisdn", "+447778889999")],
        b"",
    );
    assert_eq!(st, 200, "{}", mmsc.log_text());
    assert_eq!(tshark_check(dir.path(), "mm4-retrieve", &retrieved), 0x84);
    let pm = pm_decode(&retrieved);
    assert_eq!(pm["headers"]["Subject"], "News for today", "{pm}");
    let parts = pm["parts"].as_array().unwrap();
    assert_eq!(parts.len(), 2, "{pm}");
    let Pdu::RetrieveConf(rc) = Pdu::from_bytes(&retrieved).unwrap() else {
        panic!("not an m-retrieve.conf")
    };
    assert!(String::from_utf8_lossy(&rc.body.parts()[0].data).contains("Saturn pictures"));
    assert_eq!(rc.body.parts()[1].content_type.media.name(), "image/gif");

    let ack = MAcknowledgeInd::new(rc.transaction_id.clone().unwrap(), MmsVersion::V1_2)
        .to_bytes()
        .unwrap();
    let (st, _) = post_mm1(mmsc.http_port, Some("447778889999"), &ack);
    assert_eq!(st, 204);
    let raw = sink.wait_for(
        &["MM4_delivery_report.REQ", "mm4-msg-1@mmsc.hub", "Retrieved"],
        WAIT,
    );
    let text = String::from_utf8_lossy(&raw);
    assert!(text.contains("+447778889999"), "{text}");
}

/// Python's http.client from `source` (any 127.x address): (status, body).
fn post_from(source: &str, port: u16, headers: &[(&str, &str)], body: &[u8]) -> (u16, Vec<u8>) {
    let script = r#"
import http.client, sys, json
src, port, headers = sys.argv[1], int(sys.argv[2]), json.loads(sys.argv[3])
body = bytes.fromhex(sys.stdin.read())
c = http.client.HTTPConnection("127.0.0.1", port, timeout=30, source_address=(src, 0))
c.request("POST", "/mm1", body=body, headers=headers)
r = c.getresponse()
print(r.status, r.read().hex())
"#;
    let h: serde_json::Map<String, Value> = headers
        .iter()
        .map(|(k, v)| (k.to_string(), Value::from(*v)))
        .collect();
    let mut child = Command::new("python3")
        .args([
            "-c",
            script,
            source,
            &port.to_string(),
            &Value::Object(h).to_string(),
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let hex: String = body.iter().map(|b| format!("{b:02x}")).collect();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(hex.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout).trim().to_string();
    let (code, body) = text.split_once(' ').unwrap_or((&text, ""));
    (code.parse().unwrap_or(0), unhex(body))
}

/// (Response-Status, Transaction-Id) of an m-send.conf, as tshark reads them.
fn response_status(dir: &Path, name: &str, body: &[u8]) -> (u64, String) {
    let t = tshark(dir, name, body);
    assert_eq!(number(&t["mmse.message_type"]), 0x81, "{t:?}");
    (
        number(&t["mmse.response_status"]),
        t["mmse.transaction_id"].clone(),
    )
}

/// Every refusal has its defined error, and nothing accepted is lost.
#[test]
fn refuses_bad_mm1_requests_with_defined_errors() {
    if !peers_present() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let ppg = Ppg::start(&dir.path().join("ppg"), &[]);
    let http_port = free_port();
    let cfg = mm1_config(
        http_port, ppg.port, "", // the [mm1] table is above; limits come from it
    )
    .replace(
        "[mm1]\n",
        "[mm1]\ntrusted_networks = [\"127.0.0.1/32\"]\nmax_message_size = 4096\n",
    );
    let mmsc = Mmsc::start_on(dir.path(), Some(&cfg), free_port(), http_port);
    let good = send_req("tx-err-ok", "+447700900002/TYPE=PLMN");
    let d = dir.path();

    // A spoofed MSISDN header from an address that is not a trusted gateway; an
    // MMS 1.0 handset gets the 1.0 code, which python-messaging also reads.
    let Pdu::SendReq(mut v10) = Pdu::from_bytes(&good).unwrap() else {
        panic!()
    };
    v10.mms_version = MmsVersion::V1_0;
    let (st, body) = post_from(
        "127.0.0.2",
        mmsc.http_port,
        &[
            ("Content-Type", MMS_MESSAGE_CONTENT_TYPE),
            ("X-MSISDN", ALICE),
        ],
        &v10.to_bytes().unwrap(),
    );
    assert_eq!(st, 403);
    assert_eq!(
        response_status(d, "spoofed", &body),
        (0x82, "tx-err-ok".into())
    );
    assert_eq!(
        pm_decode(&body)["headers"]["Response-Status"],
        "Error-service-denied"
    );
    // The same from a 1.2 handset: Error-permanent-service-denied.
    let (st, body) = post_from(
        "127.0.0.2",
        mmsc.http_port,
        &[
            ("Content-Type", MMS_MESSAGE_CONTENT_TYPE),
            ("X-MSISDN", ALICE),
        ],
        &good,
    );
    assert_eq!(st, 403);
    assert_eq!(
        response_status(d, "spoofed12", &body),
        (
            ResponseStatus::PERMANENT_SERVICE_DENIED.0.into(),
            "tx-err-ok".into()
        )
    );

    // A trusted gateway that did not name the subscriber.
    let (st, body) = post_mm1(mmsc.http_port, None, &good);
    assert_eq!(st, 403);
    assert_eq!(
        response_status(d, "no-msisdn", &body).0,
        u64::from(ResponseStatus::PERMANENT_SENDING_ADDRESS_UNRESOLVED.0)
    );

    // A truncated PDU.
    let (st, body) = post_mm1(mmsc.http_port, Some(ALICE), &good[..good.len() / 2]);
    assert_eq!(st, 400);
    assert_eq!(
        response_status(d, "truncated", &body),
        (
            ResponseStatus::PERMANENT_MESSAGE_FORMAT_CORRUPT.0.into(),
            "tx-err-ok".into()
        )
    );

    // A value-length beyond the body: From announces 200 octets, 3 follow.
    let mut overrun = vec![0x8C, 0x80, 0x98];
    overrun.extend_from_slice(b"tx-overrun\0");
    overrun.extend_from_slice(&[0x8D, 0x92, 0x89, 0x1F, 0x81, 0x48, 0x80, b'+', b'4']);
    let (st, body) = post_mm1(mmsc.http_port, Some(ALICE), &overrun);
    assert_eq!(st, 400);
    assert_eq!(
        response_status(d, "overrun", &body),
        (
            ResponseStatus::PERMANENT_MESSAGE_FORMAT_CORRUPT.0.into(),
            "tx-overrun".into()
        )
    );

    // The wrong content type.
    let (st, _) = http(
        mmsc.http_port,
        "POST",
        "/mm1",
        &[("content-type", "text/plain"), ("x-msisdn", ALICE)],
        &good,
    );
    assert_eq!(st, 415);

    // Over mm1.max_message_size.
    let mut big = send_req("tx-big", "+447700900002/TYPE=PLMN");
    let Pdu::SendReq(mut r) = Pdu::from_bytes(&big).unwrap() else {
        panic!()
    };
    if let Body::Multipart(parts) = &mut r.body {
        parts[2].data = vec![0x55; 8192];
    }
    big = r.to_bytes().unwrap();
    let (st, body) = post_mm1(mmsc.http_port, Some(ALICE), &big);
    assert_eq!(st, 413);
    assert_eq!(
        response_status(d, "too-big", &body),
        (
            ResponseStatus::PERMANENT_CONTENT_NOT_ACCEPTED.0.into(),
            "tx-big".into()
        )
    );

    // An acknowledgement for a transaction that is not the sender's.
    let ack = MAcknowledgeInd::new("0123456789abcdef0123456789abcdef".into(), MmsVersion::V1_2)
        .to_bytes()
        .unwrap();
    let (st, _) = post_mm1(mmsc.http_port, Some(ALICE), &ack);
    assert_eq!(st, 404);

    // After all that, a good submission is still accepted and delivered.
    let (st, body) = post_mm1(mmsc.http_port, Some(ALICE), &good);
    assert_eq!(st, 200, "{}", mmsc.log_text());
    assert_eq!(response_status(d, "ok", &body), (0x80, "tx-err-ok".into()));
    ppg.wait_for(&mmsc, BOB, 0x82);
    // The refused requests left no messages behind.
    let notifications = ppg
        .pushes()
        .iter()
        .filter(|p| p["mms"]["headers"]["Message-Type"] == "m-notification-ind")
        .count();
    assert_eq!(notifications, 1);
}

/// MM1 -> MM4: a handset's m-send.req to a partner's number leaves as an
/// MM4_forward.REQ with the content in MIME (read back by Python's e-mail parser);
/// the partner's MM4_delivery_report.REQ comes back to the handset as m-delivery.ind.
#[test]
fn mm1_message_to_a_partner_goes_over_mm4_and_the_report_comes_back() {
    if !peers_present() {
        return;
    }
    use mmsc_shared::codec::mm4::{DeliveryReportReq, Mm4Address, Mm4Pdu, MmStatus};
    let dir = tempfile::tempdir().unwrap();
    let sink = Sink::start(&dir.path().join("sink"), &[]);
    let ppg = Ppg::start(&dir.path().join("ppg"), &[]);
    let http_port = free_port();
    let cfg = format!(
        r#"{}
[[partners]]
name = "oper"
domain = "mms.oper.com"
prefixes = ["+1555*"]
smtp_host = "127.0.0.1:{}"
allowed_networks = ["127.0.0.0/8"]
request_ack = false
max_attempts = 3
starttls = "never"
"#,
        mm1_config(http_port, ppg.port, ""),
        sink.port
    );
    let mmsc = Mmsc::start_on(dir.path(), Some(&cfg), free_port(), http_port);
    let req = send_req("tx-mm4-1", "+15550001111/TYPE=PLMN");
    let (st, body) = post_mm1(mmsc.http_port, Some(ALICE), &req);
    assert_eq!(st, 200, "{}", mmsc.log_text());
    let Pdu::SendConf(conf) = Pdu::from_bytes(&body).unwrap() else {
        panic!("not an m-send.conf")
    };
    let message_id = conf.message_id.unwrap();

    let raw = sink.wait_for(&["MM4_forward.REQ"], WAIT);
    let Mm4Pdu::ForwardReq(fwd) = Mm4Pdu::parse(&raw).unwrap() else {
        panic!("not a forward.REQ")
    };
    assert_eq!(fwd.from.raw, "+447700900001/TYPE=PLMN@mms.local.test");
    assert_eq!(fwd.delivery_report, Some(true));
    assert_eq!(fwd.subject.as_deref(), Some("Hello"));
    let mm4_message_id = fwd.message_id.clone().unwrap();
    assert!(mm4_message_id.starts_with(&message_id), "{mm4_message_id}");
    // Python's e-mail parser sees the three parts, the image intact.
    let py = r#"
import email, sys
m = email.message_from_bytes(sys.stdin.buffer.read())
parts = [p for p in m.walk() if not p.is_multipart()]
print(m.get_content_type(), len(parts), parts[2].get_content_type(), parts[2].get_payload(decode=True).hex(), parts[1].get_payload(decode=True).decode())
"#;
    let mut child = Command::new("python3")
        .args(["-c", py])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(&raw).unwrap();
    let out = String::from_utf8(child.wait_with_output().unwrap().stdout).unwrap();
    let png_hex: String = PNG.iter().map(|b| format!("{b:02x}")).collect();
    assert_eq!(
        out.trim(),
        format!("multipart/related 3 image/png {png_hex} Hello from MM1")
    );

    // The partner reports delivery.
    let dr = DeliveryReportReq::new(
        "dr-from-oper-1@mms.oper.com",
        mm4_message_id,
        Mm4Address::parse("+15550001111/TYPE=PLMN@mms.oper.com"),
        Mm4Address::parse("+447700900001/TYPE=PLMN@mms.local.test"),
        MmStatus::RETRIEVED,
        1_795_428_000,
    );
    let (code, text) = smtplib_send(
        mmsc.smtp_port,
        "system-user@mms.oper.com",
        &["+447700900001/TYPE=PLMN@mms.local.test"],
        &Mm4Pdu::DeliveryReportReq(dr).to_bytes(),
    );
    assert_eq!(code, 250, "{text}");
    let ind = ppg.wait_for(&mmsc, ALICE, 0x86);
    assert_eq!(ind["mms"]["headers"]["Status"], "Retrieved", "{ind}");
    assert_eq!(ind["mms"]["headers"]["Message-ID"], message_id.as_str());
    let pdu = unhex(ind["pdu_hex"].as_str().unwrap());
    let t = tshark(dir.path(), "mm4-delivery-ind", &pdu);
    assert!(
        t["mmse.to"].is_empty() || t["mmse.to"].contains("+15550001111"),
        "{t:?}"
    );
    wait_until("the partner recipient delivered", WAIT, || {
        (mmsc.recipient_state(&message_id, 0).as_deref() == Some("delivered")).then_some(())
    });
}
