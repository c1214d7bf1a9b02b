//! Enumerated and coded values, as open newtypes: a value we have no name for is
//! carried and sent back unchanged.

use super::value::newtype_value;

wire_number! {
    /// Result-Code (268, Unsigned32): RFC 6733 §7.1 and RFC 4006 §9.
    pub struct ResultCode(u32) {
        MULTI_ROUND_AUTH = 1001 => "DIAMETER_MULTI_ROUND_AUTH",
        SUCCESS = 2001 => "DIAMETER_SUCCESS",
        LIMITED_SUCCESS = 2002 => "DIAMETER_LIMITED_SUCCESS",
        COMMAND_UNSUPPORTED = 3001 => "DIAMETER_COMMAND_UNSUPPORTED",
        UNABLE_TO_DELIVER = 3002 => "DIAMETER_UNABLE_TO_DELIVER",
        REALM_NOT_SERVED = 3003 => "DIAMETER_REALM_NOT_SERVED",
        TOO_BUSY = 3004 => "DIAMETER_TOO_BUSY",
        LOOP_DETECTED = 3005 => "DIAMETER_LOOP_DETECTED",
        REDIRECT_INDICATION = 3006 => "DIAMETER_REDIRECT_INDICATION",
        APPLICATION_UNSUPPORTED = 3007 => "DIAMETER_APPLICATION_UNSUPPORTED",
        INVALID_HDR_BITS = 3008 => "DIAMETER_INVALID_HDR_BITS",
        INVALID_AVP_BITS = 3009 => "DIAMETER_INVALID_AVP_BITS",
        UNKNOWN_PEER = 3010 => "DIAMETER_UNKNOWN_PEER",
        AUTHENTICATION_REJECTED = 4001 => "DIAMETER_AUTHENTICATION_REJECTED",
        OUT_OF_SPACE = 4002 => "DIAMETER_OUT_OF_SPACE",
        ELECTION_LOST = 4003 => "ELECTION_LOST",
        END_USER_SERVICE_DENIED = 4010 => "DIAMETER_END_USER_SERVICE_DENIED",
        CREDIT_CONTROL_NOT_APPLICABLE = 4011 => "DIAMETER_CREDIT_CONTROL_NOT_APPLICABLE",
        CREDIT_LIMIT_REACHED = 4012 => "DIAMETER_CREDIT_LIMIT_REACHED",
        AVP_UNSUPPORTED = 5001 => "DIAMETER_AVP_UNSUPPORTED",
        UNKNOWN_SESSION_ID = 5002 => "DIAMETER_UNKNOWN_SESSION_ID",
        AUTHORIZATION_REJECTED = 5003 => "DIAMETER_AUTHORIZATION_REJECTED",
        INVALID_AVP_VALUE = 5004 => "DIAMETER_INVALID_AVP_VALUE",
        MISSING_AVP = 5005 => "DIAMETER_MISSING_AVP",
        RESOURCES_EXCEEDED = 5006 => "DIAMETER_RESOURCES_EXCEEDED",
        CONTRADICTING_AVPS = 5007 => "DIAMETER_CONTRADICTING_AVPS",
        AVP_NOT_ALLOWED = 5008 => "DIAMETER_AVP_NOT_ALLOWED",
        AVP_OCCURS_TOO_MANY_TIMES = 5009 => "DIAMETER_AVP_OCCURS_TOO_MANY_TIMES",
        NO_COMMON_APPLICATION = 5010 => "DIAMETER_NO_COMMON_APPLICATION",
        UNSUPPORTED_VERSION = 5011 => "DIAMETER_UNSUPPORTED_VERSION",
        UNABLE_TO_COMPLY = 5012 => "DIAMETER_UNABLE_TO_COMPLY",
        INVALID_BIT_IN_HEADER = 5013 => "DIAMETER_INVALID_BIT_IN_HEADER",
        INVALID_AVP_LENGTH = 5014 => "DIAMETER_INVALID_AVP_LENGTH",
        INVALID_MESSAGE_LENGTH = 5015 => "DIAMETER_INVALID_MESSAGE_LENGTH",
        INVALID_AVP_BIT_COMBO = 5016 => "DIAMETER_INVALID_AVP_BIT_COMBO",
        NO_COMMON_SECURITY = 5017 => "DIAMETER_NO_COMMON_SECURITY",
        USER_UNKNOWN = 5030 => "DIAMETER_USER_UNKNOWN",
        RATING_FAILED = 5031 => "DIAMETER_RATING_FAILED",
    }
}

/// The class of a result code (RFC 6733 §7.1): its thousands digit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ResultClass {
    Informational,
    Success,
    ProtocolError,
    TransientFailure,
    PermanentFailure,
    /// Outside 1000-5999.
    Unknown,
}

impl ResultCode {
    pub fn class(self) -> ResultClass {
        match self.0 / 1000 {
            1 => ResultClass::Informational,
            2 => ResultClass::Success,
            3 => ResultClass::ProtocolError,
            4 => ResultClass::TransientFailure,
            5 => ResultClass::PermanentFailure,
            _ => ResultClass::Unknown,
        }
    }

    pub fn is_success(self) -> bool {
        self.class() == ResultClass::Success
    }

    /// 3xxx codes go in answers with the E flag set.
    pub fn is_protocol_error(self) -> bool {
        self.class() == ResultClass::ProtocolError
    }
}

wire_number! {
    /// CC-Request-Type (416).
    pub struct CcRequestType(i32) {
        INITIAL = 1 => "INITIAL_REQUEST",
        UPDATE = 2 => "UPDATE_REQUEST",
        TERMINATION = 3 => "TERMINATION_REQUEST",
        EVENT = 4 => "EVENT_REQUEST",
    }
}

wire_number! {
    /// Requested-Action (436), for CC-Request-Type EVENT.
    pub struct RequestedAction(i32) {
        DIRECT_DEBITING = 0 => "DIRECT_DEBITING",
        REFUND_ACCOUNT = 1 => "REFUND_ACCOUNT",
        CHECK_BALANCE = 2 => "CHECK_BALANCE",
        PRICE_ENQUIRY = 3 => "PRICE_ENQUIRY",
    }
}

wire_number! {
    /// Subscription-Id-Type (450).
    pub struct SubscriptionIdType(i32) {
        END_USER_E164 = 0 => "END_USER_E164",
        END_USER_IMSI = 1 => "END_USER_IMSI",
        END_USER_SIP_URI = 2 => "END_USER_SIP_URI",
        END_USER_NAI = 3 => "END_USER_NAI",
        END_USER_PRIVATE = 4 => "END_USER_PRIVATE",
    }
}

wire_number! {
    /// Disconnect-Cause (273), in DPR.
    pub struct DisconnectCause(i32) {
        REBOOTING = 0 => "REBOOTING",
        BUSY = 1 => "BUSY",
        DO_NOT_WANT_TO_TALK_TO_YOU = 2 => "DO_NOT_WANT_TO_TALK_TO_YOU",
    }
}

wire_number! {
    /// Termination-Cause (295), in CCR TERMINATION.
    pub struct TerminationCause(i32) {
        LOGOUT = 1 => "DIAMETER_LOGOUT",
        SERVICE_NOT_PROVIDED = 2 => "DIAMETER_SERVICE_NOT_PROVIDED",
        BAD_ANSWER = 3 => "DIAMETER_BAD_ANSWER",
        ADMINISTRATIVE = 4 => "DIAMETER_ADMINISTRATIVE",
        LINK_BROKEN = 5 => "DIAMETER_LINK_BROKEN",
        AUTH_EXPIRED = 6 => "DIAMETER_AUTH_EXPIRED",
        USER_MOVED = 7 => "DIAMETER_USER_MOVED",
        SESSION_TIMEOUT = 8 => "DIAMETER_SESSION_TIMEOUT",
    }
}

wire_number! {
    /// Inband-Security-Id (299), in CER/CEA.
    pub struct InbandSecurityId(u32) {
        NO_INBAND_SECURITY = 0 => "NO_INBAND_SECURITY",
        TLS = 1 => "TLS",
    }
}

wire_number! {
    /// Multiple-Services-Indicator (455).
    pub struct MultipleServicesIndicator(i32) {
        NOT_SUPPORTED = 0 => "MULTIPLE_SERVICES_NOT_SUPPORTED",
        SUPPORTED = 1 => "MULTIPLE_SERVICES_SUPPORTED",
    }
}

wire_number! {
    /// Credit-Control-Failure-Handling (427), in CCA.
    pub struct CreditControlFailureHandling(i32) {
        TERMINATE = 0 => "TERMINATE",
        CONTINUE = 1 => "CONTINUE",
        RETRY_AND_TERMINATE = 2 => "RETRY_AND_TERMINATE",
    }
}

wire_number! {
    /// Direct-Debiting-Failure-Handling (428), in CCA.
    pub struct DirectDebitingFailureHandling(i32) {
        TERMINATE_OR_BUFFER = 0 => "TERMINATE_OR_BUFFER",
        CONTINUE = 1 => "CONTINUE",
    }
}

wire_number! {
    /// Address-Type (899), TS 32.299 §7.2.
    pub struct AddressType(i32) {
        EMAIL = 0 => "e-mail address",
        MSISDN = 1 => "MSISDN",
        IPV4 = 2 => "IPv4 Address",
        IPV6 = 3 => "IPv6 Address",
        NUMERIC_SHORTCODE = 4 => "Numeric Shortcode",
        ALPHANUMERIC_SHORTCODE = 5 => "Alphanumeric Shortcode",
        OTHER = 6 => "Other",
        IMSI = 7 => "IMSI",
    }
}

wire_number! {
    /// Addressee-Type (1208), in Recipient-Address.
    pub struct AddresseeType(i32) {
        TO = 0 => "TO",
        CC = 1 => "CC",
        BCC = 2 => "BCC",
    }
}

wire_number! {
    /// Message-Type (1211): the MMS PDU being charged (OMA MMS ENC values).
    pub struct MessageType(i32) {
        M_SEND_REQ = 1 => "m-send-req",
        M_SEND_CONF = 2 => "m-send-conf",
        M_NOTIFICATION_IND = 3 => "m-notification-ind",
        M_NOTIFYRESP_IND = 4 => "m-notifyresp-ind",
        M_RETRIEVE_CONF = 5 => "m-retrieve-conf",
        M_ACKNOWLEDGE_IND = 6 => "m-acknowledge-ind",
        M_DELIVERY_IND = 7 => "m-delivery-ind",
        M_READ_REC_IND = 8 => "m-read-rec-ind",
        M_READ_ORIG_IND = 9 => "m-read-orig-ind",
        M_FORWARD_REQ = 10 => "m-forward-req",
        M_FORWARD_CONF = 11 => "m-forward-conf",
        M_MBOX_STORE_CONF = 12 => "m-mbox-store-conf",
        M_MBOX_VIEW_CONF = 13 => "m-mbox-view-conf",
        M_MBOX_UPLOAD_CONF = 14 => "m-mbox-upload-conf",
        M_MBOX_DELETE_CONF = 15 => "m-mbox-delete-conf",
    }
}

wire_number! {
    /// Class-Identifier (1214), in Message-Class.
    pub struct ClassIdentifier(i32) {
        PERSONAL = 0 => "Personal",
        ADVERTISEMENT = 1 => "Advertisement",
        INFORMATIONAL = 2 => "Informational",
        AUTO = 3 => "Auto",
    }
}

wire_number! {
    /// Priority (1209).
    pub struct Priority(i32) {
        LOW = 0 => "Low",
        NORMAL = 1 => "Normal",
        HIGH = 2 => "High",
    }
}

wire_number! {
    /// Delivery-Report-Requested (1216) and Read-Reply-Report-Requested (1222).
    pub struct ReportRequested(i32) {
        NO = 0 => "No",
        YES = 1 => "Yes",
    }
}

wire_number! {
    /// Type-Number (1204): the WSP well-known content type number
    /// (OMA WSP assigned numbers), e.g. application/vnd.wap.multipart.related.
    pub struct TypeNumber(i32) {
        ANY = 0x00 => "*/*",
        TEXT_PLAIN = 0x03 => "text/plain",
        IMAGE_GIF = 0x1d => "image/gif",
        IMAGE_JPEG = 0x1e => "image/jpeg",
        IMAGE_PNG = 0x20 => "image/png",
        MULTIPART_MIXED = 0x23 => "application/vnd.wap.multipart.mixed",
        MULTIPART_RELATED = 0x33 => "application/vnd.wap.multipart.related",
    }
}

newtype_value!(
    ResultCode,
    CcRequestType,
    RequestedAction,
    SubscriptionIdType,
    DisconnectCause,
    TerminationCause,
    InbandSecurityId,
    MultipleServicesIndicator,
    CreditControlFailureHandling,
    DirectDebitingFailureHandling,
    AddressType,
    AddresseeType,
    MessageType,
    ClassIdentifier,
    Priority,
    ReportRequested,
    TypeNumber,
);
