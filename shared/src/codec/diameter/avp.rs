//! The generic AVP layer (RFC 6733 §4):
//!
//! ```text
//!  AVP code (4)
//!  flags V M P r r r r r (1) | AVP length (3)
//!  [vendor id (4), when V is set]
//!  data, then zero padding to a multiple of 4 (not counted in AVP length)
//! ```
//!
//! An [`Avp`] keeps its data as received, so AVPs this crate does not know — with
//! or without a vendor, grouped or not — are written back byte for byte.

use super::dict::AvpDef;
use super::error::{DecodeError, EncodeError, ValueError};
use super::header::patch_u24;
use super::reader::Reader;
use super::value::{DecodeValue, EncodeValue};

/// An AVP code. Together with the vendor it names the attribute.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct AvpCode(pub u32);

impl core::fmt::Debug for AvpCode {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "AvpCode({})", self.0)
    }
}

impl core::fmt::Display for AvpCode {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "{}", self.0)
    }
}

wire_number! {
    /// An IANA enterprise number in the Vendor-ID field of an AVP or the Vendor-Id,
    /// Supported-Vendor-Id AVPs.
    pub struct VendorId(u32) {
        IETF = 0 => "IETF",
        TGPP = 10415 => "3GPP",
    }
}

/// The AVP flags octet. Reserved bits are kept as received.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct AvpFlags(pub u8);

impl AvpFlags {
    /// V: a Vendor-ID field follows the length.
    pub const VENDOR: Self = Self(0x80);
    /// M: the receiver must understand the AVP or reject the message.
    pub const MANDATORY: Self = Self(0x40);
    /// P: reserved for end-to-end security (historic).
    pub const PROTECTED: Self = Self(0x20);
    pub const NONE: Self = Self(0);

    pub const fn contains(self, other: Self) -> bool {
        self.0 & other.0 == other.0
    }

    pub const fn union(self, other: Self) -> Self {
        Self(self.0 | other.0)
    }

    pub const fn with(self, other: Self, on: bool) -> Self {
        if on {
            Self(self.0 | other.0)
        } else {
            Self(self.0 & !other.0)
        }
    }

    pub const fn is_mandatory(self) -> bool {
        self.contains(Self::MANDATORY)
    }
}

impl core::fmt::Debug for AvpFlags {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "AvpFlags(")?;
        for (flag, c) in [
            (Self::VENDOR, 'V'),
            (Self::MANDATORY, 'M'),
            (Self::PROTECTED, 'P'),
        ] {
            if self.contains(flag) {
                write!(f, "{c}")?;
            }
        }
        write!(f, " {:#04x})", self.0)
    }
}

/// Size of the AVP header without / with the Vendor-ID field.
pub const AVP_HEADER_LEN: usize = 8;
pub const AVP_VENDOR_HEADER_LEN: usize = 12;

/// Zero octets needed after `len` octets of data to reach a multiple of 4.
pub const fn padding(len: usize) -> usize {
    (4 - len % 4) % 4
}

/// One AVP as it is on the wire, data unpadded and uninterpreted.
///
/// Invariant kept by the codec: the V flag is set exactly when `vendor` is
/// `Some`. On encoding, `vendor` decides and the V bit follows it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Avp {
    pub code: AvpCode,
    pub flags: AvpFlags,
    pub vendor: Option<VendorId>,
    pub data: Vec<u8>,
}

impl Avp {
    /// An AVP of the dictionary entry `def` holding `value`.
    pub fn new<T: EncodeValue + ?Sized>(def: &AvpDef, value: &T) -> Self {
        let mut data = Vec::new();
        value.encode_value(&mut data);
        Self {
            code: def.code,
            flags: def.flags(),
            vendor: def.vendor,
            data,
        }
    }

    /// A Grouped AVP of the dictionary entry `def` containing `children`.
    pub fn grouped(def: &AvpDef, children: &[Avp]) -> Result<Self, EncodeError> {
        let mut data = Vec::new();
        for child in children {
            child.encode(&mut data)?;
        }
        Ok(Self {
            code: def.code,
            flags: def.flags(),
            vendor: def.vendor,
            data,
        })
    }

    /// True when this AVP has the code and vendor of `def`.
    pub fn is(&self, def: &AvpDef) -> bool {
        self.code == def.code && self.vendor == def.vendor
    }

    /// The header length this AVP is written with.
    pub fn header_len(&self) -> usize {
        if self.vendor.is_some() {
            AVP_VENDOR_HEADER_LEN
        } else {
            AVP_HEADER_LEN
        }
    }

    /// The AVP Length field: header plus data, padding excluded.
    pub fn length(&self) -> usize {
        self.header_len() + self.data.len()
    }

    /// Interprets the data as a value of type `T`.
    pub fn value<T: DecodeValue>(&self) -> Result<T, ValueError> {
        T::decode_value(&self.data)
    }

    /// Interprets the data as Grouped: the AVPs it contains, which must fill it
    /// exactly. Only this level is parsed; nested Grouped data stays raw.
    pub fn children(&self) -> Result<Vec<Avp>, DecodeError> {
        read_avps(&self.data)
    }

    /// Reads one AVP with its padding.
    pub fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let code = AvpCode(r.u32("AVP header")?);
        let flags = AvpFlags(r.u8("AVP header")?);
        let length = r.u24("AVP header")?;
        let has_vendor = flags.contains(AvpFlags::VENDOR);
        let header_len = if has_vendor {
            AVP_VENDOR_HEADER_LEN
        } else {
            AVP_HEADER_LEN
        };
        let data_len = (length as usize)
            .checked_sub(header_len)
            .ok_or(DecodeError::InvalidAvpLength { code, length })?;
        let vendor = if has_vendor {
            Some(VendorId(r.u32("AVP header")?))
        } else {
            None
        };
        let overrun = |r: &Reader<'_>| DecodeError::AvpOverrun {
            code,
            length,
            available: r.remaining(),
        };
        let data = r.take(data_len, "AVP data").map_err(|_| overrun(r))?;
        let pad = r
            .take(padding(data_len), "AVP padding")
            .map_err(|_| overrun(r))?;
        if pad.iter().any(|b| *b != 0) {
            return Err(DecodeError::NonZeroPadding { code });
        }
        Ok(Self {
            code,
            flags,
            vendor,
            data: data.to_vec(),
        })
    }

    /// Writes the AVP and its padding. On error nothing is written.
    pub fn encode(&self, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        let length = self.length();
        let start = out.len();
        write_header(out, self.code, self.flags, self.vendor);
        out.extend_from_slice(&self.data);
        if let Err(e) = patch_u24(out, start + 5, length, "AVP") {
            out.truncate(start);
            return Err(e);
        }
        out.resize(out.len() + padding(self.data.len()), 0);
        Ok(())
    }
}

/// Reads AVPs until `data` is used up.
pub fn read_avps(data: &[u8]) -> Result<Vec<Avp>, DecodeError> {
    let mut r = Reader::new(data);
    let mut avps = Vec::new();
    while !r.is_empty() {
        avps.push(Avp::read(&mut r)?);
    }
    Ok(avps)
}

/// Writes an AVP header with a zero length, to be patched.
fn write_header(out: &mut Vec<u8>, code: AvpCode, flags: AvpFlags, vendor: Option<VendorId>) {
    out.extend_from_slice(&code.0.to_be_bytes());
    out.push(flags.with(AvpFlags::VENDOR, vendor.is_some()).0);
    out.extend_from_slice(&[0, 0, 0]);
    if let Some(vendor) = vendor {
        out.extend_from_slice(&vendor.0.to_be_bytes());
    }
}

/// Writes AVPs straight into an output buffer: the header goes first with a zero
/// length, the data (or the children of a Grouped AVP) after it, then the length
/// is patched and the padding added.
#[derive(Debug)]
pub struct AvpWriter<'a> {
    out: &'a mut Vec<u8>,
}

impl<'a> AvpWriter<'a> {
    pub fn new(out: &'a mut Vec<u8>) -> Self {
        Self { out }
    }

    /// Writes the AVP `def` holding `value`.
    pub fn put<T: EncodeValue + ?Sized>(
        &mut self,
        def: &AvpDef,
        value: &T,
    ) -> Result<(), EncodeError> {
        self.write_with(def, |out| {
            value.encode_value(out);
            Ok(())
        })
    }

    /// Writes the AVP `def` holding `value` when there is one.
    pub fn put_opt<T: EncodeValue>(
        &mut self,
        def: &AvpDef,
        value: Option<&T>,
    ) -> Result<(), EncodeError> {
        match value {
            Some(v) => self.put(def, v),
            None => Ok(()),
        }
    }

    /// Writes `def` once for each value.
    pub fn put_all<T: EncodeValue>(
        &mut self,
        def: &AvpDef,
        values: &[T],
    ) -> Result<(), EncodeError> {
        values.iter().try_for_each(|v| self.put(def, v))
    }

    /// Writes the Grouped AVP `def`, its children written by `body`.
    pub fn grouped(
        &mut self,
        def: &AvpDef,
        body: impl FnOnce(&mut AvpWriter<'_>) -> Result<(), EncodeError>,
    ) -> Result<(), EncodeError> {
        self.write_with(def, |out| body(&mut AvpWriter { out }))
    }

    /// Writes an AVP exactly as it is (unknown or pre-built AVPs).
    pub fn raw(&mut self, avp: &Avp) -> Result<(), EncodeError> {
        avp.encode(self.out)
    }

    /// Writes AVPs exactly as they are.
    pub fn raw_all(&mut self, avps: &[Avp]) -> Result<(), EncodeError> {
        avps.iter().try_for_each(|a| self.raw(a))
    }

    fn write_with(
        &mut self,
        def: &AvpDef,
        data: impl FnOnce(&mut Vec<u8>) -> Result<(), EncodeError>,
    ) -> Result<(), EncodeError> {
        let start = self.out.len();
        write_header(self.out, def.code, def.flags(), def.vendor);
        let result = data(self.out).and_then(|()| {
            let length = self.out.len().saturating_sub(start);
            patch_u24(self.out, start + 5, length, def.name)?;
            Ok(length)
        });
        match result {
            Ok(length) => {
                let data_len = length.saturating_sub(def.header_len());
                self.out.resize(self.out.len() + padding(data_len), 0);
                Ok(())
            }
            Err(e) => {
                self.out.truncate(start);
                Err(e)
            }
        }
    }
}
