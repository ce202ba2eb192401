//! Bytes appended to a fixed buffer, refusing what does not fit.

pub struct Fill<'b> {
    buf: &'b mut [u8],
    len: usize,
}

impl<'b> Fill<'b> {
    pub fn new(buf: &'b mut [u8]) -> Self {
        Self { buf, len: 0 }
    }

    /// Appends `bytes` whole; `None`, and nothing appended, when they do not fit.
    // Inlined: most callers put constants or single bytes, and the checks
    // then fold into the caller's own (about 250 bytes less than a call).
    #[inline(always)]
    pub fn put(&mut self, bytes: &[u8]) -> Option<()> {
        self.buf.get_mut(self.len..)?.get_mut(..bytes.len())?.copy_from_slice(bytes);
        // At most the buffer's length, as the bytes just went into it: no wrap.
        self.len = self.len.wrapping_add(bytes.len());
        Some(())
    }

    /// What was appended.
    pub fn filled(self) -> &'b [u8] {
        let Self { buf, len } = self;
        let buf: &'b [u8] = buf;
        buf.get(..len).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn appends_what_fits() {
        let mut buf = [0u8; 5];
        let mut fill = Fill::new(&mut buf);
        assert_eq!(fill.put(b"ab"), Some(()));
        assert_eq!(fill.put(b""), Some(()));
        assert_eq!(fill.put(b"cdef"), None);
        assert_eq!(fill.put(b"cde"), Some(()));
        assert_eq!(fill.put(b"f"), None);
        assert_eq!(fill.put(b""), Some(()));
        assert_eq!(fill.filled(), b"abcde");
    }
}
