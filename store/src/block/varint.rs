//! LEB128 varints, zigzag signed integers and a bounds-checked byte reader.
//!
//! Every read from untrusted bytes goes through [`Reader`], which turns any
//! overrun or malformed varint into [`BlockError::Corrupt`] instead of a panic.

use super::header::BlockError;

/// A [`BlockError::Corrupt`] carrying `what`.
pub(crate) fn corrupt(what: &str) -> BlockError {
    BlockError::Corrupt(what.to_string())
}

/// Appends `v` as an unsigned LEB128 varint (1–10 bytes).
#[inline]
pub(crate) fn put_u64(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

/// Maps signed to unsigned so that small magnitudes stay small.
#[inline]
pub(crate) fn zigzag(v: i64) -> u64 {
    ((v << 1) ^ (v >> 63)) as u64
}

/// Inverse of [`zigzag`].
#[inline]
pub(crate) fn unzigzag(v: u64) -> i64 {
    ((v >> 1) as i64) ^ -((v & 1) as i64)
}

/// A cursor over untrusted bytes whose reads fail instead of panicking.
#[derive(Debug, Clone)]
pub(crate) struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    /// A reader at the start of `buf`.
    pub(crate) fn new(buf: &'a [u8]) -> Reader<'a> {
        Reader { buf, pos: 0 }
    }

    /// Bytes not yet read.
    #[inline]
    pub(crate) fn remaining(&self) -> usize {
        self.buf.len() - self.pos
    }

    /// Fails unless every byte was read.
    pub(crate) fn finish(&self, what: &str) -> Result<(), BlockError> {
        if self.remaining() == 0 {
            Ok(())
        } else {
            Err(corrupt(&format!("{what}: trailing bytes")))
        }
    }

    /// One byte.
    #[inline]
    pub(crate) fn u8(&mut self) -> Result<u8, BlockError> {
        let b = *self
            .buf
            .get(self.pos)
            .ok_or_else(|| corrupt("unexpected end of column"))?;
        self.pos += 1;
        Ok(b)
    }

    /// `n` raw bytes.
    pub(crate) fn bytes(&mut self, n: usize) -> Result<&'a [u8], BlockError> {
        let end = self.pos.checked_add(n).filter(|&e| e <= self.buf.len());
        let end = end.ok_or_else(|| corrupt("length past end of column"))?;
        let s = &self.buf[self.pos..end];
        self.pos = end;
        Ok(s)
    }

    /// An unsigned LEB128 varint of at most 10 bytes that fits in 64 bits.
    #[inline]
    pub(crate) fn u64(&mut self) -> Result<u64, BlockError> {
        // Fast path: one byte.
        if let Some(&b) = self.buf.get(self.pos) {
            if b < 0x80 {
                self.pos += 1;
                return Ok(b as u64);
            }
        }
        let mut v = 0u64;
        for shift in (0..64).step_by(7) {
            let b = self.u8()?;
            if shift == 63 && b > 1 {
                return Err(corrupt("varint overflows 64 bits"));
            }
            v |= ((b & 0x7f) as u64) << shift;
            if b < 0x80 {
                return Ok(v);
            }
        }
        Err(corrupt("varint longer than 10 bytes"))
    }

    /// A varint that must fit in a `u32`.
    #[inline]
    pub(crate) fn u32(&mut self) -> Result<u32, BlockError> {
        u32::try_from(self.u64()?).map_err(|_| corrupt("value exceeds 32 bits"))
    }

    /// A count of items that each take at least one more byte of this reader:
    /// rejects counts larger than the bytes left, so that a forged count can
    /// never make the caller allocate more than the input justifies.
    pub(crate) fn count(&mut self) -> Result<usize, BlockError> {
        let n = self.u64()?;
        if n > self.remaining() as u64 {
            return Err(corrupt("count larger than its column"));
        }
        Ok(n as usize)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn varints_round_trip_at_the_edges() {
        let values = [0, 1, 127, 128, 300, u32::MAX as u64, u64::MAX - 1, u64::MAX];
        let mut buf = Vec::new();
        for v in values {
            put_u64(&mut buf, v);
        }
        let mut r = Reader::new(&buf);
        for v in values {
            assert_eq!(r.u64().unwrap(), v);
        }
        r.finish("test").unwrap();
        assert!(r.u64().is_err());
    }

    #[test]
    fn zigzag_round_trips() {
        for v in [0i64, 1, -1, 2, -2, i64::MAX, i64::MIN, 1_000_000] {
            assert_eq!(unzigzag(zigzag(v)), v);
        }
        assert_eq!(zigzag(-1), 1);
        assert_eq!(zigzag(1), 2);
    }

    #[test]
    fn malformed_varints_are_errors() {
        // Eleven continuation bytes, and a tenth byte carrying more than 1 bit.
        assert!(Reader::new(&[0xff; 11]).u64().is_err());
        let mut ten = vec![0xff; 9];
        ten.push(0x02);
        assert!(Reader::new(&ten).u64().is_err());
        assert!(Reader::new(&[0x80]).u64().is_err());
        let mut big = Vec::new();
        put_u64(&mut big, 1 << 40);
        assert!(Reader::new(&big).u32().is_err());
    }

    #[test]
    fn counts_are_bounded_by_remaining_bytes() {
        assert!(Reader::new(&[5, 1, 2]).count().is_err());
        assert_eq!(Reader::new(&[2, 1, 2]).count().unwrap(), 2);
        assert!(Reader::new(&[1]).bytes(2).is_err());
    }
}
