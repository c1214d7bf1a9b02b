use crate::domain::Timestamp;
use async_trait::async_trait;

/// A record's key: a partition (`msg#<id>`, `alias#...`) and a sort key within it.
/// Maps directly onto a DynamoDB table with a partition and a sort key.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Key {
    pub pk: String,
    pub sk: String,
}

impl Key {
    pub fn new(pk: impl Into<String>, sk: impl Into<String>) -> Self {
        Key {
            pk: pk.into(),
            sk: sk.into(),
        }
    }
}

/// Monotonic per-record version used for compare-and-set. A new record has version 1.
pub type Version = u64;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Item {
    pub key: Key,
    pub value: Vec<u8>,
    pub version: Version,
    /// After this instant the record is gone: `get` and `query` no longer return it.
    pub expires_at: Option<Timestamp>,
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A conditional write lost: the record exists (create) or its version moved on
    /// or it vanished (update). Callers re-read and decide.
    #[error("conditional write failed for {pk}/{sk}")]
    Conflict { pk: String, sk: String },
    #[error("state store backend error: {0}")]
    Backend(String),
}

impl StoreError {
    pub fn is_conflict(&self) -> bool {
        matches!(self, StoreError::Conflict { .. })
    }
}

/// Key-value state: messages, recipients, events, idempotency and correlation keys.
///
/// Values are opaque bytes (callers store JSON). Expiry is evaluated against the
/// store's clock; expired records behave as absent everywhere.
#[async_trait]
pub trait StateStore: Send + Sync {
    async fn get(&self, key: &Key) -> Result<Option<Item>, StoreError>;
    /// Unconditional write (create or overwrite); returns the new version.
    async fn put(
        &self,
        key: &Key,
        value: &[u8],
        expires_at: Option<Timestamp>,
    ) -> Result<Version, StoreError>;
    /// Conditional create: `Conflict` if a live record already has this key. The
    /// building block of idempotency ("have I seen this transaction id?").
    async fn create(
        &self,
        key: &Key,
        value: &[u8],
        expires_at: Option<Timestamp>,
    ) -> Result<Version, StoreError>;
    /// Compare-and-set: writes only if the live record's version is `expected`;
    /// `Conflict` otherwise (including when the record is missing).
    async fn update(
        &self,
        key: &Key,
        expected: Version,
        value: &[u8],
        expires_at: Option<Timestamp>,
    ) -> Result<Version, StoreError>;
    /// Every live record of a partition, ordered by sort key.
    async fn query(&self, pk: &str) -> Result<Vec<Item>, StoreError>;
    /// Deleting a missing record is not an error.
    async fn delete(&self, key: &Key) -> Result<(), StoreError>;
}
