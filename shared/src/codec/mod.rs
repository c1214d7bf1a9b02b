//! Pure wire codecs: bytes in, typed PDU out, and back. No I/O.
pub mod mm4;
