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
        copy(self.buf.get_mut(self.len..)?.get_mut(..bytes.len())?, bytes);
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

/// Copies `src` to the start of `dst`, as far as the shorter goes (the
/// callers pass equal lengths). Not copy_from_slice: built for size, core
/// keeps its length check out of line, and a panic path behind it.
#[inline(always)]
pub fn copy(dst: &mut [u8], src: &[u8]) {
    for (slot, &byte) in dst.iter_mut().zip(src) {
        *slot = byte;
    }
}

/// `parts` one after the other in `buf`; `None` when they do not fit.
pub fn join<'b>(buf: &'b mut [u8], parts: &[&[u8]]) -> Option<&'b [u8]> {
    let mut joined = Fill::new(buf);
    for part in parts {
        joined.put(part)?;
    }
    Some(joined.filled())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn joins_what_fits() {
        let mut buf = [0u8; 6];
        assert_eq!(join(&mut buf, &[b"ab", b"", b"cd"]), Some(&b"abcd"[..]));
        assert_eq!(join(&mut buf, &[b"abc", b"defg"]), None);
        assert_eq!(join(&mut buf, &[]), Some(&b""[..]));
    }

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
