use super::*;
use crate::domain::Address;

const SEED: &[u8] = include_bytes!("../../../../events/mm4/sample-forward-req.eml");
const FULL: &[u8] = include_bytes!("../../../../events/mm4/forward-req-full.eml");
const FORWARD_RES: &[u8] = include_bytes!("../../../../events/mm4/sample-forward-res.eml");
const DR_REQ: &[u8] = include_bytes!("../../../../events/mm4/sample-delivery-report-req.eml");
const DR_RES: &[u8] = include_bytes!("../../../../events/mm4/sample-delivery-report-res.eml");
const RR_REQ: &[u8] = include_bytes!("../../../../events/mm4/sample-read-reply-req.eml");
const RR_RES: &[u8] = include_bytes!("../../../../events/mm4/sample-read-reply-res.eml");

/// Every sample with the headers its type cannot do without.
const SAMPLES: &[(&str, &[u8], &[&str])] = &[
    (
        "sample-forward-req",
        SEED,
        &["X-Mms-Message-Type", "X-Mms-Transaction-ID", "From", "To"],
    ),
    (
        "forward-req-full",
        FULL,
        &["X-Mms-Message-Type", "X-Mms-Transaction-ID", "From", "To"],
    ),
    (
        "sample-forward-res",
        FORWARD_RES,
        &[
            "X-Mms-Message-Type",
            "X-Mms-Transaction-ID",
            "X-Mms-Request-Status-Code",
        ],
    ),
    (
        "sample-delivery-report-req",
        DR_REQ,
        &[
            "X-Mms-Message-Type",
            "X-Mms-Transaction-ID",
            "X-Mms-MM-Status-Code",
        ],
    ),
    (
        "sample-delivery-report-res",
        DR_RES,
        &[
            "X-Mms-Message-Type",
            "X-Mms-Transaction-ID",
            "X-Mms-Request-Status-Code",
        ],
    ),
    (
        "sample-read-reply-req",
        RR_REQ,
        &[
            "X-Mms-Message-Type",
            "X-Mms-Transaction-ID",
            "X-Mms-Read-Status",
        ],
    ),
    (
        "sample-read-reply-res",
        RR_RES,
        &[
            "X-Mms-Message-Type",
            "X-Mms-Transaction-ID",
            "X-Mms-Request-Status-Code",
        ],
    ),
];

fn crlf(lf: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(lf.len() + lf.len() / 20);
    for &b in lf {
        if b == b'\n' {
            out.push(b'\r');
        }
        out.push(b);
    }
    out
}

/// The LF and CRLF forms of every sample.
fn all_samples() -> Vec<(String, Vec<u8>, &'static [&'static str])> {
    SAMPLES
        .iter()
        .flat_map(|(name, bytes, mandatory)| {
            [
                (format!("{name} (LF)"), bytes.to_vec(), *mandatory),
                (format!("{name} (CRLF)"), crlf(bytes), *mandatory),
            ]
        })
        .collect()
}

fn parse(raw: &[u8]) -> Mm4Pdu {
    match Mm4Pdu::parse(raw) {
        Ok(pdu) => pdu,
        Err(e) => panic!("{e}: {}", String::from_utf8_lossy(raw)),
    }
}

fn forward(raw: &[u8]) -> ForwardReq {
    match parse(raw) {
        Mm4Pdu::ForwardReq(req) => req,
        other => panic!("not a forward.REQ: {other:?}"),
    }
}

fn phone(e164: &str, domain: &str) -> Address {
    Address::Phone {
        e164: e164.into(),
        domain: Some(domain.into()),
    }
}

/// `parse(to_bytes(p)) == p` and `to_bytes` is stable.
fn assert_round_trip(pdu: &Mm4Pdu) {
    let bytes = pdu.to_bytes();
    let again = Mm4Pdu::parse(&bytes)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&bytes)));
    assert_eq!(&again, pdu, "{}", String::from_utf8_lossy(&bytes));
    assert_eq!(
        again.to_bytes(),
        bytes,
        "build -> parse -> build differs:\n{}",
        String::from_utf8_lossy(&bytes)
    );
}

// ---------------------------------------------------------------- the seed sample

fn assert_seed_values(req: &ForwardReq) {
    assert_eq!(req.mms_version.as_deref(), Some("5.9.0"));
    assert_eq!(req.transaction_id, "60755231.94578772@mmsc");
    assert_eq!(req.message_id.as_deref(), Some("148478240@mmsc.hub"));
    assert!(req.ack_request);
    assert_eq!(
        req.originator_system.as_deref(),
        Some("system-user@mmsc.hub")
    );
    assert_eq!(
        req.rfc822_message_id.as_deref(),
        Some("<60755231.94578772@mmsc>")
    );
    // Tue, 8 May 2007 12:18:32 +0300 = 09:18:32 UTC
    assert_eq!(req.date, Some(1_178_615_912));
    assert_eq!(req.from.raw, "+447779998888/TYPE=PLMN@mms.oper.com");
    assert_eq!(
        req.from.address,
        Some(phone("+447779998888", "mms.oper.com"))
    );
    assert_eq!(req.to.len(), 1);
    assert_eq!(
        req.to[0].address,
        Some(phone("+447778889999", "mms.domain.com"))
    );
    assert!(req.cc.is_empty() && req.bcc.is_empty());
    assert_eq!(req.subject.as_deref(), Some("News for today"));
    assert_eq!(
        req.content_type.as_deref(),
        Some("multipart/mixed; boundary=\"StoryParts-74526-8432-2002-77645\"")
    );
    assert_eq!(
        req.extra_headers,
        vec![(
            "Content-ID".to_string(),
            "<SaturnPics-01020930@news.tnn.com>".to_string()
        )]
    );
    assert_eq!(
        req.boundary().as_deref(),
        Some("StoryParts-74526-8432-2002-77645")
    );
    assert_eq!(req.part_count(), 2);
    assert_eq!(req.reply_address(), Some("system-user@mmsc.hub"));
}

#[test]
fn seed_sample_with_lf_parses_to_expected_values() {
    let req = forward(SEED);
    assert_seed_values(&req);
    // The seed has no empty line after the headers: the content starts at the first
    // delimiter and is kept byte for byte.
    let start = SEED
        .windows(4)
        .position(|w| w == b"\n--S")
        .map(|i| i + 1)
        .unwrap_or_default();
    assert_eq!(req.body, &SEED[start..]);
    assert!(
        req.body
            .starts_with(b"--StoryParts-74526-8432-2002-77645\nContent-Type")
    );
    assert!(
        req.body
            .ends_with(b"--StoryParts-74526-8432-2002-77645--\n")
    );
}

#[test]
fn seed_sample_with_crlf_parses_to_the_same_values() {
    let raw = crlf(SEED);
    let req = forward(&raw);
    assert_seed_values(&req);
    let start = raw
        .windows(5)
        .position(|w| w == b"\r\n--S")
        .map(|i| i + 2)
        .unwrap_or_default();
    assert_eq!(req.body, &raw[start..]);
    assert!(
        req.body
            .ends_with(b"--StoryParts-74526-8432-2002-77645--\r\n")
    );
    // Same values as the LF form apart from the content's line endings.
    let mut lf = forward(SEED);
    lf.body = req.body.clone();
    assert_eq!(lf, req);
}

#[test]
fn seed_sample_is_written_back_with_crlf_and_the_same_content() {
    let req = forward(SEED);
    let bytes = req.to_bytes();
    let head_end = bytes
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .map(|i| i + 4)
        .unwrap_or_default();
    let head = &bytes[..head_end];
    assert!(
        head.split(|&b| b == b'\n')
            .filter(|l| !l.is_empty())
            .all(|l| l.ends_with(b"\r"))
    );
    let text = String::from_utf8_lossy(head);
    for line in [
        "X-Mms-3GPP-MMS-Version: 5.9.0\r\n",
        "X-Mms-Message-Type: MM4_forward.REQ\r\n",
        "X-Mms-Transaction-ID: \"60755231.94578772@mmsc\"\r\n",
        "X-Mms-Message-ID: \"148478240@mmsc.hub\"\r\n",
        "X-Mms-Ack-Request: Yes\r\n",
        "X-Mms-Originator-System: system-user@mmsc.hub\r\n",
        "Message-ID: <60755231.94578772@mmsc>\r\n",
        "Date: Tue, 8 May 2007 09:18:32 +0000\r\n",
        "To: +447778889999/TYPE=PLMN@mms.domain.com\r\n",
        "From: +447779998888/TYPE=PLMN@mms.oper.com\r\n",
        "Subject: News for today\r\n",
        "Content-ID: <SaturnPics-01020930@news.tnn.com>\r\n",
        "MIME-Version: 1.0\r\n",
        "Content-Type: multipart/mixed; boundary=\"StoryParts-74526-8432-2002-77645\"\r\n",
    ] {
        assert!(text.contains(line), "missing {line:?} in\n{text}");
    }
    assert_eq!(&bytes[head_end..], req.body.as_slice());
    assert_round_trip(&Mm4Pdu::ForwardReq(req));
}

// ---------------------------------------------------------------- the other samples

#[test]
fn full_forward_sample_parses_every_header() {
    let req = forward(FULL);
    assert_eq!(req.mms_version.as_deref(), Some("6.16.0"));
    assert_eq!(req.transaction_id, "T0f3a9c21-0001@mmsc.oper.com");
    assert_eq!(
        req.from.address,
        Some(phone("+447779998888", "mms.oper.com"))
    );
    assert_eq!(
        req.from.raw,
        "\"Alice\" <+447779998888/TYPE=PLMN@mms.oper.com>"
    );
    // A folded To with two recipients.
    let to: Vec<_> = req.to.iter().filter_map(|a| a.address.clone()).collect();
    assert_eq!(
        to,
        vec![
            phone("+447778889999", "mms.domain.com"),
            phone("+447778880000", "mms.domain.com")
        ]
    );
    assert_eq!(
        req.cc[0].address,
        Some(Address::Email {
            address: "bob@example.com".into()
        })
    );
    assert_eq!(req.recipients().count(), 3);
    assert_eq!(req.subject.as_deref(), Some("Grüße aus München ☀"));
    assert_eq!(req.date, Some(1_768_383_000));
    assert_eq!(req.message_class, Some(MessageClass::PERSONAL));
    assert_eq!(req.expiry, Some(Expiry::Relative(604_800)));
    assert_eq!(req.delivery_report, Some(true));
    assert_eq!(req.originator_rs_delivery_report, Some(false));
    assert_eq!(req.read_reply, Some(false));
    assert_eq!(req.priority, Some(Priority::NORMAL));
    assert_eq!(req.sender_visibility, Some(SenderVisibility::SHOW));
    assert_eq!(req.forward_counter, Some(1));
    assert_eq!(
        req.previously_sent_by,
        vec!["+447770001111/TYPE=PLMN@mms.oper.com".to_string()]
    );
    assert_eq!(req.previously_sent_date, vec![1_768_381_965]);
    assert_eq!(req.applic_id.as_deref(), Some("com.example.postcards"));
    assert_eq!(req.content_class.as_deref(), Some("image-basic"));
    assert_eq!(req.drm_content, Some(false));
    assert_eq!(req.adaptation_allowed, Some(true));
    assert_eq!(
        req.content_type.as_deref(),
        Some(
            "multipart/related; type=\"application/smil\";\tstart=\"<smil>\"; \
             boundary=\"----=_Part_7_1842397.1768383000\""
        )
    );
    let names: Vec<_> = req.extra_headers.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, ["Received", "X-Operator-Trace"]);
    assert_eq!(req.part_count(), 3);
    // The content is a MIME entity mail-parser reads.
    let entity = req.content_entity();
    let message = mail_parser::MessageParser::default()
        .parse(&entity)
        .unwrap_or_default();
    assert_eq!(message.attachment_count() + message.text_body.len(), 3);
    assert_round_trip(&Mm4Pdu::ForwardReq(req));
}

#[test]
fn response_and_report_samples_parse_to_expected_values() {
    match parse(FORWARD_RES) {
        Mm4Pdu::ForwardRes(res) => {
            assert_eq!(res.transaction_id, "60755231.94578772@mmsc");
            assert_eq!(res.message_id.as_deref(), Some("148478240@mmsc.hub"));
            assert!(res.request_status.is_ok());
            assert_eq!(
                res.status_text.as_deref(),
                Some("Message accepted for delivery")
            );
            assert_eq!(res.to[0].raw, "system-user@mmsc.hub");
            assert_eq!(
                res.from.as_ref().map(|a| a.raw.as_str()),
                Some("system-user@mms.domain.com")
            );
            assert!(res.body.is_empty());
        }
        other => panic!("{other:?}"),
    }
    match parse(DR_REQ) {
        Mm4Pdu::DeliveryReportReq(req) => {
            assert_eq!(req.transaction_id, "dr-20070508-000117@mms.domain.com");
            assert_eq!(req.message_id.as_deref(), Some("148478240@mmsc.hub"));
            assert_eq!(req.mm_status, MmStatus::RETRIEVED);
            assert!(req.ack_request);
            assert_eq!(req.forward_to_originator_ua, Some(true));
            assert_eq!(
                req.from.as_ref().and_then(|a| a.address.clone()),
                Some(phone("+447778889999", "mms.domain.com"))
            );
            assert_eq!(
                req.to[0].address,
                Some(phone("+447779998888", "mms.oper.com"))
            );
            assert_eq!(req.reply_address(), Some("system-user@mms.domain.com"));
            // The folded Received trace header is kept, unfolded.
            assert_eq!(req.extra_headers.len(), 1);
            assert_eq!(req.extra_headers[0].0, "Received");
            assert!(
                req.extra_headers[0]
                    .1
                    .contains("[192.0.2.25])\tby mm4.mmsc.hub")
            );
        }
        other => panic!("{other:?}"),
    }
    match parse(DR_RES) {
        Mm4Pdu::DeliveryReportRes(res) => {
            assert_eq!(res.transaction_id, "dr-20070508-000117@mms.domain.com");
            assert_eq!(res.request_status, RequestStatus::OK);
            assert_eq!(res.status_text, None);
        }
        other => panic!("{other:?}"),
    }
    match parse(RR_REQ) {
        Mm4Pdu::ReadReplyReq(req) => {
            assert_eq!(req.read_status, ReadStatus::READ);
            assert_eq!(
                req.status_text.as_deref(),
                Some("Lu par le destinataire à 11h47")
            );
            assert_eq!(req.date, Some(1_178_621_250));
        }
        other => panic!("{other:?}"),
    }
    match parse(RR_RES) {
        Mm4Pdu::ReadReplyRes(res) => {
            assert_eq!(res.request_status, RequestStatus::ERROR_MESSAGE_NOT_FOUND);
            assert!(!res.request_status.is_ok());
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn every_sample_round_trips_in_lf_and_crlf() {
    for (name, raw, _) in all_samples() {
        let pdu = Mm4Pdu::parse(&raw).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(message_type(&raw), Ok(pdu.message_type()), "{name}");
        assert_eq!(
            transaction_id(&raw).as_deref(),
            Some(pdu.transaction_id()),
            "{name}"
        );
        assert_round_trip(&pdu);
    }
}

// ---------------------------------------------------------------- truncation

/// Where the line of the last mandatory header ends (after its line ending).
fn mandatory_end(raw: &[u8], mandatory: &[&str]) -> usize {
    let mut end = 0;
    let mut pos = 0;
    while pos < raw.len() {
        let next = raw[pos..]
            .iter()
            .position(|&b| b == b'\n')
            .map_or(raw.len(), |i| pos + i + 1);
        let line = String::from_utf8_lossy(&raw[pos..next]);
        let name = line.split_once(':').map(|(name, _)| name.trim());
        if name.is_some_and(|n| mandatory.iter().any(|m| m.eq_ignore_ascii_case(n))) {
            end = next;
        }
        if line.trim().is_empty() {
            break;
        }
        pos = next;
    }
    end
}

#[test]
fn every_truncated_prefix_fails_cleanly_or_parses() {
    for (name, raw, mandatory) in all_samples() {
        let end = mandatory_end(&raw, mandatory);
        assert!(end > 0, "{name}");
        for len in 0..raw.len() {
            let prefix = &raw[..len];
            let result = Mm4Pdu::parse(prefix);
            let _ = message_type(prefix);
            let _ = transaction_id(prefix);
            if len < end {
                assert!(
                    result.is_err(),
                    "{name}: prefix of {len} bytes (mandatory headers end at {end}) parsed"
                );
            }
            if let Ok(pdu) = result {
                assert_round_trip(&pdu);
            }
        }
    }
}

#[test]
fn prefix_cut_inside_a_header_line_is_truncated() {
    for raw in [SEED.to_vec(), crlf(SEED)] {
        let cut = raw
            .windows(5)
            .position(|w| w == b"From:")
            .unwrap_or_default()
            + 10;
        assert_eq!(Mm4Pdu::parse(&raw[..cut]), Err(Mm4Error::Truncated));
        // Cut inside the first content line, which follows the headers directly.
        let cut = raw.windows(3).position(|w| w == b"--S").unwrap_or_default() + 3;
        assert_eq!(Mm4Pdu::parse(&raw[..cut]), Err(Mm4Error::Truncated));
    }
    // Cut between the CR and the LF of the line ending.
    let raw = crlf(b"X-Mms-Message-Type: MM4_forward.RES\nX-Mms-Transaction-ID: t\n");
    assert_eq!(
        Mm4Pdu::parse(&raw[..raw.len() - 1]),
        Err(Mm4Error::Truncated)
    );
}

// ---------------------------------------------------------------- tolerance

#[test]
fn header_names_are_case_insensitive_and_values_may_be_quoted_or_folded() {
    let raw = b"x-mms-message-type: mm4_FORWARD.req\r\n\
X-MMS-TRANSACTION-ID :\r\n \"abc-1@mmsc\"\r\n\
x-mms-message-id: \"m-1\"\r\n\
X-MMS-ACK-REQUEST: \"yes\"\r\n\
x-mms-3gpp-mms-version: 6.2.0\r\n\
FROM:\t+447700900001/type=plmn@Mms.Example.NET\r\n\
to: +447700900002/TYPE=PLMN@mms.example.net,\r\n\t+447700900003/TYPE=PLMN@mms.example.net\r\n\
subject: a folded\r\n  subject\r\n\
X-Mms-Priority: HIGH\r\n\
x-mms-mm-status-code: Retrieved\r\n\
\r\n\
hello";
    let req = forward(raw);
    assert_eq!(req.transaction_id, "abc-1@mmsc");
    assert_eq!(req.message_id.as_deref(), Some("m-1"));
    assert!(req.ack_request);
    assert_eq!(req.mms_version.as_deref(), Some("6.2.0"));
    assert_eq!(
        req.from.address,
        Some(phone("+447700900001", "mms.example.net"))
    );
    assert_eq!(req.to.len(), 2);
    assert_eq!(req.subject.as_deref(), Some("a folded subject"));
    assert_eq!(req.priority, Some(Priority::HIGH));
    assert_eq!(req.priority.as_ref().map(Priority::as_str), Some("High"));
    // Not a forward.REQ header: kept as it came.
    assert_eq!(
        req.extra_headers,
        vec![("x-mms-mm-status-code".to_string(), "Retrieved".to_string())]
    );
    assert_eq!(req.body, b"hello");
    assert_round_trip(&Mm4Pdu::ForwardReq(req));
}

#[test]
fn content_may_follow_the_headers_without_an_empty_line_or_be_absent() {
    let raw = b"X-Mms-Message-Type: MM4_forward.RES\nX-Mms-Transaction-ID: t-1\n\
X-Mms-Request-Status-Code: ok\n";
    match parse(raw) {
        Mm4Pdu::ForwardRes(res) => {
            assert_eq!(res.request_status, RequestStatus::OK);
            assert!(res.body.is_empty());
        }
        other => panic!("{other:?}"),
    }
    let raw = b"X-Mms-Message-Type: MM4_forward.RES\nX-Mms-Transaction-ID: t-1\n\
X-Mms-Request-Status-Code: Ok\nthis line is content\n";
    match parse(raw) {
        Mm4Pdu::ForwardRes(res) => assert_eq!(res.body, b"this line is content\n"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn rfc2047_subjects_in_iso_8859_1_and_utf_8_are_decoded() {
    let base = "X-Mms-Message-Type: MM4_forward.REQ\r\nX-Mms-Transaction-ID: t\r\n\
From: +447700900001/TYPE=PLMN@a.example\r\nTo: +447700900002/TYPE=PLMN@b.example\r\n";
    for (subject, expected) in [
        ("=?ISO-8859-1?Q?Caf=E9_cr=E8me?=", "Café crème"),
        ("=?iso-8859-1?B?Q2Fm6SBjcuhtZQ==?=", "Café crème"),
        ("=?UTF-8?B?0J/RgNC40LLQtdGCIPCfkYs=?=", "Привет 👋"),
        (
            "=?utf-8?q?Gr=C3=BC=C3=9Fe?= =?utf-8?q?_aus_Wien?=",
            "Grüße aus Wien",
        ),
        ("plain =?utf-8?q?=E2=9C=93?= done", "plain ✓ done"),
    ] {
        let raw = format!("{base}Subject: {subject}\r\n\r\n");
        let req = forward(raw.as_bytes());
        assert_eq!(req.subject.as_deref(), Some(expected), "{subject}");
        assert_round_trip(&Mm4Pdu::ForwardReq(req));
    }
}

fn sample_forward_req() -> ForwardReq {
    let mut req = ForwardReq::new(
        "tx-1@mmsc.example.net",
        Mm4Address::from(&phone("+447700900001", "mms.example.net")),
        vec![Mm4Address::parse("+447700900002/TYPE=PLMN@mms.other.net")],
    );
    req.date = Some(1_700_000_000);
    req.content_type = Some("text/plain; charset=utf-8".into());
    req.body = b"hi".to_vec();
    req
}

#[test]
fn non_ascii_and_awkward_subjects_round_trip_exactly() {
    let long_ascii = "word ".repeat(60).trim_end().to_string();
    let long_utf8 = "Ünïcödé ".repeat(40);
    for subject in [
        "News for today",
        "Café crème",
        "日本語の件名",
        "emoji 🎉 party",
        "a literal =?utf-8?q?x?= encoded word",
        "  leading and trailing blanks  ",
        "two  spaces\tand a tab",
        "line\r\nbreak",
        "nul \0 byte",
        long_ascii.as_str(),
        long_utf8.as_str(),
        "=?",
        "\"quoted\"",
    ] {
        let mut req = sample_forward_req();
        req.subject = Some(subject.to_string());
        let bytes = req.to_bytes();
        for line in bytes.split(|&b| b == b'\n') {
            assert!(line.len() <= 998, "line too long for {subject:?}");
            assert!(line.is_ascii() || !subject.is_ascii() || subject.contains('\0'));
        }
        let head = bytes.split(|&b| b == b'\n').take(30);
        for line in head {
            if line.starts_with(b"Subject:") {
                assert!(line.is_ascii(), "subject not encoded: {subject:?}");
            }
        }
        match Mm4Pdu::parse(&bytes) {
            Ok(Mm4Pdu::ForwardReq(back)) => assert_eq!(back.subject.as_deref(), Some(subject)),
            other => panic!("{subject:?}: {other:?}"),
        }
        assert_round_trip(&Mm4Pdu::ForwardReq(req));
    }
}

#[test]
fn unknown_headers_survive_in_order() {
    let raw = b"X-Mms-Message-Type: MM4_delivery_report.RES\r\n\
X-Vendor-A: first\r\n\
X-Mms-Transaction-ID: t-9\r\n\
X-Mms-Request-Status-Code: Error-Network-Problem\r\n\
X-Vendor-B: second,\r\n continued\r\n\
X-Mms-Transaction-ID: t-duplicate\r\n\
X-Mms-Reply-Charging: Requested\r\n\
X-Vendor-A: third\r\n\
\r\n";
    let Mm4Pdu::DeliveryReportRes(res) = parse(raw) else {
        panic!("wrong type");
    };
    assert_eq!(res.transaction_id, "t-9");
    assert_eq!(res.request_status, RequestStatus::ERROR_NETWORK_PROBLEM);
    assert!(res.request_status.is_transient());
    let expected: Vec<(String, String)> = [
        ("X-Vendor-A", "first"),
        ("X-Vendor-B", "second, continued"),
        ("X-Mms-Transaction-ID", "t-duplicate"),
        ("X-Mms-Reply-Charging", "Requested"),
        ("X-Vendor-A", "third"),
    ]
    .iter()
    .map(|(n, v)| (n.to_string(), v.to_string()))
    .collect();
    assert_eq!(res.extra_headers, expected);
    let bytes = res.to_bytes();
    let text = String::from_utf8_lossy(&bytes);
    let a = text.find("X-Vendor-A: first").unwrap_or(usize::MAX);
    let b = text.find("X-Vendor-B: second,").unwrap_or(usize::MAX);
    let c = text.find("X-Vendor-A: third").unwrap_or(usize::MAX);
    assert!(a < b && b < c && c != usize::MAX, "{text}");
    assert_round_trip(&Mm4Pdu::DeliveryReportRes(res));
}

#[test]
fn unreadable_informational_values_are_kept_as_extra_headers() {
    let raw = b"X-Mms-Message-Type: MM4_read_reply_report.REQ\r\n\
X-Mms-Transaction-ID: t\r\n\
X-Mms-Read-Status: Deletedwithoutbeingread\r\n\
Date: sometime last week\r\n\
Date: Tue, 8 May 2007 12:18:32 +0300\r\n\
Subject: not a read-reply header\r\n\
X-Mms-Status-Text: =?utf-8?B?w6k?=\r\n\
\r\n";
    let Mm4Pdu::ReadReplyReq(req) = parse(raw) else {
        panic!("wrong type");
    };
    assert_eq!(req.read_status, ReadStatus::DELETED_WITHOUT_BEING_READ);
    assert_eq!(req.date, Some(1_178_615_912));
    assert_eq!(req.status_text, None);
    let names: Vec<_> = req.extra_headers.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, ["Date", "Subject", "X-Mms-Status-Text"]);
    assert_round_trip(&Mm4Pdu::ReadReplyReq(req));
}

#[test]
fn expiry_keeps_its_form() {
    let base = "X-Mms-Message-Type: MM4_forward.REQ\r\nX-Mms-Transaction-ID: t\r\n\
From: a@example.com\r\nTo: b@example.com\r\n";
    for (value, expected) in [
        ("86400", Expiry::Relative(86_400)),
        (
            "Wed, 14 Jan 2026 10:30:00 +0100",
            Expiry::Absolute(1_768_383_000),
        ),
        ("2026-01-14T09:30:00Z", Expiry::Absolute(1_768_383_000)),
        (
            "2026-01-14t10:30:00.250+01:00",
            Expiry::Absolute(1_768_383_000),
        ),
    ] {
        let raw = format!("{base}X-Mms-Expiry: {value}\r\n\r\n");
        let req = forward(raw.as_bytes());
        assert_eq!(req.expiry, Some(expected), "{value}");
        assert_round_trip(&Mm4Pdu::ForwardReq(req));
    }
    assert_eq!(Expiry::Relative(60).at(1000), 1060);
    assert_eq!(Expiry::Absolute(5).at(1000), 5);
}

// ---------------------------------------------------------------- errors

#[test]
fn rejects_input_that_is_not_a_message() {
    for raw in [
        &b""[..],
        b"\r\nX-Mms-Message-Type: MM4_forward.REQ\r\n",
        b"hello world\r\n",
        b" X-Mms-Message-Type: MM4_forward.REQ\r\n",
        b"\x00\x01\x02\xff",
        b"From foo@example.com Tue May  8 12:18:32 2007\n",
    ] {
        assert!(
            matches!(Mm4Pdu::parse(raw), Err(Mm4Error::NotAMessage(_))),
            "{raw:?}"
        );
        assert!(matches!(message_type(raw), Err(Mm4Error::NotAMessage(_))));
        assert_eq!(transaction_id(raw), None);
    }
}

#[test]
fn rejects_truncated_header_block() {
    assert_eq!(
        Mm4Pdu::parse(b"X-Mms-Message-Type: MM4_forward.RES\r\nX-Mms-Trans"),
        Err(Mm4Error::Truncated)
    );
    // A folded value whose continuation line is cut.
    assert_eq!(
        Mm4Pdu::parse(b"X-Mms-Message-Type: MM4_forward.RES\r\nTo: a,\r\n b"),
        Err(Mm4Error::Truncated)
    );
    assert_eq!(
        message_type(b"X-Mms-Transaction-ID: t\r\nX-Mms-Message-Type: MM4_for"),
        Err(Mm4Error::Truncated)
    );
}

#[test]
fn rejects_missing_mandatory_headers() {
    let cases: &[(&[u8], &str)] = &[
        (b"X-Mms-Transaction-ID: t\r\n\r\n", "X-Mms-Message-Type"),
        (
            b"X-Mms-Message-Type:\r\nX-Mms-Transaction-ID: t\r\n\r\n",
            "X-Mms-Message-Type",
        ),
        (
            b"X-Mms-Message-Type: MM4_forward.RES\r\nX-Mms-Request-Status-Code: Ok\r\n\r\n",
            "X-Mms-Transaction-ID",
        ),
        (
            b"X-Mms-Message-Type: MM4_forward.RES\r\nX-Mms-Transaction-ID: \"\"\r\n\
X-Mms-Request-Status-Code: Ok\r\n\r\n",
            "X-Mms-Transaction-ID",
        ),
        (
            b"X-Mms-Message-Type: MM4_forward.REQ\r\nX-Mms-Transaction-ID: t\r\n\
To: +447700900002/TYPE=PLMN@b.example\r\n\r\n",
            "From",
        ),
        (
            b"X-Mms-Message-Type: MM4_forward.REQ\r\nX-Mms-Transaction-ID: t\r\n\
From: +447700900002/TYPE=PLMN@b.example\r\nTo: , \r\n\r\n",
            "To",
        ),
        (
            b"X-Mms-Message-Type: MM4_delivery_report.RES\r\nX-Mms-Transaction-ID: t\r\n\r\n",
            "X-Mms-Request-Status-Code",
        ),
        (
            b"X-Mms-Message-Type: MM4_delivery_report.REQ\r\nX-Mms-Transaction-ID: t\r\n\r\n",
            "X-Mms-MM-Status-Code",
        ),
        (
            b"X-Mms-Message-Type: MM4_read_reply_report.REQ\r\nX-Mms-Transaction-ID: t\r\n\r\n",
            "X-Mms-Read-Status",
        ),
    ];
    for (raw, header) in cases {
        assert_eq!(
            Mm4Pdu::parse(raw),
            Err(Mm4Error::MissingHeader(header)),
            "{}",
            String::from_utf8_lossy(raw)
        );
    }
    assert_eq!(
        message_type(b"X-Mms-Transaction-ID: t\r\n\r\nbody"),
        Err(Mm4Error::MissingHeader("X-Mms-Message-Type"))
    );
}

#[test]
fn rejects_unknown_message_type() {
    for (value, shown) in [
        (
            "MM4_capability_negotiation.REQ",
            "MM4_capability_negotiation.REQ",
        ),
        ("m-send-req", "m-send-req"),
        ("\"MM7_submit.REQ\"", "\"MM7_submit.REQ\""),
    ] {
        let raw = format!("X-Mms-Message-Type: {value}\r\nX-Mms-Transaction-ID: t\r\n\r\n");
        let expected = Mm4Error::UnknownMessageType(shown.to_string());
        assert_eq!(Mm4Pdu::parse(raw.as_bytes()), Err(expected.clone()));
        assert_eq!(message_type(raw.as_bytes()), Err(expected));
    }
    let long = "x".repeat(500);
    let raw = format!("X-Mms-Message-Type: {long}\r\n\r\n");
    let Err(Mm4Error::UnknownMessageType(shown)) = Mm4Pdu::parse(raw.as_bytes()) else {
        panic!("accepted");
    };
    assert!(shown.len() < 120);
}

#[test]
fn rejects_control_headers_with_bad_values() {
    let base = "X-Mms-Message-Type: MM4_forward.REQ\r\nX-Mms-Transaction-ID: t\r\n\
From: a@example.com\r\nTo: b@example.com\r\n";
    for (header, value) in [
        ("X-Mms-Ack-Request", "maybe"),
        ("X-Mms-Delivery-Report", "sometimes"),
        ("X-Mms-Forward-Counter", "two"),
        ("X-Mms-Forward-Counter", "99999999999"),
        ("X-Mms-Expiry", "next tuesday"),
        ("X-Mms-Expiry", "999999999999999999999999"),
    ] {
        let raw = format!("{base}{header}: {value}\r\n\r\n");
        match Mm4Pdu::parse(raw.as_bytes()) {
            Err(Mm4Error::BadHeader { name, value: shown }) => {
                assert_eq!(name, header);
                assert_eq!(shown, value);
            }
            other => panic!("{header}: {value}: {other:?}"),
        }
    }
}

#[test]
fn parse_errors_map_to_request_status_codes() {
    assert_eq!(
        Mm4Error::UnknownMessageType("x".into()).request_status(),
        RequestStatus::ERROR_UNSUPPORTED_MESSAGE
    );
    assert_eq!(
        Mm4Error::MissingHeader("From").request_status(),
        RequestStatus::ERROR_SENDING_ADDRESS_UNRESOLVED
    );
    for e in [
        Mm4Error::Truncated,
        Mm4Error::NotAMessage("x"),
        Mm4Error::MissingHeader("To"),
        Mm4Error::bad_header("X-Mms-Expiry", "x"),
    ] {
        assert_eq!(
            e.request_status(),
            RequestStatus::ERROR_MESSAGE_FORMAT_CORRUPT
        );
        assert!(!e.to_string().is_empty());
    }
}

#[test]
fn transaction_id_is_found_in_a_message_that_does_not_parse() {
    let raw = b"X-Mms-Transaction-ID: \"tx-7@peer\"\r\nX-Mms-Message-Type: MM4_forward.REQ\r\n\r\n";
    assert_eq!(Mm4Pdu::parse(raw), Err(Mm4Error::MissingHeader("From")));
    assert_eq!(transaction_id(raw).as_deref(), Some("tx-7@peer"));
    assert_eq!(message_type(raw), Ok(MessageType::ForwardReq));
}

// ---------------------------------------------------------------- values

#[test]
fn message_types_parse_ignoring_case_and_print_in_spec_spelling() {
    for t in MessageType::ALL {
        assert_eq!(MessageType::parse(t.as_str()), Some(t));
        assert_eq!(MessageType::parse(&t.as_str().to_uppercase()), Some(t));
        assert_eq!(t.as_str().parse::<MessageType>(), Ok(t));
        assert_eq!(t.to_string(), t.as_str());
        assert_eq!(t.response().is_some(), t.is_request());
    }
    assert_eq!(
        MessageType::parse(" \"mm4_read_reply_report.res\" "),
        Some(MessageType::ReadReplyRes)
    );
    assert_eq!(
        MessageType::ForwardReq.response(),
        Some(MessageType::ForwardRes)
    );
    assert!("MM4_forward".parse::<MessageType>().is_err());
}

#[test]
fn status_values_are_open_and_normalised() {
    assert_eq!(RequestStatus::new("OK"), RequestStatus::OK);
    assert_eq!(RequestStatus::new("ok").as_str(), "Ok");
    assert_eq!(
        RequestStatus::new("error_SENDING address-unresolved"),
        RequestStatus::ERROR_SENDING_ADDRESS_UNRESOLVED
    );
    let odd = RequestStatus::new("Error-test-failed");
    assert!(!odd.is_known() && !odd.is_ok());
    assert_eq!(odd.as_str(), "Error-test-failed");
    assert_eq!(RequestStatus::KNOWN.len(), 9);
    assert_eq!(MmStatus::new("Unrecognized"), MmStatus::UNRECOGNISED);
    assert_eq!(MmStatus::new("forwarded"), MmStatus::FORWARDED);
    assert_eq!(
        MmStatus::new("ForwardedToMMBox").as_str(),
        "ForwardedToMMBox"
    );
    assert_eq!(
        ReadStatus::new("deleted without being read"),
        ReadStatus::DELETED_WITHOUT_BEING_READ
    );
    assert_eq!(ReadStatus::from("read").to_string(), "Read");
    assert_eq!(MessageClass::new("auto"), MessageClass::AUTO);
    assert_eq!(SenderVisibility::new("HIDE"), SenderVisibility::HIDE);

    // An unknown value travels through unchanged.
    let raw = b"X-Mms-Message-Type: MM4_delivery_report.REQ\r\nX-Mms-Transaction-ID: t\r\n\
X-Mms-MM-Status-Code: \"Expired-by-policy \"\r\nX-Mms-Priority: Urgent\r\n\r\n";
    let Mm4Pdu::DeliveryReportReq(req) = parse(raw) else {
        panic!("wrong type");
    };
    assert_eq!(req.mm_status.as_str(), "Expired-by-policy ");
    assert_round_trip(&Mm4Pdu::DeliveryReportReq(req));
}

#[test]
fn address_lists_split_at_top_level_commas_only() {
    let list = Mm4Address::parse_list(
        "\"Doe, Jane\" <+447700900001/TYPE=PLMN@a.example>, (a, comment) b@example.com,,\t12345",
    );
    let raws: Vec<_> = list.iter().map(|a| a.raw.as_str()).collect();
    assert_eq!(
        raws,
        [
            "\"Doe, Jane\" <+447700900001/TYPE=PLMN@a.example>",
            "(a, comment) b@example.com",
            "12345"
        ]
    );
    assert_eq!(
        list[0].address(),
        Some(&phone("+447700900001", "a.example"))
    );
    assert_eq!(
        list[2].address,
        Some(Address::ShortCode {
            code: "12345".into()
        })
    );
    let odd = Mm4Address::parse("undisclosed-recipients:;");
    assert_eq!(odd.address, None);
    assert_eq!(odd.to_string(), "undisclosed-recipients:;");
    assert_eq!(
        Mm4Address::from_address(
            &Address::phone("+447700900009").unwrap_or_else(|e| panic!("{e}")),
            "mms.example.net"
        )
        .raw,
        "+447700900009/TYPE=PLMN@mms.example.net"
    );
}

// ---------------------------------------------------------------- building

fn full_forward_req() -> ForwardReq {
    let mut req = sample_forward_req();
    req.mms_version = Some("6.16.0".into());
    req.message_id = Some("msg-42@mmsc.example.net".into());
    req.originator_system = Some("system-user@mmsc.example.net".into());
    req.cc = vec![Mm4Address::parse("carol@example.com")];
    req.bcc = vec![Mm4Address::parse("+447700900004/TYPE=PLMN@mms.other.net")];
    req.sender = Some(Mm4Address::parse("system-user@mmsc.example.net"));
    req.subject = Some("Grüße — ½ price".into());
    req.ack_request = true;
    req.message_class = Some(MessageClass::ADVERTISEMENT);
    req.expiry = Some(Expiry::Absolute(1_700_086_400));
    req.delivery_report = Some(true);
    req.originator_rs_delivery_report = Some(false);
    req.read_reply = Some(true);
    req.priority = Some(Priority::LOW);
    req.sender_visibility = Some(SenderVisibility::HIDE);
    req.forward_counter = Some(2);
    req.previously_sent_by = vec!["+447700900005/TYPE=PLMN@mms.example.net".into()];
    req.previously_sent_date = vec![1_699_990_000];
    req.vasp_id = Some("vasp-1".into());
    req.vas_id = Some("service 7".into());
    req.service_code = Some("SC-99".into());
    req.applic_id = Some("com.example.app".into());
    req.reply_applic_id = Some("com.example.reply".into());
    req.aux_applic_info = Some("aux=1".into());
    req.content_class = Some("text".into());
    req.drm_content = Some(false);
    req.adaptation_allowed = Some(true);
    req.rfc822_message_id = Some("<tx-1@mmsc.example.net>".into());
    req.extra_headers = vec![("X-Custom".into(), "kept".into())];
    req.content_type = Some("multipart/mixed; boundary=\"b1\"".into());
    req.body = b"--b1\r\nContent-Type: text/plain\r\n\r\nhi\r\n--b1--\r\n".to_vec();
    req
}

#[test]
fn every_pdu_type_round_trips_build_parse_build() {
    let req = full_forward_req();
    let mut res = ForwardRes::answering(
        &req,
        RequestStatus::ERROR_CONTENT_NOT_ACCEPTED,
        Some("too big — sorry"),
        1_700_000_100,
    );
    res.from = Some(Mm4Address::parse("system-user@mmsc.other.net"));
    res.sender = res.from.clone();
    res.rfc822_message_id = Some("<res-1@mmsc.other.net>".into());
    res.extra_headers = vec![("X-Trace".into(), "1".into())];

    let mut dr = DeliveryReportReq::new(
        "dr-1@mmsc.other.net",
        "msg-42@mmsc.example.net",
        Mm4Address::parse("+447700900002/TYPE=PLMN@mms.other.net"),
        Mm4Address::parse("+447700900001/TYPE=PLMN@mms.example.net"),
        MmStatus::REJECTED,
        1_700_003_600,
    );
    dr.originator_system = Some("system-user@mmsc.other.net".into());
    dr.ack_request = true;
    dr.mm_status_extension = Some("Rejection-by-MMS-recipient".into());
    dr.status_text = Some("Abgelehnt vom Empfänger".into());
    dr.forward_to_originator_ua = Some(true);
    dr.applic_id = Some("com.example.app".into());
    dr.reply_applic_id = Some("com.example.reply".into());
    dr.aux_applic_info = Some("aux".into());
    dr.content_type = Some("text/plain".into());
    dr.body = b"report".to_vec();
    let dr_res = DeliveryReportRes::answering(&dr, RequestStatus::OK, None, 1_700_003_601);

    let mut rr = ReadReplyReq::new(
        "rr-1@mmsc.other.net",
        "msg-42@mmsc.example.net",
        Mm4Address::parse("+447700900002/TYPE=PLMN@mms.other.net"),
        Mm4Address::parse("+447700900001/TYPE=PLMN@mms.example.net"),
        ReadStatus::DELETED_WITHOUT_BEING_READ,
        1_700_007_200,
    );
    rr.sender = Some(Mm4Address::parse("system-user@mmsc.other.net"));
    rr.ack_request = true;
    rr.status_text = Some("deleted".into());
    let rr_res = ReadReplyRes::answering(
        &rr,
        RequestStatus::ERROR_MESSAGE_NOT_FOUND,
        Some(""),
        1_700_007_201,
    );

    let pdus: Vec<Mm4Pdu> = vec![
        req.into(),
        res.into(),
        dr.into(),
        dr_res.into(),
        rr.into(),
        rr_res.into(),
    ];
    let kinds: Vec<_> = pdus.iter().map(Mm4Pdu::message_type).collect();
    assert_eq!(kinds, MessageType::ALL);
    for pdu in &pdus {
        assert_round_trip(pdu);
        let bytes = pdu.to_bytes();
        assert_eq!(message_type(&bytes), Ok(pdu.message_type()));
        assert_eq!(
            transaction_id(&bytes).as_deref(),
            Some(pdu.transaction_id())
        );
    }
}

#[test]
fn answers_echo_the_request_and_go_to_its_reply_address() {
    let req = forward(SEED);
    let res = ForwardRes::answering(&req, RequestStatus::OK, Some("accepted"), 1_178_615_915);
    assert_eq!(res.transaction_id, req.transaction_id);
    assert_eq!(res.message_id, req.message_id);
    assert_eq!(res.mms_version.as_deref(), Some("5.9.0"));
    assert_eq!(res.to, vec![Mm4Address::parse("system-user@mmsc.hub")]);
    assert_eq!(res.date, Some(1_178_615_915));
    assert_eq!(res.status_text.as_deref(), Some("accepted"));
    let bytes = res.to_bytes();
    let text = String::from_utf8_lossy(&bytes);
    assert!(
        text.starts_with(
            "X-Mms-3GPP-MMS-Version: 5.9.0\r\nX-Mms-Message-Type: MM4_forward.RES\r\n"
        )
    );
    assert!(text.contains("X-Mms-Request-Status-Code: Ok\r\n"));
    assert!(text.ends_with("\r\n\r\n"));

    let Mm4Pdu::DeliveryReportReq(dr) = parse(DR_REQ) else {
        panic!("wrong type");
    };
    let dr_res = DeliveryReportRes::answering(&dr, RequestStatus::OK, None, 1);
    assert_eq!(dr_res.to[0].raw, "system-user@mms.domain.com");
    assert_eq!(dr_res.mms_version.as_deref(), Some("6.10.0"));

    let Mm4Pdu::ReadReplyReq(mut rr) = parse(RR_REQ) else {
        panic!("wrong type");
    };
    rr.originator_system = None;
    rr.mms_version = None;
    let rr_res = ReadReplyRes::answering(&rr, RequestStatus::OK, None, 1);
    assert!(rr_res.to.is_empty());
    assert_eq!(rr_res.mms_version.as_deref(), Some(DEFAULT_MMS_VERSION));
}

#[test]
fn transit_copy_has_new_ids_and_history_and_the_same_content() {
    let req = forward(SEED);
    let next = req.for_transit("relay-1", "system-user@mm4.relay.example", 1_178_616_000);
    assert_eq!(next.transaction_id, "relay-1");
    assert_eq!(
        next.rfc822_message_id.as_deref(),
        Some("<relay-1@mm4.relay.example>")
    );
    assert_eq!(
        next.originator_system.as_deref(),
        Some("system-user@mm4.relay.example")
    );
    assert_eq!(next.forward_counter, Some(1));
    assert_eq!(
        next.previously_sent_by,
        vec!["system-user@mm4.relay.example"]
    );
    assert_eq!(next.previously_sent_date, vec![1_178_616_000]);
    assert_eq!(next.message_id, req.message_id);
    assert_eq!(next.from, req.from);
    assert_eq!(next.to, req.to);
    assert_eq!(next.subject, req.subject);
    assert_eq!(next.extra_headers, req.extra_headers);
    assert_eq!(next.body, req.body);
    let bytes = next.to_bytes();
    assert!(bytes.ends_with(&req.body));
    let again = next.for_transit("relay-2@hub", "hub", 1_178_616_100);
    assert_eq!(again.forward_counter, Some(2));
    assert_eq!(again.rfc822_message_id.as_deref(), Some("<relay-2@hub>"));
    assert_eq!(again.previously_sent_by.len(), 2);
    assert_round_trip(&Mm4Pdu::ForwardReq(again));
}

#[test]
fn pdu_accessors_cover_every_variant() {
    for (name, raw, _) in all_samples() {
        let pdu = parse(&raw);
        assert!(pdu.message_id().is_some(), "{name}");
        assert_eq!(
            pdu.reply_address().is_some(),
            pdu.message_type().is_request(),
            "{name}"
        );
        assert_eq!(
            pdu.ack_requested(),
            pdu.message_type().is_request(),
            "{name}"
        );
        let _ = pdu.extra_headers();
    }
}

// ---------------------------------------------------------------- mutation fuzzing

/// xorshift64: deterministic, no dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % (n.max(1) as u64)) as usize
    }
}

const INTERESTING: &[&[u8]] = &[
    b"\r\n",
    b"\n",
    b"\r",
    b" ",
    b"\t",
    b":",
    b"\"",
    b",",
    b"=?utf-8?B?w6k=?=",
    b"=?",
    b"?=",
    b"\xff",
    b"\xc3\xa9",
    b"\r\n ",
    b"X-Mms-Message-Type: MM4_forward.RES\r\n",
    b"X-Mms-Ack-Request: no\r\n",
    b"X-Mms-Expiry: 2026-01-14T09:30:00Z\r\n",
    b"Date: 1 Jan 1900 00:00:00 +0000\r\n",
    b"Date: 31 Dec 3000 23:59:59 -1200\r\n",
    b"Subject: =?iso-8859-1?q?=E9?=\r\n",
    b"To: <a, b>, \"c\r\n",
];

/// Mutated samples never panic, and whatever parses survives a round trip. The fuzz
/// target (`fuzz/fuzz_targets/mm4.rs`) checks the same property on arbitrary input.
#[test]
fn mutated_samples_never_panic_and_round_trip_when_they_parse() {
    // MM4_MUTATIONS=<count> and MM4_MUTATION_SEED=<n> run a longer or different search.
    let env = |name: &str, default: u64| {
        std::env::var(name)
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(default)
    };
    let rounds = env("MM4_MUTATIONS", 4000);
    let mut rng = Rng(env("MM4_MUTATION_SEED", 0x9E37_79B9_7F4A_7C15) | 1);
    let samples = all_samples();
    let mut parsed = 0;
    for _ in 0..rounds {
        let (_, base, _) = &samples[rng.below(samples.len())];
        let mut input = base.clone();
        for _ in 0..1 + rng.below(4) {
            let at = rng.below(input.len() + 1);
            match rng.below(4) {
                0 => {
                    if at < input.len() {
                        input[at] = rng.next() as u8;
                    }
                }
                1 => {
                    let len = rng.below(16).min(input.len().saturating_sub(at));
                    input.drain(at..at + len);
                }
                _ => {
                    let piece = INTERESTING[rng.below(INTERESTING.len())];
                    input.splice(at..at, piece.iter().copied());
                }
            }
        }
        let _ = message_type(&input);
        let _ = transaction_id(&input);
        if let Ok(pdu) = Mm4Pdu::parse(&input) {
            parsed += 1;
            assert_round_trip(&pdu);
        }
    }
    assert!(
        parsed > rounds / 4,
        "only {parsed} of {rounds} mutants parsed"
    );
}
