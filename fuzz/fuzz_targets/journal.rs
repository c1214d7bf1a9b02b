//! Intake journal records: a scan of any bytes must not panic, and every record it
//! reads must write back to the bytes it was read from.
//!
//! `cargo +nightly fuzz run journal`

#![no_main]

use libfuzzer_sys::fuzz_target;
use mmsc_shared::adapters::embedded::fuzz_journal_scan;

fuzz_target!(|data: &[u8]| {
    fuzz_journal_scan(data);
});
