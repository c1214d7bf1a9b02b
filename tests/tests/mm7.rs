//! MM7 end to end, through the real `mmsc` binary: Python `requests` and `curl` play
//! the VASP's client, `tests/peers/vasp_server.py` (Python's http.server) its MM7
//! endpoint, `tests/peers/smtp_sink.py` (aiosmtpd) the MM4 partner. Answers are read
//! with Python's ElementTree, not with our codec.

#![allow(clippy::unwrap_used)]

mod common;

use common::*;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

const WAIT: Duration = Duration::from_secs(60);
const NS_BASE: &str = "http://www.3gpp.org/ftp/Specs/archive/23_series/23.140/schema/";

fn peers_present() -> bool {
    require_python_module("aiosmtpd") && require_python_module("requests") && require_tool("curl")
}

/// The VASP's MM7 endpoint (`tests/peers/vasp_server.py`).
struct VaspServer {
    child: Child,
    port: u16,
    dir: PathBuf,
}

impl VaspServer {
    fn start(dir: &Path) -> VaspServer {
        std::fs::create_dir_all(dir).unwrap();
        let mut child = Command::new("python3")
            .arg(repo_root().join("tests/peers/vasp_server.py"))
            .args(["--port", "0", "--dir"])
            .arg(dir)
            .stdout(Stdio::piped())
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
            .unwrap_or_else(|| panic!("VASP server did not start: {line:?}"));
        VaspServer {
            child,
            port,
            dir: dir.to_path_buf(),
        }
    }

    /// Requests received: (metadata JSON, body text).
    fn requests(&self) -> Vec<(serde_json::Value, String)> {
        let mut out = Vec::new();
        for n in 1.. {
            let meta = self.dir.join(format!("{n}.json"));
            if !meta.exists() {
                break;
            }
            out.push((
                serde_json::from_slice(&std::fs::read(meta).unwrap()).unwrap(),
                String::from_utf8_lossy(
                    &std::fs::read(self.dir.join(format!("{n}.body"))).unwrap(),
                )
                .to_string(),
            ));
        }
        out
    }

    fn wait_for(&self, op: &str, needles: &[&str]) -> String {
        wait_until(&format!("{op} with {needles:?} at the VASP"), WAIT, || {
            self.requests()
                .into_iter()
                .find(|(m, b)| m["op"] == op && needles.iter().all(|n| b.contains(n)))
                .map(|(_, b)| b)
        })
    }
}

impl Drop for VaspServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn config(sink_port: u16, vasp_port: u16, extra: &str) -> String {
    format!(
        r#"
[mmsc]
domain = "mms.example.net"
local_numbers = ["+4477009*"]

[http]
max_body_size = 65536

[queues]
retry_initial_secs = 1
retry_max_secs = 2
visibility_timeout_secs = 10

[[partners]]
name = "oper"
domain = "mms.oper.com"
prefixes = ["+1555*"]
smtp_host = "127.0.0.1:{sink_port}"
allowed_networks = ["127.0.0.0/8"]
max_attempts = 3
starttls = "never"
request_ack = false

[[vasps]]
id = "acme"
short_codes = ["12345"]
credentials = {{ username = "acme", password = "s3cret" }}
allowed_networks = ["127.0.0.0/8"]
service_codes = ["gold-sp33-im42"]
deliver_url = "http://127.0.0.1:{vasp_port}/mm7"
max_attempts = 3
{extra}
"#
    )
}

/// A SubmitReq in the style of the TS 23.140 examples: `mm7:` prefixed operation for
/// REL-5 schemas, default namespace for REL-6 ones; content as a multipart/related
/// attachment.
fn submit_envelope(schema: &str, txid: &str, to: &[&str], sender: &str) -> (String, Vec<u8>) {
    let ns = format!("{NS_BASE}{schema}");
    let rcpts: String = to
        .iter()
        .map(|t| {
            if t.contains('@') {
                format!("<RFC2822Address>{t}</RFC2822Address>")
            } else {
                format!("<Number>{t}</Number>")
            }
        })
        .collect();
    let (open, close) = if schema.starts_with("REL-5") {
        (
            format!(r#"<mm7:SubmitReq xmlns:mm7="{ns}">"#),
            "</mm7:SubmitReq>".to_string(),
        )
    } else {
        (
            format!(r#"<SubmitReq xmlns="{ns}">"#),
            "</SubmitReq>".to_string(),
        )
    };
    let soap = format!(
        r#"<?xml version="1.0" ?>
<env:Envelope xmlns:env="http://schemas.xmlsoap.org/soap/envelope/">
  <env:Header>
    <mm7:TransactionID xmlns:mm7="{ns}" env:mustUnderstand="1">{txid}</mm7:TransactionID>
  </env:Header>
  <env:Body>
    {open}
      <MM7Version>5.6.0</MM7Version>
      <SenderIdentification>
        <VASPID>acme</VASPID>
        <VASID>News</VASID>
        <SenderAddress><ShortCode>{sender}</ShortCode></SenderAddress>
      </SenderIdentification>
      <Recipients><To>{rcpts}</To></Recipients>
      <ServiceCode>gold-sp33-im42</ServiceCode>
      <LinkedID>mms00016666</LinkedID>
      <MessageClass>Informational</MessageClass>
      <ExpiryDate>P2D</ExpiryDate>
      <DeliveryReport>true</DeliveryReport>
      <Priority>Normal</Priority>
      <Subject>News for today</Subject>
      <ChargedParty>Sender</ChargedParty>
      <Content href="cid:story@news.acme.example" allowAdaptations="true"/>
    {close}
  </env:Body>
</env:Envelope>"#
    );
    let boundary = "NextPart_000_0028_01C19839.84698430";
    let body = format!(
        "--{boundary}\r\nContent-Type: text/xml; charset=\"utf-8\"\r\nContent-ID: <acme-submit>\r\n\r\n{soap}\r\n--{boundary}\r\nContent-Type: text/plain; charset=\"us-ascii\"\r\nContent-ID: <story@news.acme.example>\r\n\r\nHello from acme: Saturn pictures\r\n--{boundary}--\r\n"
    );
    (
        format!(
            "multipart/related; boundary=\"{boundary}\"; type=text/xml; start=\"<acme-submit>\""
        ),
        body.into_bytes(),
    )
}

/// What the VASP client saw, read with Python's ElementTree.
#[derive(Debug)]
struct Reply {
    http: u16,
    op: String,
    ns: String,
    code: u16,
    details: String,
    message_id: String,
    raw: String,
}

const READ_REPLY: &str = r#"
def read_reply(status, text):
    import xml.etree.ElementTree as ET
    out = {"http": status, "op": "", "ns": "", "code": 0, "details": "", "message_id": "", "raw": text}
    try:
        root = ET.fromstring(text.encode())
    except Exception as e:
        out["raw"] = "unparsable: %s: %s" % (e, text)
        return out
    for el in root.iter():
        ns, _, local = el.tag[1:].partition("}") if el.tag.startswith("{") else ("", "", el.tag)
        if local.endswith("Rsp"):
            out["op"], out["ns"] = local, ns
        elif local == "StatusCode":
            out["code"] = int(el.text.strip())
        elif local == "Details":
            out["details"] = (el.text or "").strip()
        elif local == "MessageID":
            out["message_id"] = (el.text or "").strip()
    return out
"#;

fn to_reply(v: serde_json::Value) -> Reply {
    Reply {
        http: v["http"].as_u64().unwrap_or(0) as u16,
        op: v["op"].as_str().unwrap_or_default().into(),
        ns: v["ns"].as_str().unwrap_or_default().into(),
        code: v["code"].as_u64().unwrap_or(0) as u16,
        details: v["details"].as_str().unwrap_or_default().into(),
        message_id: v["message_id"].as_str().unwrap_or_default().into(),
        raw: v["raw"].as_str().unwrap_or_default().into(),
    }
}

/// POSTs with Python `requests` (`auth`: none, `basic`, `digest`).
fn requests_post(port: u16, ct: &str, body: &[u8], auth: &str, user: &str, pw: &str) -> Reply {
    let script = format!(
        r#"
import json, sys, requests
from requests.auth import HTTPBasicAuth, HTTPDigestAuth
{READ_REPLY}
url, ct, mode, user, pw = sys.argv[1:6]
body = sys.stdin.buffer.read()
auth = {{"none": None, "basic": HTTPBasicAuth(user, pw), "digest": HTTPDigestAuth(user, pw)}}[mode]
r = requests.post(url, data=body, headers={{"Content-Type": ct, "SOAPAction": '""'}}, auth=auth, timeout=60)
print(json.dumps(read_reply(r.status_code, r.text)))
"#
    );
    let mut child = Command::new("python3")
        .args([
            "-c",
            &script,
            &format!("http://127.0.0.1:{port}/mm7"),
            ct,
            auth,
            user,
            pw,
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(body).unwrap();
    let out = child.wait_with_output().unwrap();
    to_reply(serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "requests client failed ({e}): {}",
            String::from_utf8_lossy(&out.stdout)
        )
    }))
}

/// POSTs with curl and HTTP Digest.
fn curl_digest(dir: &Path, port: u16, ct: &str, body: &[u8], user: &str, pw: &str) -> Reply {
    let file = dir.join("curl-body");
    std::fs::write(&file, body).unwrap();
    let out = Command::new("curl")
        .args(["-s", "--digest", "-u", &format!("{user}:{pw}"), "-H"])
        .arg(format!("Content-Type: {ct}"))
        .args(["-H", "SOAPAction: \"\"", "--data-binary"])
        .arg(format!("@{}", file.display()))
        .args(["-w", "\n%{http_code}"])
        .arg(format!("http://127.0.0.1:{port}/mm7"))
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    let (xml, code) = text.rsplit_once('\n').unwrap_or(("", "0"));
    let script = format!(
        "import json, sys\n{READ_REPLY}\nprint(json.dumps(read_reply(int(sys.argv[1]), sys.stdin.read())))"
    );
    let mut child = Command::new("python3")
        .args(["-c", &script, code.trim()])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(xml.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    to_reply(serde_json::from_slice(&out.stdout).unwrap())
}

/// The acceptance scenario: a submit to a local subscriber, an MM4 partner's
/// subscriber and an unknown address gets 1100 naming the unknown one; the partner
/// receives an MM4_forward.REQ; the local retrieval and the partner's
/// MM4_delivery_report.REQ both come back to the VASP as DeliveryReportReq.
#[test]
fn submit_with_partial_success_forwards_and_reports_back() {
    if !peers_present() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let sink = Sink::start(&dir.path().join("sink"), &[]);
    let vasp = VaspServer::start(&dir.path().join("vasp"));
    let mmsc = Mmsc::start(dir.path(), Some(&config(sink.port, vasp.port, "")));
    let (ct, body) = submit_envelope(
        "REL-5-MM7-1-2",
        "vas00001-sub",
        &["+447700900123", "+15550100", "bob@nowhere.example"],
        "12345",
    );
    let r = requests_post(mmsc.http_port, &ct, &body, "basic", "acme", "s3cret");
    assert_eq!(
        (r.http, r.op.as_str(), r.code),
        (200, "SubmitRsp", 1100),
        "{r:?}\n{}",
        mmsc.log_text()
    );
    assert_eq!(r.ns, format!("{NS_BASE}REL-5-MM7-1-2"), "answered in kind");
    assert!(r.details.contains("bob@nowhere.example"), "{r:?}");
    assert!(!r.details.contains("+15550100") && !r.details.contains("+447700900123"));
    let id = r.message_id.clone();
    assert_eq!(id.len(), 32, "{r:?}");

    // The partner gets an MM4_forward.REQ with the content.
    let raw = sink.wait_for(
        &["MM4_forward.REQ", "+15550100/TYPE=PLMN@mms.oper.com"],
        WAIT,
    );
    let text = String::from_utf8_lossy(&raw);
    assert!(text.contains("Hello from acme: Saturn pictures"), "{text}");
    assert!(text.contains("News for today"), "{text}");
    assert!(
        text.contains("X-Mms-VASP-ID: acme") || text.contains("X-Mms-VASP-ID:acme"),
        "{text}"
    );

    let t = wait_until("all recipients routed", WAIT, || {
        mmsc.trace(&id).filter(|t| {
            t["recipients"][0]["state"] == "routed" && t["recipients"][1]["state"] == "forwarded"
        })
    });
    assert_eq!(t["recipients"][2]["state"], "rejected", "{t:#}");
    assert_eq!(t["message"]["origin"]["vasp"], "acme");

    // The local subscriber retrieves it: the VASP gets a DeliveryReportReq.
    let (code, text) = mmsc.http(
        "POST",
        &format!("/admin/v1/messages/{id}/recipients/0/state"),
        r#"{"state":"retrieved"}"#,
    );
    assert_eq!(code, 202, "{text}");
    let report = vasp.wait_for("DeliveryReportReq", &[&id, "Retrieved"]);
    assert!(
        report.contains("<Number>+447700900123</Number>"),
        "{report}"
    );
    assert!(
        report.contains("REL-6-MM7-1-4"),
        "reports use the VASP's configured schema"
    );
    let (meta, _) = vasp.requests().into_iter().next().unwrap();
    assert!(
        meta["content_type"]
            .as_str()
            .unwrap()
            .starts_with("text/xml")
    );
    // The partner reports its subscriber's retrieval over MM4: relayed to the VASP.
    let dr = format!(
        "X-Mms-3GPP-MMS-Version: 6.10.0\r\nX-Mms-Message-Type: MM4_delivery_report.REQ\r\nX-Mms-Transaction-ID: dr-77@mms.oper.com\r\nX-Mms-Message-ID: <{id}@mms.example.net>\r\nFrom: +15550100/TYPE=PLMN@mms.oper.com\r\nTo: 12345@mms.example.net\r\nDate: Mon, 23 Nov 2026 10:00:00 +0000\r\nX-Mms-MM-Status-Code: Retrieved\r\nX-Mms-Ack-Request: No\r\nMessage-ID: <dr-77@mms.oper.com>\r\nSubject: report\r\n\r\n"
    );
    let (code, text) = smtplib_send(
        mmsc.smtp_port,
        "system-user@mms.oper.com",
        &["12345@mms.example.net"],
        dr.as_bytes(),
    );
    assert_eq!(code, 250, "{text}");
    let report = vasp.wait_for("DeliveryReportReq", &[&id, "<Number>+15550100</Number>"]);
    assert!(report.contains("Retrieved"), "{report}");
    wait_until("the partner recipient to be delivered", WAIT, || {
        mmsc.trace(&id)
            .filter(|t| t["recipients"][1]["state"] == "delivered")
    });
    wait_until("the report to be recorded as sent", WAIT, || {
        mmsc.trace(&id).filter(|t| {
            t["events"]
                .as_array()
                .unwrap()
                .iter()
                .any(|e| e["kind"] == "sent" && e["detail"].as_str().unwrap_or("").contains("1000"))
        })
    });
}

/// The same submit in REL-5-MM7-1-2 (Python requests, Basic) and REL-6-MM7-1-4 (curl,
/// Digest) is answered in each one's namespace.
#[test]
fn answers_each_schema_version_in_kind() {
    if !peers_present() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let vasp = VaspServer::start(&dir.path().join("vasp"));
    let mmsc = Mmsc::start(dir.path(), Some(&config(1, vasp.port, "")));
    for (schema, client) in [
        ("REL-5-MM7-1-2", "requests"),
        ("REL-6-MM7-1-4", "curl"),
        ("REL-6-MM7-1-4", "requests-digest"),
        ("REL-5-MM7-1-0", "curl"),
    ] {
        let (ct, body) =
            submit_envelope(schema, &format!("tx-{schema}"), &["+447700900123"], "12345");
        let r = match client {
            "requests" => requests_post(mmsc.http_port, &ct, &body, "basic", "acme", "s3cret"),
            "requests-digest" => {
                requests_post(mmsc.http_port, &ct, &body, "digest", "acme", "s3cret")
            }
            _ => curl_digest(dir.path(), mmsc.http_port, &ct, &body, "acme", "s3cret"),
        };
        assert_eq!((r.http, r.code), (200, 1000), "{client} {schema}: {r:?}");
        assert_eq!(r.ns, format!("{NS_BASE}{schema}"), "{client}: {r:?}");
        assert!(
            r.raw.contains("tx-"),
            "the TransactionID comes back: {}",
            r.raw
        );
    }
}

/// A message from an MM4 partner to a VASP short code reaches the VASP as DeliverReq.
#[test]
fn short_code_message_from_a_partner_reaches_the_vasp() {
    if !peers_present() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let sink = Sink::start(&dir.path().join("sink"), &[]);
    let vasp = VaspServer::start(&dir.path().join("vasp"));
    let mmsc = Mmsc::start(dir.path(), Some(&config(sink.port, vasp.port, "")));
    let pdu = sample_with_ids("sc-1@mmsc.oper", "sc-msg-1@mmsc.oper");
    let (code, text) = smtplib_send(
        mmsc.smtp_port,
        "+15550100/TYPE=PLMN@mms.oper.com",
        &["12345@mms.example.net"],
        &pdu,
    );
    assert_eq!(code, 250, "{text}");
    let body = vasp.wait_for("DeliverReq", &["<ShortCode>12345</ShortCode>"]);
    assert!(body.contains("<Number>+447779998888</Number>"), "{body}");
    assert!(body.contains("News for today"), "{body}");
    assert!(body.contains("<LinkedID>"), "{body}");
    assert!(body.contains("Content href=\"cid:"), "{body}");
    let t = wait_until("the recipient to be delivered", WAIT, || {
        mmsc.trace("sc-msg-1@mmsc.oper")
            .filter(|t| t["recipients"][0]["state"] == "delivered")
    });
    assert!(
        t["recipients"][0]["reason"]
            .as_str()
            .unwrap()
            .contains("acme")
    );
}

/// Each bad request gets its defined error, the front stays up and what was accepted
/// before is still there.
#[test]
fn refuses_bad_requests_with_defined_errors_and_stays_up() {
    if !peers_present() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let vasp = VaspServer::start(&dir.path().join("vasp"));
    let mmsc = Mmsc::start(dir.path(), Some(&config(1, vasp.port, "")));
    let port = mmsc.http_port;
    let (ct, ok_body) = submit_envelope("REL-6-MM7-1-4", "ok-1", &["+447700900123"], "12345");
    let first = requests_post(port, &ct, &ok_body, "basic", "acme", "s3cret");
    assert_eq!(first.code, 1000, "{first:?}");

    let wrong = requests_post(port, &ct, &ok_body, "basic", "acme", "guess");
    assert_eq!(
        (wrong.http, wrong.code, wrong.op.as_str()),
        (401, 4001, "RSErrorRsp"),
        "{wrong:?}"
    );
    let wrong_digest = requests_post(port, &ct, &ok_body, "digest", "acme", "guess");
    assert_eq!(
        (wrong_digest.http, wrong_digest.code),
        (401, 4001),
        "{wrong_digest:?}"
    );
    let unknown = requests_post(port, &ct, &ok_body, "basic", "mallory", "x");
    assert_eq!((unknown.http, unknown.code), (401, 4001), "{unknown:?}");

    let (ct2, bad_sender) = submit_envelope("REL-6-MM7-1-4", "s-1", &["+447700900123"], "99999");
    let r = requests_post(port, &ct2, &bad_sender, "basic", "acme", "s3cret");
    assert_eq!(
        (r.http, r.code, r.op.as_str()),
        (200, 2001, "SubmitRsp"),
        "{r:?}"
    );

    let mut big = ok_body.clone();
    big.extend(std::iter::repeat_n(b' ', 100 * 1024));
    let r = requests_post(port, &ct, &big, "basic", "acme", "s3cret");
    assert_eq!((r.http, r.code), (413, 2004), "{r:?}");

    let broken = &ok_body[..ok_body.len() - 40];
    let r = requests_post(port, &ct, broken, "basic", "acme", "s3cret");
    assert_eq!(r.code, 2007, "{r:?}");

    let bomb = br#"<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;"><!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>
<env:Envelope xmlns:env="http://schemas.xmlsoap.org/soap/envelope/"><env:Header><TransactionID>&lol3;</TransactionID></env:Header><env:Body/></env:Envelope>"#;
    let r = requests_post(port, "text/xml", bomb, "basic", "acme", "s3cret");
    assert_eq!(
        (r.http, r.code, r.op.as_str()),
        (500, 2007, "RSErrorRsp"),
        "{r:?}"
    );

    let deep = format!(
        "<env:Envelope xmlns:env=\"http://schemas.xmlsoap.org/soap/envelope/\"><env:Body>{}{}</env:Body></env:Envelope>",
        "<a>".repeat(3000),
        "</a>".repeat(3000)
    );
    let r = requests_post(port, "text/xml", deep.as_bytes(), "basic", "acme", "s3cret");
    assert_eq!((r.http, r.code), (500, 2007), "{r:?}");

    let v9 = String::from_utf8(ok_body.clone())
        .unwrap()
        .replace("REL-6-MM7-1-4", "REL-9-MM7-1-0");
    let r = requests_post(port, &ct, v9.as_bytes(), "basic", "acme", "s3cret");
    assert_eq!(r.code, 4002, "{r:?}");

    // Still up, and the first message was kept.
    let again = requests_post(port, &ct, &ok_body, "basic", "acme", "s3cret");
    assert_eq!(again.code, 1000, "{again:?}");
    assert_ne!(again.message_id, first.message_id);
    wait_until("the first message to be routed", WAIT, || {
        mmsc.trace(&first.message_id)
            .filter(|t| t["recipients"][0]["state"] == "routed")
    });
}

/// Cancel works for the owner's unretrieved message only.
#[test]
fn cancels_an_unretrieved_message_of_its_own() {
    if !peers_present() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let vasp = VaspServer::start(&dir.path().join("vasp"));
    let mmsc = Mmsc::start(dir.path(), Some(&config(1, vasp.port, "")));
    let port = mmsc.http_port;
    let (ct, body) = submit_envelope("REL-6-MM7-1-4", "c-0", &["+447700900123"], "12345");
    let r = requests_post(port, &ct, &body, "basic", "acme", "s3cret");
    assert_eq!(r.code, 1000, "{r:?}");
    wait_until("routing", WAIT, || {
        mmsc.trace(&r.message_id)
            .filter(|t| t["recipients"][0]["state"] == "routed")
    });
    let cancel = |mid: &str| {
        format!(
            r#"<SOAP-ENV:Envelope xmlns:SOAP-ENV="http://schemas.xmlsoap.org/soap/envelope/"><SOAP-ENV:Header><TransactionID xmlns="{NS_BASE}REL-6-MM7-1-4">c-1</TransactionID></SOAP-ENV:Header><SOAP-ENV:Body><CancelReq xmlns="{NS_BASE}REL-6-MM7-1-4"><MM7Version>6.8.0</MM7Version><SenderIdentification><VASPID>acme</VASPID></SenderIdentification><MessageID>{mid}</MessageID></CancelReq></SOAP-ENV:Body></SOAP-ENV:Envelope>"#
        )
    };
    let unknown = requests_post(
        port,
        "text/xml",
        cancel("0123456789abcdef0123456789abcdef").as_bytes(),
        "basic",
        "acme",
        "s3cret",
    );
    assert_eq!(
        (unknown.op.as_str(), unknown.code),
        ("CancelRsp", 2005),
        "{unknown:?}"
    );
    let ok = requests_post(
        port,
        "text/xml",
        cancel(&r.message_id).as_bytes(),
        "basic",
        "acme",
        "s3cret",
    );
    assert_eq!((ok.op.as_str(), ok.code), ("CancelRsp", 1000), "{ok:?}");
    let t = wait_until("the cancellation", WAIT, || {
        mmsc.trace(&r.message_id)
            .filter(|t| t["recipients"][0]["state"] == "rejected")
    });
    assert!(
        t["recipients"][0]["reason"]
            .as_str()
            .unwrap()
            .contains("cancelled")
    );
    let late = requests_post(
        port,
        "text/xml",
        cancel(&r.message_id).as_bytes(),
        "basic",
        "acme",
        "s3cret",
    );
    assert_eq!(late.code, 3001, "{late:?}");
}
