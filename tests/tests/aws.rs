//! The AWS backend end to end on a moto server (started and stopped here):
//!
//! 1. In process: an MM4 message in through the SMTP front (Python smtplib) → S3 +
//!    SQS → the SQS messages received and turned into a real `SqsEvent` → the Lambda
//!    handler → DynamoDB state → the `MM4_forward.RES` over SMTP to the aiosmtpd sink.
//!    An SDK interceptor counts the AWS requests of the whole path, printed by service
//!    and operation.
//! 2. The `mmsc serve --backend aws --create-resources` binary with its local SQS event
//!    source, configured only through the standard AWS environment.
//! 3. The container binaries `smtp-front` and `http-front` alone, configured the way
//!    the ECS task definitions configure them (configuration object in S3,
//!    `MMSC_*_LISTEN`, `MMSC_AWS_*`): an MM4 message and an MM7 submission each end up
//!    as an object in S3 and a job on the SQS ingest queue; SIGTERM stops them cleanly.
//!
//! Needs moto and aiosmtpd (`tests/setup-peers.sh`).
#![allow(clippy::unwrap_used)]

mod common;

use common::{Sink, free_port, sample_pdu, smtplib_send, wait_until};
use mmsc_functions::local::{EventSource, sqs_event};
use mmsc_shared::adapters::aws::moto::MotoServer;
use mmsc_shared::adapters::aws::{AwsContext, AwsResources, RequestCounter, provision};
use mmsc_shared::config::{Config, PartnerConfig};
use mmsc_shared::domain::RecipientState;
use mmsc_shared::handlers::Services;
use mmsc_shared::ports::{Clock, SystemClock, queues};
use mmsc_shared::worker::WorkerSettings;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

const FROM: &str = "+447779998888/TYPE=PLMN@mms.oper.com";
const TO: &str = "+447778889999/TYPE=PLMN@mms.domain.com";

fn require_peers() {
    // moto: MotoServer::start fails with the install hint. aiosmtpd:
    assert!(
        std::process::Command::new("python3")
            .args(["-c", "import aiosmtpd"])
            .status()
            .is_ok_and(|s| s.success()),
        "python3 module aiosmtpd is missing: run tests/setup-peers.sh"
    );
}

fn moto() -> MotoServer {
    MotoServer::start().unwrap_or_else(|e| panic!("{e}"))
}

fn config(sink_port: u16, run: &str) -> Config {
    let mut cfg = Config::default();
    cfg.mmsc.domain = "mms.domain.com".into();
    cfg.mmsc.local_numbers = vec!["+447778*".into()];
    cfg.smtp.listen = format!("127.0.0.1:{}", free_port()).parse().unwrap();
    cfg.http.listen = format!("127.0.0.1:{}", free_port()).parse().unwrap();
    cfg.partners.push(PartnerConfig {
        name: "oper".into(),
        domain: "mms.oper.com".into(),
        smtp_host: Some(format!("127.0.0.1:{sink_port}")),
        allowed_networks: vec!["127.0.0.1/32".parse().unwrap()],
        starttls: mmsc_shared::config::StartTls::Never,
        max_attempts: 3,
        ..PartnerConfig::default()
    });
    cfg.aws.bucket = format!("mmsc-{run}");
    cfg.aws.table = format!("mmsc-{run}");
    cfg.aws.queue_prefix = format!("mmsc-{run}-");
    cfg
}

/// An AWS context on the moto server and the deployment's bucket, table and queues.
async fn provisioned(moto: &MotoServer, cfg: &Config) -> (AwsContext, AwsResources) {
    let ctx = AwsContext::local(&moto.endpoint());
    let res = AwsResources::from_config_and_env(&cfg.aws, |_| None).unwrap();
    provision::create_resources(
        &ctx,
        &res,
        &provision::DEPLOYMENT_QUEUES,
        5,
        Duration::from_secs(30),
    )
    .await
    .unwrap();
    (ctx, res)
}

fn run_id() -> String {
    let t = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_micros();
    format!("{:x}", t % 0xffff_ffff)
}

/// What Lambda's SQS event source does for one function: receive a batch, invoke the
/// handler with the `SqsEvent`, delete what the answer did not list as failed.
/// Returns how many records were handled.
async fn invoke_function(svc: &Arc<Services>, queue: &'static str, source: &EventSource) -> usize {
    let settings = WorkerSettings {
        concurrency: 10,
        visibility: Duration::from_secs(30),
        retry_initial: Duration::from_secs(1),
        retry_max: Duration::from_secs(5),
        poll_wait: Duration::from_secs(1),
        shutdown_grace: Duration::from_secs(1),
    };
    let batch = svc
        .queue
        .receive(queue, 10, settings.visibility, Duration::from_secs(5))
        .await
        .unwrap();
    if batch.is_empty() {
        return 0;
    }
    let event = sqs_event(source, &batch).unwrap();
    // Through JSON, as the Lambda runtime hands it over.
    let event: aws_lambda_events::event::sqs::SqsEvent =
        serde_json::from_str(&serde_json::to_string(&event).unwrap()).unwrap();
    let resp = mmsc_functions::handle_batch(svc, queue, &settings, event).await;
    assert!(
        resp.batch_item_failures.is_empty(),
        "{queue}: the handler asked for retries: {resp:?}"
    );
    for m in &batch {
        svc.queue.delete(queue, &m.receipt).await.unwrap();
    }
    batch.len()
}

fn print_counts(title: &str, counts: &mmsc_shared::adapters::aws::RequestCounts) {
    let mut by_service = std::collections::BTreeMap::<&str, u64>::new();
    eprintln!("AWS requests for one MM4 message, {title}:");
    for ((service, op), n) in counts {
        eprintln!("  {service:<9} {op:<26} {n}");
        *by_service.entry(service.as_str()).or_default() += n;
    }
    eprintln!("  by service: {by_service:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn mm4_message_through_s3_sqs_lambda_and_dynamodb_to_the_partner() {
    require_peers();
    let moto = moto();
    let tmp = tempfile::tempdir().unwrap();
    let sink = Sink::start(&tmp.path().join("sink"), &[]);
    let run = run_id();
    let cfg = config(sink.port, &run);
    let (ctx, res) = provisioned(&moto, &cfg).await;

    let cfg = Arc::new(cfg);
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let svc = mmsc_functions::services(cfg.clone(), &ctx, clock.clone()).unwrap();
    let front = Arc::new(
        smtp_front::SmtpFront::new(
            cfg.clone(),
            svc.objects.clone(),
            svc.queue.clone(),
            clock.clone(),
        )
        .unwrap(),
    );
    let listener = tokio::net::TcpListener::bind(cfg.smtp.listen)
        .await
        .unwrap();
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let serving = tokio::spawn({
        let front = front.clone();
        async move { front.serve(listener, stop_rx).await }
    });

    // Count from the first byte of the message on.
    let before = ctx.counter.snapshot();
    let port = cfg.smtp.listen.port();
    let (code, reply) =
        tokio::task::spawn_blocking(move || smtplib_send(port, FROM, &[TO], &sample_pdu()))
            .await
            .unwrap();
    assert_eq!(code, 250, "{reply}");
    let front_counts = RequestCounter::diff(&before, &ctx.counter.snapshot());

    // The ingest function, then mm4-out, each invoked with a real SqsEvent.
    let source = |q: &str| EventSource {
        region: "us-east-1".into(),
        queue_name: format!("{}{q}", res.queue_prefix),
    };
    let after_front = ctx.counter.snapshot();
    assert_eq!(
        invoke_function(&svc, queues::INGEST, &source(queues::INGEST)).await,
        1
    );
    let after_ingest = ctx.counter.snapshot();
    assert_eq!(
        invoke_function(&svc, queues::MM4_OUT, &source(queues::MM4_OUT)).await,
        1
    );
    let after_out = ctx.counter.snapshot();

    // The partner received our MM4_forward.RES for its transaction.
    let res_pdu = tokio::task::spawn_blocking(move || {
        let raw = sink.wait_for(
            &["MM4_forward.RES", "60755231.94578772@mmsc"],
            Duration::from_secs(20),
        );
        drop(sink);
        raw
    })
    .await
    .unwrap();
    assert!(String::from_utf8_lossy(&res_pdu).contains("X-Mms-Request-Status-Code: Ok"));

    // DynamoDB holds the message, its recipient and its timeline.
    let records = svc.records();
    let mid = records
        .resolve("148478240@mmsc.hub")
        .await
        .unwrap()
        .expect("message known by its MM4 message id");
    let view = records.load(&mid).await.unwrap().unwrap();
    assert_eq!(view.recipients.len(), 1);
    assert_eq!(view.recipients[0].state, RecipientState::Routed);
    assert!(view.events.iter().any(|e| e.kind == "received"), "{view:?}");
    // The raw PDU is in S3 under the key the ingest job named.
    let listed = ctx
        .s3()
        .list_objects_v2()
        .bucket(&res.bucket)
        .send()
        .await
        .unwrap();
    assert!(
        listed.contents().len() >= 2,
        "the raw request and the built .RES are stored"
    );
    // Nothing left in the queues or their dead-letter queues.
    for q in [queues::INGEST, queues::MM4_OUT] {
        assert_eq!(svc.queue.depth(q).await.unwrap(), 0, "{q}");
        assert_eq!(
            svc.queue.depth(&queues::dead_letter(q)).await.unwrap(),
            0,
            "{q} DLQ"
        );
    }

    let ingest_counts = RequestCounter::diff(&after_front, &after_ingest);
    let out_counts = RequestCounter::diff(&after_ingest, &after_out);
    let total = RequestCounter::diff(&before, &after_out);
    print_counts("SMTP front", &front_counts);
    print_counts(
        "ingest function (incl. the event source's receive/delete)",
        &ingest_counts,
    );
    print_counts(
        "mm4-out function (incl. the event source's receive/delete)",
        &out_counts,
    );
    print_counts("total", &total);
    let ops = |c: &mmsc_shared::adapters::aws::RequestCounts, op: &str| {
        c.iter()
            .filter(|((_, o), _)| o == op)
            .map(|(_, n)| *n)
            .sum::<u64>()
    };
    // The front stores the PDU and queues the job before answering 250, nothing else.
    assert_eq!(ops(&front_counts, "PutObject"), 1, "{front_counts:?}");
    assert_eq!(ops(&front_counts, "SendMessage"), 1, "{front_counts:?}");
    assert_eq!(
        front_counts.values().sum::<u64>(),
        2 + ops(&front_counts, "GetQueueUrl"),
        "{front_counts:?}"
    );
    // No scans anywhere.
    assert_eq!(ops(&total, "Scan"), 0);

    let _ = stop_tx.send(true);
    let _ = tokio::time::timeout(Duration::from_secs(10), serving).await;
}

/// S3 unavailable (here: the bucket does not exist): the front must not accept the
/// message, so the partner keeps it and retries.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn smtp_front_answers_451_when_s3_refuses_the_pdu() {
    require_peers();
    let moto = moto();
    let run = run_id();
    let cfg = config(free_port(), &run);
    let ctx = AwsContext::local(&moto.endpoint());
    let res = AwsResources::from_config_and_env(&cfg.aws, |_| None).unwrap();
    // Queues and table, but no bucket.
    provision::create_table(&ctx, &res.table).await.unwrap();
    for q in provision::DEPLOYMENT_QUEUES {
        provision::create_queue_pair(
            &ctx,
            &format!("{}{q}", res.queue_prefix),
            5,
            Duration::from_secs(30),
        )
        .await
        .unwrap();
    }
    let cfg = Arc::new(cfg);
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let svc = mmsc_functions::services(cfg.clone(), &ctx, clock.clone()).unwrap();
    let front = Arc::new(
        smtp_front::SmtpFront::new(cfg.clone(), svc.objects.clone(), svc.queue.clone(), clock)
            .unwrap(),
    );
    let listener = tokio::net::TcpListener::bind(cfg.smtp.listen)
        .await
        .unwrap();
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let serving = tokio::spawn(async move { front.serve(listener, stop_rx).await });
    let port = cfg.smtp.listen.port();
    let (code, reply) =
        tokio::task::spawn_blocking(move || smtplib_send(port, FROM, &[TO], &sample_pdu()))
            .await
            .unwrap();
    assert_eq!(code, 451, "{reply}");
    // The job was written at the same time as the (refused) object: it is left pointing
    // at no object, and the ingest handler waits out its grace period, then drops it.
    assert_eq!(svc.queue.depth(queues::INGEST).await.unwrap(), 1);
    let left = svc
        .queue
        .receive(queues::INGEST, 1, Duration::from_secs(30), Duration::ZERO)
        .await
        .unwrap();
    let Ok(mmsc_shared::domain::Job::Ingest { object_key, .. }) =
        mmsc_shared::domain::Job::from_bytes(&left[0].body)
    else {
        panic!("not an ingest job");
    };
    // (Here S3 refuses because the bucket does not exist, so a read fails too.)
    assert!(
        !matches!(svc.objects.get(&object_key).await, Ok(Some(_))),
        "no object was stored"
    );
    let _ = stop_tx.send(true);
    let _ = tokio::time::timeout(Duration::from_secs(10), serving).await;
}

#[test]
fn mmsc_serve_backend_aws_runs_the_local_loop_against_moto() {
    require_peers();
    let moto = moto();
    let tmp = tempfile::tempdir().unwrap();
    let sink = Sink::start(&tmp.path().join("sink"), &[]);
    let run = run_id();
    let cfg = config(sink.port, &run);
    let cfg_path = tmp.path().join("mmsc.toml");
    std::fs::write(&cfg_path, toml_config(&cfg)).unwrap();
    let log_path = tmp.path().join("mmsc.log");
    let mut child = Command::new(common::mmsc_bin())
        .args([
            "serve",
            "--backend",
            "aws",
            "--create-resources",
            "--config",
        ])
        .arg(&cfg_path)
        .env("AWS_ENDPOINT_URL", moto.endpoint())
        .env("AWS_REGION", "us-east-1")
        .env("AWS_ACCESS_KEY_ID", "test")
        .env("AWS_SECRET_ACCESS_KEY", "test")
        .env_remove("AWS_PROFILE")
        .env("RUST_LOG", "info")
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&log_path).unwrap())
        .spawn()
        .unwrap();
    let port = cfg.smtp.listen.port();
    wait_until("mmsc SMTP listener", Duration::from_secs(60), || {
        if let Ok(Some(status)) = child.try_wait() {
            panic!(
                "mmsc exited with {status}:\n{}",
                std::fs::read_to_string(&log_path).unwrap_or_default()
            );
        }
        std::net::TcpStream::connect(("127.0.0.1", port))
            .is_ok()
            .then_some(())
    });
    let (code, reply) = smtplib_send(port, FROM, &[TO], &sample_pdu());
    assert_eq!(code, 250, "{reply}");
    let raw = sink.wait_for(
        &["MM4_forward.RES", "60755231.94578772@mmsc"],
        Duration::from_secs(60),
    );
    assert!(String::from_utf8_lossy(&raw).contains("X-Mms-Request-Status-Code: Ok"));
    let _ = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status();
    let status = child.wait().unwrap();
    let log = std::fs::read_to_string(&log_path).unwrap_or_default();
    assert!(status.success(), "mmsc exit {status}:\n{log}");
    assert!(log.contains("local SQS event sources running"), "{log}");
}

/// A deployed container: its binary with the environment ECS gives it.
fn container(
    name: &str,
    moto: &MotoServer,
    res: &AwsResources,
    env: &[(&str, String)],
    log: &std::path::Path,
) -> std::process::Child {
    let mut cmd = Command::new(common::workspace_bin(name));
    cmd.env("AWS_ENDPOINT_URL", moto.endpoint())
        .env("AWS_REGION", "us-east-1")
        .env("AWS_ACCESS_KEY_ID", "test")
        .env("AWS_SECRET_ACCESS_KEY", "test")
        .env_remove("AWS_PROFILE")
        .env_remove("MMSC_CONFIG")
        .env_remove("MMSC_CONFIG_S3")
        .env("MMSC_AWS_BUCKET", &res.bucket)
        .env("MMSC_AWS_TABLE", &res.table)
        .env("MMSC_AWS_QUEUE_PREFIX", &res.queue_prefix)
        .env("MMSC_LOG_FORMAT", "json")
        .env("RUST_LOG", "info")
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(log).unwrap());
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.spawn().unwrap()
}

fn wait_listening(child: &mut std::process::Child, port: u16, log: &std::path::Path) {
    wait_until(
        "a container binary's listener",
        Duration::from_secs(60),
        || {
            if let Ok(Some(status)) = child.try_wait() {
                panic!(
                    "exited with {status}:\n{}",
                    std::fs::read_to_string(log).unwrap_or_default()
                );
            }
            std::net::TcpStream::connect(("127.0.0.1", port))
                .is_ok()
                .then_some(())
        },
    );
}

fn terminate(mut child: std::process::Child, log: &std::path::Path) {
    let _ = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status();
    let status = child.wait().unwrap();
    let text = std::fs::read_to_string(log).unwrap_or_default();
    assert!(status.success(), "exit {status}:\n{text}");
    assert!(text.contains("stopped"), "{text}");
}

/// The ingest jobs on the queue now, with the stored object each names.
async fn ingest_jobs(svc: &Services, want: usize) -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while out.len() < want && std::time::Instant::now() < deadline {
        for m in svc
            .queue
            .receive(
                queues::INGEST,
                10,
                Duration::from_secs(60),
                Duration::from_secs(1),
            )
            .await
            .unwrap()
        {
            let mmsc_shared::domain::Job::Ingest {
                interface,
                object_key,
                ..
            } = mmsc_shared::domain::Job::from_bytes(&m.body).unwrap()
            else {
                panic!("not an ingest job");
            };
            let body = svc.objects.get(&object_key).await.unwrap().expect("object");
            out.push((format!("{interface:?}"), body.to_vec()));
            svc.queue.delete(queues::INGEST, &m.receipt).await.unwrap();
        }
    }
    assert_eq!(out.len(), want, "ingest jobs");
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn container_binaries_store_and_queue_on_the_aws_backend() {
    require_peers();
    assert!(
        common::require_tool("curl"),
        "curl is missing: run tests/setup-peers.sh"
    );
    let moto = moto();
    let tmp = tempfile::tempdir().unwrap();
    let run = run_id();
    let cfg = config(free_port(), &run);
    let (ctx, res) = provisioned(&moto, &cfg).await;
    // The configuration object Terraform's deployment reads (MMSC_CONFIG_S3), with a
    // VASP for the MM7 submission.
    let toml = format!(
        "{}\n[[vasps]]\nid = \"acme\"\nshort_codes = [\"12345\"]\ncredentials = {{ username = \"acme\", password = \"s3cret\" }}\nallowed_networks = [\"127.0.0.0/8\"]\n",
        toml_config(&cfg)
    );
    ctx.s3()
        .put_object()
        .bucket(&res.bucket)
        .key("config/mmsc.toml")
        .body(toml.clone().into_bytes().into())
        .send()
        .await
        .unwrap();
    let cfg_url = format!("s3://{}/config/mmsc.toml", res.bucket);
    let cfg_file = tmp.path().join("mmsc.toml");
    std::fs::write(&cfg_file, &toml).unwrap();

    // A configuration that is not there: exit 2, naming it.
    let bad_log = tmp.path().join("bad.log");
    let status = container(
        "smtp-front",
        &moto,
        &res,
        &[("MMSC_CONFIG_S3", format!("s3://{}/nope.toml", res.bucket))],
        &bad_log,
    )
    .wait()
    .unwrap();
    let text = std::fs::read_to_string(&bad_log).unwrap();
    assert_eq!(status.code(), Some(2), "{text}");
    assert!(text.contains("nope.toml"), "{text}");

    let smtp_port = free_port();
    let http_port = free_port();
    let smtp_log = tmp.path().join("smtp-front.log");
    let http_log = tmp.path().join("http-front.log");
    let mut smtp = container(
        "smtp-front",
        &moto,
        &res,
        &[
            ("MMSC_CONFIG_S3", cfg_url),
            ("MMSC_SMTP_LISTEN", format!("127.0.0.1:{smtp_port}")),
        ],
        &smtp_log,
    );
    let mut http = container(
        "http-front",
        &moto,
        &res,
        &[
            ("MMSC_CONFIG", cfg_file.display().to_string()),
            ("MMSC_HTTP_LISTEN", format!("127.0.0.1:{http_port}")),
        ],
        &http_log,
    );
    wait_listening(&mut smtp, smtp_port, &smtp_log);
    wait_listening(&mut http, http_port, &http_log);

    // MM4 over SMTP: 250 only once S3 and SQS hold it.
    let (code, reply) =
        tokio::task::spawn_blocking(move || smtplib_send(smtp_port, FROM, &[TO], &sample_pdu()))
            .await
            .unwrap();
    assert_eq!(code, 250, "{reply}");
    let svc = mmsc_functions::services(Arc::new(cfg.clone()), &ctx, Arc::new(SystemClock)).unwrap();
    let jobs = ingest_jobs(&svc, 1).await;
    assert_eq!(jobs[0].0, "Mm4");
    let stored = String::from_utf8_lossy(&jobs[0].1);
    assert!(
        stored.contains("X-Mms-Transaction-ID: \"60755231.94578772@mmsc\""),
        "{stored}"
    );

    // The HTTP front: health, then an MM7 SubmitReq answered 1000 after S3 + SQS.
    let curl = |args: &[&str]| {
        let out = Command::new("curl")
            .args(["-s", "-w", "\n%{http_code}"])
            .args(args)
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout).to_string();
        let (body, code) = text.rsplit_once('\n').unwrap_or(("", "0"));
        (code.trim().parse::<u16>().unwrap_or(0), body.to_string())
    };
    let (code, body) = curl(&[&format!("http://127.0.0.1:{http_port}/health")]);
    assert_eq!(code, 200, "{body}");
    let ns = "http://www.3gpp.org/ftp/Specs/archive/23_series/23.140/schema/REL-6-MM7-1-4";
    let soap = format!(
        r#"<?xml version="1.0"?><env:Envelope xmlns:env="http://schemas.xmlsoap.org/soap/envelope/"><env:Header><mm7:TransactionID xmlns:mm7="{ns}" env:mustUnderstand="1">aws-1</mm7:TransactionID></env:Header><env:Body><SubmitReq xmlns="{ns}"><MM7Version>6.8.0</MM7Version><SenderIdentification><VASPID>acme</VASPID><SenderAddress><ShortCode>12345</ShortCode></SenderAddress></SenderIdentification><Recipients><To><Number>+447778889999</Number></To></Recipients><Subject>hello</Subject><Content href="cid:c1"/></SubmitReq></env:Body></env:Envelope>"#
    );
    let b = "b-aws";
    let body_file = tmp.path().join("submit");
    std::fs::write(
        &body_file,
        format!("--{b}\r\nContent-Type: text/xml\r\nContent-ID: <soap>\r\n\r\n{soap}\r\n--{b}\r\nContent-Type: text/plain\r\nContent-ID: <c1>\r\n\r\nfrom the VASP\r\n--{b}--\r\n"),
    )
    .unwrap();
    let (code, body) = curl(&[
        "-u",
        "acme:s3cret",
        "-H",
        &format!(
            "Content-Type: multipart/related; boundary=\"{b}\"; type=text/xml; start=\"<soap>\""
        ),
        "-H",
        "SOAPAction: \"\"",
        "--data-binary",
        &format!("@{}", body_file.display()),
        &format!("http://127.0.0.1:{http_port}/mm7"),
    ]);
    assert_eq!(code, 200, "{body}");
    assert!(
        body.contains("SubmitRsp") && body.contains(">1000<"),
        "{body}"
    );
    let jobs = ingest_jobs(&svc, 1).await;
    assert_eq!(jobs[0].0, "Mm7");
    assert!(String::from_utf8_lossy(&jobs[0].1).contains("from the VASP"));

    terminate(smtp, &smtp_log);
    terminate(http, &http_log);

    // The diameter-sidecar container: configuration from S3, listener from
    // MMSC_SIDECAR_LISTEN. Its charging server is not there, so /health says 503
    // "degraded" and names the peer, which proves the configuration was read.
    let ocs_port = free_port();
    let sidecar_toml = format!(
        "[charging]\nmode = \"event\"\norigin_host = \"mmsc.test\"\norigin_realm = \"test\"\ndestination_realm = \"ocs.test\"\n[[charging.peers]]\nname = \"ocs-a\"\naddress = \"127.0.0.1:{ocs_port}\"\n"
    );
    ctx.s3()
        .put_object()
        .bucket(&res.bucket)
        .key("config/sidecar.toml")
        .body(sidecar_toml.into_bytes().into())
        .send()
        .await
        .unwrap();
    let sc_port = free_port();
    let sc_log = tmp.path().join("sidecar.log");
    let mut sidecar = container(
        "diameter-sidecar",
        &moto,
        &res,
        &[
            (
                "MMSC_CONFIG_S3",
                format!("s3://{}/config/sidecar.toml", res.bucket),
            ),
            ("MMSC_SIDECAR_LISTEN", format!("127.0.0.1:{sc_port}")),
        ],
        &sc_log,
    );
    wait_listening(&mut sidecar, sc_port, &sc_log);
    let (code, body) = curl(&[&format!("http://127.0.0.1:{sc_port}/health")]);
    assert_eq!(code, 503, "{body}");
    assert!(
        body.contains("degraded") && body.contains("ocs-a"),
        "{body}"
    );
    terminate(sidecar, &sc_log);
}

/// The parts of `cfg` the serve test needs, as TOML.
fn toml_config(cfg: &Config) -> String {
    let p = &cfg.partners[0];
    format!(
        r#"[mmsc]
domain = "{domain}"
local_numbers = ["+447778*"]

[smtp]
listen = "{smtp}"

[http]
listen = "{http}"

[aws]
bucket = "{bucket}"
table = "{table}"
queue_prefix = "{prefix}"

[[partners]]
name = "{name}"
domain = "{pdomain}"
smtp_host = "{host}"
allowed_networks = ["127.0.0.1/32"]
starttls = "never"
max_attempts = 3
"#,
        domain = cfg.mmsc.domain,
        smtp = cfg.smtp.listen,
        http = cfg.http.listen,
        bucket = cfg.aws.bucket,
        table = cfg.aws.table,
        prefix = cfg.aws.queue_prefix,
        name = p.name,
        pdomain = p.domain,
        host = p.smtp_host.as_deref().unwrap(),
    )
}
