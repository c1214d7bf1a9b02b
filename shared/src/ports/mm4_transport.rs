use async_trait::async_trait;

/// The SMTP envelope of an MM4 PDU.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Envelope {
    pub mail_from: String,
    pub rcpt_to: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TransportError {
    /// Try again later: connection refused/reset/timed out, TLS handshake failure,
    /// an SMTP 4xx reply.
    #[error("temporary delivery failure: {0}")]
    Transient(String),
    /// Do not retry: an SMTP 5xx reply (the text includes the code).
    #[error("permanent delivery failure: {0}")]
    Permanent(String),
    #[error("no partner named {0:?} is configured")]
    UnknownPartner(String),
}

impl TransportError {
    pub fn is_transient(&self) -> bool {
        matches!(self, TransportError::Transient(_))
    }
}

/// Outbound MM4: sends one PDU to a partner MMSC over a new (or pooled) SMTP session.
/// Returns the server's final reply text on acceptance.
#[async_trait]
pub trait Mm4Transport: Send + Sync {
    async fn send(
        &self,
        partner: &str,
        envelope: &Envelope,
        message: &[u8],
    ) -> Result<String, TransportError>;
}
