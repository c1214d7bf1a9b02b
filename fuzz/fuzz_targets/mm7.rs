//! MM7 codec: whatever parses must re-encode to an HTTP body that parses to the same
//! typed message, and re-encoding that must give the same bytes. The first line of
//! the input is used as the HTTP `Content-Type`.
//!
//! `cargo +nightly fuzz run mm7`

#![no_main]

use libfuzzer_sys::fuzz_target;
use mmsc_shared::codec::mm7::Mm7Message;

fuzz_target!(|data: &[u8]| {
    let (ct, body) = match data.iter().position(|&b| b == b'\n') {
        Some(i) => (String::from_utf8_lossy(&data[..i]).into_owned(), &data[i + 1..]),
        None => ("text/xml".to_string(), data),
    };
    let Ok(msg) = Mm7Message::parse(&ct, body) else {
        return;
    };
    let _ = msg.content();
    let (ct2, bytes) = msg.to_http();
    let again = match Mm7Message::parse(&ct2, &bytes) {
        Ok(again) => again,
        Err(e) => panic!("re-encoded MM7 message does not parse: {e}"),
    };
    assert_eq!(again, msg);
    assert_eq!(again.to_http().1, bytes);
});
