//! A readable dump of a Diameter message (for `mmsc mm9test` and logs): the
//! header, then each AVP by name with its value, grouped AVPs indented.

use crate::codec::diameter::{
    Address, Avp, AvpType, DecodeValue, DiameterTime, Message, dict, read_avps,
};
use std::fmt::Write as _;

/// The whole message, one AVP per line.
pub fn describe(m: &Message) -> String {
    let mut s = String::new();
    let h = &m.header;
    let _ = writeln!(
        s,
        "{} {} ({:?}, application {}, hop-by-hop {:#010x}, end-to-end {:#010x})",
        h.code,
        if h.is_request() { "Request" } else { "Answer" },
        h.flags,
        h.application.0,
        h.hop_by_hop,
        h.end_to_end
    );
    for a in &m.avps {
        avp(&mut s, a, 1);
    }
    s
}

fn avp(s: &mut String, a: &Avp, depth: usize) {
    let indent = "  ".repeat(depth);
    let def = dict::lookup(a.code, a.vendor);
    let name = def.map_or_else(|| format!("AVP {}", a.code.0), |d| d.name.to_string());
    let vendor = a
        .vendor
        .map(|v| format!(" vendor {}", v.0))
        .unwrap_or_default();
    match def.map(|d| d.ty) {
        Some(AvpType::Grouped) => {
            let _ = writeln!(s, "{indent}{name} ({}{vendor}):", a.code.0);
            match read_avps(&a.data) {
                Ok(children) => children.iter().for_each(|c| avp(s, c, depth + 1)),
                Err(e) => {
                    let _ = writeln!(s, "{indent}  <bad grouped data: {e}>");
                }
            }
        }
        ty => {
            let _ = writeln!(
                s,
                "{indent}{name} ({}{vendor}) = {}",
                a.code.0,
                value(ty, &a.data)
            );
        }
    }
}

fn value(ty: Option<AvpType>, data: &[u8]) -> String {
    let hex = || data.iter().map(|b| format!("{b:02x}")).collect::<String>();
    match ty {
        Some(AvpType::UTF8String | AvpType::DiameterIdentity | AvpType::DiameterURI) => {
            String::from_utf8(data.to_vec()).map_or_else(|_| hex(), |t| format!("{t:?}"))
        }
        Some(AvpType::Unsigned32) => {
            u32::decode_value(data).map_or_else(|_| hex(), |v| v.to_string())
        }
        Some(AvpType::Enumerated | AvpType::Integer32) => {
            i32::decode_value(data).map_or_else(|_| hex(), |v| v.to_string())
        }
        Some(AvpType::Unsigned64) => {
            u64::decode_value(data).map_or_else(|_| hex(), |v| v.to_string())
        }
        Some(AvpType::Integer64) => {
            i64::decode_value(data).map_or_else(|_| hex(), |v| v.to_string())
        }
        Some(AvpType::Address) => Address::decode_value(data)
            .map_or_else(|_| hex(), |a| a.ip().map_or_else(hex, |ip| ip.to_string())),
        Some(AvpType::Time) => DiameterTime::decode_value(data).map_or_else(
            |_| hex(),
            |t| {
                t.to_system_time()
                    .map(|st| humantime::format_rfc3339_seconds(st).to_string())
                    .unwrap_or_else(hex)
            },
        ),
        _ => match std::str::from_utf8(data) {
            Ok(t) if !t.is_empty() && t.chars().all(|c| !c.is_control()) => format!("{t:?}"),
            _ => format!("0x{}", hex()),
        },
    }
}
