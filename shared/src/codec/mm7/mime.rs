//! SOAP with attachments: the `multipart/related` HTTP body that carries the SOAP
//! envelope and the message content (itself a single part or a `multipart/*`).

use super::Mm7Error;

/// One MIME part: its headers (as received, in order) and its body bytes.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Part {
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Part {
    pub fn new(content_type: &str, content_id: Option<&str>, body: Vec<u8>) -> Self {
        let mut headers = vec![("Content-Type".to_string(), content_type.to_string())];
        if let Some(id) = content_id {
            headers.push(("Content-ID".to_string(), format!("<{id}>")));
        }
        Part { headers, body }
    }
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
    pub fn content_type(&self) -> &str {
        self.header("Content-Type").unwrap_or("text/plain")
    }
    /// `Content-ID` without angle brackets.
    pub fn content_id(&self) -> Option<&str> {
        self.header("Content-ID")
            .map(|v| v.trim().trim_matches(|c| c == '<' || c == '>'))
    }
    pub fn content_location(&self) -> Option<&str> {
        self.header("Content-Location").map(str::trim)
    }
}

/// The value of parameter `name` in a header like `Content-Type`.
pub fn param(value: &str, name: &str) -> Option<String> {
    let mut rest = value.split_once(';')?.1;
    loop {
        let rest_trim = rest.trim_start();
        let (key, after) = rest_trim.split_once('=')?;
        let after = after.trim_start();
        let (val, next) = if let Some(q) = after.strip_prefix('"') {
            let end = q.find('"')?;
            (
                q[..end].to_string(),
                q[end + 1..].split_once(';').map(|x| x.1),
            )
        } else {
            match after.split_once(';') {
                Some((v, n)) => (v.trim().to_string(), Some(n)),
                None => (after.trim().to_string(), None),
            }
        };
        if key.trim().eq_ignore_ascii_case(name) {
            return Some(val);
        }
        rest = next?;
    }
}

/// The media type of a `Content-Type` value, lower case.
pub fn media_type(value: &str) -> String {
    value
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase()
}

fn find(hay: &[u8], needle: &[u8], from: usize) -> Option<usize> {
    if needle.is_empty() || hay.len() < needle.len() {
        return None;
    }
    (from..=hay.len() - needle.len()).find(|&i| &hay[i..i + needle.len()] == needle)
}

/// Splits a multipart body into its parts. Delimiter lines may end in CRLF or LF;
/// the closing delimiter is required (a body cut short is `Truncated`).
pub fn split(body: &[u8], boundary: &str) -> Result<Vec<Part>, Mm7Error> {
    if boundary.is_empty() || boundary.len() > 200 {
        return Err(Mm7Error::Mime("missing or bad boundary parameter".into()));
    }
    let delim = format!("--{boundary}");
    let d = delim.as_bytes();
    // The first delimiter: at the start or after a line break.
    let mut pos = if body.starts_with(d) {
        0
    } else {
        find(body, &[b"\n", d].concat(), 0)
            .map(|p| p + 1)
            .ok_or_else(|| Mm7Error::Mime("no part delimiter found".into()))?
    };
    let mut parts = Vec::new();
    loop {
        let after = pos + d.len();
        if body.get(after..after + 2) == Some(b"--") {
            return if parts.is_empty() {
                Err(Mm7Error::Mime("multipart body without parts".into()))
            } else {
                Ok(parts)
            };
        }
        // Skip the rest of the delimiter line.
        let line_end = find(body, b"\n", after).ok_or(Mm7Error::Truncated)?;
        let start = line_end + 1;
        let next = find(body, &[b"\n", d].concat(), start).ok_or(Mm7Error::Truncated)?;
        let mut end = next;
        if end > start && body[end - 1] == b'\r' {
            end -= 1;
        }
        let content = if next >= start {
            &body[start..end.max(start)]
        } else {
            &[][..]
        };
        parts.push(parse_part(content)?);
        if parts.len() > 100 {
            return Err(Mm7Error::Mime("more than 100 parts".into()));
        }
        pos = next + 1;
    }
}

/// Headers, an empty line, the body.
pub fn parse_part(bytes: &[u8]) -> Result<Part, Mm7Error> {
    let mut headers: Vec<(String, String)> = Vec::new();
    let mut i = 0;
    loop {
        let Some(nl) = find(bytes, b"\n", i) else {
            // Headers only, no body (or no headers and no line break).
            let line = trim_cr(&bytes[i..]);
            if !line.is_empty() {
                push_header(&mut headers, line)?;
            }
            return Ok(Part {
                headers,
                body: Vec::new(),
            });
        };
        let line = trim_cr(&bytes[i..nl]);
        i = nl + 1;
        if line.is_empty() {
            break;
        }
        push_header(&mut headers, line)?;
        if headers.len() > 64 {
            return Err(Mm7Error::Mime("too many part headers".into()));
        }
    }
    Ok(Part {
        headers,
        body: bytes[i..].to_vec(),
    })
}

fn trim_cr(b: &[u8]) -> &[u8] {
    b.strip_suffix(b"\r").unwrap_or(b)
}

fn push_header(headers: &mut Vec<(String, String)>, line: &[u8]) -> Result<(), Mm7Error> {
    let text = String::from_utf8_lossy(line);
    if line.first().is_some_and(|b| *b == b' ' || *b == b'\t') {
        // A folded continuation line.
        let Some(last) = headers.last_mut() else {
            return Err(Mm7Error::Mime(
                "part starts with a continuation line".into(),
            ));
        };
        last.1.push(' ');
        last.1.push_str(text.trim());
        return Ok(());
    }
    let (name, value) = text
        .split_once(':')
        .ok_or_else(|| Mm7Error::Mime(format!("bad part header line {:?}", clip(&text))))?;
    headers.push((name.trim().to_string(), value.trim().to_string()));
    Ok(())
}

fn clip(s: &str) -> String {
    s.chars().take(60).collect()
}

/// Writes a multipart body with `boundary`.
pub fn join(parts: &[Part], boundary: &str) -> Vec<u8> {
    let mut out = Vec::new();
    for p in parts {
        out.extend_from_slice(b"--");
        out.extend_from_slice(boundary.as_bytes());
        out.extend_from_slice(b"\r\n");
        for (n, v) in &p.headers {
            out.extend_from_slice(n.as_bytes());
            out.extend_from_slice(b": ");
            out.extend_from_slice(v.as_bytes());
            out.extend_from_slice(b"\r\n");
        }
        out.extend_from_slice(b"\r\n");
        out.extend_from_slice(&p.body);
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b"--");
    out.extend_from_slice(boundary.as_bytes());
    out.extend_from_slice(b"--\r\n");
    out
}

/// A boundary that occurs in none of the parts.
pub fn boundary_for(parts: &[Part], seed: &str) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in seed.bytes() {
        h = (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3);
    }
    for n in 0u32.. {
        let b = format!("==MM7-{h:016x}-{n}==");
        let needle = b.as_bytes();
        if !parts.iter().any(|p| find(&p.body, needle, 0).is_some()) {
            return b;
        }
    }
    unreachable_boundary()
}

fn unreachable_boundary() -> String {
    // u32 candidates cannot all occur in a bounded body; keep a value for the type.
    "==MM7-fallback==".into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_parameters() {
        let ct = r#"multipart/related; boundary="a b"; type=text/xml;start="<x@y>""#;
        assert_eq!(param(ct, "boundary").as_deref(), Some("a b"));
        assert_eq!(param(ct, "type").as_deref(), Some("text/xml"));
        assert_eq!(param(ct, "START").as_deref(), Some("<x@y>"));
        assert_eq!(param(ct, "charset"), None);
        assert_eq!(media_type(ct), "multipart/related");
    }

    #[test]
    fn splits_and_joins() {
        let parts = vec![
            Part::new("text/xml", Some("soap"), b"<a/>".to_vec()),
            Part::new("text/plain", Some("c1"), b"hello\r\nworld".to_vec()),
        ];
        let b = boundary_for(&parts, "t");
        let body = join(&parts, &b);
        assert_eq!(split(&body, &b).unwrap(), parts);
        // LF line ends and a preamble.
        let lf = format!("preamble\n--{b}\nContent-Type: text/xml\n\n<a/>\n--{b}--\n");
        let got = split(lf.as_bytes(), &b).unwrap();
        assert_eq!(got[0].body, b"<a/>");
    }

    #[test]
    fn refuses_broken_multiparts() {
        assert!(split(b"--b\r\nContent-Type: x\r\n\r\nabc", "b").is_err());
        assert!(split(b"no delimiter", "b").is_err());
        assert!(split(b"--b--\r\n", "b").is_err());
        assert!(split(b"--b\r\nno colon\r\n\r\nx\r\n--b--", "b").is_err());
    }
}
