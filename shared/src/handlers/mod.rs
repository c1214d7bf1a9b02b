//! Queue handlers.
