//! Diameter codec: whatever decodes must re-encode to the very same bytes (the
//! generic layer is byte-preserving) and decode again to the same message; every
//! typed command that decodes must re-encode to a fixed point.
//!
//! `cargo +nightly fuzz run diameter`

#![no_main]

use libfuzzer_sys::fuzz_target;
use mmsc_shared::codec::diameter::{
    CapabilitiesExchangeAnswer, CapabilitiesExchangeRequest, Command, CreditControlAnswer,
    CreditControlRequest, DeviceWatchdogAnswer, DeviceWatchdogRequest, DisconnectPeerAnswer,
    DisconnectPeerRequest, Message, frame_length,
};

/// Typed decode; when it succeeds, encode, decode and encode again.
fn typed<C: Command + PartialEq + core::fmt::Debug>(message: &Message) {
    let Ok(value) = C::from_message(message) else {
        return;
    };
    let bytes = match value.to_bytes() {
        Ok(bytes) => bytes,
        Err(e) => panic!("decoded command does not re-encode: {e}"),
    };
    match C::from_bytes(&bytes) {
        Ok(again) => {
            assert_eq!(again, value);
            assert_eq!(again.to_bytes().ok(), Some(bytes));
        }
        Err(e) => panic!("re-encoded command does not decode: {e}"),
    }
}

fuzz_target!(|data: &[u8]| {
    // Framing agrees with the full decode about the length.
    let framed = frame_length(data);

    let Ok(message) = Message::from_bytes(data) else {
        return;
    };
    assert_eq!(framed, Ok(Some(data.len())));
    let bytes = match message.to_bytes() {
        Ok(bytes) => bytes,
        Err(e) => panic!("decoded message does not re-encode: {e}"),
    };
    assert_eq!(bytes, data, "the generic codec must preserve bytes");
    assert_eq!(Message::from_bytes(&bytes).as_ref(), Ok(&message));

    // One level of grouped parsing on every AVP must not panic either.
    for avp in &message.avps {
        if let Ok(children) = avp.children() {
            for child in &children {
                let _ = child.children();
            }
        }
    }

    typed::<CapabilitiesExchangeRequest>(&message);
    typed::<CapabilitiesExchangeAnswer>(&message);
    typed::<DeviceWatchdogRequest>(&message);
    typed::<DeviceWatchdogAnswer>(&message);
    typed::<DisconnectPeerRequest>(&message);
    typed::<DisconnectPeerAnswer>(&message);
    typed::<CreditControlRequest>(&message);
    typed::<CreditControlAnswer>(&message);
});
