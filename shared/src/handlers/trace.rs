//! The view `mmsc trace` and the HTTP admin API give of one message.

use super::records::MessageView;
use std::fmt::Write;

/// Human-readable: the message, each recipient's state, then the timeline.
pub fn render_text(v: &MessageView) -> String {
    let m = &v.message;
    let mut out = String::new();
    let _ = writeln!(out, "message   {}", m.id);
    let _ = writeln!(
        out,
        "state     {}",
        serde_json::to_value(m.state)
            .ok()
            .and_then(|v| v.as_str().map(String::from))
            .unwrap_or_default()
    );
    let origin = match &m.origin {
        crate::domain::Origin::Mm4 { partner } => format!("MM4 partner {partner}"),
        crate::domain::Origin::Mm7 { vasp } => format!("MM7 VASP {vasp}"),
        crate::domain::Origin::Mm1 { msisdn } => format!("MM1 subscriber {msisdn}"),
    };
    let _ = writeln!(out, "origin    {origin}");
    if let Some(p) = &m.peer_message_id {
        let _ = writeln!(out, "peer id   {p}");
    }
    if let Some(t) = &m.peer_transaction_id {
        let _ = writeln!(out, "peer txn  {t}");
    }
    let _ = writeln!(out, "from      {}", m.from);
    if let Some(s) = &m.subject {
        let _ = writeln!(out, "subject   {s}");
    }
    let _ = writeln!(out, "size      {} bytes", m.size);
    let _ = writeln!(out, "received  {}", m.received_at);
    if let Some(e) = m.expires_at {
        let _ = writeln!(out, "expires   {e}");
    }
    let _ = writeln!(out, "recipients:");
    for r in &v.recipients {
        let via = match &r.direction {
            Some(crate::domain::Direction::Local) => "local".to_string(),
            Some(crate::domain::Direction::Mm4 { partner }) => format!("MM4 {partner}"),
            Some(crate::domain::Direction::Mm7 { vasp }) => format!("MM7 {vasp}"),
            None => "-".into(),
        };
        let _ = writeln!(
            out,
            "  #{} {} {} via {} {}",
            r.index,
            r.address,
            r.state,
            via,
            r.reason.as_deref().unwrap_or("")
        );
    }
    let _ = writeln!(out, "timeline:");
    for e in &v.events {
        let who = e
            .recipient
            .as_deref()
            .map(|r| format!(" [{r}]"))
            .unwrap_or_default();
        let _ = writeln!(out, "  {} {}{} {}", e.at, e.kind, who, e.detail);
    }
    out
}

/// Machine-readable.
pub fn to_json(v: &MessageView) -> serde_json::Value {
    serde_json::json!({
        "message": v.message,
        "recipients": v.recipients,
        "events": v.events,
    })
}
