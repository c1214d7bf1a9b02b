//! SMTP front benchmark: Postfix `smtp-source` (20 sessions) against our SMTP front on
//! the embedded backend (every message durably stored and queued before `250`) and
//! against Postfix `smtp-sink` (which stores nothing), in the same run, for 4 KiB and
//! 100 KiB messages. Prints messages/s (from smtp-source's wall time) and p50/p99 time
//! from end-of-DATA to `250` (measured by a 20-session Rust client).
//!
//! `cargo bench -p mmsc --bench smtp_front` (needs `tests/setup-peers.sh` for Postfix).
//! `MMSC_BENCH_SIZES=4096` runs only the sizes listed (bytes, comma-separated), e.g. to
//! profile one of them. Each size runs a warm-up (half a round, not counted), then
//! `MMSC_BENCH_ROUNDS` rounds (default 3), the two servers alternating which goes
//! first, and the summary compares the medians: on a shared machine one run of either
//! server can be off by a factor of two.

use mmsc_shared::adapters::embedded::EmbeddedBackend;
use mmsc_shared::config::Config;
use mmsc_shared::ports::{Clock, SystemClock};
use std::net::TcpListener as StdListener;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

const SESSIONS: usize = 20;
const FROM: &str = "+447779998888/TYPE=PLMN@mms.oper.com";
const TO: &str = "+447778889999/TYPE=PLMN@mms.localhost";

fn tool(name: &str) -> Option<String> {
    for dir in ["/usr/sbin", "/usr/bin", "/usr/local/bin"] {
        let p = format!("{dir}/{name}");
        if std::path::Path::new(&p).exists() {
            return Some(p);
        }
    }
    None
}

fn free_port() -> u16 {
    StdListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .unwrap_or(0)
}

/// CPU time (user + system) this process has used so far: the server's cost, since
/// smtp-source and smtp-sink are other processes. From /proc (clock ticks of 10 ms).
fn own_cpu() -> Duration {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // Fields after the parenthesised command name; utime and stime are fields 14, 15.
    let rest = stat.rsplit_once(')').map(|(_, r)| r).unwrap_or("");
    let f: Vec<u64> = rest
        .split_whitespace()
        .skip(11)
        .take(2)
        .filter_map(|v| v.parse().ok())
        .collect();
    Duration::from_millis(f.iter().sum::<u64>() * 10)
}

/// Runs smtp-source and returns messages per second.
fn smtp_source(bin: &str, port: u16, size: usize, count: usize) -> f64 {
    let start = Instant::now();
    let out = Command::new(bin)
        .args([
            "-s",
            &SESSIONS.to_string(),
            "-l",
            &size.to_string(),
            "-m",
            &count.to_string(),
            "-d",
        ])
        .args(["-f", FROM, "-t", TO])
        .arg(format!("127.0.0.1:{port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .output();
    let secs = start.elapsed().as_secs_f64();
    match out {
        Ok(o) if o.status.success() => count as f64 / secs,
        Ok(o) => {
            eprintln!("smtp-source failed: {}", String::from_utf8_lossy(&o.stderr));
            0.0
        }
        Err(e) => {
            eprintln!("smtp-source: {e}");
            0.0
        }
    }
}

async fn reply(r: &mut BufReader<tokio::net::tcp::OwnedReadHalf>) -> std::io::Result<String> {
    let mut all = String::new();
    loop {
        let mut line = String::new();
        if r.read_line(&mut line).await? == 0 {
            return Err(std::io::Error::new(
                std::io::ErrorKind::UnexpectedEof,
                "closed",
            ));
        }
        all.push_str(&line);
        if line.len() < 4 || line.as_bytes()[3] == b' ' {
            return Ok(all);
        }
    }
}

/// One session sending `n` messages; returns end-of-DATA -> 250 latencies.
async fn session(port: u16, body: Arc<Vec<u8>>, n: usize) -> std::io::Result<Vec<Duration>> {
    let s = TcpStream::connect(("127.0.0.1", port)).await?;
    s.set_nodelay(true)?;
    let (r, mut w) = s.into_split();
    let mut r = BufReader::new(r);
    reply(&mut r).await?;
    w.write_all(b"EHLO bench.test\r\n").await?;
    reply(&mut r).await?;
    let mut lat = Vec::with_capacity(n);
    for _ in 0..n {
        w.write_all(format!("MAIL FROM:<{FROM}>\r\nRCPT TO:<{TO}>\r\nDATA\r\n").as_bytes())
            .await?;
        for _ in 0..3 {
            let rep = reply(&mut r).await?;
            if !(rep.starts_with("250") || rep.starts_with("354")) {
                return Err(std::io::Error::other(format!("refused: {rep}")));
            }
        }
        w.write_all(&body).await?;
        let t = Instant::now();
        w.write_all(b".\r\n").await?;
        let rep = reply(&mut r).await?;
        if !rep.starts_with("250") {
            return Err(std::io::Error::other(format!("refused: {rep}")));
        }
        lat.push(t.elapsed());
    }
    w.write_all(b"QUIT\r\n").await?;
    Ok(lat)
}

/// One server's figures in one round.
struct Run {
    src: f64,
    rust: f64,
    p50: Duration,
    p99: Duration,
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    match v.len() {
        0 => 0.0,
        n if n % 2 == 1 => v[n / 2],
        n => (v[n / 2 - 1] + v[n / 2]) / 2.0,
    }
}

fn message(size: usize) -> Vec<u8> {
    let mut m = format!(
        "X-Mms-3GPP-MMS-Version: 6.10.0\r\nX-Mms-Message-Type: MM4_forward.REQ\r\nX-Mms-Transaction-ID: bench@mmsc\r\nFrom: {FROM}\r\nTo: {TO}\r\nContent-Type: text/plain\r\n\r\n"
    )
    .into_bytes();
    while m.len() + 78 < size {
        m.extend_from_slice(&[b'x'; 76]);
        m.extend_from_slice(b"\r\n");
    }
    m
}

async fn latencies(port: u16, size: usize, count: usize) -> (f64, Duration, Duration) {
    let body = Arc::new(message(size));
    let per = count / SESSIONS;
    let start = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..SESSIONS {
        tasks.push(tokio::spawn(session(port, body.clone(), per)));
    }
    let mut all = Vec::new();
    for t in tasks {
        match t.await {
            Ok(Ok(l)) => all.extend(l),
            Ok(Err(e)) => eprintln!("session failed: {e}"),
            Err(e) => eprintln!("session panicked: {e}"),
        }
    }
    let rate = all.len() as f64 / start.elapsed().as_secs_f64();
    all.sort();
    let pct = |p: f64| {
        all.get(((all.len() as f64 * p) as usize).min(all.len().saturating_sub(1)))
            .copied()
            .unwrap_or_default()
    };
    (rate, pct(0.50), pct(0.99))
}

fn main() {
    let (Some(source), Some(sink)) = (tool("smtp-source"), tool("smtp-sink")) else {
        eprintln!("smtp-source/smtp-sink not found: run tests/setup-peers.sh");
        std::process::exit(2);
    };
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let dir = tempfile::tempdir().expect("tempdir");
    let mut cfg = Config::demo();
    cfg.smtp.max_sessions_per_peer = 100;
    cfg.smtp.max_message_size = 1024 * 1024;
    let cfg = Arc::new(cfg);
    let our_port = free_port();
    let (_stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    rt.block_on(async {
        let clock: Arc<dyn Clock> = Arc::new(SystemClock);
        let backend = EmbeddedBackend::open(dir.path(), 10, clock.clone())
            .await
            .expect("backend");
        let front = Arc::new(
            smtp_front::SmtpFront::new(
                cfg.clone(),
                backend.objects.clone(),
                backend.queue.clone(),
                clock,
            )
            .expect("front")
            .with_intake(backend.intake()),
        );
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", our_port))
            .await
            .expect("bind");
        // As `mmsc serve` runs it (`smtp.own_thread`, on by default).
        let served = if cfg.smtp.own_thread {
            tokio::spawn(front.serve_on_own_thread(listener, stop_rx))
        } else {
            tokio::spawn(front.serve(listener, stop_rx))
        };
        drop(served);
    });
    let sink_port = free_port();
    let mut sink_proc = Command::new(&sink)
        .args(["-u", "nobody", &format!("127.0.0.1:{sink_port}"), "1000"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("smtp-sink");
    std::thread::sleep(Duration::from_millis(500));

    println!(
        "SMTP front benchmark: {SESSIONS} sessions; ours = SMTP front on the embedded backend (fsync'd store + queue before 250); smtp-sink stores nothing"
    );
    let rounds: usize = std::env::var("MMSC_BENCH_ROUNDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .filter(|&n| n > 0)
        .unwrap_or(3);
    println!(
        "per size: a warm-up run (not counted), then {rounds} rounds; the two servers alternate which runs first, since this machine's speed drifts between runs"
    );
    println!(
        "{:<8} {:<6} {:<10} {:>12} {:>14} {:>10} {:>10} {:>14}",
        "size", "round", "server", "msg/s (src)", "msg/s (rust)", "p50", "p99", "CPU us/msg"
    );
    let only: Option<Vec<usize>> = std::env::var("MMSC_BENCH_SIZES")
        .ok()
        .map(|v| v.split(',').filter_map(|s| s.trim().parse().ok()).collect());
    let mut summaries = Vec::new();
    for (size, count) in [(4096usize, 4000usize), (102_400, 1000)] {
        if only.as_ref().is_some_and(|o| !o.contains(&size)) {
            continue;
        }
        // Warm-up, not counted: the first thousands of messages into a fresh data
        // directory also grow its files from nothing, which a running MMSC has done
        // long ago.
        for port in [our_port, sink_port] {
            smtp_source(&source, port, size, count / 2);
        }
        let mut runs: [Vec<Run>; 2] = [Vec::new(), Vec::new()];
        for round in 0..rounds {
            let mut order = [(0usize, "mmsc", our_port), (1, "smtp-sink", sink_port)];
            if round % 2 == 1 {
                order.reverse();
            }
            for (i, name, port) in order {
                let cpu_before = own_cpu();
                let src = smtp_source(&source, port, size, count);
                // Our server's CPU per message while smtp-source drove it (smtp-sink's
                // runs in its own process: not counted, shown as -).
                let cpu = (own_cpu().saturating_sub(cpu_before)).as_secs_f64() * 1e6 / count as f64;
                let (rust, p50, p99) = rt.block_on(latencies(port, size, count));
                let cpu = if i == 0 {
                    format!("{cpu:.0}")
                } else {
                    "-".to_string()
                };
                println!(
                    "{:<8} {:<6} {:<10} {:>12.0} {:>14.0} {:>8.2}ms {:>8.2}ms {:>14}",
                    format!("{} KiB", size / 1024),
                    round + 1,
                    name,
                    src,
                    rust,
                    p50.as_secs_f64() * 1e3,
                    p99.as_secs_f64() * 1e3,
                    cpu
                );
                runs[i].push(Run {
                    src,
                    rust,
                    p50,
                    p99,
                });
            }
        }
        summaries.push((size, runs));
    }
    println!("\nmedians over the rounds (ours as % of smtp-sink, from the medians):");
    for (size, [ours, sink]) in &summaries {
        let med = |runs: &[Run], f: fn(&Run) -> f64| median(runs.iter().map(f).collect());
        let (o_src, s_src) = (med(ours, |r| r.src), med(sink, |r| r.src));
        let (o_rust, s_rust) = (med(ours, |r| r.rust), med(sink, |r| r.rust));
        let ms = |d: f64| d * 1e3;
        println!(
            "{:>4} KiB: msg/s (src) {:.0} vs {:.0} = {:.0} %; msg/s (rust) {:.0} vs {:.0} = {:.0} %; p50 {:.2} vs {:.2} ms; p99 {:.2} vs {:.2} ms",
            size / 1024,
            o_src,
            s_src,
            100.0 * o_src / s_src.max(f64::MIN_POSITIVE),
            o_rust,
            s_rust,
            100.0 * o_rust / s_rust.max(f64::MIN_POSITIVE),
            ms(med(ours, |r| r.p50.as_secs_f64())),
            ms(med(sink, |r| r.p50.as_secs_f64())),
            ms(med(ours, |r| r.p99.as_secs_f64())),
            ms(med(sink, |r| r.p99.as_secs_f64())),
        );
    }
    let _ = sink_proc.kill();
    let _ = sink_proc.wait();
}
