//! WSP primitives and MMS values, against hand-checked octets.

use super::super::wsp;
use super::*;

fn uintvar(bytes: &[u8]) -> Result<u32, DecodeError> {
    let mut r = Reader::new(bytes);
    let v = wsp::read_uintvar(&mut r, "t")?;
    r.expect_end()?;
    Ok(v)
}

fn write<F: FnOnce(&mut Vec<u8>)>(f: F) -> Vec<u8> {
    let mut out = Vec::new();
    f(&mut out);
    out
}

#[test]
fn uintvar_vectors() {
    let cases: &[(u32, &[u8])] = &[
        (0, &[0x00]),
        (0x7F, &[0x7F]),
        // 128 = 0b1_0000000: groups 0000001 0000000, continuation bit on the first
        (0x80, &[0x81, 0x00]),
        (0x3FFF, &[0xFF, 0x7F]),
        (0x4000, &[0x81, 0x80, 0x00]),
        (0x1234_5678, &[0x81, 0x91, 0xD1, 0xAC, 0x78]),
        (u32::MAX, &[0x8F, 0xFF, 0xFF, 0xFF, 0x7F]),
    ];
    for &(v, bytes) in cases {
        assert_eq!(write(|o| wsp::write_uintvar(o, v)), bytes, "encode {v:#x}");
        assert_eq!(uintvar(bytes), Ok(v), "decode {}", hex(bytes));
    }
}

#[test]
fn rejects_bad_uintvars() {
    // six octets
    assert!(matches!(
        uintvar(&[0x80, 0x80, 0x80, 0x80, 0x80, 0x00]),
        Err(DecodeError::BadUintvar { .. })
    ));
    // five octets but 33 bits
    assert!(matches!(
        uintvar(&[0x90, 0x80, 0x80, 0x80, 0x00]),
        Err(DecodeError::BadUintvar { .. })
    ));
    // continuation bit on the last octet available
    assert!(matches!(
        uintvar(&[0x81]),
        Err(DecodeError::Truncated { .. })
    ));
    // a non-minimal form is accepted (leading 0x80)
    assert_eq!(uintvar(&[0x80, 0x05]), Ok(5));
}

#[test]
fn integer_vectors() {
    // Long-integer: Short-length then big-endian octets, fewest octets.
    assert_eq!(write(|o| wsp::write_long_integer(o, 0)), [0x01, 0x00]);
    assert_eq!(
        write(|o| wsp::write_long_integer(o, 30_000)),
        [0x02, 0x75, 0x30]
    );
    assert_eq!(
        write(|o| wsp::write_long_integer(o, DATE)),
        [0x04, 0x65, 0x5F, 0x22, 0xA0]
    );
    assert_eq!(
        write(|o| wsp::write_long_integer(o, u64::MAX)),
        [0x08, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF]
    );
    // Integer-value: a Short-integer below 128, else a Long-integer.
    assert_eq!(write(|o| wsp::write_integer_value(o, 5)), [0x85]);
    assert_eq!(write(|o| wsp::write_integer_value(o, 127)), [0xFF]);
    assert_eq!(write(|o| wsp::write_integer_value(o, 128)), [0x01, 0x80]);
    assert_eq!(
        write(|o| wsp::write_integer_value(o, 1000)),
        [0x02, 0x03, 0xE8]
    );

    let long = |b: &[u8]| wsp::read_long_integer(&mut Reader::new(b), "t");
    assert_eq!(long(&[0x03, 0x01, 0x19, 0x40]), Ok(72_000));
    // leading zero octets are fine as long as the value fits 64 bits
    assert_eq!(
        long(&[0x09, 0x00, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF]),
        Ok(u64::MAX)
    );
    assert!(matches!(
        long(&[0x09, 0x01, 0, 0, 0, 0, 0, 0, 0, 0]),
        Err(DecodeError::IntegerOverflow { .. })
    ));
    assert!(matches!(
        long(&[0x00]),
        Err(DecodeError::BadLongInteger { length: 0, .. })
    ));
    assert!(matches!(
        long(&[0x1F, 0x01]),
        Err(DecodeError::BadLongInteger { length: 31, .. })
    ));
    assert!(matches!(
        long(&[0x04, 0x01, 0x02]),
        Err(DecodeError::Truncated { .. })
    ));

    let int = |b: &[u8]| wsp::read_integer_value(&mut Reader::new(b), "t");
    assert_eq!(int(&[0xEA]), Ok(106));
    assert_eq!(int(&[0x02, 0x03, 0xE8]), Ok(1000));
    assert!(matches!(
        int(&[0x20]),
        Err(DecodeError::UnexpectedOctet { octet: 0x20, .. })
    ));
}

#[test]
fn value_length_vectors() {
    let framed = |len: usize| {
        let mut out = Vec::new();
        wsp::write_framed(&mut out, "t", |o| {
            o.extend(std::iter::repeat_n(0xAA, len));
            Ok(())
        })
        .unwrap();
        out
    };
    // Short-length up to 30 ...
    assert_eq!(framed(0), [0x00]);
    assert_eq!(framed(30)[0], 0x1E);
    assert_eq!(framed(30).len(), 31);
    // ... then Length-quote (31) and a uintvar, spliced in when the body is done.
    assert_eq!(framed(31)[..2], [0x1F, 0x1F]);
    assert_eq!(framed(31).len(), 33);
    assert_eq!(framed(200)[..3], [0x1F, 0x81, 0x48]);
    assert_eq!(framed(200).len(), 203);

    let vl = |b: &[u8]| wsp::read_value_length(&mut Reader::new(b), "t");
    assert_eq!(vl(&[0x1E]), Ok(30));
    assert_eq!(vl(&[0x1F, 0x81, 0x48]), Ok(200));
    assert!(matches!(
        vl(&[0x20]),
        Err(DecodeError::UnexpectedOctet { .. })
    ));

    // A length beyond the input is a clean error, not a panic.
    let over = wsp::read_framed(&mut Reader::new(&[0x05, 0x01, 0x02]), "t");
    assert!(matches!(
        over,
        Err(DecodeError::ValueLengthOverrun {
            length: 5,
            available: 2,
            ..
        })
    ));
    let over = wsp::read_framed(
        &mut Reader::new(&[0x1F, 0x8F, 0xFF, 0xFF, 0xFF, 0x7F, 0x00]),
        "t",
    );
    assert!(matches!(over, Err(DecodeError::ValueLengthOverrun { .. })));
}

#[test]
fn text_string_quote_rule() {
    let text = |s: &[u8]| {
        let mut o = Vec::new();
        wsp::write_text_bytes(&mut o, s, false, "t").map(|_| o)
    };
    assert_eq!(text(b"abc"), Ok(b"abc\0".to_vec()));
    assert_eq!(text(b""), Ok(vec![0x00]));
    // First octet 128-255: a Quote (127) precedes the text.
    assert_eq!(text("é".as_bytes()), Ok(vec![0x7F, 0xC3, 0xA9, 0x00]));
    // A leading control octet would read as a length: quoted too.
    assert_eq!(text(b"\x05x"), Ok(vec![0x7F, 0x05, b'x', 0x00]));
    assert_eq!(text(b"a\0b"), Err(EncodeError::InteriorNul { what: "t" }));

    let read = |b: &[u8]| wsp::read_text_string(&mut Reader::new(b), "t");
    assert_eq!(read(&[0x7F, 0xC3, 0xA9, 0x00]).unwrap(), "é");
    assert_eq!(read(&[0x7F, b'A', 0x00]).unwrap(), "A");
    // Not UTF-8: taken as ISO-8859-1.
    assert_eq!(read(&[0x7F, 0xE4, 0x00]).unwrap(), "ä");
    assert!(matches!(
        read(b"abc"),
        Err(DecodeError::Unterminated { .. })
    ));

    let mut q = Vec::new();
    wsp::write_quoted_string(&mut q, "<id>", "t").unwrap();
    assert_eq!(q, b"\"<id>\0");
}

#[test]
fn generic_value_extent() {
    let raw = |b: &[u8]| {
        let mut r = Reader::new(b);
        wsp::read_raw_value(&mut r, "t").map(|v| (v.to_vec(), r.remaining()))
    };
    assert_eq!(raw(&[0x81, 0x99]), Ok((vec![0x81], 1))); // short-integer
    assert_eq!(raw(b"ab\0\x81"), Ok((b"ab\0".to_vec(), 1))); // text
    assert_eq!(
        raw(&[0x02, 0x01, 0x02, 0x03]),
        Ok((vec![0x02, 0x01, 0x02], 1))
    ); // short-length
    let mut long = vec![0x1F, 0x20];
    long.extend([0u8; 32]);
    assert_eq!(raw(&long).map(|(v, _)| v.len()), Ok(34)); // length-quote
    assert!(raw(&[0x03, 0x01]).is_err());
    assert!(raw(b"abc").is_err());
}

fn es(bytes: &[u8]) -> Result<EncodedString, DecodeError> {
    let mut r = Reader::new(bytes);
    let v = EncodedString::read(&mut r, "t")?;
    r.expect_end()?;
    Ok(v)
}

fn es_bytes(v: &EncodedString) -> Vec<u8> {
    let mut o = Vec::new();
    v.encode(&mut o, "t").unwrap();
    o
}

#[test]
fn encoded_string_charsets() {
    // Plain Text-string.
    assert_eq!(es_bytes(&EncodedString::text("Hello")), b"Hello\0");
    // Value-length 5, charset utf-8 (106 = 0xEA), "Hé", End-of-string.
    let utf8 = EncodedString::utf8("Hé");
    assert_eq!(es_bytes(&utf8), [0x05, 0xEA, b'H', 0xC3, 0xA9, 0x00]);
    assert_eq!(
        es(&[0x05, 0xEA, b'H', 0xC3, 0xA9, 0x00])
            .unwrap()
            .decode()
            .unwrap(),
        "Hé"
    );
    // us-ascii (3 = 0x83), as in real m-retrieve.conf PDUs.
    let ascii = es(b"\x05\x83abc\0").unwrap();
    assert_eq!(ascii.charset, Some(Charset::US_ASCII));
    assert_eq!(ascii.decode().unwrap(), "abc");
    // iso-8859-1 (4 = 0x84): Quote before the octet 0xE9.
    let latin1 = es(&[0x04, 0x84, 0x7F, 0xE9, 0x00]).unwrap();
    assert_eq!(latin1.bytes, [0xE9]);
    assert_eq!(latin1.decode().unwrap(), "é");
    assert_eq!(es_bytes(&latin1), [0x04, 0x84, 0x7F, 0xE9, 0x00]);
    // UCS-2 (1000 = Long-integer 02 03 E8) with a byte-order mark: the NUL octets
    // inside the text are bounded by the value-length.
    let ucs2 = [
        0x0B, 0x02, 0x03, 0xE8, 0x7F, 0xFE, 0xFF, 0x00, 0x48, 0x00, 0x69, 0x00,
    ];
    let v = es(&ucs2).unwrap();
    assert_eq!(v.charset, Some(Charset::UCS_2));
    assert_eq!(v.decode().unwrap(), "Hi");
    assert_eq!(es_bytes(&v), ucs2);
    // utf-16 (1015) little-endian by its BOM.
    let v = EncodedString {
        charset: Some(Charset::UTF_16),
        bytes: vec![0xFF, 0xFE, 0x48, 0x00, 0x69, 0x00],
    };
    assert_eq!(es(&es_bytes(&v)).unwrap(), v);
    assert_eq!(v.decode().unwrap(), "Hi");
    // An unknown charset: octets kept, not decoded, and re-encoded unchanged.
    let unknown = [0x06, 0x02, 0x0B, 0xB8, 0x41, 0x42, 0x00];
    let v = es(&unknown).unwrap();
    assert_eq!(v.charset, Some(Charset(3000)));
    assert_eq!(v.decode(), None);
    assert_eq!(v.to_string_lossy(), "AB");
    assert_eq!(es_bytes(&v), unknown);
    // Malformed.
    assert!(matches!(
        es(&[0x03, 0xEA, b'a', b'b']),
        Err(DecodeError::Unterminated { .. })
    ));
    assert!(matches!(
        es(&[0x85]),
        Err(DecodeError::UnexpectedOctet { .. })
    ));
    assert!(matches!(
        es(&[0x09, 0xEA, b'a', 0x00]),
        Err(DecodeError::ValueLengthOverrun { .. })
    ));
}

fn header(bytes: &[u8]) -> Header {
    Header::from_bytes(bytes).unwrap()
}

#[test]
fn time_from_and_version_values() {
    // X-Mms-Expiry, value-length 5, Relative-token, Long-integer 3 octets 72000 s
    let h = header(&[0x88, 0x05, 0x81, 0x03, 0x01, 0x19, 0x40]);
    assert_eq!(h.value, Value::Time(TimeValue::Relative(72_000)));
    // X-Mms-Delivery-Time, value-length 6, Absolute-token, Long-integer 4 octets
    let abs = Header::new(
        FieldName::DELIVERY_TIME,
        Value::Time(TimeValue::Absolute(DATE)),
    );
    assert_eq!(enc(&abs), [0x87, 0x06, 0x80, 0x04, 0x65, 0x5F, 0x22, 0xA0]);
    // A Short-integer delta is accepted and re-encoded as a Long-integer.
    let h = header(&[0x88, 0x02, 0x81, 0x8A]);
    assert_eq!(h.value, Value::Time(TimeValue::Relative(10)));
    assert_eq!(enc(&h), [0x88, 0x03, 0x81, 0x01, 0x0A]);
    // Unknown token inside the value-length.
    assert!(Header::from_bytes(&[0x88, 0x03, 0x82, 0x01, 0x0A]).is_err());

    // From: value-length 1, Insert-address-token
    let insert = Header::new(FieldName::FROM, Value::From(FromValue::InsertAddress));
    assert_eq!(enc(&insert), [0x89, 0x01, 0x81]);
    // From: value-length 25, Address-present-token, "+447700900123/TYPE=PLMN"
    let present = Header::new(
        FieldName::FROM,
        Value::From(FromValue::Address(MmsAddress::new(ALICE))),
    );
    let mut expected = vec![0x89, 0x19, 0x80];
    expected.extend_from_slice(ALICE.as_bytes());
    expected.push(0);
    assert_eq!(enc(&present), expected);
    assert_eq!(header(&expected), present);
    // Insert-address with octets left inside the value-length.
    assert!(matches!(
        Header::from_bytes(&[0x89, 0x02, 0x81, 0x00]),
        Err(DecodeError::ValueLengthUnderrun { .. })
    ));

    // X-Mms-MMS-Version: Short-integer, major 1 minor 2 -> 0x92
    let v = Header::new(
        FieldName::MMS_VERSION,
        Value::Token(MmsVersion::V1_2.octet()),
    );
    assert_eq!(enc(&v), [0x8D, 0x92]);
    assert_eq!(MmsVersion(0x12).to_string(), "1.2");
    assert_eq!(MmsVersion::new(1, 3), MmsVersion::V1_3);
    assert_eq!(MmsVersion(0x1F).to_string(), "1");

    // Date: Long-integer
    let d = Header::new(FieldName::DATE, Value::Long(DATE));
    assert_eq!(enc(&d), [0x85, 0x04, 0x65, 0x5F, 0x22, 0xA0]);
    // Message-Class: a class token or a token-text
    assert_eq!(
        header(&[0x8A, 0x80]).value,
        Value::MessageClass(MessageClass::PERSONAL)
    );
    assert_eq!(
        header(b"\x8ANewMessageClass\0").value,
        Value::MessageClass(MessageClass::Token("NewMessageClass".into()))
    );
}

#[test]
fn field_numbers_match_the_specification() {
    // OMA-TS-MMS_ENC-V1_3 Table 12, as wire octets.
    let table: &[(FieldName, u8)] = &[
        (FieldName::BCC, 0x81),
        (FieldName::CC, 0x82),
        (FieldName::CONTENT_LOCATION, 0x83),
        (FieldName::CONTENT_TYPE, 0x84),
        (FieldName::DATE, 0x85),
        (FieldName::DELIVERY_REPORT, 0x86),
        (FieldName::DELIVERY_TIME, 0x87),
        (FieldName::EXPIRY, 0x88),
        (FieldName::FROM, 0x89),
        (FieldName::MESSAGE_CLASS, 0x8A),
        (FieldName::MESSAGE_ID, 0x8B),
        (FieldName::MESSAGE_TYPE, 0x8C),
        (FieldName::MMS_VERSION, 0x8D),
        (FieldName::MESSAGE_SIZE, 0x8E),
        (FieldName::PRIORITY, 0x8F),
        (FieldName::READ_REPORT, 0x90),
        (FieldName::REPORT_ALLOWED, 0x91),
        (FieldName::RESPONSE_STATUS, 0x92),
        (FieldName::RESPONSE_TEXT, 0x93),
        (FieldName::SENDER_VISIBILITY, 0x94),
        (FieldName::STATUS, 0x95),
        (FieldName::SUBJECT, 0x96),
        (FieldName::TO, 0x97),
        (FieldName::TRANSACTION_ID, 0x98),
        (FieldName::RETRIEVE_STATUS, 0x99),
        (FieldName::RETRIEVE_TEXT, 0x9A),
        (FieldName::READ_STATUS, 0x9B),
        (FieldName::REPLY_CHARGING, 0x9C),
        (FieldName::REPLY_CHARGING_DEADLINE, 0x9D),
        (FieldName::REPLY_CHARGING_ID, 0x9E),
        (FieldName::REPLY_CHARGING_SIZE, 0x9F),
        (FieldName::PREVIOUSLY_SENT_BY, 0xA0),
        (FieldName::PREVIOUSLY_SENT_DATE, 0xA1),
        (FieldName::STORE, 0xA2),
        (FieldName::MM_STATE, 0xA3),
        (FieldName::MM_FLAGS, 0xA4),
        (FieldName::STORE_STATUS, 0xA5),
        (FieldName::STORE_STATUS_TEXT, 0xA6),
        (FieldName::STORED, 0xA7),
        (FieldName::ATTRIBUTES, 0xA8),
        (FieldName::TOTALS, 0xA9),
        (FieldName::MBOX_TOTALS, 0xAA),
        (FieldName::QUOTAS, 0xAB),
        (FieldName::MBOX_QUOTAS, 0xAC),
        (FieldName::MESSAGE_COUNT, 0xAD),
        (FieldName::CONTENT, 0xAE),
        (FieldName::START, 0xAF),
        (FieldName::ADDITIONAL_HEADERS, 0xB0),
        (FieldName::DISTRIBUTION_INDICATOR, 0xB1),
        (FieldName::ELEMENT_DESCRIPTOR, 0xB2),
        (FieldName::LIMIT, 0xB3),
        (FieldName::RECOMMENDED_RETRIEVAL_MODE, 0xB4),
        (FieldName::RECOMMENDED_RETRIEVAL_MODE_TEXT, 0xB5),
        (FieldName::STATUS_TEXT, 0xB6),
        (FieldName::APPLIC_ID, 0xB7),
        (FieldName::REPLY_APPLIC_ID, 0xB8),
        (FieldName::AUX_APPLIC_INFO, 0xB9),
        (FieldName::CONTENT_CLASS, 0xBA),
        (FieldName::DRM_CONTENT, 0xBB),
        (FieldName::ADAPTATION_ALLOWED, 0xBC),
        (FieldName::REPLACE_ID, 0xBD),
        (FieldName::CANCEL_ID, 0xBE),
        (FieldName::CANCEL_STATUS, 0xBF),
    ];
    for (i, &(f, octet)) in table.iter().enumerate() {
        assert_eq!(0x80 | f.0, octet, "{f:?}");
        assert_eq!(usize::from(f.0), i + 1, "table is dense from 0x01");
        assert!(f.name().is_some());
    }
    assert_eq!(
        ResponseStatus::PERMANENT_REPLY_CHARGING_REQUEST_NOT_ACCEPTED.0,
        0xE7
    );
    assert_eq!(ResponseStatus::PERMANENT_LACK_OF_PREPAID.0, 0xEB);
    assert_eq!(RetrieveStatus::PERMANENT_CONTENT_UNSUPPORTED.0, 0xE3);
    assert_eq!(MessageType::CANCEL_CONF.0, 151);
    assert_eq!(MessageType::MBOX_DESCR.0, 147);
    assert!(ResponseStatus::TRANSIENT_NETWORK_PROBLEM.is_transient());
    assert!(ResponseStatus::ERROR_SERVICE_DENIED.is_permanent());
    assert!(ResponseStatus(0xD5).is_transient());
    assert_eq!(ResponseStatus(0xD5).name(), None);
}

fn ct(bytes: &[u8]) -> ContentType {
    ContentType::from_bytes(bytes).unwrap()
}

#[test]
fn content_type_vectors() {
    // Constrained: well-known short-integer.
    assert_eq!(enc(&ContentType::new("image/jpeg")), [0x9E]);
    assert_eq!(enc(&ContentType::new("text/plain")), [0x83]);
    assert_eq!(enc(&ContentType::multipart_mixed()), [0xA3]);
    assert_eq!(WellKnownMedia::MULTIPART_RELATED.0, 0x33);
    assert_eq!(WellKnownMedia::MULTIPART_MIXED.0, 0x23);
    assert_eq!(
        WellKnownMedia::from_name("IMAGE/PNG"),
        Some(WellKnownMedia::IMAGE_PNG)
    );
    // Constrained: extension media.
    assert_eq!(enc(&ContentType::new("audio/amr")), b"audio/amr\0");
    // General form: value-length 3, text/plain, charset (0x81) utf-8 (0xEA)
    let text = ContentType::new("text/plain").with_charset(Charset::UTF_8);
    assert_eq!(enc(&text), [0x03, 0x83, 0x81, 0xEA]);
    assert_eq!(
        ct(&[0x03, 0x83, 0x81, 0xEA]).charset(),
        Some(Charset::UTF_8)
    );
    // multipart.related; type (0x89) "application/smil"; start (0x8A) "<smil>"
    let related = ContentType::multipart_related("application/smil", "<smil>");
    let mut expected = vec![0x1B, 0xB3, 0x89];
    expected.extend_from_slice(b"application/smil\0");
    expected.push(0x8A);
    expected.extend_from_slice(b"<smil>\0");
    assert_eq!(enc(&related), expected);
    let back = ct(&expected);
    assert_eq!(back, related);
    assert_eq!(back.start(), Some("<smil>"));
    assert_eq!(back.related_type().as_deref(), Some("application/smil"));
    assert!(back.media.is_wap_multipart());
    // Name (0x85) and an untyped parameter (token-text name, text value) and a
    // Quoted-string value survive.
    let mut bytes = vec![0x1A, 0x9E, 0x85];
    bytes.extend_from_slice(b"a.jpg\0");
    bytes.extend_from_slice(b"x-sz\0");
    bytes.push(0x82);
    bytes.extend_from_slice(b"x-n\0\"hi\0");
    bytes[0] = (bytes.len() - 1) as u8;
    let v = ct(&bytes);
    assert_eq!(v.name(), Some("a.jpg"));
    assert_eq!(v.params[1].name, ParamName::Token("x-sz".into()));
    assert_eq!(v.params[1].value, ParamValue::Integer(2));
    assert_eq!(v.params[2].value, ParamValue::Quoted("hi".into()));
    assert_eq!(enc(&v), bytes);
    // Well-known media number above 127 in the general form (a Long-integer).
    let reg = ContentType::well_known(WellKnownMedia(0x0201));
    assert_eq!(enc(&reg), [0x03, 0x02, 0x02, 0x01]);
    assert_eq!(ct(&[0x03, 0x02, 0x02, 0x01]), reg);
    // Bad: parameters overrun the value-length.
    assert!(ContentType::from_bytes(&[0x02, 0x83, 0x85, b'a', 0x00]).is_err());
    assert!(ContentType::from_bytes(&[0x03, 0x83, 0x85, b'a']).is_err());
}

#[test]
fn multipart_part_vector() {
    let part = Part::new(
        ContentType::new("text/plain").with_charset(Charset::UTF_8),
        b"Hi".to_vec(),
    )
    .with_content_id("<t1>");
    let mut out = Vec::new();
    part.encode(&mut out).unwrap();
    assert_eq!(
        out,
        [
            0x0B, // HeadersLen 11 (uintvar)
            0x02, // DataLen 2 (uintvar)
            0x03, 0x83, 0x81, 0xEA, // Content-Type text/plain; charset=utf-8
            0xC0, 0x22, b'<', b't', b'1', b'>', 0x00, // Content-ID "<t1>" (Quoted-string)
            b'H', b'i', // data
        ]
    );
    let back = Part::read(&mut Reader::new(&out)).unwrap();
    assert_eq!(back, part);
    assert_eq!(back.content_id(), Some("<t1>"));

    // Unmodelled part headers survive byte for byte: Content-Disposition (0xAE)
    // in general form, Accept-Charset (0x81), an application header.
    let mut headers = vec![0x83];
    headers.extend_from_slice(&[0xAE, 0x08, 0x81, 0x85]); // attachment; name
    headers.extend_from_slice(b"a.txt\0");
    headers.extend_from_slice(&[0x81, 0x83]);
    headers.extend_from_slice(b"X-Part\0value\0");
    let mut bytes = vec![headers.len() as u8, 0x01];
    bytes.extend_from_slice(&headers);
    bytes.push(b'z');
    let p = Part::read(&mut Reader::new(&bytes)).unwrap();
    assert_eq!(p.headers.len(), 3);
    assert!(matches!(
        &p.headers[2],
        PartHeader::Other { name: PartHeaderName::Application(n), value } if n == "X-Part" && value == b"value\0"
    ));
    let mut again = Vec::new();
    p.encode(&mut again).unwrap();
    assert_eq!(again, bytes);

    // HeadersLen beyond the input, and a content type that does not fill its
    // headers block with whole headers.
    assert!(Part::read(&mut Reader::new(&[0x20, 0x00, 0x83])).is_err());
    assert!(Part::read(&mut Reader::new(&[0x02, 0x00, 0x83, 0x8E])).is_err());
}

#[test]
fn addresses_map_to_the_domain_model() {
    use crate::domain::Address;
    let phone = Address::parse("+447700900123").unwrap();
    let a = MmsAddress::from_address(&phone);
    assert_eq!(a.as_text(), ALICE);
    assert_eq!(a.to_address(None).unwrap(), phone);
    // An MM4 domain is not part of the MM1 form.
    assert_eq!(
        MmsAddress::from_address(&phone.with_domain("mms.example.net")).as_text(),
        ALICE
    );
    let short = MmsAddress::new("1337/TYPE=PLMN");
    assert_eq!(
        short.to_address(None).unwrap(),
        Address::ShortCode {
            code: "1337".into()
        }
    );
    assert_eq!(
        MmsAddress::from_address(&short.to_address(None).unwrap()),
        short
    );
    let national = MmsAddress::new("07700900123/TYPE=PLMN");
    assert_eq!(national.to_address(Some("44")).unwrap(), phone);
    let email = MmsAddress::new("alice@example.com");
    assert_eq!(
        email.to_address(None).unwrap(),
        Address::Email {
            address: "alice@example.com".into()
        }
    );
    assert!(
        MmsAddress::new("10.0.0.1/TYPE=IPV4")
            .to_address(None)
            .is_err()
    );
}
