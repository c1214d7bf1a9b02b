//! WSP primitive encodings (WAP-230-WSP §8.1.2 and §8.4.2.1) as used by the MMS
//! encapsulation: Short-integer, Long-integer, Integer-value, uintvar,
//! Value-length, Text-string, Quoted-string, Token-text, and the generic rule that
//! finds the extent of any header value.
//!
//! Readers take a `what` naming the structure being read so that errors say where
//! the input went wrong. Writers append to a `Vec<u8>`; those that can meet an
//! unencodable value return [`EncodeError`].

use super::error::{DecodeError, EncodeError};
use super::reader::Reader;

/// `Quote`: precedes a Text-string whose first octet is not plain US-ASCII text.
pub const QUOTE: u8 = 0x7F;
/// `Length-quote`: a Value-length of more than 30 octets follows as a uintvar.
pub const LENGTH_QUOTE: u8 = 0x1F;
/// The octet that opens a Quoted-string (`"`).
pub const QUOTED_STRING: u8 = 0x22;
/// Largest `Short-length`.
pub const MAX_SHORT_LENGTH: usize = 30;

// ----- uintvar ---------------------------------------------------------------

/// Reads a uintvar (WSP §8.1.2): big-endian 7-bit groups, the high bit set on all
/// but the last octet, at most 5 octets and 32 bits.
pub fn read_uintvar(r: &mut Reader<'_>, what: &'static str) -> Result<u32, DecodeError> {
    let mut value: u64 = 0;
    for _ in 0..5 {
        let b = r.u8(what)?;
        value = (value << 7) | u64::from(b & 0x7F);
        if b & 0x80 == 0 {
            return u32::try_from(value).map_err(|_| DecodeError::BadUintvar { what });
        }
    }
    Err(DecodeError::BadUintvar { what })
}

/// Writes a uintvar in its shortest form.
pub fn write_uintvar(out: &mut Vec<u8>, value: u32) {
    let mut groups = [0u8; 5];
    let mut n = 0;
    let mut v = value;
    loop {
        groups[n] = (v & 0x7F) as u8;
        n += 1;
        v >>= 7;
        if v == 0 || n == groups.len() {
            break;
        }
    }
    for i in (0..n).rev() {
        let continuation = if i == 0 { 0 } else { 0x80 };
        out.push(groups[i] | continuation);
    }
}

/// Writes a length as a uintvar, failing above 2^32 - 1.
pub fn write_uintvar_len(
    out: &mut Vec<u8>,
    len: usize,
    what: &'static str,
) -> Result<(), EncodeError> {
    let v = u32::try_from(len).map_err(|_| EncodeError::TooLong { what, length: len })?;
    write_uintvar(out, v);
    Ok(())
}

// ----- integers --------------------------------------------------------------

/// Reads a Short-integer (an octet with the high bit set) and returns its 7-bit
/// value.
pub fn read_short_integer(r: &mut Reader<'_>, what: &'static str) -> Result<u8, DecodeError> {
    let b = r.u8(what)?;
    if b & 0x80 == 0 {
        return Err(DecodeError::UnexpectedOctet { what, octet: b });
    }
    Ok(b & 0x7F)
}

/// Reads a Long-integer: Short-length (1-30) then that many big-endian octets.
/// Values above 64 bits are rejected.
pub fn read_long_integer(r: &mut Reader<'_>, what: &'static str) -> Result<u64, DecodeError> {
    let length = r.u8(what)?;
    if length == 0 || usize::from(length) > MAX_SHORT_LENGTH {
        return Err(DecodeError::BadLongInteger { what, length });
    }
    let bytes = r.take(usize::from(length), what)?;
    let mut value: u64 = 0;
    for &b in bytes {
        if value >> 56 != 0 {
            return Err(DecodeError::IntegerOverflow { what });
        }
        value = (value << 8) | u64::from(b);
    }
    Ok(value)
}

/// Writes a Long-integer with the fewest octets (at least one).
pub fn write_long_integer(out: &mut Vec<u8>, value: u64) {
    let bytes = value.to_be_bytes();
    let skip = bytes
        .iter()
        .take(bytes.len() - 1)
        .take_while(|&&b| b == 0)
        .count();
    let significant = &bytes[skip..];
    out.push(significant.len() as u8);
    out.extend_from_slice(significant);
}

/// Reads an Integer-value: a Short-integer or a Long-integer.
pub fn read_integer_value(r: &mut Reader<'_>, what: &'static str) -> Result<u64, DecodeError> {
    match r.peek(what)? {
        b if b & 0x80 != 0 => {
            r.u8(what)?;
            Ok(u64::from(b & 0x7F))
        }
        1..=30 => read_long_integer(r, what),
        octet => Err(DecodeError::UnexpectedOctet { what, octet }),
    }
}

/// Writes an Integer-value: a Short-integer below 128, else a Long-integer.
pub fn write_integer_value(out: &mut Vec<u8>, value: u64) {
    if value < 0x80 {
        out.push(0x80 | value as u8);
    } else {
        write_long_integer(out, value);
    }
}

// ----- value-length ----------------------------------------------------------

/// Reads a Value-length: a Short-length (0-30), or Length-quote (31) and a uintvar.
pub fn read_value_length(r: &mut Reader<'_>, what: &'static str) -> Result<usize, DecodeError> {
    match r.u8(what)? {
        b @ 0..=30 => Ok(usize::from(b)),
        LENGTH_QUOTE => Ok(read_uintvar(r, what)? as usize),
        octet => Err(DecodeError::UnexpectedOctet { what, octet }),
    }
}

/// Reads a Value-length and returns a reader over exactly the octets it frames.
pub fn read_framed<'a>(r: &mut Reader<'a>, what: &'static str) -> Result<Reader<'a>, DecodeError> {
    let length = read_value_length(r, what)?;
    let available = r.remaining();
    if length > available {
        return Err(DecodeError::ValueLengthOverrun {
            what,
            length,
            available,
        });
    }
    Ok(Reader::new(r.take(length, what)?))
}

/// Writes a Value-length followed by whatever `body` writes. A one-octet
/// placeholder is written first and patched when the body is done; bodies above
/// 30 octets get Length-quote and a uintvar spliced in.
pub fn write_framed(
    out: &mut Vec<u8>,
    what: &'static str,
    body: impl FnOnce(&mut Vec<u8>) -> Result<(), EncodeError>,
) -> Result<(), EncodeError> {
    let mark = out.len();
    out.push(0);
    body(out)?;
    let length = out.len() - mark - 1;
    if length <= MAX_SHORT_LENGTH {
        out[mark] = length as u8;
    } else {
        out[mark] = LENGTH_QUOTE;
        let mut uintvar = Vec::with_capacity(5);
        write_uintvar_len(&mut uintvar, length, what)?;
        out.splice(mark + 1..mark + 1, uintvar);
    }
    Ok(())
}

// ----- text ------------------------------------------------------------------

/// Reads octets up to and including the end-of-string octet and returns them
/// without it (no quote handling).
pub fn read_nul_terminated<'a>(
    r: &mut Reader<'a>,
    what: &'static str,
) -> Result<&'a [u8], DecodeError> {
    let nul = r
        .rest()
        .iter()
        .position(|&b| b == 0)
        .ok_or(DecodeError::Unterminated { what })?;
    let with_nul = r.take(nul + 1, what)?;
    Ok(with_nul.get(..nul).unwrap_or_default())
}

/// Drops one leading Quote octet.
pub fn strip_quote(text: &[u8]) -> &[u8] {
    match text.split_first() {
        Some((&QUOTE, rest)) => rest,
        _ => text,
    }
}

/// Reads a Text-string (`[Quote] *TEXT End-of-string`) and returns its octets.
pub fn read_text_bytes<'a>(
    r: &mut Reader<'a>,
    what: &'static str,
) -> Result<&'a [u8], DecodeError> {
    Ok(strip_quote(read_nul_terminated(r, what)?))
}

/// Reads a Text-string as a `String` (see [`to_text`]).
pub fn read_text_string(r: &mut Reader<'_>, what: &'static str) -> Result<String, DecodeError> {
    Ok(to_text(read_text_bytes(r, what)?))
}

/// Text octets as a `String`: UTF-8 when they are valid UTF-8, else each octet
/// taken as ISO-8859-1 (so a legacy Latin-1 name survives as readable text).
pub fn to_text(bytes: &[u8]) -> String {
    match std::str::from_utf8(bytes) {
        Ok(s) => s.to_owned(),
        Err(_) => bytes.iter().map(|&b| char::from(b)).collect(),
    }
}

/// Writes a Text-string. A Quote octet precedes text whose first octet is not
/// printable US-ASCII (0x20-0x7E), so the value cannot be mistaken for a length,
/// a short-integer or a quote; `quote_dquote` also quotes a leading `"` where a
/// Quoted-string could be read instead (parameter values).
pub fn write_text_bytes(
    out: &mut Vec<u8>,
    text: &[u8],
    quote_dquote: bool,
    what: &'static str,
) -> Result<(), EncodeError> {
    if text.contains(&0) {
        return Err(EncodeError::InteriorNul { what });
    }
    if let Some(&first) = text.first()
        && (!(0x20..QUOTE).contains(&first) || (quote_dquote && first == QUOTED_STRING))
    {
        out.push(QUOTE);
    }
    out.extend_from_slice(text);
    out.push(0);
    Ok(())
}

/// Writes a Text-string from a `str`.
pub fn write_text_string(
    out: &mut Vec<u8>,
    text: &str,
    what: &'static str,
) -> Result<(), EncodeError> {
    write_text_bytes(out, text.as_bytes(), false, what)
}

/// Writes a Quoted-string: `"` then the text and End-of-string.
pub fn write_quoted_string(
    out: &mut Vec<u8>,
    text: &str,
    what: &'static str,
) -> Result<(), EncodeError> {
    if text.as_bytes().contains(&0) {
        return Err(EncodeError::InteriorNul { what });
    }
    out.push(QUOTED_STRING);
    out.extend_from_slice(text.as_bytes());
    out.push(0);
    Ok(())
}

/// Reads a Token-text (a header or parameter name).
pub fn read_token_text(r: &mut Reader<'_>, what: &'static str) -> Result<String, DecodeError> {
    Ok(to_text(read_nul_terminated(r, what)?))
}

/// True for an octet that can start a Token-text: printable US-ASCII other than
/// `"` (which opens a Quoted-string).
pub fn is_token_start(b: u8) -> bool {
    (0x20..QUOTE).contains(&b) && b != QUOTED_STRING
}

/// Writes a Token-text. It must be non-empty and start with printable US-ASCII
/// other than `"`, else it would read back as something else.
pub fn write_token_text(
    out: &mut Vec<u8>,
    token: &str,
    what: &'static str,
) -> Result<(), EncodeError> {
    match token.as_bytes().first() {
        Some(&first) if is_token_start(first) => {}
        _ => {
            return Err(EncodeError::Invalid {
                what,
                reason: "token must start with printable US-ASCII other than '\"'",
            });
        }
    }
    if token.as_bytes().contains(&0) {
        return Err(EncodeError::InteriorNul { what });
    }
    out.extend_from_slice(token.as_bytes());
    out.push(0);
    Ok(())
}

// ----- generic extent ----------------------------------------------------------

/// Reads one header value of any type and returns its encoded octets. WSP makes the
/// extent of every value visible from its first octet (WSP §8.4.1.2): 0-30 a
/// Short-length and that many octets, 31 a uintvar length and that many octets,
/// 32-127 text up to End-of-string, 128-255 a single octet. This is how values of
/// unknown headers are skipped and kept.
pub fn read_raw_value<'a>(r: &mut Reader<'a>, what: &'static str) -> Result<&'a [u8], DecodeError> {
    let start = r.rest();
    let before = r.remaining();
    match r.peek(what)? {
        0..=30 | LENGTH_QUOTE => {
            read_framed(r, what)?;
        }
        32..=127 => {
            read_nul_terminated(r, what)?;
        }
        _ => {
            r.u8(what)?;
        }
    }
    let used = before - r.remaining();
    Ok(start.get(..used).unwrap_or_default())
}

/// True when `raw` is exactly one value by the rule of [`read_raw_value`].
pub fn is_single_raw_value(raw: &[u8]) -> bool {
    let mut r = Reader::new(raw);
    read_raw_value(&mut r, "raw value").is_ok() && r.is_empty()
}
