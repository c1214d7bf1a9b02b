//! The generic message layer and the helpers the typed commands are built on.

use super::avp::{Avp, AvpCode, AvpWriter, VendorId, read_avps};
use super::dict::{AvpDef, lookup};
use super::error::{DecodeError, EncodeError};
use super::header::{
    ApplicationId, CommandCode, CommandFlags, HEADER_LEN, Header, patch_message_length,
};
use super::reader::Reader;
use super::value::DecodeValue;

/// Any Diameter message: the header and its AVPs as received. Decoding then
/// encoding gives back the same bytes, whatever the command and AVPs.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct Message {
    pub header: Header,
    pub avps: Vec<Avp>,
}

impl Message {
    /// Reads one message from the reader; the reader may hold more after it.
    /// After an error the reader's position is unspecified: frame a stream with
    /// [`frame_length`](super::frame_length) and decode whole messages.
    pub fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let available = r.remaining();
        let (header, length) = Header::read(r)?;
        let body_len = (length as usize).saturating_sub(HEADER_LEN);
        let body = r
            .take(body_len, "message")
            .map_err(|_| DecodeError::Truncated {
                what: "message",
                needed: length as usize,
                available,
            })?;
        Ok(Self {
            header,
            avps: read_avps(body)?,
        })
    }

    /// Decodes exactly one message: bytes after it are an error.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, DecodeError> {
        let mut r = Reader::new(bytes);
        let message = Self::read(&mut r)?;
        r.expect_end()?;
        Ok(message)
    }

    /// Appends the encoded message to `out`. On error `out` is left as it was.
    pub fn encode(&self, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        encode_message(out, &self.header, |w| w.raw_all(&self.avps))
    }

    pub fn to_bytes(&self) -> Result<Vec<u8>, EncodeError> {
        let mut out = Vec::new();
        self.encode(&mut out)?;
        Ok(out)
    }
}

/// Writes a header with a placeholder length, the AVPs written by `body`, then
/// patches the Message Length. On error `out` is truncated back.
pub fn encode_message(
    out: &mut Vec<u8>,
    header: &Header,
    body: impl FnOnce(&mut AvpWriter<'_>) -> Result<(), EncodeError>,
) -> Result<(), EncodeError> {
    let start = out.len();
    let result = header
        .write_placeholder(out)
        .and_then(|()| body(&mut AvpWriter::new(out)))
        .and_then(|()| patch_message_length(out, start));
    if result.is_err() {
        out.truncate(start);
    }
    result
}

/// Finding and reading AVPs in a list (a message's AVPs or a Grouped AVP's
/// children) by dictionary entry or by (code, vendor).
pub trait FindAvp {
    fn avp_list(&self) -> &[Avp];

    /// The first AVP with this code and vendor.
    fn find_by(&self, code: AvpCode, vendor: Option<VendorId>) -> Option<&Avp> {
        self.avp_list()
            .iter()
            .find(|a| a.code == code && a.vendor == vendor)
    }

    /// The value of the first AVP with this code and vendor, if present; errors
    /// carry the dictionary name when there is one.
    fn get_by<T: DecodeValue>(
        &self,
        code: AvpCode,
        vendor: Option<VendorId>,
    ) -> Result<Option<T>, DecodeError> {
        let name = || lookup(code, vendor).map_or("unknown AVP", |d| d.name);
        self.find_by(code, vendor)
            .map(|a| {
                a.value().map_err(|problem| DecodeError::InvalidAvp {
                    avp: name(),
                    problem,
                })
            })
            .transpose()
    }

    /// The first AVP of dictionary entry `def`.
    fn find(&self, def: &AvpDef) -> Option<&Avp> {
        self.avp_list().iter().find(|a| a.is(def))
    }

    /// Every AVP of dictionary entry `def`, in order.
    fn find_all<'a>(&'a self, def: &'a AvpDef) -> impl Iterator<Item = &'a Avp> + 'a {
        self.avp_list().iter().filter(move |a| a.is(def))
    }

    /// The value of the first `def`, if present.
    fn get<T: DecodeValue>(&self, def: &AvpDef) -> Result<Option<T>, DecodeError> {
        self.find(def).map(|a| read_value(def, a)).transpose()
    }

    /// The value of the first `def`; [`DecodeError::MissingAvp`] if absent.
    fn require<T: DecodeValue>(&self, def: &AvpDef) -> Result<T, DecodeError> {
        self.get(def)?.ok_or(DecodeError::MissingAvp(def.name))
    }

    /// The values of every `def`.
    fn get_all<T: DecodeValue>(&self, def: &AvpDef) -> Result<Vec<T>, DecodeError> {
        self.find_all(def).map(|a| read_value(def, a)).collect()
    }
}

impl FindAvp for [Avp] {
    fn avp_list(&self) -> &[Avp] {
        self
    }
}

impl FindAvp for Vec<Avp> {
    fn avp_list(&self) -> &[Avp] {
        self
    }
}

impl FindAvp for Message {
    fn avp_list(&self) -> &[Avp] {
        &self.avps
    }
}

fn read_value<T: DecodeValue>(def: &AvpDef, avp: &Avp) -> Result<T, DecodeError> {
    avp.value().map_err(|problem| DecodeError::InvalidAvp {
        avp: def.name,
        problem,
    })
}

/// A Grouped AVP with a typed form. The same type may serve several AVP codes
/// (Requested-/Used-/Granted-Service-Unit share one layout).
pub trait GroupedValue: Sized {
    /// Writes the children, in the order of the specification's ABNF.
    fn encode_children(&self, w: &mut AvpWriter<'_>) -> Result<(), EncodeError>;
    /// Reads the children; what is not taken stays for `*[AVP]`.
    fn decode_children(f: &mut Fields<'_>) -> Result<Self, DecodeError>;
}

impl AvpWriter<'_> {
    /// Writes the Grouped AVP `def` with a typed value.
    pub fn group<G: GroupedValue>(&mut self, def: &AvpDef, value: &G) -> Result<(), EncodeError> {
        self.grouped(def, |w| value.encode_children(w))
    }

    pub fn group_opt<G: GroupedValue>(
        &mut self,
        def: &AvpDef,
        value: Option<&G>,
    ) -> Result<(), EncodeError> {
        value.map_or(Ok(()), |v| self.group(def, v))
    }

    pub fn group_all<G: GroupedValue>(
        &mut self,
        def: &AvpDef,
        values: &[G],
    ) -> Result<(), EncodeError> {
        values.iter().try_for_each(|v| self.group(def, v))
    }
}

/// Takes AVPs out of a list by dictionary entry; whatever is left at the end is the
/// `*[AVP]` extension part, kept for re-encoding.
#[derive(Debug)]
pub struct Fields<'a> {
    avps: &'a [Avp],
    taken: Vec<bool>,
}

impl<'a> Fields<'a> {
    pub fn new(avps: &'a [Avp]) -> Self {
        Self {
            avps,
            taken: vec![false; avps.len()],
        }
    }

    fn take_matching(&mut self, def: &AvpDef) -> Vec<&'a Avp> {
        let avps = self.avps;
        avps.iter()
            .zip(self.taken.iter_mut())
            .filter(|(a, taken)| !**taken && a.is(def))
            .map(|(a, taken)| {
                *taken = true;
                a
            })
            .collect()
    }

    fn take_one(&mut self, def: &AvpDef) -> Result<Option<&'a Avp>, DecodeError> {
        match self.take_matching(def).as_slice() {
            [] => Ok(None),
            [one] => Ok(Some(one)),
            _ => Err(DecodeError::DuplicateAvp(def.name)),
        }
    }

    /// The value of `def`, which may occur at most once.
    pub fn optional<T: DecodeValue>(&mut self, def: &AvpDef) -> Result<Option<T>, DecodeError> {
        self.take_one(def)?.map(|a| read_value(def, a)).transpose()
    }

    /// The value of `def`, which must occur exactly once.
    pub fn required<T: DecodeValue>(&mut self, def: &AvpDef) -> Result<T, DecodeError> {
        self.optional(def)?.ok_or(DecodeError::MissingAvp(def.name))
    }

    /// The values of every `def`.
    pub fn all<T: DecodeValue>(&mut self, def: &AvpDef) -> Result<Vec<T>, DecodeError> {
        self.take_matching(def)
            .into_iter()
            .map(|a| read_value(def, a))
            .collect()
    }

    /// The typed Grouped `def`, which may occur at most once.
    pub fn optional_group<G: GroupedValue>(
        &mut self,
        def: &AvpDef,
    ) -> Result<Option<G>, DecodeError> {
        self.take_one(def)?.map(decode_group).transpose()
    }

    /// The typed Grouped `def`, which must occur exactly once.
    pub fn required_group<G: GroupedValue>(&mut self, def: &AvpDef) -> Result<G, DecodeError> {
        self.optional_group(def)?
            .ok_or(DecodeError::MissingAvp(def.name))
    }

    /// Every typed Grouped `def`.
    pub fn all_groups<G: GroupedValue>(&mut self, def: &AvpDef) -> Result<Vec<G>, DecodeError> {
        self.take_matching(def)
            .into_iter()
            .map(decode_group)
            .collect()
    }

    /// The children of every Grouped `def`, untyped (Failed-AVP, Proxy-Info).
    pub fn all_raw_groups(&mut self, def: &AvpDef) -> Result<Vec<Vec<Avp>>, DecodeError> {
        self.take_matching(def)
            .into_iter()
            .map(Avp::children)
            .collect()
    }

    /// Takes the AVPs nobody took, in their original order (the `*[AVP]` part).
    /// Call it last.
    pub fn rest(&mut self) -> Vec<Avp> {
        let avps = self.avps;
        avps.iter()
            .zip(self.taken.iter_mut())
            .filter(|(_, taken)| !**taken)
            .map(|(a, taken)| {
                *taken = true;
                a.clone()
            })
            .collect()
    }
}

fn decode_group<G: GroupedValue>(avp: &Avp) -> Result<G, DecodeError> {
    let children = avp.children()?;
    let mut fields = Fields::new(&children);
    G::decode_children(&mut fields)
}

/// A typed command: a request or an answer of one command code.
pub trait Command: Sized {
    const CODE: CommandCode;
    const REQUEST: bool;
    const APPLICATION: ApplicationId;
    /// Whether the P flag is set (CCR/CCA yes; CER, DWR, DPR and answers no).
    const PROXIABLE: bool;

    /// Hop-by-Hop and End-to-End identifiers.
    fn ids(&self) -> (u32, u32);

    /// Flags beyond R and P: E for answers with a 3xxx Result-Code, T for a
    /// retransmitted request.
    fn extra_flags(&self) -> CommandFlags {
        CommandFlags::NONE
    }

    fn encode_avps(&self, w: &mut AvpWriter<'_>) -> Result<(), EncodeError>;

    /// Builds the command from the (already checked) header and the AVPs.
    fn decode_avps(header: &Header, f: &mut Fields<'_>) -> Result<Self, DecodeError>;

    fn header(&self) -> Header {
        let (hop_by_hop, end_to_end) = self.ids();
        let flags = self
            .extra_flags()
            .with(CommandFlags::REQUEST, Self::REQUEST)
            .with(CommandFlags::PROXIABLE, Self::PROXIABLE);
        Header {
            flags,
            code: Self::CODE,
            application: Self::APPLICATION,
            hop_by_hop,
            end_to_end,
        }
    }

    fn encode(&self, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        encode_message(out, &self.header(), |w| self.encode_avps(w))
    }

    fn to_bytes(&self) -> Result<Vec<u8>, EncodeError> {
        let mut out = Vec::new();
        self.encode(&mut out)?;
        Ok(out)
    }

    /// Reads the command from a generic message, checking code, R flag and
    /// application.
    fn from_message(m: &Message) -> Result<Self, DecodeError> {
        let h = &m.header;
        if h.code != Self::CODE {
            return Err(DecodeError::UnexpectedCommand {
                expected: Self::CODE,
                found: h.code,
            });
        }
        if h.is_request() != Self::REQUEST {
            return Err(DecodeError::UnexpectedDirection {
                code: h.code,
                expected_request: Self::REQUEST,
            });
        }
        if h.application != Self::APPLICATION {
            return Err(DecodeError::UnexpectedApplication {
                expected: Self::APPLICATION,
                found: h.application,
            });
        }
        let mut fields = Fields::new(&m.avps);
        Self::decode_avps(h, &mut fields)
    }

    /// Decodes exactly one message of this command.
    fn from_bytes(bytes: &[u8]) -> Result<Self, DecodeError> {
        Self::from_message(&Message::from_bytes(bytes)?)
    }
}
