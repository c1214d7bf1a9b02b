//! MM4 end to end, through the real `mmsc` binary and real SMTP peers.

mod common;

use common::*;
use mmsc_shared::codec::mm4::{Mm4Pdu, RequestStatus};
use std::time::Duration;

const FROM: &str = "+447779998888/TYPE=PLMN@mms.oper.com";
const TO: &str = "+447778889999/TYPE=PLMN@mms.domain.com";
const WAIT: Duration = Duration::from_secs(60);

fn peers_present() -> bool {
    require_python_module("aiosmtpd")
}

#[test]
fn demo_accepts_the_seed_sample_and_traces_it() {
    if !peers_present() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let mmsc = Mmsc::start(dir.path(), None);
    let (code, text) = smtplib_send(mmsc.smtp_port, FROM, &[TO], &sample_pdu());
    assert_eq!(code, 250, "{text}\n{}", mmsc.log_text());
    let trace = wait_until("the sample to be routed", WAIT, || {
        mmsc.trace("148478240@mmsc.hub")
            .filter(|t| t["recipients"][0]["state"] == "routed")
    });
    assert_eq!(
        trace["message"]["peer_transaction_id"],
        "60755231.94578772@mmsc"
    );
    assert_eq!(trace["message"]["origin"]["partner"], "demo");
    assert_eq!(trace["recipients"][0]["address"]["e164"], "+447778889999");
    assert_eq!(trace["message"]["subject"], "News for today");
    // The human form names the message too.
    let out = std::process::Command::new(mmsc_bin())
        .args(["trace", "148478240@mmsc.hub", "--data-dir"])
        .arg(&mmsc.data_dir)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && text.contains("+447778889999") && text.contains("received"),
        "{text}"
    );
}

/// The seed sample, sent verbatim by smtplib and by swaks, is accepted and the
/// partner receives an `MM4_forward.RES` with status Ok on a new connection.
#[test]
fn acknowledges_the_sample_to_a_real_partner_server() {
    if !peers_present() || !require_tool("swaks") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let sink = Sink::start(&dir.path().join("sink"), &[]);
    let cfg = partner_config("mms.domain.com", "oper", "mms.oper.com", sink.port, "");
    let mmsc = Mmsc::start(dir.path(), Some(&cfg));

    let (code, text) = smtplib_send(mmsc.smtp_port, FROM, &[TO], &sample_pdu());
    assert_eq!(code, 250, "{text}");
    let raw = sink.wait_for(&["MM4_forward.RES", "60755231.94578772@mmsc"], WAIT);
    let Mm4Pdu::ForwardRes(res) = Mm4Pdu::parse(&raw).unwrap() else {
        panic!("not a forward.RES")
    };
    assert_eq!(res.transaction_id, "60755231.94578772@mmsc");
    assert_eq!(res.request_status, RequestStatus::OK);
    assert_eq!(res.message_id.as_deref(), Some("148478240@mmsc.hub"));
    // Python's own e-mail parser reads it as a well-formed message too.
    let py = std::process::Command::new("python3")
        .args(["-c", "import email,sys; m=email.message_from_bytes(sys.stdin.buffer.read()); print(m['X-Mms-Message-Type'], m['X-Mms-Request-Status-Code'])"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write;
    py.stdin.as_ref().unwrap().write_all(&raw).unwrap();
    let out = py.wait_with_output().unwrap();
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        "MM4_forward.RES Ok"
    );

    // swaks, with the same PDU under a new transaction id.
    let pdu = dir.path().join("swaks.eml");
    std::fs::write(&pdu, sample_with_ids("swaks-1@mmsc", "swaks-msg@mmsc.hub")).unwrap();
    let st = std::process::Command::new("swaks")
        .env("POSIXLY_CORRECT", "1")
        .args([
            "--server",
            &format!("127.0.0.1:{}", mmsc.smtp_port),
            "--from",
            FROM,
            "--to",
            TO,
            "--data",
        ])
        .arg(format!("@{}", pdu.display()))
        .output()
        .unwrap();
    let out = String::from_utf8_lossy(&st.stdout);
    assert!(
        st.status.success() && out.contains("<-  250"),
        "swaks: {out}"
    );
    sink.wait_for(&["MM4_forward.RES", "swaks-1@mmsc"], WAIT);
    assert!(mmsc.trace("swaks-msg@mmsc.hub").is_some());
}

/// A retransmitted request (same partner, same transaction id) is one message.
#[test]
fn deduplicates_a_retransmitted_request() {
    if !peers_present() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let sink = Sink::start(&dir.path().join("sink"), &[]);
    let cfg = partner_config("mms.domain.com", "oper", "mms.oper.com", sink.port, "");
    let mmsc = Mmsc::start(dir.path(), Some(&cfg));
    for _ in 0..2 {
        assert_eq!(
            smtplib_send(mmsc.smtp_port, FROM, &[TO], &sample_pdu()).0,
            250
        );
    }
    sink.wait_for(&["MM4_forward.RES"], WAIT);
    let t = wait_until("routing", WAIT, || {
        mmsc.trace("148478240@mmsc.hub")
            .filter(|t| t["recipients"][0]["state"] == "routed")
    });
    let received = t["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["kind"] == "received")
        .count();
    assert_eq!(received, 1, "{t:#}");
    std::thread::sleep(Duration::from_secs(2));
    let acks = sink
        .messages()
        .iter()
        .filter(|(_, raw)| String::from_utf8_lossy(raw).contains("MM4_forward.RES"))
        .count();
    assert_eq!(acks, 1);
}

/// Two MMSCs, partners of each other, exchange a message in both directions:
/// forward.REQ -> RES -> local retrieval -> delivery_report.REQ -> RES, with the state
/// visible on both sides. Each message enters its first MMSC from a third operator
/// (smtplib from 127.0.0.2, whose own MMSC is an aiosmtpd sink) and crosses to the other.
#[test]
fn two_instances_exchange_messages_both_ways() {
    if !peers_present() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let third = Sink::start(&dir.path().join("third"), &[]);
    let (a_smtp, b_smtp) = (free_port(), free_port());
    let cfg = |me: &str, other: &str, other_port: u16, mine: &str, theirs: &str| {
        format!(
            r#"
[mmsc]
domain = "mms.{me}.test"
local_numbers = ["{mine}"]
[queues]
retry_initial_secs = 1
retry_max_secs = 2
[[partners]]
name = "{other}"
domain = "mms.{other}.test"
prefixes = ["{theirs}"]
smtp_host = "127.0.0.1:{other_port}"
allowed_networks = ["127.0.0.1/32"]
starttls = "never"
[[partners]]
name = "third"
domain = "mms.third.test"
smtp_host = "127.0.0.1:{third}"
allowed_networks = ["127.0.0.2/32"]
starttls = "never"
"#,
            third = third.port
        )
    };
    for d in ["a", "b"] {
        std::fs::create_dir_all(dir.path().join(d)).unwrap();
    }
    let a = Mmsc::start_on(
        &dir.path().join("a"),
        Some(&cfg("a", "b", b_smtp, "+1555100*", "+1555200*")),
        a_smtp,
        free_port(),
    );
    let b = Mmsc::start_on(
        &dir.path().join("b"),
        Some(&cfg("b", "a", a_smtp, "+1555200*", "+1555100*")),
        b_smtp,
        free_port(),
    );

    for (first, second, to, mid) in [
        (
            &a,
            &b,
            "+15552000002/TYPE=PLMN@mms.b.test",
            "msg-ab@mms.third.test",
        ),
        (
            &b,
            &a,
            "+15551000001/TYPE=PLMN@mms.a.test",
            "msg-ba@mms.third.test",
        ),
    ] {
        let from = "+15553000003/TYPE=PLMN@mms.third.test";
        let pdu = format!(
            "X-Mms-3GPP-MMS-Version: 6.10.0\r\nX-Mms-Message-Type: MM4_forward.REQ\r\nX-Mms-Transaction-ID: tx-{mid}\r\nX-Mms-Message-ID: {mid}\r\nX-Mms-Ack-Request: Yes\r\nX-Mms-Delivery-Report: Yes\r\nX-Mms-Originator-System: system-user@mms.third.test\r\nFrom: {from}\r\nTo: {to}\r\nSubject: hello\r\nContent-Type: text/plain\r\n\r\nhi there\r\n"
        );
        let (code, text) =
            smtplib_send_from("127.0.0.2", first.smtp_port, from, &[to], pdu.as_bytes());
        assert_eq!(code, 250, "{text}\n{}", first.log_text());
        // first -> second: forward.REQ; second acknowledges with forward.RES, which the
        // first MMSC correlates with its transit copy.
        wait_until("the message at the second MMSC", WAIT, || {
            (second.recipient_state(mid, 0)? == "routed").then_some(())
        });
        wait_until("forward.RES at the first MMSC", WAIT, || {
            first.trace(mid).filter(|t| {
                t["events"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .any(|e| e["kind"] == "forward-res")
            })
        });
        wait_until("forwarded at the first MMSC", WAIT, || {
            (first.recipient_state(mid, 0)? == "forwarded").then_some(())
        });
        // The subscriber at the second MMSC retrieves it.
        let (st, body) = second.http(
            "POST",
            &format!("/admin/v1/messages/{mid}/recipients/0/state"),
            r#"{"state":"retrieved"}"#,
        );
        assert_eq!(st, 202, "{body}");
        // second -> first: delivery_report.REQ; first answers .RES and marks delivered.
        wait_until("delivered at the first MMSC", WAIT, || {
            (first.recipient_state(mid, 0)? == "delivered").then_some(())
        });
        wait_until("delivery_report.RES at the second MMSC", WAIT, || {
            second.trace(mid).filter(|t| {
                t["events"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .any(|e| e["kind"] == "delivery-report-res")
            })
        });
        assert_eq!(second.recipient_state(mid, 0).as_deref(), Some("retrieved"));
        // The third operator got its forward.RES and, relayed, the delivery report.
        third.wait_for(&["MM4_forward.RES", &format!("tx-{mid}")], WAIT);
        third.wait_for(&["MM4_delivery_report.REQ", mid, "Retrieved"], WAIT);
    }
}
