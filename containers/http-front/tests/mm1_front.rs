//! `/mm1` with injected failures: the front answers Ok only after the raw PDU is
//! stored and the job queued, and `Error-transient-failure` (HTTP 503) when either
//! fails, so the handset retries and nothing accepted is lost.
#![allow(clippy::unwrap_used)]

use async_trait::async_trait;
use http_front::mm1::{Mm1Front, router};
use mmsc_shared::codec::mm1::*;
use mmsc_shared::config::Config;
use mmsc_shared::domain::{Interface, Job};
use mmsc_shared::ports::{Queue, QueueError, QueueMessage, SystemClock};
use mmsc_shared::test_support::{MemoryObjects, MemoryState};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

#[derive(Default)]
struct MemQueue {
    sent: Mutex<Vec<(String, Vec<u8>)>>,
    fail: AtomicBool,
}

#[async_trait]
impl Queue for MemQueue {
    async fn send(&self, queue: &str, body: &[u8], _: Duration) -> Result<String, QueueError> {
        if self.fail.load(Ordering::SeqCst) {
            return Err(QueueError::Backend("injected send failure".into()));
        }
        self.sent
            .lock()
            .unwrap()
            .push((queue.into(), body.to_vec()));
        Ok("1".into())
    }
    async fn receive(
        &self,
        _: &str,
        _: usize,
        _: Duration,
        _: Duration,
    ) -> Result<Vec<QueueMessage>, QueueError> {
        Ok(vec![])
    }
    async fn delete(&self, _: &str, _: &str) -> Result<(), QueueError> {
        Ok(())
    }
    async fn set_visibility(&self, _: &str, _: &str, _: Duration) -> Result<(), QueueError> {
        Ok(())
    }
    async fn depth(&self, _: &str) -> Result<u64, QueueError> {
        Ok(0)
    }
}

struct Rig {
    addr: SocketAddr,
    objects: Arc<MemoryObjects>,
    queue: Arc<MemQueue>,
}

async fn rig() -> Rig {
    let objects = Arc::new(MemoryObjects::default());
    let queue = Arc::new(MemQueue::default());
    let front = Arc::new(Mm1Front::new(
        Arc::new(Config::default()),
        objects.clone(),
        Arc::new(MemoryState::default()),
        queue.clone(),
        Arc::new(SystemClock),
    ));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        axum::serve(
            listener,
            router(front).into_make_service_with_connect_info::<SocketAddr>(),
        )
        .await
        .unwrap();
    });
    Rig {
        addr,
        objects,
        queue,
    }
}

async fn post(addr: SocketAddr, msisdn: &str, body: &[u8]) -> (u16, Vec<u8>) {
    let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
    let head = format!(
        "POST /mm1 HTTP/1.1\r\nhost: t\r\nconnection: close\r\ncontent-type: {MMS_MESSAGE_CONTENT_TYPE}\r\nx-wap-network-client-msisdn: {msisdn}\r\ncontent-length: {}\r\n\r\n",
        body.len()
    );
    s.write_all(head.as_bytes()).await.unwrap();
    s.write_all(body).await.unwrap();
    let mut resp = Vec::new();
    s.read_to_end(&mut resp).await.unwrap();
    let split = resp.windows(4).position(|w| w == b"\r\n\r\n").unwrap();
    let status = String::from_utf8_lossy(&resp[9..12]).parse().unwrap();
    (status, resp[split + 4..].to_vec())
}

fn send_req() -> Vec<u8> {
    MSendReq::new(
        "tx-front-1".into(),
        MmsVersion::V1_2,
        FromValue::InsertAddress,
        ContentType::new("text/plain"),
        Body::Single(b"hello".to_vec()),
    )
    .with_to(MmsAddress::new("+447700900002/TYPE=PLMN"))
    .to_bytes()
    .unwrap()
}

fn send_conf(body: &[u8]) -> MSendConf {
    match Pdu::from_bytes(body).unwrap() {
        Pdu::SendConf(c) => c,
        other => panic!("not an m-send.conf: {other:?}"),
    }
}

#[tokio::test]
async fn answers_ok_only_after_store_and_queue() {
    let r = rig().await;
    let (status, body) = post(r.addr, "447700900001", &send_req()).await;
    assert_eq!(status, 200);
    let conf = send_conf(&body);
    assert_eq!(conf.response_status, ResponseStatus::OK);
    assert_eq!(conf.transaction_id, "tx-front-1");
    let id = conf.message_id.unwrap();
    let key = format!("in/mm1/{id}.mms");
    assert_eq!(
        r.objects
            .objects
            .lock()
            .unwrap()
            .get(&key)
            .unwrap()
            .as_ref(),
        send_req().as_slice()
    );
    let sent = r.queue.sent.lock().unwrap().clone();
    assert_eq!(sent.len(), 1);
    match Job::from_bytes(&sent[0].1).unwrap() {
        Job::Ingest {
            interface: Interface::Mm1,
            object_key,
            peer,
            ..
        } => {
            assert_eq!(object_key, key);
            assert_eq!(peer, "+447700900001");
        }
        other => panic!("unexpected job {other:?}"),
    }
}

#[tokio::test]
async fn answers_transient_failure_when_the_store_fails() {
    let r = rig().await;
    r.objects.fail_puts.store(true, Ordering::SeqCst);
    let (status, body) = post(r.addr, "447700900001", &send_req()).await;
    assert_eq!(status, 503);
    let conf = send_conf(&body);
    assert_eq!(conf.response_status, ResponseStatus::TRANSIENT_FAILURE);
    assert_eq!(conf.transaction_id, "tx-front-1");
    assert!(conf.message_id.is_none());
    assert!(r.queue.sent.lock().unwrap().is_empty());
}

#[tokio::test]
async fn answers_transient_failure_when_the_queue_fails() {
    let r = rig().await;
    r.queue.fail.store(true, Ordering::SeqCst);
    let (status, body) = post(r.addr, "447700900001", &send_req()).await;
    assert_eq!(status, 503);
    assert_eq!(
        send_conf(&body).response_status,
        ResponseStatus::TRANSIENT_FAILURE
    );
    // Once the queue is back, the handset's retry goes through.
    r.queue.fail.store(false, Ordering::SeqCst);
    let (status, body) = post(r.addr, "447700900001", &send_req()).await;
    assert_eq!(status, 200);
    assert_eq!(send_conf(&body).response_status, ResponseStatus::OK);
    assert_eq!(r.queue.sent.lock().unwrap().len(), 1);
}

#[tokio::test]
async fn refuses_a_forward_of_an_unknown_message() {
    let r = rig().await;
    let fwd = MForwardReq::new(
        "tx-fwd".into(),
        MmsVersion::V1_2,
        FromValue::InsertAddress,
        "http://mmsc/mm1/m/0123456789abcdef0123456789abcdef".into(),
    )
    .with_to(MmsAddress::new("+447700900003/TYPE=PLMN"))
    .to_bytes()
    .unwrap();
    let (status, body) = post(r.addr, "447700900002", &fwd).await;
    assert_eq!(status, 404);
    let Pdu::ForwardConf(conf) = Pdu::from_bytes(&body).unwrap() else {
        panic!("not an m-forward.conf")
    };
    assert_eq!(
        conf.response_status,
        ResponseStatus::PERMANENT_MESSAGE_NOT_FOUND
    );
    assert!(r.queue.sent.lock().unwrap().is_empty());
}

#[tokio::test]
async fn refuses_a_submission_without_recipients_and_mmbox_requests() {
    let r = rig().await;
    let none = MSendReq::new(
        "tx-none".into(),
        MmsVersion::V1_2,
        FromValue::InsertAddress,
        ContentType::new("text/plain"),
        Body::Single(b"x".to_vec()),
    )
    .to_bytes()
    .unwrap();
    let (status, body) = post(r.addr, "447700900001", &none).await;
    assert_eq!(status, 400);
    assert_eq!(
        send_conf(&body).response_status,
        ResponseStatus::PERMANENT_MESSAGE_FORMAT_CORRUPT
    );
    let mut view = GenericPdu::new(MessageType::MBOX_VIEW_REQ);
    view.headers.push(Header::new(
        FieldName::TRANSACTION_ID,
        Value::Text("tx-view".into()),
    ));
    view.headers.push(Header::new(
        FieldName::MMS_VERSION,
        Value::Token(MmsVersion::V1_3.octet()),
    ));
    let (status, _) = post(r.addr, "447700900001", &view.to_bytes().unwrap()).await;
    assert_eq!(status, 501);
    assert!(r.queue.sent.lock().unwrap().is_empty());
}
