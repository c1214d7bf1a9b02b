//! A small, defensive XML tree for SOAP envelopes, read with `quick-xml`.
//!
//! Elements keep their local name and resolved namespace URI (prefixes are
//! irrelevant to MM7: peers use `mm7:`, a default namespace or none). Attributes are
//! keyed by local name. Refused outright: a DTD (`<!DOCTYPE`, which is where entity
//! declarations and so "billion laughs" bombs live), references to entities other
//! than the five predefined ones, nesting deeper than [`MAX_DEPTH`], more than
//! [`MAX_ELEMENTS`] elements.

use super::Mm7Error;
use quick_xml::XmlVersion;
use quick_xml::escape::resolve_predefined_entity;
use quick_xml::events::{BytesStart, Event};
use std::collections::HashMap;

/// Deepest element nesting accepted (an MM7 envelope needs about 6).
pub const MAX_DEPTH: usize = 32;
/// Most elements accepted in one envelope.
pub const MAX_ELEMENTS: usize = 20_000;

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Element {
    /// Namespace URI, if the element is in one.
    pub ns: Option<String>,
    /// Local name (no prefix).
    pub name: String,
    /// Attributes by local name (namespace declarations are not kept).
    pub attrs: Vec<(String, String)>,
    pub children: Vec<Element>,
    /// Concatenated character data directly inside the element.
    pub text: String,
}

impl Element {
    pub fn child(&self, name: &str) -> Option<&Element> {
        self.children.iter().find(|c| c.name == name)
    }
    pub fn children_named<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a Element> {
        self.children.iter().filter(move |c| c.name == name)
    }
    pub fn attr(&self, name: &str) -> Option<&str> {
        self.attrs
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
    /// Trimmed text of the child `name`.
    pub fn child_text(&self, name: &str) -> Option<String> {
        self.child(name).map(|c| c.text.trim().to_string())
    }
}

fn local(qname: &str) -> &str {
    qname.split_once(':').map_or(qname, |(_, l)| l)
}

fn prefix(qname: &str) -> Option<&str> {
    qname.split_once(':').map(|(p, _)| p)
}

type Scope = HashMap<String, String>;

fn open(e: &BytesStart<'_>, scopes: &[Scope]) -> Result<(Element, Scope), Mm7Error> {
    let mut scope = Scope::new();
    let mut attrs = Vec::new();
    for a in e.attributes() {
        let a = a.map_err(|e| Mm7Error::Xml(format!("bad attribute: {e}")))?;
        let key: &str = a.key.as_ref();
        let value = a
            .normalized_value(XmlVersion::Implicit1_0)
            .map_err(|e| Mm7Error::Xml(format!("bad attribute value: {e}")))?
            .into_owned();
        if key == "xmlns" {
            scope.insert(String::new(), value);
        } else if let Some(p) = key.strip_prefix("xmlns:") {
            scope.insert(p.to_string(), value);
        } else {
            attrs.push((local(key).to_string(), value));
        }
    }
    let qname = e.name();
    let qname: &str = qname.as_ref();
    let pfx = prefix(qname).unwrap_or_default().to_string();
    let ns = scope
        .get(&pfx)
        .or_else(|| scopes.iter().rev().find_map(|s| s.get(&pfx)))
        .filter(|u| !u.is_empty())
        .cloned();
    if ns.is_none() && !pfx.is_empty() {
        return Err(Mm7Error::Xml(format!(
            "undeclared namespace prefix {pfx:?}"
        )));
    }
    Ok((
        Element {
            ns,
            name: local(qname).to_string(),
            attrs,
            children: Vec::new(),
            text: String::new(),
        },
        scope,
    ))
}

/// Parses a whole document into its root element.
pub fn parse(input: &[u8]) -> Result<Element, Mm7Error> {
    let text = std::str::from_utf8(input)
        .map_err(|_| Mm7Error::Xml("the SOAP part is not UTF-8".into()))?;
    let mut reader = quick_xml::Reader::from_str(text);
    reader.config_mut().check_end_names = true;
    let mut stack: Vec<Element> = Vec::new();
    let mut scopes: Vec<Scope> = Vec::new();
    let mut root: Option<Element> = None;
    let mut count = 0usize;
    loop {
        let ev = reader
            .read_event()
            .map_err(|e| Mm7Error::Xml(format!("at byte {}: {e}", reader.buffer_position())))?;
        match ev {
            Event::DocType(_) => return Err(Mm7Error::DtdRefused),
            Event::Start(e) | Event::Empty(e) if root.is_some() => {
                let _ = e;
                return Err(Mm7Error::Xml("content after the root element".into()));
            }
            Event::Start(e) => {
                count += 1;
                if stack.len() >= MAX_DEPTH {
                    return Err(Mm7Error::TooDeep);
                }
                if count > MAX_ELEMENTS {
                    return Err(Mm7Error::Xml("too many elements".into()));
                }
                let (el, scope) = open(&e, &scopes)?;
                stack.push(el);
                scopes.push(scope);
            }
            Event::Empty(e) => {
                count += 1;
                if stack.len() >= MAX_DEPTH {
                    return Err(Mm7Error::TooDeep);
                }
                if count > MAX_ELEMENTS {
                    return Err(Mm7Error::Xml("too many elements".into()));
                }
                let (el, _) = open(&e, &scopes)?;
                match stack.last_mut() {
                    Some(parent) => parent.children.push(el),
                    None => root = Some(el),
                }
            }
            Event::End(_) => {
                scopes.pop();
                let Some(el) = stack.pop() else {
                    return Err(Mm7Error::Xml("unbalanced end tag".into()));
                };
                match stack.last_mut() {
                    Some(parent) => parent.children.push(el),
                    None => root = Some(el),
                }
            }
            Event::Text(t) => {
                let s = t.xml10_content();
                match stack.last_mut() {
                    Some(el) => el.text.push_str(&s),
                    None if s.trim().is_empty() => {}
                    None => return Err(Mm7Error::Xml("text outside the root element".into())),
                }
            }
            Event::CData(t) => {
                let s = t.xml10_content();
                if let Some(el) = stack.last_mut() {
                    el.text.push_str(&s);
                }
            }
            Event::GeneralRef(r) => {
                let resolved = match r.resolve_char_ref() {
                    Ok(Some(c)) => c.to_string(),
                    Ok(None) => match resolve_predefined_entity(&r) {
                        Some(s) => s.to_string(),
                        None => {
                            return Err(Mm7Error::Xml(format!(
                                "reference to undeclared entity &{};",
                                clip(&r)
                            )));
                        }
                    },
                    Err(e) => return Err(Mm7Error::Xml(format!("bad character reference: {e}"))),
                };
                match stack.last_mut() {
                    Some(el) => el.text.push_str(&resolved),
                    None => return Err(Mm7Error::Xml("reference outside the root element".into())),
                }
            }
            Event::Comment(_) | Event::Decl(_) | Event::PI(_) => {}
            Event::Eof => break,
        }
    }
    if !stack.is_empty() {
        return Err(Mm7Error::Truncated);
    }
    root.ok_or(Mm7Error::Truncated)
}

fn clip(s: &str) -> String {
    s.chars().take(40).collect()
}

/// Escapes text for element content and attribute values.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            // As references, so XML end-of-line and attribute normalisation keep them.
            '\r' => out.push_str("&#13;"),
            '\n' => out.push_str("&#10;"),
            '\t' => out.push_str("&#9;"),
            c => out.push(c),
        }
    }
    out
}

/// A tiny XML writer: elements are written unprefixed, in the namespace declared on
/// the operation element.
#[derive(Default)]
pub struct Writer {
    pub out: String,
    depth: usize,
}

impl Writer {
    fn indent(&mut self) {
        self.out.push('\n');
        for _ in 0..self.depth {
            self.out.push_str("  ");
        }
    }
    pub fn open(&mut self, name: &str, attrs: &[(&str, &str)]) {
        self.indent();
        self.out.push('<');
        self.out.push_str(name);
        for (k, v) in attrs {
            self.out.push(' ');
            self.out.push_str(k);
            self.out.push_str("=\"");
            self.out.push_str(&escape(v));
            self.out.push('"');
        }
        self.out.push('>');
        self.depth += 1;
    }
    pub fn close(&mut self, name: &str) {
        self.depth = self.depth.saturating_sub(1);
        self.indent();
        self.out.push_str("</");
        self.out.push_str(name);
        self.out.push('>');
    }
    pub fn empty(&mut self, name: &str, attrs: &[(&str, &str)]) {
        self.indent();
        self.out.push('<');
        self.out.push_str(name);
        for (k, v) in attrs {
            self.out.push(' ');
            self.out.push_str(k);
            self.out.push_str("=\"");
            self.out.push_str(&escape(v));
            self.out.push('"');
        }
        self.out.push_str("/>");
    }
    pub fn leaf_attrs(&mut self, name: &str, attrs: &[(&str, &str)], text: &str) {
        self.indent();
        self.out.push('<');
        self.out.push_str(name);
        for (k, v) in attrs {
            self.out.push(' ');
            self.out.push_str(k);
            self.out.push_str("=\"");
            self.out.push_str(&escape(v));
            self.out.push('"');
        }
        self.out.push('>');
        self.out.push_str(&escape(text));
        self.out.push_str("</");
        self.out.push_str(name);
        self.out.push('>');
    }
    pub fn leaf(&mut self, name: &str, text: &str) {
        self.leaf_attrs(name, &[], text);
    }
    pub fn opt(&mut self, name: &str, text: Option<&str>) {
        if let Some(t) = text {
            self.leaf(name, t);
        }
    }
    pub fn flag(&mut self, name: &str, v: Option<bool>) {
        if let Some(b) = v {
            self.leaf(name, if b { "true" } else { "false" });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolves_namespaces_whatever_the_prefix() {
        let a = parse(br#"<e:Env xmlns:e="urn:s"><m:X xmlns:m="urn:m"><Y>1</Y></m:X></e:Env>"#)
            .unwrap();
        assert_eq!(a.ns.as_deref(), Some("urn:s"));
        let x = a.child("X").unwrap();
        assert_eq!(x.ns.as_deref(), Some("urn:m"));
        assert_eq!(x.child("Y").unwrap().ns, None);
        let b = parse(br#"<Env xmlns="urn:s"><X><Y a="&lt;&#65;">a&amp;b</Y></X></Env>"#).unwrap();
        let y = b.child("X").unwrap().child("Y").unwrap();
        assert_eq!(y.ns.as_deref(), Some("urn:s"));
        assert_eq!(y.text, "a&b");
        assert_eq!(y.attr("a"), Some("<A"));
    }

    #[test]
    fn refuses_dtds_and_unknown_entities() {
        let bomb = br#"<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;">]><a>&lol2;</a>"#;
        assert_eq!(parse(bomb), Err(Mm7Error::DtdRefused));
        assert!(matches!(parse(b"<a>&lol;</a>"), Err(Mm7Error::Xml(_))));
    }

    #[test]
    fn refuses_deep_nesting() {
        let mut doc = String::new();
        for _ in 0..(MAX_DEPTH + 1) {
            doc.push_str("<a>");
        }
        for _ in 0..(MAX_DEPTH + 1) {
            doc.push_str("</a>");
        }
        assert_eq!(parse(doc.as_bytes()), Err(Mm7Error::TooDeep));
    }

    #[test]
    fn refuses_broken_documents() {
        for bad in [
            &b"<a><b></a>"[..],
            b"<a>",
            b"",
            b"<a></a><b/>",
            b"<p:a></p:a>",
            b"\xff<a/>",
            b"<a x='1' x='2'/>",
        ] {
            assert!(parse(bad).is_err(), "{}", String::from_utf8_lossy(bad));
        }
    }
}
