//! The RFC 5322 layer under every MM4 PDU: finding the header fields and where the
//! content starts, unfolding and quoting values, RFC 2047 text and RFC 5322 dates, and
//! the folding writer `to_bytes` uses.
//!
//! The header block is split here rather than by mail-parser because MM4 peers are
//! sloppy in ways a relay must survive and reproduce exactly: the content may follow
//! the headers without the empty line (the NowSMS training sample does this), and the
//! content bytes must be handed on untouched. mail-parser decodes the values that need
//! it (RFC 2047 text, dates); mail-builder encodes them.

use super::Mm4Error;
use base64::Engine as _;
use mail_builder::headers::Header as _;
use mail_builder::headers::{date::Date, text::Text};
use mail_parser::{DateTime, HeaderName, MessageParser};

/// Longest header line we aim for when folding (RFC 5322 "SHOULD" limit).
const FOLD_AT: usize = 78;
/// Raw bytes of UTF-8 per RFC 2047 "B" word when we encode by hand: 52 base64
/// characters, so `=?utf-8?B?...?=` stays under 75 characters.
const B_WORD_BYTES: usize = 39;

/// One header field as received.
#[derive(Debug, Clone, Copy)]
pub(super) struct Field<'a> {
    /// The field name, trailing blanks removed (ASCII by construction).
    pub name: &'a str,
    /// Everything after the colon up to the end of the field, folding included and
    /// the final line ending excluded.
    pub raw: &'a [u8],
}

impl Field<'_> {
    /// The unfolded value with surrounding blanks removed. Invalid UTF-8 is replaced
    /// and a bare CR (invalid in a header) reads as a space.
    pub fn value(&self) -> String {
        let mut bytes = Vec::with_capacity(self.raw.len());
        let mut iter = self.raw.iter().copied().peekable();
        while let Some(b) = iter.next() {
            match b {
                b'\n' => {}
                b'\r' if iter.peek() == Some(&b'\n') => {}
                b'\r' => bytes.push(b' '),
                other => bytes.push(other),
            }
        }
        String::from_utf8_lossy(&bytes)
            .trim_matches([' ', '\t'])
            .to_string()
    }

    pub fn is(&self, name: &str) -> bool {
        self.name.eq_ignore_ascii_case(name)
    }
}

/// Reads header fields one at a time, so a sniff can stop early.
pub(super) struct HeaderReader<'a> {
    input: &'a [u8],
    pos: usize,
    body_start: Option<usize>,
    seen_field: bool,
}

impl<'a> HeaderReader<'a> {
    pub fn new(input: &'a [u8]) -> Self {
        HeaderReader {
            input,
            pos: 0,
            body_start: None,
            seen_field: false,
        }
    }

    /// The next field, or `None` at the end of the header block (an empty line, a
    /// line that is not a header field, or the end of the input after a complete
    /// line).
    pub fn next_field(&mut self) -> Result<Option<Field<'a>>, Mm4Error> {
        if self.body_start.is_some() {
            return Ok(None);
        }
        let input = self.input;
        if self.pos >= input.len() {
            if !self.seen_field {
                return Err(Mm4Error::NotAMessage("empty input"));
            }
            self.body_start = Some(input.len());
            return Ok(None);
        }
        let (line, mut next, terminated) = line_at(input, self.pos);
        if terminated && line.is_empty() {
            if !self.seen_field {
                return Err(Mm4Error::NotAMessage("starts with an empty line"));
            }
            self.body_start = Some(next);
            return Ok(None);
        }
        let field = field_name(line);
        if field.is_none() && !self.seen_field {
            return Err(Mm4Error::NotAMessage("does not start with a header field"));
        }
        // Every line of the header block ends with a line ending (SMTP `DATA` always
        // does); a last line without one is a header cut short, or content we cannot
        // tell from one.
        if !terminated {
            return Err(Mm4Error::Truncated);
        }
        let Some((name, colon)) = field else {
            // Content that follows the headers without the empty line.
            self.body_start = Some(self.pos);
            return Ok(None);
        };
        let value_start = self.pos + colon + 1;
        let mut value_end = self.pos + line.len();
        while matches!(input.get(next), Some(b' ' | b'\t')) {
            let (cont, after, cont_terminated) = line_at(input, next);
            if !cont_terminated {
                return Err(Mm4Error::Truncated);
            }
            value_end = next + cont.len();
            next = after;
        }
        self.pos = next;
        self.seen_field = true;
        Ok(Some(Field {
            name,
            raw: input.get(value_start..value_end).unwrap_or_default(),
        }))
    }

    /// Every remaining field and the content after the header block.
    pub fn finish(mut self) -> Result<(Vec<Field<'a>>, &'a [u8]), Mm4Error> {
        let mut fields = Vec::new();
        while let Some(field) = self.next_field()? {
            fields.push(field);
        }
        let start = self.body_start.unwrap_or(self.input.len());
        Ok((fields, self.input.get(start..).unwrap_or_default()))
    }
}

/// The line at `pos` without its line ending (LF or CRLF), where the next line starts,
/// and whether the line had an ending at all.
fn line_at(input: &[u8], pos: usize) -> (&[u8], usize, bool) {
    let rest = input.get(pos..).unwrap_or_default();
    match rest.iter().position(|&b| b == b'\n') {
        Some(lf) => {
            let line = rest.get(..lf).unwrap_or_default();
            let line = line.strip_suffix(b"\r").unwrap_or(line);
            (line, pos + lf + 1, true)
        }
        None => (rest, input.len(), false),
    }
}

/// `Some((name, colon index))` when `line` starts a header field: a name of printable
/// ASCII (blanks allowed only before the colon) followed by a colon.
fn field_name(line: &[u8]) -> Option<(&str, usize)> {
    let colon = line.iter().position(|&b| b == b':')?;
    let name = line.get(..colon)?;
    let end = name
        .iter()
        .rposition(|&b| b != b' ' && b != b'\t')
        .map_or(0, |i| i + 1);
    let name = name.get(..end)?;
    if name.is_empty() || !name.iter().all(|&b| (33..=126).contains(&b)) {
        return None;
    }
    Some((std::str::from_utf8(name).ok()?, colon))
}

/// Removes one pair of surrounding double quotes (`"60755231.94578772@mmsc"`).
pub(super) fn unquote(value: &str) -> &str {
    match value.strip_prefix('"').and_then(|v| v.strip_suffix('"')) {
        Some(inner) if value.len() >= 2 => inner,
        _ => value,
    }
}

/// A quoted identifier, as TS 23.140 examples and most peers write them.
pub(super) fn quoted(value: &str) -> String {
    format!("\"{value}\"")
}

/// A token written bare unless reading it back would change it.
pub(super) fn token(value: &str) -> String {
    let needs_quotes = value.is_empty()
        || value.starts_with([' ', '\t'])
        || value.ends_with([' ', '\t'])
        || unquote(value).len() != value.len();
    if needs_quotes {
        quoted(value)
    } else {
        value.to_string()
    }
}

/// Writes `name: value` CRLF, folding long values at blanks. Line breaks inside
/// `value` (which no parsed value has) become spaces so they cannot end the field.
pub(super) fn write_field(out: &mut Vec<u8>, name: &str, value: &str) {
    let value: String = value
        .chars()
        .map(|c| if c == '\r' || c == '\n' { ' ' } else { c })
        .collect();
    let value = value.trim_matches([' ', '\t']);
    out.extend_from_slice(name.as_bytes());
    out.push(b':');
    if value.is_empty() {
        out.extend_from_slice(b"\r\n");
        return;
    }
    out.push(b' ');
    let mut column = name.len() + 2;
    let bytes = value.as_bytes();
    if column + bytes.len() <= FOLD_AT {
        out.extend_from_slice(bytes);
        out.extend_from_slice(b"\r\n");
        return;
    }
    // Fold before a blank that follows a non-blank: unfolding (removing the CRLF)
    // gives back exactly `value`.
    let mut start = 0;
    for i in 1..=bytes.len() {
        let at_break = match (bytes.get(i), bytes.get(i - 1)) {
            (None, _) => true,
            (Some(b' ' | b'\t'), Some(prev)) => *prev != b' ' && *prev != b'\t',
            _ => false,
        };
        if !at_break {
            continue;
        }
        let segment = bytes.get(start..i).unwrap_or_default();
        if start > 0 && column + segment.len() > FOLD_AT {
            out.extend_from_slice(b"\r\n");
            column = 0;
        }
        out.extend_from_slice(segment);
        column += segment.len();
        start = i;
    }
    out.extend_from_slice(b"\r\n");
}

/// Decodes an unstructured header value (RFC 2047 encoded words in any charset mail-parser
/// knows, folding) from its raw bytes.
pub(super) fn decode_text(raw: &[u8]) -> Option<String> {
    let mut message = Vec::with_capacity(raw.len() + 12);
    message.extend_from_slice(b"Subject:");
    message.extend_from_slice(raw);
    message.extend_from_slice(b"\r\n\r\n");
    MessageParser::new()
        .header_text(HeaderName::Subject)
        .parse_headers(&message)
        .and_then(|m| m.subject().map(str::to_string))
}

/// Text that reads back unchanged when written as it is: printable ASCII words
/// separated by single spaces, nothing that looks like an encoded word.
fn is_plain(text: &str) -> bool {
    !text.is_empty()
        && text.bytes().all(|b| b == b' ' || (33..=126).contains(&b))
        && !text.starts_with(' ')
        && !text.ends_with(' ')
        && !text.contains("  ")
        && !text.contains("=?")
}

/// Writes an unstructured text header (`Subject`, `X-Mms-Status-Text`): as it is when
/// plain ASCII, otherwise RFC 2047 encoded by mail-builder. The encoding is checked by
/// decoding it again; text mail-builder cannot express exactly (literal `=?`, leading
/// blanks, line breaks) is written as UTF-8 "B" encoded words by hand.
pub(super) fn write_text_field(out: &mut Vec<u8>, name: &str, text: &str) {
    if text.is_empty() {
        return;
    }
    if is_plain(text) {
        write_field(out, name, text);
        return;
    }
    let mut encoded = Vec::new();
    Text::new(text).write_header(&mut encoded, name.len() + 2);
    let value = encoded.strip_suffix(b"\r\n").unwrap_or(&encoded);
    if decode_text(value).as_deref() == Some(text) {
        out.extend_from_slice(name.as_bytes());
        out.extend_from_slice(b": ");
        out.extend_from_slice(value);
        out.extend_from_slice(b"\r\n");
        return;
    }
    out.extend_from_slice(name.as_bytes());
    out.extend_from_slice(b": ");
    let mut chunk = String::new();
    let mut first = true;
    let mut flush = |chunk: &mut String, out: &mut Vec<u8>| {
        if !first {
            out.extend_from_slice(b"\r\n ");
        }
        first = false;
        out.extend_from_slice(b"=?utf-8?B?");
        out.extend_from_slice(
            base64::engine::general_purpose::STANDARD
                .encode(chunk.as_bytes())
                .as_bytes(),
        );
        out.extend_from_slice(b"?=");
        chunk.clear();
    };
    for c in text.chars() {
        if chunk.len() + c.len_utf8() > B_WORD_BYTES {
            flush(&mut chunk, out);
        }
        chunk.push(c);
    }
    if !chunk.is_empty() {
        flush(&mut chunk, out);
    }
    out.extend_from_slice(b"\r\n");
}

/// An RFC 5322 date (or, from peers that send one, an RFC 3339 timestamp) as unix
/// seconds. Only instants that `format_date` writes back identically are accepted.
pub(super) fn parse_date(value: &str) -> Option<i64> {
    let date = rfc5322_date(value).or_else(|| rfc3339_date(value))?;
    if !date.is_valid() {
        return None;
    }
    let secs = date.to_timestamp();
    let written = rfc5322_date(&format_date(secs))?;
    (written.is_valid() && written.to_timestamp() == secs).then_some(secs)
}

/// Unix seconds as an RFC 5322 date in UTC (mail-builder's formatter).
pub(super) fn format_date(unix_secs: i64) -> String {
    Date::new(unix_secs).to_rfc822()
}

fn rfc5322_date(value: &str) -> Option<DateTime> {
    let message = format!("Date: {value}\r\n\r\n");
    MessageParser::new()
        .parse_headers(message.as_bytes())?
        .date()
        .cloned()
}

/// `YYYY-MM-DD(T| )HH:MM:SS[.fraction](Z|+HH:MM|-HH:MM)`.
fn rfc3339_date(value: &str) -> Option<DateTime> {
    let b = value.as_bytes();
    let num = |range: std::ops::Range<usize>| -> Option<u16> {
        let digits = b.get(range)?;
        if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
            return None;
        }
        std::str::from_utf8(digits).ok()?.parse().ok()
    };
    let sep = |i: usize, allowed: &[u8]| b.get(i).is_some_and(|c| allowed.contains(c));
    if !(sep(4, b"-") && sep(7, b"-") && sep(10, b"Tt ") && sep(13, b":") && sep(16, b":")) {
        return None;
    }
    let mut i = 19;
    if b.get(i) == Some(&b'.') {
        i += 1;
        while b.get(i).is_some_and(u8::is_ascii_digit) {
            i += 1;
        }
    }
    let (tz_before_gmt, tz_hour, tz_minute) = match b.get(i)? {
        b'Z' | b'z' if i + 1 == b.len() => (false, 0, 0),
        sign @ (b'+' | b'-') if i + 6 == b.len() && sep(i + 3, b":") => (
            *sign == b'-',
            u8::try_from(num(i + 1..i + 3)?).ok()?,
            u8::try_from(num(i + 4..i + 6)?).ok()?,
        ),
        _ => return None,
    };
    Some(DateTime {
        year: num(0..4)?,
        month: u8::try_from(num(5..7)?).ok()?,
        day: u8::try_from(num(8..10)?).ok()?,
        hour: u8::try_from(num(11..13)?).ok()?,
        minute: u8::try_from(num(14..16)?).ok()?,
        second: u8::try_from(num(17..19)?).ok()?,
        tz_before_gmt,
        tz_hour,
        tz_minute,
    })
}
