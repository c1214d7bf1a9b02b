//! Diameter Credit-Control (RFC 4006) as used for MMS charging over MM9/Ro
//! (3GPP TS 32.299 §6.4): CCR/CCA, service units, money and subscription ids.

use super::avp::{Avp, AvpWriter};
use super::base::{ExperimentalResult, put_failed_avp};
use super::dict;
use super::enums::{
    CcRequestType, CreditControlFailureHandling, DirectDebitingFailureHandling,
    MultipleServicesIndicator, RequestedAction, ResultCode, SubscriptionIdType, TerminationCause,
};
use super::error::{DecodeError, EncodeError};
use super::header::{ApplicationId, CommandCode, CommandFlags, Header};
use super::message::{Command, Fields, GroupedValue};
use super::tgpp::{MsTimeZone, ServiceInformation};
use super::value::{Address, DiameterTime};

/// Service-Context-Id for MMS charging (TS 32.299 with the TS 32.270 MMS
/// charging spec number; NowSMS's default).
pub const MMS_SERVICE_CONTEXT_ID: &str = "32270@3gpp.org";

/// Why a decimal amount could not become a Unit-Value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum MoneyError {
    #[error("amount has no digits")]
    NoDigits,
    #[error("amount may hold only digits, one '.', and a leading sign")]
    InvalidCharacter,
    #[error("amount has too many digits for Value-Digits (Integer64)")]
    TooManyDigits,
}

/// Unit-Value (445): `{Value-Digits} [Exponent]`, the number
/// `value_digits * 10^exponent` (no Exponent means 0).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct UnitValue {
    pub value_digits: i64,
    pub exponent: Option<i32>,
}

impl UnitValue {
    /// Reads a decimal amount as NowSMS does: "0.25" gives Value-Digits 25 and
    /// Exponent -2; "3" gives 3 and 0. The digits are kept as written ("1.50" is
    /// 150, -2), so the charging server sees the precision the operator set.
    pub fn from_decimal(amount: &str) -> Result<Self, MoneyError> {
        let amount = amount.trim();
        let (negative, body) = match amount.as_bytes().first() {
            Some(b'-') => (true, amount.get(1..).unwrap_or_default()),
            Some(b'+') => (false, amount.get(1..).unwrap_or_default()),
            _ => (false, amount),
        };
        let (int, frac) = match body.split_once('.') {
            Some((int, frac)) => (int, frac),
            None => (body, ""),
        };
        if int.is_empty() || (body.contains('.') && frac.is_empty()) {
            return Err(MoneyError::NoDigits);
        }
        let mut digits: i64 = 0;
        for c in int.bytes().chain(frac.bytes()) {
            if !c.is_ascii_digit() {
                return Err(MoneyError::InvalidCharacter);
            }
            digits = digits
                .checked_mul(10)
                .and_then(|d| d.checked_add(i64::from(c - b'0')))
                .ok_or(MoneyError::TooManyDigits)?;
        }
        let exponent = i32::try_from(frac.len())
            .map(|n| -n)
            .map_err(|_| MoneyError::TooManyDigits)?;
        Ok(Self {
            value_digits: if negative { -digits } else { digits },
            exponent: Some(exponent),
        })
    }
}

impl std::str::FromStr for UnitValue {
    type Err = MoneyError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::from_decimal(s)
    }
}

/// The amount in decimal ("0.25"); scientific form ("25e-90") when the exponent
/// is too large to spell out.
impl core::fmt::Display for UnitValue {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        const SPELL_OUT: u32 = 64;
        let exponent = self.exponent.unwrap_or(0);
        let sign = if self.value_digits < 0 { "-" } else { "" };
        let digits = self.value_digits.unsigned_abs().to_string();
        if exponent.unsigned_abs() > SPELL_OUT {
            return write!(f, "{}e{exponent}", self.value_digits);
        }
        let places = exponent.unsigned_abs() as usize;
        if exponent >= 0 {
            write!(f, "{sign}{digits}{:0<places$}", "")
        } else {
            let padded = format!("{digits:0>width$}", width = places + 1);
            let (int, frac) = padded.split_at(padded.len() - places);
            write!(f, "{sign}{int}.{frac}")
        }
    }
}

impl GroupedValue for UnitValue {
    fn encode_children(&self, w: &mut AvpWriter<'_>) -> Result<(), EncodeError> {
        w.put(&dict::VALUE_DIGITS, &self.value_digits)?;
        w.put_opt(&dict::EXPONENT, self.exponent.as_ref())
    }

    fn decode_children(f: &mut Fields<'_>) -> Result<Self, DecodeError> {
        Ok(Self {
            value_digits: f.required(&dict::VALUE_DIGITS)?,
            exponent: f.optional(&dict::EXPONENT)?,
        })
    }
}

/// CC-Money (413): `{Unit-Value} [Currency-Code]`, the currency an ISO 4217
/// numeric code (EUR 978, USD 840, GBP 826).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct CcMoney {
    pub unit_value: UnitValue,
    pub currency_code: Option<u32>,
}

impl CcMoney {
    /// `CcMoney::from_decimal("0.25", Some(978))`: 0.25 EUR.
    pub fn from_decimal(amount: &str, currency_code: Option<u32>) -> Result<Self, MoneyError> {
        Ok(Self {
            unit_value: UnitValue::from_decimal(amount)?,
            currency_code,
        })
    }
}

impl GroupedValue for CcMoney {
    fn encode_children(&self, w: &mut AvpWriter<'_>) -> Result<(), EncodeError> {
        w.group(&dict::UNIT_VALUE, &self.unit_value)?;
        w.put_opt(&dict::CURRENCY_CODE, self.currency_code.as_ref())
    }

    fn decode_children(f: &mut Fields<'_>) -> Result<Self, DecodeError> {
        Ok(Self {
            unit_value: f.required_group(&dict::UNIT_VALUE)?,
            currency_code: f.optional(&dict::CURRENCY_CODE)?,
        })
    }
}

/// Requested-Service-Unit (437), Used-Service-Unit (446) and
/// Granted-Service-Unit (431), which share their layout. Tariff-Change-Usage and
/// Tariff-Time-Change end up in `extra`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct ServiceUnit {
    pub cc_time: Option<u32>,
    pub cc_money: Option<CcMoney>,
    pub cc_total_octets: Option<u64>,
    pub cc_input_octets: Option<u64>,
    pub cc_output_octets: Option<u64>,
    pub cc_service_specific_units: Option<u64>,
    pub extra: Vec<Avp>,
}

impl ServiceUnit {
    /// A price: CC-Money only.
    pub fn money(money: CcMoney) -> Self {
        Self {
            cc_money: Some(money),
            ..Self::default()
        }
    }

    /// A count of service-specific units (e.g. one MMS).
    pub fn units(n: u64) -> Self {
        Self {
            cc_service_specific_units: Some(n),
            ..Self::default()
        }
    }
}

impl GroupedValue for ServiceUnit {
    fn encode_children(&self, w: &mut AvpWriter<'_>) -> Result<(), EncodeError> {
        w.put_opt(&dict::CC_TIME, self.cc_time.as_ref())?;
        w.group_opt(&dict::CC_MONEY, self.cc_money.as_ref())?;
        w.put_opt(&dict::CC_TOTAL_OCTETS, self.cc_total_octets.as_ref())?;
        w.put_opt(&dict::CC_INPUT_OCTETS, self.cc_input_octets.as_ref())?;
        w.put_opt(&dict::CC_OUTPUT_OCTETS, self.cc_output_octets.as_ref())?;
        w.put_opt(
            &dict::CC_SERVICE_SPECIFIC_UNITS,
            self.cc_service_specific_units.as_ref(),
        )?;
        w.raw_all(&self.extra)
    }

    fn decode_children(f: &mut Fields<'_>) -> Result<Self, DecodeError> {
        Ok(Self {
            cc_time: f.optional(&dict::CC_TIME)?,
            cc_money: f.optional_group(&dict::CC_MONEY)?,
            cc_total_octets: f.optional(&dict::CC_TOTAL_OCTETS)?,
            cc_input_octets: f.optional(&dict::CC_INPUT_OCTETS)?,
            cc_output_octets: f.optional(&dict::CC_OUTPUT_OCTETS)?,
            cc_service_specific_units: f.optional(&dict::CC_SERVICE_SPECIFIC_UNITS)?,
            extra: f.rest(),
        })
    }
}

/// Subscription-Id (443): `{Subscription-Id-Type} {Subscription-Id-Data}`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct SubscriptionId {
    pub subscription_id_type: SubscriptionIdType,
    pub subscription_id_data: String,
}

impl SubscriptionId {
    /// An MSISDN with country code, no '+' (END_USER_E164).
    pub fn e164(msisdn: &str) -> Self {
        Self {
            subscription_id_type: SubscriptionIdType::END_USER_E164,
            subscription_id_data: msisdn.to_owned(),
        }
    }
}

impl GroupedValue for SubscriptionId {
    fn encode_children(&self, w: &mut AvpWriter<'_>) -> Result<(), EncodeError> {
        w.put(&dict::SUBSCRIPTION_ID_TYPE, &self.subscription_id_type)?;
        w.put(&dict::SUBSCRIPTION_ID_DATA, &self.subscription_id_data)
    }

    fn decode_children(f: &mut Fields<'_>) -> Result<Self, DecodeError> {
        Ok(Self {
            subscription_id_type: f.required(&dict::SUBSCRIPTION_ID_TYPE)?,
            subscription_id_data: f.required(&dict::SUBSCRIPTION_ID_DATA)?,
        })
    }
}

/// Multiple-Services-Credit-Control (456). G-S-U-Pool-Reference and
/// Final-Unit-Indication end up in `extra`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct MultipleServicesCreditControl {
    pub granted_service_unit: Option<ServiceUnit>,
    pub requested_service_unit: Option<ServiceUnit>,
    pub used_service_units: Vec<ServiceUnit>,
    pub service_identifiers: Vec<u32>,
    pub rating_group: Option<u32>,
    pub validity_time: Option<u32>,
    pub result_code: Option<ResultCode>,
    pub extra: Vec<Avp>,
}

impl GroupedValue for MultipleServicesCreditControl {
    fn encode_children(&self, w: &mut AvpWriter<'_>) -> Result<(), EncodeError> {
        w.group_opt(
            &dict::GRANTED_SERVICE_UNIT,
            self.granted_service_unit.as_ref(),
        )?;
        w.group_opt(
            &dict::REQUESTED_SERVICE_UNIT,
            self.requested_service_unit.as_ref(),
        )?;
        w.group_all(&dict::USED_SERVICE_UNIT, &self.used_service_units)?;
        w.put_all(&dict::SERVICE_IDENTIFIER, &self.service_identifiers)?;
        w.put_opt(&dict::RATING_GROUP, self.rating_group.as_ref())?;
        w.put_opt(&dict::VALIDITY_TIME, self.validity_time.as_ref())?;
        w.put_opt(&dict::RESULT_CODE, self.result_code.as_ref())?;
        w.raw_all(&self.extra)
    }

    fn decode_children(f: &mut Fields<'_>) -> Result<Self, DecodeError> {
        Ok(Self {
            granted_service_unit: f.optional_group(&dict::GRANTED_SERVICE_UNIT)?,
            requested_service_unit: f.optional_group(&dict::REQUESTED_SERVICE_UNIT)?,
            used_service_units: f.all_groups(&dict::USED_SERVICE_UNIT)?,
            service_identifiers: f.all(&dict::SERVICE_IDENTIFIER)?,
            rating_group: f.optional(&dict::RATING_GROUP)?,
            validity_time: f.optional(&dict::VALIDITY_TIME)?,
            result_code: f.optional(&dict::RESULT_CODE)?,
            extra: f.rest(),
        })
    }
}

/// Cost-Information (423): `{Unit-Value} {Currency-Code} [Cost-Unit]`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct CostInformation {
    pub unit_value: UnitValue,
    pub currency_code: u32,
    pub cost_unit: Option<String>,
}

impl GroupedValue for CostInformation {
    fn encode_children(&self, w: &mut AvpWriter<'_>) -> Result<(), EncodeError> {
        w.group(&dict::UNIT_VALUE, &self.unit_value)?;
        w.put(&dict::CURRENCY_CODE, &self.currency_code)?;
        w.put_opt(&dict::COST_UNIT, self.cost_unit.as_ref())
    }

    fn decode_children(f: &mut Fields<'_>) -> Result<Self, DecodeError> {
        Ok(Self {
            unit_value: f.required_group(&dict::UNIT_VALUE)?,
            currency_code: f.required(&dict::CURRENCY_CODE)?,
            cost_unit: f.optional(&dict::COST_UNIT)?,
        })
    }
}

/// Credit-Control-Request (272, R, P, application 4), with the AVPs NowSMS's
/// MMSC sends (seed 004) and the Ro additions of TS 32.299.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct CreditControlRequest {
    pub hop_by_hop: u32,
    pub end_to_end: u32,
    /// Sets the T flag: the request may be a retransmission after failover.
    pub retransmission: bool,
    pub session_id: String,
    pub origin_host: String,
    pub origin_realm: String,
    pub destination_host: Option<String>,
    pub destination_realm: String,
    /// 4 (Diameter Credit Control).
    pub auth_application_id: ApplicationId,
    pub service_context_id: String,
    pub cc_request_type: CcRequestType,
    pub cc_request_number: u32,
    pub user_name: Option<String>,
    pub origin_state_id: Option<u32>,
    pub event_timestamp: Option<DiameterTime>,
    pub subscription_ids: Vec<SubscriptionId>,
    pub termination_cause: Option<TerminationCause>,
    pub requested_action: Option<RequestedAction>,
    pub ms_timezone: Option<MsTimeZone>,
    pub sgsn_mcc_mnc: Option<String>,
    pub sgsn_address: Option<Address>,
    pub service_identifier: Option<u32>,
    pub requested_service_unit: Option<ServiceUnit>,
    pub used_service_units: Vec<ServiceUnit>,
    pub multiple_services_indicator: Option<MultipleServicesIndicator>,
    pub multiple_services_credit_control: Vec<MultipleServicesCreditControl>,
    pub service_information: Option<ServiceInformation>,
    pub extra: Vec<Avp>,
}

impl CreditControlRequest {
    /// A one-shot charge as NowSMS sends it: EVENT_REQUEST number 0,
    /// DIRECT_DEBITING, Service-Context-Id "32270@3gpp.org", the subscriber as an
    /// END_USER_E164 Subscription-Id. Add timestamps, units and MMS-Information
    /// to the result.
    pub fn event(
        session_id: &str,
        origin_host: &str,
        origin_realm: &str,
        destination_realm: &str,
        subscriber_e164: &str,
    ) -> Self {
        Self {
            hop_by_hop: 0,
            end_to_end: 0,
            retransmission: false,
            session_id: session_id.to_owned(),
            origin_host: origin_host.to_owned(),
            origin_realm: origin_realm.to_owned(),
            destination_host: None,
            destination_realm: destination_realm.to_owned(),
            auth_application_id: ApplicationId::CREDIT_CONTROL,
            service_context_id: MMS_SERVICE_CONTEXT_ID.to_owned(),
            cc_request_type: CcRequestType::EVENT,
            cc_request_number: 0,
            user_name: None,
            origin_state_id: None,
            event_timestamp: None,
            subscription_ids: vec![SubscriptionId::e164(subscriber_e164)],
            termination_cause: None,
            requested_action: Some(RequestedAction::DIRECT_DEBITING),
            ms_timezone: None,
            sgsn_mcc_mnc: None,
            sgsn_address: None,
            service_identifier: None,
            requested_service_unit: None,
            used_service_units: Vec::new(),
            multiple_services_indicator: None,
            multiple_services_credit_control: Vec::new(),
            service_information: None,
            extra: Vec::new(),
        }
    }
}

impl Command for CreditControlRequest {
    const CODE: CommandCode = CommandCode::CCR;
    const REQUEST: bool = true;
    const APPLICATION: ApplicationId = ApplicationId::CREDIT_CONTROL;
    const PROXIABLE: bool = true;

    fn ids(&self) -> (u32, u32) {
        (self.hop_by_hop, self.end_to_end)
    }

    fn extra_flags(&self) -> CommandFlags {
        CommandFlags::NONE.with(CommandFlags::RETRANSMITTED, self.retransmission)
    }

    fn encode_avps(&self, w: &mut AvpWriter<'_>) -> Result<(), EncodeError> {
        // Session-Id first, as RFC 6733 §8.8 asks; then the order of seed 004.
        w.put(&dict::SESSION_ID, &self.session_id)?;
        w.put(&dict::ORIGIN_HOST, &self.origin_host)?;
        w.put(&dict::ORIGIN_REALM, &self.origin_realm)?;
        w.put_opt(&dict::DESTINATION_HOST, self.destination_host.as_ref())?;
        w.put(&dict::DESTINATION_REALM, &self.destination_realm)?;
        w.put(&dict::AUTH_APPLICATION_ID, &self.auth_application_id)?;
        w.put(&dict::SERVICE_CONTEXT_ID, &self.service_context_id)?;
        w.put(&dict::CC_REQUEST_TYPE, &self.cc_request_type)?;
        w.put(&dict::CC_REQUEST_NUMBER, &self.cc_request_number)?;
        w.put_opt(&dict::USER_NAME, self.user_name.as_ref())?;
        w.put_opt(&dict::ORIGIN_STATE_ID, self.origin_state_id.as_ref())?;
        w.put_opt(&dict::EVENT_TIMESTAMP, self.event_timestamp.as_ref())?;
        w.group_all(&dict::SUBSCRIPTION_ID, &self.subscription_ids)?;
        w.put_opt(&dict::TERMINATION_CAUSE, self.termination_cause.as_ref())?;
        w.put_opt(&dict::REQUESTED_ACTION, self.requested_action.as_ref())?;
        w.put_opt(&dict::TGPP_MS_TIMEZONE, self.ms_timezone.as_ref())?;
        w.put_opt(&dict::TGPP_SGSN_MCC_MNC, self.sgsn_mcc_mnc.as_ref())?;
        w.put_opt(&dict::SGSN_ADDRESS, self.sgsn_address.as_ref())?;
        w.put_opt(&dict::SERVICE_IDENTIFIER, self.service_identifier.as_ref())?;
        w.group_opt(
            &dict::REQUESTED_SERVICE_UNIT,
            self.requested_service_unit.as_ref(),
        )?;
        w.group_all(&dict::USED_SERVICE_UNIT, &self.used_service_units)?;
        w.put_opt(
            &dict::MULTIPLE_SERVICES_INDICATOR,
            self.multiple_services_indicator.as_ref(),
        )?;
        w.group_all(
            &dict::MULTIPLE_SERVICES_CREDIT_CONTROL,
            &self.multiple_services_credit_control,
        )?;
        w.group_opt(
            &dict::SERVICE_INFORMATION,
            self.service_information.as_ref(),
        )?;
        w.raw_all(&self.extra)
    }

    fn decode_avps(header: &Header, f: &mut Fields<'_>) -> Result<Self, DecodeError> {
        Ok(Self {
            hop_by_hop: header.hop_by_hop,
            end_to_end: header.end_to_end,
            retransmission: header.flags.contains(CommandFlags::RETRANSMITTED),
            session_id: f.required(&dict::SESSION_ID)?,
            origin_host: f.required(&dict::ORIGIN_HOST)?,
            origin_realm: f.required(&dict::ORIGIN_REALM)?,
            destination_host: f.optional(&dict::DESTINATION_HOST)?,
            destination_realm: f.required(&dict::DESTINATION_REALM)?,
            auth_application_id: f.required(&dict::AUTH_APPLICATION_ID)?,
            service_context_id: f.required(&dict::SERVICE_CONTEXT_ID)?,
            cc_request_type: f.required(&dict::CC_REQUEST_TYPE)?,
            cc_request_number: f.required(&dict::CC_REQUEST_NUMBER)?,
            user_name: f.optional(&dict::USER_NAME)?,
            origin_state_id: f.optional(&dict::ORIGIN_STATE_ID)?,
            event_timestamp: f.optional(&dict::EVENT_TIMESTAMP)?,
            subscription_ids: f.all_groups(&dict::SUBSCRIPTION_ID)?,
            termination_cause: f.optional(&dict::TERMINATION_CAUSE)?,
            requested_action: f.optional(&dict::REQUESTED_ACTION)?,
            ms_timezone: f.optional(&dict::TGPP_MS_TIMEZONE)?,
            sgsn_mcc_mnc: f.optional(&dict::TGPP_SGSN_MCC_MNC)?,
            sgsn_address: f.optional(&dict::SGSN_ADDRESS)?,
            service_identifier: f.optional(&dict::SERVICE_IDENTIFIER)?,
            requested_service_unit: f.optional_group(&dict::REQUESTED_SERVICE_UNIT)?,
            used_service_units: f.all_groups(&dict::USED_SERVICE_UNIT)?,
            multiple_services_indicator: f.optional(&dict::MULTIPLE_SERVICES_INDICATOR)?,
            multiple_services_credit_control: f
                .all_groups(&dict::MULTIPLE_SERVICES_CREDIT_CONTROL)?,
            service_information: f.optional_group(&dict::SERVICE_INFORMATION)?,
            extra: f.rest(),
        })
    }
}

/// Credit-Control-Answer (272, P, application 4). At least one of Result-Code
/// and Experimental-Result is present.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct CreditControlAnswer {
    pub hop_by_hop: u32,
    pub end_to_end: u32,
    pub session_id: String,
    pub result_code: Option<ResultCode>,
    pub experimental_result: Option<ExperimentalResult>,
    pub origin_host: String,
    pub origin_realm: String,
    pub auth_application_id: ApplicationId,
    pub cc_request_type: CcRequestType,
    pub cc_request_number: u32,
    pub origin_state_id: Option<u32>,
    pub event_timestamp: Option<DiameterTime>,
    pub granted_service_unit: Option<ServiceUnit>,
    pub multiple_services_credit_control: Vec<MultipleServicesCreditControl>,
    pub cost_information: Option<CostInformation>,
    pub credit_control_failure_handling: Option<CreditControlFailureHandling>,
    pub direct_debiting_failure_handling: Option<DirectDebitingFailureHandling>,
    pub validity_time: Option<u32>,
    pub error_message: Option<String>,
    /// The children of each Failed-AVP.
    pub failed_avps: Vec<Vec<Avp>>,
    pub extra: Vec<Avp>,
}

impl CreditControlAnswer {
    /// An answer to `request` with `result_code` and nothing optional.
    pub fn for_request(
        request: &CreditControlRequest,
        result_code: ResultCode,
        origin_host: &str,
        origin_realm: &str,
    ) -> Self {
        Self {
            hop_by_hop: request.hop_by_hop,
            end_to_end: request.end_to_end,
            session_id: request.session_id.clone(),
            result_code: Some(result_code),
            experimental_result: None,
            origin_host: origin_host.to_owned(),
            origin_realm: origin_realm.to_owned(),
            auth_application_id: request.auth_application_id,
            cc_request_type: request.cc_request_type,
            cc_request_number: request.cc_request_number,
            origin_state_id: None,
            event_timestamp: None,
            granted_service_unit: None,
            multiple_services_credit_control: Vec::new(),
            cost_information: None,
            credit_control_failure_handling: None,
            direct_debiting_failure_handling: None,
            validity_time: None,
            error_message: None,
            failed_avps: Vec::new(),
            extra: Vec::new(),
        }
    }

    /// True when the Result-Code, or failing that the Experimental-Result-Code,
    /// is 2xxx.
    pub fn is_success(&self) -> bool {
        match (self.result_code, self.experimental_result) {
            (Some(code), _) => code.is_success(),
            (None, Some(e)) => ResultCode(e.experimental_result_code).is_success(),
            (None, None) => false,
        }
    }
}

impl Command for CreditControlAnswer {
    const CODE: CommandCode = CommandCode::CCA;
    const REQUEST: bool = false;
    const APPLICATION: ApplicationId = ApplicationId::CREDIT_CONTROL;
    const PROXIABLE: bool = true;

    fn ids(&self) -> (u32, u32) {
        (self.hop_by_hop, self.end_to_end)
    }

    fn extra_flags(&self) -> CommandFlags {
        let error = self.result_code.is_some_and(ResultCode::is_protocol_error);
        CommandFlags::NONE.with(CommandFlags::ERROR, error)
    }

    fn encode_avps(&self, w: &mut AvpWriter<'_>) -> Result<(), EncodeError> {
        w.put(&dict::SESSION_ID, &self.session_id)?;
        w.put_opt(&dict::RESULT_CODE, self.result_code.as_ref())?;
        w.group_opt(
            &dict::EXPERIMENTAL_RESULT,
            self.experimental_result.as_ref(),
        )?;
        w.put(&dict::ORIGIN_HOST, &self.origin_host)?;
        w.put(&dict::ORIGIN_REALM, &self.origin_realm)?;
        w.put(&dict::AUTH_APPLICATION_ID, &self.auth_application_id)?;
        w.put(&dict::CC_REQUEST_TYPE, &self.cc_request_type)?;
        w.put(&dict::CC_REQUEST_NUMBER, &self.cc_request_number)?;
        w.put_opt(&dict::ORIGIN_STATE_ID, self.origin_state_id.as_ref())?;
        w.put_opt(&dict::EVENT_TIMESTAMP, self.event_timestamp.as_ref())?;
        w.group_opt(
            &dict::GRANTED_SERVICE_UNIT,
            self.granted_service_unit.as_ref(),
        )?;
        w.group_all(
            &dict::MULTIPLE_SERVICES_CREDIT_CONTROL,
            &self.multiple_services_credit_control,
        )?;
        w.group_opt(&dict::COST_INFORMATION, self.cost_information.as_ref())?;
        w.put_opt(
            &dict::CREDIT_CONTROL_FAILURE_HANDLING,
            self.credit_control_failure_handling.as_ref(),
        )?;
        w.put_opt(
            &dict::DIRECT_DEBITING_FAILURE_HANDLING,
            self.direct_debiting_failure_handling.as_ref(),
        )?;
        w.put_opt(&dict::VALIDITY_TIME, self.validity_time.as_ref())?;
        w.put_opt(&dict::ERROR_MESSAGE, self.error_message.as_ref())?;
        for failed in &self.failed_avps {
            put_failed_avp(w, failed)?;
        }
        w.raw_all(&self.extra)
    }

    fn decode_avps(header: &Header, f: &mut Fields<'_>) -> Result<Self, DecodeError> {
        let cca = Self {
            hop_by_hop: header.hop_by_hop,
            end_to_end: header.end_to_end,
            session_id: f.required(&dict::SESSION_ID)?,
            result_code: f.optional(&dict::RESULT_CODE)?,
            experimental_result: f.optional_group(&dict::EXPERIMENTAL_RESULT)?,
            origin_host: f.required(&dict::ORIGIN_HOST)?,
            origin_realm: f.required(&dict::ORIGIN_REALM)?,
            auth_application_id: f.required(&dict::AUTH_APPLICATION_ID)?,
            cc_request_type: f.required(&dict::CC_REQUEST_TYPE)?,
            cc_request_number: f.required(&dict::CC_REQUEST_NUMBER)?,
            origin_state_id: f.optional(&dict::ORIGIN_STATE_ID)?,
            event_timestamp: f.optional(&dict::EVENT_TIMESTAMP)?,
            granted_service_unit: f.optional_group(&dict::GRANTED_SERVICE_UNIT)?,
            multiple_services_credit_control: f
                .all_groups(&dict::MULTIPLE_SERVICES_CREDIT_CONTROL)?,
            cost_information: f.optional_group(&dict::COST_INFORMATION)?,
            credit_control_failure_handling: f.optional(&dict::CREDIT_CONTROL_FAILURE_HANDLING)?,
            direct_debiting_failure_handling: f
                .optional(&dict::DIRECT_DEBITING_FAILURE_HANDLING)?,
            validity_time: f.optional(&dict::VALIDITY_TIME)?,
            error_message: f.optional(&dict::ERROR_MESSAGE)?,
            failed_avps: f.all_raw_groups(&dict::FAILED_AVP)?,
            extra: f.rest(),
        };
        if cca.result_code.is_none() && cca.experimental_result.is_none() {
            return Err(DecodeError::MissingAvp(dict::RESULT_CODE.name));
        }
        Ok(cca)
    }
}
