//! MM1 codec: the OMA MMS encapsulation (OMA-TS-MMS_ENC 1.0-1.3,
//! `application/vnd.wap.mms-message`) over WAP WSP binary encodings
//! (WAP-230-WSP). Pure: bytes in, values out, and back; no I/O.
//!
//! Three layers:
//! - WSP primitives ([`wsp`]): integers, uintvar, Value-length, text strings, and
//!   the generic rule that finds the extent of any header value;
//! - values: [`ContentType`], [`EncodedString`] with its [`Charset`], the token
//!   enumerations as open newtypes ([`ResponseStatus`], [`Status`], ...), the
//!   structured values ([`FromValue`], [`TimeValue`], ...), the multipart
//!   [`Body`];
//! - PDUs: [`GenericPdu`] (message type, typed [`Header`]s in order, optional
//!   [`Content`]) that every PDU decodes to, and typed structs for the PDUs an
//!   MMSC exchanges on MM1 ([`MSendReq`], [`MSendConf`], [`MNotificationInd`],
//!   [`MNotifyRespInd`], [`MRetrieveConf`], [`MAcknowledgeInd`],
//!   [`MDeliveryInd`], [`MReadRecInd`], [`MReadOrigInd`], [`MForwardReq`],
//!   [`MForwardConf`]) gathered in [`Pdu`]. MMS 1.3's MMBox, delete and cancel
//!   PDUs decode as [`Pdu::Other`] with typed headers and body.
//!
//! Headers we do not model (unknown field codes, application headers) keep their
//! encoded octets and are written back unchanged; token values we have no name
//! for are kept as their octet. Decoding is strict where the grammar is: lengths
//! must fit, framed values must be consumed exactly, required fields must be
//! present, a multipart body must hold exactly its entries, and `from_bytes`
//! rejects trailing octets. Value-lengths are written as a placeholder patched
//! when the value is done.
//!
//! ```
//! use mmsc_shared::codec::mm1::{Codec, MSendConf, MmsVersion, Pdu, ResponseStatus};
//!
//! let conf = MSendConf::new("tx-1".into(), MmsVersion::V1_2, ResponseStatus::OK)
//!     .with_message_id("msg-1".into());
//! let bytes = conf.to_bytes().unwrap();
//! assert_eq!(&bytes[..3], &[0x8C, 0x81, 0x98]); // Message-Type m-send-conf, Transaction-Id
//! assert_eq!(Pdu::from_bytes(&bytes).unwrap(), Pdu::SendConf(conf));
//! ```

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
        #[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
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
                    Some(n) => write!(f, "{}({:#x} {})", stringify!($name), self.0, n),
                    None => write!(f, "{}({:#x})", stringify!($name), self.0),
                }
            }
        }

        impl core::fmt::Display for $name {
            fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
                match self.name() {
                    Some(n) => f.write_str(n),
                    None => write!(f, "{:#x}", self.0),
                }
            }
        }
    };
}

mod content_type;
mod error;
mod header;
mod multipart;
mod pdu;
pub mod push;
mod reader;
mod text;
mod values;
pub mod wsp;

#[cfg(test)]
mod tests;

pub use content_type::{
    ContentType, MediaType, ParamCode, ParamName, ParamValue, Parameter, WellKnownMedia,
};
pub use error::{DecodeError, EncodeError};
pub use header::{FieldName, Header, HeaderName, Value, ValueKind};
pub use multipart::{Body, Part, PartHeader, PartHeaderName, WspField};
pub use pdu::{
    Codec, Content, FieldValue, GenericPdu, MAcknowledgeInd, MDeliveryInd, MForwardConf,
    MForwardReq, MNotificationInd, MNotifyRespInd, MReadOrigInd, MReadRecInd, MRetrieveConf,
    MSendConf, MSendReq, Pdu,
};
pub use reader::Reader;
pub use text::{Charset, EncodedString};
pub use values::{
    CancelStatus, ClassIdentifier, ContentClass, CountedLocation, ElementDescriptor, FlagOperation,
    FromValue, MboxCount, MboxUnit, MessageClass, MessageType, MmFlags, MmState, MmsAddress,
    MmsVersion, PreviouslySentBy, PreviouslySentDate, Priority, ReadStatus, ReplyCharging,
    ResponseStatus, RetrievalMode, RetrieveStatus, SenderVisibility, Status, StoreStatus,
    TimeValue, YesNo,
};

/// The HTTP content type of MM1 PDUs.
pub const MMS_MESSAGE_CONTENT_TYPE: &str = "application/vnd.wap.mms-message";
