//! Durability: a job acknowledged to a peer survives `kill -9` and is processed after
//! restart, exactly once in effect.

mod common;

use common::*;
use std::collections::HashMap;
use std::time::Duration;

const FROM: &str = "+447779998888/TYPE=PLMN@mms.oper.com";
const TO: &str = "+447778889999/TYPE=PLMN@mms.domain.com";

#[test]
fn survives_sigkill_with_jobs_queued_and_in_flight() {
    if !require_python_module("aiosmtpd") {
        return;
    }
    const N: usize = 40;
    let dir = tempfile::tempdir().unwrap();
    // A slow partner keeps mm4-out jobs (our acks) in flight when the MMSC dies.
    let sink = Sink::start(&dir.path().join("sink"), &["--delay", "0.3"]);
    let cfg = partner_config(
        "mms.domain.com",
        "oper",
        "mms.oper.com",
        sink.port,
        "max_connections = 2",
    )
    .replace(
        "visibility_timeout_secs = 10",
        "visibility_timeout_secs = 3\nworkers = 2",
    );
    let mut mmsc = Mmsc::start(dir.path(), Some(&cfg));

    let pdus: Vec<Vec<u8>> = (0..N)
        .map(|i| {
            sample_with_ids(
                &format!("crash-{i}@mmsc"),
                &format!("crash-msg-{i}@mmsc.hub"),
            )
        })
        .collect();
    let codes = smtplib_send_many(mmsc.smtp_port, FROM, TO, &pdus);
    assert_eq!(
        codes,
        vec![250; N],
        "every message is acknowledged before the crash"
    );
    // Let some work start, then kill without warning.
    wait_until("the first ack to be sent", Duration::from_secs(60), || {
        (!sink.messages().is_empty()).then_some(())
    });
    mmsc.kill9();
    let acked_before = sink.messages().len();
    assert!(
        acked_before < N,
        "the crash should interrupt the work (acked {acked_before} of {N})"
    );

    mmsc.spawn();
    // Every message is processed: recorded once and acknowledged to the partner.
    wait_until(
        "every message to be acknowledged",
        Duration::from_secs(120),
        || {
            let seen: std::collections::HashSet<String> = sink
                .messages()
                .iter()
                .filter_map(|(_, raw)| {
                    let t = String::from_utf8_lossy(raw).to_string();
                    let start = t.find("crash-")?;
                    Some(
                        t[start..]
                            .split(|c: char| c == '"' || c.is_whitespace())
                            .next()?
                            .to_string(),
                    )
                })
                .collect();
            (seen.len() >= N).then_some(())
        },
    );
    let mut ids = HashMap::new();
    for i in 0..N {
        let t = mmsc
            .trace(&format!("crash-msg-{i}@mmsc.hub"))
            .unwrap_or_else(|| panic!("message {i} lost"));
        let received = t["events"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| e["kind"] == "received")
            .count();
        assert_eq!(received, 1, "message {i} recorded {received} times");
        assert_eq!(t["recipients"][0]["state"], "routed");
        let by_txid = mmsc.trace(&format!("crash-{i}@mmsc")).unwrap();
        assert_eq!(
            by_txid["message"]["id"], t["message"]["id"],
            "one message per transaction id"
        );
        ids.insert(t["message"]["id"].as_str().unwrap().to_string(), i);
    }
    assert_eq!(ids.len(), N);
    let acks = sink.messages().len();
    eprintln!(
        "crash test: {N} messages, {acked_before} acks before SIGKILL, {acks} acks in all ({} repeated after restart)",
        acks - N
    );
    assert_eq!(mmsc.terminate(), Some(0), "graceful shutdown exits 0");
}
