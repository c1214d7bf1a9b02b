//! Push Access Protocol (WAP-247-PAP) to a push proxy gateway, as Kannel's PPG
//! accepts it: an HTTP POST of `multipart/related; type="application/xml"` whose
//! first entity is the PAP control document (`<push-message>` with the
//! `WAPPUSH=<number>/TYPE=PLMN@<domain>` address) and whose second is the push
//! content: the MMS PDU with `Content-Type: application/vnd.wap.mms-message` and
//! `X-Wap-Application-Id: x-wap-application:mms.ua`. The PPG wraps it in a WSP push
//! PDU (see [`crate::codec::mm1::push::PushPdu`]) and sends it over SMS.

use crate::config::WapPushConfig;
use base64::Engine;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Bytes;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use std::time::{Duration, SystemTime};

/// The MMS user agent's push application id.
pub const MMS_UA_APPLICATION_ID: &str = "x-wap-application:mms.ua";

/// One push.
#[derive(Debug, Clone)]
pub struct PushRequest<'a> {
    /// Unique per push (PAP `push-id`).
    pub push_id: &'a str,
    /// E.164 number of the handset.
    pub msisdn: &'a str,
    /// The MMS PDU.
    pub content: &'a [u8],
    /// PAP `deliver-before-timestamp` (unix seconds).
    pub deliver_before: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PushError {
    #[error("no PPG configured (wap_push.pap_url)")]
    NotConfigured,
    /// Network, timeout, HTTP 5xx, PAP 3xxx/4xxx: try again later.
    #[error("PPG unavailable: {0}")]
    Unavailable(String),
    /// PAP 2xxx or HTTP 4xx: the PPG refused this push.
    #[error("PPG refused the push: {0}")]
    Refused(String),
}

/// XML attribute escaping.
fn xml_attr(s: &str) -> String {
    s.chars()
        .filter(|c| !c.is_control())
        .map(|c| match c {
            '&' => "&amp;".into(),
            '<' => "&lt;".into(),
            '>' => "&gt;".into(),
            '"' => "&quot;".into(),
            '\'' => "&apos;".into(),
            c => c.to_string(),
        })
        .collect()
}

/// The PAP address domain: configured, else the PAP URL's host.
pub fn address_domain(cfg: &WapPushConfig) -> String {
    if let Some(d) = &cfg.address_domain {
        return d.clone();
    }
    cfg.pap_url
        .as_deref()
        .and_then(|u| u.parse::<hyper::Uri>().ok())
        .and_then(|u| u.host().map(str::to_string))
        .unwrap_or_else(|| "ppg.localhost".into())
}

/// The PAP control document.
pub fn control_document(push: &PushRequest<'_>, domain: &str) -> String {
    let before = push
        .deliver_before
        .filter(|t| *t > 0)
        .map(|t| {
            let at = SystemTime::UNIX_EPOCH + Duration::from_secs(t as u64);
            format!(
                " deliver-before-timestamp=\"{}\"",
                humantime::format_rfc3339_seconds(at)
            )
        })
        .unwrap_or_default();
    format!(
        "<?xml version=\"1.0\"?>\r\n\
<!DOCTYPE pap PUBLIC \"-//WAPFORUM//DTD PAP 2.0//EN\" \"http://www.wapforum.org/DTD/pap_2.0.dtd\">\r\n\
<pap>\r\n\
<push-message push-id=\"{id}\"{before} progress-notes-requested=\"false\">\r\n\
<address address-value=\"WAPPUSH={number}/TYPE=PLMN@{domain}\"/>\r\n\
<quality-of-service priority=\"medium\" delivery-method=\"unconfirmed\" network-required=\"false\" bearer-required=\"false\"/>\r\n\
</push-message>\r\n\
</pap>\r\n",
        id = xml_attr(push.push_id),
        number = xml_attr(push.msisdn),
        domain = xml_attr(domain),
    )
}

/// `(Content-Type, body)` of the PAP request.
pub fn request_body(push: &PushRequest<'_>, domain: &str, boundary: &str) -> (String, Vec<u8>) {
    let ct = format!("multipart/related; boundary={boundary}; type=\"application/xml\"");
    let mut body = Vec::with_capacity(push.content.len() + 1024);
    body.extend_from_slice(
        format!("--{boundary}\r\nContent-Type: application/xml\r\n\r\n").as_bytes(),
    );
    body.extend_from_slice(control_document(push, domain).as_bytes());
    body.extend_from_slice(
        format!(
            "\r\n--{boundary}\r\nContent-Type: {}\r\nX-Wap-Application-Id: {MMS_UA_APPLICATION_ID}\r\nContent-Transfer-Encoding: binary\r\nContent-Length: {}\r\n\r\n",
            crate::codec::mm1::MMS_MESSAGE_CONTENT_TYPE,
            push.content.len()
        )
        .as_bytes(),
    );
    body.extend_from_slice(push.content);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    (ct, body)
}

/// The `code` of the PAP `<response-result>` in a push-response.
pub fn response_code(xml: &str) -> Option<u32> {
    let at = xml.find("response-result")?;
    let rest = &xml[at..];
    let c = rest.find("code=")?;
    let v = rest[c + 5..].trim_start_matches(['"', '\'']);
    let digits: String = v.chars().take_while(|c| c.is_ascii_digit()).collect();
    digits.parse().ok()
}

const MAX_ANSWER: usize = 64 * 1024;

/// Submits one push. `Ok` carries the PAP result code (1000 or 1001).
pub async fn submit(cfg: &WapPushConfig, push: &PushRequest<'_>) -> Result<u32, PushError> {
    let url = cfg.pap_url.as_deref().ok_or(PushError::NotConfigured)?;
    let uri: hyper::Uri = url
        .parse()
        .map_err(|_| PushError::Refused(format!("bad wap_push.pap_url {url:?}")))?;
    let boundary = format!("pap-{}", uuid::Uuid::new_v4().simple());
    let (ct, body) = request_body(push, &address_domain(cfg), &boundary);
    let mut req = hyper::Request::post(uri).header("content-type", ct);
    if let Some(c) = &cfg.credentials {
        let basic = base64::engine::general_purpose::STANDARD
            .encode(format!("{}:{}", c.username, c.password));
        req = req.header("authorization", format!("Basic {basic}"));
    }
    let req = req
        .body(Full::new(Bytes::from(body)))
        .map_err(|e| PushError::Refused(e.to_string()))?;
    let client = Client::builder(TokioExecutor::new()).build_http::<Full<Bytes>>();
    let timeout = Duration::from_millis(cfg.timeout_ms);
    let work = async {
        let resp = client
            .request(req)
            .await
            .map_err(|e| PushError::Unavailable(e.to_string()))?;
        let status = resp.status().as_u16();
        let answer = Limited::new(resp.into_body(), MAX_ANSWER)
            .collect()
            .await
            .map_err(|e| PushError::Unavailable(e.to_string()))?
            .to_bytes();
        let text = String::from_utf8_lossy(&answer);
        match status {
            200..=299 => {}
            400..=499 if status != 408 && status != 429 => {
                return Err(PushError::Refused(format!("HTTP {status}")));
            }
            _ => return Err(PushError::Unavailable(format!("HTTP {status}"))),
        }
        match response_code(&text) {
            Some(c @ 1000..=1999) => Ok(c),
            Some(c @ 2000..=2999) => Err(PushError::Refused(format!("PAP code {c}"))),
            Some(c) => Err(PushError::Unavailable(format!("PAP code {c}"))),
            // A PPG that answers 2xx without a PAP document accepted it.
            None => Ok(1001),
        }
    };
    tokio::time::timeout(timeout, work)
        .await
        .map_err(|_| PushError::Unavailable(format!("timed out after {timeout:?}")))?
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builds_a_kannel_style_pap_request() {
        let push = PushRequest {
            push_id: "abc@mms.example",
            msisdn: "+447700900123",
            content: &[0x8C, 0x82, 0x98, b'x', 0],
            deliver_before: Some(1_800_000_000),
        };
        let (ct, body) = request_body(&push, "ppg.example", "BOUND");
        assert_eq!(
            ct,
            "multipart/related; boundary=BOUND; type=\"application/xml\""
        );
        let text = String::from_utf8_lossy(&body);
        assert!(text.contains("address-value=\"WAPPUSH=+447700900123/TYPE=PLMN@ppg.example\""));
        assert!(text.contains("push-id=\"abc@mms.example\""));
        assert!(text.contains("deliver-before-timestamp=\"2027-01-15T08:00:00Z\""));
        assert!(text.contains("X-Wap-Application-Id: x-wap-application:mms.ua"));
        assert!(body.windows(5).any(|w| w == [0x8C, 0x82, 0x98, b'x', 0]));
        assert!(text.ends_with("--BOUND--\r\n"));
        // Python's e-mail parser sees the two entities.
        let mut doc = format!("Content-Type: {ct}\r\n\r\n").into_bytes();
        doc.extend_from_slice(&body);
        let m = mail_parser::MessageParser::default().parse(&doc).unwrap();
        assert_eq!(m.parts.len(), 3);
    }

    #[test]
    fn reads_pap_result_codes() {
        let ok = r#"<?xml version="1.0"?><pap><push-response push-id="x"><response-result code="1001" desc="Accepted"/></push-response></pap>"#;
        assert_eq!(response_code(ok), Some(1001));
        assert_eq!(
            response_code("<pap><badmessage-response code=\"2000\"/></pap>"),
            None
        );
        assert_eq!(
            response_code("<response-result code='2002' desc='x'/>"),
            Some(2002)
        );
    }

    #[test]
    fn escapes_xml_and_defaults_the_domain() {
        let push = PushRequest {
            push_id: "a\"<b>",
            msisdn: "+1",
            content: b"",
            deliver_before: None,
        };
        let doc = control_document(&push, "d");
        assert!(doc.contains("push-id=\"a&quot;&lt;b&gt;\""));
        let mut cfg = WapPushConfig::default();
        assert_eq!(address_domain(&cfg), "ppg.localhost");
        cfg.pap_url = Some("http://ppg.op.net:8080/wappush".into());
        assert_eq!(address_domain(&cfg), "ppg.op.net");
    }

    #[tokio::test]
    async fn refuses_without_a_ppg() {
        let push = PushRequest {
            push_id: "x",
            msisdn: "+1",
            content: b"",
            deliver_before: None,
        };
        assert_eq!(
            submit(&WapPushConfig::default(), &push).await,
            Err(PushError::NotConfigured)
        );
    }
}
