//! Tests of the MM1 codec: primitive vectors, PDU vectors, round trips, truncation,
//! real samples, and the tshark / python-messaging oracles.

mod oracle;
mod pdus;
mod primitives;

use super::*;
use std::path::PathBuf;

/// `events/mm1/` in the workspace.
pub(super) fn samples_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join("events")
        .join("mm1")
}

pub(super) fn hex(bytes: &[u8]) -> String {
    bytes
        .iter()
        .map(|b| format!("{b:02X}"))
        .collect::<Vec<_>>()
        .join(" ")
}

/// Encodes, failing the test with the error.
pub(super) fn enc<T: Codec>(v: &T) -> Vec<u8> {
    v.to_bytes().unwrap()
}

pub(super) const ALICE: &str = "+447700900123/TYPE=PLMN";
pub(super) const BOB: &str = "+447700900456/TYPE=PLMN";
/// 2023-11-23T10:00:00Z
pub(super) const DATE: u64 = 1_700_733_600;

/// A few octets standing in for a JPEG (start and end of image markers).
pub(super) const JPEG: &[u8] = &[0xFF, 0xD8, 0xFF, 0xD9];

pub(super) const SMIL: &str = "<smil><head><layout><root-layout/>\
<region id=\"Image\" top=\"0\" left=\"0\" height=\"70%\" width=\"100%\"/>\
<region id=\"Text\" top=\"70%\" left=\"0\" height=\"30%\" width=\"100%\"/>\
</layout></head><body><par dur=\"5000ms\"><img src=\"cid:img1\" region=\"Image\"/>\
<text src=\"cid:txt1\" region=\"Text\"/></par></body></smil>";

/// The multipart/related body of a typical MMS: SMIL, text, JPEG.
pub(super) fn smil_text_jpeg() -> (ContentType, Body) {
    let ct = ContentType::multipart_related("application/smil", "<smil>");
    let body = Body::Multipart(vec![
        Part::new(
            ContentType::new("application/smil"),
            SMIL.as_bytes().to_vec(),
        )
        .with_content_id("<smil>")
        .with_content_location("smil.xml"),
        Part::new(
            ContentType::new("text/plain").with_charset(Charset::UTF_8),
            "Hello from the MMSC ☺".as_bytes().to_vec(),
        )
        .with_content_id("<txt1>")
        .with_content_location("text.txt"),
        Part::new(
            ContentType::new("image/jpeg").with_name("photo.jpg"),
            JPEG.to_vec(),
        )
        .with_content_id("<img1>")
        .with_content_location("photo.jpg"),
    ]);
    (ct, body)
}

/// One populated PDU of every typed kind, as the MMSC or a handset would build
/// it. Names are the sample file stems in `events/mm1/`.
pub(super) fn typed_samples() -> Vec<(&'static str, Pdu)> {
    let (ct, body) = smil_text_jpeg();
    vec![
        (
            "send-req",
            Pdu::SendReq(
                MSendReq::new(
                    "T18bc4a2e01".into(),
                    MmsVersion::V1_2,
                    FromValue::InsertAddress,
                    ct.clone(),
                    body.clone(),
                )
                .with_date(DATE)
                .with_to(MmsAddress::new(BOB))
                .with_cc(MmsAddress::new("carol@example.com"))
                .with_subject(EncodedString::utf8("Photos ☀"))
                .with_message_class(MessageClass::PERSONAL)
                .with_expiry(TimeValue::Relative(604_800))
                .with_priority(Priority::NORMAL)
                .with_delivery_report(YesNo::YES)
                .with_read_report(YesNo::NO),
            ),
        ),
        (
            "send-conf",
            Pdu::SendConf(
                MSendConf::new("T18bc4a2e01".into(), MmsVersion::V1_2, ResponseStatus::OK)
                    .with_message_id("20231123100000-abc123@mmsc.example.net".into()),
            ),
        ),
        (
            "notification-ind",
            Pdu::NotificationInd(
                MNotificationInd::new(
                    "N-7f3a9c".into(),
                    MmsVersion::V1_2,
                    MessageClass::PERSONAL,
                    12_345,
                    TimeValue::Relative(604_800),
                    "http://mmsc.example.net/mms/7f3a9c".into(),
                )
                .with_from(FromValue::Address(MmsAddress::new(ALICE)))
                .with_subject(EncodedString::utf8("Photos ☀"))
                .with_delivery_report(YesNo::YES),
            ),
        ),
        (
            "notifyresp-ind",
            Pdu::NotifyRespInd(
                MNotifyRespInd::new("N-7f3a9c".into(), MmsVersion::V1_2, Status::RETRIEVED)
                    .with_report_allowed(YesNo::YES),
            ),
        ),
        (
            "retrieve-conf",
            Pdu::RetrieveConf(
                MRetrieveConf::new(MmsVersion::V1_2, DATE, ct, body)
                    .with_transaction_id("N-7f3a9c".into())
                    .with_message_id("20231123100000-abc123@mmsc.example.net".into())
                    .with_from(FromValue::Address(MmsAddress::new(ALICE)))
                    .with_to(MmsAddress::new(BOB))
                    .with_subject(EncodedString::utf8("Photos ☀"))
                    .with_message_class(MessageClass::PERSONAL)
                    .with_priority(Priority::NORMAL)
                    .with_delivery_report(YesNo::NO)
                    .with_retrieve_status(RetrieveStatus::OK),
            ),
        ),
        (
            "acknowledge-ind",
            Pdu::AcknowledgeInd(
                MAcknowledgeInd::new("N-7f3a9c".into(), MmsVersion::V1_2)
                    .with_report_allowed(YesNo::YES),
            ),
        ),
        (
            "delivery-ind",
            Pdu::DeliveryInd(MDeliveryInd::new(
                MmsVersion::V1_2,
                "20231123100000-abc123@mmsc.example.net".into(),
                MmsAddress::new(BOB),
                DATE + 60,
                Status::RETRIEVED,
            )),
        ),
        (
            "read-rec-ind",
            Pdu::ReadRecInd(
                MReadRecInd::new(
                    MmsVersion::V1_2,
                    "20231123100000-abc123@mmsc.example.net".into(),
                    MmsAddress::new(ALICE),
                    FromValue::InsertAddress,
                    ReadStatus::READ,
                )
                .with_date(DATE + 120),
            ),
        ),
        (
            "read-orig-ind",
            Pdu::ReadOrigInd(MReadOrigInd::new(
                MmsVersion::V1_2,
                "20231123100000-abc123@mmsc.example.net".into(),
                MmsAddress::new(ALICE),
                FromValue::Address(MmsAddress::new(BOB)),
                DATE + 120,
                ReadStatus::READ,
            )),
        ),
        (
            "forward-req",
            Pdu::ForwardReq(
                MForwardReq::new(
                    "F-0001".into(),
                    MmsVersion::V1_2,
                    FromValue::InsertAddress,
                    "http://mmsc.example.net/mms/7f3a9c".into(),
                )
                .with_to(MmsAddress::new("+447700900789/TYPE=PLMN"))
                .with_delivery_report(YesNo::NO),
            ),
        ),
        (
            "forward-conf",
            Pdu::ForwardConf(
                MForwardConf::new("F-0001".into(), MmsVersion::V1_2, ResponseStatus::OK)
                    .with_message_id("20231123100500-def456@mmsc.example.net".into()),
            ),
        ),
    ]
}

/// One PDU of each MMS 1.3 type decoded generically, with typed headers.
pub(super) fn generic_samples() -> Vec<(&'static str, GenericPdu)> {
    let tid = || Header::new(FieldName::TRANSACTION_ID, Value::Text("G-1".into()));
    let ver = || {
        Header::new(
            FieldName::MMS_VERSION,
            Value::Token(MmsVersion::V1_3.octet()),
        )
    };
    let loc = |s: &str| Header::new(FieldName::CONTENT_LOCATION, Value::Text(s.into()));
    let status = Header::new(
        FieldName::STORE_STATUS,
        Value::Token(StoreStatus::SUCCESS.0),
    );
    let text_part = Content {
        content_type: ContentType::multipart_mixed(),
        body: Body::Multipart(vec![Part::new(
            ContentType::new("text/plain").with_charset(Charset::UTF_8),
            b"stored".to_vec(),
        )]),
    };
    let mk = |t: MessageType, headers: Vec<Header>, content: Option<Content>| GenericPdu {
        message_type: t,
        headers,
        content,
    };
    vec![
        (
            "mbox-store-req",
            mk(
                MessageType::MBOX_STORE_REQ,
                vec![
                    tid(),
                    ver(),
                    loc("http://mmsc.example.net/mms/1"),
                    Header::new(FieldName::MM_STATE, Value::Token(MmState::NEW.0)),
                    Header::new(
                        FieldName::MM_FLAGS,
                        Value::MmFlags(MmFlags {
                            operation: FlagOperation::ADD,
                            flag: EncodedString::plain("important"),
                        }),
                    ),
                ],
                None,
            ),
        ),
        (
            "mbox-store-conf",
            mk(
                MessageType::MBOX_STORE_CONF,
                vec![
                    tid(),
                    ver(),
                    loc("http://mmsc.example.net/mbox/1"),
                    status.clone(),
                    Header::new(
                        FieldName::STORE_STATUS_TEXT,
                        Value::EncodedString(EncodedString::utf8("stored ✓")),
                    ),
                ],
                None,
            ),
        ),
        (
            "mbox-view-req",
            mk(
                MessageType::MBOX_VIEW_REQ,
                vec![
                    tid(),
                    ver(),
                    Header::new(FieldName::MM_STATE, Value::Token(MmState::NEW.0)),
                    Header::new(FieldName::START, Value::Integer(0)),
                    Header::new(FieldName::LIMIT, Value::Integer(500)),
                    Header::new(
                        FieldName::ATTRIBUTES,
                        Value::Token(0x80 | FieldName::SUBJECT.0),
                    ),
                    Header::new(FieldName::TOTALS, Value::Token(YesNo::YES.0)),
                    Header::new(FieldName::QUOTAS, Value::Token(YesNo::YES.0)),
                ],
                None,
            ),
        ),
        (
            "mbox-view-conf",
            mk(
                MessageType::MBOX_VIEW_CONF,
                vec![
                    tid(),
                    ver(),
                    Header::new(
                        FieldName::RESPONSE_STATUS,
                        Value::Token(ResponseStatus::OK.0),
                    ),
                    Header::new(
                        FieldName::MBOX_TOTALS,
                        Value::MboxCount(MboxCount {
                            unit: MboxUnit::MESSAGES,
                            value: 42,
                        }),
                    ),
                    Header::new(
                        FieldName::MBOX_QUOTAS,
                        Value::MboxCount(MboxCount {
                            unit: MboxUnit::SIZE,
                            value: 10_000_000,
                        }),
                    ),
                    Header::new(FieldName::MESSAGE_COUNT, Value::Integer(1)),
                ],
                Some(Content {
                    content_type: ContentType::multipart_mixed(),
                    body: Body::Multipart(vec![Part::new(
                        ContentType::new("application/vnd.wap.mms-message"),
                        vec![0x8C, 0x93, 0x8D, 0x93],
                    )]),
                }),
            ),
        ),
        (
            "mbox-upload-req",
            mk(
                MessageType::MBOX_UPLOAD_REQ,
                vec![
                    tid(),
                    ver(),
                    Header::new(FieldName::MM_STATE, Value::Token(MmState::DRAFT.0)),
                ],
                Some(text_part.clone()),
            ),
        ),
        (
            "mbox-upload-conf",
            mk(
                MessageType::MBOX_UPLOAD_CONF,
                vec![tid(), ver(), loc("http://mmsc.example.net/mbox/2"), status],
                None,
            ),
        ),
        (
            "mbox-delete-req",
            mk(
                MessageType::MBOX_DELETE_REQ,
                vec![tid(), ver(), loc("http://mmsc.example.net/mbox/1")],
                None,
            ),
        ),
        (
            "mbox-delete-conf",
            mk(
                MessageType::MBOX_DELETE_CONF,
                vec![
                    tid(),
                    ver(),
                    Header::new(
                        FieldName::CONTENT_LOCATION,
                        Value::CountedLocation(CountedLocation {
                            status_count: 0,
                            uri: "http://mmsc.example.net/mbox/1".into(),
                        }),
                    ),
                    Header::new(
                        FieldName::RESPONSE_STATUS,
                        Value::Token(ResponseStatus::OK.0),
                    ),
                ],
                None,
            ),
        ),
        (
            "mbox-descr",
            mk(
                MessageType::MBOX_DESCR,
                vec![
                    ver(),
                    loc("http://mmsc.example.net/mbox/1"),
                    Header::new(FieldName::MESSAGE_ID, Value::Text("m-1".into())),
                    Header::new(FieldName::MM_STATE, Value::Token(MmState::NEW.0)),
                    Header::new(FieldName::DATE, Value::Long(DATE)),
                    Header::new(FieldName::MESSAGE_SIZE, Value::Long(2048)),
                    Header::new(
                        FieldName::PREVIOUSLY_SENT_BY,
                        Value::PreviouslySentBy(PreviouslySentBy {
                            forwarded_count: 1,
                            address: MmsAddress::new(ALICE),
                        }),
                    ),
                    Header::new(
                        FieldName::PREVIOUSLY_SENT_DATE,
                        Value::PreviouslySentDate(PreviouslySentDate {
                            forwarded_count: 1,
                            date: DATE - 3600,
                        }),
                    ),
                ],
                Some(text_part),
            ),
        ),
        (
            "delete-req",
            mk(
                MessageType::DELETE_REQ,
                vec![tid(), ver(), loc("http://mmsc.example.net/mms/7f3a9c")],
                None,
            ),
        ),
        (
            "delete-conf",
            mk(
                MessageType::DELETE_CONF,
                vec![
                    tid(),
                    ver(),
                    Header::new(
                        FieldName::CONTENT_LOCATION,
                        Value::CountedLocation(CountedLocation {
                            status_count: 1,
                            uri: "http://mmsc.example.net/mms/7f3a9c".into(),
                        }),
                    ),
                    Header::new(
                        FieldName::RESPONSE_STATUS,
                        Value::Token(ResponseStatus::OK.0),
                    ),
                ],
                None,
            ),
        ),
        (
            "cancel-req",
            mk(
                MessageType::CANCEL_REQ,
                vec![
                    tid(),
                    ver(),
                    Header::new(
                        FieldName::CANCEL_ID,
                        Value::Text("20231123100000-abc123".into()),
                    ),
                ],
                None,
            ),
        ),
        (
            "cancel-conf",
            mk(
                MessageType::CANCEL_CONF,
                vec![
                    tid(),
                    ver(),
                    Header::new(
                        FieldName::CANCEL_STATUS,
                        Value::Token(CancelStatus::REQUEST_RECEIVED.0),
                    ),
                ],
                None,
            ),
        ),
    ]
}
