//! Header names in the spelling of 3GPP TS 23.140 §8.4 (what `to_bytes` writes;
//! reading ignores case).

pub const MMS_VERSION: &str = "X-Mms-3GPP-MMS-Version";
pub const MESSAGE_TYPE: &str = "X-Mms-Message-Type";
pub const TRANSACTION_ID: &str = "X-Mms-Transaction-ID";
pub const MESSAGE_ID: &str = "X-Mms-Message-ID";
pub const ORIGINATOR_SYSTEM: &str = "X-Mms-Originator-System";
pub const ACK_REQUEST: &str = "X-Mms-Ack-Request";
pub const MESSAGE_CLASS: &str = "X-Mms-Message-Class";
pub const EXPIRY: &str = "X-Mms-Expiry";
pub const DELIVERY_REPORT: &str = "X-Mms-Delivery-Report";
pub const ORIGINATOR_RS_DELIVERY_REPORT: &str = "X-Mms-Originator-R/S-Delivery-Report";
pub const READ_REPLY: &str = "X-Mms-Read-Reply";
pub const PRIORITY: &str = "X-Mms-Priority";
pub const SENDER_VISIBILITY: &str = "X-Mms-Sender-Visibility";
pub const FORWARD_COUNTER: &str = "X-Mms-Forward-Counter";
pub const PREVIOUSLY_SENT_BY: &str = "X-Mms-Previously-Sent-By";
pub const PREVIOUSLY_SENT_DATE: &str = "X-Mms-Previously-Sent-Date-and-Time";
pub const VASP_ID: &str = "X-Mms-VASP-ID";
pub const VAS_ID: &str = "X-Mms-VAS-ID";
pub const SERVICE_CODE: &str = "X-Mms-Service-Code";
pub const APPLIC_ID: &str = "X-Mms-Applic-ID";
pub const REPLY_APPLIC_ID: &str = "X-Mms-Reply-Applic-ID";
pub const AUX_APPLIC_INFO: &str = "X-Mms-Aux-Applic-Info";
pub const CONTENT_CLASS: &str = "X-Mms-Content-Class";
pub const DRM_CONTENT: &str = "X-Mms-DRM-Content";
pub const ADAPTATION_ALLOWED: &str = "X-Mms-Adaptation-Allowed";
pub const REQUEST_STATUS_CODE: &str = "X-Mms-Request-Status-Code";
pub const STATUS_TEXT: &str = "X-Mms-Status-Text";
pub const MM_STATUS_CODE: &str = "X-Mms-MM-Status-Code";
pub const MM_STATUS_EXTENSION: &str = "X-Mms-MM-Status-Extension";
pub const FORWARD_TO_ORIGINATOR_UA: &str = "X-Mms-Forward-To-Originator-UA";
pub const READ_STATUS: &str = "X-Mms-Read-Status";
pub const FROM: &str = "From";
pub const TO: &str = "To";
pub const CC: &str = "Cc";
pub const BCC: &str = "Bcc";
pub const SENDER: &str = "Sender";
pub const SUBJECT: &str = "Subject";
pub const DATE: &str = "Date";
/// The RFC 5322 `Message-ID` of the SMTP message (not the MMS `X-Mms-Message-ID`).
pub const RFC822_MESSAGE_ID: &str = "Message-ID";
pub const MIME_VERSION: &str = "MIME-Version";
pub const CONTENT_TYPE: &str = "Content-Type";

/// Other spellings peers use for the same header.
pub(super) const ALIASES: &[(&str, &str)] = &[
    // The OMA MMS encapsulation name of the same field.
    ("X-Mms-Previously-Sent-Date", PREVIOUSLY_SENT_DATE),
];
