//! Header values of MM4 PDUs: the open status/token newtypes, expiry, addresses.
//!
//! Every token-valued header (`X-Mms-Request-Status-Code`, `X-Mms-MM-Status-Code`,
//! `X-Mms-Priority`, ...) is an *open* newtype: the values TS 23.140 defines are named
//! constants in the spec's spelling, anything else is kept verbatim so a relay passes it
//! on unchanged. Known values are recognised ignoring case and punctuation
//! (`OK`, `ok`, `Error_unspecified`, `Deletedwithoutbeingread`) and normalised to the
//! spec's spelling.

use crate::domain::Address;
use std::borrow::Cow;
use std::fmt;

/// Lower-cased alphanumerics only: the key known values are matched on.
fn token_key(s: &str) -> String {
    s.chars()
        .filter(char::is_ascii_alphanumeric)
        .map(|c| c.to_ascii_lowercase())
        .collect()
}

macro_rules! open_token {
    (
        $(#[$meta:meta])*
        $name:ident {
            $( $(#[$cmeta:meta])* $konst:ident = $value:literal, )+
        }
        $( aliases { $( $alias:literal => $target:ident, )+ } )?
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash)]
        pub struct $name(Cow<'static, str>);

        impl $name {
            $( $(#[$cmeta])* pub const $konst: Self = Self(Cow::Borrowed($value)); )+

            /// The values TS 23.140 defines, in its spelling.
            pub const KNOWN: &'static [Self] = &[ $( Self::$konst, )+ ];

            /// Recognises a known value ignoring case and punctuation (normalising it
            /// to the spec's spelling); keeps anything else verbatim.
            pub fn new(value: &str) -> Self {
                let key = token_key(value);
                if !key.is_empty() {
                    for known in Self::KNOWN {
                        if token_key(known.as_str()) == key {
                            return known.clone();
                        }
                    }
                    $( $( if token_key($alias) == key { return Self::$target; } )+ )?
                }
                Self(Cow::Owned(value.to_string()))
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }

            /// Whether this is one of the values TS 23.140 defines.
            pub fn is_known(&self) -> bool {
                Self::KNOWN.contains(self)
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl From<&str> for $name {
            fn from(value: &str) -> Self {
                Self::new(value)
            }
        }
    };
}

open_token! {
    /// `X-Mms-Request-Status-Code` of the `.RES` PDUs.
    RequestStatus {
        OK = "Ok",
        ERROR_UNSPECIFIED = "Error-unspecified",
        ERROR_SERVICE_DENIED = "Error-service-denied",
        ERROR_MESSAGE_FORMAT_CORRUPT = "Error-message-format-corrupt",
        ERROR_SENDING_ADDRESS_UNRESOLVED = "Error-sending-address-unresolved",
        ERROR_MESSAGE_NOT_FOUND = "Error-message-not-found",
        ERROR_NETWORK_PROBLEM = "Error-network-problem",
        ERROR_CONTENT_NOT_ACCEPTED = "Error-content-not-accepted",
        ERROR_UNSUPPORTED_MESSAGE = "Error-unsupported-message",
    }
}

impl RequestStatus {
    pub fn is_ok(&self) -> bool {
        *self == Self::OK
    }

    /// Whether resending the same request later could succeed (a network problem);
    /// every other error is permanent.
    pub fn is_transient(&self) -> bool {
        *self == Self::ERROR_NETWORK_PROBLEM
    }
}

open_token! {
    /// `X-Mms-MM-Status-Code` of `MM4_delivery_report.REQ`.
    MmStatus {
        EXPIRED = "Expired",
        RETRIEVED = "Retrieved",
        REJECTED = "Rejected",
        DEFERRED = "Deferred",
        INDETERMINATE = "Indeterminate",
        FORWARDED = "Forwarded",
        UNRECOGNISED = "Unrecognised",
    }
    aliases {
        "Unrecognized" => UNRECOGNISED,
    }
}

open_token! {
    /// `X-Mms-Read-Status` of `MM4_read_reply_report.REQ`.
    ReadStatus {
        READ = "Read",
        DELETED_WITHOUT_BEING_READ = "Deleted without being read",
    }
}

open_token! {
    /// `X-Mms-Message-Class`.
    MessageClass {
        PERSONAL = "Personal",
        ADVERTISEMENT = "Advertisement",
        INFORMATIONAL = "Informational",
        AUTO = "Auto",
    }
}

open_token! {
    /// `X-Mms-Priority`.
    Priority {
        LOW = "Low",
        NORMAL = "Normal",
        HIGH = "High",
    }
}

open_token! {
    /// `X-Mms-Sender-Visibility`.
    SenderVisibility {
        HIDE = "Hide",
        SHOW = "Show",
    }
}

/// `X-Mms-Expiry`: an absolute time or a number of seconds after submission. The form
/// received is kept so a relay passes on what it got.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Expiry {
    /// Unix seconds; written as an RFC 5322 date.
    Absolute(i64),
    /// Seconds from the `Date` of the message; written as a decimal number.
    Relative(u64),
}

impl Expiry {
    /// The expiry as unix seconds, given the message's submission time for the
    /// relative form.
    pub fn at(self, submitted_unix_secs: i64) -> i64 {
        match self {
            Expiry::Absolute(t) => t,
            Expiry::Relative(secs) => {
                submitted_unix_secs.saturating_add(i64::try_from(secs).unwrap_or(i64::MAX))
            }
        }
    }
}

/// An address header item (`From`, one `To`/`Cc`/`Bcc` recipient, `Sender`): the text
/// as received and, when it is one, the parsed MMS address.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Mm4Address {
    /// The text as received (display name and angle brackets included), which is also
    /// what is written back.
    pub raw: String,
    /// `raw` parsed as an MMS address; `None` when it is not one we understand.
    pub address: Option<Address>,
}

impl Mm4Address {
    /// Wraps received text, parsing it when possible.
    pub fn parse(raw: &str) -> Self {
        let raw = raw.trim_matches([' ', '\t']);
        Mm4Address {
            raw: raw.to_string(),
            address: Address::parse(raw).ok(),
        }
    }

    /// The MM4 form of `address` (`+447700900123/TYPE=PLMN@domain`), qualified with
    /// `default_domain` when the address has none.
    pub fn from_address(address: &Address, default_domain: &str) -> Self {
        Mm4Address::parse(&address.to_mm4(default_domain))
    }

    /// The parsed address, if any.
    pub fn address(&self) -> Option<&Address> {
        self.address.as_ref()
    }

    /// Splits an address-list header value (`a, "B, b" <b>, c`) into its items, keeping
    /// commas inside quotes, angle brackets and comments.
    pub fn parse_list(value: &str) -> Vec<Mm4Address> {
        let mut items = Vec::new();
        let mut depth_angle = 0usize;
        let mut depth_comment = 0usize;
        let mut in_quote = false;
        let mut escaped = false;
        let mut start = 0usize;
        for (i, c) in value.char_indices() {
            if escaped {
                escaped = false;
                continue;
            }
            match c {
                '\\' if in_quote || depth_comment > 0 => escaped = true,
                '"' if depth_comment == 0 => in_quote = !in_quote,
                '(' if !in_quote => depth_comment += 1,
                ')' if !in_quote => depth_comment = depth_comment.saturating_sub(1),
                '<' if !in_quote && depth_comment == 0 => depth_angle += 1,
                '>' if !in_quote && depth_comment == 0 => {
                    depth_angle = depth_angle.saturating_sub(1)
                }
                ',' if !in_quote && depth_comment == 0 && depth_angle == 0 => {
                    push_item(&mut items, value.get(start..i).unwrap_or_default());
                    start = i + 1;
                }
                _ => {}
            }
        }
        push_item(&mut items, value.get(start..).unwrap_or_default());
        items
    }
}

fn push_item(items: &mut Vec<Mm4Address>, item: &str) {
    let item = item.trim_matches([' ', '\t']);
    if !item.is_empty() {
        items.push(Mm4Address::parse(item));
    }
}

impl fmt::Display for Mm4Address {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.raw)
    }
}

impl From<&Address> for Mm4Address {
    /// The address in its own form (`+447700900123/TYPE=PLMN@domain` when it has a
    /// domain, `+447700900123/TYPE=PLMN` otherwise).
    fn from(address: &Address) -> Self {
        // Parsed back from its text so the value is exactly what a receiver sees.
        Mm4Address::parse(&address.to_string())
    }
}
