//! The in-process Diameter adapter of the [`Charging`] port: builds CCRs (RFC 4006,
//! TS 32.299 MMS-Information, the AVPs of seed 004) and sends them through the
//! [`DiameterClient`]. The diameter-sidecar serves this same adapter over HTTP.

use crate::codec::diameter::{
    CcMoney, CcRequestType, CreditControlAnswer, CreditControlRequest, DiameterTime, MessageType,
    MmContentType, MmsAddress, MmsInformation, MsTimeZone, RequestedAction, ServiceInformation,
    ServiceUnit, TerminationCause, TypeNumber, UnitValue,
};
use crate::config::ChargingConfig;
use crate::diameter_peer::{ClientConfig, DiameterClient, PeerEndpoint, PeerError};
use crate::domain::Address;
use crate::ports::{ChargeOutcome, ChargeRequest, Charging, ChargingError, ChargingOp};
use async_trait::async_trait;
use std::net::IpAddr;
use std::time::Duration;

/// What every CCR carries besides the message: identities and tariff options.
#[derive(Debug, Clone, PartialEq)]
pub struct CcrSettings {
    pub origin_host: String,
    pub origin_realm: String,
    pub destination_host: Option<String>,
    pub destination_realm: String,
    pub service_context_id: String,
    pub service_identifier: Option<u32>,
    pub units: Option<u64>,
    pub money: Option<CcMoney>,
    pub sgsn_mcc_mnc: Option<String>,
    pub sgsn_address: Option<IpAddr>,
}

impl CcrSettings {
    /// From `[charging]`; `None` when a required key is missing (validation
    /// reports which).
    pub fn from_config(c: &ChargingConfig) -> Option<Self> {
        Some(Self {
            origin_host: c.origin_host.clone()?,
            origin_realm: c.origin_realm.clone()?,
            destination_host: c.destination_host.clone(),
            destination_realm: c.destination_realm.clone()?,
            service_context_id: c.service_context_id.clone(),
            service_identifier: c.service_identifier,
            units: c.units,
            money: match &c.money {
                Some(m) => Some(CcMoney::from_decimal(m, c.currency).ok()?),
                None => None,
            },
            sgsn_mcc_mnc: None,
            sgsn_address: None,
        })
    }

    /// The requested / used service unit for one message, if any is configured.
    pub fn service_unit(&self) -> Option<ServiceUnit> {
        if self.units.is_none() && self.money.is_none() {
            return None;
        }
        Some(ServiceUnit {
            cc_money: self.money,
            cc_service_specific_units: self.units,
            ..ServiceUnit::default()
        })
    }

    /// The Session-Id of the charging session for `charge_key` (stable, so a
    /// retried commit or release reaches the session its reservation opened).
    pub fn session_id(&self, req: &ChargeRequest) -> String {
        let suffix = match req.op {
            ChargingOp::Refund => ";refund",
            _ => "",
        };
        format!("{};mmsc;{}{suffix}", self.origin_host, req.charge_key)
    }

    /// The CCR for `req`.
    pub fn build_ccr(
        &self,
        req: &ChargeRequest,
        now: std::time::SystemTime,
    ) -> CreditControlRequest {
        let subscriber = digits(&req.subscriber);
        let mut ccr = CreditControlRequest::event(
            &self.session_id(req),
            &self.origin_host,
            &self.origin_realm,
            &self.destination_realm,
            &subscriber,
        );
        ccr.retransmission = req.retransmit;
        ccr.destination_host = self.destination_host.clone();
        ccr.service_context_id = self.service_context_id.clone();
        ccr.event_timestamp = DiameterTime::from_system_time(now);
        // 3GPP-MS-TimeZone: the MMSC's zone (seed 004: some servers require it);
        // we keep time in UTC.
        ccr.ms_timezone = MsTimeZone::new(0, 0);
        ccr.sgsn_mcc_mnc = self.sgsn_mcc_mnc.clone();
        ccr.sgsn_address = self.sgsn_address.map(Into::into);
        ccr.service_identifier = self.service_identifier;
        let unit = self.service_unit();
        match req.op {
            ChargingOp::Event => {
                ccr.cc_request_type = CcRequestType::EVENT;
                ccr.requested_action = Some(RequestedAction::DIRECT_DEBITING);
                ccr.requested_service_unit = unit;
            }
            ChargingOp::Refund => {
                ccr.cc_request_type = CcRequestType::EVENT;
                ccr.requested_action = Some(RequestedAction::REFUND_ACCOUNT);
                ccr.requested_service_unit = unit;
            }
            ChargingOp::Reserve => {
                ccr.cc_request_type = CcRequestType::INITIAL;
                ccr.requested_action = None;
                ccr.requested_service_unit = Some(unit.unwrap_or_else(|| ServiceUnit::units(1)));
            }
            ChargingOp::Commit => {
                ccr.cc_request_type = CcRequestType::TERMINATION;
                ccr.cc_request_number = 1;
                ccr.requested_action = None;
                ccr.termination_cause = Some(TerminationCause::LOGOUT);
                ccr.used_service_units = vec![unit.unwrap_or_else(|| ServiceUnit::units(1))];
            }
            ChargingOp::Release => {
                ccr.cc_request_type = CcRequestType::TERMINATION;
                ccr.cc_request_number = 1;
                ccr.requested_action = None;
                ccr.termination_cause = Some(TerminationCause::SERVICE_NOT_PROVIDED);
            }
        }
        ccr.service_information = Some(ServiceInformation {
            mms_information: Some(mms_information(req)),
            extra: Vec::new(),
        });
        ccr
    }
}

/// MSISDN digits with country code and no `+` (END_USER_E164); other addresses as
/// they are.
pub fn digits(a: &Address) -> String {
    match a {
        Address::Phone { e164, .. } => e164.trim_start_matches('+').to_string(),
        Address::Email { address } => address.clone(),
        Address::ShortCode { code } => code.clone(),
    }
}

fn mms_address(a: &Address) -> MmsAddress {
    match a {
        Address::Email { address } => MmsAddress::email(address),
        other => MmsAddress::msisdn(&digits(other)),
    }
}

fn mms_information(req: &ChargeRequest) -> MmsInformation {
    let type_number = req.content_type.as_deref().and_then(|ct| {
        let ct = ct
            .split(';')
            .next()
            .unwrap_or(ct)
            .trim()
            .to_ascii_lowercase();
        match ct.as_str() {
            "multipart/related" | "application/vnd.wap.multipart.related" => {
                Some(TypeNumber::MULTIPART_RELATED)
            }
            "multipart/mixed" | "application/vnd.wap.multipart.mixed" => {
                Some(TypeNumber::MULTIPART_MIXED)
            }
            "text/plain" => Some(TypeNumber::TEXT_PLAIN),
            "image/jpeg" => Some(TypeNumber::IMAGE_JPEG),
            "image/gif" => Some(TypeNumber::IMAGE_GIF),
            "image/png" => Some(TypeNumber::IMAGE_PNG),
            _ => None,
        }
    });
    MmsInformation {
        originator_address: Some(mms_address(&req.subscriber)),
        recipient_addresses: vec![mms_address(&req.recipient)],
        submission_time: req.submitted_at.and_then(DiameterTime::from_unix_seconds),
        mm_content_type: Some(MmContentType {
            type_number,
            additional_type_information: if type_number.is_none() {
                req.content_type.clone()
            } else {
                None
            },
            content_size: u32::try_from(req.size).ok(),
            extra: Vec::new(),
        }),
        priority: None,
        message_id: Some(
            req.mms_message_id
                .clone()
                .unwrap_or_else(|| req.message_id.to_string()),
        ),
        message_type: Some(MessageType::M_SEND_REQ),
        message_size: u32::try_from(req.size).ok(),
        message_class: None,
        delivery_report_requested: None,
        read_reply_report_requested: None,
        extra: Vec::new(),
    }
}

/// The outcome of a CCA for the port.
pub fn outcome_of(cca: &CreditControlAnswer, session_id: &str) -> ChargeOutcome {
    let result_code = match (cca.result_code, cca.experimental_result) {
        (Some(c), _) => c.0,
        (None, Some(e)) => e.experimental_result_code,
        (None, None) => 0,
    };
    let granted = cca.granted_service_unit.as_ref().or_else(|| {
        cca.multiple_services_credit_control
            .iter()
            .find_map(|m| m.granted_service_unit.as_ref())
    });
    ChargeOutcome {
        result_code,
        granted_units: granted.and_then(|g| g.cc_service_specific_units),
        granted_money: granted
            .and_then(|g| g.cc_money)
            .map(|m| money_text(m.unit_value, m.currency_code)),
        session_id: Some(session_id.to_string()),
        server: Some(cca.origin_host.clone()),
    }
}

fn money_text(v: UnitValue, currency: Option<u32>) -> String {
    match currency {
        Some(c) => format!("{v} {c}"),
        None => v.to_string(),
    }
}

/// `[charging]` as a Diameter client configuration.
pub fn client_config(c: &ChargingConfig) -> Result<ClientConfig, String> {
    let peers = c
        .peers
        .iter()
        .enumerate()
        .map(|(i, p)| PeerEndpoint {
            name: if p.name.is_empty() {
                format!("peer{i}")
            } else {
                p.name.clone()
            },
            address: if p.address.contains(':') {
                p.address.clone()
            } else {
                format!("{}:3868", p.address)
            },
        })
        .collect();
    let (Some(host), Some(realm)) = (c.origin_host.as_deref(), c.origin_realm.as_deref()) else {
        return Err("charging needs origin_host and origin_realm".into());
    };
    let mut cfg = ClientConfig::new(host, realm, peers);
    if let Some(ca) = &c.tls_ca {
        let pem =
            std::fs::read(ca).map_err(|e| format!("charging.tls_ca {}: {e}", ca.display()))?;
        cfg.tls = Some(
            crate::diameter_peer::tls_config(&pem)
                .map_err(|e| format!("charging.tls_ca {}: {e}", ca.display()))?,
        );
        cfg.tls_server_name = c.tls_server_name.clone();
    }
    cfg.host_ip_addresses = c.host_ip_address.into_iter().collect();
    cfg.watchdog_interval = Duration::from_secs(c.watchdog_interval_secs.max(1));
    cfg.request_timeout = Duration::from_millis(c.request_timeout_ms.max(100));
    cfg.reconnect_interval = cfg.watchdog_interval.min(Duration::from_secs(5));
    Ok(cfg)
}

/// The [`Charging`] port over an in-process Diameter client.
pub struct DiameterCharging {
    pub client: DiameterClient,
    pub settings: CcrSettings,
}

impl DiameterCharging {
    /// Starts the Diameter client for `[charging]`. Needs a Tokio runtime.
    pub fn start(c: &ChargingConfig) -> Result<Self, String> {
        let settings = CcrSettings::from_config(c)
            .ok_or("charging needs origin_host, origin_realm and destination_realm")?;
        let cfg = client_config(c)?;
        if cfg.peers.is_empty() {
            return Err("charging needs at least one [[charging.peers]]".into());
        }
        Ok(Self {
            client: DiameterClient::start(cfg),
            settings,
        })
    }
}

#[async_trait]
impl Charging for DiameterCharging {
    async fn charge(&self, req: &ChargeRequest) -> Result<ChargeOutcome, ChargingError> {
        let ccr = self.settings.build_ccr(req, std::time::SystemTime::now());
        let session = ccr.session_id.clone();
        match self.client.credit_control(&ccr).await {
            Ok(cca) => Ok(outcome_of(&cca, &session)),
            Err(PeerError::Protocol(e)) => Err(ChargingError::Protocol(e)),
            Err(e) => Err(ChargingError::Unavailable(e.to_string())),
        }
    }

    async fn shutdown(&self) {
        self.client.shutdown().await;
    }
}
