//! Embedded adapters: durable, crash-safe, one process.
