//! A checked byte cursor: the only way dissectors read input.
//!
//! Every read returns an error instead of panicking when the input is short,
//! and [`Reader::sub`] hands out a reader limited to a declared length so a
//! nested structure cannot read past its own end. Nothing is copied.

use crate::DecodeError;

/// A cursor over a borrowed byte slice.
#[derive(Clone, Copy, Debug)]
pub struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    /// A reader at the start of `buf`.
    pub fn new(buf: &'a [u8]) -> Reader<'a> {
        Reader { buf, pos: 0 }
    }

    /// Bytes consumed so far.
    pub fn position(&self) -> usize {
        self.pos
    }

    /// Bytes left.
    pub fn left(&self) -> usize {
        self.buf.len().saturating_sub(self.pos)
    }

    /// Whether any byte is left.
    pub fn any_left(&self) -> bool {
        self.left() > 0
    }

    /// The unread bytes, without consuming them.
    pub fn rest(&self) -> &'a [u8] {
        self.buf.get(self.pos..).unwrap_or(&[])
    }

    /// Consumes and returns the unread bytes.
    pub fn take_rest(&mut self) -> &'a [u8] {
        let r = self.rest();
        self.pos = self.buf.len();
        r
    }

    /// Takes `n` bytes.
    pub fn take(&mut self, n: usize) -> Result<&'a [u8], DecodeError> {
        let end = self.pos.checked_add(n).ok_or(DecodeError::Malformed("length overflow"))?;
        match self.buf.get(self.pos..end) {
            Some(s) => {
                self.pos = end;
                Ok(s)
            }
            None => Err(DecodeError::incomplete(n.saturating_sub(self.left()))),
        }
    }

    /// Takes exactly `N` bytes as an array.
    pub fn take_array<const N: usize>(&mut self) -> Result<[u8; N], DecodeError> {
        let s = self.take(N)?;
        let mut out = [0u8; N];
        out.copy_from_slice(s);
        Ok(out)
    }

    /// Skips `n` bytes.
    pub fn skip(&mut self, n: usize) -> Result<(), DecodeError> {
        self.take(n).map(|_| ())
    }

    /// Looks at the next byte without consuming it.
    pub fn peek_u8(&self) -> Option<u8> {
        self.buf.get(self.pos).copied()
    }

    /// Reads one byte.
    pub fn u8(&mut self) -> Result<u8, DecodeError> {
        Ok(self.take_array::<1>()?[0])
    }

    /// Reads a big-endian u16.
    pub fn u16_be(&mut self) -> Result<u16, DecodeError> {
        Ok(u16::from_be_bytes(self.take_array()?))
    }

    /// Reads a little-endian u16.
    pub fn u16_le(&mut self) -> Result<u16, DecodeError> {
        Ok(u16::from_le_bytes(self.take_array()?))
    }

    /// Reads a big-endian 24-bit integer.
    pub fn u24_be(&mut self) -> Result<u32, DecodeError> {
        let [a, b, c] = self.take_array::<3>()?;
        Ok(u32::from_be_bytes([0, a, b, c]))
    }

    /// Reads a little-endian 24-bit integer.
    pub fn u24_le(&mut self) -> Result<u32, DecodeError> {
        let [a, b, c] = self.take_array::<3>()?;
        Ok(u32::from_le_bytes([a, b, c, 0]))
    }

    /// Reads a big-endian u32.
    pub fn u32_be(&mut self) -> Result<u32, DecodeError> {
        Ok(u32::from_be_bytes(self.take_array()?))
    }

    /// Reads a little-endian u32.
    pub fn u32_le(&mut self) -> Result<u32, DecodeError> {
        Ok(u32::from_le_bytes(self.take_array()?))
    }

    /// Reads a big-endian u64.
    pub fn u64_be(&mut self) -> Result<u64, DecodeError> {
        Ok(u64::from_be_bytes(self.take_array()?))
    }

    /// Reads a little-endian u64.
    pub fn u64_le(&mut self) -> Result<u64, DecodeError> {
        Ok(u64::from_le_bytes(self.take_array()?))
    }

    /// A reader over the next `n` bytes, which are consumed from this one.
    pub fn sub(&mut self, n: usize) -> Result<Reader<'a>, DecodeError> {
        Ok(Reader::new(self.take(n)?))
    }

    /// Fails with `Malformed(what)` if bytes remain.
    pub fn expect_empty(&self, what: &'static str) -> Result<(), DecodeError> {
        if self.any_left() { Err(DecodeError::Malformed(what)) } else { Ok(()) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_and_reports_short_input() {
        let mut r = Reader::new(&[0x01, 0x02, 0x03, 0x04, 0x05]);
        assert_eq!(r.u16_be().unwrap(), 0x0102);
        assert_eq!(r.u16_le().unwrap(), 0x0403);
        assert_eq!(r.left(), 1);
        assert_eq!(r.u32_be(), Err(DecodeError::incomplete(3)));
        // A failed read consumes nothing.
        assert_eq!(r.u8().unwrap(), 0x05);
        assert!(!r.any_left());
    }

    #[test]
    fn sub_readers_stay_inside_their_length() {
        let mut r = Reader::new(&[2, 0xaa, 0xbb, 0xcc]);
        let n = r.u8().unwrap() as usize;
        let mut inner = r.sub(n).unwrap();
        assert_eq!(inner.take(3), Err(DecodeError::incomplete(1)));
        assert_eq!(inner.take_rest(), &[0xaa, 0xbb]);
        assert_eq!(r.rest(), &[0xcc]);
        assert_eq!(r.take(usize::MAX), Err(DecodeError::Malformed("length overflow")));
    }
}
