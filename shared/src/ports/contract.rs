//! Contract tests: the behaviour every adapter of a port must show.
//!
//! Each suite is an async function that drives an implementation through every method
//! of its port and panics with a `contract violation: ...` message on the first
//! deviation. They are compiled into the library (not `cfg(test)`) so the embedded
//! adapters' tests, the AWS adapters' tests (against a moto server or LocalStack) and
//! any other crate run the very same checks:
//!
//! ```ignore
//! contract::object_store_contract(&store).await;
//! contract::state_store_contract(|clock| async move {
//!     Arc::new(MyStateStore::new(client, table, clock)) as Arc<dyn StateStore>
//! })
//! .await;
//! contract::queue_contract(&queue, 3).await;
//! ```
//!
//! The suites need a Tokio runtime (timers); their futures are `Send`, so they can
//! also be spawned.
//!
//! Every run uses fresh names (a random run id in object keys, partition keys and
//! queue names), so suites can run in parallel and against a shared server. Waits are
//! short (visibility timeouts and delays of about a second); a queue run takes a few
//! seconds because its scenarios run concurrently on separate queues.

use super::{
    Clock, Key, ManualClock, ObjectError, ObjectStore, Queue, QueueError, QueueMessage, StateStore,
    StoreError, SystemClock, queues,
};
use bytes::Bytes;
use std::fmt::Debug;
use std::pin::Pin;
use std::sync::Arc;
use std::task::Poll;
use std::time::{Duration, Instant};

// ---------------------------------------------------------------------------------
// helpers

/// A short random id that makes names unique per run.
fn run_id() -> String {
    let mut id = uuid::Uuid::new_v4().simple().to_string();
    id.truncate(10);
    id
}

#[track_caller]
fn ok<T, E: Debug>(r: Result<T, E>, what: &str) -> T {
    match r {
        Ok(v) => v,
        Err(e) => panic!("contract violation: {what}: unexpected error {e:?}"),
    }
}

/// Polls every future on the current task until all are done (no `'static` bound, no
/// extra dependency); outputs in input order.
async fn join_all<F: Future>(futures: Vec<F>) -> Vec<F::Output> {
    let mut futures: Vec<Pin<Box<F>>> = futures.into_iter().map(Box::pin).collect();
    let mut outputs: Vec<Option<F::Output>> = futures.iter().map(|_| None).collect();
    std::future::poll_fn(|cx| {
        let mut pending = false;
        for (fut, out) in futures.iter_mut().zip(outputs.iter_mut()) {
            if out.is_none() {
                match fut.as_mut().poll(cx) {
                    Poll::Ready(v) => *out = Some(v),
                    Poll::Pending => pending = true,
                }
            }
        }
        if pending {
            Poll::Pending
        } else {
            Poll::Ready(())
        }
    })
    .await;
    outputs
        .into_iter()
        .map(|o| o.expect("join_all: every future completed"))
        .collect()
}

type Scenario<'a> = Pin<Box<dyn Future<Output = ()> + Send + 'a>>;

// ---------------------------------------------------------------------------------
// object store

/// Checks an [`ObjectStore`]: round trips, overwrite, delete, missing objects, key
/// validation, empty, binary and large (5 MiB) bodies, concurrent puts.
pub async fn object_store_contract(store: &dyn ObjectStore) {
    let run = run_id();
    let key = |name: &str| format!("contract/{run}/{name}");

    // Missing objects.
    let missing = key("missing.bin");
    assert_eq!(
        ok(store.get(&missing).await, "get of a missing object"),
        None,
        "contract violation: get of a missing object must be Ok(None)"
    );
    ok(
        store.delete(&missing).await,
        "delete of a missing object must succeed",
    );

    // Round trip, overwrite, delete.
    let k = key("in/mm4/first.eml");
    ok(
        store
            .put(&k, Bytes::from_static(b"first"), "message/rfc822")
            .await,
        "put",
    );
    assert_eq!(
        ok(store.get(&k).await, "get after put").as_deref(),
        Some(&b"first"[..]),
        "contract violation: get must return what put stored"
    );
    ok(
        store
            .put(&k, Bytes::from_static(b"second, longer"), "message/rfc822")
            .await,
        "overwrite",
    );
    assert_eq!(
        ok(store.get(&k).await, "get after overwrite").as_deref(),
        Some(&b"second, longer"[..]),
        "contract violation: put must replace an existing object"
    );
    ok(
        store
            .put(&k, Bytes::from_static(b"3"), "message/rfc822")
            .await,
        "overwrite with shorter body",
    );
    assert_eq!(
        ok(store.get(&k).await, "get after shorter overwrite").as_deref(),
        Some(&b"3"[..]),
        "contract violation: a shorter overwrite must not leave old bytes behind"
    );
    ok(store.delete(&k).await, "delete");
    assert_eq!(
        ok(store.get(&k).await, "get after delete"),
        None,
        "contract violation: a deleted object must be gone"
    );
    ok(store.delete(&k).await, "second delete must succeed");

    // Sibling keys are independent.
    let (a, b) = (key("dir/a.bin"), key("dir/b.bin"));
    ok(
        store
            .put(&a, Bytes::from_static(b"A"), "application/octet-stream")
            .await,
        "put a",
    );
    ok(
        store
            .put(&b, Bytes::from_static(b"B"), "application/octet-stream")
            .await,
        "put b",
    );
    ok(store.delete(&a).await, "delete a");
    assert_eq!(
        ok(store.get(&b).await, "get sibling").as_deref(),
        Some(&b"B"[..]),
        "contract violation: deleting one key must not touch its sibling"
    );
    ok(store.delete(&b).await, "delete b");

    // Empty and binary bodies.
    let empty = key("empty");
    ok(
        store.put(&empty, Bytes::new(), "text/plain").await,
        "put empty body",
    );
    assert_eq!(
        ok(store.get(&empty).await, "get empty body"),
        Some(Bytes::new()),
        "contract violation: an empty object must exist and be empty"
    );
    let binary: Vec<u8> = (0..=255u8).cycle().take(4096).collect();
    let bin_key = key("binary.bin");
    ok(
        store
            .put(
                &bin_key,
                Bytes::from(binary.clone()),
                "application/octet-stream",
            )
            .await,
        "put binary body",
    );
    assert_eq!(
        ok(store.get(&bin_key).await, "get binary body").as_deref(),
        Some(&binary[..]),
        "contract violation: binary bodies must round-trip byte for byte"
    );

    // Large body (5 MiB, not a repeating short pattern).
    let large: Vec<u8> = (0..5 * 1024 * 1024u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    let large_key = key("large/5mib.bin");
    ok(
        store
            .put(
                &large_key,
                Bytes::from(large.clone()),
                "application/octet-stream",
            )
            .await,
        "put 5 MiB body",
    );
    let got = ok(store.get(&large_key).await, "get 5 MiB body")
        .expect("contract violation: 5 MiB object missing after put");
    assert!(
        got.len() == large.len() && got[..] == large[..],
        "contract violation: 5 MiB body did not round-trip (got {} bytes)",
        got.len()
    );

    // Invalid keys are refused by every method.
    let long = "a".repeat(513);
    for bad in [
        "",
        "/abs",
        "trailing/",
        "a//b",
        ".",
        "..",
        "a/../b",
        "a/./b",
        "sp ace",
        "star*",
        "back\\slash",
        "ümlaut",
        &long,
    ] {
        let put = store.put(bad, Bytes::from_static(b"x"), "text/plain").await;
        assert!(
            matches!(put, Err(ObjectError::InvalidKey(_))),
            "contract violation: put({bad:?}) must be InvalidKey, got {put:?}"
        );
        let get = store.get(bad).await;
        assert!(
            matches!(get, Err(ObjectError::InvalidKey(_))),
            "contract violation: get({bad:?}) must be InvalidKey, got {get:?}"
        );
        let del = store.delete(bad).await;
        assert!(
            matches!(del, Err(ObjectError::InvalidKey(_))),
            "contract violation: delete({bad:?}) must be InvalidKey, got {del:?}"
        );
    }

    // Concurrent puts of different keys.
    let keys: Vec<String> = (0..16)
        .map(|i| key(&format!("concurrent/{i}.bin")))
        .collect();
    join_all(
        keys.iter()
            .enumerate()
            .map(|(i, k)| async move {
                ok(
                    store
                        .put(
                            k,
                            Bytes::from(vec![i as u8; 1000 + i]),
                            "application/octet-stream",
                        )
                        .await,
                    "concurrent put",
                );
            })
            .collect(),
    )
    .await;
    for (i, k) in keys.iter().enumerate() {
        assert_eq!(
            ok(store.get(k).await, "get after concurrent put").as_deref(),
            Some(&vec![i as u8; 1000 + i][..]),
            "contract violation: concurrent put of {k} lost or mixed"
        );
    }

    for k in keys.iter().chain([&empty, &bin_key, &large_key]) {
        ok(store.delete(k).await, "cleanup delete");
    }
}

// ---------------------------------------------------------------------------------
// state store

/// Checks a [`StateStore`]. `make` builds the store under test around the clock it is
/// given (expiry must be evaluated against that clock); the clock starts at the real
/// current time, so TTLs set by the suite are in the real future too (a backend that
/// deletes expired items on its own, like DynamoDB TTL, does not interfere).
///
/// Covers get/put/create/update/query/delete, versions, conditional-write conflicts,
/// partition isolation and sort order, TTL expiry, and concurrent conditional writes.
pub async fn state_store_contract<F, Fut>(make: F)
where
    F: FnOnce(Arc<ManualClock>) -> Fut,
    Fut: Future<Output = Arc<dyn StateStore>>,
{
    let clock = Arc::new(ManualClock::new(SystemClock.now()));
    let store = make(Arc::clone(&clock)).await;
    let store = &*store;
    let run = run_id();
    let pk = |name: &str| format!("contract#{run}#{name}");

    state_basics(store, &pk("basic")).await;
    state_conditional_writes(store, &pk("cond")).await;
    state_query(store, &pk("query"), &pk("query-other")).await;
    state_ttl(store, &clock, &pk("ttl")).await;
    state_concurrency(store, &pk("race")).await;
}

fn expect_conflict<T: Debug>(r: Result<T, StoreError>, key: &Key, what: &str) {
    match r {
        Err(StoreError::Conflict { pk, sk }) if pk == key.pk && sk == key.sk => {}
        other => panic!(
            "contract violation: {what} must be Conflict {{ pk: {:?}, sk: {:?} }}, got {other:?}",
            key.pk, key.sk
        ),
    }
}

async fn state_basics(store: &dyn StateStore, pk: &str) {
    let key = Key::new(pk, "meta");
    assert_eq!(
        ok(store.get(&key).await, "get of a missing record"),
        None,
        "contract violation: get of a missing record must be Ok(None)"
    );
    assert_eq!(
        ok(store.put(&key, b"v1", None).await, "put"),
        1,
        "contract violation: a new record has version 1"
    );
    let item = ok(store.get(&key).await, "get after put")
        .expect("contract violation: record missing after put");
    assert_eq!(
        item.key, key,
        "contract violation: get returned the wrong key"
    );
    assert_eq!(
        item.value, b"v1",
        "contract violation: get returned the wrong value"
    );
    assert_eq!(
        item.version, 1,
        "contract violation: wrong version after put"
    );
    assert_eq!(
        item.expires_at, None,
        "contract violation: expiry appeared from nowhere"
    );

    assert_eq!(
        ok(store.put(&key, b"v2", None).await, "overwriting put"),
        2,
        "contract violation: each write increments the version by one"
    );
    let item = ok(store.get(&key).await, "get after overwrite").expect("record present");
    assert_eq!((item.value.as_slice(), item.version), (&b"v2"[..], 2));

    // Binary and empty values.
    let bin_key = Key::new(pk, "binary");
    let binary: Vec<u8> = (0..=255u8).collect();
    ok(store.put(&bin_key, &binary, None).await, "put binary value");
    assert_eq!(
        ok(store.get(&bin_key).await, "get binary value").map(|i| i.value),
        Some(binary),
        "contract violation: binary values must round-trip"
    );
    let empty_key = Key::new(pk, "empty");
    ok(store.put(&empty_key, b"", None).await, "put empty value");
    assert_eq!(
        ok(store.get(&empty_key).await, "get empty value").map(|i| i.value),
        Some(Vec::new()),
        "contract violation: an empty value is a value"
    );
    let big_key = Key::new(pk, "big");
    let big: Vec<u8> = b"{\"x\":\""
        .iter()
        .copied()
        .chain(std::iter::repeat_n(b'x', 64 * 1024))
        .chain(*b"\"}")
        .collect();
    ok(store.put(&big_key, &big, None).await, "put 64 KiB value");
    assert_eq!(
        ok(store.get(&big_key).await, "get 64 KiB value").map(|i| i.value.len()),
        Some(big.len()),
        "contract violation: a 64 KiB value must round-trip"
    );

    // Delete.
    ok(store.delete(&key).await, "delete");
    assert_eq!(
        ok(store.get(&key).await, "get after delete"),
        None,
        "contract violation: a deleted record must be gone"
    );
    ok(
        store.delete(&key).await,
        "delete of a missing record must succeed",
    );
    assert_eq!(
        ok(store.put(&key, b"again", None).await, "put after delete"),
        1,
        "contract violation: a record written after a delete is new (version 1)"
    );
    for k in [&key, &bin_key, &empty_key, &big_key] {
        ok(store.delete(k).await, "cleanup delete");
    }
}

async fn state_conditional_writes(store: &dyn StateStore, pk: &str) {
    let key = Key::new(pk, "tx#abc");
    assert_eq!(
        ok(
            store.create(&key, b"first", None).await,
            "create of a new key"
        ),
        1,
        "contract violation: create returns version 1"
    );
    expect_conflict(
        store.create(&key, b"second", None).await,
        &key,
        "create of an existing key",
    );
    let item = ok(store.get(&key).await, "get after lost create").expect("record present");
    assert_eq!(
        (item.value.as_slice(), item.version),
        (&b"first"[..], 1),
        "contract violation: a lost create must not change the record"
    );

    // Compare-and-set.
    assert_eq!(
        ok(
            store.update(&key, 1, b"u2", None).await,
            "update with the right version"
        ),
        2,
        "contract violation: update returns the next version"
    );
    expect_conflict(
        store.update(&key, 1, b"stale", None).await,
        &key,
        "update with a stale version",
    );
    expect_conflict(
        store.update(&key, 3, b"future", None).await,
        &key,
        "update with a future version",
    );
    let item = ok(store.get(&key).await, "get after lost updates").expect("record present");
    assert_eq!(
        (item.value.as_slice(), item.version),
        (&b"u2"[..], 2),
        "contract violation: a lost update must not change the record"
    );
    assert_eq!(
        ok(store.update(&key, 2, b"u3", None).await, "second update"),
        3
    );
    assert_eq!(
        ok(store.put(&key, b"p4", None).await, "put after updates"),
        4,
        "contract violation: put continues the version sequence"
    );

    // Update of a missing record.
    let missing = Key::new(pk, "tx#missing");
    expect_conflict(
        store.update(&missing, 1, b"x", None).await,
        &missing,
        "update of a missing record",
    );
    assert_eq!(
        ok(store.get(&missing).await, "get after update of missing"),
        None,
        "contract violation: a lost update must not create the record"
    );

    // After a delete, create wins again and update loses.
    ok(store.delete(&key).await, "delete");
    expect_conflict(
        store.update(&key, 4, b"x", None).await,
        &key,
        "update of a deleted record",
    );
    assert_eq!(
        ok(
            store.create(&key, b"reborn", None).await,
            "create after delete"
        ),
        1,
        "contract violation: create after delete starts again at version 1"
    );
    ok(store.delete(&key).await, "cleanup delete");
}

async fn state_query(store: &dyn StateStore, pk: &str, other_pk: &str) {
    assert!(
        ok(store.query(pk).await, "query of an empty partition").is_empty(),
        "contract violation: an empty partition has no records"
    );
    // Written out of order; expected back in byte order of the sort key.
    let sks = [
        "rcpt#2",
        "meta",
        "event#0002",
        "rcpt#10",
        "event#0001",
        "A-upper",
        "rcpt#1",
    ];
    for (i, sk) in sks.iter().enumerate() {
        ok(
            store
                .put(&Key::new(pk, *sk), format!("v{i}").as_bytes(), None)
                .await,
            "put for query",
        );
    }
    // Same sort keys in another partition, and a partition whose name extends ours.
    ok(
        store.put(&Key::new(other_pk, "meta"), b"other", None).await,
        "put other partition",
    );
    let prefix_pk = format!("{pk}x");
    ok(
        store
            .put(&Key::new(&prefix_pk, "meta"), b"prefix", None)
            .await,
        "put prefix partition",
    );

    let items = ok(store.query(pk).await, "query");
    let got: Vec<&str> = items.iter().map(|i| i.key.sk.as_str()).collect();
    let mut want = sks.to_vec();
    want.sort_unstable();
    assert_eq!(
        got, want,
        "contract violation: query must return the partition ordered by sort key"
    );
    for item in &items {
        assert_eq!(
            item.key.pk, pk,
            "contract violation: query returned a foreign partition"
        );
        let i = sks
            .iter()
            .position(|s| *s == item.key.sk)
            .expect("sort key written");
        assert_eq!(
            item.value,
            format!("v{i}").as_bytes(),
            "contract violation: query value"
        );
        assert_eq!(item.version, 1, "contract violation: query version");
    }

    ok(store.delete(&Key::new(pk, "meta")).await, "delete one");
    let after: Vec<String> = ok(store.query(pk).await, "query after delete")
        .into_iter()
        .map(|i| i.key.sk)
        .collect();
    assert!(
        !after.iter().any(|s| s == "meta") && after.len() == sks.len() - 1,
        "contract violation: a deleted record must vanish from query, got {after:?}"
    );
    assert_eq!(
        ok(store.query(other_pk).await, "query other partition").len(),
        1,
        "contract violation: partitions must be isolated"
    );

    for sk in sks {
        ok(store.delete(&Key::new(pk, sk)).await, "cleanup delete");
    }
    ok(
        store.delete(&Key::new(other_pk, "meta")).await,
        "cleanup delete",
    );
    ok(
        store.delete(&Key::new(&prefix_pk, "meta")).await,
        "cleanup delete",
    );
}

async fn state_ttl(store: &dyn StateStore, clock: &ManualClock, pk: &str) {
    let minute = Duration::from_secs(60);
    let expires = clock.now().plus(10 * minute);
    let key = Key::new(pk, "idem#1");
    let forever = Key::new(pk, "forever");
    assert_eq!(
        ok(
            store.create(&key, b"seen", Some(expires)).await,
            "create with TTL"
        ),
        1
    );
    ok(store.put(&forever, b"stays", None).await, "put without TTL");
    let item = ok(store.get(&key).await, "get before expiry")
        .expect("contract violation: record with a future expiry must be live");
    assert_eq!(
        item.expires_at,
        Some(expires),
        "contract violation: expires_at must round-trip"
    );

    clock.advance(5 * minute);
    assert!(
        ok(store.get(&key).await, "get halfway to expiry").is_some(),
        "contract violation: a record must live until its expiry"
    );
    expect_conflict(
        store.create(&key, b"again", None).await,
        &key,
        "create of a live record with TTL",
    );

    clock.advance(6 * minute);
    assert_eq!(
        ok(store.get(&key).await, "get after expiry"),
        None,
        "contract violation: an expired record must vanish from get"
    );
    let live: Vec<String> = ok(store.query(pk).await, "query after expiry")
        .into_iter()
        .map(|i| i.key.sk)
        .collect();
    assert_eq!(
        live,
        vec!["forever".to_string()],
        "contract violation: an expired record must vanish from query"
    );
    expect_conflict(
        store.update(&key, 1, b"late", None).await,
        &key,
        "update of an expired record",
    );
    assert_eq!(
        ok(
            store.create(&key, b"fresh", None).await,
            "create over an expired record"
        ),
        1,
        "contract violation: create must succeed over an expired record, at version 1"
    );
    let item = ok(store.get(&key).await, "get recreated").expect("recreated record present");
    assert_eq!(
        (item.value.as_slice(), item.expires_at),
        (&b"fresh"[..], None),
        "contract violation: create over an expired record must replace it"
    );

    // put over an expired record starts a new record, too.
    let put_key = Key::new(pk, "put-over-expired");
    ok(
        store
            .put(&put_key, b"old", Some(clock.now().plus(minute)))
            .await,
        "put with TTL",
    );
    ok(
        store
            .update(&put_key, 1, b"old2", Some(clock.now().plus(minute)))
            .await,
        "update keeps TTL",
    );
    clock.advance(2 * minute);
    assert_eq!(
        ok(
            store.put(&put_key, b"new", None).await,
            "put over an expired record"
        ),
        1,
        "contract violation: put over an expired record starts again at version 1"
    );

    // update can add and remove an expiry.
    let upd = Key::new(pk, "update-ttl");
    ok(store.put(&upd, b"a", None).await, "put");
    ok(
        store
            .update(&upd, 1, b"b", Some(clock.now().plus(minute)))
            .await,
        "update adding TTL",
    );
    ok(
        store.update(&upd, 2, b"c", None).await,
        "update removing TTL",
    );
    clock.advance(2 * minute);
    assert_eq!(
        ok(store.get(&upd).await, "get after removed TTL").map(|i| i.version),
        Some(3),
        "contract violation: update with expires_at None must clear the expiry"
    );

    // A record written with an expiry already past is absent at once.
    let past = Key::new(pk, "born-expired");
    ok(
        store
            .put(&past, b"x", Some(clock.now().plus(Duration::ZERO)))
            .await,
        "put already expired",
    );
    clock.advance(Duration::from_millis(1));
    assert_eq!(
        ok(store.get(&past).await, "get of a record born expired"),
        None,
        "contract violation: a record whose expiry has passed is absent"
    );

    for sk in [
        "idem#1",
        "forever",
        "put-over-expired",
        "update-ttl",
        "born-expired",
    ] {
        ok(store.delete(&Key::new(pk, sk)).await, "cleanup delete");
    }
}

async fn state_concurrency(store: &dyn StateStore, pk: &str) {
    // Eight concurrent creates of one key: exactly one wins.
    let key = Key::new(pk, "once");
    let results = join_all(
        (0..8)
            .map(|i| {
                let key = &key;
                async move { store.create(key, format!("{i}").as_bytes(), None).await }
            })
            .collect(),
    )
    .await;
    let winners = results.iter().filter(|r| r.is_ok()).count();
    assert!(
        winners == 1
            && results
                .iter()
                .all(|r| r.as_ref().map_or_else(StoreError::is_conflict, |v| *v == 1)),
        "contract violation: 8 concurrent creates must give one win and 7 conflicts, got {results:?}"
    );

    // Eight workers each add 5 to a counter with read-modify-CAS and retry.
    let counter = Key::new(pk, "counter");
    ok(store.put(&counter, b"0", None).await, "put counter");
    join_all(
        (0..8)
            .map(|_| {
                let counter = &counter;
                async move {
                    for _ in 0..5 {
                        let mut attempts = 0;
                        loop {
                            attempts += 1;
                            assert!(attempts < 1000, "contract violation: CAS never succeeded");
                            let item = ok(store.get(counter).await, "get counter")
                                .expect("counter present");
                            let n: u64 = std::str::from_utf8(&item.value)
                                .ok()
                                .and_then(|s| s.parse().ok())
                                .expect("counter holds a number");
                            match store
                                .update(counter, item.version, (n + 1).to_string().as_bytes(), None)
                                .await
                            {
                                Ok(_) => break,
                                Err(e) if e.is_conflict() => tokio::task::yield_now().await,
                                Err(e) => {
                                    panic!("contract violation: CAS update: unexpected error {e:?}")
                                }
                            }
                        }
                    }
                }
            })
            .collect(),
    )
    .await;
    let item = ok(store.get(&counter).await, "get final counter").expect("counter present");
    assert_eq!(
        (item.value.as_slice(), item.version),
        (&b"40"[..], 41),
        "contract violation: 40 CAS increments must give 40 (version 41)"
    );
    ok(store.delete(&key).await, "cleanup delete");
    ok(store.delete(&counter).await, "cleanup delete");
}

// ---------------------------------------------------------------------------------
// queue

/// The queues [`queue_contract_with_prefix`] uses, as suffixes of its prefix
/// (`<prefix>-<suffix>`); the `redrive` one also uses its dead-letter queue
/// (`<prefix>-redrive-dlq`). A backend whose queues must exist beforehand creates these.
pub const QUEUE_CONTRACT_SUFFIXES: [&str; 10] = [
    "basic",
    "delay",
    "poll",
    "redeliver",
    "visibility",
    "redrive",
    "depth",
    "batch",
    "limits",
    "sendbatch",
];

/// Every queue name the suite touches for `prefix`, dead-letter queues included (each
/// `-dlq` twin is listed after its queue). The `redrive` queue must send messages received
/// `max_receives` times to its `-dlq` twin.
pub fn queue_contract_queue_names(prefix: &str) -> Vec<String> {
    QUEUE_CONTRACT_SUFFIXES
        .iter()
        .flat_map(|s| {
            let q = format!("{prefix}-{s}");
            [queues::dead_letter(&q), q].into_iter().rev()
        })
        .collect()
}

/// Checks a [`Queue`] whose dead-letter threshold is `max_receives` (>= 2), on fresh
/// queues named `ct<random>-<suffix>` (see [`QUEUE_CONTRACT_SUFFIXES`]).
///
/// Bodies are ASCII (SQS bodies must be text). Covers send/receive/delete, delays,
/// long polling and its wake-up on send, visibility timeouts and redelivery with the
/// receive count, stale receipts (after redelivery and after delete: `StaleReceipt`, as
/// the port documents), `set_visibility` (extend and zero), dead-lettering after
/// `max_receives` receives, depth, batches, size limit and queue-name validation.
///
/// Note for an SQS adapter: `depth` must include delayed messages
/// (`ApproximateNumberOfMessages` + `...NotVisible` + `...Delayed`). For SQS's answers
/// to stale receipts see [`StaleReceipts`] and [`queue_contract_with_options`].
pub async fn queue_contract(queue: &dyn Queue, max_receives: u32) {
    queue_contract_with_prefix(queue, max_receives, &format!("ct{}", run_id())).await;
}

/// What a backend does with the receipt of an earlier delivery of a message (after
/// the visibility timeout ran out and it was delivered again) or of a message already
/// deleted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StaleReceipts {
    /// `delete` and `set_visibility` answer `StaleReceipt` and leave the message alone
    /// (the embedded queue: receipts are per delivery and checked).
    Detected,
    /// The backend cannot tell (SQS): `delete` with such a receipt may answer `Ok` and
    /// may even delete the message (moto does; AWS documents "succeeds, but the message
    /// might not be deleted"), and `set_visibility` may change its visibility. The suite
    /// then accepts `Ok` or `StaleReceipt` there, and checks only what stays true: a
    /// receipt no delivery ever had is `StaleReceipt`, and the current receipt always
    /// works. Handlers are idempotent, so a late worker deleting a redelivered job
    /// only ends work that has been done.
    Undetected,
}

/// [`queue_contract`] with a chosen prefix (for backends whose queues are created
/// ahead of the run: see [`queue_contract_queue_names`]).
pub async fn queue_contract_with_prefix(queue: &dyn Queue, max_receives: u32, prefix: &str) {
    queue_contract_with_options(queue, max_receives, prefix, StaleReceipts::Detected).await;
}

/// [`queue_contract_with_prefix`] for a backend with the given [`StaleReceipts`]
/// behaviour.
pub async fn queue_contract_with_options(
    queue: &dyn Queue,
    max_receives: u32,
    prefix: &str,
    stale: StaleReceipts,
) {
    // The redelivery scenarios receive a message twice before deleting it.
    assert!(
        max_receives >= 2,
        "queue_contract needs max_receives >= 2 (got {max_receives})"
    );
    let name = |s: &str| format!("{prefix}-{s}");
    let scenarios: Vec<Scenario<'_>> = vec![
        Box::pin(queue_basic(queue, name("basic"), stale)),
        Box::pin(queue_delay(queue, name("delay"))),
        Box::pin(queue_long_poll(queue, name("poll"))),
        Box::pin(queue_redelivery(queue, name("redeliver"), stale)),
        Box::pin(queue_visibility(queue, name("visibility"))),
        Box::pin(queue_redrive(queue, name("redrive"), max_receives)),
        Box::pin(queue_depth(queue, name("depth"))),
        Box::pin(queue_batch(queue, name("batch"))),
        Box::pin(queue_send_batch(queue, name("sendbatch"))),
        Box::pin(queue_limits(queue, name("limits"))),
    ];
    join_all(scenarios).await;
}

const LONG: Duration = Duration::from_secs(30);
const SECOND: Duration = Duration::from_secs(1);

#[track_caller]
fn one(msgs: Vec<QueueMessage>, what: &str) -> QueueMessage {
    let n = msgs.len();
    let mut msgs = msgs.into_iter();
    match (msgs.next(), n) {
        (Some(m), 1) => m,
        _ => panic!("contract violation: {what}: expected exactly one message, got {n}"),
    }
}

#[track_caller]
fn expect_stale(r: Result<(), QueueError>, what: &str) {
    assert!(
        matches!(r, Err(QueueError::StaleReceipt)),
        "contract violation: {what} must be StaleReceipt, got {r:?}"
    );
}

/// `StaleReceipt`, or with [`StaleReceipts::Undetected`] also `Ok`. Returns whether the
/// call was accepted.
#[track_caller]
fn expect_stale_or_ok(r: Result<(), QueueError>, stale: StaleReceipts, what: &str) -> bool {
    match (r, stale) {
        (Err(QueueError::StaleReceipt), _) => false,
        (Ok(()), StaleReceipts::Undetected) => true,
        (r, StaleReceipts::Detected) => {
            panic!("contract violation: {what} must be StaleReceipt, got {r:?}")
        }
        (r, StaleReceipts::Undetected) => {
            panic!("contract violation: {what} must be Ok or StaleReceipt, got {r:?}")
        }
    }
}

async fn queue_basic(q: &dyn Queue, name: String, stale: StaleReceipts) {
    let name = name.as_str();
    assert_eq!(
        ok(q.depth(name).await, "depth of a new queue"),
        0,
        "contract violation: new queue not empty"
    );
    let body = br#"{"job":"contract","n":1}"#;
    let id = ok(q.send(name, body, Duration::ZERO).await, "send");
    assert!(
        !id.is_empty(),
        "contract violation: send must return a message id"
    );
    assert_eq!(
        ok(q.depth(name).await, "depth after send"),
        1,
        "contract violation: depth counts waiting messages"
    );

    let m = one(
        ok(q.receive(name, 10, LONG, 2 * SECOND).await, "receive"),
        "receive after send",
    );
    assert_eq!(
        m.id, id,
        "contract violation: received id differs from the sent id"
    );
    assert_eq!(m.body, body, "contract violation: body must round-trip");
    assert_eq!(
        m.receive_count, 1,
        "contract violation: first delivery has receive_count 1"
    );
    assert!(!m.receipt.is_empty(), "contract violation: empty receipt");
    assert_eq!(
        ok(q.depth(name).await, "depth in flight"),
        1,
        "contract violation: depth counts in-flight messages"
    );
    assert!(
        ok(
            q.receive(name, 10, LONG, Duration::ZERO).await,
            "receive while in flight"
        )
        .is_empty(),
        "contract violation: an in-flight message must stay hidden"
    );

    ok(q.delete(name, &m.receipt).await, "delete");
    assert_eq!(
        ok(q.depth(name).await, "depth after delete"),
        0,
        "contract violation: delete must remove the message"
    );
    expect_stale_or_ok(
        q.delete(name, &m.receipt).await,
        stale,
        "delete with the receipt of a deleted message",
    );
    expect_stale_or_ok(
        q.set_visibility(name, &m.receipt, SECOND).await,
        stale,
        "set_visibility with the receipt of a deleted message",
    );
    assert_eq!(
        ok(q.depth(name).await, "depth after stale receipts"),
        0,
        "contract violation: a deleted message came back"
    );
    expect_stale(
        q.delete(name, "no-such-receipt").await,
        "delete with a made-up receipt",
    );
    expect_stale(
        q.set_visibility(name, "no-such-receipt", SECOND).await,
        "set_visibility with a made-up receipt",
    );

    let a = ok(q.send(name, b"a", Duration::ZERO).await, "send a");
    let b = ok(q.send(name, b"b", Duration::ZERO).await, "send b");
    assert_ne!(a, b, "contract violation: message ids must be unique");
    drain(q, name, 2).await;
}

/// Receives and deletes `n` messages (test cleanup).
async fn drain(q: &dyn Queue, name: &str, n: usize) {
    let mut seen = 0;
    for _ in 0..20 {
        if seen >= n {
            break;
        }
        for m in ok(q.receive(name, 10, LONG, SECOND).await, "drain receive") {
            ok(q.delete(name, &m.receipt).await, "drain delete");
            seen += 1;
        }
    }
    assert_eq!(
        seen, n,
        "contract violation: expected {n} messages in {name}, found {seen}"
    );
}

async fn queue_delay(q: &dyn Queue, name: String) {
    let name = name.as_str();
    let sent = Instant::now();
    let id = ok(q.send(name, b"later", SECOND).await, "send with delay");
    assert!(
        ok(
            q.receive(name, 10, LONG, Duration::ZERO).await,
            "receive before the delay"
        )
        .is_empty(),
        "contract violation: a delayed message must not be delivered before its delay"
    );
    assert_eq!(
        ok(q.depth(name).await, "depth with a delayed message"),
        1,
        "contract violation: depth counts delayed messages"
    );
    let m = one(
        ok(
            q.receive(name, 10, LONG, 3 * SECOND).await,
            "receive after the delay",
        ),
        "delayed message",
    );
    assert_eq!(m.id, id);
    assert!(
        sent.elapsed() >= Duration::from_millis(900),
        "contract violation: a message delayed 1 s arrived after {:?}",
        sent.elapsed()
    );
    ok(q.delete(name, &m.receipt).await, "delete delayed");
}

async fn queue_long_poll(q: &dyn Queue, name: String) {
    let name = name.as_str();
    let started = Instant::now();
    assert!(
        ok(
            q.receive(name, 1, LONG, SECOND).await,
            "long poll on an empty queue"
        )
        .is_empty(),
        "contract violation: an empty queue delivered something"
    );
    assert!(
        started.elapsed() >= Duration::from_millis(900),
        "contract violation: a 1 s long poll returned empty after {:?}",
        started.elapsed()
    );

    // A receive waiting up to 5 s must return soon after a send arrives.
    let started = Instant::now();
    let (got, ()) = tokio::join!(q.receive(name, 1, LONG, 5 * SECOND), async {
        tokio::time::sleep(Duration::from_millis(300)).await;
        ok(
            q.send(name, b"wake up", Duration::ZERO).await,
            "send during long poll",
        );
    });
    let m = one(ok(got, "long poll"), "long poll woken by a send");
    assert_eq!(m.body, b"wake up");
    assert!(
        started.elapsed() < Duration::from_secs(4),
        "contract violation: long poll did not wake on send (took {:?} of its 5 s)",
        started.elapsed()
    );
    ok(q.delete(name, &m.receipt).await, "delete");
}

async fn queue_redelivery(q: &dyn Queue, name: String, stale: StaleReceipts) {
    let name = name.as_str();
    let id = ok(q.send(name, b"retry me", Duration::ZERO).await, "send");
    let first = one(
        ok(
            q.receive(name, 10, SECOND, 2 * SECOND).await,
            "first receive",
        ),
        "first delivery",
    );
    assert_eq!((first.id.as_str(), first.receive_count), (id.as_str(), 1));
    assert!(
        ok(
            q.receive(name, 10, LONG, Duration::ZERO).await,
            "receive within visibility"
        )
        .is_empty(),
        "contract violation: message visible again before its visibility timeout"
    );
    let second = one(
        ok(
            q.receive(name, 10, LONG, 3 * SECOND).await,
            "receive after visibility timeout",
        ),
        "redelivery after the visibility timeout",
    );
    assert_eq!(
        second.id, id,
        "contract violation: redelivery must keep the message id"
    );
    assert_eq!(
        second.body, b"retry me",
        "contract violation: redelivery must keep the body"
    );
    assert_eq!(
        second.receive_count, 2,
        "contract violation: redelivery must increment receive_count"
    );
    assert_ne!(
        second.receipt, first.receipt,
        "contract violation: each delivery needs a fresh receipt"
    );

    // Backends that cannot tell may let the old receipt act on the message; only the
    // visibility change is tried (deleting would end the scenario), and with the
    // current receipt the message can still be deleted afterwards.
    let moved = expect_stale_or_ok(
        q.set_visibility(name, &first.receipt, LONG).await,
        stale,
        "set_visibility with a receipt from before redelivery",
    );
    if stale == StaleReceipts::Detected {
        expect_stale(
            q.delete(name, &first.receipt).await,
            "delete with a receipt from before redelivery",
        );
        assert_eq!(
            ok(q.depth(name).await, "depth"),
            1,
            "contract violation: a stale receipt must not delete"
        );
    }
    let _ = moved;
    ok(
        q.delete(name, &second.receipt).await,
        "delete with the current receipt",
    );
    assert_eq!(ok(q.depth(name).await, "depth after delete"), 0);
    if stale == StaleReceipts::Undetected {
        expect_stale_or_ok(
            q.delete(name, &first.receipt).await,
            stale,
            "delete with a receipt from before redelivery, after the delete",
        );
        assert_eq!(ok(q.depth(name).await, "depth after stale delete"), 0);
    }
}

async fn queue_visibility(q: &dyn Queue, name: String) {
    let name = name.as_str();
    let id = ok(q.send(name, b"slow job", Duration::ZERO).await, "send");
    let m = one(
        ok(q.receive(name, 10, SECOND, 2 * SECOND).await, "receive"),
        "first delivery",
    );
    ok(
        q.set_visibility(name, &m.receipt, LONG).await,
        "extend visibility",
    );
    // Without the extension it would be back after 1 s.
    assert!(
        ok(
            q.receive(name, 10, LONG, Duration::from_millis(1500)).await,
            "receive after extension"
        )
        .is_empty(),
        "contract violation: set_visibility must extend the visibility timeout"
    );
    ok(
        q.set_visibility(name, &m.receipt, Duration::ZERO).await,
        "visibility zero",
    );
    let again = one(
        ok(
            q.receive(name, 10, LONG, 2 * SECOND).await,
            "receive after visibility zero",
        ),
        "delivery after set_visibility(0)",
    );
    assert_eq!((again.id.as_str(), again.receive_count), (id.as_str(), 2));
    ok(q.delete(name, &again.receipt).await, "delete");
}

async fn queue_redrive(q: &dyn Queue, name: String, max_receives: u32) {
    let name = name.as_str();
    let dlq = queues::dead_letter(name);
    let body = br#"{"job":"poison"}"#;
    let id = ok(q.send(name, body, Duration::ZERO).await, "send");
    for n in 1..=max_receives {
        let m = one(
            ok(
                q.receive(name, 10, LONG, 2 * SECOND).await,
                "receive before redrive",
            ),
            "delivery before the limit",
        );
        assert_eq!(
            (m.id.as_str(), m.receive_count),
            (id.as_str(), n),
            "contract violation: delivery {n}"
        );
        ok(
            q.set_visibility(name, &m.receipt, Duration::ZERO).await,
            "release",
        );
    }
    assert!(
        ok(
            q.receive(name, 10, LONG, SECOND).await,
            "receive after the limit"
        )
        .is_empty(),
        "contract violation: a message received max_receives ({max_receives}) times was delivered again"
    );
    let dead = one(
        ok(
            q.receive(&dlq, 10, LONG, 3 * SECOND).await,
            "receive from the DLQ",
        ),
        "dead letter",
    );
    assert_eq!(
        dead.id, id,
        "contract violation: a dead letter must keep its id"
    );
    assert_eq!(
        dead.body, body,
        "contract violation: a dead letter must keep its body"
    );
    assert_eq!(
        ok(q.depth(name).await, "source depth"),
        0,
        "contract violation: dead letter still in its source queue"
    );
    assert_eq!(
        ok(q.depth(&dlq).await, "DLQ depth"),
        1,
        "contract violation: DLQ depth"
    );
    ok(q.delete(&dlq, &dead.receipt).await, "delete from the DLQ");
    assert_eq!(ok(q.depth(&dlq).await, "DLQ depth after delete"), 0);
    assert!(
        ok(
            q.receive(name, 10, LONG, Duration::ZERO).await,
            "source after DLQ delete"
        )
        .is_empty(),
        "contract violation: dead letter reappeared in its source queue"
    );
}

async fn queue_depth(q: &dyn Queue, name: String) {
    let name = name.as_str();
    ok(q.send(name, b"1", Duration::ZERO).await, "send 1");
    ok(q.send(name, b"2", Duration::ZERO).await, "send 2");
    ok(q.send(name, b"3", LONG).await, "send delayed");
    assert_eq!(
        ok(q.depth(name).await, "depth"),
        3,
        "contract violation: depth counts waiting and delayed messages"
    );
    let m = one(
        ok(q.receive(name, 1, LONG, 2 * SECOND).await, "receive one"),
        "receive max 1",
    );
    assert_eq!(
        ok(q.depth(name).await, "depth"),
        3,
        "contract violation: depth counts in-flight messages"
    );
    ok(q.delete(name, &m.receipt).await, "delete");
    assert_eq!(
        ok(q.depth(name).await, "depth"),
        2,
        "contract violation: depth after delete"
    );
    drain(q, name, 1).await;
    assert_eq!(
        ok(q.depth(name).await, "depth"),
        1,
        "contract violation: only the delayed message is left"
    );
}

async fn queue_batch(q: &dyn Queue, name: String) {
    let name = name.as_str();
    let mut sent = Vec::new();
    for i in 0..5 {
        sent.push(ok(
            q.send(name, format!("job-{i}").as_bytes(), Duration::ZERO)
                .await,
            "send batch",
        ));
    }
    let first = ok(q.receive(name, 3, LONG, 2 * SECOND).await, "receive max 3");
    assert!(
        (1..=3).contains(&first.len()),
        "contract violation: receive(max 3) returned {} messages",
        first.len()
    );
    let mut got = first;
    for _ in 0..10 {
        if got.len() >= 5 {
            break;
        }
        got.extend(ok(q.receive(name, 10, LONG, SECOND).await, "receive rest"));
    }
    let mut ids: Vec<&str> = got.iter().map(|m| m.id.as_str()).collect();
    ids.sort_unstable();
    let mut want: Vec<&str> = sent.iter().map(String::as_str).collect();
    want.sort_unstable();
    assert_eq!(ids, want, "contract violation: every message exactly once");
    for m in &got {
        let i = sent.iter().position(|s| *s == m.id).expect("known id");
        assert_eq!(
            m.body,
            format!("job-{i}").as_bytes(),
            "contract violation: bodies mixed up"
        );
        ok(q.delete(name, &m.receipt).await, "delete batch");
    }
    assert_eq!(ok(q.depth(name).await, "depth"), 0);
}

async fn queue_send_batch(q: &dyn Queue, name: String) {
    let name = name.as_str();
    // 23 bodies: more than one SQS batch (ten entries a request).
    let bodies: Vec<Vec<u8>> = (0..23).map(|i| format!("batch-{i}").into_bytes()).collect();
    let refs: Vec<&[u8]> = bodies.iter().map(Vec::as_slice).collect();
    let ids = ok(q.send_batch(name, &refs).await, "send_batch");
    assert_eq!(
        ids.len(),
        bodies.len(),
        "contract violation: send_batch must return one id per body"
    );
    let mut seen = std::collections::HashMap::new();
    for _ in 0..20 {
        if seen.len() >= bodies.len() {
            break;
        }
        for m in ok(q.receive(name, 10, LONG, SECOND).await, "receive batch") {
            ok(q.delete(name, &m.receipt).await, "delete");
            seen.insert(m.id, m.body);
        }
    }
    for (id, body) in ids.iter().zip(&bodies) {
        assert_eq!(
            seen.get(id),
            Some(body),
            "contract violation: send_batch id {id} must carry its own body"
        );
    }
    let too_big = vec![b'x'; 256 * 1024 + 1];
    let r = q.send_batch(name, &[&too_big]).await;
    assert!(
        matches!(r, Err(QueueError::TooLarge(n)) if n == too_big.len()),
        "contract violation: send_batch with a body over 256 KiB must be TooLarge, got {r:?}"
    );
    assert!(
        ok(q.send_batch(name, &[]).await, "empty send_batch").is_empty(),
        "contract violation: an empty batch sends nothing"
    );
}

async fn queue_limits(q: &dyn Queue, name: String) {
    let name = name.as_str();
    let too_big = vec![b'x'; 256 * 1024 + 1];
    let r = q.send(name, &too_big, Duration::ZERO).await;
    assert!(
        matches!(r, Err(QueueError::TooLarge(n)) if n == too_big.len()),
        "contract violation: a body over 256 KiB must be TooLarge(len), got {r:?}"
    );
    let big = vec![b'y'; 200 * 1024];
    ok(q.send(name, &big, Duration::ZERO).await, "send 200 KiB");
    let m = one(
        ok(
            q.receive(name, 1, LONG, 2 * SECOND).await,
            "receive 200 KiB",
        ),
        "large message",
    );
    assert!(
        m.body == big,
        "contract violation: a 200 KiB body must round-trip"
    );
    ok(q.delete(name, &m.receipt).await, "delete");

    // Names no backend accepts (SQS: 1 to 80 of [A-Za-z0-9_-]).
    let too_long = "q".repeat(81);
    for bad in ["", "Not A Queue!", "slash/name", too_long.as_str()] {
        let unknown = |what: &str, r: Result<(), QueueError>| {
            assert!(
                matches!(r, Err(QueueError::UnknownQueue(_))),
                "contract violation: {what} on queue {bad:?} must be UnknownQueue, got {r:?}"
            );
        };
        unknown("send", q.send(bad, b"x", Duration::ZERO).await.map(|_| ()));
        unknown(
            "receive",
            q.receive(bad, 1, LONG, Duration::ZERO).await.map(|_| ()),
        );
        unknown("delete", q.delete(bad, "r").await);
        unknown("set_visibility", q.set_visibility(bad, "r", SECOND).await);
        unknown("depth", q.depth(bad).await.map(|_| ()));
    }
}

// ---------------------------------------------------------------------------------
// intake

/// What every [`super::Intake`] promises, checked through the object store and the
/// queue it writes to: an accepted PDU is stored and its job queued on `queue_name`
/// (a queue the backend can send to and that this suite may drain); a refused one
/// leaves no object behind; a bad key is refused as such.
pub async fn intake_contract(
    intake: &dyn super::Intake,
    objects: &dyn ObjectStore,
    queue: &dyn Queue,
    queue_name: &str,
) {
    use super::{Arrival, IntakeError};
    let run = run_id();
    let arrival = |key, queue, job| Arrival {
        key,
        body: Bytes::from_static(b"raw PDU"),
        content_type: "message/rfc822",
        queue,
        job,
    };

    let key = format!("contract/{run}/in/accepted.eml");
    let job = format!("intake-{run}");
    ok(
        intake
            .accept(arrival(&key, queue_name, job.as_bytes()))
            .await,
        "accept",
    );
    assert_eq!(
        ok(objects.get(&key).await, "get after accept").as_deref(),
        Some(&b"raw PDU"[..]),
        "contract violation: an accepted PDU must be stored"
    );
    let got = ok(
        queue
            .receive(
                queue_name,
                10,
                Duration::from_secs(30),
                Duration::from_secs(5),
            )
            .await,
        "receive after accept",
    );
    let Some(mine) = got.iter().find(|m| m.body == job.as_bytes()) else {
        panic!("contract violation: an accepted PDU's job must be queued");
    };
    ok(
        queue.delete(queue_name, &mine.receipt).await,
        "delete the job",
    );

    // The job cannot be queued: the PDU is refused and not kept.
    let refused = format!("contract/{run}/in/refused.eml");
    let err = intake
        .accept(arrival(&refused, "No Such Queue!", b"job"))
        .await;
    assert!(
        err.is_err(),
        "contract violation: accept onto a queue that cannot take the job must fail"
    );
    assert_eq!(
        ok(objects.get(&refused).await, "get after a refused accept"),
        None,
        "contract violation: a refused PDU must not stay stored"
    );

    // A bad key (with a job that cannot be queued either, so nothing is left over).
    let err = intake
        .accept(arrival("contract/../escape", "No Such Queue!", b"job"))
        .await;
    assert!(
        matches!(err, Err(IntakeError::Store(ObjectError::InvalidKey(_)))),
        "contract violation: a bad key must be refused as InvalidKey, got {err:?}"
    );
}
