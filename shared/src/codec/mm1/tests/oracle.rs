//! Independent decoders as oracles: Wireshark's MMSE dissector (tshark) and
//! python-messaging's decoder. When a tool is missing the test fails under
//! `CI=true` with the command that installs it, and otherwise says loudly that it
//! skipped.

use super::pdus::sample_files;
use super::*;
use std::path::Path;
use std::process::Command;

fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true")
}

/// Fails in CI, otherwise prints that the test is skipped.
fn unavailable(tool: &str, install: &str) {
    if in_ci() {
        panic!("{tool} is required when CI=true; install it with: {install}");
    }
    eprintln!("SKIPPED: {tool} is not installed; install it with: {install}");
}

fn runs(cmd: &str, args: &[&str]) -> bool {
    Command::new(cmd)
        .args(args)
        .output()
        .is_ok_and(|o| o.status.success())
}

/// The PDU in an HTTP POST, as a text2pcap hex dump (one packet).
fn http_post_dump(pdu: &[u8]) -> String {
    let mut req = format!(
        "POST /mms HTTP/1.1\r\nHost: mmsc.example.net\r\nContent-Type: {}\r\nContent-Length: {}\r\n\r\n",
        MMS_MESSAGE_CONTENT_TYPE,
        pdu.len()
    )
    .into_bytes();
    req.extend_from_slice(pdu);
    let mut dump = String::new();
    for (i, chunk) in req.chunks(16).enumerate() {
        let bytes: Vec<String> = chunk.iter().map(|b| format!("{b:02x}")).collect();
        dump.push_str(&format!("{:06x} {}\n", i * 16, bytes.join(" ")));
    }
    dump
}

const TSHARK_FIELDS: &[&str] = &[
    "mmse.message_type",
    "mmse.transaction_id",
    "mmse.mms_version",
    "mmse.from",
    "mmse.to",
    "mmse.response_status",
    "mmse.content_location",
    "mmse.message_id",
    "mmse.status",
    "wsp.header.content_id",
    "_ws.malformed",
    "_ws.expert.severity",
    "_ws.expert.message",
];

/// What tshark made of one PDU: field name to value (`,`-joined occurrences).
fn tshark_decode(dir: &Path, name: &str, pdu: &[u8]) -> std::collections::HashMap<String, String> {
    let txt = dir.join(format!("{name}.txt"));
    let pcap = dir.join(format!("{name}.pcap"));
    std::fs::write(&txt, http_post_dump(pdu)).unwrap();
    let st = Command::new("text2pcap")
        .args(["-q", "-T", "40000,8080"])
        .arg(&txt)
        .arg(&pcap)
        .status()
        .unwrap();
    assert!(st.success(), "text2pcap failed for {name}");
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
    assert!(
        out.status.success(),
        "tshark failed for {name}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(
        lines.len(),
        1,
        "{name}: tshark did not see one MMSE PDU: {stdout:?}"
    );
    let values: Vec<&str> = lines[0].split('|').collect();
    assert_eq!(values.len(), TSHARK_FIELDS.len(), "{name}: {stdout:?}");
    TSHARK_FIELDS
        .iter()
        .zip(values)
        .map(|(f, v)| (f.to_string(), v.to_string()))
        .collect()
}

/// Severities from epan/proto.h: PI_WARN and PI_ERROR.
const PI_WARN: u64 = 0x0060_0000;

fn assert_clean(name: &str, got: &std::collections::HashMap<String, String>) {
    assert_eq!(got["_ws.malformed"], "", "{name}: malformed: {got:?}");
    for sev in got["_ws.expert.severity"]
        .split(',')
        .filter(|s| !s.is_empty())
    {
        let sev: u64 = sev.parse().unwrap();
        assert!(sev < PI_WARN, "{name}: expert warning or error: {got:?}");
    }
}

#[test]
fn tshark_decodes_our_pdus() {
    if !runs("tshark", &["-v"]) || !runs("text2pcap", &["-h"]) {
        unavailable(
            "tshark",
            "DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends tshark",
        );
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let samples = typed_samples();
    let pdu = |n: &str| {
        samples
            .iter()
            .find(|(name, _)| *name == n)
            .map(|(_, p)| enc(p))
            .unwrap()
    };
    let msg_id = "20231123100000-abc123@mmsc.example.net";

    let got = tshark_decode(dir.path(), "send-conf", &pdu("send-conf"));
    assert_clean("send-conf", &got);
    assert_eq!(got["mmse.message_type"], "0x81");
    assert_eq!(got["mmse.transaction_id"], "T18bc4a2e01");
    assert_eq!(got["mmse.mms_version"], "1.2");
    assert_eq!(got["mmse.response_status"], "0x80");
    assert_eq!(got["mmse.message_id"], msg_id);

    let got = tshark_decode(dir.path(), "notification-ind", &pdu("notification-ind"));
    assert_clean("notification-ind", &got);
    assert_eq!(got["mmse.message_type"], "0x82");
    assert_eq!(got["mmse.transaction_id"], "N-7f3a9c");
    assert_eq!(got["mmse.from"], ALICE);
    assert_eq!(
        got["mmse.content_location"],
        "http://mmsc.example.net/mms/7f3a9c"
    );

    let got = tshark_decode(dir.path(), "retrieve-conf", &pdu("retrieve-conf"));
    assert_clean("retrieve-conf", &got);
    assert_eq!(got["mmse.message_type"], "0x84");
    assert_eq!(got["mmse.transaction_id"], "N-7f3a9c");
    assert_eq!(got["mmse.from"], ALICE);
    assert_eq!(got["mmse.to"], BOB);
    assert_eq!(got["mmse.message_id"], msg_id);
    // All three parts of the multipart/related body, with their Content-IDs.
    assert_eq!(
        got["wsp.header.content_id"],
        "\"<smil>\",\"<txt1>\",\"<img1>\""
    );

    let got = tshark_decode(dir.path(), "delivery-ind", &pdu("delivery-ind"));
    assert_clean("delivery-ind", &got);
    assert_eq!(got["mmse.message_type"], "0x86");
    assert_eq!(got["mmse.transaction_id"], "");
    assert_eq!(got["mmse.to"], BOB);
    assert_eq!(got["mmse.message_id"], msg_id);
    assert_eq!(got["mmse.status"], "0x81");

    // The rest of our PDUs and the real samples: recognised, and no
    // malformed-packet or expert warnings.
    for (name, p) in &samples {
        let got = tshark_decode(dir.path(), name, &enc(p));
        assert_clean(name, &got);
        assert_eq!(
            got["mmse.message_type"],
            format!("{:#04x}", p.message_type().0),
            "{name}"
        );
        assert_eq!(
            got["mmse.transaction_id"],
            p.transaction_id().unwrap_or(""),
            "{name}"
        );
    }
    for (name, bytes) in sample_files() {
        let got = tshark_decode(dir.path(), &name, &bytes);
        assert_clean(&name, &got);
    }
}

fn python_has_messaging() -> bool {
    runs("python3", &["-c", "import messaging.mms.message"])
}

/// Runs `events/mm1/pm_decode.py` over the files and returns its JSON.
fn python_decode(files: &[std::path::PathBuf]) -> Vec<serde_json::Value> {
    let out = Command::new("python3")
        .arg(samples_dir().join("pm_decode.py"))
        .args(files)
        .env("TZ", "UTC")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "pm_decode.py failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    match serde_json::from_slice(&out.stdout).unwrap() {
        serde_json::Value::Array(v) => v,
        other => panic!("unexpected output {other}"),
    }
}

#[test]
fn python_messaging_decodes_our_pdus() {
    if !python_has_messaging() {
        unavailable("python-messaging", "pip install python-messaging");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    // python-messaging knows the MMS 1.0 header fields only; the m-retrieve.conf
    // for it leaves out X-Mms-Retrieve-Status (a 1.1 field).
    let mut samples = typed_samples();
    for (_, p) in &mut samples {
        if let Pdu::RetrieveConf(rc) = p {
            rc.retrieve_status = None;
        }
    }
    let names = [
        "send-req",
        "send-conf",
        "notification-ind",
        "notifyresp-ind",
        "retrieve-conf",
        "acknowledge-ind",
        "delivery-ind",
    ];
    let files: Vec<_> = names
        .iter()
        .map(|n| {
            let (_, p) = samples.iter().find(|(name, _)| name == n).unwrap();
            let path = dir.path().join(format!("{n}.bin"));
            std::fs::write(&path, enc(p)).unwrap();
            path
        })
        .collect();
    let decoded = python_decode(&files);
    let by_name = |n: &str| {
        let i = names.iter().position(|x| *x == n).unwrap();
        let v = &decoded[i];
        assert!(v.get("error").is_none(), "{n}: {v}");
        v.clone()
    };
    let h = |v: &serde_json::Value, k: &str| v["headers"][k].clone();
    let s = |x: &str| serde_json::Value::String(x.into());
    let msg_id = s("20231123100000-abc123@mmsc.example.net");

    let v = by_name("send-req");
    assert_eq!(h(&v, "Message-Type"), s("m-send-req"));
    assert_eq!(h(&v, "Transaction-Id"), s("T18bc4a2e01"));
    assert_eq!(h(&v, "MMS-Version"), s("1.2"));
    assert_eq!(h(&v, "From"), s("<not inserted>"));
    assert_eq!(h(&v, "To"), s(BOB));
    assert_eq!(h(&v, "Cc"), s("carol@example.com"));
    assert_eq!(h(&v, "Subject"), s("Photos ☀"));
    assert_eq!(h(&v, "Expiry"), serde_json::json!(604_800));
    assert_eq!(
        h(&v, "Content-Type"),
        serde_json::json!(["application/vnd.wap.multipart.related", {"Type": "application/smil", "Start": "<smil>"}])
    );
    check_parts("send-req", &v);

    let v = by_name("send-conf");
    assert_eq!(h(&v, "Message-Type"), s("m-send-conf"));
    assert_eq!(h(&v, "Response-Status"), s("Ok"));
    assert_eq!(h(&v, "Message-ID"), msg_id);

    let v = by_name("notification-ind");
    assert_eq!(h(&v, "Message-Type"), s("m-notification-ind"));
    assert_eq!(h(&v, "Transaction-Id"), s("N-7f3a9c"));
    assert_eq!(h(&v, "From"), s(ALICE));
    assert_eq!(h(&v, "Subject"), s("Photos ☀"));
    assert_eq!(h(&v, "Message-Class"), s("Personal"));
    assert_eq!(h(&v, "Message-Size"), serde_json::json!(12_345));
    assert_eq!(h(&v, "Expiry"), serde_json::json!(604_800));
    assert_eq!(h(&v, "Delivery-Report"), serde_json::json!(true));
    assert_eq!(
        h(&v, "Content-Location"),
        s("http://mmsc.example.net/mms/7f3a9c")
    );

    let v = by_name("notifyresp-ind");
    assert_eq!(h(&v, "Message-Type"), s("m-notifyresp-ind"));
    assert_eq!(h(&v, "Status"), s("Retrieved"));

    let v = by_name("retrieve-conf");
    assert_eq!(h(&v, "Message-Type"), s("m-retrieve-conf"));
    assert_eq!(h(&v, "Message-ID"), msg_id);
    assert_eq!(h(&v, "Date"), s("2023-11-23T10:00:00+00:00"));
    assert_eq!(h(&v, "From"), s(ALICE));
    assert_eq!(h(&v, "To"), s(BOB));
    assert_eq!(h(&v, "Subject"), s("Photos ☀"));
    assert_eq!(h(&v, "Priority"), s("Normal"));
    check_parts("retrieve-conf", &v);

    let v = by_name("acknowledge-ind");
    assert_eq!(h(&v, "Message-Type"), s("m-acknowledge-ind"));
    assert_eq!(h(&v, "Transaction-Id"), s("N-7f3a9c"));

    let v = by_name("delivery-ind");
    assert_eq!(h(&v, "Message-Type"), s("m-delivery-ind"));
    assert_eq!(h(&v, "Message-ID"), msg_id);
    assert_eq!(h(&v, "To"), s(BOB));
    assert_eq!(h(&v, "Date"), s("2023-11-23T10:01:00+00:00"));
    assert_eq!(h(&v, "Status"), s("Retrieved"));
}

/// The SMIL, text and JPEG parts of [`smil_text_jpeg`] as python-messaging saw
/// them.
fn check_parts(name: &str, v: &serde_json::Value) {
    let parts = v["parts"].as_array().unwrap();
    assert_eq!(parts.len(), 3, "{name}: {v}");
    let (_, Body::Multipart(expected)) = smil_text_jpeg() else {
        panic!("multipart")
    };
    for (got, want) in parts.iter().zip(&expected) {
        assert_eq!(
            got["content_type"],
            want.content_type.media.name(),
            "{name}"
        );
        assert_eq!(
            got["hex"],
            hex(&want.data).replace(' ', "").to_lowercase(),
            "{name}"
        );
    }
    assert_eq!(parts[1]["params"], serde_json::json!({"Charset": "utf-8"}));
    assert_eq!(parts[2]["params"], serde_json::json!({"Name": "photo.jpg"}));
}

#[test]
fn python_messaging_agrees_on_the_real_samples() {
    if !python_has_messaging() {
        unavailable("python-messaging", "pip install python-messaging");
        return;
    }
    let files: Vec<_> = sample_files()
        .into_iter()
        .filter(|(n, _)| n.starts_with("real-"))
        .map(|(n, _)| samples_dir().join(n))
        .collect();
    for (v, path) in python_decode(&files).iter().zip(&files) {
        let name = path.display();
        assert!(v.get("error").is_none(), "{name}: {v}");
        let pdu = Pdu::from_bytes(&std::fs::read(path).unwrap()).unwrap();
        let g = pdu.to_generic();
        assert_eq!(
            v["headers"]["Message-Type"],
            g.message_type.name().unwrap(),
            "{name}"
        );
        if let Some(tid) = g.transaction_id() {
            assert_eq!(v["headers"]["Transaction-Id"], tid, "{name}");
        }
        if let Some(Value::Text(loc)) = g.get(FieldName::CONTENT_LOCATION) {
            assert_eq!(v["headers"]["Content-Location"], loc.as_str(), "{name}");
        }
        let parts = g.content.as_ref().map(|c| c.body.parts()).unwrap_or(&[]);
        let got = v["parts"].as_array().unwrap();
        assert_eq!(got.len(), parts.len(), "{name}");
        for (gp, p) in got.iter().zip(parts) {
            assert_eq!(gp["length"], p.data.len(), "{name}");
        }
    }
}

/// Our WSP Push PDU, as a UDP datagram to the WAP push port 2948: tshark's WSP
/// dissector sees a Push for the MMS user agent and its MMSE dissector the
/// m-notification.ind inside.
#[test]
fn tshark_decodes_our_wsp_push() {
    if !runs("tshark", &["-v"]) || !runs("text2pcap", &["-h"]) {
        unavailable(
            "tshark",
            "DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends tshark",
        );
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let mms = std::fs::read(super::samples_dir().join("real-notification-ind-pm1.bin")).unwrap();
    let push = push::PushPdu::mms(0x2B, mms).to_bytes().unwrap();
    let mut dump = String::new();
    for (i, chunk) in push.chunks(16).enumerate() {
        let bytes: Vec<String> = chunk.iter().map(|b| format!("{b:02x}")).collect();
        dump.push_str(&format!("{:06x} {}\n", i * 16, bytes.join(" ")));
    }
    let txt = dir.path().join("push.txt");
    let pcap = dir.path().join("push.pcap");
    std::fs::write(&txt, dump).unwrap();
    assert!(
        Command::new("text2pcap")
            .args(["-q", "-u", "9200,2948"])
            .arg(&txt)
            .arg(&pcap)
            .status()
            .unwrap()
            .success()
    );
    let out = Command::new("tshark")
        .arg("-r")
        .arg(&pcap)
        .args([
            "-T",
            "fields",
            "-E",
            "separator=|",
            "-e",
            "wsp.pdu_type",
            "-e",
            "wsp.header.x_wap_application_id",
            "-e",
            "mmse.message_type",
            "-e",
            "mmse.transaction_id",
            "-e",
            "_ws.malformed",
        ])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout).trim().to_string();
    let f: Vec<&str> = text.split('|').collect();
    assert_eq!(f.len(), 5, "{text:?}");
    assert_eq!(f[0], "0x06", "{text:?}");
    assert!(f[1].contains("mms.ua"), "{text:?}");
    assert_eq!(f[2], "0x82", "{text:?}");
    assert_eq!(f[3], "NOK5CiKcoTMYSG4MBSwAAsKv14FUHAAAAAAAA");
    assert_eq!(f[4], "", "malformed: {text:?}");
}
