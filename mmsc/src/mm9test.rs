//! `mmsc mm9test`: NowSMS's MM9Test again. Connects to a charging server, sends
//! CER and one CCR (EVENT_REQUEST, DIRECT_DEBITING) for one MMS with the AVPs of
//! seed 004, prints the exchange, and ends with `Diameter Result Code NNNN`.
//! Exit status 0 only for 2001. `--log FILE` writes every raw packet (hex, in a
//! form `text2pcap -D` reads).

use anyhow::{Context, Result, bail};
use mmsc_shared::charging::CcrSettings;
use mmsc_shared::codec::diameter::{
    CcMoney, Command, CommandCode, DeviceWatchdogAnswer, DisconnectCause, DisconnectPeerRequest,
    FindAvp, MMS_SERVICE_CONTEXT_ID, Message, ResultCode, dict,
};
use mmsc_shared::diameter_peer::{
    ClientConfig, Connection, PacketDirection, PacketLog, PacketTap, PeerError, decode_cca,
    describe,
};
use mmsc_shared::domain::{Address, MessageId, Timestamp};
use mmsc_shared::ports::{ChargeRequest, ChargingOp};
use std::io::{BufRead, IsTerminal, Write};
use std::net::IpAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

#[derive(clap::Args, Debug, Default)]
pub struct Args {
    /// Diameter server host name or IP address.
    #[arg(long)]
    server: Option<String>,
    /// Diameter server port.
    #[arg(long)]
    port: Option<u16>,
    /// Destination-Host (optional).
    #[arg(long)]
    destination_host: Option<String>,
    /// Destination-Realm.
    #[arg(long)]
    destination_realm: Option<String>,
    /// Host-IP-Address for the CER.
    #[arg(long)]
    host_ip: Option<IpAddr>,
    /// Origin-Host.
    #[arg(long)]
    origin_host: Option<String>,
    /// Origin-Realm.
    #[arg(long)]
    origin_realm: Option<String>,
    /// Service-Context-Id (default 32270@3gpp.org).
    #[arg(long)]
    service_context_id: Option<String>,
    /// Service-Identifier (leave out for standard MM9).
    #[arg(long)]
    service_identifier: Option<u32>,
    /// Requested-Service-Unit CC-Service-Specific-Units.
    #[arg(long)]
    units: Option<u64>,
    /// Requested-Service-Unit CC-Money, decimal (1.23); needs --currency.
    #[arg(long)]
    money: Option<String>,
    /// ISO 4217 currency code for --money: numeric (978) or letters (EUR).
    #[arg(long)]
    currency: Option<String>,
    /// MMS sender phone number (charged: Subscription-Id, Originator-Address).
    #[arg(long)]
    sender: Option<String>,
    /// MMS recipient phone number (Recipient-Address).
    #[arg(long)]
    recipient: Option<String>,
    /// 3GPP-SGSN-MCC-MNC (optional).
    #[arg(long)]
    sgsn_mcc_mnc: Option<String>,
    /// SGSN-Address (optional).
    #[arg(long)]
    sgsn_address: Option<IpAddr>,
    /// Write raw packets to this file.
    #[arg(long)]
    log: Option<PathBuf>,
    /// Seconds to wait for each answer.
    #[arg(long, default_value_t = 10)]
    timeout: u64,
}

/// ISO 4217 numeric code for a code given as digits or letters.
pub fn currency_code(c: &str) -> Option<u32> {
    let c = c.trim();
    if let Ok(n) = c.parse::<u32>() {
        return (n <= 999).then_some(n);
    }
    const CODES: &[(&str, u32)] = &[
        ("EUR", 978),
        ("USD", 840),
        ("GBP", 826),
        ("CHF", 756),
        ("JPY", 392),
        ("CAD", 124),
        ("AUD", 36),
        ("SEK", 752),
        ("NOK", 578),
        ("DKK", 208),
        ("PLN", 985),
        ("CZK", 203),
        ("HUF", 348),
        ("INR", 356),
        ("NGN", 566),
        ("ZAR", 710),
        ("BRL", 986),
        ("MXN", 484),
        ("CNY", 156),
        ("RUB", 643),
        ("TRY", 949),
    ];
    CODES
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(c))
        .map(|(_, n)| *n)
}

fn prompt(label: &str) -> Result<String> {
    print!("{label}: ");
    std::io::stdout().flush().ok();
    let mut line = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut line)
        .context("reading from the terminal")?;
    Ok(line.trim().to_string())
}

/// Fills missing required parameters: prompts on a terminal, else fails naming them.
fn complete(mut a: Args) -> Result<Args> {
    let tty = std::io::stdin().is_terminal();
    let mut missing = Vec::new();
    macro_rules! need {
        ($field:ident, $flag:literal, $label:literal) => {
            if a.$field.is_none() {
                if tty {
                    let v = prompt($label)?;
                    if !v.is_empty() {
                        a.$field = Some(v.parse().with_context(|| format!("{}: {v:?}", $flag))?);
                    }
                }
                if a.$field.is_none() {
                    missing.push($flag);
                }
            }
        };
    }
    need!(
        server,
        "--server",
        "(Remote) Diameter Server Host Name or IP Address"
    );
    need!(port, "--port", "(Remote) Diameter Server Port Number");
    if a.destination_host.is_none() && tty {
        let v = prompt("(Remote) Diameter Destination-Host (optional)")?;
        a.destination_host = (!v.is_empty()).then_some(v);
    }
    need!(
        destination_realm,
        "--destination-realm",
        "(Remote) Diameter Destination-Realm"
    );
    need!(
        host_ip,
        "--host-ip",
        "(Local/Origin) Diameter Host-IP-Address"
    );
    need!(origin_host, "--origin-host", "(Local) Diameter Origin-Host");
    need!(
        origin_realm,
        "--origin-realm",
        "(Local) Diameter Origin-Realm"
    );
    need!(sender, "--sender", "MMS Sender Phone Number");
    need!(recipient, "--recipient", "MMS Recipient Phone Number");
    if !missing.is_empty() {
        bail!("missing required parameter(s): {}", missing.join(", "));
    }
    Ok(a)
}

/// Prints each packet decoded and optionally logs it raw.
struct Printer {
    log: Option<PacketLog>,
}

impl PacketTap for Printer {
    fn packet(&self, peer: &str, direction: PacketDirection, bytes: &[u8]) {
        if let Some(l) = &self.log {
            l.packet(peer, direction, bytes);
        }
        let arrow = match direction {
            PacketDirection::Sent => ">>> sent",
            PacketDirection::Received => "<<< received",
        };
        println!("{arrow} ({} bytes)", bytes.len());
        match Message::from_bytes(bytes) {
            Ok(m) => print!("{}", describe(&m)),
            Err(e) => println!("  <undecodable: {e}>"),
        }
        println!();
    }
}

pub async fn run(args: Args) -> Result<ExitCode> {
    let a = complete(args)?;
    let (Some(server), Some(port), Some(realm), Some(host_ip), Some(oh), Some(or)) = (
        a.server.clone(),
        a.port,
        a.destination_realm.clone(),
        a.host_ip,
        a.origin_host.clone(),
        a.origin_realm.clone(),
    ) else {
        bail!("missing required parameters");
    };
    let sender = phone(a.sender.as_deref().unwrap_or_default(), "--sender")?;
    let recipient = phone(a.recipient.as_deref().unwrap_or_default(), "--recipient")?;
    let money = match (&a.money, &a.currency) {
        (Some(m), Some(c)) => {
            let code = currency_code(c)
                .with_context(|| format!("--currency {c:?} is not an ISO 4217 code"))?;
            Some(CcMoney::from_decimal(m, Some(code)).with_context(|| format!("--money {m:?}"))?)
        }
        (Some(_), None) => bail!("--money needs --currency"),
        (None, Some(_)) => bail!("--currency needs --money"),
        (None, None) => None,
    };
    if a.units.is_some() && money.is_some() {
        bail!("give --units or --money, not both");
    }
    let settings = CcrSettings {
        origin_host: oh.clone(),
        origin_realm: or.clone(),
        destination_host: a.destination_host.clone().filter(|h| !h.is_empty()),
        destination_realm: realm,
        service_context_id: a
            .service_context_id
            .clone()
            .filter(|s| !s.is_empty())
            .unwrap_or_else(|| MMS_SERVICE_CONTEXT_ID.to_string()),
        service_identifier: a.service_identifier,
        units: a.units,
        money,
        sgsn_mcc_mnc: a.sgsn_mcc_mnc.clone().filter(|s| !s.is_empty()),
        sgsn_address: a.sgsn_address,
    };
    let log = match &a.log {
        Some(p) => Some(PacketLog::create(p).with_context(|| format!("creating {}", p.display()))?),
        None => None,
    };
    let tap: Arc<dyn PacketTap> = Arc::new(Printer { log });
    let timeout = Duration::from_secs(a.timeout.max(1));
    let addr = format!("{server}:{port}");
    println!("Connecting to Diameter server {addr} ...");
    let stream = tokio::time::timeout(timeout, tokio::net::TcpStream::connect(&addr))
        .await
        .map_err(|_| anyhow::anyhow!("connecting to {addr}: timed out"))?
        .with_context(|| format!("connecting to {addr}"))?;
    println!("Connected.\n");
    let mut conn = Connection::new(&addr, stream, Some(tap));
    let mut cc = ClientConfig::new(&oh, &or, Vec::new());
    cc.host_ip_addresses = vec![host_ip];
    let caps = cc.capabilities(Some(host_ip));
    let mut hop = mmsc_shared::diameter_peer::random_u32();
    let mut next = move || {
        hop = hop.wrapping_add(1);
        hop
    };
    let e2e = next();
    match conn
        .capabilities_exchange(&caps, (next(), e2e), timeout)
        .await
    {
        Ok(_) => {}
        Err(PeerError::Refused(code)) => {
            println!("Capabilities-Exchange refused.");
            println!("Diameter Result Code {code}");
            return Ok(ExitCode::from(1));
        }
        Err(e) => bail!("capabilities exchange failed: {e}"),
    }

    let id = MessageId::generate();
    let req = ChargeRequest {
        op: ChargingOp::Event,
        message_id: id.clone(),
        charge_key: format!("mm9test-{id}"),
        subscriber: sender,
        recipient,
        size: 1024,
        service_code: None,
        content_type: Some("application/vnd.wap.multipart.related".into()),
        submitted_at: Some(Timestamp::from_system(std::time::SystemTime::now()).unix_secs()),
        mms_message_id: Some(id.to_string()),
        retransmit: false,
    };
    let mut ccr = settings.build_ccr(&req, std::time::SystemTime::now());
    ccr.hop_by_hop = next();
    ccr.end_to_end = e2e.wrapping_add(1);
    let bytes = ccr.to_bytes().context("encoding the CCR")?;
    conn.send(&bytes).await?;
    let code = loop {
        let (m, _) = tokio::time::timeout(timeout, conn.recv())
            .await
            .map_err(|_| anyhow::anyhow!("no Credit-Control-Answer within {timeout:?}"))??;
        if m.header.is_request() && m.header.code == CommandCode::DWR {
            let dwa = DeviceWatchdogAnswer {
                hop_by_hop: m.header.hop_by_hop,
                end_to_end: m.header.end_to_end,
                result_code: ResultCode::SUCCESS,
                origin_host: oh.clone(),
                origin_realm: or.clone(),
                error_message: None,
                failed_avp: None,
                origin_state_id: None,
                extra: Vec::new(),
            };
            conn.send(&dwa.to_bytes()?).await?;
            continue;
        }
        if !m.header.is_request() && m.header.hop_by_hop == ccr.hop_by_hop {
            break match decode_cca(&ccr, &m) {
                Ok(cca) => match (cca.result_code, cca.experimental_result) {
                    (Some(c), _) => c.0,
                    (None, Some(e)) => e.experimental_result_code,
                    (None, None) => 0,
                },
                Err(e) => {
                    println!("The answer is not a valid Credit-Control-Answer: {e}");
                    let code: Option<ResultCode> = m.get(&dict::RESULT_CODE).ok().flatten();
                    code.map_or(0, |c| c.0)
                }
            };
        }
    };
    // Say goodbye properly (DPR/DPA); a server that just closes is fine too.
    let dpr = DisconnectPeerRequest {
        hop_by_hop: next(),
        end_to_end: e2e.wrapping_add(2),
        origin_host: oh,
        origin_realm: or,
        disconnect_cause: DisconnectCause::REBOOTING,
        extra: Vec::new(),
    };
    if conn.send(&dpr.to_bytes()?).await.is_ok() {
        let _ = tokio::time::timeout(Duration::from_secs(2), conn.recv()).await;
    }
    println!("Diameter Result Code {code}");
    Ok(if code == 2001 {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

fn phone(s: &str, flag: &str) -> Result<Address> {
    let s = s.trim();
    let e164 = if s.starts_with('+') {
        s.to_string()
    } else {
        format!("+{s}")
    };
    Address::phone(&e164).with_context(|| format!("{flag} {s:?} is not a phone number"))
}
