//! AVP data types (RFC 6733 §4.2-4.3): how each base and derived type is laid out
//! in the AVP data. Lengths are exact: an Unsigned32 with 3 or 5 octets is an error,
//! never a guess.
//!
//! | Diameter type                         | Rust type                |
//! |---------------------------------------|--------------------------|
//! | OctetString                           | `Vec<u8>` / `[u8]`       |
//! | Integer32 / Integer64                 | `i32` / `i64`            |
//! | Unsigned32 / Unsigned64               | `u32` / `u64`            |
//! | Float32 / Float64                     | `f32` / `f64`            |
//! | Enumerated                            | open newtypes over `i32` |
//! | UTF8String, DiameterIdentity, DiameterURI | `String` / `str`     |
//! | Address                               | [`Address`]              |
//! | Time                                  | [`DiameterTime`]         |
//! | Grouped                               | [`Avp::children`](super::Avp::children), typed groups |

use super::error::ValueError;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// A value that can be written as AVP data (without header or padding).
pub trait EncodeValue {
    fn encode_value(&self, out: &mut Vec<u8>);
}

/// A value that can be read from AVP data (without header or padding).
pub trait DecodeValue: Sized {
    fn decode_value(data: &[u8]) -> Result<Self, ValueError>;
}

impl<T: EncodeValue + ?Sized> EncodeValue for &T {
    fn encode_value(&self, out: &mut Vec<u8>) {
        (**self).encode_value(out);
    }
}

fn exact<const N: usize>(data: &[u8]) -> Result<[u8; N], ValueError> {
    <[u8; N]>::try_from(data).map_err(|_| ValueError::WrongLength {
        expected: N,
        found: data.len(),
    })
}

macro_rules! fixed_number {
    ($($t:ty),*) => {$(
        impl EncodeValue for $t {
            fn encode_value(&self, out: &mut Vec<u8>) {
                out.extend_from_slice(&self.to_be_bytes());
            }
        }
        impl DecodeValue for $t {
            fn decode_value(data: &[u8]) -> Result<Self, ValueError> {
                Ok(<$t>::from_be_bytes(exact(data)?))
            }
        }
    )*};
}

fixed_number!(u32, u64, i32, i64, f32, f64);

impl EncodeValue for [u8] {
    fn encode_value(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(self);
    }
}

impl EncodeValue for Vec<u8> {
    fn encode_value(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(self);
    }
}

impl DecodeValue for Vec<u8> {
    fn decode_value(data: &[u8]) -> Result<Self, ValueError> {
        Ok(data.to_vec())
    }
}

impl EncodeValue for str {
    fn encode_value(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(self.as_bytes());
    }
}

impl EncodeValue for String {
    fn encode_value(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(self.as_bytes());
    }
}

impl DecodeValue for String {
    fn decode_value(data: &[u8]) -> Result<Self, ValueError> {
        std::str::from_utf8(data)
            .map(str::to_owned)
            .map_err(|_| ValueError::InvalidUtf8)
    }
}

/// Open newtypes over a number encode as that number.
macro_rules! newtype_value {
    ($($t:ty),* $(,)?) => {$(
        impl $crate::codec::diameter::value::EncodeValue for $t {
            fn encode_value(&self, out: &mut Vec<u8>) {
                $crate::codec::diameter::value::EncodeValue::encode_value(&self.0, out);
            }
        }
        impl $crate::codec::diameter::value::DecodeValue for $t {
            fn decode_value(data: &[u8]) -> Result<Self, $crate::codec::diameter::ValueError> {
                $crate::codec::diameter::value::DecodeValue::decode_value(data).map(Self)
            }
        }
    )*};
}
pub(crate) use newtype_value;

newtype_value!(super::header::ApplicationId, super::avp::VendorId);

wire_number! {
    /// An IANA address family number, the first two octets of an Address.
    pub struct AddressFamily(u16) {
        IPV4 = 1 => "IPv4",
        IPV6 = 2 => "IPv6",
        E164 = 8 => "E.164",
    }
}

/// The Address type: a 2-octet address family, then the address.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Address {
    /// Family 1, four octets.
    V4(Ipv4Addr),
    /// Family 2, sixteen octets.
    V6(Ipv6Addr),
    /// Any other family, kept as received.
    Other {
        family: AddressFamily,
        address: Vec<u8>,
    },
}

impl Address {
    pub fn family(&self) -> AddressFamily {
        match self {
            Self::V4(_) => AddressFamily::IPV4,
            Self::V6(_) => AddressFamily::IPV6,
            Self::Other { family, .. } => *family,
        }
    }

    /// The IP address, for families 1 and 2.
    pub fn ip(&self) -> Option<IpAddr> {
        match self {
            Self::V4(a) => Some(IpAddr::V4(*a)),
            Self::V6(a) => Some(IpAddr::V6(*a)),
            Self::Other { .. } => None,
        }
    }
}

impl From<IpAddr> for Address {
    fn from(ip: IpAddr) -> Self {
        match ip {
            IpAddr::V4(a) => Self::V4(a),
            IpAddr::V6(a) => Self::V6(a),
        }
    }
}

impl From<Ipv4Addr> for Address {
    fn from(ip: Ipv4Addr) -> Self {
        Self::V4(ip)
    }
}

impl From<Ipv6Addr> for Address {
    fn from(ip: Ipv6Addr) -> Self {
        Self::V6(ip)
    }
}

impl EncodeValue for Address {
    fn encode_value(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.family().0.to_be_bytes());
        match self {
            Self::V4(a) => out.extend_from_slice(&a.octets()),
            Self::V6(a) => out.extend_from_slice(&a.octets()),
            Self::Other { address, .. } => out.extend_from_slice(address),
        }
    }
}

impl DecodeValue for Address {
    fn decode_value(data: &[u8]) -> Result<Self, ValueError> {
        let (family, address) = match data {
            [a, b, rest @ ..] => (AddressFamily(u16::from_be_bytes([*a, *b])), rest),
            _ => return Err(ValueError::MissingAddressFamily),
        };
        let wrong = ValueError::WrongAddressLength {
            family: family.0,
            found: address.len(),
        };
        match family {
            AddressFamily::IPV4 => Ok(Self::V4(Ipv4Addr::from(
                <[u8; 4]>::try_from(address).map_err(|_| wrong)?,
            ))),
            AddressFamily::IPV6 => Ok(Self::V6(Ipv6Addr::from(
                <[u8; 16]>::try_from(address).map_err(|_| wrong)?,
            ))),
            family => Ok(Self::Other {
                family,
                address: address.to_vec(),
            }),
        }
    }
}

/// Seconds from the NTP epoch (1900-01-01) to the Unix epoch (1970-01-01).
const NTP_UNIX_OFFSET: i64 = 2_208_988_800;
/// 2^32: the length of one NTP era in seconds.
const NTP_ERA: i64 = 1 << 32;

/// The Time type: the first four octets of an NTP timestamp, seconds since
/// 1900-01-01 00:00 UTC. The 32-bit field wraps on 2036-02-07; as RFC 6733 §4.3.1
/// allows (by reference to the SNTP rule of RFC 4330 §3), a value with the top
/// bit clear is read as after 2036, so the type covers 1968-01-20 to 2104-02-26.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default, Debug)]
pub struct DiameterTime(pub u32);

impl DiameterTime {
    /// The time `secs` seconds after the Unix epoch, if in range.
    pub fn from_unix_seconds(secs: i64) -> Option<Self> {
        let ntp = secs.checked_add(NTP_UNIX_OFFSET)?;
        // Era 0 from 1968 (top bit set) through era 1 until 2104 (top bit clear).
        if !(NTP_ERA / 2..NTP_ERA + NTP_ERA / 2).contains(&ntp) {
            return None;
        }
        u32::try_from(ntp.rem_euclid(NTP_ERA)).ok().map(Self)
    }

    /// Seconds since the Unix epoch (negative before 1970).
    pub fn unix_seconds(self) -> i64 {
        let ntp = i64::from(self.0);
        let ntp = if self.0 & 0x8000_0000 != 0 {
            ntp
        } else {
            ntp + NTP_ERA
        };
        ntp - NTP_UNIX_OFFSET
    }

    /// The time, truncated to whole seconds, if in range.
    pub fn from_system_time(t: SystemTime) -> Option<Self> {
        let secs = match t.duration_since(UNIX_EPOCH) {
            Ok(d) => i64::try_from(d.as_secs()).ok()?,
            Err(e) => {
                // Before 1970: round down to the whole second.
                let d = e.duration();
                let whole = i64::try_from(d.as_secs()).ok()?;
                if d.subsec_nanos() > 0 {
                    -whole - 1
                } else {
                    -whole
                }
            }
        };
        Self::from_unix_seconds(secs)
    }

    /// The time as a `SystemTime` (`None` only where the platform cannot represent
    /// it).
    pub fn to_system_time(self) -> Option<SystemTime> {
        let secs = self.unix_seconds();
        let magnitude = Duration::from_secs(secs.unsigned_abs());
        if secs >= 0 {
            UNIX_EPOCH.checked_add(magnitude)
        } else {
            UNIX_EPOCH.checked_sub(magnitude)
        }
    }
}

newtype_value!(DiameterTime);
