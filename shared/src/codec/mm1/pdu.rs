//! MM1 PDUs: the generic form (message type, headers, optional content) that any
//! PDU decodes to, and typed structs for the PDUs an MMSC sends and receives.
//!
//! Typed PDUs are encoded canonically: X-Mms-Message-Type first, then the fields
//! in the order of their declaration (Transaction-Id and MMS-Version first where
//! the PDU has them, as OMA-TS-MMS_ENC §6 requires), then the headers the type
//! does not model (`extra`, in the order received), then Content-Type and the
//! body. Decoding takes each modelled field from the first header that has it;
//! repeats and unknown headers stay in `extra`.

use super::content_type::ContentType;
use super::error::{DecodeError, EncodeError};
use super::header::{FieldName, Header, HeaderName, Value, ValueKind};
use super::multipart::Body;
use super::reader::Reader;
use super::text::EncodedString;
use super::values::*;

/// The codec interface shared by the PDUs and their parts.
pub trait Codec: Sized {
    /// Reads one value; for a PDU, everything to the end of `r`.
    fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError>;

    /// Appends the encoding of `self` to `out`.
    fn encode(&self, out: &mut Vec<u8>) -> Result<(), EncodeError>;

    /// Decodes exactly `bytes`; trailing octets are an error.
    fn from_bytes(bytes: &[u8]) -> Result<Self, DecodeError> {
        let mut r = Reader::new(bytes);
        let v = Self::read(&mut r)?;
        r.expect_end()?;
        Ok(v)
    }

    fn to_bytes(&self) -> Result<Vec<u8>, EncodeError> {
        let mut out = Vec::new();
        self.encode(&mut out)?;
        Ok(out)
    }
}

impl Codec for ContentType {
    fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        ContentType::read(r)
    }
    fn encode(&self, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        ContentType::encode(self, out)
    }
}

impl Codec for Header {
    fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Header::read(r)
    }
    fn encode(&self, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        Header::encode(self, out)
    }
}

/// The message content of a PDU: its Content-Type (always the last header) and
/// the body that follows.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Content {
    pub content_type: ContentType,
    pub body: Body,
}

/// Any MM1 PDU: the message type, the other headers in order, and the content.
/// MMS 1.3's MMBox, delete and cancel PDUs and unknown message types are read in
/// this form.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct GenericPdu {
    pub message_type: MessageType,
    /// Every header after X-Mms-Message-Type and before Content-Type.
    pub headers: Vec<Header>,
    pub content: Option<Content>,
}

impl GenericPdu {
    pub fn new(message_type: MessageType) -> Self {
        Self {
            message_type,
            headers: Vec::new(),
            content: None,
        }
    }

    /// The first header with `field`.
    pub fn get(&self, field: FieldName) -> Option<&Value> {
        self.headers
            .iter()
            .find(|h| h.name == HeaderName::Field(field))
            .map(|h| &h.value)
    }

    pub fn transaction_id(&self) -> Option<&str> {
        match self.get(FieldName::TRANSACTION_ID)? {
            Value::Text(t) => Some(t),
            _ => None,
        }
    }

    pub fn mms_version(&self) -> Option<MmsVersion> {
        match self.get(FieldName::MMS_VERSION)? {
            Value::Token(t) => Some(MmsVersion(t & 0x7F)),
            _ => None,
        }
    }

    /// The offsets at which each header ends in the encoding of this PDU (the
    /// first is the end of X-Mms-Message-Type); the content, if any, follows the
    /// last.
    pub fn header_boundaries(&self) -> Result<Vec<usize>, EncodeError> {
        let mut out = Vec::new();
        let mut ends = Vec::new();
        Header::new(FieldName::MESSAGE_TYPE, Value::Token(self.message_type.0)).encode(&mut out)?;
        ends.push(out.len());
        for h in &self.headers {
            h.encode(&mut out)?;
            ends.push(out.len());
        }
        Ok(ends)
    }
}

impl Codec for GenericPdu {
    fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let first = Header::read(r)?;
        let message_type = match (first.field(), &first.value) {
            (Some(FieldName::MESSAGE_TYPE), Value::Token(t)) => MessageType(*t),
            _ => return Err(DecodeError::MissingMessageType),
        };
        let mut headers = Vec::new();
        while !r.is_empty() {
            let h = Header::read(r)?;
            if let (Some(FieldName::CONTENT_TYPE), Value::ContentType(ct)) = (h.field(), &h.value) {
                let body = Body::read(r, ct)?;
                return Ok(Self {
                    message_type,
                    headers,
                    content: Some(Content {
                        content_type: ct.clone(),
                        body,
                    }),
                });
            }
            headers.push(h);
        }
        Ok(Self {
            message_type,
            headers,
            content: None,
        })
    }

    fn encode(&self, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        Header::new(FieldName::MESSAGE_TYPE, Value::Token(self.message_type.0)).encode(out)?;
        for h in &self.headers {
            if h.field() == Some(FieldName::CONTENT_TYPE) {
                return Err(EncodeError::Invalid {
                    what: "Content-Type",
                    reason: "the content type goes in `content`, after every other header",
                });
            }
            h.encode(out)?;
        }
        if let Some(c) = &self.content {
            Header::new(
                FieldName::CONTENT_TYPE,
                Value::ContentType(c.content_type.clone()),
            )
            .encode(out)?;
            c.body.encode(out, &c.content_type)?;
        }
        Ok(())
    }
}

/// Conversion between a typed field and its header [`Value`].
pub trait FieldValue: Sized {
    fn to_value(&self, field: FieldName) -> Value;
    /// `Err` gives the value back when it is not of this type.
    fn from_value(value: Value) -> Result<Self, Value>;
}

impl FieldValue for String {
    fn to_value(&self, _: FieldName) -> Value {
        Value::Text(self.clone())
    }
    fn from_value(value: Value) -> Result<Self, Value> {
        match value {
            Value::Text(t) => Ok(t),
            v => Err(v),
        }
    }
}

/// Dates and sizes: a Long-integer, or an Integer-value for the fields that
/// take one (Start, Limit, Message-Count).
impl FieldValue for u64 {
    fn to_value(&self, field: FieldName) -> Value {
        match field.kind() {
            ValueKind::Integer => Value::Integer(*self),
            _ => Value::Long(*self),
        }
    }
    fn from_value(value: Value) -> Result<Self, Value> {
        match value {
            Value::Long(v) | Value::Integer(v) => Ok(v),
            v => Err(v),
        }
    }
}

impl FieldValue for EncodedString {
    fn to_value(&self, _: FieldName) -> Value {
        Value::EncodedString(self.clone())
    }
    fn from_value(value: Value) -> Result<Self, Value> {
        match value {
            Value::EncodedString(s) => Ok(s),
            v => Err(v),
        }
    }
}

impl FieldValue for MmsAddress {
    fn to_value(&self, _: FieldName) -> Value {
        Value::EncodedString(self.0.clone())
    }
    fn from_value(value: Value) -> Result<Self, Value> {
        match value {
            Value::EncodedString(s) => Ok(MmsAddress(s)),
            v => Err(v),
        }
    }
}

impl FieldValue for MmsVersion {
    fn to_value(&self, _: FieldName) -> Value {
        Value::Token(self.octet())
    }
    fn from_value(value: Value) -> Result<Self, Value> {
        match value {
            Value::Token(t) => Ok(MmsVersion(t & 0x7F)),
            v => Err(v),
        }
    }
}

macro_rules! token_field_value {
    ($($t:ty),* $(,)?) => {
        $(
            impl FieldValue for $t {
                fn to_value(&self, _: FieldName) -> Value {
                    Value::Token(self.0)
                }
                fn from_value(value: Value) -> Result<Self, Value> {
                    match value {
                        Value::Token(t) => Ok(Self(t)),
                        v => Err(v),
                    }
                }
            }
        )*
    };
}

token_field_value!(
    YesNo,
    Priority,
    SenderVisibility,
    ResponseStatus,
    RetrieveStatus,
    Status,
    ReadStatus,
    ReplyCharging,
    MmState,
    StoreStatus,
    ContentClass,
    RetrievalMode,
);

macro_rules! struct_field_value {
    ($($t:ty => $variant:ident),* $(,)?) => {
        $(
            impl FieldValue for $t {
                fn to_value(&self, _: FieldName) -> Value {
                    Value::$variant(self.clone())
                }
                fn from_value(value: Value) -> Result<Self, Value> {
                    match value {
                        Value::$variant(v) => Ok(v),
                        v => Err(v),
                    }
                }
            }
        )*
    };
}

struct_field_value!(
    TimeValue => Time,
    FromValue => From,
    MessageClass => MessageClass,
    PreviouslySentBy => PreviouslySentBy,
    PreviouslySentDate => PreviouslySentDate,
    MmFlags => MmFlags,
    ElementDescriptor => ElementDescriptor,
);

/// The headers of a PDU being taken apart into typed fields.
struct Fields(Vec<Header>);

impl Fields {
    /// Takes the first header with `field` whose value is a `T`.
    fn take_one<T: FieldValue>(&mut self, field: FieldName) -> Option<T> {
        let mut i = 0;
        while i < self.0.len() {
            if self.0[i].name == HeaderName::Field(field) {
                let h = self.0.remove(i);
                match T::from_value(h.value) {
                    Ok(v) => return Some(v),
                    Err(value) => self.0.insert(
                        i,
                        Header {
                            name: h.name,
                            value,
                        },
                    ),
                }
            }
            i += 1;
        }
        None
    }

    /// Takes every header with `field` whose value is a `T`, in order.
    fn take_all<T: FieldValue>(&mut self, field: FieldName) -> Vec<T> {
        let mut out = Vec::new();
        let mut rest = Vec::with_capacity(self.0.len());
        for h in self.0.drain(..) {
            if h.name == HeaderName::Field(field) {
                match T::from_value(h.value) {
                    Ok(v) => out.push(v),
                    Err(value) => rest.push(Header {
                        name: h.name,
                        value,
                    }),
                }
            } else {
                rest.push(h);
            }
        }
        self.0 = rest;
        out
    }
}

macro_rules! field_type {
    (one $t:ty) => { $t };
    (opt $t:ty) => { Option<$t> };
    (many $t:ty) => { Vec<$t> };
}

macro_rules! take_field {
    (one $t:ty, $fields:ident, $mt:expr, $f:expr) => {
        $fields
            .take_one::<$t>($f)
            .ok_or(DecodeError::MissingField {
                message_type: $mt,
                field: $f,
            })?
    };
    (opt $t:ty, $fields:ident, $mt:expr, $f:expr) => {
        $fields.take_one::<$t>($f)
    };
    (many $t:ty, $fields:ident, $mt:expr, $f:expr) => {
        $fields.take_all::<$t>($f)
    };
}

macro_rules! put_field {
    (one, $value:expr, $headers:ident, $f:expr) => {
        $headers.push(Header::new($f, $value.to_value($f)));
    };
    (opt, $value:expr, $headers:ident, $f:expr) => {
        if let Some(v) = &$value {
            $headers.push(Header::new($f, v.to_value($f)));
        }
    };
    (many, $value:expr, $headers:ident, $f:expr) => {
        for v in &$value {
            $headers.push(Header::new($f, v.to_value($f)));
        }
    };
}

macro_rules! set_field {
    (one, $slot:expr, $v:expr) => {
        $slot = $v
    };
    (opt, $slot:expr, $v:expr) => {
        $slot = Some($v)
    };
    (many, $slot:expr, $v:expr) => {
        $slot.push($v)
    };
}

/// Builds `new()` from the required (`one`) fields, in declaration order.
macro_rules! pdu_new {
    (@acc [$($args:tt)*] [$($inits:tt)*] ; $($ct:ident $body:ident)?) => {
        /// A PDU with the required fields; the optional ones are empty.
        #[allow(clippy::too_many_arguments)]
        pub fn new($($args)* $($ct: ContentType, $body: Body)?) -> Self {
            Self { $($inits)* $($ct, $body,)? extra: Vec::new() }
        }
    };
    (@acc [$($args:tt)*] [$($inits:tt)*] $field:ident one $t:ty, $($rest:tt)*) => {
        pdu_new!(@acc [$($args)* $field: $t,] [$($inits)* $field,] $($rest)*);
    };
    (@acc [$($args:tt)*] [$($inits:tt)*] $field:ident opt $t:ty, $($rest:tt)*) => {
        pdu_new!(@acc [$($args)*] [$($inits)* $field: None,] $($rest)*);
    };
    (@acc [$($args:tt)*] [$($inits:tt)*] $field:ident many $t:ty, $($rest:tt)*) => {
        pdu_new!(@acc [$($args)*] [$($inits)* $field: Vec::new(),] $($rest)*);
    };
}

/// Declares a typed PDU: its fields (`one` required, `opt` optional, `many`
/// repeatable) with their header field, optional `with_*` setters, and
/// optionally `content(content_type, body)` for PDUs that carry a message.
macro_rules! mms_pdu {
    (
        $(#[$meta:meta])*
        pub struct $name:ident ($mtype:ident) {
            $(
                $(#[$fmeta:meta])*
                $field:ident : $card:ident $t:ty = $fname:ident $(=> $setter:ident)?,
            )*
        }
        $(content($ct:ident, $body:ident);)?
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash)]
        pub struct $name {
            $(
                $(#[$fmeta])*
                pub $field: field_type!($card $t),
            )*
            $(
                /// Content-Type, the last header.
                pub $ct: ContentType,
                /// The message body.
                pub $body: Body,
            )?
            /// Headers this type does not model, in the order received.
            pub extra: Vec<Header>,
        }

        impl $name {
            pub const MESSAGE_TYPE: MessageType = MessageType::$mtype;

            pdu_new!(@acc [] [] $($field $card $t,)* ; $($ct $body)?);

            $($(
                pub fn $setter(mut self, value: $t) -> Self {
                    set_field!($card, self.$field, value);
                    self
                }
            )?)*

            /// Adds a header this type does not model (written after the
            /// modelled ones).
            pub fn with_extra(mut self, header: Header) -> Self {
                self.extra.push(header);
                self
            }

            /// Takes the typed fields out of a generic PDU of this type.
            pub fn from_generic(pdu: GenericPdu) -> Result<Self, DecodeError> {
                if pdu.message_type != Self::MESSAGE_TYPE {
                    return Err(DecodeError::UnexpectedMessageType {
                        expected: Self::MESSAGE_TYPE,
                        found: pdu.message_type,
                    });
                }
                #[allow(unused_mut)]
                let mut content = pdu.content;
                let mut fields = Fields(pdu.headers);
                $(
                    let $field = take_field!($card $t, fields, Self::MESSAGE_TYPE, FieldName::$fname);
                )*
                $(
                    let Content { content_type: $ct, body: $body } =
                        content.take().ok_or(DecodeError::MissingField {
                            message_type: Self::MESSAGE_TYPE,
                            field: FieldName::CONTENT_TYPE,
                        })?;
                )?
                if content.is_some() {
                    return Err(DecodeError::UnexpectedContent(Self::MESSAGE_TYPE));
                }
                Ok(Self { $($field,)* $($ct, $body,)? extra: fields.0 })
            }

            /// The generic form, headers in canonical order.
            #[allow(clippy::vec_init_then_push)]
            pub fn to_generic(&self) -> GenericPdu {
                let mut headers = Vec::new();
                $(
                    put_field!($card, self.$field, headers, FieldName::$fname);
                )*
                headers.extend(self.extra.iter().cloned());
                // Zero or one element, as the type has content or not.
                let content = [$(Content {
                    content_type: self.$ct.clone(),
                    body: self.$body.clone(),
                })?]
                .into_iter()
                .next();
                GenericPdu {
                    message_type: Self::MESSAGE_TYPE,
                    headers,
                    content,
                }
            }
        }

        impl Codec for $name {
            fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
                Self::from_generic(GenericPdu::read(r)?)
            }
            fn encode(&self, out: &mut Vec<u8>) -> Result<(), EncodeError> {
                self.to_generic().encode(out)
            }
        }
    };
}

mms_pdu! {
    /// m-send.req: a handset submits a message (OMA-TS-MMS_ENC §6.1.1).
    pub struct MSendReq(SEND_REQ) {
        transaction_id: one String = TRANSACTION_ID,
        mms_version: one MmsVersion = MMS_VERSION,
        date: opt u64 = DATE => with_date,
        /// Usually Insert-address: the MMSC fills in the sender.
        from: one FromValue = FROM,
        to: many MmsAddress = TO => with_to,
        cc: many MmsAddress = CC => with_cc,
        bcc: many MmsAddress = BCC => with_bcc,
        subject: opt EncodedString = SUBJECT => with_subject,
        content_class: opt ContentClass = CONTENT_CLASS,
        message_class: opt MessageClass = MESSAGE_CLASS => with_message_class,
        expiry: opt TimeValue = EXPIRY => with_expiry,
        delivery_time: opt TimeValue = DELIVERY_TIME => with_delivery_time,
        priority: opt Priority = PRIORITY => with_priority,
        sender_visibility: opt SenderVisibility = SENDER_VISIBILITY,
        delivery_report: opt YesNo = DELIVERY_REPORT => with_delivery_report,
        read_report: opt YesNo = READ_REPORT => with_read_report,
        reply_charging: opt ReplyCharging = REPLY_CHARGING,
        reply_charging_deadline: opt TimeValue = REPLY_CHARGING_DEADLINE,
        reply_charging_size: opt u64 = REPLY_CHARGING_SIZE,
        reply_charging_id: opt String = REPLY_CHARGING_ID,
        store: opt YesNo = STORE,
        mm_state: opt MmState = MM_STATE,
        mm_flags: many MmFlags = MM_FLAGS,
        applic_id: opt String = APPLIC_ID,
        reply_applic_id: opt String = REPLY_APPLIC_ID,
        aux_applic_info: opt String = AUX_APPLIC_INFO,
        drm_content: opt YesNo = DRM_CONTENT,
        adaptation_allowed: opt YesNo = ADAPTATION_ALLOWED,
    }
    content(content_type, body);
}

mms_pdu! {
    /// m-send.conf: the MMSC's answer to m-send.req (§6.1.2).
    pub struct MSendConf(SEND_CONF) {
        transaction_id: one String = TRANSACTION_ID,
        mms_version: one MmsVersion = MMS_VERSION,
        response_status: one ResponseStatus = RESPONSE_STATUS,
        response_text: opt EncodedString = RESPONSE_TEXT => with_response_text,
        message_id: opt String = MESSAGE_ID => with_message_id,
        content_location: opt String = CONTENT_LOCATION => with_content_location,
        store_status: opt StoreStatus = STORE_STATUS => with_store_status,
        store_status_text: opt EncodedString = STORE_STATUS_TEXT => with_store_status_text,
    }
}

mms_pdu! {
    /// m-notification.ind: the MMSC tells a handset a message waits (§6.2).
    pub struct MNotificationInd(NOTIFICATION_IND) {
        transaction_id: one String = TRANSACTION_ID,
        mms_version: one MmsVersion = MMS_VERSION,
        from: opt FromValue = FROM => with_from,
        subject: opt EncodedString = SUBJECT => with_subject,
        delivery_report: opt YesNo = DELIVERY_REPORT => with_delivery_report,
        stored: opt YesNo = STORED => with_stored,
        message_class: one MessageClass = MESSAGE_CLASS,
        priority: opt Priority = PRIORITY => with_priority,
        message_size: one u64 = MESSAGE_SIZE,
        expiry: one TimeValue = EXPIRY,
        content_location: one String = CONTENT_LOCATION,
        reply_charging: opt ReplyCharging = REPLY_CHARGING,
        reply_charging_deadline: opt TimeValue = REPLY_CHARGING_DEADLINE,
        reply_charging_size: opt u64 = REPLY_CHARGING_SIZE,
        reply_charging_id: opt String = REPLY_CHARGING_ID,
        distribution_indicator: opt YesNo = DISTRIBUTION_INDICATOR => with_distribution_indicator,
        element_descriptor: opt ElementDescriptor = ELEMENT_DESCRIPTOR,
        recommended_retrieval_mode: opt RetrievalMode = RECOMMENDED_RETRIEVAL_MODE,
        recommended_retrieval_mode_text: opt EncodedString = RECOMMENDED_RETRIEVAL_MODE_TEXT,
        applic_id: opt String = APPLIC_ID => with_applic_id,
        reply_applic_id: opt String = REPLY_APPLIC_ID,
        aux_applic_info: opt String = AUX_APPLIC_INFO,
        content_class: opt ContentClass = CONTENT_CLASS => with_content_class,
        drm_content: opt YesNo = DRM_CONTENT,
        replace_id: opt String = REPLACE_ID,
    }
}

mms_pdu! {
    /// m-notifyresp.ind: the handset's answer to m-notification.ind (§6.2).
    pub struct MNotifyRespInd(NOTIFYRESP_IND) {
        transaction_id: one String = TRANSACTION_ID,
        mms_version: one MmsVersion = MMS_VERSION,
        status: one Status = STATUS,
        report_allowed: opt YesNo = REPORT_ALLOWED => with_report_allowed,
    }
}

mms_pdu! {
    /// m-retrieve.conf: the message a handset fetched from X-Mms-Content-Location
    /// (§6.3). Transaction-Id is present only when the handset is to acknowledge.
    pub struct MRetrieveConf(RETRIEVE_CONF) {
        transaction_id: opt String = TRANSACTION_ID => with_transaction_id,
        mms_version: one MmsVersion = MMS_VERSION,
        message_id: opt String = MESSAGE_ID => with_message_id,
        date: one u64 = DATE,
        from: opt FromValue = FROM => with_from,
        previously_sent_by: many PreviouslySentBy = PREVIOUSLY_SENT_BY,
        previously_sent_date: many PreviouslySentDate = PREVIOUSLY_SENT_DATE,
        to: many MmsAddress = TO => with_to,
        cc: many MmsAddress = CC => with_cc,
        subject: opt EncodedString = SUBJECT => with_subject,
        mm_state: opt MmState = MM_STATE,
        mm_flags: many MmFlags = MM_FLAGS,
        message_class: opt MessageClass = MESSAGE_CLASS => with_message_class,
        priority: opt Priority = PRIORITY => with_priority,
        delivery_report: opt YesNo = DELIVERY_REPORT => with_delivery_report,
        read_report: opt YesNo = READ_REPORT => with_read_report,
        reply_charging: opt ReplyCharging = REPLY_CHARGING,
        reply_charging_deadline: opt TimeValue = REPLY_CHARGING_DEADLINE,
        reply_charging_id: opt String = REPLY_CHARGING_ID,
        reply_charging_size: opt u64 = REPLY_CHARGING_SIZE,
        retrieve_status: opt RetrieveStatus = RETRIEVE_STATUS => with_retrieve_status,
        retrieve_text: opt EncodedString = RETRIEVE_TEXT => with_retrieve_text,
        distribution_indicator: opt YesNo = DISTRIBUTION_INDICATOR,
        applic_id: opt String = APPLIC_ID,
        reply_applic_id: opt String = REPLY_APPLIC_ID,
        aux_applic_info: opt String = AUX_APPLIC_INFO,
        content_class: opt ContentClass = CONTENT_CLASS,
        drm_content: opt YesNo = DRM_CONTENT,
        replace_id: opt String = REPLACE_ID,
    }
    content(content_type, body);
}

mms_pdu! {
    /// m-acknowledge.ind: the handset confirms a retrieval (§6.4).
    pub struct MAcknowledgeInd(ACKNOWLEDGE_IND) {
        transaction_id: one String = TRANSACTION_ID,
        mms_version: one MmsVersion = MMS_VERSION,
        report_allowed: opt YesNo = REPORT_ALLOWED => with_report_allowed,
    }
}

mms_pdu! {
    /// m-delivery.ind: the MMSC reports a recipient's delivery status to the
    /// originator (§6.6). It has no Transaction-Id.
    pub struct MDeliveryInd(DELIVERY_IND) {
        mms_version: one MmsVersion = MMS_VERSION,
        message_id: one String = MESSAGE_ID,
        /// The recipient whose status this is.
        to: one MmsAddress = TO,
        date: one u64 = DATE,
        status: one Status = STATUS,
        status_text: opt EncodedString = STATUS_TEXT => with_status_text,
        applic_id: opt String = APPLIC_ID => with_applic_id,
        reply_applic_id: opt String = REPLY_APPLIC_ID,
        aux_applic_info: opt String = AUX_APPLIC_INFO,
    }
}

mms_pdu! {
    /// m-read-rec.ind: a recipient's handset sends a read report (§6.7.2).
    pub struct MReadRecInd(READ_REC_IND) {
        mms_version: one MmsVersion = MMS_VERSION,
        message_id: one String = MESSAGE_ID,
        /// The originator of the message that was read.
        to: one MmsAddress = TO,
        /// The recipient who read it (often Insert-address).
        from: one FromValue = FROM,
        date: opt u64 = DATE => with_date,
        read_status: one ReadStatus = READ_STATUS,
        applic_id: opt String = APPLIC_ID,
        reply_applic_id: opt String = REPLY_APPLIC_ID,
        aux_applic_info: opt String = AUX_APPLIC_INFO,
    }
}

mms_pdu! {
    /// m-read-orig.ind: the MMSC passes a read report to the originator (§6.7.2).
    pub struct MReadOrigInd(READ_ORIG_IND) {
        mms_version: one MmsVersion = MMS_VERSION,
        message_id: one String = MESSAGE_ID,
        /// The originator, who receives the report.
        to: one MmsAddress = TO,
        /// The recipient who read the message.
        from: one FromValue = FROM,
        date: one u64 = DATE,
        read_status: one ReadStatus = READ_STATUS,
        applic_id: opt String = APPLIC_ID => with_applic_id,
        reply_applic_id: opt String = REPLY_APPLIC_ID,
        aux_applic_info: opt String = AUX_APPLIC_INFO,
    }
}

mms_pdu! {
    /// m-forward.req: a handset forwards a message it has not retrieved (§6.5.1).
    pub struct MForwardReq(FORWARD_REQ) {
        transaction_id: one String = TRANSACTION_ID,
        mms_version: one MmsVersion = MMS_VERSION,
        date: opt u64 = DATE => with_date,
        from: one FromValue = FROM,
        to: many MmsAddress = TO => with_to,
        cc: many MmsAddress = CC => with_cc,
        bcc: many MmsAddress = BCC => with_bcc,
        expiry: opt TimeValue = EXPIRY => with_expiry,
        delivery_time: opt TimeValue = DELIVERY_TIME => with_delivery_time,
        report_allowed: opt YesNo = REPORT_ALLOWED => with_report_allowed,
        delivery_report: opt YesNo = DELIVERY_REPORT => with_delivery_report,
        read_report: opt YesNo = READ_REPORT => with_read_report,
        store: opt YesNo = STORE,
        mm_state: opt MmState = MM_STATE,
        mm_flags: many MmFlags = MM_FLAGS,
        content_location: one String = CONTENT_LOCATION,
        reply_charging: opt ReplyCharging = REPLY_CHARGING,
        reply_charging_deadline: opt TimeValue = REPLY_CHARGING_DEADLINE,
        reply_charging_size: opt u64 = REPLY_CHARGING_SIZE,
        reply_charging_id: opt String = REPLY_CHARGING_ID,
        applic_id: opt String = APPLIC_ID,
        reply_applic_id: opt String = REPLY_APPLIC_ID,
        aux_applic_info: opt String = AUX_APPLIC_INFO,
    }
}

mms_pdu! {
    /// m-forward.conf: the MMSC's answer to m-forward.req (§6.5.2).
    pub struct MForwardConf(FORWARD_CONF) {
        transaction_id: one String = TRANSACTION_ID,
        mms_version: one MmsVersion = MMS_VERSION,
        response_status: one ResponseStatus = RESPONSE_STATUS,
        response_text: opt EncodedString = RESPONSE_TEXT => with_response_text,
        message_id: opt String = MESSAGE_ID => with_message_id,
        content_location: opt String = CONTENT_LOCATION => with_content_location,
        store_status: opt StoreStatus = STORE_STATUS => with_store_status,
        store_status_text: opt EncodedString = STORE_STATUS_TEXT => with_store_status_text,
    }
}

/// Any MM1 PDU, typed where this module models the type.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Pdu {
    SendReq(MSendReq),
    SendConf(MSendConf),
    NotificationInd(MNotificationInd),
    NotifyRespInd(MNotifyRespInd),
    RetrieveConf(MRetrieveConf),
    AcknowledgeInd(MAcknowledgeInd),
    DeliveryInd(MDeliveryInd),
    ReadRecInd(MReadRecInd),
    ReadOrigInd(MReadOrigInd),
    ForwardReq(MForwardReq),
    ForwardConf(MForwardConf),
    /// MMS 1.3's MMBox, delete and cancel PDUs, and unknown types.
    Other(GenericPdu),
}

impl Pdu {
    /// Types a generic PDU.
    pub fn from_generic(g: GenericPdu) -> Result<Self, DecodeError> {
        Ok(match g.message_type {
            MessageType::SEND_REQ => Pdu::SendReq(MSendReq::from_generic(g)?),
            MessageType::SEND_CONF => Pdu::SendConf(MSendConf::from_generic(g)?),
            MessageType::NOTIFICATION_IND => {
                Pdu::NotificationInd(MNotificationInd::from_generic(g)?)
            }
            MessageType::NOTIFYRESP_IND => Pdu::NotifyRespInd(MNotifyRespInd::from_generic(g)?),
            MessageType::RETRIEVE_CONF => Pdu::RetrieveConf(MRetrieveConf::from_generic(g)?),
            MessageType::ACKNOWLEDGE_IND => Pdu::AcknowledgeInd(MAcknowledgeInd::from_generic(g)?),
            MessageType::DELIVERY_IND => Pdu::DeliveryInd(MDeliveryInd::from_generic(g)?),
            MessageType::READ_REC_IND => Pdu::ReadRecInd(MReadRecInd::from_generic(g)?),
            MessageType::READ_ORIG_IND => Pdu::ReadOrigInd(MReadOrigInd::from_generic(g)?),
            MessageType::FORWARD_REQ => Pdu::ForwardReq(MForwardReq::from_generic(g)?),
            MessageType::FORWARD_CONF => Pdu::ForwardConf(MForwardConf::from_generic(g)?),
            _ => Pdu::Other(g),
        })
    }

    pub fn to_generic(&self) -> GenericPdu {
        match self {
            Pdu::SendReq(p) => p.to_generic(),
            Pdu::SendConf(p) => p.to_generic(),
            Pdu::NotificationInd(p) => p.to_generic(),
            Pdu::NotifyRespInd(p) => p.to_generic(),
            Pdu::RetrieveConf(p) => p.to_generic(),
            Pdu::AcknowledgeInd(p) => p.to_generic(),
            Pdu::DeliveryInd(p) => p.to_generic(),
            Pdu::ReadRecInd(p) => p.to_generic(),
            Pdu::ReadOrigInd(p) => p.to_generic(),
            Pdu::ForwardReq(p) => p.to_generic(),
            Pdu::ForwardConf(p) => p.to_generic(),
            Pdu::Other(g) => g.clone(),
        }
    }

    pub fn message_type(&self) -> MessageType {
        match self {
            Pdu::SendReq(_) => MSendReq::MESSAGE_TYPE,
            Pdu::SendConf(_) => MSendConf::MESSAGE_TYPE,
            Pdu::NotificationInd(_) => MNotificationInd::MESSAGE_TYPE,
            Pdu::NotifyRespInd(_) => MNotifyRespInd::MESSAGE_TYPE,
            Pdu::RetrieveConf(_) => MRetrieveConf::MESSAGE_TYPE,
            Pdu::AcknowledgeInd(_) => MAcknowledgeInd::MESSAGE_TYPE,
            Pdu::DeliveryInd(_) => MDeliveryInd::MESSAGE_TYPE,
            Pdu::ReadRecInd(_) => MReadRecInd::MESSAGE_TYPE,
            Pdu::ReadOrigInd(_) => MReadOrigInd::MESSAGE_TYPE,
            Pdu::ForwardReq(_) => MForwardReq::MESSAGE_TYPE,
            Pdu::ForwardConf(_) => MForwardConf::MESSAGE_TYPE,
            Pdu::Other(g) => g.message_type,
        }
    }

    /// X-Mms-Transaction-Id, where the PDU has one.
    pub fn transaction_id(&self) -> Option<&str> {
        match self {
            Pdu::SendReq(p) => Some(&p.transaction_id),
            Pdu::SendConf(p) => Some(&p.transaction_id),
            Pdu::NotificationInd(p) => Some(&p.transaction_id),
            Pdu::NotifyRespInd(p) => Some(&p.transaction_id),
            Pdu::RetrieveConf(p) => p.transaction_id.as_deref(),
            Pdu::AcknowledgeInd(p) => Some(&p.transaction_id),
            Pdu::ForwardReq(p) => Some(&p.transaction_id),
            Pdu::ForwardConf(p) => Some(&p.transaction_id),
            Pdu::DeliveryInd(_) | Pdu::ReadRecInd(_) | Pdu::ReadOrigInd(_) => None,
            Pdu::Other(g) => g.transaction_id(),
        }
    }
}

impl Codec for Pdu {
    fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Pdu::from_generic(GenericPdu::read(r)?)
    }
    fn encode(&self, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        self.to_generic().encode(out)
    }
}
