//! MM4 codec: whatever parses must re-encode to bytes that parse to the same typed
//! value, and re-encoding that value must give the same bytes.
//!
//! `cargo +nightly fuzz run mm4 ../events/mm4` (the samples make a good seed corpus).

#![no_main]

use libfuzzer_sys::fuzz_target;
use mmsc_shared::codec::mm4::{self, Mm4Pdu};

fuzz_target!(|data: &[u8]| {
    // The sniffs must not panic either, whatever the full parse says.
    let sniffed = mm4::message_type(data);
    let _ = mm4::transaction_id(data);

    let Ok(pdu) = Mm4Pdu::parse(data) else {
        return;
    };
    assert_eq!(sniffed, Ok(pdu.message_type()));
    let bytes = pdu.to_bytes();
    let again = match Mm4Pdu::parse(&bytes) {
        Ok(again) => again,
        Err(e) => panic!("re-encoded PDU does not parse: {e}"),
    };
    assert_eq!(again, pdu);
    assert_eq!(again.to_bytes(), bytes);
});
