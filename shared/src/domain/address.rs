//! MMS addresses as they appear on MM1/MM4/MM7: `+447700900123/TYPE=PLMN`,
//! `+447700900123/TYPE=PLMN@mms.example.net`, RFC 2822 e-mail addresses and VASP short
//! codes. Phone numbers are normalised to E.164 (`+` and 1–15 digits).

use serde::{Deserialize, Serialize};
use std::fmt;

#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Address {
    /// A subscriber number in E.164 (`+447700900123`), optionally qualified by the
    /// MMS domain of the operator that serves it (the MM4 `@domain` part).
    Phone {
        e164: String,
        domain: Option<String>,
    },
    /// A plain e-mail address (`user@example.com`).
    Email { address: String },
    /// A VASP short code (`12345`).
    ShortCode { code: String },
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AddressError {
    #[error("empty address")]
    Empty,
    #[error("address is not a phone number, short code or e-mail address: {0:?}")]
    Unrecognised(String),
    #[error("phone number has {0} digits; E.164 allows 1 to 15")]
    BadLength(usize),
    #[error("unsupported address type {0:?} (only TYPE=PLMN is routed)")]
    UnsupportedType(String),
}

/// Longest short code we accept; anything longer without a `+` is a national or
/// international number.
const MAX_SHORT_CODE_DIGITS: usize = 8;

impl Address {
    pub fn phone(e164: &str) -> Result<Self, AddressError> {
        Ok(Address::Phone {
            e164: normalise_number(e164, None)?,
            domain: None,
        })
    }

    /// Parses any of the address forms peers send. `country_code` (digits, e.g. `"44"`)
    /// turns national numbers with a leading `0` into E.164; without it a number with
    /// no `+` or `00` is taken as already international.
    ///
    /// Angle brackets, surrounding whitespace and a display name (`"Bob" <...>`) are
    /// tolerated.
    pub fn parse_with(input: &str, country_code: Option<&str>) -> Result<Self, AddressError> {
        let s = strip_display(input.trim());
        if s.is_empty() {
            return Err(AddressError::Empty);
        }
        // `/TYPE=` marks a 3GPP address, possibly followed by `@domain`.
        if let Some(pos) = find_ignore_case(s, "/TYPE=") {
            let number = &s[..pos];
            let rest = &s[pos + "/TYPE=".len()..];
            let (kind, domain) = match rest.split_once('@') {
                Some((k, d)) => (k, Some(d.trim().to_ascii_lowercase())),
                None => (rest, None),
            };
            if !kind.trim().eq_ignore_ascii_case("PLMN") {
                return Err(AddressError::UnsupportedType(kind.trim().to_string()));
            }
            let e164 = normalise_number(number, country_code)?;
            return Ok(Address::Phone {
                e164,
                domain: domain.filter(|d| !d.is_empty()),
            });
        }
        if let Some((local, domain)) = s.rsplit_once('@') {
            // `+447700900123@mms.example.net`: a number at an MMS domain.
            if looks_like_number(local) && local.trim_start().starts_with('+') {
                let e164 = normalise_number(local, country_code)?;
                return Ok(Address::Phone {
                    e164,
                    domain: Some(domain.to_ascii_lowercase()),
                });
            }
            if local.is_empty()
                || domain.is_empty()
                || local.contains('@')
                || local.contains(char::is_whitespace)
            {
                return Err(AddressError::Unrecognised(s.to_string()));
            }
            return Ok(Address::Email {
                address: format!("{local}@{}", domain.to_ascii_lowercase()),
            });
        }
        if looks_like_number(s) {
            let digits: String = s.chars().filter(|c| c.is_ascii_digit()).collect();
            let international = s.starts_with('+') || digits.starts_with("00");
            if !international && digits.len() <= MAX_SHORT_CODE_DIGITS && !digits.starts_with('0') {
                if digits.is_empty() {
                    return Err(AddressError::Empty);
                }
                return Ok(Address::ShortCode { code: digits });
            }
            return Ok(Address::Phone {
                e164: normalise_number(s, country_code)?,
                domain: None,
            });
        }
        Err(AddressError::Unrecognised(s.to_string()))
    }

    pub fn parse(input: &str) -> Result<Self, AddressError> {
        Self::parse_with(input, None)
    }

    /// The E.164 number of a phone address.
    pub fn e164(&self) -> Option<&str> {
        match self {
            Address::Phone { e164, .. } => Some(e164),
            _ => None,
        }
    }

    pub fn domain(&self) -> Option<&str> {
        match self {
            Address::Phone { domain, .. } => domain.as_deref(),
            Address::Email { address } => address.rsplit_once('@').map(|(_, d)| d),
            Address::ShortCode { .. } => None,
        }
    }

    /// The same address qualified with (or re-homed to) an MMS domain.
    pub fn with_domain(&self, domain: &str) -> Address {
        match self {
            Address::Phone { e164, .. } => Address::Phone {
                e164: e164.clone(),
                domain: Some(domain.to_ascii_lowercase()),
            },
            other => other.clone(),
        }
    }

    /// The form MM4 uses in `MAIL FROM`/`RCPT TO` and the `From`/`To` headers:
    /// `+447700900123/TYPE=PLMN@domain` for numbers.
    pub fn to_mm4(&self, default_domain: &str) -> String {
        match self {
            Address::Phone { e164, domain } => {
                format!(
                    "{e164}/TYPE=PLMN@{}",
                    domain.as_deref().unwrap_or(default_domain)
                )
            }
            Address::Email { address } => address.clone(),
            Address::ShortCode { code } => format!("{code}@{default_domain}"),
        }
    }

    /// A string that identifies the subscriber or service regardless of domain; used
    /// as a routing and lookup key (`+447700900123`, `user@example.com`, `12345`).
    pub fn key(&self) -> &str {
        match self {
            Address::Phone { e164, .. } => e164,
            Address::Email { address } => address,
            Address::ShortCode { code } => code,
        }
    }

    /// A form safe for INFO-level logs: the last four digits of numbers are masked.
    pub fn redacted(&self) -> String {
        match self {
            Address::Phone { e164, .. } => {
                let keep = e164.len().saturating_sub(4);
                format!("{}****", &e164[..keep])
            }
            Address::Email { address } => match address.split_once('@') {
                Some((_, d)) => format!("***@{d}"),
                None => "***".into(),
            },
            Address::ShortCode { code } => code.clone(),
        }
    }
}

impl fmt::Display for Address {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Address::Phone {
                e164,
                domain: Some(d),
            } => write!(f, "{e164}/TYPE=PLMN@{d}"),
            Address::Phone { e164, domain: None } => write!(f, "{e164}/TYPE=PLMN"),
            Address::Email { address } => f.write_str(address),
            Address::ShortCode { code } => f.write_str(code),
        }
    }
}

impl std::str::FromStr for Address {
    type Err = AddressError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Address::parse(s)
    }
}

fn strip_display(s: &str) -> &str {
    match (s.rfind('<'), s.rfind('>')) {
        (Some(a), Some(b)) if a < b => s[a + 1..b].trim(),
        _ => s,
    }
}

fn find_ignore_case(haystack: &str, needle: &str) -> Option<usize> {
    let h = haystack.as_bytes();
    let n = needle.as_bytes();
    (0..=h.len().checked_sub(n.len())?).find(|&i| h[i..i + n.len()].eq_ignore_ascii_case(n))
}

fn looks_like_number(s: &str) -> bool {
    let s = s.trim();
    let mut chars = s.chars();
    let body = if s.starts_with('+') {
        chars.next();
        chars.as_str()
    } else {
        s
    };
    !body.is_empty()
        && body.chars().any(|c| c.is_ascii_digit())
        && body
            .chars()
            .all(|c| c.is_ascii_digit() || matches!(c, ' ' | '-' | '.' | '(' | ')'))
}

/// Normalises a dialled number to E.164: removes separators, turns a `00` prefix into
/// `+`, and a national `0` prefix into `+<country_code>` when a country code is known.
fn normalise_number(input: &str, country_code: Option<&str>) -> Result<String, AddressError> {
    let s = input.trim();
    if !looks_like_number(s) {
        return Err(AddressError::Unrecognised(s.to_string()));
    }
    let digits: String = s.chars().filter(|c| c.is_ascii_digit()).collect();
    let e164_digits = if s.starts_with('+') {
        digits
    } else if let Some(rest) = digits.strip_prefix("00") {
        rest.to_string()
    } else if let (Some(rest), Some(cc)) = (digits.strip_prefix('0'), country_code) {
        format!("{cc}{rest}")
    } else {
        digits
    };
    if e164_digits.is_empty() || e164_digits.len() > 15 {
        return Err(AddressError::BadLength(e164_digits.len()));
    }
    Ok(format!("+{e164_digits}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn phone(e: &str, d: Option<&str>) -> Address {
        Address::Phone {
            e164: e.into(),
            domain: d.map(Into::into),
        }
    }

    #[test]
    fn parses_plmn_forms() {
        assert_eq!(
            Address::parse("+447700900123/TYPE=PLMN").unwrap(),
            phone("+447700900123", None)
        );
        assert_eq!(
            Address::parse("<+447778889999/TYPE=PLMN@MMS.Domain.com>").unwrap(),
            phone("+447778889999", Some("mms.domain.com"))
        );
        assert_eq!(
            Address::parse("+447778889999/type=plmn@mms.domain.com").unwrap(),
            phone("+447778889999", Some("mms.domain.com"))
        );
        assert_eq!(
            Address::parse("\"Bob\" <+44 7700-900123/TYPE=PLMN>").unwrap(),
            phone("+447700900123", None)
        );
    }

    #[test]
    fn parses_number_at_domain_email_and_short_code() {
        assert_eq!(
            Address::parse("+447700900123@mms.example.net").unwrap(),
            phone("+447700900123", Some("mms.example.net"))
        );
        assert_eq!(
            Address::parse("Alice@Example.COM").unwrap(),
            Address::Email {
                address: "Alice@example.com".into()
            }
        );
        assert_eq!(
            Address::parse("12345").unwrap(),
            Address::ShortCode {
                code: "12345".into()
            }
        );
    }

    #[test]
    fn normalises_national_and_00_prefixes() {
        assert_eq!(
            Address::parse_with("07700 900123", Some("44")).unwrap(),
            phone("+447700900123", None)
        );
        assert_eq!(
            Address::parse("00447700900123").unwrap(),
            phone("+447700900123", None)
        );
        assert_eq!(
            Address::parse("447700900123").unwrap(),
            phone("+447700900123", None)
        );
    }

    #[test]
    fn rejects_bad_addresses() {
        assert_eq!(Address::parse("  "), Err(AddressError::Empty));
        assert_eq!(
            Address::parse("+1234567890123456"),
            Err(AddressError::BadLength(16))
        );
        assert!(matches!(
            Address::parse("+4477/TYPE=IPv4"),
            Err(AddressError::UnsupportedType(_))
        ));
        assert!(matches!(
            Address::parse("hello"),
            Err(AddressError::Unrecognised(_))
        ));
        assert!(matches!(
            Address::parse("a@b@c"),
            Err(AddressError::Unrecognised(_))
        ));
        assert!(matches!(
            Address::parse("abc/TYPE=PLMN"),
            Err(AddressError::Unrecognised(_))
        ));
    }

    #[test]
    fn formats_for_mm4_and_round_trips() {
        let a = phone("+447700900123", None);
        assert_eq!(
            a.to_mm4("mms.example.net"),
            "+447700900123/TYPE=PLMN@mms.example.net"
        );
        let b = Address::parse(&a.to_mm4("mms.example.net")).unwrap();
        assert_eq!(b, a.with_domain("mms.example.net"));
        assert_eq!(Address::parse(&b.to_string()).unwrap(), b);
        assert_eq!(a.redacted(), "+44770090****");
    }
}
