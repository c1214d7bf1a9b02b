//! smtp-front
