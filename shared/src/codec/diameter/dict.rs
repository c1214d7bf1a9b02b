//! The AVPs this crate knows by name: code, vendor, the flags we send and the data
//! type. Codes and types were checked against RFC 6733 §4.5 (base), RFC 4006 §8
//! (credit control), 3GPP TS 32.299 §7.2 (MMS charging) and TS 29.061 §16.4.7
//! (3GPP-* attributes), and against Wireshark's dictionary.
//!
//! Flag choices:
//! - IETF AVPs set M except where RFC 6733 says it MUST NOT be set: Product-Name,
//!   Firmware-Revision, Error-Message and Error-Reporting-Host.
//! - 3GPP AVPs (vendor 10415) set V and leave M clear. NowSMS sends Service-
//!   Information and 3GPP-MS-TimeZone as "optional, meaning the server can ignore
//!   if it does not understand this parameter" (seed 004), so a charging server
//!   that lacks the 3GPP dictionary falls back to the DCCA units instead of
//!   rejecting the request with 5001 (AVP_UNSUPPORTED).
//!
//! The seed's table has two misprints fixed here: Service-Information and
//! MMS-Information are 873 and 877 (not 723/727), and Value-Digits is 447 (432 is
//! Rating-Group).

use super::avp::{AVP_HEADER_LEN, AVP_VENDOR_HEADER_LEN, AvpCode, AvpFlags, VendorId};

/// The data type of an AVP (RFC 6733 §4.2-4.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AvpType {
    OctetString,
    Integer32,
    Integer64,
    Unsigned32,
    Unsigned64,
    Float32,
    Float64,
    Grouped,
    Address,
    Time,
    UTF8String,
    DiameterIdentity,
    DiameterURI,
    Enumerated,
}

/// A dictionary entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct AvpDef {
    /// The specification's name, used in errors (`MissingAvp("Session-Id")`).
    pub name: &'static str,
    pub code: AvpCode,
    pub vendor: Option<VendorId>,
    /// Whether we set the M flag when sending it.
    pub mandatory: bool,
    pub ty: AvpType,
}

impl AvpDef {
    /// The flags this AVP is sent with.
    pub const fn flags(&self) -> AvpFlags {
        AvpFlags::NONE
            .with(AvpFlags::VENDOR, self.vendor.is_some())
            .with(AvpFlags::MANDATORY, self.mandatory)
    }

    pub const fn header_len(&self) -> usize {
        if self.vendor.is_some() {
            AVP_VENDOR_HEADER_LEN
        } else {
            AVP_HEADER_LEN
        }
    }
}

/// The dictionary entry for `(code, vendor)`, if known.
pub fn lookup(code: AvpCode, vendor: Option<VendorId>) -> Option<&'static AvpDef> {
    DICTIONARY
        .iter()
        .find(|d| d.code == code && d.vendor == vendor)
}

macro_rules! dictionary {
    (@vendor ietf) => { None };
    (@vendor tgpp) => { Some(VendorId::TGPP) };
    (@m M) => { true };
    (@m -) => { false };
    ($( $id:ident = $code:literal $name:literal $vendor:ident $m:tt $ty:ident; )*) => {
        $(
            #[doc = concat!("`", $name, "` (", stringify!($code), ", ", stringify!($ty), ")")]
            pub const $id: AvpDef = AvpDef {
                name: $name,
                code: AvpCode($code),
                vendor: dictionary!(@vendor $vendor),
                mandatory: dictionary!(@m $m),
                ty: AvpType::$ty,
            };
        )*
        /// Every entry above.
        pub const DICTIONARY: &[AvpDef] = &[$($id),*];
    };
}

dictionary! {
    // RFC 6733 (base protocol), RADIUS-derived codes below 256 included.
    USER_NAME = 1 "User-Name" ietf M UTF8String;
    PROXY_STATE = 33 "Proxy-State" ietf M OctetString;
    EVENT_TIMESTAMP = 55 "Event-Timestamp" ietf M Time;
    HOST_IP_ADDRESS = 257 "Host-IP-Address" ietf M Address;
    AUTH_APPLICATION_ID = 258 "Auth-Application-Id" ietf M Unsigned32;
    ACCT_APPLICATION_ID = 259 "Acct-Application-Id" ietf M Unsigned32;
    VENDOR_SPECIFIC_APPLICATION_ID = 260 "Vendor-Specific-Application-Id" ietf M Grouped;
    SESSION_ID = 263 "Session-Id" ietf M UTF8String;
    ORIGIN_HOST = 264 "Origin-Host" ietf M DiameterIdentity;
    SUPPORTED_VENDOR_ID = 265 "Supported-Vendor-Id" ietf M Unsigned32;
    VENDOR_ID = 266 "Vendor-Id" ietf M Unsigned32;
    FIRMWARE_REVISION = 267 "Firmware-Revision" ietf - Unsigned32;
    RESULT_CODE = 268 "Result-Code" ietf M Unsigned32;
    PRODUCT_NAME = 269 "Product-Name" ietf - UTF8String;
    DISCONNECT_CAUSE = 273 "Disconnect-Cause" ietf M Enumerated;
    ORIGIN_STATE_ID = 278 "Origin-State-Id" ietf M Unsigned32;
    FAILED_AVP = 279 "Failed-AVP" ietf M Grouped;
    PROXY_HOST = 280 "Proxy-Host" ietf M DiameterIdentity;
    ERROR_MESSAGE = 281 "Error-Message" ietf - UTF8String;
    ROUTE_RECORD = 282 "Route-Record" ietf M DiameterIdentity;
    DESTINATION_REALM = 283 "Destination-Realm" ietf M DiameterIdentity;
    PROXY_INFO = 284 "Proxy-Info" ietf M Grouped;
    REDIRECT_HOST = 292 "Redirect-Host" ietf M DiameterURI;
    DESTINATION_HOST = 293 "Destination-Host" ietf M DiameterIdentity;
    ERROR_REPORTING_HOST = 294 "Error-Reporting-Host" ietf - DiameterIdentity;
    TERMINATION_CAUSE = 295 "Termination-Cause" ietf M Enumerated;
    ORIGIN_REALM = 296 "Origin-Realm" ietf M DiameterIdentity;
    EXPERIMENTAL_RESULT = 297 "Experimental-Result" ietf M Grouped;
    EXPERIMENTAL_RESULT_CODE = 298 "Experimental-Result-Code" ietf M Unsigned32;
    INBAND_SECURITY_ID = 299 "Inband-Security-Id" ietf M Unsigned32;

    // RFC 4006 (Diameter Credit-Control Application).
    CC_INPUT_OCTETS = 412 "CC-Input-Octets" ietf M Unsigned64;
    CC_MONEY = 413 "CC-Money" ietf M Grouped;
    CC_OUTPUT_OCTETS = 414 "CC-Output-Octets" ietf M Unsigned64;
    CC_REQUEST_NUMBER = 415 "CC-Request-Number" ietf M Unsigned32;
    CC_REQUEST_TYPE = 416 "CC-Request-Type" ietf M Enumerated;
    CC_SERVICE_SPECIFIC_UNITS = 417 "CC-Service-Specific-Units" ietf M Unsigned64;
    CC_TIME = 420 "CC-Time" ietf M Unsigned32;
    CC_TOTAL_OCTETS = 421 "CC-Total-Octets" ietf M Unsigned64;
    COST_INFORMATION = 423 "Cost-Information" ietf M Grouped;
    COST_UNIT = 424 "Cost-Unit" ietf M UTF8String;
    CURRENCY_CODE = 425 "Currency-Code" ietf M Unsigned32;
    CREDIT_CONTROL_FAILURE_HANDLING = 427 "Credit-Control-Failure-Handling" ietf M Enumerated;
    DIRECT_DEBITING_FAILURE_HANDLING = 428 "Direct-Debiting-Failure-Handling" ietf M Enumerated;
    EXPONENT = 429 "Exponent" ietf M Integer32;
    FINAL_UNIT_INDICATION = 430 "Final-Unit-Indication" ietf M Grouped;
    GRANTED_SERVICE_UNIT = 431 "Granted-Service-Unit" ietf M Grouped;
    RATING_GROUP = 432 "Rating-Group" ietf M Unsigned32;
    REQUESTED_ACTION = 436 "Requested-Action" ietf M Enumerated;
    REQUESTED_SERVICE_UNIT = 437 "Requested-Service-Unit" ietf M Grouped;
    SERVICE_IDENTIFIER = 439 "Service-Identifier" ietf M Unsigned32;
    SUBSCRIPTION_ID = 443 "Subscription-Id" ietf M Grouped;
    SUBSCRIPTION_ID_DATA = 444 "Subscription-Id-Data" ietf M UTF8String;
    UNIT_VALUE = 445 "Unit-Value" ietf M Grouped;
    USED_SERVICE_UNIT = 446 "Used-Service-Unit" ietf M Grouped;
    VALUE_DIGITS = 447 "Value-Digits" ietf M Integer64;
    VALIDITY_TIME = 448 "Validity-Time" ietf M Unsigned32;
    SUBSCRIPTION_ID_TYPE = 450 "Subscription-Id-Type" ietf M Enumerated;
    MULTIPLE_SERVICES_INDICATOR = 455 "Multiple-Services-Indicator" ietf M Enumerated;
    MULTIPLE_SERVICES_CREDIT_CONTROL = 456 "Multiple-Services-Credit-Control" ietf M Grouped;
    SERVICE_CONTEXT_ID = 461 "Service-Context-Id" ietf M UTF8String;

    // 3GPP TS 29.061 (3GPP-* attributes, vendor 10415).
    TGPP_SGSN_MCC_MNC = 18 "3GPP-SGSN-MCC-MNC" tgpp - UTF8String;
    TGPP_MS_TIMEZONE = 23 "3GPP-MS-TimeZone" tgpp - OctetString;

    // 3GPP TS 32.299 (charging, vendor 10415).
    SERVICE_INFORMATION = 873 "Service-Information" tgpp - Grouped;
    MMS_INFORMATION = 877 "MMS-Information" tgpp - Grouped;
    ORIGINATOR_ADDRESS = 886 "Originator-Address" tgpp - Grouped;
    ADDRESS_DATA = 897 "Address-Data" tgpp - UTF8String;
    ADDRESS_DOMAIN = 898 "Address-Domain" tgpp - Grouped;
    ADDRESS_TYPE = 899 "Address-Type" tgpp - Enumerated;
    DOMAIN_NAME = 1200 "Domain-Name" tgpp - UTF8String;
    RECIPIENT_ADDRESS = 1201 "Recipient-Address" tgpp - Grouped;
    SUBMISSION_TIME = 1202 "Submission-Time" tgpp - Time;
    MM_CONTENT_TYPE = 1203 "MM-Content-Type" tgpp - Grouped;
    TYPE_NUMBER = 1204 "Type-Number" tgpp - Enumerated;
    ADDITIONAL_TYPE_INFORMATION = 1205 "Additional-Type-Information" tgpp - UTF8String;
    CONTENT_SIZE = 1206 "Content-Size" tgpp - Unsigned32;
    ADDITIONAL_CONTENT_INFORMATION = 1207 "Additional-Content-Information" tgpp - Grouped;
    ADDRESSEE_TYPE = 1208 "Addressee-Type" tgpp - Enumerated;
    PRIORITY = 1209 "Priority" tgpp - Enumerated;
    MESSAGE_ID = 1210 "Message-ID" tgpp - UTF8String;
    MESSAGE_TYPE = 1211 "Message-Type" tgpp - Enumerated;
    MESSAGE_SIZE = 1212 "Message-Size" tgpp - Unsigned32;
    MESSAGE_CLASS = 1213 "Message-Class" tgpp - Grouped;
    CLASS_IDENTIFIER = 1214 "Class-Identifier" tgpp - Enumerated;
    TOKEN_TEXT = 1215 "Token-Text" tgpp - UTF8String;
    DELIVERY_REPORT_REQUESTED = 1216 "Delivery-Report-Requested" tgpp - Enumerated;
    READ_REPLY_REPORT_REQUESTED = 1222 "Read-Reply-Report-Requested" tgpp - Enumerated;
    SGSN_ADDRESS = 1228 "SGSN-Address" tgpp - Address;
}
