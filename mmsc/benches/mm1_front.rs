//! MM1 benchmark, two parts:
//!
//! 1. `POST /mm1`: m-send.req accepted per second by the HTTP front on the embedded
//!    backend (each one durably stored and its `ingest` job queued before the
//!    m-send.conf), from 16 keep-alive HTTP/1.1 connections, with the p50/p99 time
//!    from request to m-send.conf;
//! 2. the MM1 codec: m-send.req encode and decode throughput in MB/s (a 100 KiB
//!    three-part message and a 1 KiB text message).
//!
//! `cargo bench -p mmsc --bench mm1_front`

use mmsc_shared::adapters::embedded::EmbeddedBackend;
use mmsc_shared::codec::mm1::*;
use mmsc_shared::config::Config;
use mmsc_shared::ports::{Clock, SystemClock};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

const CONNECTIONS: usize = 16;

fn send_req(txid: &str, image: usize, text: usize) -> Vec<u8> {
    let smil = b"<smil><body><par><img src=\"pic.jpg\"/><text src=\"t.txt\"/></par></body></smil>";
    let mut parts = vec![
        Part::new(ContentType::new("application/smil"), smil.to_vec())
            .with_content_id("<smil>")
            .with_content_location("smil.xml"),
        Part::new(
            ContentType::new("text/plain").with_charset(Charset::UTF_8),
            "x".repeat(text).into_bytes(),
        )
        .with_content_id("<t>")
        .with_content_location("t.txt"),
    ];
    if image > 0 {
        parts.push(
            Part::new(
                ContentType::new("image/jpeg"),
                (0..image).map(|i| (i * 31 % 251) as u8).collect(),
            )
            .with_content_id("<pic>")
            .with_content_location("pic.jpg"),
        );
    }
    MSendReq::new(
        txid.into(),
        MmsVersion::V1_2,
        FromValue::InsertAddress,
        ContentType::multipart_related("application/smil", "<smil>"),
        Body::Multipart(parts),
    )
    .with_to(MmsAddress::new("+447700900002/TYPE=PLMN"))
    .with_subject(EncodedString::text("bench"))
    .to_bytes()
    .expect("encodable")
}

fn codec_bench(name: &str, pdu: &[u8]) {
    let decoded = Pdu::from_bytes(pdu).expect("decodes");
    let budget = Duration::from_millis(1500);
    let (mut n, start) = (0u64, Instant::now());
    while start.elapsed() < budget {
        std::hint::black_box(Pdu::from_bytes(std::hint::black_box(pdu)).expect("decodes"));
        n += 1;
    }
    let dec = (n as f64 * pdu.len() as f64) / start.elapsed().as_secs_f64() / 1e6;
    let dec_rate = n as f64 / start.elapsed().as_secs_f64();
    let (mut n, start) = (0u64, Instant::now());
    while start.elapsed() < budget {
        std::hint::black_box(std::hint::black_box(&decoded).to_bytes().expect("encodes"));
        n += 1;
    }
    let enc = (n as f64 * pdu.len() as f64) / start.elapsed().as_secs_f64() / 1e6;
    let enc_rate = n as f64 / start.elapsed().as_secs_f64();
    println!(
        "codec {name} ({} bytes): decode {dec:.0} MB/s ({dec_rate:.0} PDUs/s), encode {enc:.0} MB/s ({enc_rate:.0} PDUs/s)",
        pdu.len()
    );
}

/// One keep-alive connection posting `count` PDUs; returns each latency.
async fn client(port: u16, pdus: Vec<Vec<u8>>) -> Vec<Duration> {
    let stream = TcpStream::connect(("127.0.0.1", port))
        .await
        .expect("connect");
    stream.set_nodelay(true).ok();
    let (r, mut w) = stream.into_split();
    let mut r = BufReader::new(r);
    let mut lat = Vec::with_capacity(pdus.len());
    for pdu in pdus {
        let head = format!(
            "POST /mm1 HTTP/1.1\r\nhost: bench\r\ncontent-type: {MMS_MESSAGE_CONTENT_TYPE}\r\nx-msisdn: 447700900001\r\ncontent-length: {}\r\n\r\n",
            pdu.len()
        );
        let t = Instant::now();
        w.write_all(head.as_bytes()).await.expect("write");
        w.write_all(&pdu).await.expect("write");
        let mut status = String::new();
        r.read_line(&mut status).await.expect("status line");
        assert!(status.contains(" 200 "), "refused: {status}");
        let mut len = 0usize;
        loop {
            let mut line = String::new();
            r.read_line(&mut line).await.expect("header");
            let l = line.trim_end();
            if l.is_empty() {
                break;
            }
            if let Some(v) = l.to_ascii_lowercase().strip_prefix("content-length:") {
                len = v.trim().parse().expect("length");
            }
        }
        let mut body = vec![0u8; len];
        r.read_exact(&mut body).await.expect("body");
        lat.push(t.elapsed());
        assert_eq!(body.get(..2), Some(&[0x8C, 0x81][..]), "not an m-send.conf");
    }
    lat
}

fn pct(sorted: &[Duration], p: f64) -> Duration {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted.get(i).copied().unwrap_or_default()
}

async fn front_bench(image: usize, count: usize) {
    let dir = tempfile::tempdir().expect("tempdir");
    let cfg = Arc::new(Config::default());
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let backend = EmbeddedBackend::open(dir.path(), cfg.queues.max_receives, clock.clone())
        .await
        .expect("embedded store");
    let http = Arc::new(
        http_front::HttpFront::new(
            &cfg,
            backend.state.clone(),
            backend.queue.clone(),
            clock.clone(),
        )
        .with_mm1(
            http_front::mm1::Mm1Front::new(
                cfg.clone(),
                backend.objects.clone(),
                backend.state.clone(),
                backend.queue.clone(),
                clock.clone(),
            )
            .with_intake(backend.intake()),
        ),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let (_stop, rx) = tokio::sync::watch::channel(false);
    tokio::spawn(async move { http.serve(listener, rx).await });
    let size = send_req("x", image, 200).len();
    let per = count / CONNECTIONS;
    let start = Instant::now();
    let mut tasks = Vec::new();
    for c in 0..CONNECTIONS {
        let pdus: Vec<Vec<u8>> = (0..per)
            .map(|i| send_req(&format!("tx-{c}-{i}"), image, 200))
            .collect();
        tasks.push(tokio::spawn(client(port, pdus)));
    }
    let mut lat = Vec::new();
    for t in tasks {
        lat.extend(t.await.expect("client"));
    }
    let secs = start.elapsed().as_secs_f64();
    lat.sort();
    println!(
        "POST /mm1 m-send.req {size} bytes, {CONNECTIONS} connections: {:.0} accepted/s ({} in {secs:.2} s); m-send.conf p50 {:.1} ms, p99 {:.1} ms",
        lat.len() as f64 / secs,
        lat.len(),
        pct(&lat, 0.50).as_secs_f64() * 1e3,
        pct(&lat, 0.99).as_secs_f64() * 1e3,
    );
}

fn main() {
    codec_bench(
        "m-send.req 100 KiB",
        &send_req("tx-codec", 100 * 1024, 1000),
    );
    codec_bench("m-send.req 1 KiB", &send_req("tx-codec", 0, 800));
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(front_bench(3 * 1024, 4000));
    rt.block_on(front_bench(100 * 1024, 1600));
}
