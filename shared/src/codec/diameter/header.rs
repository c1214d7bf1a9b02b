//! The 20-octet message header (RFC 6733 §3):
//!
//! ```text
//!  version (1) | message length (3)
//!  flags   (1) | command code   (3)
//!  application id (4)
//!  hop-by-hop id  (4)
//!  end-to-end id  (4)
//! ```

use super::error::{DecodeError, EncodeError};
use super::reader::Reader;

/// The only Diameter version (RFC 6733 §3).
pub const VERSION: u8 = 1;
/// Size of the message header.
pub const HEADER_LEN: usize = 20;
/// Largest value of a 24-bit length or command code field.
pub const MAX_U24: u32 = 0x00ff_ffff;

wire_number! {
    /// A command code (24 bits). Request and answer share the code; the R flag
    /// tells them apart. Unknown codes are kept as they are.
    pub struct CommandCode(u32) {
        CAPABILITIES_EXCHANGE = 257 => "Capabilities-Exchange",
        RE_AUTH = 258 => "Re-Auth",
        ACCOUNTING = 271 => "Accounting",
        CREDIT_CONTROL = 272 => "Credit-Control",
        ABORT_SESSION = 274 => "Abort-Session",
        SESSION_TERMINATION = 275 => "Session-Termination",
        DEVICE_WATCHDOG = 280 => "Device-Watchdog",
        DISCONNECT_PEER = 282 => "Disconnect-Peer",
    }
}

impl CommandCode {
    pub const CER: Self = Self::CAPABILITIES_EXCHANGE;
    pub const CEA: Self = Self::CAPABILITIES_EXCHANGE;
    pub const DWR: Self = Self::DEVICE_WATCHDOG;
    pub const DWA: Self = Self::DEVICE_WATCHDOG;
    pub const DPR: Self = Self::DISCONNECT_PEER;
    pub const DPA: Self = Self::DISCONNECT_PEER;
    pub const CCR: Self = Self::CREDIT_CONTROL;
    pub const CCA: Self = Self::CREDIT_CONTROL;
    pub const RAR: Self = Self::RE_AUTH;
    pub const RAA: Self = Self::RE_AUTH;
    pub const ASR: Self = Self::ABORT_SESSION;
    pub const ASA: Self = Self::ABORT_SESSION;
    pub const STR: Self = Self::SESSION_TERMINATION;
    pub const STA: Self = Self::SESSION_TERMINATION;
}

wire_number! {
    /// An Application-Id, in the header and in Auth-/Acct-Application-Id AVPs.
    pub struct ApplicationId(u32) {
        COMMON = 0 => "Diameter Common Messages",
        ACCOUNTING = 3 => "Diameter Base Accounting",
        CREDIT_CONTROL = 4 => "Diameter Credit Control",
        RELAY = 0xffff_ffff => "Relay",
    }
}

/// The command flags octet. Reserved bits are kept as received.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct CommandFlags(pub u8);

impl CommandFlags {
    /// R: the message is a request.
    pub const REQUEST: Self = Self(0x80);
    /// P: the message may be proxied, relayed or redirected.
    pub const PROXIABLE: Self = Self(0x40);
    /// E: the answer carries a protocol error (3xxx Result-Code).
    pub const ERROR: Self = Self(0x20);
    /// T: a request possibly retransmitted after a link failover.
    pub const RETRANSMITTED: Self = Self(0x10);
    pub const NONE: Self = Self(0);

    pub const fn contains(self, other: Self) -> bool {
        self.0 & other.0 == other.0
    }

    pub const fn union(self, other: Self) -> Self {
        Self(self.0 | other.0)
    }

    /// `self` with `other` set or cleared.
    pub const fn with(self, other: Self, on: bool) -> Self {
        if on {
            Self(self.0 | other.0)
        } else {
            Self(self.0 & !other.0)
        }
    }

    pub const fn is_request(self) -> bool {
        self.contains(Self::REQUEST)
    }
}

impl core::fmt::Debug for CommandFlags {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        let names = [
            (Self::REQUEST, 'R'),
            (Self::PROXIABLE, 'P'),
            (Self::ERROR, 'E'),
            (Self::RETRANSMITTED, 'T'),
        ];
        write!(f, "CommandFlags(")?;
        for (flag, c) in names {
            if self.contains(flag) {
                write!(f, "{c}")?;
            }
        }
        write!(f, " {:#04x})", self.0)
    }
}

/// The message header without version and length (which the codec derives).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Header {
    pub flags: CommandFlags,
    pub code: CommandCode,
    pub application: ApplicationId,
    pub hop_by_hop: u32,
    pub end_to_end: u32,
}

impl Header {
    pub fn is_request(&self) -> bool {
        self.flags.is_request()
    }

    /// Reads the header; returns it with the Message Length it declares, which is
    /// already checked to be a multiple of 4 and at least [`HEADER_LEN`].
    pub fn read(r: &mut Reader<'_>) -> Result<(Self, u32), DecodeError> {
        let version = r.u8("message header")?;
        if version != VERSION {
            return Err(DecodeError::UnsupportedVersion(version));
        }
        let length = r.u24("message header")?;
        check_message_length(length)?;
        let flags = CommandFlags(r.u8("message header")?);
        let code = CommandCode(r.u24("message header")?);
        let application = ApplicationId(r.u32("message header")?);
        let hop_by_hop = r.u32("message header")?;
        let end_to_end = r.u32("message header")?;
        let header = Self {
            flags,
            code,
            application,
            hop_by_hop,
            end_to_end,
        };
        Ok((header, length))
    }

    /// Writes the header with a zero Message Length, to be patched by
    /// [`patch_message_length`] when the AVPs are written.
    pub(crate) fn write_placeholder(&self, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        if self.code.0 > MAX_U24 {
            return Err(EncodeError::CommandCodeOutOfRange(self.code.0));
        }
        out.push(VERSION);
        out.extend_from_slice(&[0, 0, 0]);
        out.push(self.flags.0);
        out.extend_from_slice(&self.code.0.to_be_bytes()[1..]);
        out.extend_from_slice(&self.application.0.to_be_bytes());
        out.extend_from_slice(&self.hop_by_hop.to_be_bytes());
        out.extend_from_slice(&self.end_to_end.to_be_bytes());
        Ok(())
    }
}

fn check_message_length(length: u32) -> Result<(), DecodeError> {
    if (length as usize) < HEADER_LEN || !length.is_multiple_of(4) {
        return Err(DecodeError::InvalidMessageLength(length));
    }
    Ok(())
}

/// Writes `out.len() - start` into the 24-bit length field at `start + 1`, where a
/// message header placeholder was written.
pub(crate) fn patch_message_length(out: &mut [u8], start: usize) -> Result<(), EncodeError> {
    let length = out.len().saturating_sub(start);
    patch_u24(out, start + 1, length, "message")
}

/// Writes `value` as 24 bits at `at..at + 3`, failing if it does not fit.
pub(crate) fn patch_u24(
    out: &mut [u8],
    at: usize,
    value: usize,
    what: &'static str,
) -> Result<(), EncodeError> {
    let too_long = EncodeError::TooLong {
        what,
        length: value,
    };
    let value = u32::try_from(value)
        .ok()
        .filter(|v| *v <= MAX_U24)
        .ok_or(too_long)?;
    let field = at
        .checked_add(3)
        .and_then(|end| out.get_mut(at..end))
        .ok_or(too_long)?;
    field.copy_from_slice(&value.to_be_bytes()[1..]);
    Ok(())
}

/// For stream framing: the length of the message starting at `prefix`, once at
/// least 4 octets are available (`Ok(None)` before that). Checks the version and
/// that the length is a valid Message Length, so a reader never waits for a
/// nonsensical amount of data.
pub fn frame_length(prefix: &[u8]) -> Result<Option<usize>, DecodeError> {
    let [version, a, b, c] = match prefix {
        [v, a, b, c, ..] => [*v, *a, *b, *c],
        _ => return Ok(None),
    };
    if version != VERSION {
        return Err(DecodeError::UnsupportedVersion(version));
    }
    let length = u32::from_be_bytes([0, a, b, c]);
    check_message_length(length)?;
    Ok(Some(length as usize))
}
