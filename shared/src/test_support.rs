//! In-memory test doubles of the ports, for fast handler tests. Not used by any
//! production path (the embedded adapters are the durable implementations).

use crate::domain::Timestamp;
use crate::ports::{
    Clock, Envelope, Item, Key, Mm4Transport, ObjectError, ObjectStore, StateStore, StoreError,
    SystemClock, TransportError, Version, validate_key,
};
use async_trait::async_trait;
use bytes::Bytes;
use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard};

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// A `StateStore` in a `BTreeMap`, with versions and expiry by an injected clock.
pub struct MemoryState {
    items: Mutex<BTreeMap<Key, Item>>,
    clock: Arc<dyn Clock>,
}

impl Default for MemoryState {
    fn default() -> Self {
        MemoryState::with_clock(Arc::new(SystemClock))
    }
}

impl MemoryState {
    pub fn with_clock(clock: Arc<dyn Clock>) -> Self {
        MemoryState {
            items: Mutex::new(BTreeMap::new()),
            clock,
        }
    }
    fn live(&self, item: &Item) -> bool {
        item.expires_at.is_none_or(|t| t > self.clock.now())
    }
    fn conflict(key: &Key) -> StoreError {
        StoreError::Conflict {
            pk: key.pk.clone(),
            sk: key.sk.clone(),
        }
    }
}

#[async_trait]
impl StateStore for MemoryState {
    async fn get(&self, key: &Key) -> Result<Option<Item>, StoreError> {
        Ok(lock(&self.items).get(key).filter(|i| self.live(i)).cloned())
    }
    async fn put(
        &self,
        key: &Key,
        value: &[u8],
        expires_at: Option<Timestamp>,
    ) -> Result<Version, StoreError> {
        let mut items = lock(&self.items);
        let version = items
            .get(key)
            .filter(|i| self.live(i))
            .map_or(1, |i| i.version + 1);
        items.insert(
            key.clone(),
            Item {
                key: key.clone(),
                value: value.to_vec(),
                version,
                expires_at,
            },
        );
        Ok(version)
    }
    async fn create(
        &self,
        key: &Key,
        value: &[u8],
        expires_at: Option<Timestamp>,
    ) -> Result<Version, StoreError> {
        let mut items = lock(&self.items);
        if items.get(key).is_some_and(|i| self.live(i)) {
            return Err(Self::conflict(key));
        }
        items.insert(
            key.clone(),
            Item {
                key: key.clone(),
                value: value.to_vec(),
                version: 1,
                expires_at,
            },
        );
        Ok(1)
    }
    async fn update(
        &self,
        key: &Key,
        expected: Version,
        value: &[u8],
        expires_at: Option<Timestamp>,
    ) -> Result<Version, StoreError> {
        let mut items = lock(&self.items);
        match items.get(key).filter(|i| self.live(i)) {
            Some(i) if i.version == expected => {
                let version = expected + 1;
                items.insert(
                    key.clone(),
                    Item {
                        key: key.clone(),
                        value: value.to_vec(),
                        version,
                        expires_at,
                    },
                );
                Ok(version)
            }
            _ => Err(Self::conflict(key)),
        }
    }
    async fn query(&self, pk: &str) -> Result<Vec<Item>, StoreError> {
        Ok(lock(&self.items)
            .values()
            .filter(|i| i.key.pk == pk && self.live(i))
            .cloned()
            .collect())
    }
    async fn delete(&self, key: &Key) -> Result<(), StoreError> {
        lock(&self.items).remove(key);
        Ok(())
    }
}

/// An `ObjectStore` in a `HashMap`; `fail_puts` makes every put fail (for 451 tests).
#[derive(Default)]
pub struct MemoryObjects {
    pub objects: Mutex<HashMap<String, Bytes>>,
    pub fail_puts: std::sync::atomic::AtomicBool,
}

#[async_trait]
impl ObjectStore for MemoryObjects {
    async fn put(&self, key: &str, body: Bytes, _content_type: &str) -> Result<(), ObjectError> {
        validate_key(key)?;
        if self.fail_puts.load(std::sync::atomic::Ordering::SeqCst) {
            return Err(ObjectError::Backend("injected failure".into()));
        }
        lock(&self.objects).insert(key.to_string(), body);
        Ok(())
    }
    async fn get(&self, key: &str) -> Result<Option<Bytes>, ObjectError> {
        validate_key(key)?;
        Ok(lock(&self.objects).get(key).cloned())
    }
    async fn delete(&self, key: &str) -> Result<(), ObjectError> {
        lock(&self.objects).remove(key);
        Ok(())
    }
}

/// One send a [`RecordingTransport`] saw.
#[derive(Debug, Clone, PartialEq)]
pub struct SentPdu {
    pub partner: String,
    pub envelope: Envelope,
    pub message: Vec<u8>,
}

/// An `Mm4Transport` that records what it is asked to send and answers from a script
/// (default: accept).
#[derive(Default)]
pub struct RecordingTransport {
    pub sent: Mutex<Vec<SentPdu>>,
    pub script: Mutex<VecDeque<Result<String, TransportError>>>,
}

impl RecordingTransport {
    pub fn push_result(&self, r: Result<String, TransportError>) {
        lock(&self.script).push_back(r);
    }
    pub fn sent(&self) -> Vec<SentPdu> {
        lock(&self.sent).clone()
    }
}

#[async_trait]
impl Mm4Transport for RecordingTransport {
    async fn send(
        &self,
        partner: &str,
        envelope: &Envelope,
        message: &[u8],
    ) -> Result<String, TransportError> {
        lock(&self.sent).push(SentPdu {
            partner: partner.to_string(),
            envelope: envelope.clone(),
            message: message.to_vec(),
        });
        lock(&self.script)
            .pop_front()
            .unwrap_or_else(|| Ok("250 2.0.0 Ok".into()))
    }
}
