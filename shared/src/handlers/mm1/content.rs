//! Message content between its two wire forms: the WSP multipart of MM1
//! (`application/vnd.wap.multipart.related`, OMA-TS-MMS_ENC) and the MIME
//! multipart of MM4 (`multipart/related`, TS 23.140 §8.4). Pure functions over a
//! neutral list of parts; part bytes are never changed here.

use crate::codec::mm1::{
    Body, Charset, ContentType, ParamCode, ParamName, ParamValue, Part, WellKnownMedia,
};
use base64::Engine;

/// One body part: its media type (lower case), MIME-style parameters, ids and bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MmsPart {
    pub media: String,
    /// `(name, value)` in MIME terms: `charset` by name (`utf-8`), `name`, ...
    pub params: Vec<(String, String)>,
    /// Without angle brackets.
    pub content_id: Option<String>,
    pub content_location: Option<String>,
    pub data: Vec<u8>,
}

impl MmsPart {
    pub fn param(&self, name: &str) -> Option<&str> {
        self.params
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// A message's content: multipart/related (with the root's type and `start`) or
/// multipart/mixed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MmsContent {
    pub related: bool,
    /// `type` of multipart/related.
    pub root_type: Option<String>,
    /// `start` of multipart/related, without angle brackets.
    pub start: Option<String>,
    pub parts: Vec<MmsPart>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ContentError {
    #[error("content is not a MIME entity mail-parser can read")]
    Mime,
}

fn strip_angle(s: &str) -> String {
    s.trim()
        .trim_start_matches('<')
        .trim_end_matches('>')
        .to_string()
}

/// Known charsets by name.
const CHARSETS: &[Charset] = &[
    Charset::US_ASCII,
    Charset::ISO_8859_1,
    Charset::ISO_8859_2,
    Charset::SHIFT_JIS,
    Charset::UTF_8,
    Charset::UCS_2,
    Charset::UTF_16BE,
    Charset::UTF_16LE,
    Charset::UTF_16,
    Charset::GB2312,
    Charset::BIG5,
];

fn charset_by_name(name: &str) -> Option<Charset> {
    let n = name.trim().trim_matches('"');
    if n.eq_ignore_ascii_case("utf8") {
        return Some(Charset::UTF_8);
    }
    CHARSETS
        .iter()
        .copied()
        .find(|c| c.name().is_some_and(|cn| cn.eq_ignore_ascii_case(n)))
}

fn wsp_params(ct: &ContentType) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for p in &ct.params {
        let value = match &p.value {
            ParamValue::Text(s) | ParamValue::Quoted(s) => s.clone(),
            ParamValue::Integer(v) => v.to_string(),
            ParamValue::Q(_) => continue,
        };
        match &p.name {
            ParamName::WellKnown(ParamCode::CHARSET) => {
                let name = p
                    .value
                    .as_integer()
                    .and_then(|v| u32::try_from(v).ok())
                    .and_then(|v| Charset(v).name());
                if let Some(n) = name {
                    out.push(("charset".into(), n.to_ascii_lowercase()));
                }
            }
            ParamName::WellKnown(ParamCode::NAME_V1_1 | ParamCode::NAME) => {
                out.push(("name".into(), value))
            }
            ParamName::WellKnown(ParamCode::FILENAME_V1_1 | ParamCode::FILENAME) => {
                out.push(("filename".into(), value))
            }
            ParamName::WellKnown(_) => {}
            ParamName::Token(t) => out.push((t.to_ascii_lowercase(), value)),
        }
    }
    out
}

/// The neutral form of an MM1 body.
pub fn from_wsp(ct: &ContentType, body: &Body) -> MmsContent {
    match body {
        Body::Multipart(parts) => MmsContent {
            related: ct
                .media
                .is(WellKnownMedia::MULTIPART_RELATED.name().unwrap_or_default()),
            root_type: ct.related_type(),
            start: ct.start().map(strip_angle),
            parts: parts
                .iter()
                .map(|p| MmsPart {
                    media: p.content_type.media.name().to_ascii_lowercase(),
                    params: wsp_params(&p.content_type),
                    content_id: p.content_id().map(strip_angle),
                    content_location: p.content_location().map(str::to_string),
                    data: p.data.clone(),
                })
                .collect(),
        },
        Body::Single(data) => MmsContent {
            related: false,
            root_type: None,
            start: None,
            parts: vec![MmsPart {
                media: ct.media.name().to_ascii_lowercase(),
                params: wsp_params(ct),
                content_id: None,
                content_location: None,
                data: data.clone(),
            }],
        },
    }
}

fn part_content_type(p: &MmsPart) -> ContentType {
    let mut ct = ContentType::new(&p.media);
    for (n, v) in &p.params {
        if n.eq_ignore_ascii_case("charset") {
            match charset_by_name(v) {
                Some(c) => ct = ct.with_charset(c),
                None => {
                    ct = ct.with_param_token("charset", v);
                }
            }
        } else if n.eq_ignore_ascii_case("name") {
            ct = ct.with_name(v);
        } else if !v.is_empty() && !n.is_empty() {
            ct = ct.with_param_token(n, v);
        }
    }
    ct
}

trait TokenParam {
    fn with_param_token(self, name: &str, value: &str) -> Self;
}

impl TokenParam for ContentType {
    fn with_param_token(mut self, name: &str, value: &str) -> Self {
        self.params.push(crate::codec::mm1::Parameter {
            name: ParamName::Token(name.to_string()),
            value: ParamValue::Text(value.to_string()),
        });
        self
    }
}

/// The MM1 form: `application/vnd.wap.multipart.related` (with `type` and `start`)
/// or `.mixed`, every part with its Content-ID and Content-Location.
pub fn to_wsp(c: &MmsContent) -> (ContentType, Body) {
    let ct = match (c.related, &c.root_type, &c.start) {
        (true, Some(t), Some(s)) => ContentType::multipart_related(t, &format!("<{s}>")),
        (true, Some(t), None) => ContentType::well_known(WellKnownMedia::MULTIPART_RELATED)
            .with_param(ParamCode::TYPE_RELATED, ParamValue::Text(t.clone())),
        (true, None, _) => ContentType::well_known(WellKnownMedia::MULTIPART_RELATED),
        (false, _, _) => ContentType::multipart_mixed(),
    };
    let parts = c
        .parts
        .iter()
        .map(|p| {
            let mut part = Part::new(part_content_type(p), p.data.clone());
            if let Some(id) = &p.content_id {
                part = part.with_content_id(&format!("<{id}>"));
            }
            if let Some(loc) = &p.content_location {
                part = part.with_content_location(loc);
            }
            part
        })
        .collect();
    (ct, Body::Multipart(parts))
}

/// The neutral form of MM4 content: `entity` is the content as a MIME entity of its
/// own (`ForwardReq::content_entity`).
pub fn from_mime(entity: &[u8]) -> Result<MmsContent, ContentError> {
    use mail_parser::{MessageParser, MimeHeaders, PartType};
    let repaired = repair_part_headers(entity);
    let msg = MessageParser::default()
        .parse(&repaired)
        .ok_or(ContentError::Mime)?;
    let root = msg.parts.first().ok_or(ContentError::Mime)?;
    let root_ct = root.content_type();
    let is_multi = matches!(root.body, PartType::Multipart(_));
    let related = is_multi
        && root_ct
            .and_then(|c| c.subtype())
            .is_some_and(|s| s.eq_ignore_ascii_case("related"));
    let root_type = root_ct
        .and_then(|c| c.attribute("type"))
        .map(str::to_string);
    let start = root_ct.and_then(|c| c.attribute("start")).map(strip_angle);
    let mut parts = Vec::new();
    let mut leaves = Vec::new();
    collect_leaves(&msg, 0, &mut leaves, 0);
    for id in leaves {
        let Some(p) = msg.parts.get(id) else { continue };
        let ct = p.content_type();
        let media = match ct {
            Some(c) => match c.subtype() {
                Some(s) => format!("{}/{}", c.ctype(), s).to_ascii_lowercase(),
                None => c.ctype().to_ascii_lowercase(),
            },
            None => "text/plain".into(),
        };
        let is_text = matches!(p.body, PartType::Text(_) | PartType::Html(_));
        let mut params: Vec<(String, String)> = ct
            .and_then(|c| c.attributes())
            .unwrap_or_default()
            .iter()
            .filter(|a| !(is_text && a.name.eq_ignore_ascii_case("charset")))
            .map(|a| (a.name.to_ascii_lowercase(), a.value.to_string()))
            .collect();
        let data = match &p.body {
            // mail-parser hands text over decoded to UTF-8.
            PartType::Text(t) | PartType::Html(t) => {
                params.insert(0, ("charset".into(), "utf-8".into()));
                t.as_bytes().to_vec()
            }
            PartType::Binary(b) | PartType::InlineBinary(b) => b.to_vec(),
            PartType::Message(m) => m.raw_message().to_vec(),
            PartType::Multipart(_) => continue,
        };
        if let Some(name) = p.attachment_name()
            && !params.iter().any(|(n, _)| n == "name")
        {
            params.push(("name".into(), name.to_string()));
        }
        parts.push(MmsPart {
            media,
            params,
            content_id: p.content_id().map(strip_angle),
            content_location: p.content_location().map(str::to_string),
            data,
        });
    }
    Ok(MmsContent {
        related,
        root_type,
        start,
        parts,
    })
}

/// Inserts the empty line some senders leave out between a body part's headers
/// and its content (the NowSMS MM4 sample does): after a boundary line, the first
/// line that is neither a header nor a header continuation starts the content.
fn repair_part_headers(entity: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(entity.len() + 64);
    let mut in_part_headers = false;
    for line in entity.split_inclusive(|&b| b == b'\n') {
        let text = line.strip_suffix(b"\n").unwrap_or(line);
        let text = text.strip_suffix(b"\r").unwrap_or(text);
        if text.starts_with(b"--") {
            in_part_headers = !text.ends_with(b"--");
            out.extend_from_slice(line);
            continue;
        }
        if in_part_headers {
            let is_header = text.first().is_some_and(|&b| b == b' ' || b == b'\t')
                || text.iter().position(|&b| b == b':').is_some_and(|i| {
                    i > 0
                        && text[..i]
                            .iter()
                            .all(|&b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
                });
            if text.is_empty() {
                in_part_headers = false;
            } else if !is_header {
                out.extend_from_slice(b"\r\n");
                in_part_headers = false;
            }
        }
        out.extend_from_slice(line);
    }
    out
}

fn collect_leaves(msg: &mail_parser::Message<'_>, id: usize, out: &mut Vec<usize>, depth: u32) {
    let Some(p) = msg.parts.get(id) else { return };
    match &p.body {
        mail_parser::PartType::Multipart(children) if depth < 8 => {
            for c in children {
                collect_leaves(msg, *c as usize, out, depth + 1);
            }
        }
        mail_parser::PartType::Multipart(_) => {}
        _ => out.push(id),
    }
}

fn mime_param(name: &str, value: &str) -> String {
    let clean: String = value
        .chars()
        .filter(|c| *c != '"' && *c != '\\' && !c.is_control())
        .collect();
    format!("; {name}=\"{clean}\"")
}

fn mime_header_value(v: &str) -> String {
    v.chars().filter(|c| !c.is_control()).collect()
}

/// The MM4 form: `(Content-Type header value, body)` of a MIME multipart; text
/// that is plain 7-bit goes as is, everything else base64.
pub fn to_mime(c: &MmsContent, boundary: &str) -> (String, Vec<u8>) {
    let mut ct = if c.related {
        "multipart/related".to_string()
    } else {
        "multipart/mixed".to_string()
    };
    ct.push_str(&mime_param("boundary", boundary));
    if c.related {
        if let Some(t) = &c.root_type {
            ct.push_str(&mime_param("type", t));
        }
        if let Some(s) = &c.start {
            ct.push_str(&mime_param("start", &format!("<{s}>")));
        }
    }
    let mut body = Vec::new();
    for p in &c.parts {
        body.extend_from_slice(format!("--{boundary}\r\n").as_bytes());
        let mut pct = mime_header_value(&p.media);
        for (n, v) in &p.params {
            pct.push_str(&mime_param(n, v));
        }
        body.extend_from_slice(format!("Content-Type: {pct}\r\n").as_bytes());
        if let Some(id) = &p.content_id {
            body.extend_from_slice(
                format!("Content-ID: <{}>\r\n", mime_header_value(id)).as_bytes(),
            );
        }
        if let Some(loc) = &p.content_location {
            body.extend_from_slice(
                format!("Content-Location: {}\r\n", mime_header_value(loc)).as_bytes(),
            );
        }
        let seven_bit = p.media.starts_with("text/")
            && p.data.is_ascii()
            && !p.data.contains(&0)
            && p.data.split(|&b| b == b'\n').all(|l| l.len() < 998)
            && !p.data.windows(boundary.len() + 2).any(|w| {
                w.starts_with(b"--") && w.get(2..).is_some_and(|b| b == boundary.as_bytes())
            });
        if seven_bit {
            body.extend_from_slice(b"Content-Transfer-Encoding: 7bit\r\n\r\n");
            body.extend_from_slice(&p.data);
            if !p.data.ends_with(b"\n") {
                body.extend_from_slice(b"\r\n");
            }
        } else {
            body.extend_from_slice(b"Content-Transfer-Encoding: base64\r\n\r\n");
            let b64 = base64::engine::general_purpose::STANDARD.encode(&p.data);
            for line in b64.as_bytes().chunks(76) {
                body.extend_from_slice(line);
                body.extend_from_slice(b"\r\n");
            }
        }
    }
    body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
    (ct, body)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> MmsContent {
        MmsContent {
            related: true,
            root_type: Some("application/smil".into()),
            start: Some("smil".into()),
            parts: vec![
                MmsPart {
                    media: "application/smil".into(),
                    params: vec![("charset".into(), "utf-8".into())],
                    content_id: Some("smil".into()),
                    content_location: Some("smil.xml".into()),
                    data: b"<smil><body><par><text src=\"t.txt\"/></par></body></smil>".to_vec(),
                },
                MmsPart {
                    media: "text/plain".into(),
                    params: vec![("charset".into(), "utf-8".into())],
                    content_id: Some("t".into()),
                    content_location: Some("t.txt".into()),
                    data: "Grüße from Saturn".as_bytes().to_vec(),
                },
                MmsPart {
                    media: "image/gif".into(),
                    params: vec![("name".into(), "saturn.gif".into())],
                    content_id: Some("saturn.gif".into()),
                    content_location: None,
                    data: vec![0x47, 0x49, 0x46, 0x38, 0x39, 0x61, 0, 1, 2, 0xFF],
                },
            ],
        }
    }

    #[test]
    fn wsp_form_round_trips() {
        let c = sample();
        let (ct, body) = to_wsp(&c);
        assert_eq!(ct.start(), Some("<smil>"));
        assert_eq!(ct.related_type().as_deref(), Some("application/smil"));
        let mut bytes = Vec::new();
        body.encode(&mut bytes, &ct).unwrap();
        let mut r = crate::codec::mm1::Reader::new(&bytes);
        let back = Body::read(&mut r, &ct).unwrap();
        assert_eq!(from_wsp(&ct, &back), c);
    }

    #[test]
    fn mime_form_round_trips_through_mail_parser() {
        let c = sample();
        let (ct, body) = to_mime(&c, "b0undary-x");
        let mut entity = format!("MIME-Version: 1.0\r\nContent-Type: {ct}\r\n\r\n").into_bytes();
        entity.extend_from_slice(&body);
        let back = from_mime(&entity).unwrap();
        assert_eq!(back, c);
    }

    #[test]
    fn reads_the_nowsms_seed_sample_content() {
        let raw =
            include_str!("../../../../events/mm4/sample-forward-req.eml").replace('\n', "\r\n");
        let crate::codec::mm4::Mm4Pdu::ForwardReq(req) =
            crate::codec::mm4::Mm4Pdu::parse(raw.as_bytes()).unwrap()
        else {
            panic!("not a forward.REQ")
        };
        let c = from_mime(&req.content_entity()).unwrap();
        assert!(!c.related);
        assert_eq!(c.parts.len(), 2);
        assert_eq!(c.parts[0].media, "text/plain");
        assert!(String::from_utf8_lossy(&c.parts[0].data).contains("Saturn pictures"));
        assert_eq!(c.parts[1].media, "image/gif");
        assert_eq!(c.parts[1].content_id.as_deref(), Some("saturn.gif"));
        // The seed's GIF header has a typo (base64 "R01G", not "R0lG").
        assert!(
            c.parts[1].data.starts_with(b"GMF87a"),
            "{:?}",
            &c.parts[1].data[..8]
        );
        let (ct, body) = to_wsp(&c);
        assert!(ct.media.is_wap_multipart());
        assert_eq!(body.parts().len(), 2);
    }

    #[test]
    fn single_bodies_become_one_part() {
        let ct = ContentType::new("text/plain").with_charset(Charset::UTF_8);
        let c = from_wsp(&ct, &Body::Single(b"hi".to_vec()));
        assert_eq!(c.parts.len(), 1);
        assert_eq!(c.parts[0].param("charset"), Some("utf-8"));
        let (ct2, body) = to_wsp(&c);
        assert!(ct2.media.is_wap_multipart());
        assert_eq!(body.parts()[0].content_type.charset(), Some(Charset::UTF_8));
    }

    #[test]
    fn refuses_what_is_not_mime() {
        assert!(from_mime(b"").is_err());
    }
}
