//! Diameter codec for MM9 charging: RFC 6733 base protocol, RFC 4006 credit
//! control and the MMS parts of 3GPP TS 32.299. Pure: bytes in, values out, and
//! back; no I/O.
//!
//! Two layers:
//! - generic: [`Message`] = [`Header`] + [`Avp`]s whose data stays raw. Any
//!   well-formed message, known or not, decodes and re-encodes to the same bytes
//!   (a relay must not drop what it does not understand). [`FindAvp`] finds and
//!   reads AVPs by dictionary entry ([`dict`]) or by (code, vendor).
//! - typed: the [`Command`]s CER/CEA, DWR/DWA, DPR/DPA and CCR/CCA. Their
//!   encoding is canonical (the order of the specifications' ABNF); AVPs they do
//!   not model are kept in `extra` and written back after the known ones.
//!
//! Decoding is strict where the wire format is: version 1, Message Length a
//! multiple of 4 and equal to what follows, AVP Length at least the AVP header,
//! zero padding, exact sizes for fixed-size types, and `from_bytes` rejects
//! trailing bytes. Lengths are written as placeholders and patched afterwards;
//! encoding fails only when a 24-bit length would overflow.

/// An open newtype over a wire number, with named constants and `name()`; values
/// without a name are kept as they are.
macro_rules! wire_number {
    (
        $(#[$meta:meta])*
        pub struct $name:ident($inner:ty) {
            $( $cname:ident = $value:expr => $text:literal, )*
        }
    ) => {
        $(#[$meta])*
        #[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
        pub struct $name(pub $inner);

        impl $name {
            $(
                #[doc = concat!("`", $text, "`")]
                pub const $cname: Self = Self($value);
            )*

            /// The specification's name for this value, if it has one here.
            pub fn name(self) -> Option<&'static str> {
                $( if self.0 == $value { return Some($text); } )*
                None
            }
        }

        impl core::fmt::Debug for $name {
            fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
                match self.name() {
                    Some(n) => write!(f, "{}({} {})", stringify!($name), self.0, n),
                    None => write!(f, "{}({})", stringify!($name), self.0),
                }
            }
        }

        impl core::fmt::Display for $name {
            fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
                match self.name() {
                    Some(n) => write!(f, "{} ({})", n, self.0),
                    None => write!(f, "{}", self.0),
                }
            }
        }
    };
}

mod avp;
mod base;
mod credit_control;
pub mod dict;
mod enums;
mod error;
mod header;
mod message;
mod reader;
mod tgpp;
mod value;

#[cfg(test)]
mod tests;

pub use avp::{
    AVP_HEADER_LEN, AVP_VENDOR_HEADER_LEN, Avp, AvpCode, AvpFlags, AvpWriter, VendorId, padding,
    read_avps,
};
pub use base::{
    Capabilities, CapabilitiesExchangeAnswer, CapabilitiesExchangeRequest, DeviceWatchdogAnswer,
    DeviceWatchdogRequest, DisconnectPeerAnswer, DisconnectPeerRequest, ExperimentalResult,
    VendorSpecificApplicationId,
};
pub use credit_control::{
    CcMoney, CostInformation, CreditControlAnswer, CreditControlRequest, MMS_SERVICE_CONTEXT_ID,
    MoneyError, MultipleServicesCreditControl, ServiceUnit, SubscriptionId, UnitValue,
};
pub use dict::{AvpDef, AvpType};
pub use enums::{
    AddressType, AddresseeType, CcRequestType, ClassIdentifier, CreditControlFailureHandling,
    DirectDebitingFailureHandling, DisconnectCause, InbandSecurityId, MessageType,
    MultipleServicesIndicator, Priority, ReportRequested, RequestedAction, ResultClass, ResultCode,
    SubscriptionIdType, TerminationCause, TypeNumber,
};
pub use error::{DecodeError, EncodeError, ValueError};
pub use header::{
    ApplicationId, CommandCode, CommandFlags, HEADER_LEN, Header, MAX_U24, VERSION, frame_length,
};
pub use message::{Command, Fields, FindAvp, GroupedValue, Message, encode_message};
pub use reader::Reader;
pub use tgpp::{
    MessageClass, MmContentType, MmsAddress, MmsInformation, MsTimeZone, ServiceInformation,
};
pub use value::{Address, AddressFamily, DecodeValue, DiameterTime, EncodeValue};
