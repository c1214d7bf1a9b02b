//! MM1: handsets. The HTTP front stores what handsets post and queues it; these
//! handlers take it from there.
//!
//! - [`submit`]: `ingest` of MM1 PDUs: m-send.req (record and route every
//!   recipient: local ones are notified, MM4 ones forwarded, VASP ones queued for
//!   MM7), m-forward.req (forward without download), m-read-rec.ind (read reports
//!   to the originator).
//! - [`notify`]: `mm1-notify`: m-notification.ind by WAP Push through a PPG over
//!   PAP ([`pap`]), with re-notification and expiry; it also prepares the
//!   m-retrieve.conf the front serves, and pushes reports (m-delivery.ind,
//!   m-read-orig.ind) to MM1 originators.
//!
//! Each local recipient gets an [`Mm1Delivery`] record holding an unguessable token:
//! the content location is `<mm1.public_base_url>/mm1/m/<token>`, and the token is
//! also the Transaction-Id of the notification and of m-retrieve.conf, so
//! m-notifyresp.ind and m-acknowledge.ind find the recipient by it.

pub mod adapt;
pub mod content;
pub mod notify;
pub mod pap;
pub mod submit;

use crate::config::Config;
use crate::domain::{Address, MessageId, Timestamp};
use crate::handlers::records::RecordError;
use crate::ports::{Key, StateStore};
use serde::{Deserialize, Serialize};

/// Delivery state of one local recipient over MM1.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Mm1Delivery {
    pub message_id: MessageId,
    pub recipient: u32,
    /// The recipient's number (E.164), who alone may fetch it.
    pub msisdn: String,
    /// Content-location token and Transaction-Id.
    pub token: String,
    /// Object key of the prepared m-retrieve.conf.
    pub retrieve_key: String,
    /// Notifications pushed so far.
    pub notifications: u32,
    /// When the next re-notification is due.
    pub next_notify_at: Option<Timestamp>,
    pub expires_at: Timestamp,
}

fn delivery_key(id: &MessageId, index: u32) -> Key {
    Key::new(format!("mm1rcpt#{id}"), format!("{index:05}"))
}

fn location_key(token: &str) -> Key {
    Key::new(format!("mm1loc#{token}"), "-")
}

fn decode(item: &crate::ports::Item) -> Result<Mm1Delivery, RecordError> {
    serde_json::from_slice(&item.value).map_err(|e| RecordError::Corrupt {
        pk: item.key.pk.clone(),
        sk: item.key.sk.clone(),
        error: e.to_string(),
    })
}

/// The delivery record a content-location token or Transaction-Id names.
pub async fn delivery_by_token(
    state: &dyn StateStore,
    token: &str,
) -> Result<Option<Mm1Delivery>, RecordError> {
    if !looks_like_token(token) {
        return Ok(None);
    }
    match state.get(&location_key(token)).await? {
        Some(item) => Ok(Some(decode(&item)?)),
        None => Ok(None),
    }
}

/// The delivery record of recipient `index` of message `id`.
pub async fn delivery_of(
    state: &dyn StateStore,
    id: &MessageId,
    index: u32,
) -> Result<Option<Mm1Delivery>, RecordError> {
    match state.get(&delivery_key(id, index)).await? {
        Some(item) => Ok(Some(decode(&item)?)),
        None => Ok(None),
    }
}

/// Tokens are 32 lowercase hex digits (a random UUID).
pub fn looks_like_token(t: &str) -> bool {
    MessageId::looks_like(t)
}

/// Path prefix of content locations.
pub const LOCATION_PATH: &str = "/mm1/m/";

/// The content location of `token`.
pub fn content_location(cfg: &Config, token: &str) -> String {
    format!("{}{LOCATION_PATH}{token}", cfg.mm1_base_url())
}

/// The token in a content location we issued (any host: handsets may rewrite it).
pub fn token_from_location(location: &str) -> Option<&str> {
    let (_, t) = location.rsplit_once(LOCATION_PATH)?;
    let t = t.split(['?', '#']).next().unwrap_or(t);
    looks_like_token(t).then_some(t)
}

/// The subscriber in an MSISDN header value: `447700900123`, `+447700900123`, or a
/// national number when `mmsc.country_code` is set.
pub fn msisdn_address(value: &str, country_code: Option<&str>) -> Option<Address> {
    let v = value.trim();
    let digits = v.strip_prefix('+').unwrap_or(v);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let candidate = if v.starts_with('+') || v.starts_with('0') {
        v.to_string()
    } else {
        format!("+{digits}")
    };
    match Address::parse_with(&candidate, country_code) {
        Ok(a @ Address::Phone { .. }) => Some(a.with_domain_cleared()),
        _ => None,
    }
}

trait ClearDomain {
    fn with_domain_cleared(self) -> Self;
}

impl ClearDomain for Address {
    fn with_domain_cleared(self) -> Self {
        match self {
            Address::Phone { e164, .. } => Address::Phone { e164, domain: None },
            other => other,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_msisdn_headers() {
        assert_eq!(
            msisdn_address("447700900123", None).unwrap().e164(),
            Some("+447700900123")
        );
        assert_eq!(
            msisdn_address(" +447700900123 ", None).unwrap().e164(),
            Some("+447700900123")
        );
        assert_eq!(
            msisdn_address("07700900123", Some("44")).unwrap().e164(),
            Some("+447700900123")
        );
        assert!(msisdn_address("", None).is_none());
        assert!(msisdn_address("alice@example.com", None).is_none());
        assert!(msisdn_address("+44 7700", None).is_none());
    }

    #[test]
    fn finds_tokens_in_locations() {
        let t = "0123456789abcdef0123456789abcdef";
        let cfg = Config::default();
        let loc = content_location(&cfg, t);
        assert_eq!(loc, format!("http://127.0.0.1:8080/mm1/m/{t}"));
        assert_eq!(token_from_location(&loc), Some(t));
        assert_eq!(token_from_location("http://x/mm1/m/../../etc"), None);
        assert_eq!(token_from_location("http://x/other"), None);
    }
}

#[cfg(test)]
mod handler_tests;
