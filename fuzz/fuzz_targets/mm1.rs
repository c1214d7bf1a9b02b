//! MM1 codec: whatever decodes must re-encode to bytes that decode to the same
//! typed value, and re-encoding that value must give the same bytes again (a fixed
//! point). The generic and typed layers, and the content type and header decoders
//! on their own, are held to the same.
//!
//! `cargo +nightly fuzz run mm1 ../events/mm1` (the samples make a good seed corpus).

#![no_main]

use core::fmt::Debug;

use libfuzzer_sys::fuzz_target;
use mmsc_shared::codec::mm1::push::PushPdu;
use mmsc_shared::codec::mm1::{Codec, ContentType, GenericPdu, Header, Pdu};

/// Decode; when it succeeds, encode, decode and encode again.
fn round_trip<C: Codec + PartialEq + Debug>(data: &[u8], what: &str) {
    let Ok(value) = C::from_bytes(data) else {
        return;
    };
    let bytes = match value.to_bytes() {
        Ok(bytes) => bytes,
        Err(e) => panic!("decoded {what} does not re-encode: {e}: {value:?}"),
    };
    match C::from_bytes(&bytes) {
        Ok(again) => {
            assert_eq!(again, value, "{what} changed in a round trip");
            assert_eq!(
                again.to_bytes().ok(),
                Some(bytes),
                "{what} is not a fixed point"
            );
        }
        Err(e) => panic!("re-encoded {what} does not decode: {e}: {value:?}"),
    }
}

fuzz_target!(|data: &[u8]| {
    round_trip::<GenericPdu>(data, "generic PDU");
    round_trip::<Pdu>(data, "typed PDU");
    round_trip::<ContentType>(data, "content type");
    round_trip::<Header>(data, "header");

    // The WSP Push PDU: what decodes re-encodes to the same bytes.
    if let Ok(push) = PushPdu::from_bytes(data) {
        let bytes = push.to_bytes().expect("a decoded push re-encodes");
        assert_eq!(PushPdu::from_bytes(&bytes).ok(), Some(push), "push changed");
    }

    // Typing a generic PDU agrees with decoding the typed one directly.
    if let Ok(generic) = GenericPdu::from_bytes(data) {
        assert_eq!(Pdu::from_generic(generic).ok(), Pdu::from_bytes(data).ok());
    }
});
