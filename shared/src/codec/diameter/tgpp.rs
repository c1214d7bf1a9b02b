//! 3GPP (vendor 10415) parts of an MM9 CCR: 3GPP-MS-TimeZone (TS 29.061) and
//! Service-Information / MMS-Information (TS 32.299 §7.2).

use super::avp::{Avp, AvpWriter};
use super::dict;
use super::enums::{
    AddressType, AddresseeType, ClassIdentifier, MessageType, Priority, ReportRequested, TypeNumber,
};
use super::error::{DecodeError, EncodeError, ValueError};
use super::message::{Fields, GroupedValue};
use super::value::{DecodeValue, DiameterTime, EncodeValue};

/// 3GPP-MS-TimeZone (23): two octets as in TS 24.008 §10.5.3.8 — the offset from
/// UTC in quarter hours as two swapped BCD digits with the sign in bit 3, then the
/// daylight saving adjustment in hours (0-2). The octets are kept as received.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct MsTimeZone(pub [u8; 2]);

impl MsTimeZone {
    /// `quarter_hours` east of UTC (-79..=79) and `dst_hours` (0..=2) already
    /// included in the offset.
    pub fn new(quarter_hours: i8, dst_hours: u8) -> Option<Self> {
        let magnitude = quarter_hours.unsigned_abs();
        if magnitude > 79 || dst_hours > 2 {
            return None;
        }
        let sign = if quarter_hours < 0 { 0x08 } else { 0 };
        let zone = ((magnitude % 10) << 4) | (magnitude / 10) | sign;
        Some(Self([zone, dst_hours]))
    }

    /// The offset from UTC in quarter hours, if the BCD digits are valid.
    pub fn quarter_hours(self) -> Option<i8> {
        let [zone, _] = self.0;
        let tens = zone & 0x07;
        let units = zone >> 4;
        if units > 9 {
            return None;
        }
        let magnitude = i8::try_from(tens * 10 + units).ok()?;
        Some(if zone & 0x08 != 0 {
            -magnitude
        } else {
            magnitude
        })
    }

    /// Daylight saving adjustment in hours.
    pub fn dst_hours(self) -> u8 {
        self.0[1] & 0x03
    }
}

impl EncodeValue for MsTimeZone {
    fn encode_value(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.0);
    }
}

impl DecodeValue for MsTimeZone {
    fn decode_value(data: &[u8]) -> Result<Self, ValueError> {
        <[u8; 2]>::try_from(data)
            .map(Self)
            .map_err(|_| ValueError::WrongLength {
                expected: 2,
                found: data.len(),
            })
    }
}

/// Service-Information (873). Only MMS-Information is modelled; PS-, IMS-,
/// SMS-Information and the rest end up in `extra`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct ServiceInformation {
    pub mms_information: Option<MmsInformation>,
    pub extra: Vec<Avp>,
}

impl GroupedValue for ServiceInformation {
    fn encode_children(&self, w: &mut AvpWriter<'_>) -> Result<(), EncodeError> {
        w.group_opt(&dict::MMS_INFORMATION, self.mms_information.as_ref())?;
        w.raw_all(&self.extra)
    }

    fn decode_children(f: &mut Fields<'_>) -> Result<Self, DecodeError> {
        Ok(Self {
            mms_information: f.optional_group(&dict::MMS_INFORMATION)?,
            extra: f.rest(),
        })
    }
}

/// MMS-Information (877). MMBox-Storage-Requested, Applic-ID, Reply-Applic-ID,
/// Aux-Applic-Info, Content-Class, DRM-Content, Adaptations, VASP-ID and VAS-ID
/// end up in `extra`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct MmsInformation {
    pub originator_address: Option<MmsAddress>,
    pub recipient_addresses: Vec<MmsAddress>,
    pub submission_time: Option<DiameterTime>,
    pub mm_content_type: Option<MmContentType>,
    pub priority: Option<Priority>,
    pub message_id: Option<String>,
    pub message_type: Option<MessageType>,
    pub message_size: Option<u32>,
    pub message_class: Option<MessageClass>,
    pub delivery_report_requested: Option<ReportRequested>,
    pub read_reply_report_requested: Option<ReportRequested>,
    pub extra: Vec<Avp>,
}

impl GroupedValue for MmsInformation {
    fn encode_children(&self, w: &mut AvpWriter<'_>) -> Result<(), EncodeError> {
        w.group_opt(&dict::ORIGINATOR_ADDRESS, self.originator_address.as_ref())?;
        w.group_all(&dict::RECIPIENT_ADDRESS, &self.recipient_addresses)?;
        w.put_opt(&dict::SUBMISSION_TIME, self.submission_time.as_ref())?;
        w.group_opt(&dict::MM_CONTENT_TYPE, self.mm_content_type.as_ref())?;
        w.put_opt(&dict::PRIORITY, self.priority.as_ref())?;
        w.put_opt(&dict::MESSAGE_ID, self.message_id.as_ref())?;
        w.put_opt(&dict::MESSAGE_TYPE, self.message_type.as_ref())?;
        w.put_opt(&dict::MESSAGE_SIZE, self.message_size.as_ref())?;
        w.group_opt(&dict::MESSAGE_CLASS, self.message_class.as_ref())?;
        w.put_opt(
            &dict::DELIVERY_REPORT_REQUESTED,
            self.delivery_report_requested.as_ref(),
        )?;
        w.put_opt(
            &dict::READ_REPLY_REPORT_REQUESTED,
            self.read_reply_report_requested.as_ref(),
        )?;
        w.raw_all(&self.extra)
    }

    fn decode_children(f: &mut Fields<'_>) -> Result<Self, DecodeError> {
        Ok(Self {
            originator_address: f.optional_group(&dict::ORIGINATOR_ADDRESS)?,
            recipient_addresses: f.all_groups(&dict::RECIPIENT_ADDRESS)?,
            submission_time: f.optional(&dict::SUBMISSION_TIME)?,
            mm_content_type: f.optional_group(&dict::MM_CONTENT_TYPE)?,
            priority: f.optional(&dict::PRIORITY)?,
            message_id: f.optional(&dict::MESSAGE_ID)?,
            message_type: f.optional(&dict::MESSAGE_TYPE)?,
            message_size: f.optional(&dict::MESSAGE_SIZE)?,
            message_class: f.optional_group(&dict::MESSAGE_CLASS)?,
            delivery_report_requested: f.optional(&dict::DELIVERY_REPORT_REQUESTED)?,
            read_reply_report_requested: f.optional(&dict::READ_REPLY_REPORT_REQUESTED)?,
            extra: f.rest(),
        })
    }
}

/// Originator-Address (886) and Recipient-Address (1201):
/// `[Address-Type] [Address-Data] [Address-Domain]`, plus `[Addressee-Type]` in a
/// Recipient-Address. Address-Domain ends up in `extra`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct MmsAddress {
    pub address_type: Option<AddressType>,
    pub address_data: Option<String>,
    /// Recipient-Address only.
    pub addressee_type: Option<AddresseeType>,
    pub extra: Vec<Avp>,
}

impl MmsAddress {
    /// An MSISDN (Address-Type 1), digits with country code.
    pub fn msisdn(digits: &str) -> Self {
        Self {
            address_type: Some(AddressType::MSISDN),
            address_data: Some(digits.to_owned()),
            ..Self::default()
        }
    }

    /// An e-mail address (Address-Type 0).
    pub fn email(address: &str) -> Self {
        Self {
            address_type: Some(AddressType::EMAIL),
            address_data: Some(address.to_owned()),
            ..Self::default()
        }
    }
}

impl GroupedValue for MmsAddress {
    fn encode_children(&self, w: &mut AvpWriter<'_>) -> Result<(), EncodeError> {
        w.put_opt(&dict::ADDRESS_TYPE, self.address_type.as_ref())?;
        w.put_opt(&dict::ADDRESS_DATA, self.address_data.as_ref())?;
        w.raw_all(&self.extra)?;
        w.put_opt(&dict::ADDRESSEE_TYPE, self.addressee_type.as_ref())
    }

    fn decode_children(f: &mut Fields<'_>) -> Result<Self, DecodeError> {
        Ok(Self {
            address_type: f.optional(&dict::ADDRESS_TYPE)?,
            address_data: f.optional(&dict::ADDRESS_DATA)?,
            addressee_type: f.optional(&dict::ADDRESSEE_TYPE)?,
            extra: f.rest(),
        })
    }
}

/// MM-Content-Type (1203): `[Type-Number] [Additional-Type-Information]
/// [Content-Size] *[Additional-Content-Information]`, the last in `extra`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct MmContentType {
    pub type_number: Option<TypeNumber>,
    pub additional_type_information: Option<String>,
    pub content_size: Option<u32>,
    pub extra: Vec<Avp>,
}

impl GroupedValue for MmContentType {
    fn encode_children(&self, w: &mut AvpWriter<'_>) -> Result<(), EncodeError> {
        w.put_opt(&dict::TYPE_NUMBER, self.type_number.as_ref())?;
        w.put_opt(
            &dict::ADDITIONAL_TYPE_INFORMATION,
            self.additional_type_information.as_ref(),
        )?;
        w.put_opt(&dict::CONTENT_SIZE, self.content_size.as_ref())?;
        w.raw_all(&self.extra)
    }

    fn decode_children(f: &mut Fields<'_>) -> Result<Self, DecodeError> {
        Ok(Self {
            type_number: f.optional(&dict::TYPE_NUMBER)?,
            additional_type_information: f.optional(&dict::ADDITIONAL_TYPE_INFORMATION)?,
            content_size: f.optional(&dict::CONTENT_SIZE)?,
            extra: f.rest(),
        })
    }
}

/// Message-Class (1213): `[Class-Identifier] [Token-Text]`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct MessageClass {
    pub class_identifier: Option<ClassIdentifier>,
    pub token_text: Option<String>,
}

impl GroupedValue for MessageClass {
    fn encode_children(&self, w: &mut AvpWriter<'_>) -> Result<(), EncodeError> {
        w.put_opt(&dict::CLASS_IDENTIFIER, self.class_identifier.as_ref())?;
        w.put_opt(&dict::TOKEN_TEXT, self.token_text.as_ref())
    }

    fn decode_children(f: &mut Fields<'_>) -> Result<Self, DecodeError> {
        Ok(Self {
            class_identifier: f.optional(&dict::CLASS_IDENTIFIER)?,
            token_text: f.optional(&dict::TOKEN_TEXT)?,
        })
    }
}
