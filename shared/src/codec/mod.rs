//! Pure wire codecs: bytes in, typed PDU out, and back. No I/O.
pub mod diameter;
pub mod mm1;
pub mod mm4;
pub mod mm7;
