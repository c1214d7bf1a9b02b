//! A bounds-checked cursor over received bytes. Every read either succeeds or says
//! what was being read when the input ran out; nothing here can panic.

use super::error::DecodeError;

/// A cursor over a byte slice.
#[derive(Debug, Clone)]
pub struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    pub fn new(buf: &'a [u8]) -> Self {
        Self { buf, pos: 0 }
    }

    /// Octets not yet read.
    pub fn remaining(&self) -> usize {
        self.buf.len().saturating_sub(self.pos)
    }

    /// True when everything has been read.
    pub fn is_empty(&self) -> bool {
        self.remaining() == 0
    }

    /// How many octets have been read.
    pub fn position(&self) -> usize {
        self.pos
    }

    /// The unread octets, without consuming them.
    pub fn rest(&self) -> &'a [u8] {
        self.buf.get(self.pos..).unwrap_or_default()
    }

    /// Consumes everything that is left.
    pub fn take_rest(&mut self) -> &'a [u8] {
        let rest = self.rest();
        self.pos = self.buf.len();
        rest
    }

    /// Consumes exactly `n` octets.
    pub fn take(&mut self, n: usize, what: &'static str) -> Result<&'a [u8], DecodeError> {
        let end = self.pos.checked_add(n);
        match end.and_then(|end| self.buf.get(self.pos..end).map(|s| (end, s))) {
            Some((end, slice)) => {
                self.pos = end;
                Ok(slice)
            }
            None => Err(DecodeError::Truncated {
                what,
                needed: n,
                available: self.remaining(),
            }),
        }
    }

    /// The next octet, without consuming it.
    pub fn peek(&self, what: &'static str) -> Result<u8, DecodeError> {
        self.rest().first().copied().ok_or(DecodeError::Truncated {
            what,
            needed: 1,
            available: 0,
        })
    }

    pub fn u8(&mut self, what: &'static str) -> Result<u8, DecodeError> {
        let b = self.peek(what)?;
        self.pos += 1;
        Ok(b)
    }

    /// Fails with [`DecodeError::TrailingBytes`] unless everything has been read.
    pub fn expect_end(&self) -> Result<(), DecodeError> {
        match self.remaining() {
            0 => Ok(()),
            count => Err(DecodeError::TrailingBytes { count }),
        }
    }

    /// Like [`expect_end`](Self::expect_end) for a reader framed by a
    /// Value-length: leftovers are a [`DecodeError::ValueLengthUnderrun`].
    pub fn expect_end_of_value(&self, what: &'static str) -> Result<(), DecodeError> {
        match self.remaining() {
            0 => Ok(()),
            count => Err(DecodeError::ValueLengthUnderrun { what, count }),
        }
    }
}
