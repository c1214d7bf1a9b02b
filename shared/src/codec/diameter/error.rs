//! Decode and encode errors. All of them are small and `Copy`, and say where the
//! problem is (the AVP code or dictionary name, the structure being read).

use super::avp::AvpCode;
use super::header::{ApplicationId, CommandCode};

/// Why the data of one AVP does not hold a value of the expected type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ValueError {
    /// A fixed-size type (Unsigned32, Time, ...) with the wrong number of octets.
    #[error("expected {expected} octets of data, found {found}")]
    WrongLength { expected: usize, found: usize },
    /// UTF8String, DiameterIdentity or DiameterURI that is not valid UTF-8.
    #[error("not valid UTF-8")]
    InvalidUtf8,
    /// An Address shorter than its 2-octet address family.
    #[error("Address shorter than its 2-octet family")]
    MissingAddressFamily,
    /// An IPv4 (family 1) or IPv6 (family 2) Address of the wrong size.
    #[error("Address of family {family} has {found} octets of address")]
    WrongAddressLength { family: u16, found: usize },
}

/// Why bytes did not decode as a Diameter message, an AVP or a typed command.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    /// The input ends before `what` is complete.
    #[error("truncated {what}: needs {needed} octets, {available} available")]
    Truncated {
        what: &'static str,
        needed: usize,
        available: usize,
    },
    /// The version octet is not 1.
    #[error("unsupported Diameter version {0}")]
    UnsupportedVersion(u8),
    /// The Message Length is below the 20-octet header or not a multiple of 4.
    #[error("invalid message length {0}")]
    InvalidMessageLength(u32),
    /// The AVP Length is smaller than the AVP header (8, or 12 with a Vendor-Id).
    #[error("AVP {code} has invalid length {length}")]
    InvalidAvpLength { code: AvpCode, length: u32 },
    /// The AVP (with its padding) runs past the end of the message or grouped AVP
    /// that contains it.
    #[error("AVP {code} of length {length} overruns its container ({available} octets left)")]
    AvpOverrun {
        code: AvpCode,
        length: u32,
        available: usize,
    },
    /// Padding octets after the AVP data are not zero.
    #[error("AVP {code} has non-zero padding")]
    NonZeroPadding { code: AvpCode },
    /// `from_bytes` found data after the end of the message.
    #[error("{count} trailing octets after the message")]
    TrailingBytes { count: usize },
    /// A required AVP is absent (dictionary name).
    #[error("missing AVP {0}")]
    MissingAvp(&'static str),
    /// An AVP that may occur at most once occurs again (dictionary name).
    #[error("AVP {0} occurs more than once")]
    DuplicateAvp(&'static str),
    /// An AVP's data does not hold a value of its type (dictionary name).
    #[error("invalid AVP {avp}: {problem}")]
    InvalidAvp {
        avp: &'static str,
        problem: ValueError,
    },
    /// A typed decoder was given another command.
    #[error("expected command {expected}, found {found}")]
    UnexpectedCommand {
        expected: CommandCode,
        found: CommandCode,
    },
    /// A typed decoder for a request was given an answer, or the other way round.
    #[error("command {code}: expected {}", if *.expected_request { "a request" } else { "an answer" })]
    UnexpectedDirection {
        code: CommandCode,
        expected_request: bool,
    },
    /// A typed decoder was given its command under another Application-Id.
    #[error("expected application {expected}, found {found}")]
    UnexpectedApplication {
        expected: ApplicationId,
        found: ApplicationId,
    },
}

/// Why a message could not be encoded: a 24-bit field would overflow.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum EncodeError {
    /// An AVP or message longer than the 24-bit length field allows (16 MiB - 1).
    #[error("{what} of {length} octets exceeds the 24-bit length field")]
    TooLong { what: &'static str, length: usize },
    /// A command code above 2^24 - 1.
    #[error("command code {0} does not fit in 24 bits")]
    CommandCodeOutOfRange(u32),
}
