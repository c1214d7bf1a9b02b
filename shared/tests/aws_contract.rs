//! The port contract suites against the AWS adapters on a moto server that this test
//! starts and stops itself (`pip install 'moto[server]'`; `tests/setup-peers.sh`).
//! Run: `cargo test -p mmsc-shared --features aws --test aws_contract`.
#![allow(clippy::unwrap_used)]

use mmsc_shared::adapters::aws::moto::MotoServer;
use mmsc_shared::adapters::aws::{
    AwsContext, DynamoStateStore, S3ObjectStore, ServerSideEncryption, SqsQueue, provision,
};
use mmsc_shared::ports::contract::{self, StaleReceipts};
use mmsc_shared::ports::{ObjectStore, Queue, StateStore};
use std::sync::Arc;
use std::time::Duration;

fn moto() -> MotoServer {
    match MotoServer::start() {
        Ok(m) => m,
        Err(e) => panic!("{e}"),
    }
}

fn run_id() -> String {
    let mut id = uuid_like();
    id.truncate(8);
    id
}

fn uuid_like() -> String {
    use std::time::{SystemTime, UNIX_EPOCH};
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    format!("{:x}{:x}", nanos, std::process::id())
        .chars()
        .rev()
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn s3_object_store_meets_the_contract() {
    let moto = moto();
    let ctx = AwsContext::local(&moto.endpoint());
    let bucket = format!("contract-{}", run_id());
    provision::create_bucket(&ctx, &bucket).await.unwrap();
    for sse in [
        ServerSideEncryption::S3Managed,
        ServerSideEncryption::Kms("alias/aws/s3".into()),
    ] {
        let store = S3ObjectStore::new(ctx.s3(), bucket.clone(), sse.clone());
        contract::object_store_contract(&store).await;
        // The object really is encrypted and typed as asked.
        store
            .put(
                "sse/check.eml",
                bytes::Bytes::from_static(b"x"),
                "message/rfc822",
            )
            .await
            .unwrap();
        let head = ctx
            .s3()
            .head_object()
            .bucket(&bucket)
            .key("sse/check.eml")
            .send()
            .await
            .unwrap();
        assert_eq!(head.content_type(), Some("message/rfc822"));
        let want = match sse {
            ServerSideEncryption::S3Managed => "AES256",
            ServerSideEncryption::Kms(_) => "aws:kms",
        };
        assert_eq!(
            head.server_side_encryption().map(|s| s.as_str()),
            Some(want)
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn s3_object_store_reports_a_missing_bucket_as_a_backend_error() {
    let moto = moto();
    let ctx = AwsContext::local(&moto.endpoint());
    let store = S3ObjectStore::new(
        ctx.s3(),
        "no-such-bucket".into(),
        ServerSideEncryption::S3Managed,
    );
    let put = store
        .put("a/b", bytes::Bytes::from_static(b"x"), "text/plain")
        .await;
    assert!(
        matches!(&put, Err(mmsc_shared::ports::ObjectError::Backend(m)) if m.contains("NoSuchBucket")),
        "{put:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn dynamodb_state_store_meets_the_contract() {
    // Serial server: see MotoServer::start_serial (moto's conditional writes race).
    let moto = MotoServer::start_serial().unwrap_or_else(|e| panic!("{e}"));
    let ctx = AwsContext::local(&moto.endpoint());
    let table = format!("contract-{}", run_id());
    provision::create_table(&ctx, &table).await.unwrap();
    let client = ctx.dynamodb();
    contract::state_store_contract(|clock| async move {
        Arc::new(DynamoStateStore::new(client, table, clock)) as Arc<dyn StateStore>
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn dynamodb_state_store_reports_a_missing_table_as_a_backend_error() {
    let moto = moto();
    let ctx = AwsContext::local(&moto.endpoint());
    let store = DynamoStateStore::new(
        ctx.dynamodb(),
        "no-such-table".into(),
        Arc::new(mmsc_shared::ports::SystemClock),
    );
    let r = store
        .create(&mmsc_shared::ports::Key::new("a", "b"), b"x", None)
        .await;
    assert!(
        matches!(&r, Err(mmsc_shared::ports::StoreError::Backend(m)) if m.contains("ResourceNotFound")),
        "{r:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sqs_queue_meets_the_contract() {
    let moto = moto();
    let ctx = AwsContext::local(&moto.endpoint());
    let prefix = format!("ct{}", run_id());
    let max_receives = 3;
    for name in contract::QUEUE_CONTRACT_SUFFIXES {
        provision::create_queue_pair(
            &ctx,
            &format!("{prefix}-{name}"),
            max_receives,
            Duration::from_secs(30),
        )
        .await
        .unwrap();
    }
    let queue = SqsQueue::new(ctx.sqs(), String::new(), None);
    contract::queue_contract_with_options(&queue, max_receives, &prefix, StaleReceipts::Undetected)
        .await;
    // A queue that does not exist is UnknownQueue, like an invalid name.
    let r = queue
        .send("no-such-queue", b"x", Duration::ZERO)
        .await
        .map(|_| ());
    assert!(
        matches!(r, Err(mmsc_shared::ports::QueueError::UnknownQueue(_))),
        "{r:?}"
    );
    let c = ctx.counter.by_service();
    eprintln!("requests made by the queue contract: {c:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sqs_queue_with_url_prefix_and_name_prefix_needs_no_lookup() {
    let moto = moto();
    let ctx = AwsContext::local(&moto.endpoint());
    let prefix = format!("p{}-", run_id());
    let url =
        provision::create_queue_pair(&ctx, &format!("{prefix}ingest"), 2, Duration::from_secs(30))
            .await
            .unwrap();
    let url_prefix = url.trim_end_matches(&format!("{prefix}ingest")).to_string();
    let queue = SqsQueue::new(ctx.sqs(), prefix.clone(), Some(url_prefix));
    ctx.counter.reset();
    let id = queue.send("ingest", b"{}", Duration::ZERO).await.unwrap();
    let got = queue
        .receive(
            "ingest",
            10,
            Duration::from_secs(30),
            Duration::from_secs(2),
        )
        .await
        .unwrap();
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].id, id);
    let ops: Vec<String> = ctx
        .counter
        .snapshot()
        .keys()
        .map(|(_, op)| op.clone())
        .collect();
    assert!(
        !ops.iter().any(|o| o == "GetQueueUrl"),
        "a URL prefix must avoid GetQueueUrl: {ops:?}"
    );
    assert_eq!(
        queue.physical_name("ingest").unwrap(),
        format!("{prefix}ingest")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn separate_intake_over_s3_and_sqs_meets_the_contract() {
    use mmsc_shared::ports::{Intake, SeparateIntake};
    let moto = moto();
    let ctx = AwsContext::local(&moto.endpoint());
    let run = run_id();
    let bucket = format!("intake-{run}");
    provision::create_bucket(&ctx, &bucket).await.unwrap();
    let queue_name = format!("intake-{run}");
    provision::create_queue_pair(&ctx, &queue_name, 3, Duration::from_secs(30))
        .await
        .unwrap();
    let objects: Arc<dyn ObjectStore> = Arc::new(S3ObjectStore::new(
        ctx.s3(),
        bucket,
        ServerSideEncryption::S3Managed,
    ));
    let queue: Arc<dyn Queue> = Arc::new(SqsQueue::new(ctx.sqs(), String::new(), None));
    let intakes: [(&str, Arc<dyn Intake>); 2] = [
        (
            "put, then send",
            Arc::new(SeparateIntake::new(objects.clone(), queue.clone())),
        ),
        (
            "at once",
            Arc::new(SeparateIntake::at_once(objects.clone(), queue.clone())),
        ),
    ];
    for (name, intake) in intakes {
        eprintln!("intake contract on S3 + SQS: {name}");
        contract::intake_contract(
            intake.as_ref(),
            objects.as_ref(),
            queue.as_ref(),
            &queue_name,
        )
        .await;
    }
}
