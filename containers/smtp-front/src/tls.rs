//! STARTTLS server configuration: a PEM certificate chain and private key
//! (`smtp.tls_cert`, `smtp.tls_key`), rustls with the ring provider.
//!
//! PEM is read with `rustls::pki_types::pem::PemObject`, the maintained successor of
//! `rustls-pemfile` (which is archived and flagged unmaintained, RUSTSEC-2025-0134);
//! it accepts the same files (PKCS#8, PKCS#1 and SEC1 keys).

use crate::SmtpFrontError;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use std::path::Path;
use std::sync::Arc;

/// Builds the TLS acceptor for STARTTLS.
pub fn load_acceptor(cert: &Path, key: &Path) -> Result<tokio_rustls::TlsAcceptor, SmtpFrontError> {
    let certs = CertificateDer::pem_file_iter(cert)
        .map_err(|e| SmtpFrontError::pem(cert, e))?
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| SmtpFrontError::pem(cert, e))?;
    if certs.is_empty() {
        return Err(SmtpFrontError::NoCertificate(cert.to_path_buf()));
    }
    let key = PrivateKeyDer::from_pem_file(key).map_err(|e| match e {
        rustls::pki_types::pem::Error::NoItemsFound => {
            SmtpFrontError::NoPrivateKey(key.to_path_buf())
        }
        e => SmtpFrontError::pem(key, e),
    })?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(SmtpFrontError::Tls)?
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .map_err(SmtpFrontError::Tls)?;
    Ok(tokio_rustls::TlsAcceptor::from(Arc::new(config)))
}
