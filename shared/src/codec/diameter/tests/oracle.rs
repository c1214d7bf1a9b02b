//! Wireshark as an independent decoder: our CER, CCRs and answers go into a pcap
//! (TCP to port 3868, as TESTING.md describes) and tshark must decode the fields
//! we meant, with no malformed or expert marks.

use super::*;
use std::fmt::Write as _;
use std::process::Command as Process;

const INSTALL: &str =
    "DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends tshark";

fn tools_available() -> bool {
    ["tshark", "text2pcap"].iter().all(|tool| {
        Process::new(tool)
            .arg("--version")
            .output()
            .is_ok_and(|o| o.status.success())
    })
}

/// The `od -Ax -tx1` layout text2pcap reads; offset 0 starts a new packet.
fn hexdump(packets: &[Vec<u8>]) -> String {
    let mut text = String::new();
    for packet in packets {
        for (i, line) in packet.chunks(16).enumerate() {
            write!(text, "{:06x}", i * 16).expect("write to String");
            for b in line {
                write!(text, " {b:02x}").expect("write to String");
            }
            text.push('\n');
        }
    }
    text
}

const FIELDS: [&str; 15] = [
    "diameter.cmd.code",
    "diameter.Host-IP-Address.IPv4",
    "diameter.Event-Timestamp",
    "diameter.3gpp.3gpp_timezone",
    "diameter.SGSN-Address.IPv4",
    "diameter.Currency-Code",
    "diameter.flags.request",
    "diameter.Session-Id",
    "diameter.Subscription-Id-Data",
    "diameter.Service-Context-Id",
    "diameter.Result-Code",
    "diameter.Address-Data",
    "diameter.Value-Digits",
    "_ws.malformed",
    "_ws.expert.message",
];

/// One row of tshark fields per packet.
fn tshark_fields(packets: &[Vec<u8>]) -> Vec<Vec<String>> {
    let dir = tempfile::tempdir().expect("temp dir");
    let dump = dir.path().join("diameter.txt");
    let pcap = dir.path().join("diameter.pcap");
    std::fs::write(&dump, hexdump(packets)).expect("write dump");
    let status = Process::new("text2pcap")
        .args(["-q", "-T", "40000,3868"])
        .arg(&dump)
        .arg(&pcap)
        .status()
        .expect("run text2pcap");
    assert!(status.success(), "text2pcap failed");
    let mut tshark = Process::new("tshark");
    tshark.env("TZ", "UTC");
    tshark
        .arg("-r")
        .arg(&pcap)
        .args(["-Y", "diameter", "-T", "fields", "-E", "separator=|"]);
    for field in FIELDS {
        tshark.args(["-e", field]);
    }
    let output = tshark.output().expect("run tshark");
    assert!(
        output.status.success(),
        "tshark failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let stdout = String::from_utf8(output.stdout).expect("tshark prints UTF-8");
    eprintln!("tshark fields ({}):\n{stdout}", FIELDS.join("|"));
    stdout
        .lines()
        .map(|line| line.split('|').map(str::to_owned).collect())
        .collect()
}

#[test]
fn tshark_decodes_our_messages_without_malformed_or_expert_marks() {
    if !tools_available() {
        if std::env::var("CI").as_deref() == Ok("true") {
            panic!(
                "tshark and text2pcap are required for the Diameter oracle test in CI: {INSTALL}"
            );
        }
        eprintln!("SKIPPED tshark oracle test: tshark/text2pcap not installed ({INSTALL})");
        return;
    }
    // The last packet is a negative control: a CCR whose CC-Request-Number has 3
    // octets must be flagged, or the oracle could not catch anything.
    let mut broken = Message::from_bytes(&mm9_ccr().to_bytes().expect("CCR")).expect("decodes");
    for avp in broken
        .avps
        .iter_mut()
        .filter(|a| a.is(&dict::CC_REQUEST_NUMBER))
    {
        avp.data = vec![0, 0, 0];
    }
    let packets = vec![
        seed_cer().to_bytes().expect("CER"),
        mm9_ccr().to_bytes().expect("CCR MM9"),
        dcca_ccr().to_bytes().expect("CCR DCCA"),
        ocs_cea().to_bytes().expect("CEA"),
        ocs_cca().to_bytes().expect("CCA"),
        broken.to_bytes().expect("broken CCR"),
    ];
    let mut rows = tshark_fields(&packets);
    assert_eq!(
        rows.len(),
        packets.len(),
        "tshark saw every message as Diameter"
    );
    let control = rows.pop().expect("control row");
    let field = |row: &[String], name: &str| -> String {
        let i = FIELDS.iter().position(|f| *f == name).expect("known field");
        row.get(i).cloned().unwrap_or_default()
    };
    let expected = [
        ("257", "", "", "", ""),
        (
            "272",
            "mmsc.example.net;1700000000;1",
            "447700900123",
            "32270@3gpp.org",
            "",
        ),
        (
            "272",
            "mmsc.example.net;1700000000;2",
            "447700900123",
            "32270@3gpp.org",
            "",
        ),
        ("257", "", "", "", "2001"),
        ("272", "mmsc.example.net;1700000000;1", "", "", "2001"),
    ];
    for (row, (code, session, subscriber, context, result)) in rows.iter().zip(expected) {
        assert_eq!(field(row, "diameter.cmd.code"), code);
        assert_eq!(field(row, "diameter.Session-Id"), session);
        assert_eq!(field(row, "diameter.Subscription-Id-Data"), subscriber);
        assert_eq!(field(row, "diameter.Service-Context-Id"), context);
        assert!(
            field(row, "diameter.Result-Code").starts_with(result),
            "{row:?}"
        );
        assert_eq!(field(row, "_ws.malformed"), "", "malformed: {row:?}");
        assert_eq!(field(row, "_ws.expert.message"), "", "expert info: {row:?}");
    }
    assert_eq!(
        field(&rows[1], "diameter.Address-Data"),
        "447700900123,447700900456"
    );
    assert_eq!(
        field(&rows[0], "diameter.Host-IP-Address.IPv4"),
        "192.0.2.10"
    );
    assert_eq!(
        field(&rows[1], "diameter.Event-Timestamp"),
        "Nov 14, 2023 22:13:20.000000000 UTC"
    );
    assert_eq!(
        field(&rows[1], "diameter.3gpp.3gpp_timezone"),
        "4",
        "GMT+1 in quarter hours"
    );
    assert_eq!(
        field(&rows[2], "diameter.SGSN-Address.IPv4"),
        "198.51.100.7"
    );
    assert_eq!(field(&rows[2], "diameter.Value-Digits"), "25");
    assert_eq!(field(&rows[2], "diameter.Currency-Code"), "978");
    assert_eq!(
        field(&rows[3], "diameter.Host-IP-Address.IPv4"),
        "192.0.2.20"
    );
    assert_ne!(
        field(&control, "_ws.expert.message"),
        "",
        "tshark did not flag the broken control packet: {control:?}"
    );
}
