//! The Diameter client against small in-test servers written with our codec.
#![allow(clippy::unwrap_used)]

use super::*;
use crate::codec::diameter::{
    CapabilitiesExchangeAnswer, CommandCode, CreditControlAnswer, DeviceWatchdogRequest, FindAvp,
    ResultCode, dict,
};
use std::sync::atomic::AtomicUsize;
use tokio::io::AsyncWriteExt;
use tokio::net::TcpListener;

/// How a test server behaves after CER/CEA.
#[derive(Clone, Copy, PartialEq)]
enum Behaviour {
    /// Answer every request at once.
    Answer,
    /// Collect `n` CCRs, then answer them in reverse order.
    Reverse(usize),
    /// Answer nothing after the CEA (a hung server).
    Silent,
    /// Send a DWR right after the CEA, then answer normally.
    AskWatchdog,
}

struct Seen {
    ccrs: Mutex<Vec<(String, bool)>>,
    dwa_result: Mutex<Option<u32>>,
    connections: AtomicUsize,
}

async fn server(b: Behaviour) -> (String, Arc<Seen>) {
    let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = l.local_addr().unwrap().to_string();
    let seen = Arc::new(Seen {
        ccrs: Mutex::new(Vec::new()),
        dwa_result: Mutex::new(None),
        connections: AtomicUsize::new(0),
    });
    let s2 = seen.clone();
    tokio::spawn(async move {
        loop {
            let (sock, _) = l.accept().await.unwrap();
            s2.connections.fetch_add(1, Ordering::SeqCst);
            tokio::spawn(serve_one(sock, b, s2.clone()));
        }
    });
    (addr, seen)
}

async fn serve_one<S>(sock: S, b: Behaviour, seen: Arc<Seen>)
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Send + Unpin + 'static,
{
    let (r, mut w) = tokio::io::split(sock);
    let mut r = FrameReader::new(r);
    let mut held = Vec::new();
    while let Ok(Some(frame)) = r.next_frame().await {
        let m = Message::from_bytes(&frame).unwrap();
        let h = m.header;
        match (h.code, h.is_request()) {
            (CommandCode::CER, true) => {
                let caps = ClientConfig::new("ocs.test", "test", Vec::new()).capabilities(None);
                let cea = CapabilitiesExchangeAnswer {
                    hop_by_hop: h.hop_by_hop,
                    end_to_end: h.end_to_end,
                    result_code: ResultCode::SUCCESS,
                    capabilities: caps,
                    error_message: None,
                    failed_avp: None,
                    extra: Vec::new(),
                };
                w.write_all(&cea.to_bytes().unwrap()).await.unwrap();
                if b == Behaviour::AskWatchdog {
                    let dwr = DeviceWatchdogRequest {
                        hop_by_hop: 77,
                        end_to_end: 78,
                        origin_host: "ocs.test".into(),
                        origin_realm: "test".into(),
                        origin_state_id: None,
                        extra: Vec::new(),
                    };
                    w.write_all(&dwr.to_bytes().unwrap()).await.unwrap();
                }
            }
            (CommandCode::DWA, false) => {
                let code: Option<ResultCode> = m.get(&dict::RESULT_CODE).unwrap();
                *seen.dwa_result.lock().unwrap() = code.map(|c| c.0);
            }
            _ if b == Behaviour::Silent => {}
            (CommandCode::DWR, true) => {
                let dwa = crate::codec::diameter::DeviceWatchdogAnswer {
                    hop_by_hop: h.hop_by_hop,
                    end_to_end: h.end_to_end,
                    result_code: ResultCode::SUCCESS,
                    origin_host: "ocs.test".into(),
                    origin_realm: "test".into(),
                    error_message: None,
                    failed_avp: None,
                    origin_state_id: None,
                    extra: Vec::new(),
                };
                w.write_all(&dwa.to_bytes().unwrap()).await.unwrap();
            }
            (CommandCode::CCR, true) => {
                let ccr = CreditControlRequest::from_message(&m).unwrap();
                seen.ccrs
                    .lock()
                    .unwrap()
                    .push((ccr.session_id.clone(), ccr.retransmission));
                let cca =
                    CreditControlAnswer::for_request(&ccr, ResultCode::SUCCESS, "ocs.test", "test");
                held.push(cca.to_bytes().unwrap());
                let n = match b {
                    Behaviour::Reverse(n) => n,
                    _ => 1,
                };
                if held.len() >= n {
                    while let Some(a) = held.pop() {
                        w.write_all(&a).await.unwrap();
                    }
                }
            }
            _ => {}
        }
    }
}

fn config(addrs: &[&str]) -> ClientConfig {
    let peers = addrs
        .iter()
        .enumerate()
        .map(|(i, a)| PeerEndpoint {
            name: format!("p{i}"),
            address: a.to_string(),
        })
        .collect();
    let mut c = ClientConfig::new("mmsc.test", "test", peers);
    c.watchdog_interval = Duration::from_secs(1);
    c.request_timeout = Duration::from_secs(10);
    c.reconnect_interval = Duration::from_millis(200);
    c
}

fn ccr(session: &str) -> CreditControlRequest {
    CreditControlRequest::event(session, "mmsc.test", "test", "test", "447700900123")
}

#[tokio::test]
async fn many_requests_in_flight_are_matched_by_hop_by_hop() {
    const N: usize = 20;
    let (addr, seen) = server(Behaviour::Reverse(N)).await;
    let client = DiameterClient::start(config(&[&addr]));
    assert!(client.wait_ready(Duration::from_secs(5)).await);
    let tasks: Vec<_> = (0..N)
        .map(|i| {
            let c = client.clone();
            tokio::spawn(async move { c.credit_control(&ccr(&format!("s{i}"))).await })
        })
        .collect();
    for (i, t) in tasks.into_iter().enumerate() {
        let cca = t.await.unwrap().unwrap();
        assert_eq!(cca.session_id, format!("s{i}"));
        assert!(cca.is_success());
    }
    assert_eq!(seen.ccrs.lock().unwrap().len(), N);
    assert_eq!(
        seen.connections.load(Ordering::SeqCst),
        1,
        "all on one connection"
    );
    assert_eq!(client.status()[0].answered, N as u64);
    client.shutdown().await;
}

#[tokio::test]
async fn a_hung_primary_goes_suspect_and_its_requests_fail_over_with_the_t_flag() {
    let (hung, hung_seen) = server(Behaviour::Silent).await;
    let (good, good_seen) = server(Behaviour::Answer).await;
    let client = DiameterClient::start(config(&[&hung, &good]));
    let until = Instant::now() + Duration::from_secs(5);
    while client.status().iter().any(|p| p.state != PeerState::Okay) {
        assert!(Instant::now() < until, "{:?}", client.status());
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // Goes to the (silent) primary first, then to the secondary after the watchdog.
    let cca = client.credit_control(&ccr("fo-1")).await.unwrap();
    assert!(cca.is_success());
    assert_eq!(hung_seen.ccrs.lock().unwrap().len(), 0); // it never parses them
    let seen = good_seen.ccrs.lock().unwrap().clone();
    assert_eq!(seen, vec![("fo-1".to_string(), true)]);
    let st = client.status();
    assert_ne!(st[0].state, PeerState::Okay);
    assert_eq!(st[0].failed_over, 1);
    client.shutdown().await;
}

#[tokio::test]
async fn answers_the_servers_dwr() {
    let (addr, seen) = server(Behaviour::AskWatchdog).await;
    let client = DiameterClient::start(config(&[&addr]));
    assert!(client.wait_ready(Duration::from_secs(5)).await);
    let until = Instant::now() + Duration::from_secs(5);
    while seen.dwa_result.lock().unwrap().is_none() {
        assert!(Instant::now() < until, "no DWA");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(*seen.dwa_result.lock().unwrap(), Some(2001));
    client.shutdown().await;
}

#[tokio::test]
async fn times_out_when_no_server_is_reachable() {
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let mut cfg = config(&[&format!("127.0.0.1:{port}")]);
    cfg.request_timeout = Duration::from_millis(300);
    let client = DiameterClient::start(cfg);
    let err = client.credit_control(&ccr("x")).await.unwrap_err();
    assert!(matches!(err, PeerError::Timeout(_)), "{err:?}");
    assert!(client.status()[0].last_error.is_some());
    client.shutdown().await;
}

#[test]
fn packet_log_lines_are_text2pcap_input() {
    let cer = ccr("log-1").to_bytes().unwrap();
    let text = PacketLog::format("primary", PacketDirection::Sent, &cer);
    let mut lines = text.lines();
    assert!(lines.next().unwrap().starts_with("# "));
    assert_eq!(lines.next(), Some("O"));
    let first = lines.next().unwrap();
    assert!(first.starts_with("000000 01 "), "{first}");
    let bytes: Vec<u8> = text
        .lines()
        .filter(|l| l.len() > 7 && l.as_bytes()[0].is_ascii_hexdigit())
        .flat_map(|l| {
            l[7..]
                .split(' ')
                .map(|h| u8::from_str_radix(h, 16).unwrap())
                .collect::<Vec<_>>()
        })
        .collect();
    assert_eq!(bytes, cer);
}

#[tokio::test]
async fn talks_tls_to_a_server_whose_certificate_it_trusts() {
    let ck = rcgen::generate_simple_self_signed(vec!["localhost".into()]).unwrap();
    let cert_pem = ck.cert.pem();
    let certs: Vec<_> = rustls_pemfile::certs(&mut cert_pem.as_bytes())
        .collect::<Result<_, _>>()
        .unwrap();
    let key = rustls_pemfile::private_key(&mut ck.signing_key.serialize_pem().as_bytes())
        .unwrap()
        .unwrap();
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let server_cfg = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .unwrap();
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(server_cfg));
    let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = l.local_addr().unwrap();
    let seen = Arc::new(Seen {
        ccrs: Mutex::new(Vec::new()),
        dwa_result: Mutex::new(None),
        connections: AtomicUsize::new(0),
    });
    let s2 = seen.clone();
    tokio::spawn(async move {
        loop {
            let (sock, _) = l.accept().await.unwrap();
            let acc = acceptor.clone();
            let s3 = s2.clone();
            tokio::spawn(async move {
                if let Ok(tls) = acc.accept(sock).await {
                    serve_one(tls, Behaviour::Answer, s3).await;
                }
            });
        }
    });
    let mut cfg = config(&[&format!("localhost:{}", addr.port())]);
    cfg.tls = Some(tls_config(cert_pem.as_bytes()).unwrap());
    let client = DiameterClient::start(cfg);
    assert!(
        client.wait_ready(Duration::from_secs(5)).await,
        "{:?}",
        client.status()
    );
    let cca = client.credit_control(&ccr("tls-1")).await.unwrap();
    assert!(cca.is_success());
    assert_eq!(seen.ccrs.lock().unwrap().len(), 1);
    client.shutdown().await;

    // A certificate it does not trust: never OKAY, and the error says why.
    let other = rcgen::generate_simple_self_signed(vec!["localhost".into()]).unwrap();
    let mut cfg = config(&[&format!("localhost:{}", addr.port())]);
    cfg.tls = Some(tls_config(other.cert.pem().as_bytes()).unwrap());
    let client = DiameterClient::start(cfg);
    assert!(!client.wait_ready(Duration::from_millis(800)).await);
    let err = client.status()[0].last_error.clone().unwrap_or_default();
    assert!(err.contains("TLS"), "{err}");
    client.shutdown().await;
}

#[tokio::test]
async fn keeps_the_t_flag_the_caller_set() {
    let (addr, seen) = server(Behaviour::Answer).await;
    let client = DiameterClient::start(config(&[&addr]));
    assert!(client.wait_ready(Duration::from_secs(5)).await);
    let mut again = ccr("t-1");
    again.retransmission = true;
    client.credit_control(&ccr("t-0")).await.unwrap();
    client.credit_control(&again).await.unwrap();
    let seen = seen.ccrs.lock().unwrap().clone();
    assert_eq!(seen, vec![("t-0".into(), false), ("t-1".into(), true)]);
    client.shutdown().await;
}
