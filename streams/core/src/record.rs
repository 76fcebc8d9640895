//! Service records: the versioned field encoding that service state
//! (log groups, IAM roles, ...) is stored in (`docs/storage.md`,
//! "Service records").
//!
//! A record is `version u8` then fields in an order the service fixes:
//! integers big-endian, strings and byte strings as `len u32 BE | bytes`.
//! [`Reader`] checks every length, that strings are UTF-8 and, at
//! [`Reader::end`], that nothing is left over.

/// A record that does not decode.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("corrupt {0} record")]
pub struct Corrupt(pub &'static str);

/// Builds one record.
#[derive(Debug)]
pub struct Writer(Vec<u8>);

impl Writer {
    /// A record of `version`.
    pub fn new(version: u8) -> Writer {
        let mut v = Vec::with_capacity(64);
        v.push(version);
        Writer(v)
    }

    /// Appends a `u32`.
    pub fn u32(mut self, n: u32) -> Writer {
        self.0.extend_from_slice(&n.to_be_bytes());
        self
    }

    /// Appends a `u64`.
    pub fn u64(mut self, n: u64) -> Writer {
        self.0.extend_from_slice(&n.to_be_bytes());
        self
    }

    /// Appends a byte string. Panics past 4 GiB, which no caller stores
    /// (the store refuses values over 16 MiB).
    pub fn bytes(mut self, b: &[u8]) -> Writer {
        let len = u32::try_from(b.len()).expect("record field under 4 GiB");
        self.0.extend_from_slice(&len.to_be_bytes());
        self.0.extend_from_slice(b);
        self
    }

    /// Appends a string.
    pub fn str(self, s: &str) -> Writer {
        self.bytes(s.as_bytes())
    }

    /// The encoded record.
    pub fn finish(self) -> Vec<u8> {
        self.0
    }
}

/// Reads one record, field by field.
#[derive(Debug)]
pub struct Reader<'a> {
    rest: &'a [u8],
    what: &'static str,
}

impl<'a> Reader<'a> {
    /// Starts reading `bytes`, a record of `what` that must be of
    /// `version`.
    pub fn new(bytes: &'a [u8], version: u8, what: &'static str) -> Result<Reader<'a>, Corrupt> {
        match bytes.split_first() {
            Some((&v, rest)) if v == version => Ok(Reader { rest, what }),
            _ => Err(Corrupt(what)),
        }
    }

    fn take(&mut self, n: usize) -> Result<&'a [u8], Corrupt> {
        if self.rest.len() < n {
            return Err(Corrupt(self.what));
        }
        let (head, tail) = self.rest.split_at(n);
        self.rest = tail;
        Ok(head)
    }

    /// The next `u32`.
    pub fn u32(&mut self) -> Result<u32, Corrupt> {
        let b = self.take(4)?;
        Ok(u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    }

    /// The next `u64`.
    pub fn u64(&mut self) -> Result<u64, Corrupt> {
        let b = self.take(8)?;
        let mut a = [0u8; 8];
        a.copy_from_slice(b);
        Ok(u64::from_be_bytes(a))
    }

    /// The next byte string.
    pub fn bytes(&mut self) -> Result<&'a [u8], Corrupt> {
        let len = self.u32()? as usize;
        self.take(len)
    }

    /// The next string.
    pub fn str(&mut self) -> Result<&'a str, Corrupt> {
        let what = self.what;
        std::str::from_utf8(self.bytes()?).map_err(|_| Corrupt(what))
    }

    /// A count of items that follow, each at least `item_bytes_min`
    /// long: refused if the rest of the record cannot hold them, so a
    /// corrupt count cannot make the caller allocate.
    pub fn count(&mut self, item_bytes_min: usize) -> Result<usize, Corrupt> {
        let n = self.u32()? as usize;
        if n.saturating_mul(item_bytes_min.max(1)) > self.rest.len() {
            return Err(Corrupt(self.what));
        }
        Ok(n)
    }

    /// Checks that the record is used up.
    pub fn end(self) -> Result<(), Corrupt> {
        if self.rest.is_empty() {
            Ok(())
        } else {
            Err(Corrupt(self.what))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_round_trip_and_refuse_every_cut() {
        let rec = Writer::new(1)
            .u64(7)
            .str("héllo")
            .u32(2)
            .bytes(b"")
            .finish();
        let mut r = Reader::new(&rec, 1, "t").expect("version");
        assert_eq!(r.u64(), Ok(7));
        assert_eq!(r.str(), Ok("héllo"));
        assert_eq!(r.u32(), Ok(2));
        assert_eq!(r.bytes(), Ok(&b""[..]));
        assert_eq!(r.end(), Ok(()));
        for cut in 0..rec.len() {
            let whole = (|| {
                let mut r = Reader::new(&rec[..cut], 1, "t")?;
                r.u64()?;
                r.str()?;
                r.u32()?;
                r.bytes()?;
                r.end()
            })();
            assert_eq!(whole, Err(Corrupt("t")), "cut at {cut}");
        }
        assert!(Reader::new(&rec, 2, "t").is_err());
        let mut extra = rec.clone();
        extra.push(0);
        let mut r = Reader::new(&extra, 1, "t").expect("version");
        r.u64().and(r.str().map(|_| ())).expect("fields");
        r.u32().expect("u32");
        r.bytes().expect("bytes");
        assert_eq!(r.end(), Err(Corrupt("t")));
        let bad_utf8 = Writer::new(1).bytes(&[0xff]).finish();
        assert!(Reader::new(&bad_utf8, 1, "t").expect("v").str().is_err());
        let huge_count = Writer::new(1).u32(u32::MAX).finish();
        assert!(Reader::new(&huge_count, 1, "t")
            .expect("v")
            .count(8)
            .is_err());
    }
}
