//! Adapters that implement the ports.
#[cfg(feature = "aws")]
pub mod aws;
pub mod embedded;
pub mod smtp_out;
