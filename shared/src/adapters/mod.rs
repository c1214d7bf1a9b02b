//! Adapters that implement the ports.
pub mod embedded;
pub mod smtp_out;
