//! What a partner's engineer throws at an interconnect on day one: each gets the
//! right reply, the server stays up, nothing accepted is lost.

mod common;

use common::*;
use std::time::Duration;

const FROM: &str = "+447779998888/TYPE=PLMN@mms.oper.com";
const TO: &str = "+447778889999/TYPE=PLMN@mms.domain.com";
const WAIT: Duration = Duration::from_secs(60);

/// Objects in the embedded store: files, plus small objects kept inline in SQLite.
fn objects_stored(m: &Mmsc) -> usize {
    fn count(p: &std::path::Path) -> usize {
        std::fs::read_dir(p)
            .map(|rd| {
                rd.filter_map(Result::ok)
                    .map(|e| {
                        if e.path().is_dir() {
                            count(&e.path())
                        } else {
                            usize::from(e.path().extension().is_some_and(|x| x == "eml"))
                        }
                    })
                    .sum()
            })
            .unwrap_or(0)
    }
    // Objects up to 64 KiB live in the queue's database (one commit with their job).
    let db = m.data_dir.join("queue.db");
    let out = std::process::Command::new("python3")
        .args(["-c", "import sqlite3,sys; print(sqlite3.connect('file:'+sys.argv[1]+'?mode=ro', uri=True).execute(\"select count(*) from objects where key like '%.eml'\").fetchone()[0])"])
        .arg(&db)
        .output()
        .expect("python3 runs");
    let inline: usize = String::from_utf8_lossy(&out.stdout)
        .trim()
        .parse()
        .unwrap_or_else(|_| panic!("{}", String::from_utf8_lossy(&out.stderr)));
    count(&m.data_dir.join("objects")) + inline
}

fn still_serving(m: &Mmsc) {
    let mut s = RawSmtp::connect(m.smtp_port);
    assert!(s.greeting.starts_with("220"), "{}", s.greeting);
    assert!(s.cmd("EHLO check.test").starts_with("250"));
    assert!(s.cmd("QUIT").starts_with("221"));
    let (status, _) = m.http("GET", "/health", "");
    assert_eq!(status, 200);
}

#[test]
fn refuses_an_unknown_source_and_stores_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = partner_config("mms.domain.com", "oper", "mms.oper.com", 9, "").replace(
        r#"allowed_networks = ["127.0.0.0/8"]"#,
        r#"allowed_networks = ["192.0.2.0/24"]"#,
    );
    let m = Mmsc::start(dir.path(), Some(&cfg));
    let s = RawSmtp::connect(m.smtp_port);
    assert!(s.greeting.starts_with("554"), "{}", s.greeting);
    assert_eq!(objects_stored(&m), 0);
}

#[test]
fn answers_limits_and_garbage_and_stays_up() {
    if !require_python_module("aiosmtpd") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let sink = Sink::start(&dir.path().join("sink"), &[]);
    let cfg = format!(
        "{}\n[smtp]\nmax_message_size = 65536\nmax_header_size = 16384\n",
        partner_config("mms.domain.com", "oper", "mms.oper.com", sink.port, "")
    );
    let m = Mmsc::start(dir.path(), Some(&cfg));

    // Oversize: 552, and the session goes on.
    let mut s = RawSmtp::connect(m.smtp_port);
    s.cmd("EHLO partner.test");
    assert!(
        s.cmd(&format!("MAIL FROM:<{FROM}> SIZE=1000000"))
            .starts_with("552")
    );
    assert!(s.cmd(&format!("MAIL FROM:<{FROM}>")).starts_with("250"));
    assert!(s.cmd(&format!("RCPT TO:<{TO}>")).starts_with("250"));
    assert!(s.cmd("DATA").starts_with("354"));
    let mut big = String::from_utf8(sample_pdu())
        .unwrap()
        .replace('\n', "\r\n");
    for _ in 0..1200 {
        big.push_str(&"A".repeat(76));
        big.push_str("\r\n");
    }
    let reply = s.send_raw(format!("{big}.\r\n").as_bytes());
    assert!(reply.starts_with("552"), "{reply}");
    assert!(s.cmd("RSET").starts_with("250"));

    // 10 000 header lines: 552.
    assert!(s.cmd(&format!("MAIL FROM:<{FROM}>")).starts_with("250"));
    assert!(s.cmd(&format!("RCPT TO:<{TO}>")).starts_with("250"));
    assert!(s.cmd("DATA").starts_with("354"));
    let headers: String = (0..10_000).map(|i| format!("X-Junk-{i}: x\r\n")).collect();
    let reply = s.send_raw(format!("{headers}\r\nbody\r\n.\r\n").as_bytes());
    assert!(reply.starts_with("552"), "{reply}");

    // Garbage after DATA: accepted (stored, queued), refused by ingest, not retried forever.
    assert!(s.cmd(&format!("MAIL FROM:<{FROM}>")).starts_with("250"));
    assert!(s.cmd(&format!("RCPT TO:<{TO}>")).starts_with("250"));
    assert!(s.cmd("DATA").starts_with("354"));
    let reply = s.send_raw(b"\x00\x01garbage \xff\xfe no headers at all\r\n.\r\n");
    assert!(reply.starts_with("250"), "{reply}");
    s.cmd("QUIT");
    wait_until("the ingest queue to drain", WAIT, || {
        let (st, body) = m.http("GET", "/health", "");
        let v: serde_json::Value = serde_json::from_str(&body).ok()?;
        (st == 200 && v["queues"]["ingest"] == 0).then_some(())
    });
    assert!(
        m.log_text().contains("unparsable MM4 PDU"),
        "{}",
        m.log_text()
    );
    still_serving(&m);
    // The one good message of the session was never sent: nothing was stored for the refusals.
    assert_eq!(
        objects_stored(&m),
        1,
        "only the garbage message was accepted and stored"
    );
}

/// A partner that is down: retries with backoff, then the recipient fails and the
/// originator (which asked for a delivery report) gets one.
#[test]
fn partner_down_retries_then_reports_failure() {
    if !require_python_module("aiosmtpd") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let origin = Sink::start(&dir.path().join("origin"), &[]);
    let dead_port = free_port(); // nothing listens there
    let extra = format!(
        r#"
[[partners]]
name = "down"
domain = "mms.down.test"
prefixes = ["+1999*"]
smtp_host = "127.0.0.1:{dead_port}"
allowed_networks = ["192.0.2.1/32"]
max_attempts = 2
starttls = "never"
"#
    );
    let mut cfg = partner_config("mms.domain.com", "oper", "mms.oper.com", origin.port, "");
    cfg = cfg.replace("local_numbers = [\"*\"]", "local_numbers = [\"+4477*\"]");
    cfg.push_str(&extra);
    let m = Mmsc::start(dir.path(), Some(&cfg));
    let pdu = String::from_utf8(sample_with_ids("down-1@mmsc", "down-msg@mmsc.hub"))
        .unwrap()
        .replace(
            "X-Mms-Ack-Request: Yes",
            "X-Mms-Ack-Request: Yes\nX-Mms-Delivery-Report: Yes",
        )
        .replace(
            "+447778889999/TYPE=PLMN@mms.domain.com",
            "+19990000001/TYPE=PLMN@mms.down.test",
        );
    let (code, text) = smtplib_send(
        m.smtp_port,
        FROM,
        &["+19990000001/TYPE=PLMN@mms.down.test"],
        pdu.as_bytes(),
    );
    assert_eq!(code, 250, "{text}");
    origin.wait_for(&["MM4_forward.RES", "down-1@mmsc", "Ok"], WAIT);
    let t = wait_until("the recipient to fail", WAIT, || mmsc_failed(&m));
    let retries = t["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["kind"] == "send-retry")
        .count();
    assert_eq!(
        retries, 1,
        "one retry before giving up at max_attempts = 2: {t:#}"
    );
    let report = origin.wait_for(&["MM4_delivery_report.REQ", "down-msg@mmsc.hub"], WAIT);
    let text = String::from_utf8_lossy(&report);
    assert!(text.contains("Indeterminate"), "{text}");
    still_serving(&m);
}

fn mmsc_failed(m: &Mmsc) -> Option<serde_json::Value> {
    m.trace("down-msg@mmsc.hub")
        .filter(|t| t["recipients"][0]["state"] == "failed")
}
