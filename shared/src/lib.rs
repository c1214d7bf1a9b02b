//! The MMSC library: wire codecs, the domain model, the ports (traits) every handler
//! is written against, the adapters that implement them, and the queue handlers.
//!
//! Codecs are pure (bytes in, typed PDU out and back). Handlers are plain async
//! functions over ports; the embedded one-process MMSC and the Lambda functions run
//! the very same handlers with different adapters.

pub mod adapters;
pub mod charging;
pub mod codec;
pub mod config;
pub mod diameter_peer;
pub mod domain;
pub mod handlers;
pub mod ports;
pub mod process;
pub mod routing;
pub mod test_support;
pub mod worker;
