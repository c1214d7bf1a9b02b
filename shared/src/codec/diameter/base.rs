//! Base protocol commands (RFC 6733 §5): Capabilities-Exchange, Device-Watchdog
//! and Disconnect-Peer, with the grouped AVPs they use.
//!
//! Each typed command keeps the AVPs it does not model in `extra` and writes them
//! after its own, so nothing is lost; the generic [`Message`](super::Message) is
//! the byte-exact form.
//!
//! An answer with a protocol error (3xxx, E flag) may omit AVPs the typed answer
//! requires; read its Result-Code from the generic message first
//! (`message.get::<ResultCode>(&dict::RESULT_CODE)`).

use super::avp::{Avp, AvpWriter, VendorId};
use super::dict;
use super::enums::{DisconnectCause, InbandSecurityId, ResultCode};
use super::error::{DecodeError, EncodeError};
use super::header::{ApplicationId, CommandCode, CommandFlags, Header};
use super::message::{Command, Fields, GroupedValue};
use super::value::Address;

/// Vendor-Specific-Application-Id (260): `{Vendor-Id} [Auth-Application-Id]
/// [Acct-Application-Id]`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct VendorSpecificApplicationId {
    pub vendor_id: VendorId,
    pub auth_application_id: Option<ApplicationId>,
    pub acct_application_id: Option<ApplicationId>,
}

impl GroupedValue for VendorSpecificApplicationId {
    fn encode_children(&self, w: &mut AvpWriter<'_>) -> Result<(), EncodeError> {
        w.put(&dict::VENDOR_ID, &self.vendor_id)?;
        w.put_opt(
            &dict::AUTH_APPLICATION_ID,
            self.auth_application_id.as_ref(),
        )?;
        w.put_opt(
            &dict::ACCT_APPLICATION_ID,
            self.acct_application_id.as_ref(),
        )
    }

    fn decode_children(f: &mut Fields<'_>) -> Result<Self, DecodeError> {
        Ok(Self {
            vendor_id: f.required(&dict::VENDOR_ID)?,
            auth_application_id: f.optional(&dict::AUTH_APPLICATION_ID)?,
            acct_application_id: f.optional(&dict::ACCT_APPLICATION_ID)?,
        })
    }
}

/// Experimental-Result (297): `{Vendor-Id} {Experimental-Result-Code}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ExperimentalResult {
    pub vendor_id: VendorId,
    pub experimental_result_code: u32,
}

impl GroupedValue for ExperimentalResult {
    fn encode_children(&self, w: &mut AvpWriter<'_>) -> Result<(), EncodeError> {
        w.put(&dict::VENDOR_ID, &self.vendor_id)?;
        w.put(
            &dict::EXPERIMENTAL_RESULT_CODE,
            &self.experimental_result_code,
        )
    }

    fn decode_children(f: &mut Fields<'_>) -> Result<Self, DecodeError> {
        Ok(Self {
            vendor_id: f.required(&dict::VENDOR_ID)?,
            experimental_result_code: f.required(&dict::EXPERIMENTAL_RESULT_CODE)?,
        })
    }
}

/// Writes a Failed-AVP (279) holding `avps` as they are.
pub(crate) fn put_failed_avp(w: &mut AvpWriter<'_>, avps: &[Avp]) -> Result<(), EncodeError> {
    w.grouped(&dict::FAILED_AVP, |w| w.raw_all(avps))
}

fn take_failed_avp(f: &mut Fields<'_>) -> Result<Option<Vec<Avp>>, DecodeError> {
    let mut all = f.all_raw_groups(&dict::FAILED_AVP)?;
    match all.len() {
        0 | 1 => Ok(all.pop()),
        _ => Err(DecodeError::DuplicateAvp(dict::FAILED_AVP.name)),
    }
}

fn answer_flags(result_code: ResultCode) -> CommandFlags {
    CommandFlags::NONE.with(CommandFlags::ERROR, result_code.is_protocol_error())
}

/// What a peer says about itself in CER and CEA.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Capabilities {
    pub origin_host: String,
    pub origin_realm: String,
    /// At least one.
    pub host_ip_addresses: Vec<Address>,
    pub vendor_id: VendorId,
    pub product_name: String,
    pub origin_state_id: Option<u32>,
    pub supported_vendor_ids: Vec<VendorId>,
    pub auth_application_ids: Vec<ApplicationId>,
    pub inband_security_ids: Vec<InbandSecurityId>,
    pub acct_application_ids: Vec<ApplicationId>,
    pub vendor_specific_application_ids: Vec<VendorSpecificApplicationId>,
    pub firmware_revision: Option<u32>,
}

impl Capabilities {
    /// What NowSMS's MMSC advertises (seed 004): Vendor-Id 10415, Product-Name
    /// "MMSC", Auth-Application-Id 4 (credit control), Acct-Application-Id 0.
    pub fn mmsc(origin_host: &str, origin_realm: &str, host_ip_address: Address) -> Self {
        Self {
            origin_host: origin_host.to_owned(),
            origin_realm: origin_realm.to_owned(),
            host_ip_addresses: vec![host_ip_address],
            vendor_id: VendorId::TGPP,
            product_name: "MMSC".to_owned(),
            origin_state_id: None,
            supported_vendor_ids: Vec::new(),
            auth_application_ids: vec![ApplicationId::CREDIT_CONTROL],
            inband_security_ids: Vec::new(),
            acct_application_ids: vec![ApplicationId::COMMON],
            vendor_specific_application_ids: Vec::new(),
            firmware_revision: None,
        }
    }

    fn encode_identity(&self, w: &mut AvpWriter<'_>) -> Result<(), EncodeError> {
        w.put(&dict::ORIGIN_HOST, &self.origin_host)?;
        w.put(&dict::ORIGIN_REALM, &self.origin_realm)?;
        w.put_all(&dict::HOST_IP_ADDRESS, &self.host_ip_addresses)?;
        w.put(&dict::VENDOR_ID, &self.vendor_id)?;
        w.put(&dict::PRODUCT_NAME, &self.product_name)?;
        w.put_opt(&dict::ORIGIN_STATE_ID, self.origin_state_id.as_ref())
    }

    fn encode_applications(&self, w: &mut AvpWriter<'_>) -> Result<(), EncodeError> {
        w.put_all(&dict::SUPPORTED_VENDOR_ID, &self.supported_vendor_ids)?;
        w.put_all(&dict::AUTH_APPLICATION_ID, &self.auth_application_ids)?;
        w.put_all(&dict::INBAND_SECURITY_ID, &self.inband_security_ids)?;
        w.put_all(&dict::ACCT_APPLICATION_ID, &self.acct_application_ids)?;
        w.group_all(
            &dict::VENDOR_SPECIFIC_APPLICATION_ID,
            &self.vendor_specific_application_ids,
        )?;
        w.put_opt(&dict::FIRMWARE_REVISION, self.firmware_revision.as_ref())
    }

    fn decode(f: &mut Fields<'_>) -> Result<Self, DecodeError> {
        let caps = Self {
            origin_host: f.required(&dict::ORIGIN_HOST)?,
            origin_realm: f.required(&dict::ORIGIN_REALM)?,
            host_ip_addresses: f.all(&dict::HOST_IP_ADDRESS)?,
            vendor_id: f.required(&dict::VENDOR_ID)?,
            product_name: f.required(&dict::PRODUCT_NAME)?,
            origin_state_id: f.optional(&dict::ORIGIN_STATE_ID)?,
            supported_vendor_ids: f.all(&dict::SUPPORTED_VENDOR_ID)?,
            auth_application_ids: f.all(&dict::AUTH_APPLICATION_ID)?,
            inband_security_ids: f.all(&dict::INBAND_SECURITY_ID)?,
            acct_application_ids: f.all(&dict::ACCT_APPLICATION_ID)?,
            vendor_specific_application_ids: f.all_groups(&dict::VENDOR_SPECIFIC_APPLICATION_ID)?,
            firmware_revision: f.optional(&dict::FIRMWARE_REVISION)?,
        };
        if caps.host_ip_addresses.is_empty() {
            return Err(DecodeError::MissingAvp(dict::HOST_IP_ADDRESS.name));
        }
        Ok(caps)
    }
}

/// Capabilities-Exchange-Request (257, R).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct CapabilitiesExchangeRequest {
    pub hop_by_hop: u32,
    pub end_to_end: u32,
    pub capabilities: Capabilities,
    pub extra: Vec<Avp>,
}

impl Command for CapabilitiesExchangeRequest {
    const CODE: CommandCode = CommandCode::CER;
    const REQUEST: bool = true;
    const APPLICATION: ApplicationId = ApplicationId::COMMON;
    const PROXIABLE: bool = false;

    fn ids(&self) -> (u32, u32) {
        (self.hop_by_hop, self.end_to_end)
    }

    fn encode_avps(&self, w: &mut AvpWriter<'_>) -> Result<(), EncodeError> {
        self.capabilities.encode_identity(w)?;
        self.capabilities.encode_applications(w)?;
        w.raw_all(&self.extra)
    }

    fn decode_avps(header: &Header, f: &mut Fields<'_>) -> Result<Self, DecodeError> {
        Ok(Self {
            hop_by_hop: header.hop_by_hop,
            end_to_end: header.end_to_end,
            capabilities: Capabilities::decode(f)?,
            extra: f.rest(),
        })
    }
}

/// Capabilities-Exchange-Answer (257).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct CapabilitiesExchangeAnswer {
    pub hop_by_hop: u32,
    pub end_to_end: u32,
    pub result_code: ResultCode,
    pub capabilities: Capabilities,
    pub error_message: Option<String>,
    /// The children of Failed-AVP.
    pub failed_avp: Option<Vec<Avp>>,
    pub extra: Vec<Avp>,
}

impl Command for CapabilitiesExchangeAnswer {
    const CODE: CommandCode = CommandCode::CEA;
    const REQUEST: bool = false;
    const APPLICATION: ApplicationId = ApplicationId::COMMON;
    const PROXIABLE: bool = false;

    fn ids(&self) -> (u32, u32) {
        (self.hop_by_hop, self.end_to_end)
    }

    fn extra_flags(&self) -> CommandFlags {
        answer_flags(self.result_code)
    }

    fn encode_avps(&self, w: &mut AvpWriter<'_>) -> Result<(), EncodeError> {
        w.put(&dict::RESULT_CODE, &self.result_code)?;
        self.capabilities.encode_identity(w)?;
        w.put_opt(&dict::ERROR_MESSAGE, self.error_message.as_ref())?;
        if let Some(failed) = &self.failed_avp {
            put_failed_avp(w, failed)?;
        }
        self.capabilities.encode_applications(w)?;
        w.raw_all(&self.extra)
    }

    fn decode_avps(header: &Header, f: &mut Fields<'_>) -> Result<Self, DecodeError> {
        Ok(Self {
            hop_by_hop: header.hop_by_hop,
            end_to_end: header.end_to_end,
            result_code: f.required(&dict::RESULT_CODE)?,
            capabilities: Capabilities::decode(f)?,
            error_message: f.optional(&dict::ERROR_MESSAGE)?,
            failed_avp: take_failed_avp(f)?,
            extra: f.rest(),
        })
    }
}

/// Device-Watchdog-Request (280, R).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct DeviceWatchdogRequest {
    pub hop_by_hop: u32,
    pub end_to_end: u32,
    pub origin_host: String,
    pub origin_realm: String,
    pub origin_state_id: Option<u32>,
    pub extra: Vec<Avp>,
}

impl Command for DeviceWatchdogRequest {
    const CODE: CommandCode = CommandCode::DWR;
    const REQUEST: bool = true;
    const APPLICATION: ApplicationId = ApplicationId::COMMON;
    const PROXIABLE: bool = false;

    fn ids(&self) -> (u32, u32) {
        (self.hop_by_hop, self.end_to_end)
    }

    fn encode_avps(&self, w: &mut AvpWriter<'_>) -> Result<(), EncodeError> {
        w.put(&dict::ORIGIN_HOST, &self.origin_host)?;
        w.put(&dict::ORIGIN_REALM, &self.origin_realm)?;
        w.put_opt(&dict::ORIGIN_STATE_ID, self.origin_state_id.as_ref())?;
        w.raw_all(&self.extra)
    }

    fn decode_avps(header: &Header, f: &mut Fields<'_>) -> Result<Self, DecodeError> {
        Ok(Self {
            hop_by_hop: header.hop_by_hop,
            end_to_end: header.end_to_end,
            origin_host: f.required(&dict::ORIGIN_HOST)?,
            origin_realm: f.required(&dict::ORIGIN_REALM)?,
            origin_state_id: f.optional(&dict::ORIGIN_STATE_ID)?,
            extra: f.rest(),
        })
    }
}

/// Device-Watchdog-Answer (280).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct DeviceWatchdogAnswer {
    pub hop_by_hop: u32,
    pub end_to_end: u32,
    pub result_code: ResultCode,
    pub origin_host: String,
    pub origin_realm: String,
    pub error_message: Option<String>,
    pub failed_avp: Option<Vec<Avp>>,
    pub origin_state_id: Option<u32>,
    pub extra: Vec<Avp>,
}

impl Command for DeviceWatchdogAnswer {
    const CODE: CommandCode = CommandCode::DWA;
    const REQUEST: bool = false;
    const APPLICATION: ApplicationId = ApplicationId::COMMON;
    const PROXIABLE: bool = false;

    fn ids(&self) -> (u32, u32) {
        (self.hop_by_hop, self.end_to_end)
    }

    fn extra_flags(&self) -> CommandFlags {
        answer_flags(self.result_code)
    }

    fn encode_avps(&self, w: &mut AvpWriter<'_>) -> Result<(), EncodeError> {
        w.put(&dict::RESULT_CODE, &self.result_code)?;
        w.put(&dict::ORIGIN_HOST, &self.origin_host)?;
        w.put(&dict::ORIGIN_REALM, &self.origin_realm)?;
        w.put_opt(&dict::ERROR_MESSAGE, self.error_message.as_ref())?;
        if let Some(failed) = &self.failed_avp {
            put_failed_avp(w, failed)?;
        }
        w.put_opt(&dict::ORIGIN_STATE_ID, self.origin_state_id.as_ref())?;
        w.raw_all(&self.extra)
    }

    fn decode_avps(header: &Header, f: &mut Fields<'_>) -> Result<Self, DecodeError> {
        Ok(Self {
            hop_by_hop: header.hop_by_hop,
            end_to_end: header.end_to_end,
            result_code: f.required(&dict::RESULT_CODE)?,
            origin_host: f.required(&dict::ORIGIN_HOST)?,
            origin_realm: f.required(&dict::ORIGIN_REALM)?,
            error_message: f.optional(&dict::ERROR_MESSAGE)?,
            failed_avp: take_failed_avp(f)?,
            origin_state_id: f.optional(&dict::ORIGIN_STATE_ID)?,
            extra: f.rest(),
        })
    }
}

/// Disconnect-Peer-Request (282, R).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct DisconnectPeerRequest {
    pub hop_by_hop: u32,
    pub end_to_end: u32,
    pub origin_host: String,
    pub origin_realm: String,
    pub disconnect_cause: DisconnectCause,
    pub extra: Vec<Avp>,
}

impl Command for DisconnectPeerRequest {
    const CODE: CommandCode = CommandCode::DPR;
    const REQUEST: bool = true;
    const APPLICATION: ApplicationId = ApplicationId::COMMON;
    const PROXIABLE: bool = false;

    fn ids(&self) -> (u32, u32) {
        (self.hop_by_hop, self.end_to_end)
    }

    fn encode_avps(&self, w: &mut AvpWriter<'_>) -> Result<(), EncodeError> {
        w.put(&dict::ORIGIN_HOST, &self.origin_host)?;
        w.put(&dict::ORIGIN_REALM, &self.origin_realm)?;
        w.put(&dict::DISCONNECT_CAUSE, &self.disconnect_cause)?;
        w.raw_all(&self.extra)
    }

    fn decode_avps(header: &Header, f: &mut Fields<'_>) -> Result<Self, DecodeError> {
        Ok(Self {
            hop_by_hop: header.hop_by_hop,
            end_to_end: header.end_to_end,
            origin_host: f.required(&dict::ORIGIN_HOST)?,
            origin_realm: f.required(&dict::ORIGIN_REALM)?,
            disconnect_cause: f.required(&dict::DISCONNECT_CAUSE)?,
            extra: f.rest(),
        })
    }
}

/// Disconnect-Peer-Answer (282).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct DisconnectPeerAnswer {
    pub hop_by_hop: u32,
    pub end_to_end: u32,
    pub result_code: ResultCode,
    pub origin_host: String,
    pub origin_realm: String,
    pub error_message: Option<String>,
    pub failed_avp: Option<Vec<Avp>>,
    pub extra: Vec<Avp>,
}

impl Command for DisconnectPeerAnswer {
    const CODE: CommandCode = CommandCode::DPA;
    const REQUEST: bool = false;
    const APPLICATION: ApplicationId = ApplicationId::COMMON;
    const PROXIABLE: bool = false;

    fn ids(&self) -> (u32, u32) {
        (self.hop_by_hop, self.end_to_end)
    }

    fn extra_flags(&self) -> CommandFlags {
        answer_flags(self.result_code)
    }

    fn encode_avps(&self, w: &mut AvpWriter<'_>) -> Result<(), EncodeError> {
        w.put(&dict::RESULT_CODE, &self.result_code)?;
        w.put(&dict::ORIGIN_HOST, &self.origin_host)?;
        w.put(&dict::ORIGIN_REALM, &self.origin_realm)?;
        w.put_opt(&dict::ERROR_MESSAGE, self.error_message.as_ref())?;
        if let Some(failed) = &self.failed_avp {
            put_failed_avp(w, failed)?;
        }
        w.raw_all(&self.extra)
    }

    fn decode_avps(header: &Header, f: &mut Fields<'_>) -> Result<Self, DecodeError> {
        Ok(Self {
            hop_by_hop: header.hop_by_hop,
            end_to_end: header.end_to_end,
            result_code: f.required(&dict::RESULT_CODE)?,
            origin_host: f.required(&dict::ORIGIN_HOST)?,
            origin_realm: f.required(&dict::ORIGIN_REALM)?,
            error_message: f.optional(&dict::ERROR_MESSAGE)?,
            failed_avp: take_failed_avp(f)?,
            extra: f.rest(),
        })
    }
}
