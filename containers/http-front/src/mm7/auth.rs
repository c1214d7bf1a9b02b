//! Identifying a VASP on `/mm7`: HTTP Basic and Digest (RFC 7616, MD5, `qop=auth`,
//! stateless nonces that expire) and source-network allowlists.

use base64::Engine;
use ipnet::IpNet;
use md5::{Digest, Md5};
use mmsc_shared::config::VaspConfig;
use std::net::IpAddr;

pub const REALM: &str = "mm7";
/// How long a Digest nonce stays valid.
pub const NONCE_LIFETIME_SECS: i64 = 300;

/// What the `Authorization` header carried.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Presented {
    None,
    Basic {
        username: String,
        password: String,
    },
    Digest(DigestParams),
    /// A scheme we do not support, or a malformed header.
    Unusable,
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct DigestParams {
    pub username: String,
    pub realm: String,
    pub nonce: String,
    pub uri: String,
    pub response: String,
    pub qop: Option<String>,
    pub nc: Option<String>,
    pub cnonce: Option<String>,
}

fn hex_md5(s: &str) -> String {
    let d = Md5::digest(s.as_bytes());
    d.iter().map(|b| format!("{b:02x}")).collect()
}

/// Parses an `Authorization` header value.
pub fn parse_authorization(value: Option<&str>) -> Presented {
    let Some(v) = value.map(str::trim) else {
        return Presented::None;
    };
    let (scheme, rest) = v.split_once(' ').unwrap_or((v, ""));
    if scheme.eq_ignore_ascii_case("basic") {
        let Ok(raw) = base64::engine::general_purpose::STANDARD.decode(rest.trim()) else {
            return Presented::Unusable;
        };
        let Ok(text) = String::from_utf8(raw) else {
            return Presented::Unusable;
        };
        return match text.split_once(':') {
            Some((u, p)) => Presented::Basic {
                username: u.to_string(),
                password: p.to_string(),
            },
            None => Presented::Unusable,
        };
    }
    if scheme.eq_ignore_ascii_case("digest") {
        let mut d = DigestParams::default();
        for (k, val) in digest_pairs(rest) {
            match k.to_ascii_lowercase().as_str() {
                "username" => d.username = val,
                "realm" => d.realm = val,
                "nonce" => d.nonce = val,
                "uri" => d.uri = val,
                "response" => d.response = val,
                "qop" => d.qop = Some(val),
                "nc" => d.nc = Some(val),
                "cnonce" => d.cnonce = Some(val),
                _ => {}
            }
        }
        if d.username.is_empty() || d.nonce.is_empty() || d.response.is_empty() {
            return Presented::Unusable;
        }
        return Presented::Digest(d);
    }
    Presented::Unusable
}

/// `k=v, k="v, with comma"` pairs.
fn digest_pairs(s: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut rest = s.trim();
    while !rest.is_empty() {
        let Some((k, after)) = rest.split_once('=') else {
            break;
        };
        let after = after.trim_start();
        let (val, next) = if let Some(q) = after.strip_prefix('"') {
            match q.find('"') {
                Some(end) => (q[..end].to_string(), &q[end + 1..]),
                None => (q.to_string(), ""),
            }
        } else {
            match after.find(',') {
                Some(i) => (after[..i].trim().to_string(), &after[i..]),
                None => (after.trim().to_string(), ""),
            }
        };
        out.push((k.trim().trim_start_matches(',').trim().to_string(), val));
        rest = next.trim_start().trim_start_matches(',').trim_start();
    }
    out
}

/// Issues and checks Digest nonces: `<unix secs hex>.<md5(secret:secs)>`.
pub struct Nonces {
    secret: String,
}

impl Nonces {
    pub fn new() -> Self {
        Nonces {
            secret: uuid::Uuid::new_v4().simple().to_string(),
        }
    }
    pub fn issue(&self, now_secs: i64) -> String {
        format!(
            "{now_secs:x}.{}",
            hex_md5(&format!("{}:{now_secs}", self.secret))
        )
    }
    pub fn is_valid(&self, nonce: &str, now_secs: i64) -> bool {
        let Some((ts, mac)) = nonce.split_once('.') else {
            return false;
        };
        let Ok(ts) = i64::from_str_radix(ts, 16) else {
            return false;
        };
        mac == hex_md5(&format!("{}:{ts}", self.secret))
            && now_secs >= ts
            && now_secs - ts <= NONCE_LIFETIME_SECS
    }
}

impl Default for Nonces {
    fn default() -> Self {
        Self::new()
    }
}

/// The response a client with `password` must send for `d` (RFC 7616 MD5).
pub fn digest_response(d: &DigestParams, password: &str, method: &str) -> String {
    let ha1 = hex_md5(&format!("{}:{}:{password}", d.username, d.realm));
    let ha2 = hex_md5(&format!("{method}:{}", d.uri));
    match (&d.qop, &d.nc, &d.cnonce) {
        (Some(qop), Some(nc), Some(cnonce)) => {
            hex_md5(&format!("{ha1}:{}:{nc}:{cnonce}:{qop}:{ha2}", d.nonce))
        }
        _ => hex_md5(&format!("{ha1}:{}:{ha2}", d.nonce)),
    }
}

fn constant_time_eq(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

pub fn in_networks(nets: &[IpNet], ip: IpAddr) -> bool {
    let ip = match ip {
        IpAddr::V6(v6) => v6
            .to_ipv4_mapped()
            .map(IpAddr::V4)
            .unwrap_or(IpAddr::V6(v6)),
        v4 => v4,
    };
    nets.iter().any(|n| n.contains(&ip))
}

/// Why identification failed (all answered with 401 and status 4001).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuthFailure {
    NoCredentials,
    UnknownVasp(String),
    WrongPassword(String),
    StaleNonce(String),
    NetworkNotAllowed(String),
    Unusable,
}

impl std::fmt::Display for AuthFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            AuthFailure::NoCredentials => write!(f, "credentials required"),
            AuthFailure::UnknownVasp(u) => write!(f, "unknown VASP {u:?}"),
            AuthFailure::WrongPassword(u) => write!(f, "wrong password for VASP {u:?}"),
            AuthFailure::StaleNonce(u) => write!(f, "stale or invalid digest nonce for {u:?}"),
            AuthFailure::NetworkNotAllowed(v) => {
                write!(f, "VASP {v:?} is not allowed from this address")
            }
            AuthFailure::Unusable => write!(f, "unsupported or malformed Authorization header"),
        }
    }
}

/// Finds the VASP a request comes from.
///
/// A VASP with credentials must present them (Basic or Digest) from one of its
/// networks (any, when it lists none). A VASP without credentials is identified by
/// its networks alone, whatever credentials the client sends (the demo VASP on
/// loopback).
pub fn identify<'a>(
    vasps: &'a [VaspConfig],
    presented: &Presented,
    ip: IpAddr,
    method: &str,
    nonces: &Nonces,
    now_secs: i64,
) -> Result<&'a VaspConfig, AuthFailure> {
    let by_network = || {
        vasps
            .iter()
            .find(|v| v.credentials.is_none() && in_networks(&v.allowed_networks, ip))
    };
    let username = match presented {
        Presented::Basic { username, .. } => Some(username.as_str()),
        Presented::Digest(d) => Some(d.username.as_str()),
        Presented::None | Presented::Unusable => None,
    };
    let with_creds = username.and_then(|u| {
        vasps
            .iter()
            .find(|v| v.credentials.as_ref().is_some_and(|c| c.username == u))
    });
    let Some(vasp) = with_creds else {
        return match (by_network(), presented, username) {
            (Some(v), _, _) => Ok(v),
            (None, Presented::None, _) => Err(AuthFailure::NoCredentials),
            (None, _, Some(u)) => Err(AuthFailure::UnknownVasp(u.to_string())),
            (None, _, None) => Err(AuthFailure::Unusable),
        };
    };
    let Some(creds) = &vasp.credentials else {
        return Err(AuthFailure::Unusable);
    };
    let ok = match presented {
        Presented::Basic { password, .. } => constant_time_eq(password, &creds.password),
        Presented::Digest(d) => {
            if !nonces.is_valid(&d.nonce, now_secs) {
                return Err(AuthFailure::StaleNonce(d.username.clone()));
            }
            constant_time_eq(&d.response, &digest_response(d, &creds.password, method))
        }
        _ => false,
    };
    if !ok {
        return Err(AuthFailure::WrongPassword(creds.username.clone()));
    }
    if !vasp.allowed_networks.is_empty() && !in_networks(&vasp.allowed_networks, ip) {
        return Err(AuthFailure::NetworkNotAllowed(vasp.id.clone()));
    }
    Ok(vasp)
}

/// The `WWW-Authenticate` challenges of a 401.
pub fn challenges(nonces: &Nonces, now_secs: i64) -> [String; 2] {
    [
        format!(
            "Digest realm=\"{REALM}\", qop=\"auth\", algorithm=MD5, nonce=\"{}\"",
            nonces.issue(now_secs)
        ),
        format!("Basic realm=\"{REALM}\""),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use mmsc_shared::config::Credentials;

    fn vasps() -> Vec<VaspConfig> {
        vec![
            VaspConfig {
                id: "acme".into(),
                credentials: Some(Credentials {
                    username: "acme".into(),
                    password: "s3cret".into(),
                }),
                ..VaspConfig::default()
            },
            VaspConfig {
                id: "lan".into(),
                credentials: Some(Credentials {
                    username: "lan".into(),
                    password: "pw".into(),
                }),
                allowed_networks: vec!["10.0.0.0/8".parse().unwrap()],
                ..VaspConfig::default()
            },
            VaspConfig {
                id: "demo".into(),
                allowed_networks: vec!["127.0.0.0/8".parse().unwrap()],
                ..VaspConfig::default()
            },
        ]
    }

    fn basic(u: &str, p: &str) -> String {
        format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode(format!("{u}:{p}"))
        )
    }

    #[test]
    fn basic_auth_and_networks() {
        let v = vasps();
        let n = Nonces::new();
        let lo: IpAddr = "127.0.0.1".parse().unwrap();
        let far: IpAddr = "192.0.2.1".parse().unwrap();
        let id = |h: &str, ip| {
            identify(&v, &parse_authorization(Some(h)), ip, "POST", &n, 100).map(|v| v.id.clone())
        };
        assert_eq!(id(&basic("acme", "s3cret"), far), Ok("acme".into()));
        assert_eq!(
            id(&basic("acme", "nope"), far),
            Err(AuthFailure::WrongPassword("acme".into()))
        );
        assert_eq!(
            id(&basic("ghost", "x"), far),
            Err(AuthFailure::UnknownVasp("ghost".into()))
        );
        assert_eq!(
            id(&basic("lan", "pw"), far),
            Err(AuthFailure::NetworkNotAllowed("lan".into()))
        );
        // The credential-less VASP on loopback takes any credentials.
        assert_eq!(id(&basic("ghost", "x"), lo), Ok("demo".into()));
        assert_eq!(
            identify(&v, &Presented::None, lo, "POST", &n, 1).map(|v| v.id.clone()),
            Ok("demo".into())
        );
        assert_eq!(
            identify(&v, &Presented::None, far, "POST", &n, 1).map(|v| v.id.clone()),
            Err(AuthFailure::NoCredentials)
        );
    }

    #[test]
    fn digest_auth() {
        let v = vasps();
        let n = Nonces::new();
        let far: IpAddr = "192.0.2.1".parse().unwrap();
        let mut d = DigestParams {
            username: "acme".into(),
            realm: REALM.into(),
            nonce: n.issue(1000),
            uri: "/mm7".into(),
            response: String::new(),
            qop: Some("auth".into()),
            nc: Some("00000001".into()),
            cnonce: Some("abc".into()),
        };
        d.response = digest_response(&d, "s3cret", "POST");
        let header = format!(
            "Digest username=\"acme\", realm=\"mm7\", nonce=\"{}\", uri=\"/mm7\", response=\"{}\", qop=auth, nc=00000001, cnonce=\"abc\", algorithm=MD5",
            d.nonce, d.response
        );
        let p = parse_authorization(Some(&header));
        assert_eq!(p, Presented::Digest(d.clone()));
        assert_eq!(
            identify(&v, &p, far, "POST", &n, 1010).map(|v| v.id.clone()),
            Ok("acme".into())
        );
        assert_eq!(
            identify(&v, &p, far, "POST", &n, 1000 + NONCE_LIFETIME_SECS + 1).map(|v| v.id.clone()),
            Err(AuthFailure::StaleNonce("acme".into()))
        );
        let mut wrong = d.clone();
        wrong.response = digest_response(&d, "guess", "POST");
        assert_eq!(
            identify(&v, &Presented::Digest(wrong), far, "POST", &n, 1010).map(|v| v.id.clone()),
            Err(AuthFailure::WrongPassword("acme".into()))
        );
        assert!(
            !Nonces::new().is_valid(&d.nonce, 1010),
            "nonces are per process"
        );
        assert_eq!(parse_authorization(Some("Bearer x")), Presented::Unusable);
        assert_eq!(parse_authorization(Some("Basic !!!")), Presented::Unusable);
    }
}
