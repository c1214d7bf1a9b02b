//! Adapters that implement the ports.
pub mod embedded;
