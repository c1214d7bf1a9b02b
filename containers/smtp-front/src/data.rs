//! The DATA phase as a state machine over the session's read buffer: dot-unstuffing
//! (RFC 5321 §4.5.2), the end-of-data marker, and the message limits.
//!
//! Going over a limit is a state, not an error: the receiver keeps consuming input to
//! the end-of-data marker (buffering nothing more) and only then reports the outcome,
//! so the session stays in step with the client and can serve the next transaction.
//!
//! End of data is `CRLF . CRLF`. Bare LF line endings are tolerated in content; a
//! `.` line ending in bare LF ends the data only when every line of the message so
//! far ended in bare LF (a client that speaks LF-only). The mixed forms `LF . CRLF`
//! and `CRLF . LF` are kept as content: accepting them is what "SMTP smuggling"
//! (CVE-2023-51764/51765/51766) exploits to slip a second message into a partner's
//! authenticated session.

use bytes::{BufMut, BytesMut};

/// Limits of one message, from `config.smtp`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DataLimits {
    /// Largest message (after dot-unstuffing, before our `Received:` header).
    pub max_message_size: u64,
    /// Longest line, without its line terminator.
    pub max_line_length: usize,
    /// Largest header block: the bytes up to and including the first empty line.
    pub max_header_size: usize,
}

/// How a DATA phase ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DataOutcome {
    /// The message as received, dot-unstuffed, line endings untouched.
    Complete(Vec<u8>),
    /// Over `max_message_size`: `552 5.3.4`.
    TooLarge,
    /// A line over `max_line_length`: `554 5.5.2`.
    LineTooLong,
    /// Header block over `max_header_size`: `552 5.3.4`.
    HeadersTooLong,
}

/// Receives one message. Feed it the session's buffer after every read.
#[derive(Debug)]
pub struct DataReceiver {
    limits: DataLimits,
    body: Vec<u8>,
    /// The first limit exceeded; from then on input is consumed, not kept.
    violation: Option<DataOutcome>,
    size: u64,
    in_headers: bool,
    header_bytes: usize,
    /// The previous line ended in CRLF (true at the start: the DATA line did).
    prev_crlf: bool,
    /// Every line so far ended in a bare LF.
    only_bare_lf: bool,
    /// The current line went over the limit; its bytes are dropped up to its LF.
    skipping: bool,
    /// Bytes at the front of the buffer already searched for LF.
    scanned: usize,
}

impl DataReceiver {
    pub fn new(limits: DataLimits) -> Self {
        DataReceiver {
            limits,
            body: Vec::new(),
            violation: None,
            size: 0,
            in_headers: true,
            header_bytes: 0,
            prev_crlf: true,
            only_bare_lf: true,
            skipping: false,
            scanned: 0,
        }
    }

    /// Bytes of message received so far (after dot-unstuffing), kept or not.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// Consumes complete lines from `buf`. Returns the outcome once the end-of-data
    /// line has been consumed (bytes after it stay in `buf`: pipelined commands), or
    /// `None` when more input is needed. On `None`, `buf` holds at most one partial
    /// line no longer than the line limit.
    pub fn feed(&mut self, buf: &mut BytesMut) -> Option<DataOutcome> {
        loop {
            let Some(at) = memchr::memchr(b'\n', &buf[self.scanned..]) else {
                self.hold_partial_line(buf);
                return None;
            };
            let line = buf.split_to(self.scanned + at + 1);
            self.scanned = 0;
            if let Some(outcome) = self.line(&line) {
                return Some(outcome);
            }
        }
    }

    fn hold_partial_line(&mut self, buf: &mut BytesMut) {
        // A line may legitimately hold max_line_length bytes plus the CR of its CRLF.
        if self.skipping || buf.len() > self.limits.max_line_length + 1 {
            if !self.skipping {
                self.skipping = true;
                self.violate(DataOutcome::LineTooLong);
            }
            // Keep a trailing CR so the line's terminator is still seen as CRLF.
            let cr = buf.last() == Some(&b'\r');
            buf.clear();
            if cr {
                buf.put_u8(b'\r');
            }
        }
        self.scanned = buf.len();
    }

    /// Handles one complete line (with its LF). `Some` at end of data.
    fn line(&mut self, line: &[u8]) -> Option<DataOutcome> {
        let crlf = line.ends_with(b"\r\n");
        let content = &line[..line.len() - if crlf { 2 } else { 1 }];
        if self.skipping {
            // The tail of an over-long line: already accounted as a violation.
            self.skipping = false;
            self.after_line(crlf);
            return None;
        }
        if content == b"." && ((crlf && self.prev_crlf) || (!crlf && self.only_bare_lf)) {
            return Some(self.finish());
        }
        self.after_line(crlf);
        if content.len() > self.limits.max_line_length {
            self.violate(DataOutcome::LineTooLong);
            return None;
        }
        // Dot-unstuffing: a leading '.' followed by more text is removed. A lone "."
        // that is not the end-of-data marker (see the module docs) is kept as is.
        let stored = if content.len() > 1 && content[0] == b'.' {
            &line[1..]
        } else {
            line
        };
        if self.in_headers {
            self.header_bytes = self.header_bytes.saturating_add(stored.len());
            if content.is_empty() {
                self.in_headers = false;
            } else if self.header_bytes > self.limits.max_header_size {
                self.violate(DataOutcome::HeadersTooLong);
            }
        }
        self.size = self.size.saturating_add(stored.len() as u64);
        if self.size > self.limits.max_message_size {
            self.violate(DataOutcome::TooLarge);
        }
        if self.violation.is_none() {
            self.body.extend_from_slice(stored);
        }
        None
    }

    fn after_line(&mut self, crlf: bool) {
        if crlf {
            self.only_bare_lf = false;
        }
        self.prev_crlf = crlf;
    }

    fn violate(&mut self, v: DataOutcome) {
        if self.violation.is_none() {
            self.violation = Some(v);
            self.body = Vec::new();
        }
    }

    fn finish(&mut self) -> DataOutcome {
        match self.violation.take() {
            Some(v) => v,
            None => DataOutcome::Complete(std::mem::take(&mut self.body)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LIMITS: DataLimits = DataLimits {
        max_message_size: 1000,
        max_line_length: 100,
        max_header_size: 200,
    };

    fn run(input: &[u8], limits: DataLimits) -> (Option<DataOutcome>, Vec<u8>) {
        let mut rx = DataReceiver::new(limits);
        let mut buf = BytesMut::from(input);
        let out = rx.feed(&mut buf);
        (out, buf.to_vec())
    }

    /// Feeds one byte at a time, as a slow client would.
    fn run_bytewise(input: &[u8], limits: DataLimits) -> (Option<DataOutcome>, Vec<u8>) {
        let mut rx = DataReceiver::new(limits);
        let mut buf = BytesMut::new();
        for (i, b) in input.iter().enumerate() {
            buf.put_u8(*b);
            if let Some(out) = rx.feed(&mut buf) {
                let mut rest = buf.to_vec();
                rest.extend_from_slice(&input[i + 1..]);
                return (Some(out), rest);
            }
        }
        (None, buf.to_vec())
    }

    #[test]
    fn unstuffs_dots_and_stops_at_the_marker() {
        let input = b"Subject: x\r\n\r\n..leading dot\r\n.\r\nQUIT\r\n";
        let expected = b"Subject: x\r\n\r\n.leading dot\r\n".to_vec();
        for f in [run, run_bytewise] {
            let (out, rest) = f(input, LIMITS);
            assert_eq!(out, Some(DataOutcome::Complete(expected.clone())));
            assert_eq!(rest, b"QUIT\r\n");
        }
    }

    #[test]
    fn empty_message() {
        assert_eq!(
            run(b".\r\n", LIMITS).0,
            Some(DataOutcome::Complete(Vec::new()))
        );
    }

    #[test]
    fn tolerates_bare_lf_content_and_lf_only_clients() {
        // Bare-LF lines inside a CRLF message are kept; the CRLF marker ends it.
        let (out, _) = run(b"A: 1\nB: 2\r\n\r\nbody\n.\r\n", LIMITS);
        assert_eq!(out, None, "LF . CRLF must not end the data");
        let (out, _) = run(b"A: 1\nB: 2\r\n\r\nbody\r\n.\r\n", LIMITS);
        assert_eq!(
            out,
            Some(DataOutcome::Complete(
                b"A: 1\nB: 2\r\n\r\nbody\r\n".to_vec()
            ))
        );
        // A client that uses LF only throughout.
        let (out, rest) = run(b"A: 1\n\nbody\n..x\n.\nQUIT\n", LIMITS);
        assert_eq!(
            out,
            Some(DataOutcome::Complete(b"A: 1\n\nbody\n.x\n".to_vec()))
        );
        assert_eq!(rest, b"QUIT\n");
    }

    #[test]
    fn mixed_terminators_are_content_not_end_of_data() {
        // The smuggling forms: CRLF . LF and LF . CRLF.
        let smuggle = b"A: 1\r\n\r\nx\r\n.\nMAIL FROM:<evil>\r\nx\n.\r\nmore\r\n.\r\n";
        let (out, rest) = run(smuggle, LIMITS);
        assert_eq!(
            out,
            Some(DataOutcome::Complete(
                b"A: 1\r\n\r\nx\r\n.\nMAIL FROM:<evil>\r\nx\n.\r\nmore\r\n".to_vec()
            ))
        );
        assert!(rest.is_empty());
    }

    #[test]
    fn too_large_consumes_to_the_end() {
        let mut input = b"A: 1\r\n\r\n".to_vec();
        for _ in 0..50 {
            input.extend_from_slice(&[b'x'; 50]);
            input.extend_from_slice(b"\r\n");
        }
        input.extend_from_slice(b".\r\nNOOP\r\n");
        for f in [run, run_bytewise] {
            let (out, rest) = f(&input, LIMITS);
            assert_eq!(out, Some(DataOutcome::TooLarge));
            assert_eq!(rest, b"NOOP\r\n");
        }
    }

    #[test]
    fn long_line_consumes_to_the_end_and_never_buffers_it() {
        let mut input = b"A: 1\r\n\r\n".to_vec();
        input.extend_from_slice(&[b'y'; 5000]);
        input.extend_from_slice(b"\r\nshort\r\n.\r\nNOOP\r\n");
        let (out, rest) = run_bytewise(&input, LIMITS);
        assert_eq!(out, Some(DataOutcome::LineTooLong));
        assert_eq!(rest, b"NOOP\r\n");
        // Whole-buffer feeding: the line is complete, so it is measured as a line.
        let (out, _) = run(&input, LIMITS);
        assert_eq!(out, Some(DataOutcome::LineTooLong));
        // A partial line over the limit is dropped from the buffer at once.
        let mut rx = DataReceiver::new(LIMITS);
        let mut buf = BytesMut::from(&[b'z'; 300][..]);
        assert_eq!(rx.feed(&mut buf), None);
        assert!(buf.is_empty());
        buf.extend_from_slice(b"zz\r");
        assert_eq!(rx.feed(&mut buf), None);
        assert_eq!(&buf[..], b"\r");
        buf.extend_from_slice(b"\n.\r\n");
        assert_eq!(rx.feed(&mut buf), Some(DataOutcome::LineTooLong));
    }

    #[test]
    fn line_at_the_limit_is_fine() {
        let mut input = vec![b'a'; 100];
        input.extend_from_slice(b"\r\n.\r\n");
        let (out, _) = run_bytewise(&input, LIMITS);
        let mut expected = vec![b'a'; 100];
        expected.extend_from_slice(b"\r\n");
        assert_eq!(out, Some(DataOutcome::Complete(expected)));
    }

    #[test]
    fn header_block_over_the_limit() {
        let mut input = Vec::new();
        for i in 0..20 {
            input.extend_from_slice(format!("X-H{i}: value\r\n").as_bytes());
        }
        input.extend_from_slice(b"\r\nbody\r\n.\r\n");
        assert_eq!(run(&input, LIMITS).0, Some(DataOutcome::HeadersTooLong));
        // The same bytes after the empty line are body, not headers.
        let mut body = b"A: 1\r\n\r\n".to_vec();
        for i in 0..20 {
            body.extend_from_slice(format!("X-H{i}: value\r\n").as_bytes());
        }
        body.extend_from_slice(b".\r\n");
        assert!(matches!(
            run(&body, LIMITS).0,
            Some(DataOutcome::Complete(_))
        ));
    }

    /// However the input is split into reads, the outcome and the bytes left for
    /// the command phase are the same as when it arrives in one piece.
    #[test]
    fn any_chunking_gives_the_same_outcome() {
        let mut state = 0x9E37_79B9_7F4A_7C15u64;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        let mut inputs: Vec<Vec<u8>> = vec![
            b"A: 1\r\n\r\n..x\r\n.\r\nQUIT\r\n".to_vec(),
            b"A: 1\n\nbody\n.\nNOOP\n".to_vec(),
            b"A: 1\r\n\r\nx\r\n.\nMAIL\r\nx\n.\r\nmore\r\n.\r\nRSET\r\n".to_vec(),
        ];
        let mut long = b"A: 1\r\n\r\n".to_vec();
        long.extend_from_slice(&[b'q'; 400]);
        long.extend_from_slice(b"\r\n.\r\nX\r\n");
        inputs.push(long);
        let mut big = b"A: 1\r\n\r\n".to_vec();
        for _ in 0..40 {
            big.extend_from_slice(&[b'w'; 60]);
            big.extend_from_slice(b"\r\n");
        }
        big.extend_from_slice(b".\r\n");
        inputs.push(big);
        for _ in 0..30 {
            // Random bytes biased towards line structure, then a terminator.
            let mut r: Vec<u8> = (0..next() % 3000)
                .map(|_| match next() % 16 {
                    0 => b'\n',
                    1 => b'\r',
                    2 => b'.',
                    _ => next() as u8,
                })
                .collect();
            r.extend_from_slice(b"\r\n.\r\nTAIL");
            inputs.push(r);
        }
        for input in &inputs {
            let whole = run(input, LIMITS);
            for _ in 0..50 {
                let mut rx = DataReceiver::new(LIMITS);
                let mut buf = BytesMut::new();
                let mut at = 0;
                let mut got = None;
                while at < input.len() {
                    let n = 1 + (next() as usize) % 200;
                    let end = (at + n).min(input.len());
                    buf.extend_from_slice(&input[at..end]);
                    at = end;
                    if let Some(out) = rx.feed(&mut buf) {
                        let mut rest = buf.to_vec();
                        rest.extend_from_slice(&input[at..]);
                        got = Some((Some(out), rest));
                        break;
                    }
                    assert!(buf.len() <= LIMITS.max_line_length + 1);
                }
                let got = got.unwrap_or((None, Vec::new()));
                assert_eq!(got.0, whole.0);
                if got.0.is_some() {
                    assert_eq!(got.1, whole.1);
                }
            }
        }
    }

    #[test]
    fn counts_size_after_unstuffing() {
        let mut rx = DataReceiver::new(LIMITS);
        let mut buf = BytesMut::from(&b"..ab\r\n"[..]);
        assert_eq!(rx.feed(&mut buf), None);
        assert_eq!(rx.size(), 5);
    }
}
