//! The connectionless WSP Push PDU (WAP-230-WSP §8.2.4.1) that carries an
//! m-notification.ind to a handset over SMS (WDP port 2948):
//!
//! ```text
//! TID(1) PDU-Type(0x06 Push | 0x07 ConfirmedPush) HeadersLen(uintvar)
//! ContentType Headers Data
//! ```
//!
//! A PPG builds it from a PAP submission; this codec lets the MMSC (and tests)
//! build and read it. `X-Wap-Application-Id` (well-known header 0x2F) is typed;
//! other headers keep their encoded octets.

use super::content_type::{ContentType, WellKnownMedia};
use super::error::{DecodeError, EncodeError};
use super::reader::Reader;
use super::wsp;

/// WSP PDU type Push.
pub const PUSH: u8 = 0x06;
/// WSP PDU type ConfirmedPush.
pub const CONFIRMED_PUSH: u8 = 0x07;
/// Well-known header X-Wap-Application-Id.
const X_WAP_APPLICATION_ID: u8 = 0x2F;
/// `x-wap-application:mms.ua` in the WAP push application id registry.
pub const MMS_UA: u8 = 0x04;

/// X-Wap-Application-Id: a registered number or a URI.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum ApplicationId {
    Number(u64),
    Uri(String),
}

/// One WSP Push PDU.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct PushPdu {
    pub transaction_id: u8,
    pub pdu_type: u8,
    pub content_type: ContentType,
    pub application_id: Option<ApplicationId>,
    /// Other headers, encoded, in order.
    pub other_headers: Vec<u8>,
    pub data: Vec<u8>,
}

impl PushPdu {
    /// The push of an MMS PDU to the MMS user agent: content type
    /// `application/vnd.wap.mms-message`, application id `x-wap-application:mms.ua`.
    pub fn mms(transaction_id: u8, mms_pdu: Vec<u8>) -> Self {
        PushPdu {
            transaction_id,
            pdu_type: PUSH,
            content_type: ContentType::well_known(WellKnownMedia::MMS_MESSAGE),
            application_id: Some(ApplicationId::Number(u64::from(MMS_UA))),
            other_headers: Vec::new(),
            data: mms_pdu,
        }
    }

    pub fn to_bytes(&self) -> Result<Vec<u8>, EncodeError> {
        let mut headers = Vec::new();
        self.content_type.encode(&mut headers)?;
        match &self.application_id {
            Some(ApplicationId::Number(n)) => {
                headers.push(0x80 | X_WAP_APPLICATION_ID);
                wsp::write_integer_value(&mut headers, *n);
            }
            Some(ApplicationId::Uri(u)) => {
                headers.push(0x80 | X_WAP_APPLICATION_ID);
                wsp::write_text_string(&mut headers, u, "X-Wap-Application-Id")?;
            }
            None => {}
        }
        headers.extend_from_slice(&self.other_headers);
        let mut out = vec![self.transaction_id, self.pdu_type];
        wsp::write_uintvar_len(&mut out, headers.len(), "push HeadersLen")?;
        out.extend_from_slice(&headers);
        out.extend_from_slice(&self.data);
        Ok(out)
    }

    pub fn from_bytes(bytes: &[u8]) -> Result<Self, DecodeError> {
        const WHAT: &str = "WSP push";
        let mut r = Reader::new(bytes);
        let transaction_id = r.u8(WHAT)?;
        let pdu_type = r.u8(WHAT)?;
        if pdu_type != PUSH && pdu_type != CONFIRMED_PUSH {
            return Err(DecodeError::UnexpectedOctet {
                what: "WSP push PDU type",
                octet: pdu_type,
            });
        }
        let len = wsp::read_uintvar(&mut r, "push HeadersLen")? as usize;
        let mut h = Reader::new(r.take(len, "push headers")?);
        let content_type = ContentType::read(&mut h)?;
        let mut application_id = None;
        let mut other_headers = Vec::new();
        while !h.is_empty() {
            let start = h.rest();
            let before = h.remaining();
            match h.peek("push header")? {
                b if b == 0x80 | X_WAP_APPLICATION_ID && application_id.is_none() => {
                    h.u8("push header")?;
                    application_id = Some(match h.peek("X-Wap-Application-Id")? {
                        0 | 32..=127 => ApplicationId::Uri(wsp::read_text_string(
                            &mut h,
                            "X-Wap-Application-Id",
                        )?),
                        _ => ApplicationId::Number(wsp::read_integer_value(
                            &mut h,
                            "X-Wap-Application-Id",
                        )?),
                    });
                    continue;
                }
                b if b >= 0x80 => {
                    h.u8("push header")?;
                }
                b if wsp::is_token_start(b) => {
                    wsp::read_token_text(&mut h, "push header name")?;
                }
                b => return Err(DecodeError::InvalidFieldName(b)),
            }
            wsp::read_raw_value(&mut h, "push header")?;
            let used = before - h.remaining();
            other_headers.extend_from_slice(start.get(..used).unwrap_or_default());
        }
        Ok(PushPdu {
            transaction_id,
            pdu_type,
            content_type,
            application_id,
            other_headers,
            data: r.take_rest().to_vec(),
        })
    }

    /// True when this push is for the MMS user agent.
    pub fn is_for_mms_ua(&self) -> bool {
        match &self.application_id {
            Some(ApplicationId::Number(n)) => *n == u64::from(MMS_UA),
            Some(ApplicationId::Uri(u)) => u.eq_ignore_ascii_case("x-wap-application:mms.ua"),
            None => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codec::mm1::{Codec, Pdu};

    #[test]
    fn encodes_the_canonical_mms_push() {
        let p = PushPdu::mms(0x01, vec![0x8C, 0x82]);
        // TID, Push, HeadersLen 3, application/vnd.wap.mms-message, X-Wap-Application-Id mms.ua
        assert_eq!(
            p.to_bytes().unwrap(),
            [0x01, 0x06, 0x03, 0xBE, 0xAF, 0x84, 0x8C, 0x82]
        );
        assert!(p.is_for_mms_ua());
        assert_eq!(PushPdu::from_bytes(&p.to_bytes().unwrap()).unwrap(), p);
    }

    #[test]
    fn reads_a_push_with_textual_headers_and_round_trips() {
        // A push as some PPGs send it: text content type, the application id as a
        // URI, and an encoding-version header (0x3F) kept as it is.
        let mut b = vec![0x2A, 0x06];
        let mut h = Vec::new();
        h.extend_from_slice(b"application/vnd.wap.mms-message\0");
        h.push(0xAF);
        h.extend_from_slice(b"x-wap-application:mms.ua\0");
        h.extend_from_slice(&[0xBF, 0x92]);
        b.push(h.len() as u8);
        b.extend_from_slice(&h);
        b.extend_from_slice(&[0x8C, 0x82, 0x98, b'x', 0]);
        let p = PushPdu::from_bytes(&b).unwrap();
        assert_eq!(p.transaction_id, 0x2A);
        assert!(p.is_for_mms_ua());
        assert_eq!(p.other_headers, [0xBF, 0x92]);
        assert_eq!(p.data, [0x8C, 0x82, 0x98, b'x', 0]);
        assert_eq!(p.to_bytes().unwrap(), b);
    }

    #[test]
    fn every_truncation_fails_cleanly() {
        let mms = std::fs::read(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("../events/mm1/real-notification-ind-pm1.bin"),
        )
        .unwrap();
        let full = PushPdu::mms(7, mms.clone()).to_bytes().unwrap();
        let back = PushPdu::from_bytes(&full).unwrap();
        assert!(matches!(
            Pdu::from_bytes(&back.data).unwrap(),
            Pdu::NotificationInd(_)
        ));
        for n in 0..6 {
            assert!(PushPdu::from_bytes(&full[..n]).is_err(), "prefix {n}");
        }
        assert!(PushPdu::from_bytes(&[1, 0x40, 0]).is_err());
    }
}
