use super::*;

/// A submit in the style of the TS 23.140 annex example (REL-5-MM7-1-0, `mm7:`
/// prefix, `env:` SOAP prefix, multipart/related with a multipart/mixed content part
/// holding text and a GIF).
pub const REL5_SUBMIT_CT: &str = "multipart/related; boundary=\"NextPart_000_0028_01C19839.84698430\"; type=text/xml; start=\"</tnn-200102/mm7-submit>\"";
pub const REL5_SUBMIT: &str = "--NextPart_000_0028_01C19839.84698430\r
Content-Type: text/xml; charset=\"utf-8\"\r
Content-ID: </tnn-200102/mm7-submit>\r
\r
<?xml version='1.0' ?>
<env:Envelope xmlns:env=\"http://schemas.xmlsoap.org/soap/envelope/\">
  <env:Header>
    <mm7:TransactionID xmlns:mm7=\"http://www.3gpp.org/ftp/Specs/archive/23_series/23.140/schema/REL-5-MM7-1-0\" env:mustUnderstand=\"1\">
      vas00001-sub
    </mm7:TransactionID>
  </env:Header>
  <env:Body>
    <mm7:SubmitReq xmlns:mm7=\"http://www.3gpp.org/ftp/Specs/archive/23_series/23.140/schema/REL-5-MM7-1-0\">
      <MM7Version>5.3.0</MM7Version>
      <SenderIdentification>
        <VASPID>TNN</VASPID>
        <VASID>News</VASID>
      </SenderIdentification>
      <Recipients>
        <To>
          <Number>7255441234</Number>
          <RFC2822Address displayOnly=\"true\">7255442222@OMMS.com</RFC2822Address>
        </To>
        <Cc>
          <Number>7255443333</Number>
        </Cc>
        <Bcc>
          <RFC2822Address>7255444444@OMMS.com</RFC2822Address>
        </Bcc>
      </Recipients>
      <ServiceCode>gold-sp33-im42</ServiceCode>
      <LinkedID>mms00016666</LinkedID>
      <MessageClass>Informational</MessageClass>
      <TimeStamp>2002-01-02T09:30:47-05:00</TimeStamp>
      <EarliestDeliveryTime>2002-01-02T09:30:47-05:00</EarliestDeliveryTime>
      <ExpiryDate>P90D</ExpiryDate>
      <DeliveryReport>true</DeliveryReport>
      <Priority>Normal</Priority>
      <Subject>News for today</Subject>
      <ChargedParty>Sender</ChargedParty>
      <DistributionIndicator>true</DistributionIndicator>
      <Content href=\"cid:SaturnPics-01020930@news.tnn.com\" allowAdaptations=\"true\"/>
    </mm7:SubmitReq>
  </env:Body>
</env:Envelope>
\r
--NextPart_000_0028_01C19839.84698430\r
Content-Type: multipart/mixed; boundary=\"StoryParts 74526 8432 2002-77645\"\r
Content-ID: <SaturnPics-01020930@news.tnn.com>\r
\r
--StoryParts 74526 8432 2002-77645\r
Content-Type: text/plain; charset=\"us-ascii\"\r
\r
Science news, new Saturn pictures...\r
--StoryParts 74526 8432 2002-77645\r
Content-Type: image/gif\r
Content-ID: <saturn.gif>\r
Content-Transfer-Encoding: base64\r
\r
R0lGODdhZAAwAOMAAAAAAIGJjGltcDE0OOfWo6Ochbi1n1pmcbGojpKbnP/lpW54fBMTE1RYXEFO\r
--StoryParts 74526 8432 2002-77645--\r
\r
--NextPart_000_0028_01C19839.84698430--\r
";

/// The same request as a REL-6-MM7-1-4 VASP sends it: default namespace, no prefix
/// on the operation, `SOAP-ENV`, a sender address, a bare content id and a single
/// (non-multipart) content part.
pub const REL6_SUBMIT_CT: &str =
    "multipart/related; type=\"text/xml\"; boundary=\"----=_Part_0_1\"";
pub const REL6_SUBMIT: &str = "------=_Part_0_1\r
Content-Type: text/xml; charset=UTF-8\r
\r
<?xml version=\"1.0\" encoding=\"UTF-8\"?>
<SOAP-ENV:Envelope xmlns:SOAP-ENV=\"http://schemas.xmlsoap.org/soap/envelope/\">
 <SOAP-ENV:Header>
  <TransactionID xmlns=\"http://www.3gpp.org/ftp/Specs/archive/23_series/23.140/schema/REL-6-MM7-1-4\" SOAP-ENV:mustUnderstand=\"1\">tx-6-14</TransactionID>
 </SOAP-ENV:Header>
 <SOAP-ENV:Body>
  <SubmitReq xmlns=\"http://www.3gpp.org/ftp/Specs/archive/23_series/23.140/schema/REL-6-MM7-1-4\">
   <Subject>Hello &amp; welcome</Subject>
   <Recipients><To><Number>+447700900123</Number><ShortCode>54321</ShortCode></To></Recipients>
   <SenderIdentification><VASPID>acme</VASPID><VASID>promo</VASID><SenderAddress><ShortCode>12345</ShortCode></SenderAddress></SenderIdentification>
   <MM7Version>6.8.0</MM7Version>
   <DeliveryReport>false</DeliveryReport>
   <ReadReply>true</ReadReply>
   <Content href=\"hello.txt\"/>
  </SubmitReq>
 </SOAP-ENV:Body>
</SOAP-ENV:Envelope>\r
------=_Part_0_1\r
Content-Type: text/plain\r
Content-ID: <hello.txt>\r
\r
Hello world\r
------=_Part_0_1--\r
";

fn submit() -> SubmitReq {
    SubmitReq {
        mm7_version: "6.8.0".into(),
        sender_identification: SenderIdentification {
            vasp_id: Some("acme".into()),
            vas_id: Some("promo".into()),
            sender_address: Some(Mm7Address::new(AddressKind::ShortCode, "12345")),
        },
        recipients: Recipients {
            to: vec![Mm7Address::new(AddressKind::Number, "+447700900123")],
            cc: vec![Mm7Address {
                kind: AddressKind::Rfc2822,
                value: "a@b.example".into(),
                display_only: true,
                coding: Some("obfuscated".into()),
            }],
            bcc: vec![Mm7Address::new(AddressKind::ShortCode, "999")],
        },
        service_code: Some("sc-1".into()),
        linked_id: Some("link-1".into()),
        message_class: Some("Informational".into()),
        timestamp: Some("2026-11-23T10:00:00Z".into()),
        reply_charging: Some(ReplyCharging {
            size: Some("1000".into()),
            deadline: Some("P1D".into()),
        }),
        earliest_delivery_time: Some("2026-11-23T10:00:00Z".into()),
        expiry_date: Some("P2D".into()),
        delivery_report: Some(true),
        read_reply: Some(false),
        priority: Some("High".into()),
        subject: Some("<Tom & Jerry>".into()),
        charged_party: Some("Recipient".into()),
        charged_party_id: Some("+447700900123".into()),
        distribution_indicator: Some(false),
        applic_id: Some("app".into()),
        reply_applic_id: Some("rapp".into()),
        aux_applic_info: Some("aux".into()),
        content_class: Some("image-basic".into()),
        drm_content: Some(false),
        content: Some(ContentRef {
            href: "cid:c1".into(),
            allow_adaptations: Some(true),
        }),
    }
}

fn every_body() -> Vec<Mm7Body> {
    let status = Status::with_details(StatusCode::PARTIAL_SUCCESS, "+4477****: unroutable");
    let generic = GenericRsp {
        mm7_version: "6.8.0".into(),
        status: Status::new(StatusCode::SUCCESS),
    };
    vec![
        Mm7Body::SubmitReq(submit()),
        Mm7Body::SubmitRsp(SubmitRsp {
            mm7_version: "6.8.0".into(),
            status: status.clone(),
            message_id: Some("abc".into()),
        }),
        Mm7Body::DeliverReq(DeliverReq {
            mm7_version: "6.8.0".into(),
            mms_relay_server_id: Some("mms.example.net".into()),
            linked_id: Some("L".into()),
            sender: Some(Mm7Address::new(AddressKind::Number, "+447700900123")),
            recipients: Recipients {
                to: vec![Mm7Address::new(AddressKind::ShortCode, "12345")],
                ..Recipients::default()
            },
            timestamp: Some("2026-11-23T10:00:00Z".into()),
            reply_charging_id: Some("rc".into()),
            priority: Some("Low".into()),
            subject: Some("s".into()),
            applic_id: None,
            reply_applic_id: None,
            aux_applic_info: None,
            ua_capabilities: Some(UaCapabilities {
                ua_prof: Some("http://ua".into()),
                timestamp: Some("2026-11-23T10:00:00Z".into()),
            }),
            content: Some(ContentRef {
                href: "cid:x".into(),
                allow_adaptations: None,
            }),
        }),
        Mm7Body::DeliverRsp(DeliverRsp {
            mm7_version: "6.8.0".into(),
            status: Status::new(StatusCode::SUCCESS),
            service_code: Some("sc".into()),
        }),
        Mm7Body::CancelReq(CancelReq {
            mm7_version: "6.8.0".into(),
            sender_identification: SenderIdentification {
                vasp_id: Some("acme".into()),
                ..Default::default()
            },
            message_id: "m1".into(),
        }),
        Mm7Body::CancelRsp(generic.clone()),
        Mm7Body::ReplaceReq(ReplaceReq {
            mm7_version: "6.8.0".into(),
            sender_identification: SenderIdentification::default(),
            message_id: "m1".into(),
            service_code: Some("sc".into()),
            timestamp: Some("t".into()),
            read_reply: Some(true),
            earliest_delivery_time: None,
            distribution_indicator: Some(true),
            content: Some(ContentRef {
                href: "cid:new".into(),
                allow_adaptations: Some(false),
            }),
        }),
        Mm7Body::ReplaceRsp(generic.clone()),
        Mm7Body::DeliveryReportReq(DeliveryReportReq {
            mm7_version: "6.8.0".into(),
            mms_relay_server_id: Some("mms.example.net".into()),
            message_id: "m1".into(),
            recipient: Some(Mm7Address::new(AddressKind::Number, "+447700900123")),
            sender: Some(Mm7Address::new(AddressKind::ShortCode, "12345")),
            date: Some("2026-11-23T10:00:00Z".into()),
            mm_status: "Retrieved".into(),
            status_text: Some("ok".into()),
            ua_capabilities: None,
        }),
        Mm7Body::DeliveryReportRsp(generic.clone()),
        Mm7Body::ReadReplyReq(ReadReplyReq {
            mm7_version: "6.8.0".into(),
            mms_relay_server_id: None,
            message_id: "m1".into(),
            recipient: Some(Mm7Address::new(AddressKind::Number, "+447700900123")),
            sender: None,
            timestamp: Some("2026-11-23T10:00:00Z".into()),
            mm_status: "Read".into(),
            status_text: None,
        }),
        Mm7Body::ReadReplyRsp(generic.clone()),
        Mm7Body::RsErrorRsp(GenericRsp {
            mm7_version: "6.8.0".into(),
            status: Status::new(StatusCode::IMPROPER_IDENTIFICATION),
        }),
        Mm7Body::VaspErrorRsp(GenericRsp {
            mm7_version: "6.8.0".into(),
            status: Status::new(StatusCode::SERVER_ERROR),
        }),
    ]
}

#[test]
fn every_operation_round_trips_in_every_version() {
    for v in Version::SUPPORTED {
        for body in every_body() {
            let mut m = Mm7Message::new("tx-1", Version::new(v).unwrap(), body);
            let (ct, bytes) = m.to_http();
            let back = Mm7Message::parse(&ct, &bytes).unwrap();
            assert_eq!(back, m, "{}", String::from_utf8_lossy(&bytes));
            // With attachments too, and the bytes are stable.
            m.attachments = vec![Part::new("text/plain", Some("c1"), b"hi\r\n--x".to_vec())];
            let (ct, bytes) = m.to_http();
            let back = Mm7Message::parse(&ct, &bytes).unwrap();
            assert_eq!(back, m);
            assert_eq!(back.to_http().1, bytes);
        }
    }
}

#[test]
fn reads_the_rel5_annex_sample() {
    let m = Mm7Message::parse(REL5_SUBMIT_CT, REL5_SUBMIT.as_bytes()).unwrap();
    assert_eq!(m.transaction_id, "vas00001-sub");
    assert_eq!(m.version.name(), "REL-5-MM7-1-0");
    let Mm7Body::SubmitReq(r) = &m.body else {
        panic!("not a submit")
    };
    assert_eq!(r.mm7_version, "5.3.0");
    assert_eq!(r.sender_identification.vasp_id.as_deref(), Some("TNN"));
    assert_eq!(r.sender_identification.vas_id.as_deref(), Some("News"));
    assert_eq!(r.recipients.to.len(), 2);
    assert!(r.recipients.to[1].display_only);
    assert_eq!(r.recipients.cc[0].value, "7255443333");
    assert_eq!(r.recipients.bcc[0].kind, AddressKind::Rfc2822);
    assert_eq!(r.service_code.as_deref(), Some("gold-sp33-im42"));
    assert_eq!(r.linked_id.as_deref(), Some("mms00016666"));
    assert_eq!(r.expiry_date.as_deref(), Some("P90D"));
    assert_eq!(r.delivery_report, Some(true));
    assert_eq!(r.charged_party.as_deref(), Some("Sender"));
    assert_eq!(r.subject.as_deref(), Some("News for today"));
    let content = m.content().unwrap().unwrap();
    assert!(content.content_type().starts_with("multipart/mixed"));
    assert!(String::from_utf8_lossy(&content.body).contains("Saturn pictures"));
    assert!(
        content
            .body
            .ends_with(b"--StoryParts 74526 8432 2002-77645--\r\n")
    );
}

#[test]
fn reads_a_rel6_submit_with_default_namespace_and_any_order() {
    let m = Mm7Message::parse(REL6_SUBMIT_CT, REL6_SUBMIT.as_bytes()).unwrap();
    assert_eq!(m.transaction_id, "tx-6-14");
    assert_eq!(m.version.name(), "REL-6-MM7-1-4");
    let Mm7Body::SubmitReq(r) = &m.body else {
        panic!("not a submit")
    };
    assert_eq!(r.subject.as_deref(), Some("Hello & welcome"));
    assert_eq!(
        r.sender_identification.sender_address,
        Some(Mm7Address::new(AddressKind::ShortCode, "12345"))
    );
    assert_eq!(r.read_reply, Some(true));
    assert_eq!(m.content().unwrap().unwrap().body, b"Hello world");
    // The answer goes back in the same namespace.
    let rsp = Mm7Message::new(
        &m.transaction_id,
        m.version.clone(),
        Mm7Body::SubmitRsp(SubmitRsp {
            mm7_version: m.version.mm7_version().into(),
            status: Status::new(StatusCode::SUCCESS),
            message_id: Some("x".into()),
        }),
    );
    assert!(rsp.soap_xml().contains("schema/REL-6-MM7-1-4\""));
}

#[test]
fn accepts_a_soap_message_without_content() {
    let xml = r#"<Envelope xmlns="http://schemas.xmlsoap.org/soap/envelope/"><Header><TransactionID xmlns="http://www.3gpp.org/ftp/Specs/archive/23_series/23.140/schema/REL-5-MM7-1-2">t</TransactionID></Header><Body><CancelReq xmlns="http://www.3gpp.org/ftp/Specs/archive/23_series/23.140/schema/REL-5-MM7-1-2"><MM7Version>5.6.0</MM7Version><MessageID>m</MessageID></CancelReq></Body></Envelope>"#;
    let m = Mm7Message::parse("text/xml", xml.as_bytes()).unwrap();
    assert_eq!(m.version.name(), "REL-5-MM7-1-2");
    assert!(matches!(&m.body, Mm7Body::CancelReq(c) if c.message_id == "m"));
    assert_eq!(m.content().unwrap(), None);
}

#[test]
fn reads_error_responses_inside_a_fault() {
    let m = Mm7Message::new(
        "t",
        Version::default(),
        Mm7Body::RsErrorRsp(GenericRsp {
            mm7_version: "6.8.0".into(),
            status: Status::new(StatusCode::VALIDATION_ERROR),
        }),
    );
    let xml = m.soap_xml();
    assert!(xml.contains("<env:Fault>") && xml.contains("<faultcode>env:Server</faultcode>"));
    assert_eq!(Mm7Message::parse("text/xml", xml.as_bytes()).unwrap(), m);
}

#[test]
fn maps_errors_to_status_codes() {
    let ns5 = "http://www.3gpp.org/ftp/Specs/archive/23_series/23.140/schema/REL-4-MM7-1-0";
    let xml = format!(
        r#"<e:Envelope xmlns:e="s"><e:Header><TransactionID xmlns="{ns5}">t</TransactionID></e:Header><e:Body><SubmitReq xmlns="{ns5}"/></e:Body></e:Envelope>"#
    );
    let err = Mm7Message::parse("text/xml", xml.as_bytes()).unwrap_err();
    assert_eq!(err.status_code(), StatusCode::UNSUPPORTED_VERSION);
    let missing = REL6_SUBMIT.replace("<Recipients><To><Number>+447700900123</Number><ShortCode>54321</ShortCode></To></Recipients>", "");
    let err = Mm7Message::parse(REL6_SUBMIT_CT, missing.as_bytes()).unwrap_err();
    assert_eq!(err, Mm7Error::Missing("Recipients"));
    assert_eq!(err.status_code(), StatusCode::VALIDATION_ERROR);
    let bad_bool = REL6_SUBMIT.replace("<ReadReply>true", "<ReadReply>maybe");
    assert_eq!(
        Mm7Message::parse(REL6_SUBMIT_CT, bad_bool.as_bytes())
            .unwrap_err()
            .status_code(),
        StatusCode::VALIDATION_ERROR
    );
    let unknown = REL6_SUBMIT.replace("SubmitReq", "LaunchReq");
    assert_eq!(
        Mm7Message::parse(REL6_SUBMIT_CT, unknown.as_bytes())
            .unwrap_err()
            .status_code(),
        StatusCode::UNSUPPORTED_OPERATION
    );
    let no_content = REL6_SUBMIT.replace("Content-ID: <hello.txt>\r\n", "Content-ID: <other>\r\n");
    let m = Mm7Message::parse(REL6_SUBMIT_CT, no_content.as_bytes()).unwrap();
    // A single attachment is taken even when the href does not name it.
    assert!(m.content().unwrap().is_some());
}

#[test]
fn refuses_xml_bombs_and_deep_nesting() {
    let bomb = r#"<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]>
<env:Envelope xmlns:env="http://schemas.xmlsoap.org/soap/envelope/"><env:Body><x>&lol1;</x></env:Body></env:Envelope>"#;
    let err = Mm7Message::parse("text/xml", bomb.as_bytes()).unwrap_err();
    assert_eq!(err, Mm7Error::DtdRefused);
    assert_eq!(err.status_code(), StatusCode::MESSAGE_FORMAT_CORRUPT);
    let deep = format!(
        "<Envelope><Body>{}{}</Body></Envelope>",
        "<a>".repeat(5000),
        "</a>".repeat(5000)
    );
    assert_eq!(
        Mm7Message::parse("text/xml", deep.as_bytes()).unwrap_err(),
        Mm7Error::TooDeep
    );
}

#[test]
fn every_truncated_prefix_fails_cleanly() {
    for (ct, full) in [(REL5_SUBMIT_CT, REL5_SUBMIT), (REL6_SUBMIT_CT, REL6_SUBMIT)] {
        let bytes = full.as_bytes();
        // The closing delimiter line ends at len - 2 (its CRLF is optional).
        let min_complete = full.trim_end().len();
        for n in 0..min_complete {
            assert!(
                Mm7Message::parse(ct, &bytes[..n]).is_err(),
                "prefix of {n} bytes parsed"
            );
        }
    }
    let single = Mm7Message::new(
        "t",
        Version::default(),
        Mm7Body::CancelReq(CancelReq {
            message_id: "m".into(),
            ..Default::default()
        }),
    )
    .soap_xml();
    let end = single.trim_end().len();
    for n in 0..end {
        assert!(Mm7Message::parse("text/xml", &single.as_bytes()[..n]).is_err());
    }
}

#[test]
fn refuses_bad_xml_and_bad_multiparts() {
    for (ct, body) in [
        ("text/xml", &b"not xml at all"[..]),
        ("text/xml", b"<Envelope><Body></Body></Envelope>"),
        ("text/xml", b"<Other/>"),
        ("text/xml", b"<Envelope><Body><SubmitReq></Body></Envelope>"),
        ("multipart/related", b"--x\r\n\r\n<a/>\r\n--x--"),
        ("multipart/related; boundary=x", b"garbage"),
        (
            "multipart/related; boundary=x",
            b"--x\r\nContent-Type: text/xml\r\n\r\n<a",
        ),
    ] {
        let err = Mm7Message::parse(ct, body).unwrap_err();
        assert!(
            matches!(
                err.status_code(),
                StatusCode::MESSAGE_FORMAT_CORRUPT | StatusCode::VALIDATION_ERROR
            ),
            "{err:?}"
        );
    }
}

#[test]
fn versions_come_from_namespaces() {
    for ns in [
        "http://www.3gpp.org/ftp/Specs/archive/23_series/23.140/schema/REL-6-MM7-1-4",
        "https://www.3gpp.org/ftp/Specs/archive/23_series/23.140/schema/REL-6-MM7-1-4/",
        "http://www.3gpp.org/ftp/Specs/archive/23_series/23.140/schema/REL-6-MM7-1-4.xsd",
    ] {
        assert_eq!(Version::from_namespace(ns).unwrap().name(), "REL-6-MM7-1-4");
    }
    assert!(Version::from_namespace("urn:other").is_err());
    assert!(Version::new("REL-7-MM7-1-0").is_err());
}

/// The fuzz target's property, over every single-byte mutation of both samples:
/// whatever parses re-encodes to something that parses to the same message, with
/// stable bytes.
#[test]
fn every_single_byte_mutation_fails_cleanly_or_round_trips() {
    for (ct, full) in [(REL5_SUBMIT_CT, REL5_SUBMIT), (REL6_SUBMIT_CT, REL6_SUBMIT)] {
        for i in 0..full.len() {
            for b in [b'<', b'&', 0xff, b'\n'] {
                let mut bytes = full.as_bytes().to_vec();
                bytes[i] = b;
                let Ok(m) = Mm7Message::parse(ct, &bytes) else {
                    continue;
                };
                let _ = m.content();
                let (ct2, out) = m.to_http();
                let again = Mm7Message::parse(&ct2, &out).unwrap_or_else(|e| {
                    panic!("mutation at {i} ({b}): re-encoded does not parse: {e}")
                });
                assert_eq!(again, m, "mutation at {i} ({b})");
                assert_eq!(again.to_http().1, out);
            }
        }
    }
}

#[test]
fn the_readme_sample_parses() {
    let m = Mm7Message::parse(
        "text/xml",
        include_bytes!("../../../../events/mm7/submit-req.xml"),
    )
    .unwrap();
    assert_eq!(m.transaction_id, "demo-0001");
    assert!(matches!(&m.body, Mm7Body::SubmitReq(r) if r.recipients.to.len() == 1));
    assert_eq!(m.content().unwrap(), None);
}
