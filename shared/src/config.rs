//! Typed configuration, read from one TOML file and validated before anything starts.
//! Every problem is reported with the key it concerns (`partners[1].smtp_host`), and
//! all problems are reported at once.
//!
//! With no file, [`Config::demo`] gives a self-contained loopback-only MMSC.

use ipnet::IpNet;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct Config {
    pub mmsc: MmscConfig,
    pub smtp: SmtpConfig,
    pub http: HttpConfig,
    pub queues: QueueConfig,
    pub routing: RoutingConfig,
    /// MM4 partner operators (`[[partners]]`).
    pub partners: Vec<PartnerConfig>,
    /// MM7 content providers (`[[vasps]]`).
    pub vasps: Vec<VaspConfig>,
    pub charging: ChargingConfig,
    pub log: LogConfig,
    /// MM1: handsets over HTTP (`POST /mm1`, retrieval, WAP Push notifications).
    pub mm1: Mm1Config,
    /// The push proxy gateway MM1 notifications and reports are pushed through.
    pub wap_push: WapPushConfig,
    /// AWS backend resources (`mmsc serve --backend aws`, the Lambda functions).
    pub aws: AwsConfig,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct MmscConfig {
    /// Our MMS domain (the `@domain` of our subscribers' MM4 addresses).
    pub domain: String,
    /// `X-Mms-Originator-System` we put on MM4 requests; default `system-user@<domain>`.
    pub originator_system: Option<String>,
    /// Where the embedded backend keeps its data.
    pub data_dir: PathBuf,
    /// Country code (digits) that turns national numbers (`07700...`) into E.164.
    pub country_code: Option<String>,
    /// Number patterns of our own subscribers (`+4477009*`); `*` alone matches every
    /// E.164 number.
    pub local_numbers: Vec<String>,
    /// `X-Mms-3GPP-MMS-Version` we send when a partner has none configured.
    pub mms_version: String,
    /// Message expiry when the sender gave none.
    pub default_expiry_secs: u64,
    /// How long message records and content are kept after expiry.
    pub retention_secs: u64,
    /// How often `mmsc serve` queues an `expire` job (on AWS an EventBridge schedule
    /// does, `expire_schedule` in Terraform).
    pub expire_interval_secs: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct SmtpConfig {
    pub listen: SocketAddr,
    /// Name in the greeting and EHLO reply; default the MMS domain.
    pub hostname: Option<String>,
    pub max_message_size: u64,
    pub max_line_length: usize,
    /// Largest header block accepted (bytes up to the first empty line).
    pub max_header_size: usize,
    pub max_recipients: usize,
    pub idle_timeout_secs: u64,
    pub session_lifetime_secs: u64,
    pub max_sessions: usize,
    pub max_sessions_per_peer: usize,
    /// Expect a PROXY protocol v2 header on every connection (behind an NLB).
    pub proxy_protocol: bool,
    /// `mmsc serve`: run the SMTP front's sessions on a thread of their own with a
    /// single-threaded event loop, rather than on the runtime shared with the workers
    /// and the HTTP front (fewer thread wake-ups per message).
    pub own_thread: bool,
    /// PEM certificate chain and key: STARTTLS is offered when both are set.
    pub tls_cert: Option<PathBuf>,
    pub tls_key: Option<PathBuf>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct HttpConfig {
    pub listen: SocketAddr,
    pub max_body_size: u64,
    /// Source networks allowed to use the admin API (`/admin/v1/...`).
    pub admin_networks: Vec<IpNet>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct QueueConfig {
    /// Receives after which an unacknowledged job moves to the dead-letter queue.
    pub max_receives: u32,
    /// How long a received job stays hidden before it is delivered again.
    pub visibility_timeout_secs: u64,
    /// Concurrent jobs per queue in the embedded worker pool.
    pub workers: usize,
    /// Retry delay after a transient handler failure: first, then doubled up to max.
    pub retry_initial_secs: u64,
    pub retry_max_secs: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct RoutingConfig {
    /// Partner that takes numbers no prefix matches (the NowSMS "Default Route").
    pub default_route: Option<String>,
    /// NowSMS-style routing callback (`Type=MMSRouteCheck`), queried per recipient.
    pub callback_url: Option<String>,
    pub callback_timeout_ms: u64,
    /// What to do when the callback fails or times out.
    pub callback_fallback: CallbackFallback,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum CallbackFallback {
    /// Use the static routes (prefixes, local ranges, default route).
    Static,
    /// Treat the recipient as unroutable.
    Reject,
    /// Retry the job later.
    Retry,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum StartTls {
    Never,
    Opportunistic,
    Required,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Credentials {
    pub username: String,
    pub password: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct PartnerConfig {
    /// Route / account name (NowSMS "Account Name").
    pub name: String,
    /// The partner's MMS domain (`@mms.partner.com`).
    pub domain: String,
    /// Recipient numbers routed to this partner (`+234*`, `+44*`).
    pub prefixes: Vec<String>,
    /// Their SMTP server for our requests and acks (`host:port`, port 25 if omitted).
    pub smtp_host: Option<String>,
    /// Source networks they connect from (`198.51.100.0/24`).
    pub allowed_networks: Vec<IpNet>,
    /// When set, they must AUTH with these credentials.
    pub inbound_auth: Option<Credentials>,
    /// When set, we AUTH to them with these.
    pub outbound_auth: Option<Credentials>,
    /// Request `MM4_forward.RES` from them (`X-Mms-Ack-Request: Yes`).
    pub request_ack: bool,
    pub mms_version: Option<String>,
    pub max_connections: usize,
    /// Partner route used to send them our `.RES`es (default: this partner).
    pub ack_route: Option<String>,
    pub starttls: StartTls,
    /// Accept their certificate without verification (lab use only).
    pub tls_insecure: bool,
    /// Delivery attempts before a recipient fails.
    pub max_attempts: u32,
    pub connect_timeout_secs: u64,
}

/// A content provider (VASP) reached over MM7.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct VaspConfig {
    /// VASP id (MM7 `VASPID`).
    pub id: String,
    /// Short codes it serves: messages to them are delivered to it over MM7.
    pub short_codes: Vec<String>,
    /// HTTP Basic/Digest credentials it must present on `/mm7`. Without them it is
    /// identified by `allowed_networks` alone (and any credentials are accepted).
    pub credentials: Option<Credentials>,
    /// Source networks it connects from; empty means any (credentials required then).
    pub allowed_networks: Vec<IpNet>,
    /// Sender addresses it may submit as, besides its own short codes: number
    /// patterns (`+4477009*`) or exact addresses.
    pub allowed_senders: Vec<String>,
    /// Service codes it may use (`ServiceCode`); empty means any.
    pub service_codes: Vec<String>,
    /// Most recipients in one submit.
    pub max_recipients: usize,
    /// Requests per second it may make (a token bucket with this burst); 0 = no limit.
    pub rate_limit: u32,
    /// Where we POST `DeliverReq` (and reports unless `report_url` is set); `http://`.
    pub deliver_url: Option<String>,
    /// Where we POST `DeliveryReportReq` and `ReadReplyReq`; default `deliver_url`.
    pub report_url: Option<String>,
    /// MM7 schema version of the requests we send it (`REL-6-MM7-1-4`).
    pub schema_version: String,
    /// HTTP Basic credentials we present to its `deliver_url` / `report_url`.
    pub outbound_auth: Option<Credentials>,
    /// Delivery attempts to it before giving up.
    pub max_attempts: u32,
}

impl Default for VaspConfig {
    fn default() -> Self {
        VaspConfig {
            id: String::new(),
            short_codes: Vec::new(),
            credentials: None,
            allowed_networks: Vec::new(),
            allowed_senders: Vec::new(),
            service_codes: Vec::new(),
            max_recipients: 100,
            rate_limit: 0,
            deliver_url: None,
            report_url: None,
            schema_version: "REL-6-MM7-1-4".into(),
            outbound_auth: None,
            max_attempts: 8,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ChargingConfig {
    pub mode: ChargingMode,
    /// Also charge messages accepted from MM4 partners (the originator's
    /// Subscription-Id); normally only MM1/MM7 submissions are charged.
    pub charge_mm4_incoming: bool,
    /// Charging servers, primary first (`[[charging.peers]]`).
    pub peers: Vec<DiameterPeerConfig>,
    /// Use a diameter-sidecar at this URL (`http://host:port`) instead of the
    /// in-process Diameter client.
    pub sidecar_url: Option<String>,
    pub origin_host: Option<String>,
    pub origin_realm: Option<String>,
    pub destination_host: Option<String>,
    pub destination_realm: Option<String>,
    /// Host-IP-Address in CER; default the connection's local address.
    pub host_ip_address: Option<std::net::IpAddr>,
    pub service_context_id: String,
    pub service_identifier: Option<u32>,
    /// Requested-Service-Unit CC-Service-Specific-Units per message.
    pub units: Option<u64>,
    /// Requested-Service-Unit CC-Money per message, decimal (`0.25`).
    pub money: Option<String>,
    /// ISO 4217 numeric currency code for `money` (978 EUR, 840 USD).
    pub currency: Option<u32>,
    pub watchdog_interval_secs: u64,
    pub request_timeout_ms: u64,
    /// In `event` mode, send CCR REFUND_ACCOUNT when a charged message fails.
    pub refund_on_failure: bool,
    /// Write CDRs (JSON lines) to the object store under `cdr/YYYY/MM/DD/HH/`.
    pub cdr: bool,
    /// Connect to the charging servers over TLS, trusting the PEM certificates in
    /// this file (their CA or their own certificates).
    pub tls_ca: Option<PathBuf>,
    /// Name the servers' certificates must carry; default the host of each address.
    pub tls_server_name: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(default, deny_unknown_fields)]
pub struct DiameterPeerConfig {
    /// A label (`primary`, `secondary`).
    pub name: String,
    /// `host:port` (3868 if no port).
    pub address: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ChargingMode {
    None,
    /// NowSMS-compatible: one CCR EVENT_REQUEST (DIRECT_DEBITING) on acceptance.
    Event,
    /// CCR INITIAL on acceptance, TERMINATION with used units on end-to-end evidence.
    ReserveCommit,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct LogConfig {
    /// `text` for people, `json` for log collectors.
    pub format: LogFormat,
    /// A `tracing` filter (`info`, `mmsc=debug,info`); `RUST_LOG` overrides it.
    pub filter: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    Text,
    Json,
}

impl Default for MmscConfig {
    fn default() -> Self {
        MmscConfig {
            domain: "mms.localhost".into(),
            originator_system: None,
            data_dir: PathBuf::from("./mmsc-data"),
            country_code: None,
            local_numbers: Vec::new(),
            mms_version: "6.10.0".into(),
            default_expiry_secs: 7 * 24 * 3600,
            retention_secs: 30 * 24 * 3600,
            expire_interval_secs: 60,
        }
    }
}

impl Default for SmtpConfig {
    fn default() -> Self {
        SmtpConfig {
            listen: SocketAddr::from(([127, 0, 0, 1], 2525)),
            hostname: None,
            max_message_size: 10 * 1024 * 1024,
            max_line_length: 8192,
            max_header_size: 64 * 1024,
            max_recipients: 100,
            idle_timeout_secs: 300,
            session_lifetime_secs: 1800,
            max_sessions: 1000,
            max_sessions_per_peer: 50,
            proxy_protocol: false,
            own_thread: true,
            tls_cert: None,
            tls_key: None,
        }
    }
}

impl Default for HttpConfig {
    fn default() -> Self {
        HttpConfig {
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            max_body_size: 10 * 1024 * 1024,
            admin_networks: vec![loopback_v4(), loopback_v6()],
        }
    }
}

impl Default for QueueConfig {
    fn default() -> Self {
        QueueConfig {
            max_receives: 12,
            visibility_timeout_secs: 60,
            workers: 8,
            retry_initial_secs: 5,
            retry_max_secs: 900,
        }
    }
}

impl Default for RoutingConfig {
    fn default() -> Self {
        RoutingConfig {
            default_route: None,
            callback_url: None,
            callback_timeout_ms: 2000,
            callback_fallback: CallbackFallback::Static,
        }
    }
}

impl Default for PartnerConfig {
    fn default() -> Self {
        PartnerConfig {
            name: String::new(),
            domain: String::new(),
            prefixes: Vec::new(),
            smtp_host: None,
            allowed_networks: Vec::new(),
            inbound_auth: None,
            outbound_auth: None,
            request_ack: true,
            mms_version: None,
            max_connections: 1,
            ack_route: None,
            starttls: StartTls::Opportunistic,
            tls_insecure: false,
            max_attempts: 8,
            connect_timeout_secs: 30,
        }
    }
}

impl Default for ChargingConfig {
    fn default() -> Self {
        ChargingConfig {
            mode: ChargingMode::None,
            charge_mm4_incoming: false,
            peers: Vec::new(),
            sidecar_url: None,
            origin_host: None,
            origin_realm: None,
            destination_host: None,
            destination_realm: None,
            host_ip_address: None,
            service_context_id: "32270@3gpp.org".into(),
            service_identifier: None,
            units: None,
            money: None,
            currency: None,
            watchdog_interval_secs: 30,
            request_timeout_ms: 5000,
            refund_on_failure: true,
            cdr: true,
            tls_ca: None,
            tls_server_name: None,
        }
    }
}

/// `[aws]`: resource names of the AWS backend. Each has an environment override
/// (`MMSC_AWS_BUCKET`, `MMSC_AWS_TABLE`, `MMSC_AWS_QUEUE_PREFIX`,
/// `MMSC_AWS_QUEUE_URL_PREFIX`, `MMSC_AWS_KMS_KEY_ID`); endpoint, region and credentials
/// come from the standard AWS configuration (`AWS_ENDPOINT_URL`, `AWS_REGION`, ...).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct AwsConfig {
    /// Overrides the standard region.
    pub region: Option<String>,
    /// S3 bucket for raw and built PDUs.
    pub bucket: String,
    /// DynamoDB table (`pk`/`sk` strings, TTL attribute `ttl`).
    pub table: String,
    /// SQS queue of logical queue `q` is `<queue_prefix><q>` (dead letters: `...-dlq`).
    pub queue_prefix: String,
    /// `https://sqs.<region>.amazonaws.com/<account>/`: queue URLs without `GetQueueUrl`.
    pub queue_url_prefix: Option<String>,
    /// SSE-KMS key for stored objects; SSE-S3 (AES256) when unset.
    pub kms_key_id: Option<String>,
}

impl Default for AwsConfig {
    fn default() -> Self {
        AwsConfig {
            region: None,
            bucket: "mmsc-content".into(),
            table: "mmsc-state".into(),
            queue_prefix: "mmsc-".into(),
            queue_url_prefix: None,
            kms_key_id: None,
        }
    }
}

impl Default for LogConfig {
    fn default() -> Self {
        LogConfig {
            format: LogFormat::Text,
            filter: "info".into(),
        }
    }
}

/// `[mm1]`: handsets. See `crate::handlers::mm1` and the HTTP front's `/mm1`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Mm1Config {
    /// HTTP headers a WAP gateway / GGSN proxy puts the subscriber's MSISDN in,
    /// tried in order.
    pub msisdn_headers: Vec<String>,
    /// Networks of the gateways whose MSISDN headers are trusted. Requests from
    /// elsewhere are refused.
    pub trusted_networks: Vec<IpNet>,
    /// Base URL handsets reach `/mm1` at, used in content locations
    /// (default `http://<http.listen>`).
    pub public_base_url: Option<String>,
    /// Largest m-send.req / m-forward.req accepted, in bytes.
    pub max_message_size: u64,
    /// First re-notification delay; doubled after each notification.
    pub renotify_initial_secs: u64,
    /// Notifications sent per recipient (the first included) before waiting for
    /// expiry.
    pub renotify_limit: u32,
    /// Treat a fetch of the content location as delivery (report `Retrieved` at
    /// once), for handsets that never send m-acknowledge.ind.
    pub deliver_report_on_fetch: bool,
    /// JPEG/PNG/GIF parts larger than this many bytes are scaled down for MM1
    /// recipients (0: no adaptation).
    pub image_max_bytes: u64,
    /// Largest width and height of an adapted image, in pixels.
    pub image_max_dimension: u32,
}

/// `[wap_push]`: the push proxy gateway (PPG) reached over PAP, e.g. Kannel's.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct WapPushConfig {
    /// PAP endpoint (`http://ppg.example:8080/wappush`); without it no
    /// notifications are sent.
    pub pap_url: Option<String>,
    /// HTTP basic credentials for the PPG.
    pub credentials: Option<Credentials>,
    /// The domain of PAP addresses (`WAPPUSH=+4477.../TYPE=PLMN@<domain>`);
    /// default the PAP URL's host.
    pub address_domain: Option<String>,
    pub timeout_ms: u64,
}

impl Default for Mm1Config {
    fn default() -> Self {
        Mm1Config {
            msisdn_headers: vec!["X-MSISDN".into(), "X-WAP-Network-Client-MSISDN".into()],
            trusted_networks: vec![loopback_v4(), loopback_v6()],
            public_base_url: None,
            max_message_size: 1024 * 1024,
            renotify_initial_secs: 300,
            renotify_limit: 4,
            deliver_report_on_fetch: false,
            image_max_bytes: 0,
            image_max_dimension: 640,
        }
    }
}

impl Default for WapPushConfig {
    fn default() -> Self {
        WapPushConfig {
            pap_url: None,
            credentials: None,
            address_domain: None,
            timeout_ms: 5000,
        }
    }
}

/// One problem with a configuration, tied to the key it concerns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigIssue {
    pub key: String,
    pub message: String,
}

impl fmt::Display for ConfigIssue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.key, self.message)
    }
}

/// Every problem found in a configuration.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct ConfigError {
    pub source_name: String,
    pub issues: Vec<ConfigIssue>,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "{}: {} problem(s)", self.source_name, self.issues.len())?;
        for i in &self.issues {
            writeln!(f, "  {i}")?;
        }
        Ok(())
    }
}

/// The name of the partner the demo configuration trusts on loopback.
pub const DEMO_PARTNER: &str = "demo";
/// The demo VASP and its short code.
pub const DEMO_VASP: &str = "demo-vasp";
pub const DEMO_SHORT_CODE: &str = "12345";

impl Config {
    /// The no-config demo: loopback listeners, loopback clients are the demo MM4
    /// partner (acks to an SMTP server on 127.0.0.1:2626), every E.164 number is a
    /// local subscriber.
    pub fn demo() -> Self {
        let mut c = Config::default();
        c.mmsc.local_numbers = vec!["*".into()];
        c.partners.push(PartnerConfig {
            name: DEMO_PARTNER.into(),
            domain: "mms.demo-partner.localhost".into(),
            smtp_host: Some("127.0.0.1:2626".into()),
            allowed_networks: vec![loopback_v4(), loopback_v6()],
            max_attempts: 3,
            ..PartnerConfig::default()
        });
        c.vasps.push(VaspConfig {
            id: DEMO_VASP.into(),
            short_codes: vec![DEMO_SHORT_CODE.into()],
            allowed_networks: vec![loopback_v4(), loopback_v6()],
            max_attempts: 3,
            ..VaspConfig::default()
        });
        c
    }

    pub fn load(path: &Path) -> Result<Self, ConfigError> {
        let name = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|e| ConfigError {
            source_name: name.clone(),
            issues: vec![ConfigIssue {
                key: "(file)".into(),
                message: e.to_string(),
            }],
        })?;
        let mut cfg = Self::from_toml(&text, &name)?;
        // Relative paths in the file are relative to the file.
        if let Some(dir) = path.parent() {
            cfg.resolve_paths(dir);
        }
        Ok(cfg)
    }

    /// Parses and validates TOML; `source_name` names the input in errors.
    pub fn from_toml(text: &str, source_name: &str) -> Result<Self, ConfigError> {
        let fail = |issues| ConfigError {
            source_name: source_name.to_string(),
            issues,
        };
        let mut unknown = Vec::new();
        let de = toml::Deserializer::parse(text).map_err(|e| fail(vec![toml_issue(text, &e)]))?;
        let cfg: Config = serde_ignored::deserialize(de, |path| unknown.push(path.to_string()))
            .map_err(|e| fail(vec![toml_issue(text, &e)]))?;
        let mut issues: Vec<ConfigIssue> = unknown
            .into_iter()
            .map(|key| ConfigIssue {
                key,
                message: "unknown key".into(),
            })
            .collect();
        issues.extend(cfg.validate());
        if issues.is_empty() {
            Ok(cfg)
        } else {
            Err(fail(issues))
        }
    }

    fn resolve_paths(&mut self, dir: &Path) {
        let fix = |p: &mut PathBuf| {
            if p.is_relative() && !dir.as_os_str().is_empty() {
                *p = dir.join(&*p);
            }
        };
        fix(&mut self.mmsc.data_dir);
        if let Some(p) = self.smtp.tls_cert.as_mut() {
            fix(p);
        }
        if let Some(p) = self.smtp.tls_key.as_mut() {
            fix(p);
        }
        if let Some(p) = self.charging.tls_ca.as_mut() {
            fix(p);
        }
    }

    /// Semantic checks that types cannot express. Empty when the config is usable.
    pub fn validate(&self) -> Vec<ConfigIssue> {
        let vasp_issues: Vec<ConfigIssue> = self
            .vasps
            .iter()
            .enumerate()
            .flat_map(|(i, vasp)| vasp.validate(i, self.queues.max_receives))
            .collect();
        let mut v = Vec::new();
        let mut bad = |key: String, message: String| v.push(ConfigIssue { key, message });
        let m = &self.mmsc;
        if !is_domain(&m.domain) {
            bad(
                "mmsc.domain".into(),
                format!("{:?} is not a domain name", m.domain),
            );
        }
        if let Some(cc) = &m.country_code
            && (cc.is_empty() || cc.len() > 3 || !cc.bytes().all(|b| b.is_ascii_digit()))
        {
            bad("mmsc.country_code".into(), "must be 1 to 3 digits".into());
        }
        for (i, p) in m.local_numbers.iter().enumerate() {
            if let Err(e) = check_pattern(p) {
                bad(format!("mmsc.local_numbers[{i}]"), e);
            }
        }
        if m.default_expiry_secs == 0 {
            bad("mmsc.default_expiry_secs".into(), "must be above 0".into());
        }
        if !(1..=3600).contains(&m.expire_interval_secs) {
            bad(
                "mmsc.expire_interval_secs".into(),
                "must be 1 to 3600 (seconds between expire runs)".into(),
            );
        }
        let s = &self.smtp;
        for (key, val, min) in [
            ("smtp.max_line_length", s.max_line_length as u64, 1000),
            ("smtp.max_header_size", s.max_header_size as u64, 1024),
            ("smtp.max_recipients", s.max_recipients as u64, 1),
            ("smtp.max_message_size", s.max_message_size, 1024),
            ("smtp.idle_timeout_secs", s.idle_timeout_secs, 1),
            ("smtp.session_lifetime_secs", s.session_lifetime_secs, 1),
            ("smtp.max_sessions", s.max_sessions as u64, 1),
            (
                "smtp.max_sessions_per_peer",
                s.max_sessions_per_peer as u64,
                1,
            ),
            ("http.max_body_size", self.http.max_body_size, 1024),
            ("queues.max_receives", self.queues.max_receives as u64, 1),
            (
                "queues.visibility_timeout_secs",
                self.queues.visibility_timeout_secs,
                1,
            ),
            ("queues.workers", self.queues.workers as u64, 1),
            (
                "queues.retry_max_secs",
                self.queues.retry_max_secs,
                self.queues.retry_initial_secs,
            ),
        ] {
            if val < min {
                bad(key.into(), format!("must be at least {min}"));
            }
        }
        if s.listen == self.http.listen {
            bad(
                "http.listen".into(),
                "is the same address as smtp.listen".into(),
            );
        }
        match (&s.tls_cert, &s.tls_key) {
            (Some(_), None) => bad(
                "smtp.tls_key".into(),
                "required when smtp.tls_cert is set".into(),
            ),
            (None, Some(_)) => bad(
                "smtp.tls_cert".into(),
                "required when smtp.tls_key is set".into(),
            ),
            _ => {}
        }
        let mut names = std::collections::HashSet::new();
        for (i, p) in self.partners.iter().enumerate() {
            let key = |k: &str| format!("partners[{i}].{k}");
            if p.name.is_empty()
                || !p
                    .name
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
            {
                bad(
                    key("name"),
                    "must be non-empty letters, digits, '-' or '_'".into(),
                );
            } else if !names.insert(p.name.as_str()) {
                bad(key("name"), format!("duplicate partner name {:?}", p.name));
            }
            if !is_domain(&p.domain) {
                bad(
                    key("domain"),
                    format!("{:?} is not a domain name", p.domain),
                );
            } else if p.domain.eq_ignore_ascii_case(&m.domain) {
                bad(key("domain"), "is our own mmsc.domain".into());
            }
            for (j, pat) in p.prefixes.iter().enumerate() {
                if let Err(e) = check_pattern(pat) {
                    bad(format!("partners[{i}].prefixes[{j}]"), e);
                }
            }
            if let Some(h) = &p.smtp_host
                && let Err(e) = parse_host_port(h, 25)
            {
                bad(key("smtp_host"), e);
            }
            if p.allowed_networks.is_empty() && p.inbound_auth.is_none() {
                bad(
                    key("allowed_networks"),
                    "a partner needs allowed_networks or inbound_auth, else it can never be identified".into(),
                );
            }
            if p.max_connections == 0 {
                bad(key("max_connections"), "must be at least 1".into());
            }
            if p.max_attempts == 0 {
                bad(key("max_attempts"), "must be at least 1".into());
            }
        }
        let exists = |n: &str| self.partners.iter().any(|p| p.name == n);
        for (i, p) in self.partners.iter().enumerate() {
            if let Some(r) = &p.ack_route
                && !exists(r)
            {
                bad(
                    format!("partners[{i}].ack_route"),
                    format!("no partner named {r:?}"),
                );
            }
            if p.smtp_host.is_none() {
                let used_for_acks =
                    p.ack_route.is_none() || p.ack_route.as_deref() == Some(&p.name);
                if !p.prefixes.is_empty() || used_for_acks && p.request_ack {
                    bad(
                        format!("partners[{i}].smtp_host"),
                        "required to deliver to this partner".into(),
                    );
                }
            }
        }
        let mut ids = std::collections::HashSet::new();
        let mut codes = std::collections::HashSet::new();
        for (i, vasp) in self.vasps.iter().enumerate() {
            if vasp.id.is_empty() {
                bad(format!("vasps[{i}].id"), "must not be empty".into());
            } else if !ids.insert(vasp.id.as_str()) {
                bad(
                    format!("vasps[{i}].id"),
                    format!("duplicate VASP id {:?}", vasp.id),
                );
            }
            for (j, code) in vasp.short_codes.iter().enumerate() {
                if code.is_empty() || code.len() > 8 || !code.bytes().all(|b| b.is_ascii_digit()) {
                    bad(
                        format!("vasps[{i}].short_codes[{j}]"),
                        "must be 1 to 8 digits".into(),
                    );
                } else if !codes.insert(code.as_str()) {
                    bad(
                        format!("vasps[{i}].short_codes[{j}]"),
                        format!("short code {code} is served twice"),
                    );
                }
            }
        }
        if self
            .partners
            .iter()
            .any(|p| p.max_attempts >= self.queues.max_receives)
        {
            bad(
                "queues.max_receives".into(),
                "must be above every partner's max_attempts, else jobs dead-letter before delivery gives up".into(),
            );
        }
        if let Some(r) = &self.routing.default_route
            && !exists(r)
        {
            bad(
                "routing.default_route".into(),
                format!("no partner named {r:?}"),
            );
        }
        if let Some(u) = &self.routing.callback_url
            && !u.starts_with("http://")
        {
            bad(
                "routing.callback_url".into(),
                "must be an http:// URL (https callbacks are not supported yet)".into(),
            );
        }
        if self.routing.callback_timeout_ms == 0 {
            bad(
                "routing.callback_timeout_ms".into(),
                "must be above 0".into(),
            );
        }
        let m1 = &self.mm1;
        if m1.msisdn_headers.is_empty() {
            bad(
                "mm1.msisdn_headers".into(),
                "needs at least one header name".into(),
            );
        }
        for (i, h) in m1.msisdn_headers.iter().enumerate() {
            if h.is_empty()
                || !h
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
            {
                bad(
                    format!("mm1.msisdn_headers[{i}]"),
                    format!("{h:?} is not an HTTP header name"),
                );
            }
        }
        if let Some(u) = &m1.public_base_url
            && !(u.starts_with("http://") || u.starts_with("https://"))
        {
            bad(
                "mm1.public_base_url".into(),
                "must be an http:// or https:// URL".into(),
            );
        }
        if m1.max_message_size < 1024 {
            bad(
                "mm1.max_message_size".into(),
                "must be at least 1024".into(),
            );
        }
        if m1.renotify_initial_secs == 0 {
            bad("mm1.renotify_initial_secs".into(), "must be above 0".into());
        }
        if m1.renotify_limit == 0 {
            bad("mm1.renotify_limit".into(), "must be at least 1".into());
        }
        if m1.image_max_dimension < 16 {
            bad(
                "mm1.image_max_dimension".into(),
                "must be at least 16".into(),
            );
        }
        if let Some(u) = &self.wap_push.pap_url
            && !u.starts_with("http://")
        {
            bad(
                "wap_push.pap_url".into(),
                "must be an http:// URL (https PPGs are not supported yet)".into(),
            );
        }
        if self.wap_push.timeout_ms == 0 {
            bad("wap_push.timeout_ms".into(), "must be above 0".into());
        }
        v.extend(self.charging.issues());
        v.extend(vasp_issues);
        v
    }

    /// Base URL of `/mm1` for content locations, without a trailing `/`.
    pub fn mm1_base_url(&self) -> String {
        match &self.mm1.public_base_url {
            Some(u) => u.trim_end_matches('/').to_string(),
            None => format!("http://{}", self.http.listen),
        }
    }

    pub fn originator_system(&self) -> String {
        self.mmsc
            .originator_system
            .clone()
            .unwrap_or_else(|| format!("system-user@{}", self.mmsc.domain))
    }

    pub fn smtp_hostname(&self) -> &str {
        self.smtp.hostname.as_deref().unwrap_or(&self.mmsc.domain)
    }

    pub fn partner(&self, name: &str) -> Option<&PartnerConfig> {
        self.partners.iter().find(|p| p.name == name)
    }

    pub fn vasp(&self, id: &str) -> Option<&VaspConfig> {
        self.vasps.iter().find(|v| v.id == id)
    }

    pub fn visibility_timeout(&self) -> Duration {
        Duration::from_secs(self.queues.visibility_timeout_secs)
    }
}

impl VaspConfig {
    /// Checks of the MM7 keys of `vasps[i]`.
    fn validate(&self, i: usize, max_receives: u32) -> Vec<ConfigIssue> {
        let mut v = Vec::new();
        let mut bad = |k: &str, message: String| {
            v.push(ConfigIssue {
                key: format!("vasps[{i}].{k}"),
                message,
            })
        };
        if !self.id.is_empty()
            && !self
                .id
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
        {
            bad("id", "must be letters, digits, '-', '_' or '.'".into());
        }
        if self.credentials.is_none() && self.allowed_networks.is_empty() {
            bad(
                "allowed_networks",
                "a VASP needs credentials or allowed_networks, else it can never be identified"
                    .into(),
            );
        }
        if let Some(c) = &self.credentials
            && (c.username.is_empty() || c.username.contains(':'))
        {
            bad(
                "credentials.username",
                "must be non-empty and without ':'".into(),
            );
        }
        for (j, p) in self.allowed_senders.iter().enumerate() {
            if p.trim().is_empty() {
                bad(&format!("allowed_senders[{j}]"), "must not be empty".into());
            }
        }
        if self.max_recipients == 0 {
            bad("max_recipients", "must be at least 1".into());
        }
        for (k, u) in [
            ("deliver_url", &self.deliver_url),
            ("report_url", &self.report_url),
        ] {
            if let Some(u) = u
                && (!u.starts_with("http://") || u.len() <= "http://".len())
            {
                bad(
                    k,
                    "must be an http:// URL (https is not supported yet)".into(),
                );
            }
        }
        if !crate::codec::mm7::Version::SUPPORTED
            .iter()
            .any(|s| s.eq_ignore_ascii_case(&self.schema_version))
        {
            bad(
                "schema_version",
                format!(
                    "must be one of {}",
                    crate::codec::mm7::Version::SUPPORTED.join(", ")
                ),
            );
        }
        if self.max_attempts == 0 {
            bad("max_attempts", "must be at least 1".into());
        } else if self.max_attempts >= max_receives {
            bad(
                "max_attempts",
                "must be below queues.max_receives, else jobs dead-letter before delivery gives up"
                    .into(),
            );
        }
        v
    }

    /// Whether this VASP may submit with `sender` (its short codes, or an allowed
    /// sender pattern or exact address).
    pub fn may_send_as(&self, sender: &crate::domain::Address) -> bool {
        let key = sender.key();
        self.short_codes.iter().any(|c| c == key)
            || self.allowed_senders.iter().any(|p| {
                let p = p.trim();
                if p == "*" {
                    return true;
                }
                match p.strip_suffix('*') {
                    Some(prefix) => key.starts_with(prefix),
                    None => p.eq_ignore_ascii_case(key),
                }
            })
    }

    /// Where reports go.
    pub fn report_url(&self) -> Option<&str> {
        self.report_url.as_deref().or(self.deliver_url.as_deref())
    }
}

impl PartnerConfig {
    /// `(host, port)` of the partner's SMTP server, if configured and valid.
    pub fn smtp_endpoint(&self) -> Option<(String, u16)> {
        self.smtp_host
            .as_deref()
            .and_then(|h| parse_host_port(h, 25).ok())
    }
    pub fn mms_version<'a>(&'a self, cfg: &'a Config) -> &'a str {
        self.mms_version.as_deref().unwrap_or(&cfg.mmsc.mms_version)
    }
}

fn loopback_v4() -> IpNet {
    IpNet::V4(ipnet::Ipv4Net::new(std::net::Ipv4Addr::LOCALHOST, 8).unwrap_or_default())
}

fn loopback_v6() -> IpNet {
    IpNet::V6(ipnet::Ipv6Net::new(std::net::Ipv6Addr::LOCALHOST, 128).unwrap_or_default())
}

fn toml_issue(text: &str, e: &toml::de::Error) -> ConfigIssue {
    let message = e.message().trim().to_string();
    let key = match e.span() {
        Some(span) => key_at(text, span.start),
        None => "(file)".to_string(),
    };
    ConfigIssue { key, message }
}

/// Best-effort dotted key of the `name = value` line holding byte `offset`, using the
/// nearest `[section]` / `[[section]]` header above it (`smtp.max_recipients`).
fn key_at(text: &str, offset: usize) -> String {
    let offset = offset.min(text.len());
    let line_no = text[..offset].matches('\n').count() + 1;
    let mut section = String::new();
    let mut name = None;
    for (i, line) in text.lines().enumerate() {
        let l = line.trim();
        if i + 1 > line_no {
            break;
        }
        if l.starts_with('[') {
            section = l.trim_matches(|c| c == '[' || c == ']').trim().to_string();
            name = None;
        } else if i + 1 == line_no {
            name = l
                .split_once('=')
                .map(|(k, _)| k.trim().trim_matches('"').to_string());
        }
    }
    match (section.is_empty(), name) {
        (_, None) if section.is_empty() => format!("(line {line_no})"),
        (_, None) => format!("{section} (line {line_no})"),
        (true, Some(n)) => n,
        (false, Some(n)) => format!("{section}.{n}"),
    }
}

/// `host:port`, `host` (default port), `[v6]:port`.
pub fn parse_host_port(s: &str, default_port: u16) -> Result<(String, u16), String> {
    let s = s.trim();
    if s.is_empty() {
        return Err("empty host".into());
    }
    if let Some(rest) = s.strip_prefix('[') {
        let (host, tail) = rest.split_once(']').ok_or("unclosed '[' in IPv6 address")?;
        let port = match tail.strip_prefix(':') {
            Some(p) => p.parse().map_err(|_| format!("bad port {p:?}"))?,
            None if tail.is_empty() => default_port,
            None => return Err(format!("unexpected {tail:?} after IPv6 address")),
        };
        return Ok((host.to_string(), port));
    }
    match s.rsplit_once(':') {
        Some((host, port)) if !host.contains(':') => {
            let port: u16 = port.parse().map_err(|_| format!("bad port {port:?}"))?;
            if host.is_empty() {
                return Err("empty host".into());
            }
            Ok((host.to_string(), port))
        }
        _ => Ok((s.to_string(), default_port)),
    }
}

fn is_domain(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 253
        && s.split('.').all(|l| {
            !l.is_empty()
                && l.len() <= 63
                && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
                && !l.starts_with('-')
                && !l.ends_with('-')
        })
}

/// A number pattern: `*`, `+<digits>`, `+<digits>*`, `<digits>*`.
pub fn check_pattern(p: &str) -> Result<(), String> {
    if p == "*" {
        return Ok(());
    }
    let body = p.strip_suffix('*').unwrap_or(p);
    let digits = body.strip_prefix('+').unwrap_or(body);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) || digits.len() > 15 {
        return Err(format!("{p:?} is not a number pattern like \"+4477*\""));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn demo_config_is_valid() {
        assert_eq!(Config::demo().validate(), vec![]);
    }

    #[test]
    fn empty_file_gives_defaults() {
        let c = Config::from_toml("", "t").unwrap();
        assert_eq!(c.smtp.listen.to_string(), "127.0.0.1:2525");
        assert_eq!(c.http.listen.to_string(), "127.0.0.1:8080");
        assert_eq!(c.mmsc.data_dir, PathBuf::from("./mmsc-data"));
    }

    #[test]
    fn parses_a_full_partner() {
        let c = Config::from_toml(
            r#"
            [mmsc]
            domain = "mms.example.net"
            local_numbers = ["+4477009*"]
            [[partners]]
            name = "oper"
            domain = "mms.oper.com"
            prefixes = ["+234*", "+44*"]
            smtp_host = "mm4.oper.com:2626"
            allowed_networks = ["198.51.100.0/24"]
            request_ack = false
            max_connections = 4
            starttls = "required"
            [routing]
            default_route = "oper"
            "#,
            "t",
        )
        .unwrap();
        let p = c.partner("oper").unwrap();
        assert_eq!(p.smtp_endpoint(), Some(("mm4.oper.com".into(), 2626)));
        assert_eq!(p.starttls, StartTls::Required);
        assert!(!p.request_ack);
    }

    #[test]
    fn names_every_bad_key() {
        let err = Config::from_toml(
            r#"
            colour = "blue"
            [mmsc]
            domain = "not a domain"
            local_numbers = ["44x"]
            [smtp]
            max_recipients = 0
            lsiten = "x"
            [[partners]]
            name = "a"
            domain = "mms.a.com"
            smtp_host = "h:notaport"
            allowed_networks = ["10.0.0.0/8"]
            ack_route = "nobody"
            [routing]
            default_route = "ghost"
            "#,
            "t",
        )
        .unwrap_err();
        let keys: Vec<&str> = err.issues.iter().map(|i| i.key.as_str()).collect();
        for k in [
            "colour",
            "smtp.lsiten",
            "mmsc.domain",
            "mmsc.local_numbers[0]",
            "smtp.max_recipients",
            "partners[0].smtp_host",
            "partners[0].ack_route",
            "routing.default_route",
        ] {
            assert!(keys.contains(&k), "missing {k} in {keys:?}");
        }
    }

    #[test]
    fn checks_the_expire_interval() {
        let parse =
            |v: u64| Config::from_toml(&format!("[mmsc]\nexpire_interval_secs = {v}\n"), "t");
        assert_eq!(parse(300).unwrap().mmsc.expire_interval_secs, 300);
        assert_eq!(Config::default().mmsc.expire_interval_secs, 60);
        for bad in [0, 3601] {
            let err = parse(bad).unwrap_err();
            let keys: Vec<&str> = err.issues.iter().map(|i| i.key.as_str()).collect();
            assert_eq!(keys, vec!["mmsc.expire_interval_secs"], "{bad}");
        }
    }

    #[test]
    fn reports_type_errors() {
        let err = Config::from_toml("[smtp]\nmax_recipients = \"lots\"\n", "t").unwrap_err();
        assert_eq!(err.issues.len(), 1);
        assert_eq!(err.issues[0].key, "smtp.max_recipients");
    }

    #[test]
    fn parses_and_checks_vasps() {
        let c = Config::from_toml(
            r#"
            [[vasps]]
            id = "acme"
            short_codes = ["12345"]
            credentials = { username = "acme", password = "s3cret" }
            allowed_senders = ["+4477009*"]
            service_codes = ["gold"]
            max_recipients = 3
            rate_limit = 10
            deliver_url = "http://127.0.0.1:9000/mm7"
            schema_version = "REL-5-MM7-1-2"
            "#,
            "t",
        )
        .unwrap();
        let v = c.vasp("acme").unwrap();
        assert_eq!(v.report_url(), Some("http://127.0.0.1:9000/mm7"));
        assert!(v.may_send_as(&crate::domain::Address::parse("12345").unwrap()));
        assert!(v.may_send_as(&crate::domain::Address::parse("+447700900001").unwrap()));
        assert!(!v.may_send_as(&crate::domain::Address::parse("+447800900001").unwrap()));
        let err = Config::from_toml(
            r#"
            [[vasps]]
            id = "a b"
            max_recipients = 0
            deliver_url = "https://x"
            schema_version = "REL-7-MM7-1-0"
            max_attempts = 99
            "#,
            "t",
        )
        .unwrap_err();
        let keys: Vec<&str> = err.issues.iter().map(|i| i.key.as_str()).collect();
        for k in [
            "vasps[0].id",
            "vasps[0].allowed_networks",
            "vasps[0].max_recipients",
            "vasps[0].deliver_url",
            "vasps[0].schema_version",
            "vasps[0].max_attempts",
        ] {
            assert!(keys.contains(&k), "missing {k} in {keys:?}");
        }
    }

    #[test]
    fn parses_and_checks_mm1_and_wap_push() {
        let c = Config::from_toml(
            r#"
            [mm1]
            msisdn_headers = ["X-Up-Calling-Line-Id"]
            trusted_networks = ["10.1.0.0/16"]
            public_base_url = "https://mms.example.net/"
            deliver_report_on_fetch = true
            [wap_push]
            pap_url = "http://ppg.example:8080/wappush"
            credentials = { username = "mmsc", password = "s3cret" }
            "#,
            "t",
        )
        .unwrap();
        assert_eq!(c.mm1.msisdn_headers, vec!["X-Up-Calling-Line-Id"]);
        assert_eq!(c.mm1_base_url(), "https://mms.example.net");
        assert!(c.mm1.deliver_report_on_fetch);
        assert_eq!(c.wap_push.credentials.unwrap().username, "mmsc");
        let d = Config::default();
        assert_eq!(
            d.mm1.msisdn_headers,
            vec!["X-MSISDN", "X-WAP-Network-Client-MSISDN"]
        );
        assert_eq!(d.mm1_base_url(), "http://127.0.0.1:8080");
        let err = Config::from_toml(
            "[mm1]\nmsisdn_headers = [\"bad header\"]\nmax_message_size = 10\npublic_base_url = \"ftp://x\"\nrenotify_limit = 0\n[wap_push]\npap_url = \"https://ppg\"\n",
            "t",
        )
        .unwrap_err();
        let keys: Vec<&str> = err.issues.iter().map(|i| i.key.as_str()).collect();
        for k in [
            "mm1.msisdn_headers[0]",
            "mm1.max_message_size",
            "mm1.public_base_url",
            "mm1.renotify_limit",
            "wap_push.pap_url",
        ] {
            assert!(keys.contains(&k), "missing {k} in {keys:?}");
        }
    }

    #[test]
    fn parses_host_port_forms() {
        assert_eq!(parse_host_port("a.b", 25), Ok(("a.b".into(), 25)));
        assert_eq!(parse_host_port("a.b:2525", 25), Ok(("a.b".into(), 2525)));
        assert_eq!(parse_host_port("[::1]:26", 25), Ok(("::1".into(), 26)));
        assert!(parse_host_port("a:b", 25).is_err());
        assert!(parse_host_port("", 25).is_err());
    }
}
