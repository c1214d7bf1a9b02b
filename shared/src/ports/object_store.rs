use async_trait::async_trait;
use bytes::Bytes;

#[derive(Debug, thiserror::Error)]
pub enum ObjectError {
    #[error("invalid object key {0:?}")]
    InvalidKey(String),
    #[error("object store I/O error on {key}: {source}")]
    Io {
        key: String,
        #[source]
        source: std::io::Error,
    },
    #[error("object store backend error: {0}")]
    Backend(String),
}

/// Content storage: raw PDUs as received and PDUs we build for delivery.
///
/// `put` is durable when it returns `Ok` (a front answers its peer only after that).
/// Keys are `/`-separated, of `[A-Za-z0-9._-]` segments, no empty or dot-only segment.
#[async_trait]
pub trait ObjectStore: Send + Sync {
    async fn put(&self, key: &str, body: Bytes, content_type: &str) -> Result<(), ObjectError>;
    /// `Ok(None)` when there is no such object.
    async fn get(&self, key: &str) -> Result<Option<Bytes>, ObjectError>;
    /// Deleting a missing object is not an error.
    async fn delete(&self, key: &str) -> Result<(), ObjectError>;
}

/// Validates an object key (shared by every adapter so they agree).
pub fn validate_key(key: &str) -> Result<(), ObjectError> {
    let ok = !key.is_empty()
        && key.len() <= 512
        && key.split('/').all(|seg| {
            !seg.is_empty()
                && seg != "."
                && seg != ".."
                && seg
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
        });
    if ok {
        Ok(())
    } else {
        Err(ObjectError::InvalidKey(key.to_string()))
    }
}
