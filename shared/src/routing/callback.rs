//! The NowSMS-compatible routing callback: an HTTP GET to the configured URL with
//! `Type=MMSRouteCheck`, `From`, `To` and (for messages from an inbound account)
//! `VASPIN`; a 200 answer containing `Route=<name>|Direct|WAPPush|BlockMessage`.

use crate::domain::Address;
use http_body_util::{BodyExt, Empty, Limited};
use hyper::body::Bytes;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use std::time::Duration;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CallbackAnswer {
    /// `Route=<name>`: a named partner route.
    Route(String),
    /// `Route=Direct`: MMSC direct delivery (our subscriber).
    Direct,
    /// `Route=WAPPush`.
    WapPush,
    /// `Route=BlockMessage`.
    Block,
    /// 200 without a `Route=`: no opinion, use static routing.
    NoRoute,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CallbackError {
    #[error("bad callback URL {0:?}")]
    BadUrl(String),
    #[error("callback timed out after {0:?}")]
    Timeout(Duration),
    #[error("callback request failed: {0}")]
    Http(String),
    #[error("callback answered HTTP {0}")]
    Status(u16),
}

/// Largest callback answer we read.
const MAX_ANSWER: usize = 16 * 1024;

pub async fn query_callback(
    base_url: &str,
    timeout: Duration,
    from: &Address,
    to: &Address,
    vaspin: Option<&str>,
) -> Result<CallbackAnswer, CallbackError> {
    let url = callback_url(base_url, from, to, vaspin);
    let uri: hyper::Uri = url
        .parse()
        .map_err(|_| CallbackError::BadUrl(url.clone()))?;
    if uri.scheme_str() != Some("http") {
        return Err(CallbackError::BadUrl(format!(
            "{url} (only http:// is supported)"
        )));
    }
    let client = Client::builder(TokioExecutor::new()).build_http::<Empty<Bytes>>();
    let work = async {
        let resp = client
            .get(uri)
            .await
            .map_err(|e| CallbackError::Http(e.to_string()))?;
        let status = resp.status().as_u16();
        if status != 200 {
            return Err(CallbackError::Status(status));
        }
        let body = Limited::new(resp.into_body(), MAX_ANSWER)
            .collect()
            .await
            .map_err(|e| CallbackError::Http(e.to_string()))?
            .to_bytes();
        Ok(parse_answer(&String::from_utf8_lossy(&body)))
    };
    tokio::time::timeout(timeout, work)
        .await
        .map_err(|_| CallbackError::Timeout(timeout))?
}

/// Builds the GET URL: the configured URL plus CGI-style parameters.
pub fn callback_url(base: &str, from: &Address, to: &Address, vaspin: Option<&str>) -> String {
    let mut url = base.to_string();
    url.push(if base.contains('?') { '&' } else { '?' });
    url.push_str("Type=MMSRouteCheck&From=");
    url.push_str(&escape(from.key()));
    url.push_str("&To=");
    url.push_str(&escape(to.key()));
    if let Some(v) = vaspin {
        url.push_str("&VASPIN=");
        url.push_str(&escape(v));
    }
    url
}

fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Finds `Route=xxx` anywhere in the answer.
pub fn parse_answer(body: &str) -> CallbackAnswer {
    let Some(pos) = body.find("Route=") else {
        return CallbackAnswer::NoRoute;
    };
    let value: String = body[pos + "Route=".len()..]
        .chars()
        .take_while(|c| !c.is_whitespace() && !matches!(c, '&' | '<' | '"' | '\'' | ','))
        .collect();
    match value.as_str() {
        "" => CallbackAnswer::NoRoute,
        v if v.eq_ignore_ascii_case("Direct") => CallbackAnswer::Direct,
        v if v.eq_ignore_ascii_case("WAPPush") => CallbackAnswer::WapPush,
        v if v.eq_ignore_ascii_case("BlockMessage") => CallbackAnswer::Block,
        v => CallbackAnswer::Route(v.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::TcpListener;

    #[test]
    fn builds_nowsms_style_urls() {
        let from = Address::parse("+447700900001").unwrap();
        let to = Address::parse("+2348012345678/TYPE=PLMN@mms.ng.net").unwrap();
        assert_eq!(
            callback_url("http://r.example/route", &from, &to, Some("partner a")),
            "http://r.example/route?Type=MMSRouteCheck&From=%2B447700900001&To=%2B2348012345678&VASPIN=partner%20a"
        );
        assert!(
            callback_url("http://r/x?k=1", &from, &to, None).starts_with("http://r/x?k=1&Type=")
        );
    }

    #[test]
    fn parses_answers() {
        assert_eq!(
            parse_answer("Route=uk\r\n"),
            CallbackAnswer::Route("uk".into())
        );
        assert_eq!(
            parse_answer("<html>Route=Direct</html>"),
            CallbackAnswer::Direct
        );
        assert_eq!(parse_answer("Route=wappush"), CallbackAnswer::WapPush);
        assert_eq!(parse_answer("OK Route=BlockMessage"), CallbackAnswer::Block);
        assert_eq!(parse_answer("nothing here"), CallbackAnswer::NoRoute);
        assert_eq!(parse_answer("Route= "), CallbackAnswer::NoRoute);
    }

    /// A one-shot HTTP server answering `status` with `body`; returns its URL and
    /// the request line it saw.
    async fn one_shot(
        status: u16,
        body: &'static str,
        delay: Duration,
    ) -> (String, tokio::task::JoinHandle<String>) {
        let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/route", l.local_addr().unwrap());
        let h = tokio::spawn(async move {
            let (mut s, _) = l.accept().await.unwrap();
            let mut buf = vec![0u8; 4096];
            let n = s.read(&mut buf).await.unwrap();
            tokio::time::sleep(delay).await;
            let resp = format!(
                "HTTP/1.1 {status} X\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                body.len()
            );
            let _ = s.write_all(resp.as_bytes()).await;
            String::from_utf8_lossy(&buf[..n])
                .lines()
                .next()
                .unwrap_or_default()
                .to_string()
        });
        (url, h)
    }

    #[tokio::test]
    async fn queries_a_real_http_server() {
        let (url, seen) = one_shot(200, "Route=uk", Duration::ZERO).await;
        let from = Address::parse("+447700900001").unwrap();
        let to = Address::parse("+447800900002").unwrap();
        let got = query_callback(&url, Duration::from_secs(5), &from, &to, None).await;
        assert_eq!(got, Ok(CallbackAnswer::Route("uk".into())));
        assert_eq!(
            seen.await.unwrap(),
            "GET /route?Type=MMSRouteCheck&From=%2B447700900001&To=%2B447800900002 HTTP/1.1"
        );
    }

    #[tokio::test]
    async fn reports_http_errors_and_timeouts() {
        let from = Address::parse("+447700900001").unwrap();
        let (url, _h) = one_shot(500, "", Duration::ZERO).await;
        assert_eq!(
            query_callback(&url, Duration::from_secs(5), &from, &from, None).await,
            Err(CallbackError::Status(500))
        );
        let (url, _h) = one_shot(200, "Route=uk", Duration::from_secs(3)).await;
        let t = Duration::from_millis(200);
        assert_eq!(
            query_callback(&url, t, &from, &from, None).await,
            Err(CallbackError::Timeout(t))
        );
        assert!(matches!(
            query_callback("https://x/", t, &from, &from, None).await,
            Err(CallbackError::BadUrl(_))
        ));
        // Nothing listens on port 9 of loopback.
        assert!(matches!(
            query_callback("http://127.0.0.1:9/", t, &from, &from, None).await,
            Err(CallbackError::Http(_))
        ));
    }
}
