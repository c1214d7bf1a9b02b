//! MM7 front benchmark: concurrent VASP clients (keep-alive HTTP/1.1, hyper) submit
//! a 4 KiB `SubmitReq` (multipart/related, REL-6-MM7-1-4) to `POST /mm7` on the
//! embedded backend (SQLite queue and state, directory object store in a temp dir).
//! Every `SubmitRsp` comes only after the request is durably stored and its ingest
//! job queued. Prints submits/s and p50/p99 latency to `SubmitRsp`.
//!
//! `cargo bench -p http-front --bench mm7` (`MM7_BENCH_CLIENTS`, `MM7_BENCH_REQUESTS`).
#![allow(clippy::unwrap_used)]

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use mmsc_shared::adapters::embedded::EmbeddedBackend;
use mmsc_shared::codec::mm7::{
    AddressKind, ContentRef, Mm7Address, Mm7Body, Mm7Message, Part, Recipients,
    SenderIdentification, SubmitReq, Version,
};
use mmsc_shared::config::Config;
use mmsc_shared::ports::{Clock, SystemClock};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

fn env(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn submit(n: usize) -> (String, Vec<u8>) {
    let req = SubmitReq {
        mm7_version: "6.8.0".into(),
        sender_identification: SenderIdentification {
            vasp_id: Some("demo-vasp".into()),
            vas_id: Some("bench".into()),
            sender_address: Some(Mm7Address::new(AddressKind::ShortCode, "12345")),
        },
        recipients: Recipients {
            to: vec![Mm7Address::new(
                AddressKind::Number,
                format!("+4477009{:05}", n % 100_000),
            )],
            ..Recipients::default()
        },
        subject: Some("bench".into()),
        delivery_report: Some(true),
        content: Some(ContentRef {
            href: "cid:c1".into(),
            allow_adaptations: None,
        }),
        ..SubmitReq::default()
    };
    let mut m = Mm7Message::new(
        format!("bench-{n}"),
        Version::default(),
        Mm7Body::SubmitReq(req),
    );
    m.attachments = vec![Part::new("text/plain", Some("c1"), vec![b'x'; 4096])];
    m.to_http()
}

fn main() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(run());
}

async fn run() {
    let clients = env("MM7_BENCH_CLIENTS", 16);
    let total = env("MM7_BENCH_REQUESTS", 4000);
    let dir = tempfile::tempdir().unwrap();
    let cfg = Arc::new(Config::demo());
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let backend = EmbeddedBackend::open(dir.path(), 12, clock.clone())
        .await
        .unwrap();
    let front = Arc::new(
        http_front::HttpFront::new(
            &cfg,
            backend.state.clone(),
            backend.queue.clone(),
            clock.clone(),
        )
        .with_mm7(
            http_front::mm7::Mm7Front::new(
                cfg.clone(),
                backend.objects.clone(),
                backend.state.clone(),
                backend.queue.clone(),
                clock.clone(),
            )
            .with_intake(backend.intake()),
        ),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (_stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    tokio::spawn(front.serve(listener, stop_rx));
    let bodies: Arc<Vec<(String, Vec<u8>)>> = Arc::new((0..total).map(submit).collect());

    // Warm up (connections, SQLite caches).
    run_clients(addr, clients, bodies.clone(), 0, clients * 10).await;
    let start = Instant::now();
    let mut lat = run_clients(addr, clients, bodies.clone(), 0, total).await;
    let secs = start.elapsed().as_secs_f64();
    lat.sort();
    let pct = |p: f64| lat[((lat.len() as f64 * p) as usize).min(lat.len() - 1)];
    println!(
        "mm7 front, {clients} clients, {total} submits of {} bytes (4 KiB content), embedded backend:",
        bodies[0].1.len()
    );
    println!(
        "  {:.0} submits/s; SubmitRsp latency p50 {:.2} ms, p99 {:.2} ms",
        total as f64 / secs,
        pct(0.50).as_secs_f64() * 1000.0,
        pct(0.99).as_secs_f64() * 1000.0
    );
}

async fn run_clients(
    addr: SocketAddr,
    clients: usize,
    bodies: Arc<Vec<(String, Vec<u8>)>>,
    first: usize,
    count: usize,
) -> Vec<Duration> {
    let next = Arc::new(std::sync::atomic::AtomicUsize::new(first));
    let end = first + count;
    let mut tasks = Vec::new();
    for _ in 0..clients {
        let next = next.clone();
        let bodies = bodies.clone();
        tasks.push(tokio::spawn(async move {
            let client = Client::builder(TokioExecutor::new()).build_http::<Full<Bytes>>();
            let url: hyper::Uri = format!("http://{addr}/mm7").parse().unwrap();
            let mut lat = Vec::new();
            loop {
                let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                if i >= end {
                    break;
                }
                let (ct, body) = &bodies[i % bodies.len()];
                let req = hyper::Request::post(url.clone())
                    .header("content-type", ct.as_str())
                    .header("soapaction", "\"\"")
                    .body(Full::new(Bytes::from(body.clone())))
                    .unwrap();
                let t = Instant::now();
                let resp = client.request(req).await.unwrap();
                let status = resp.status();
                let text = resp.into_body().collect().await.unwrap().to_bytes();
                lat.push(t.elapsed());
                assert!(
                    status == 200 && text.windows(23).any(|w| w == b"<StatusCode>1000</Statu"),
                    "{status}: {}",
                    String::from_utf8_lossy(&text)
                );
            }
            lat
        }));
    }
    let mut all = Vec::new();
    for t in tasks {
        all.extend(t.await.unwrap());
    }
    all
}
