use super::*;
use std::net::Ipv4Addr;

mod oracle;
mod vectors;

use vectors::hex;

const MMSC_HOST: &str = "mmsc.example.net";
const REALM: &str = "example.net";
const OCS_HOST: &str = "ocs.example.net";
/// 2023-11-14T22:13:20Z.
const T0: i64 = 1_700_000_000;

fn t0() -> DiameterTime {
    DiameterTime::from_unix_seconds(T0).expect("in range")
}

fn seed_cer() -> CapabilitiesExchangeRequest {
    CapabilitiesExchangeRequest {
        hop_by_hop: 0x2a01,
        end_to_end: 0x5e00_0001,
        capabilities: Capabilities::mmsc(MMSC_HOST, REALM, Ipv4Addr::new(192, 0, 2, 10).into()),
        extra: Vec::new(),
    }
}

fn mm9_ccr() -> CreditControlRequest {
    let mut ccr = CreditControlRequest::event(
        "mmsc.example.net;1700000000;1",
        MMSC_HOST,
        REALM,
        REALM,
        "447700900123",
    );
    ccr.hop_by_hop = 0x2a02;
    ccr.end_to_end = 0x5e00_0002;
    ccr.destination_host = Some(OCS_HOST.to_owned());
    ccr.event_timestamp = Some(t0());
    ccr.ms_timezone = MsTimeZone::new(4, 0);
    let recipient = MmsAddress {
        addressee_type: Some(AddresseeType::TO),
        ..MmsAddress::msisdn("447700900456")
    };
    ccr.service_information = Some(ServiceInformation {
        mms_information: Some(MmsInformation {
            originator_address: Some(MmsAddress::msisdn("447700900123")),
            recipient_addresses: vec![recipient],
            submission_time: Some(t0()),
            mm_content_type: Some(MmContentType {
                type_number: Some(TypeNumber::MULTIPART_RELATED),
                content_size: Some(1024),
                ..MmContentType::default()
            }),
            message_id: Some("msg-0001".to_owned()),
            message_type: Some(MessageType::M_SEND_REQ),
            message_size: Some(2048),
            message_class: Some(MessageClass {
                class_identifier: Some(ClassIdentifier::PERSONAL),
                token_text: None,
            }),
            ..MmsInformation::default()
        }),
        extra: Vec::new(),
    });
    ccr
}

fn dcca_ccr() -> CreditControlRequest {
    let mut ccr = CreditControlRequest::event(
        "mmsc.example.net;1700000000;2",
        MMSC_HOST,
        REALM,
        REALM,
        "447700900123",
    );
    ccr.hop_by_hop = 0x2a03;
    ccr.end_to_end = 0x5e00_0003;
    ccr.sgsn_mcc_mnc = Some("23415".to_owned());
    ccr.sgsn_address = Some(Ipv4Addr::new(198, 51, 100, 7).into());
    ccr.service_identifier = Some(1001);
    ccr.requested_service_unit = Some(ServiceUnit::money(
        CcMoney::from_decimal("0.25", Some(978)).expect("valid amount"),
    ));
    ccr
}

fn ocs_cea() -> CapabilitiesExchangeAnswer {
    CapabilitiesExchangeAnswer {
        hop_by_hop: 0x2a01,
        end_to_end: 0x5e00_0001,
        result_code: ResultCode::SUCCESS,
        capabilities: Capabilities {
            origin_host: OCS_HOST.to_owned(),
            origin_realm: REALM.to_owned(),
            host_ip_addresses: vec![Ipv4Addr::new(192, 0, 2, 20).into()],
            vendor_id: VendorId(0),
            product_name: "OCS".to_owned(),
            origin_state_id: None,
            supported_vendor_ids: Vec::new(),
            auth_application_ids: vec![ApplicationId::CREDIT_CONTROL],
            inband_security_ids: Vec::new(),
            acct_application_ids: Vec::new(),
            vendor_specific_application_ids: Vec::new(),
            firmware_revision: None,
        },
        error_message: None,
        failed_avp: None,
        extra: Vec::new(),
    }
}

fn ocs_cca() -> CreditControlAnswer {
    let mut cca =
        CreditControlAnswer::for_request(&mm9_ccr(), ResultCode::SUCCESS, OCS_HOST, REALM);
    cca.multiple_services_credit_control = vec![MultipleServicesCreditControl {
        granted_service_unit: Some(ServiceUnit::units(1)),
        result_code: Some(ResultCode::SUCCESS),
        ..MultipleServicesCreditControl::default()
    }];
    cca
}

/// An AVP with a 3GPP-style vendor this crate has no dictionary entry for.
fn unknown_vendor_avp() -> Avp {
    Avp {
        code: AvpCode(4242),
        flags: AvpFlags::VENDOR,
        vendor: Some(VendorId(9_999_999)),
        data: b"opaque\x00\x01\x02".to_vec(),
    }
}

/// An IETF-space AVP code nobody assigned here, M set, odd length.
fn unknown_plain_avp() -> Avp {
    Avp {
        code: AvpCode(65_000),
        flags: AvpFlags::MANDATORY,
        vendor: None,
        data: vec![0xde, 0xad, 0xbe],
    }
}

fn all_vectors() -> Vec<(&'static str, Vec<u8>)> {
    vec![
        ("CER", hex(vectors::CER)),
        ("CCR MM9", hex(vectors::CCR_MM9)),
        ("CCR DCCA", hex(vectors::CCR_DCCA)),
        ("CEA", hex(vectors::CEA)),
        ("CCA", hex(vectors::CCA)),
    ]
}

/// Compares byte by byte and reports the first difference with context.
#[track_caller]
fn assert_bytes(actual: &[u8], expected: &[u8]) {
    if let Some(i) = actual.iter().zip(expected).position(|(a, b)| a != b) {
        let from = i.saturating_sub(8);
        panic!(
            "first difference at offset {i:#x}: got {:02x?}, expected {:02x?}",
            &actual[from..(i + 8).min(actual.len())],
            &expected[from..(i + 8).min(expected.len())],
        );
    }
    assert_eq!(actual.len(), expected.len(), "lengths differ");
}

/// Typed encode, decode and encode again: same value, same bytes; and the
/// generic layer gives back the same bytes too.
#[track_caller]
fn assert_typed_round_trip<C: Command + PartialEq + core::fmt::Debug>(value: &C) -> Vec<u8> {
    let bytes = value.to_bytes().expect("encodes");
    let decoded = C::from_bytes(&bytes).expect("decodes");
    assert_eq!(&decoded, value);
    assert_bytes(&decoded.to_bytes().expect("re-encodes"), &bytes);
    let generic = Message::from_bytes(&bytes).expect("generic decode");
    assert_bytes(&generic.to_bytes().expect("generic encode"), &bytes);
    bytes
}

// ---- vectors, byte by byte ----

#[test]
fn cer_matches_seed_vector() {
    let bytes = seed_cer().to_bytes().expect("encodes");
    assert_bytes(&bytes, &hex(vectors::CER));
    assert_eq!(
        CapabilitiesExchangeRequest::from_bytes(&bytes),
        Ok(seed_cer())
    );
}

#[test]
fn ccr_event_mm9_matches_vector() {
    let bytes = mm9_ccr().to_bytes().expect("encodes");
    assert_bytes(&bytes, &hex(vectors::CCR_MM9));
    assert_eq!(CreditControlRequest::from_bytes(&bytes), Ok(mm9_ccr()));
}

#[test]
fn ccr_event_dcca_with_money_matches_vector() {
    let bytes = dcca_ccr().to_bytes().expect("encodes");
    assert_bytes(&bytes, &hex(vectors::CCR_DCCA));
    assert_eq!(CreditControlRequest::from_bytes(&bytes), Ok(dcca_ccr()));
}

#[test]
fn decodes_hand_written_cea_with_success() {
    let bytes = hex(vectors::CEA);
    let cea = CapabilitiesExchangeAnswer::from_bytes(&bytes).expect("decodes");
    assert_eq!(cea.result_code, ResultCode::SUCCESS);
    assert!(cea.result_code.is_success());
    assert_eq!(cea.capabilities.origin_host, OCS_HOST);
    assert_eq!(
        cea.capabilities.host_ip_addresses[0].ip(),
        Some(Ipv4Addr::new(192, 0, 2, 20).into())
    );
    assert_eq!(cea, ocs_cea());
    assert_bytes(&cea.to_bytes().expect("encodes"), &bytes);
}

#[test]
fn decodes_hand_written_cca_with_success() {
    let bytes = hex(vectors::CCA);
    let cca = CreditControlAnswer::from_bytes(&bytes).expect("decodes");
    assert_eq!(cca.result_code, Some(ResultCode::SUCCESS));
    assert!(cca.is_success());
    assert_eq!(cca.session_id, "mmsc.example.net;1700000000;1");
    assert_eq!(cca.cc_request_type, CcRequestType::EVENT);
    let granted = cca.multiple_services_credit_control[0]
        .granted_service_unit
        .as_ref()
        .and_then(|g| g.cc_service_specific_units);
    assert_eq!(granted, Some(1));
    assert_eq!(cca, ocs_cca());
    assert_bytes(&cca.to_bytes().expect("encodes"), &bytes);
}

#[test]
fn generic_layer_reads_vectors_by_code_and_vendor() {
    let ccr = Message::from_bytes(&hex(vectors::CCR_MM9)).expect("decodes");
    assert_eq!(ccr.header.code, CommandCode::CCR);
    assert!(
        ccr.header
            .flags
            .contains(CommandFlags::REQUEST.union(CommandFlags::PROXIABLE))
    );
    assert_eq!(ccr.header.application, ApplicationId::CREDIT_CONTROL);
    assert_eq!(
        ccr.require::<String>(&dict::SERVICE_CONTEXT_ID).as_deref(),
        Ok("32270@3gpp.org")
    );
    assert_eq!(ccr.get::<u32>(&dict::CC_REQUEST_NUMBER), Ok(Some(0)));
    assert_eq!(ccr.get::<u32>(&dict::RESULT_CODE), Ok(None));
    let tz = ccr
        .find_by(AvpCode(23), Some(VendorId::TGPP))
        .expect("3GPP-MS-TimeZone");
    assert_eq!(tz.data, [0x40, 0x00]);
    assert!(!tz.flags.is_mandatory());
    assert_eq!(
        ccr.get_by::<u32>(AvpCode(415), None),
        Ok(Some(0)),
        "CC-Request-Number by code"
    );
    assert_eq!(
        ccr.get_by::<u32>(AvpCode(23), Some(VendorId::TGPP)),
        Err(DecodeError::InvalidAvp {
            avp: "3GPP-MS-TimeZone",
            problem: ValueError::WrongLength {
                expected: 4,
                found: 2
            }
        })
    );
    // The IETF code 23 with no vendor is a different attribute.
    assert!(ccr.find_by(AvpCode(23), None).is_none());
    assert_eq!(
        ccr.require::<u32>(&dict::USER_NAME),
        Err(DecodeError::MissingAvp("User-Name"))
    );
}

// ---- typed round trips ----

#[test]
fn every_typed_message_round_trips_to_identical_bytes() {
    assert_typed_round_trip(&seed_cer());
    assert_typed_round_trip(&ocs_cea());
    assert_typed_round_trip(&mm9_ccr());
    assert_typed_round_trip(&dcca_ccr());
    assert_typed_round_trip(&ocs_cca());

    let mut cer = seed_cer();
    cer.capabilities.origin_state_id = Some(7);
    cer.capabilities.supported_vendor_ids = vec![VendorId::TGPP];
    cer.capabilities.inband_security_ids = vec![InbandSecurityId::NO_INBAND_SECURITY];
    cer.capabilities
        .host_ip_addresses
        .push(Address::V6("2001:db8::1".parse().expect("ip")));
    cer.capabilities.vendor_specific_application_ids = vec![VendorSpecificApplicationId {
        vendor_id: VendorId::TGPP,
        auth_application_id: Some(ApplicationId(16_777_238)),
        acct_application_id: None,
    }];
    cer.capabilities.firmware_revision = Some(3);
    cer.extra = vec![unknown_vendor_avp(), unknown_plain_avp()];
    assert_typed_round_trip(&cer);

    let mut cea = ocs_cea();
    cea.result_code = ResultCode::UNKNOWN_PEER;
    cea.error_message = Some("peer not configured".to_owned());
    cea.failed_avp = Some(vec![Avp::new(&dict::ORIGIN_HOST, MMSC_HOST)]);
    let bytes = assert_typed_round_trip(&cea);
    assert_eq!(
        bytes[4],
        CommandFlags::ERROR.0,
        "3xxx answers carry the E flag"
    );

    let dwr = DeviceWatchdogRequest {
        hop_by_hop: 1,
        end_to_end: 2,
        origin_host: MMSC_HOST.to_owned(),
        origin_realm: REALM.to_owned(),
        origin_state_id: Some(42),
        extra: Vec::new(),
    };
    let bytes = assert_typed_round_trip(&dwr);
    assert_eq!(&bytes[4..8], &[0x80, 0x00, 0x01, 0x18], "R, command 280");
    assert_typed_round_trip(&DeviceWatchdogAnswer {
        hop_by_hop: 1,
        end_to_end: 2,
        result_code: ResultCode::SUCCESS,
        origin_host: OCS_HOST.to_owned(),
        origin_realm: REALM.to_owned(),
        error_message: None,
        failed_avp: None,
        origin_state_id: Some(9),
        extra: vec![unknown_plain_avp()],
    });
    let bytes = assert_typed_round_trip(&DisconnectPeerRequest {
        hop_by_hop: 3,
        end_to_end: 4,
        origin_host: MMSC_HOST.to_owned(),
        origin_realm: REALM.to_owned(),
        disconnect_cause: DisconnectCause::DO_NOT_WANT_TO_TALK_TO_YOU,
        extra: Vec::new(),
    });
    assert_eq!(&bytes[4..8], &[0x80, 0x00, 0x01, 0x1a], "R, command 282");
    assert_typed_round_trip(&DisconnectPeerAnswer {
        hop_by_hop: 3,
        end_to_end: 4,
        result_code: ResultCode::SUCCESS,
        origin_host: OCS_HOST.to_owned(),
        origin_realm: REALM.to_owned(),
        error_message: Some("bye".to_owned()),
        failed_avp: None,
        extra: Vec::new(),
    });
}

#[test]
fn ccr_session_lifecycle_round_trips() {
    let mut ccr = dcca_ccr();
    ccr.requested_action = None;
    for (n, request_type) in [
        CcRequestType::INITIAL,
        CcRequestType::UPDATE,
        CcRequestType::TERMINATION,
    ]
    .into_iter()
    .enumerate()
    {
        ccr.cc_request_type = request_type;
        ccr.cc_request_number = n as u32;
        ccr.retransmission = n == 1;
        ccr.user_name = Some("alice".to_owned());
        ccr.origin_state_id = Some(5);
        ccr.multiple_services_indicator = Some(MultipleServicesIndicator::SUPPORTED);
        ccr.used_service_units = vec![ServiceUnit {
            cc_time: Some(30),
            cc_total_octets: Some(1 << 40),
            cc_input_octets: Some(1),
            cc_output_octets: Some(2),
            ..ServiceUnit::default()
        }];
        ccr.multiple_services_credit_control = vec![MultipleServicesCreditControl {
            requested_service_unit: Some(ServiceUnit::units(3)),
            used_service_units: vec![ServiceUnit::units(1)],
            service_identifiers: vec![1, 2],
            rating_group: Some(100),
            validity_time: Some(3600),
            extra: vec![unknown_vendor_avp()],
            ..MultipleServicesCreditControl::default()
        }];
        ccr.termination_cause =
            (request_type == CcRequestType::TERMINATION).then_some(TerminationCause::LOGOUT);
        ccr.extra = vec![unknown_plain_avp()];
        let bytes = assert_typed_round_trip(&ccr);
        assert_eq!(
            bytes[4] & CommandFlags::RETRANSMITTED.0 != 0,
            n == 1,
            "T flag"
        );
    }
}

#[test]
fn cca_with_every_modelled_field_round_trips() {
    let mut cca = ocs_cca();
    cca.result_code = None;
    cca.experimental_result = Some(ExperimentalResult {
        vendor_id: VendorId::TGPP,
        experimental_result_code: 5030,
    });
    cca.origin_state_id = Some(1);
    cca.event_timestamp = Some(t0());
    cca.granted_service_unit = Some(ServiceUnit::money(
        CcMoney::from_decimal("12.345", None).expect("amount"),
    ));
    cca.cost_information = Some(CostInformation {
        unit_value: UnitValue::from_decimal("0.25").expect("amount"),
        currency_code: 978,
        cost_unit: Some("MMS".to_owned()),
    });
    cca.credit_control_failure_handling = Some(CreditControlFailureHandling::RETRY_AND_TERMINATE);
    cca.direct_debiting_failure_handling = Some(DirectDebitingFailureHandling::CONTINUE);
    cca.validity_time = Some(60);
    cca.error_message = Some("user unknown".to_owned());
    cca.failed_avps = vec![
        vec![Avp::new(&dict::SUBSCRIPTION_ID_DATA, "447700900123")],
        vec![unknown_vendor_avp()],
    ];
    cca.extra = vec![unknown_vendor_avp()];
    assert!(!cca.is_success());
    assert_typed_round_trip(&cca);

    cca.result_code = Some(ResultCode::TOO_BUSY);
    let bytes = assert_typed_round_trip(&cca);
    assert_eq!(bytes[4], 0x60, "P and E for a 3xxx answer");
}

// ---- unknown AVPs and commands ----

#[test]
fn unknown_avps_survive_generic_round_trip() {
    let message = Message {
        header: Header {
            flags: CommandFlags::REQUEST,
            code: CommandCode::CCR,
            application: ApplicationId::CREDIT_CONTROL,
            hop_by_hop: 1,
            end_to_end: 2,
        },
        avps: vec![
            unknown_plain_avp(),
            unknown_vendor_avp(),
            // Reserved flag bits and the P bit are kept as received.
            Avp {
                code: AvpCode(1),
                flags: AvpFlags(0x3f),
                vendor: None,
                data: Vec::new(),
            },
        ],
    };
    let bytes = message.to_bytes().expect("encodes");
    let expected = hex("
        01 000040 80 000110 00000004 00000001 00000002
        0000fde8 40 00000b deadbe 00                       # code 65000, M, length 11
        00001092 80 000015 0098967f 6f70617175650001 02 000000 # code 4242, V, vendor 9999999
        00000001 3f 000008                                 # code 1, flags 0x3f, empty
    ");
    assert_bytes(&bytes, &expected);
    let decoded = Message::from_bytes(&bytes).expect("decodes");
    assert_eq!(decoded, message);
    assert_bytes(&decoded.to_bytes().expect("re-encodes"), &bytes);
}

#[test]
fn unknown_avps_survive_typed_round_trip() {
    // Appended to a received CCR, they land in `extra` and are written back.
    let mut bytes = hex(vectors::CCR_MM9);
    let mut tail = Vec::new();
    unknown_vendor_avp().encode(&mut tail).expect("encodes");
    unknown_plain_avp().encode(&mut tail).expect("encodes");
    bytes.extend_from_slice(&tail);
    let length = bytes.len() as u32;
    bytes[1..4].copy_from_slice(&length.to_be_bytes()[1..]);

    let ccr = CreditControlRequest::from_bytes(&bytes).expect("decodes");
    assert_eq!(ccr.extra, vec![unknown_vendor_avp(), unknown_plain_avp()]);
    assert_bytes(&ccr.to_bytes().expect("encodes"), &bytes);

    // Inside a group, the same: an unknown child of MMS-Information.
    let mut ccr = mm9_ccr();
    if let Some(mms) = ccr
        .service_information
        .as_mut()
        .and_then(|s| s.mms_information.as_mut())
    {
        mms.extra.push(unknown_vendor_avp());
    }
    let decoded = CreditControlRequest::from_bytes(&ccr.to_bytes().expect("encodes"));
    assert_eq!(decoded, Ok(ccr));
}

#[test]
fn unknown_command_survives_generic_round_trip() {
    let bytes = hex("
        01 000020                     # length 32
        ab 7fffff                     # flags R E + reserved 0x0b, command 8388607
        01000000 deadbeef cafef00d    # application 16777216, ids
        00000102 40 00000c 01000000   # Auth-Application-Id
    ");
    let message = Message::from_bytes(&bytes).expect("decodes");
    assert_eq!(message.header.code, CommandCode(0x7f_ffff));
    assert_eq!(message.header.code.name(), None);
    assert_eq!(message.header.flags, CommandFlags(0xab));
    assert_bytes(&message.to_bytes().expect("encodes"), &bytes);
    assert_eq!(
        CreditControlRequest::from_message(&message),
        Err(DecodeError::UnexpectedCommand {
            expected: CommandCode::CCR,
            found: CommandCode(0x7f_ffff)
        })
    );
}

// ---- grouped AVPs ----

#[test]
fn grouped_avps_nest_and_read_level_by_level() {
    let ccr = Message::from_bytes(&hex(vectors::CCR_MM9)).expect("decodes");
    let service = ccr
        .find(&dict::SERVICE_INFORMATION)
        .expect("Service-Information");
    assert_eq!(service.flags, AvpFlags::VENDOR);
    let mms = service.children().expect("grouped");
    let mms = mms
        .find(&dict::MMS_INFORMATION)
        .expect("MMS-Information")
        .children()
        .expect("grouped");
    let originator = mms
        .find(&dict::ORIGINATOR_ADDRESS)
        .expect("originator")
        .children()
        .expect("grouped");
    assert_eq!(
        originator.require::<AddressType>(&dict::ADDRESS_TYPE),
        Ok(AddressType::MSISDN)
    );
    assert_eq!(
        originator.require::<String>(&dict::ADDRESS_DATA).as_deref(),
        Ok("447700900123")
    );
    let recipients: Vec<_> = mms.find_all(&dict::RECIPIENT_ADDRESS).collect();
    assert_eq!(recipients.len(), 1);
    let class = mms
        .find(&dict::MESSAGE_CLASS)
        .expect("class")
        .children()
        .expect("grouped");
    assert_eq!(
        class.get(&dict::CLASS_IDENTIFIER),
        Ok(Some(ClassIdentifier::PERSONAL))
    );

    // Building the same group generically gives the same bytes as the typed path.
    let generic = Avp::grouped(
        &dict::SUBSCRIPTION_ID,
        &[
            Avp::new(
                &dict::SUBSCRIPTION_ID_TYPE,
                &SubscriptionIdType::END_USER_E164,
            ),
            Avp::new(&dict::SUBSCRIPTION_ID_DATA, "447700900123"),
        ],
    )
    .expect("groups");
    assert_eq!(ccr.find(&dict::SUBSCRIPTION_ID), Some(&generic));
}

#[test]
fn deep_unknown_groups_round_trip() {
    let mut avp = unknown_plain_avp();
    for depth in 0..50u32 {
        avp = Avp {
            code: AvpCode(70_000 + depth),
            flags: AvpFlags::VENDOR,
            vendor: Some(VendorId(depth)),
            data: {
                let mut data = Vec::new();
                avp.encode(&mut data).expect("encodes");
                data
            },
        };
    }
    let message = Message {
        header: Header::default(),
        avps: vec![avp.clone()],
    };
    let bytes = message.to_bytes().expect("encodes");
    let decoded = Message::from_bytes(&bytes).expect("decodes");
    assert_eq!(decoded, message);
    // Walk back down to the innermost AVP.
    let mut current = decoded.avps[0].clone();
    for _ in 0..50 {
        let mut children = current.children().expect("grouped");
        assert_eq!(children.len(), 1);
        current = children.remove(0);
    }
    assert_eq!(current, unknown_plain_avp());
}

#[test]
fn grouped_children_must_fill_the_group_exactly() {
    // A Subscription-Id whose data ends inside a child's header.
    let group = Avp {
        code: dict::SUBSCRIPTION_ID.code,
        flags: AvpFlags::MANDATORY,
        vendor: None,
        data: hex("000001c2 40 00000c 00000000 000001bc"),
    };
    assert!(matches!(
        group.children(),
        Err(DecodeError::Truncated {
            what: "AVP header",
            ..
        })
    ));
    // A child claiming more than the group holds.
    let group = Avp {
        data: hex("000001c2 40 000010 00000000"),
        ..group
    };
    assert!(matches!(
        group.children(),
        Err(DecodeError::AvpOverrun { .. })
    ));
}

// ---- malformed input ----

#[test]
fn every_truncated_prefix_fails_cleanly() {
    for (name, bytes) in all_vectors() {
        for len in 0..bytes.len() {
            let prefix = &bytes[..len];
            assert!(
                Message::from_bytes(prefix).is_err(),
                "{name}: prefix {len} decoded"
            );
            assert!(CreditControlRequest::from_bytes(prefix).is_err());
            assert!(CreditControlAnswer::from_bytes(prefix).is_err());
            assert!(CapabilitiesExchangeRequest::from_bytes(prefix).is_err());
            assert!(CapabilitiesExchangeAnswer::from_bytes(prefix).is_err());
            match frame_length(prefix) {
                Ok(None) => assert!(len < 4),
                Ok(Some(n)) => assert_eq!(n, bytes.len()),
                Err(e) => panic!("{name}: frame_length({len}): {e}"),
            }
        }
        assert!(Message::from_bytes(&bytes).is_ok(), "{name}");
    }
}

#[test]
fn truncated_prefix_names_what_is_missing() {
    let bytes = hex(vectors::CER);
    assert_eq!(
        Message::from_bytes(&bytes[..10]),
        Err(DecodeError::Truncated {
            what: "message header",
            needed: 4,
            available: 2
        })
    );
    assert_eq!(
        Message::from_bytes(&bytes[..100]),
        Err(DecodeError::Truncated {
            what: "message",
            needed: 128,
            available: 100
        })
    );
}

/// Sets the 24-bit length of the AVP at `at`.
fn set_u24(bytes: &mut [u8], at: usize, value: u32) {
    bytes[at..at + 3].copy_from_slice(&value.to_be_bytes()[1..]);
}

#[test]
fn rejects_avp_length_below_header() {
    let mut bytes = hex(vectors::CER);
    // Origin-Host (first AVP at 20): length 4.
    set_u24(&mut bytes, 25, 4);
    assert_eq!(
        Message::from_bytes(&bytes),
        Err(DecodeError::InvalidAvpLength {
            code: AvpCode(264),
            length: 4
        })
    );
    // A vendor AVP needs 12: length 8 with V set is too short.
    let mut bytes = hex(vectors::CCR_MM9);
    let tz = bytes
        .windows(8)
        .position(|w| w == [0, 0, 0, 0x17, 0x80, 0, 0, 0x0e])
        .expect("3GPP-MS-TimeZone");
    set_u24(&mut bytes, tz + 5, 8);
    assert_eq!(
        Message::from_bytes(&bytes),
        Err(DecodeError::InvalidAvpLength {
            code: AvpCode(23),
            length: 8
        })
    );
}

#[test]
fn rejects_message_length_mismatch() {
    let good = hex(vectors::CER);
    // Header claims more than the buffer holds.
    let mut bytes = good.clone();
    set_u24(&mut bytes, 1, 132);
    assert!(matches!(
        Message::from_bytes(&bytes),
        Err(DecodeError::Truncated {
            what: "message",
            needed: 132,
            available: 128
        })
    ));
    // Header claims less: the last AVP then overruns the message body.
    let mut bytes = good.clone();
    set_u24(&mut bytes, 1, 124);
    assert!(matches!(
        Message::from_bytes(&bytes),
        Err(DecodeError::AvpOverrun {
            code: AvpCode(259),
            ..
        })
    ));
    // ... or, cut on an AVP boundary, leaves trailing bytes.
    let mut bytes = good.clone();
    set_u24(&mut bytes, 1, 116);
    assert_eq!(
        Message::from_bytes(&bytes),
        Err(DecodeError::TrailingBytes { count: 12 })
    );
    // Not a multiple of 4, or shorter than the header.
    for length in [127, 19, 0] {
        let mut bytes = good.clone();
        set_u24(&mut bytes, 1, length);
        assert_eq!(
            Message::from_bytes(&bytes),
            Err(DecodeError::InvalidMessageLength(length))
        );
    }
    // Version 2.
    let mut bytes = good.clone();
    bytes[0] = 2;
    assert_eq!(
        Message::from_bytes(&bytes),
        Err(DecodeError::UnsupportedVersion(2))
    );
    assert_eq!(
        frame_length(&bytes),
        Err(DecodeError::UnsupportedVersion(2))
    );
}

#[test]
fn rejects_avp_length_beyond_message() {
    let mut bytes = hex(vectors::CER);
    // Acct-Application-Id (last AVP, at 116) claims 16 octets; 12 remain.
    set_u24(&mut bytes, 121, 16);
    assert_eq!(
        Message::from_bytes(&bytes),
        Err(DecodeError::AvpOverrun {
            code: AvpCode(259),
            length: 16,
            available: 4
        })
    );
    // Origin-Host claims the whole 24-bit range.
    let mut bytes = hex(vectors::CER);
    set_u24(&mut bytes, 25, 0xff_ffff);
    assert!(matches!(
        Message::from_bytes(&bytes),
        Err(DecodeError::AvpOverrun { .. })
    ));
}

#[test]
fn rejects_non_zero_padding() {
    let mut bytes = hex(vectors::CER);
    // Origin-Realm's padding octet is at 20 + 24 + 19.
    bytes[63] = 0x20;
    assert_eq!(
        Message::from_bytes(&bytes),
        Err(DecodeError::NonZeroPadding { code: AvpCode(296) })
    );
}

#[test]
fn from_bytes_rejects_trailing_bytes() {
    for (name, mut bytes) in all_vectors() {
        bytes.extend_from_slice(&[0, 0, 0, 0]);
        assert_eq!(
            Message::from_bytes(&bytes),
            Err(DecodeError::TrailingBytes { count: 4 }),
            "{name}"
        );
    }
    // Reading from a stream, the next message stays in the reader.
    let mut two = hex(vectors::CER);
    two.extend_from_slice(&hex(vectors::CEA));
    let mut r = Reader::new(&two);
    assert_eq!(
        Message::read(&mut r).map(|m| m.header.code),
        Ok(CommandCode::CER)
    );
    assert_eq!(r.remaining(), 128);
    assert!(Message::read(&mut r).is_ok());
    assert!(r.is_empty());
}

// ---- typed decode errors ----

/// `vector` with the AVPs matching `drop` removed (header length fixed up).
fn without(vector: &str, drop: &AvpDef) -> Vec<u8> {
    let mut m = Message::from_bytes(&hex(vector)).expect("decodes");
    m.avps.retain(|a| !a.is(drop));
    m.to_bytes().expect("encodes")
}

#[test]
fn typed_decode_names_the_missing_avp() {
    assert_eq!(
        CreditControlRequest::from_bytes(&without(vectors::CCR_MM9, &dict::SESSION_ID)),
        Err(DecodeError::MissingAvp("Session-Id"))
    );
    assert_eq!(
        CreditControlRequest::from_bytes(&without(vectors::CCR_MM9, &dict::SERVICE_CONTEXT_ID)),
        Err(DecodeError::MissingAvp("Service-Context-Id"))
    );
    assert_eq!(
        CreditControlAnswer::from_bytes(&without(vectors::CCA, &dict::RESULT_CODE)),
        Err(DecodeError::MissingAvp("Result-Code"))
    );
    assert_eq!(
        CapabilitiesExchangeRequest::from_bytes(&without(vectors::CER, &dict::HOST_IP_ADDRESS)),
        Err(DecodeError::MissingAvp("Host-IP-Address"))
    );
    assert_eq!(
        CapabilitiesExchangeAnswer::from_bytes(&without(vectors::CEA, &dict::PRODUCT_NAME)),
        Err(DecodeError::MissingAvp("Product-Name"))
    );
    // Missing inside a group: Subscription-Id without its data.
    let mut ccr = mm9_ccr();
    let mut m = Message::from_bytes(&ccr.to_bytes().expect("encodes")).expect("decodes");
    for avp in m.avps.iter_mut().filter(|a| a.is(&dict::SUBSCRIPTION_ID)) {
        *avp = Avp::grouped(
            &dict::SUBSCRIPTION_ID,
            &[Avp::new(&dict::SUBSCRIPTION_ID_TYPE, &0i32)],
        )
        .expect("groups");
    }
    assert_eq!(
        CreditControlRequest::from_message(&m),
        Err(DecodeError::MissingAvp("Subscription-Id-Data"))
    );
    // A single-valued AVP twice.
    ccr.extra = vec![Avp::new(&dict::CC_REQUEST_NUMBER, &1u32)];
    assert_eq!(
        CreditControlRequest::from_bytes(&ccr.to_bytes().expect("encodes")),
        Err(DecodeError::DuplicateAvp("CC-Request-Number"))
    );
}

#[test]
fn typed_decode_names_the_invalid_avp() {
    let mut m = Message::from_bytes(&hex(vectors::CCR_MM9)).expect("decodes");
    for avp in m.avps.iter_mut().filter(|a| a.is(&dict::CC_REQUEST_NUMBER)) {
        avp.data = vec![0, 0, 1];
    }
    assert_eq!(
        CreditControlRequest::from_message(&m),
        Err(DecodeError::InvalidAvp {
            avp: "CC-Request-Number",
            problem: ValueError::WrongLength {
                expected: 4,
                found: 3
            }
        })
    );
    for avp in m.avps.iter_mut().filter(|a| a.is(&dict::CC_REQUEST_NUMBER)) {
        avp.data = vec![0, 0, 0, 1];
    }
    for avp in m.avps.iter_mut().filter(|a| a.is(&dict::SESSION_ID)) {
        avp.data = vec![0xff, 0xfe];
    }
    assert_eq!(
        CreditControlRequest::from_message(&m),
        Err(DecodeError::InvalidAvp {
            avp: "Session-Id",
            problem: ValueError::InvalidUtf8
        })
    );
}

#[test]
fn typed_decode_checks_command_direction_and_application() {
    let cer = Message::from_bytes(&hex(vectors::CER)).expect("decodes");
    assert_eq!(
        CapabilitiesExchangeAnswer::from_message(&cer),
        Err(DecodeError::UnexpectedDirection {
            code: CommandCode::CER,
            expected_request: false
        })
    );
    assert!(matches!(
        DeviceWatchdogRequest::from_message(&cer),
        Err(DecodeError::UnexpectedCommand { .. })
    ));
    let mut ccr = Message::from_bytes(&hex(vectors::CCR_MM9)).expect("decodes");
    ccr.header.application = ApplicationId::COMMON;
    assert_eq!(
        CreditControlRequest::from_message(&ccr),
        Err(DecodeError::UnexpectedApplication {
            expected: ApplicationId::CREDIT_CONTROL,
            found: ApplicationId::COMMON
        })
    );
}

// ---- encoding limits ----

#[test]
fn encoding_refuses_what_24_bits_cannot_hold() {
    let huge = Avp {
        code: AvpCode(1),
        flags: AvpFlags::NONE,
        vendor: None,
        data: vec![0; MAX_U24 as usize],
    };
    let mut out = vec![1, 2, 3];
    assert_eq!(
        huge.encode(&mut out),
        Err(EncodeError::TooLong {
            what: "AVP",
            length: MAX_U24 as usize + 8
        })
    );
    assert_eq!(out, [1, 2, 3], "nothing written on error");

    let mut ccr = mm9_ccr();
    ccr.session_id = "x".repeat(MAX_U24 as usize);
    assert!(matches!(
        ccr.to_bytes(),
        Err(EncodeError::TooLong {
            what: "Session-Id",
            ..
        })
    ));
    // Each AVP fits but the message does not.
    ccr.session_id = "x".repeat(MAX_U24 as usize - 100);
    assert!(matches!(
        ccr.to_bytes(),
        Err(EncodeError::TooLong {
            what: "message",
            ..
        })
    ));

    let message = Message {
        header: Header {
            code: CommandCode(1 << 24),
            ..Header::default()
        },
        avps: Vec::new(),
    };
    assert_eq!(
        message.to_bytes(),
        Err(EncodeError::CommandCodeOutOfRange(1 << 24))
    );
}

// ---- values ----

#[test]
fn money_helper_follows_seed_004() {
    let v = UnitValue::from_decimal("0.25").expect("valid");
    assert_eq!((v.value_digits, v.exponent), (25, Some(-2)));
    let cases = [
        ("3", 3, 0),
        ("1.50", 150, -2),
        ("-0.5", -5, -1),
        ("+12.345", 12345, -3),
        (" 0.001 ", 1, -3),
        ("9223372036854775807", i64::MAX, 0),
    ];
    for (text, digits, exponent) in cases {
        let v: UnitValue = text.parse().expect(text);
        assert_eq!(
            (v.value_digits, v.exponent),
            (digits, Some(exponent)),
            "{text}"
        );
    }
    for (text, err) in [
        ("", MoneyError::NoDigits),
        ("1.", MoneyError::NoDigits),
        (".5", MoneyError::NoDigits),
        ("-", MoneyError::NoDigits),
        ("1,5", MoneyError::InvalidCharacter),
        ("1.2.3", MoneyError::InvalidCharacter),
        ("1e3", MoneyError::InvalidCharacter),
        ("9223372036854775808", MoneyError::TooManyDigits),
    ] {
        assert_eq!(UnitValue::from_decimal(text), Err(err), "{text:?}");
    }
}

#[test]
fn unit_value_displays_as_decimal() {
    let show = |value_digits, exponent| {
        UnitValue {
            value_digits,
            exponent,
        }
        .to_string()
    };
    assert_eq!(show(25, Some(-2)), "0.25");
    assert_eq!(show(150, Some(-2)), "1.50");
    assert_eq!(show(-5, Some(-1)), "-0.5");
    assert_eq!(show(1, Some(-3)), "0.001");
    assert_eq!(show(25, Some(2)), "2500");
    assert_eq!(show(25, None), "25");
    assert_eq!(show(i64::MIN, Some(-1)), "-922337203685477580.8");
    assert_eq!(show(25, Some(i32::MIN)), format!("25e{}", i32::MIN));
    for text in ["0.25", "1.50", "-0.5", "3", "0.001"] {
        assert_eq!(
            UnitValue::from_decimal(text).expect("valid").to_string(),
            text
        );
    }
}

#[test]
fn diameter_time_uses_ntp_epoch_and_rfc_4330_eras() {
    assert_eq!(t0().0, 0xe8fe_6f80);
    assert_eq!(t0().unix_seconds(), T0);
    assert_eq!(
        DiameterTime::from_unix_seconds(0),
        Some(DiameterTime(2_208_988_800))
    );
    // 2036-02-07T06:28:16Z wraps to 0 and still reads back as 2036.
    let wrap = 4_294_967_296 - 2_208_988_800;
    assert_eq!(DiameterTime::from_unix_seconds(wrap), Some(DiameterTime(0)));
    assert_eq!(DiameterTime(0).unix_seconds(), wrap);
    // Range ends.
    assert_eq!(DiameterTime(0x8000_0000).unix_seconds(), -61_505_152);
    assert_eq!(DiameterTime::from_unix_seconds(-61_505_153), None);
    assert_eq!(DiameterTime(0x7fff_ffff).unix_seconds(), 4_233_462_143);
    assert_eq!(DiameterTime::from_unix_seconds(4_233_462_144), None);
    assert_eq!(DiameterTime::from_unix_seconds(i64::MAX), None);
    let now = std::time::SystemTime::now();
    let t = DiameterTime::from_system_time(now).expect("now is in range");
    let back = t.to_system_time().expect("representable");
    assert!(now.duration_since(back).expect("not later").as_secs() < 1);
}

#[test]
fn ms_timezone_is_swapped_bcd_quarter_hours() {
    let cases = [
        (4, 0, [0x40, 0]),
        (-20, 0, [0x0a, 0]),
        (22, 1, [0x22, 1]),
        (0, 0, [0, 0]),
        (-79, 2, [0x9f, 2]),
    ];
    for (quarters, dst, octets) in cases {
        let tz = MsTimeZone::new(quarters, dst).expect("valid");
        assert_eq!(tz.0, octets, "{quarters}");
        assert_eq!(tz.quarter_hours(), Some(quarters));
        assert_eq!(tz.dst_hours(), dst);
    }
    assert_eq!(MsTimeZone::new(80, 0), None);
    assert_eq!(MsTimeZone::new(4, 3), None);
    assert_eq!(MsTimeZone([0xf0, 0]).quarter_hours(), None);
    assert_eq!(
        MsTimeZone::decode_value(&[1, 2, 3]),
        Err(ValueError::WrongLength {
            expected: 2,
            found: 3
        })
    );
}

#[test]
fn address_has_a_two_octet_family() {
    let cases: [(Address, Vec<u8>); 3] = [
        (Ipv4Addr::new(192, 0, 2, 1).into(), hex("0001 c0000201")),
        (
            Address::V6("2001:db8::2".parse().expect("ip")),
            hex("0002 20010db8000000000000000000000002"),
        ),
        (
            Address::Other {
                family: AddressFamily::E164,
                address: b"447700900123".to_vec(),
            },
            hex("0008 343437373030393030313233"),
        ),
    ];
    for (address, bytes) in cases {
        let mut out = Vec::new();
        address.encode_value(&mut out);
        assert_eq!(out, bytes);
        assert_eq!(Address::decode_value(&bytes), Ok(address));
    }
    assert_eq!(
        Address::decode_value(&[0]),
        Err(ValueError::MissingAddressFamily)
    );
    assert_eq!(
        Address::decode_value(&hex("0001 c00002")),
        Err(ValueError::WrongAddressLength {
            family: 1,
            found: 3
        })
    );
    assert_eq!(
        Address::decode_value(&hex("0002 c0000201")),
        Err(ValueError::WrongAddressLength {
            family: 2,
            found: 4
        })
    );
}

#[test]
fn base_types_have_exact_sizes() {
    fn round_trip<T: EncodeValue + DecodeValue + PartialEq + core::fmt::Debug>(v: T, size: usize) {
        let mut out = Vec::new();
        v.encode_value(&mut out);
        assert_eq!(out.len(), size);
        assert_eq!(T::decode_value(&out), Ok(v));
        assert_eq!(
            T::decode_value(&out[1..]),
            Err(ValueError::WrongLength {
                expected: size,
                found: size - 1
            })
        );
    }
    round_trip(-2i32, 4);
    round_trip(-2i64, 8);
    round_trip(u32::MAX, 4);
    round_trip(u64::MAX, 8);
    round_trip(1.5f32, 4);
    round_trip(-0.25f64, 8);
    round_trip(t0(), 4);
    round_trip(CcRequestType::EVENT, 4);
    round_trip(ResultCode::SUCCESS, 4);
    assert_eq!(String::decode_value(b"caf\xc3\xa9"), Ok("café".to_owned()));
    assert_eq!(Vec::<u8>::decode_value(&[1, 2]), Ok(vec![1, 2]));
    let uri = Avp::new(
        &dict::REDIRECT_HOST,
        "aaa://ocs.example.net:3868;transport=tcp",
    );
    assert_eq!(
        uri.value::<String>().as_deref(),
        Ok("aaa://ocs.example.net:3868;transport=tcp")
    );
}

#[test]
fn wire_numbers_are_open_and_named() {
    assert_eq!(CommandCode::CER, CommandCode(257));
    assert_eq!(CommandCode::DWR.0, 280);
    assert_eq!(CommandCode::DPR.0, 282);
    assert_eq!(CommandCode::CCR.0, 272);
    assert_eq!(CommandCode::CCA.name(), Some("Credit-Control"));
    assert_eq!(CommandCode(999).name(), None);
    assert_eq!(
        format!("{}", ResultCode::SUCCESS),
        "DIAMETER_SUCCESS (2001)"
    );
    assert_eq!(format!("{:?}", ResultCode(2999)), "ResultCode(2999)");
    assert_eq!(ResultCode(4012).class(), ResultClass::TransientFailure);
    assert_eq!(ResultCode(0).class(), ResultClass::Unknown);
    assert_eq!(RequestedAction::PRICE_ENQUIRY.0, 3);
    assert_eq!(CcRequestType::TERMINATION.0, 3);
    assert_eq!(SubscriptionIdType::END_USER_E164.0, 0);
    assert_eq!(format!("{:?}", CommandFlags(0xc0)), "CommandFlags(RP 0xc0)");
}

#[test]
fn dictionary_codes_flags_and_vendors_are_checked() {
    use std::collections::HashSet;
    let mut keys = HashSet::new();
    let mut names = HashSet::new();
    for def in dict::DICTIONARY {
        assert!(
            keys.insert((def.code, def.vendor)),
            "duplicate {}",
            def.name
        );
        assert!(names.insert(def.name), "duplicate name {}", def.name);
        assert_eq!(dict::lookup(def.code, def.vendor), Some(def));
        if def.vendor.is_some() {
            assert_eq!(def.vendor, Some(VendorId::TGPP), "{}", def.name);
            assert_eq!(
                def.flags(),
                AvpFlags::VENDOR,
                "{}: V set, M clear",
                def.name
            );
        }
    }
    let expect = [
        (&dict::SESSION_ID, 263, false),
        (&dict::ORIGIN_HOST, 264, false),
        (&dict::ORIGIN_REALM, 296, false),
        (&dict::DESTINATION_HOST, 293, false),
        (&dict::DESTINATION_REALM, 283, false),
        (&dict::AUTH_APPLICATION_ID, 258, false),
        (&dict::ACCT_APPLICATION_ID, 259, false),
        (&dict::VENDOR_ID, 266, false),
        (&dict::PRODUCT_NAME, 269, false),
        (&dict::HOST_IP_ADDRESS, 257, false),
        (&dict::SERVICE_CONTEXT_ID, 461, false),
        (&dict::CC_REQUEST_TYPE, 416, false),
        (&dict::CC_REQUEST_NUMBER, 415, false),
        (&dict::EVENT_TIMESTAMP, 55, false),
        (&dict::SUBSCRIPTION_ID, 443, false),
        (&dict::SUBSCRIPTION_ID_TYPE, 450, false),
        (&dict::SUBSCRIPTION_ID_DATA, 444, false),
        (&dict::REQUESTED_ACTION, 436, false),
        (&dict::TGPP_MS_TIMEZONE, 23, true),
        (&dict::TGPP_SGSN_MCC_MNC, 18, true),
        (&dict::SGSN_ADDRESS, 1228, true),
        (&dict::SERVICE_IDENTIFIER, 439, false),
        (&dict::REQUESTED_SERVICE_UNIT, 437, false),
        (&dict::USED_SERVICE_UNIT, 446, false),
        (&dict::GRANTED_SERVICE_UNIT, 431, false),
        (&dict::CC_MONEY, 413, false),
        (&dict::UNIT_VALUE, 445, false),
        (&dict::VALUE_DIGITS, 447, false),
        (&dict::EXPONENT, 429, false),
        (&dict::CURRENCY_CODE, 425, false),
        (&dict::CC_SERVICE_SPECIFIC_UNITS, 417, false),
        (&dict::MULTIPLE_SERVICES_CREDIT_CONTROL, 456, false),
        (&dict::SERVICE_INFORMATION, 873, true),
        (&dict::MMS_INFORMATION, 877, true),
        (&dict::ORIGINATOR_ADDRESS, 886, true),
        (&dict::ADDRESS_TYPE, 899, true),
        (&dict::ADDRESS_DATA, 897, true),
        (&dict::RECIPIENT_ADDRESS, 1201, true),
        (&dict::SUBMISSION_TIME, 1202, true),
        (&dict::MM_CONTENT_TYPE, 1203, true),
        (&dict::TYPE_NUMBER, 1204, true),
        (&dict::CONTENT_SIZE, 1206, true),
        (&dict::MESSAGE_ID, 1210, true),
        (&dict::MESSAGE_TYPE, 1211, true),
        (&dict::MESSAGE_SIZE, 1212, true),
        (&dict::MESSAGE_CLASS, 1213, true),
        (&dict::CLASS_IDENTIFIER, 1214, true),
        (&dict::RESULT_CODE, 268, false),
        (&dict::EXPERIMENTAL_RESULT, 297, false),
        (&dict::EXPERIMENTAL_RESULT_CODE, 298, false),
        (&dict::ORIGIN_STATE_ID, 278, false),
        (&dict::TERMINATION_CAUSE, 295, false),
        (&dict::DISCONNECT_CAUSE, 273, false),
        (&dict::ERROR_MESSAGE, 281, false),
        (&dict::FAILED_AVP, 279, false),
    ];
    for (def, code, tgpp) in expect {
        assert_eq!(def.code, AvpCode(code), "{}", def.name);
        assert_eq!(def.vendor.is_some(), tgpp, "{}", def.name);
    }
    // M must not be set on these (RFC 6733 §4.5).
    for def in [
        &dict::PRODUCT_NAME,
        &dict::ERROR_MESSAGE,
        &dict::FIRMWARE_REVISION,
    ] {
        assert!(!def.mandatory, "{}", def.name);
    }
    assert_eq!(dict::SESSION_ID.flags(), AvpFlags::MANDATORY);
}

// ---- robustness ----

/// xorshift64*: deterministic, dependency-free randomness for mutation tests.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

/// Decodes `bytes` every way there is; whatever decodes re-encodes to the input
/// (generic) or to a fixed point (typed).
fn decode_everything(bytes: &[u8]) {
    let _ = frame_length(bytes);
    let Ok(message) = Message::from_bytes(bytes) else {
        return;
    };
    assert_eq!(message.to_bytes().as_deref(), Ok(bytes));
    for avp in &message.avps {
        let _ = avp.children();
    }
    fn typed<C: Command + PartialEq + core::fmt::Debug>(m: &Message) {
        if let Ok(value) = C::from_message(m) {
            let bytes = value.to_bytes().expect("re-encodes");
            assert_eq!(C::from_bytes(&bytes), Ok(value));
        }
    }
    typed::<CapabilitiesExchangeRequest>(&message);
    typed::<CapabilitiesExchangeAnswer>(&message);
    typed::<DeviceWatchdogRequest>(&message);
    typed::<DeviceWatchdogAnswer>(&message);
    typed::<DisconnectPeerRequest>(&message);
    typed::<DisconnectPeerAnswer>(&message);
    typed::<CreditControlRequest>(&message);
    typed::<CreditControlAnswer>(&message);
}

#[test]
fn mutated_vectors_never_panic_and_what_decodes_re_encodes_exactly() {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let vectors = all_vectors();
    for round in 0..20_000 {
        let (_, base) = &vectors[round % vectors.len()];
        let mut bytes = base.clone();
        for _ in 0..=rng.below(4) {
            let i = rng.below(bytes.len());
            match rng.below(4) {
                0 => bytes[i] ^= 1 << rng.below(8),
                1 => bytes[i] = rng.next() as u8,
                2 => bytes[i] = [0x00, 0x80, 0xff, 0x0c][rng.below(4)],
                _ => {
                    let cut = rng.below(bytes.len());
                    bytes.truncate(cut.max(1));
                }
            }
            if bytes.is_empty() {
                break;
            }
        }
        decode_everything(&bytes);
    }
    for round in 0..2_000 {
        let len = rng.below(64) + round % 2;
        let bytes: Vec<u8> = (0..len).map(|_| rng.next() as u8).collect();
        decode_everything(&bytes);
    }
}
