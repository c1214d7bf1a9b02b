//! Which MM4 partner a connection belongs to: by source IP (`allowed_networks`) and,
//! for partners with `inbound_auth`, by SMTP AUTH.
//!
//! - A partner **without** `inbound_auth` is identified by its source networks alone.
//! - A partner **with** `inbound_auth` must authenticate; its `allowed_networks`, when
//!   not empty, also restrict where it may authenticate from (empty = anywhere).
//! - When several IP-only partners' networks contain the address, the most specific
//!   network wins (then the first in the file).

use mmsc_shared::config::{Config, PartnerConfig};
use std::net::IpAddr;

/// What the source address alone says about a new connection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Admission {
    /// Identified by source address as `config.partners[index]`.
    Partner(usize),
    /// The address is in the networks of a partner that must authenticate.
    NeedsAuth,
    /// The address matches no partner, but some partner may authenticate from
    /// anywhere: the session may go on, and MAIL without AUTH gets `554 5.7.1`.
    AuthFromAnywhere,
    /// Nobody we know: `554 5.7.1` at connect.
    Reject,
}

/// Identification by source address.
pub fn admit(config: &Config, ip: IpAddr) -> Admission {
    let ip = canonical(ip);
    let mut best: Option<(u8, usize)> = None;
    let mut needs_auth = false;
    for (i, p) in config.partners.iter().enumerate() {
        let Some(len) = best_match(p, ip) else {
            continue;
        };
        if p.inbound_auth.is_some() {
            needs_auth = true;
        } else if best.is_none_or(|(l, _)| len > l) {
            best = Some((len, i));
        }
    }
    if let Some((_, i)) = best {
        return Admission::Partner(i);
    }
    if needs_auth {
        return Admission::NeedsAuth;
    }
    if config
        .partners
        .iter()
        .any(|p| p.inbound_auth.is_some() && p.allowed_networks.is_empty())
    {
        return Admission::AuthFromAnywhere;
    }
    Admission::Reject
}

/// Whether any partner accepts AUTH at all (then EHLO advertises it).
pub fn auth_offered(config: &Config) -> bool {
    config.partners.iter().any(|p| p.inbound_auth.is_some())
}

/// Whether a client at `ip` could authenticate as some partner.
pub fn may_authenticate(config: &Config, ip: IpAddr) -> bool {
    let ip = canonical(ip);
    config
        .partners
        .iter()
        .any(|p| p.inbound_auth.is_some() && allowed_from(p, ip))
}

/// The partner whose `inbound_auth` these credentials are, if it may authenticate
/// from `ip`. Passwords are compared in constant time.
pub fn authenticate(
    config: &Config,
    ip: IpAddr,
    username: &[u8],
    password: &[u8],
) -> Option<usize> {
    let ip = canonical(ip);
    let mut found = None;
    for (i, p) in config.partners.iter().enumerate() {
        let Some(cred) = &p.inbound_auth else {
            continue;
        };
        let user_ok = constant_time_eq(cred.username.as_bytes(), username);
        let pass_ok = constant_time_eq(cred.password.as_bytes(), password);
        if user_ok && pass_ok && allowed_from(p, ip) && found.is_none() {
            found = Some(i);
        }
    }
    found
}

fn allowed_from(p: &PartnerConfig, ip: IpAddr) -> bool {
    p.allowed_networks.is_empty() || best_match(p, ip).is_some()
}

/// Prefix length of the most specific network of `p` that contains `ip`.
fn best_match(p: &PartnerConfig, ip: IpAddr) -> Option<u8> {
    p.allowed_networks
        .iter()
        .filter(|n| n.contains(&ip))
        .map(|n| n.prefix_len())
        .max()
}

/// An IPv4-mapped IPv6 address (`::ffff:192.0.2.1`, what a dual-stack socket shows
/// for an IPv4 client) is matched as the IPv4 address it is.
pub fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => IpAddr::V6(v6),
        },
        v4 => v4,
    }
}

/// Compares without an early exit on the first differing byte (the length is not
/// secret).
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;
    use mmsc_shared::config::Credentials;

    fn partner(name: &str, nets: &[&str], auth: Option<(&str, &str)>) -> PartnerConfig {
        PartnerConfig {
            name: name.into(),
            domain: format!("mms.{name}.example"),
            allowed_networks: nets.iter().map(|n| n.parse().expect("net")).collect(),
            inbound_auth: auth.map(|(u, p)| Credentials {
                username: u.into(),
                password: p.into(),
            }),
            ..PartnerConfig::default()
        }
    }

    fn config(partners: Vec<PartnerConfig>) -> Config {
        Config {
            partners,
            ..Config::default()
        }
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().expect("ip")
    }

    #[test]
    fn identifies_by_most_specific_network() {
        let c = config(vec![
            partner("wide", &["10.0.0.0/8"], None),
            partner("narrow", &["10.1.0.0/16"], None),
        ]);
        assert_eq!(admit(&c, ip("10.1.2.3")), Admission::Partner(1));
        assert_eq!(admit(&c, ip("10.2.2.3")), Admission::Partner(0));
        assert_eq!(admit(&c, ip("::ffff:10.1.2.3")), Admission::Partner(1));
        assert_eq!(admit(&c, ip("192.0.2.1")), Admission::Reject);
    }

    #[test]
    fn auth_partners_must_authenticate() {
        let c = config(vec![
            partner("ipauth", &["192.0.2.0/24"], Some(("u1", "p1"))),
            partner("anywhere", &[], Some(("u2", "p2"))),
        ]);
        assert_eq!(admit(&c, ip("192.0.2.7")), Admission::NeedsAuth);
        assert_eq!(admit(&c, ip("198.51.100.1")), Admission::AuthFromAnywhere);
        assert_eq!(authenticate(&c, ip("192.0.2.7"), b"u1", b"p1"), Some(0));
        assert_eq!(authenticate(&c, ip("198.51.100.1"), b"u1", b"p1"), None);
        assert_eq!(authenticate(&c, ip("198.51.100.1"), b"u2", b"p2"), Some(1));
        assert_eq!(authenticate(&c, ip("192.0.2.7"), b"u2", b"wrong"), None);
        assert_eq!(authenticate(&c, ip("192.0.2.7"), b"u2x", b"p2"), None);
        assert!(may_authenticate(&c, ip("203.0.113.1")));
        assert!(auth_offered(&c));
    }

    #[test]
    fn ip_partner_wins_over_auth_partner_on_the_same_network() {
        let c = config(vec![
            partner("auth", &["10.0.0.0/8"], Some(("u", "p"))),
            partner("ip", &["10.0.0.0/8"], None),
        ]);
        assert_eq!(admit(&c, ip("10.0.0.1")), Admission::Partner(1));
        assert_eq!(authenticate(&c, ip("10.0.0.1"), b"u", b"p"), Some(0));
        assert!(!may_authenticate(&c, ip("11.0.0.1")));
    }

    #[test]
    fn demo_config_trusts_loopback() {
        let c = Config::demo();
        assert_eq!(admit(&c, ip("127.0.0.1")), Admission::Partner(0));
        assert_eq!(admit(&c, ip("::1")), Admission::Partner(0));
        assert!(!auth_offered(&c));
    }

    #[test]
    fn compares_secrets_fully() {
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"ab"));
        assert!(constant_time_eq(b"", b""));
    }
}
