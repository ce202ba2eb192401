//! The one bounded buffer: bytes appended to a fixed array, refusing what does not fit.
//!
//! `ArrayBuf<N>` owns N bytes; it dereferences to `AnyArrayBuf`, the same
//! buffer with its capacity no longer in the type, where every method is
//! written. So the checked arithmetic exists once, and is compiled once
//! whatever the capacities.

use core::ops::{Deref, DerefMut};

/// A length, a cut mark and the bytes: `[u8; N]` in `ArrayBuf`, `[u8]` in
/// `AnyArrayBuf` (the unsized bytes must come last).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BoundedBuf<B: ?Sized> {
    /// A u16 keeps the texts that failures carry, and so the failures, small.
    len: u16,
    cut: bool,
    bytes: B,
}

/// At most N bytes (N below 65,536), and whether anything was refused.
pub type ArrayBuf<const N: usize> = BoundedBuf<[u8; N]>;

/// An `ArrayBuf` of any capacity.
pub type AnyArrayBuf = BoundedBuf<[u8]>;

impl<const N: usize> Default for ArrayBuf<N> {
    fn default() -> Self {
        Self::new()
    }
}

impl<const N: usize> ArrayBuf<N> {
    pub const fn new() -> Self {
        const { assert!(N <= u16::MAX as usize) };
        Self { len: 0, cut: false, bytes: [0; N] }
    }

    /// `parts` one after the other; `None` when they do not fit.
    pub fn from_parts(parts: &[&[u8]]) -> Option<Self> {
        let mut buf = Self::new();
        buf.push_parts(parts)?;
        Some(buf)
    }
}

impl<const N: usize> Deref for ArrayBuf<N> {
    type Target = AnyArrayBuf;

    fn deref(&self) -> &AnyArrayBuf {
        self
    }
}

impl<const N: usize> DerefMut for ArrayBuf<N> {
    fn deref_mut(&mut self) -> &mut AnyArrayBuf {
        self
    }
}

impl AnyArrayBuf {
    /// Appends `bytes` whole; when they do not fit, nothing is appended, the
    /// buffer is marked cut and the answer is `None`.
    pub fn push(&mut self, bytes: &[u8]) -> Option<()> {
        self.push_within(self.bytes.len(), bytes)
    }

    /// `push`, as if the capacity were `limit`: what would end past it is refused.
    pub fn push_within(&mut self, limit: usize, new: &[u8]) -> Option<()> {
        let start = usize::from(self.len);
        let end = start.checked_add(new.len()).filter(|&end| end <= limit);
        let Some(slot) = end.and_then(|end| self.bytes.get_mut(start..end)) else {
            self.cut = true;
            return None;
        };
        for (to, &from) in slot.iter_mut().zip(new) {
            *to = from;
        }
        // The new end lies within `bytes`, at most 65,535 long: it fits in u16.
        self.len = start.wrapping_add(new.len()) as u16;
        Some(())
    }

    /// Appends `parts` one after the other, each whole; `None` at the first
    /// that does not fit.
    pub fn push_parts(&mut self, parts: &[&[u8]]) -> Option<()> {
        for part in parts {
            self.push(part)?;
        }
        Some(())
    }

    pub fn as_bytes(&self) -> &[u8] {
        // `len` never exceeds the capacity; `min` lets the compiler see that
        // the split cannot fail.
        self.bytes.split_at(usize::from(self.len).min(self.bytes.len())).0
    }

    /// The bytes held, to rewrite in place.
    pub fn as_bytes_mut(&mut self) -> &mut [u8] {
        self.bytes.get_mut(..usize::from(self.len)).unwrap_or_default()
    }

    pub fn len(&self) -> usize {
        usize::from(self.len)
    }

    pub fn capacity(&self) -> usize {
        self.bytes.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// True when a push was refused: the content is cut short.
    pub fn is_cut(&self) -> bool {
        self.cut
    }

    /// True when it holds exactly `other`, nothing cut.
    pub fn is(&self, other: &[u8]) -> bool {
        !self.cut && self.as_bytes() == other
    }

    /// Makes it `ArrayBuf::new()` again.
    pub fn clear(&mut self) {
        self.bytes.fill(0);
        self.len = 0;
        self.cut = false;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn appends_whole_or_not_at_all() {
        let mut buf = ArrayBuf::<5>::new();
        assert_eq!(buf.push(b"ab"), Some(()));
        assert_eq!(buf.push(b""), Some(()));
        assert!(!buf.is_cut());
        assert_eq!(buf.push(b"cdef"), None);
        assert!(buf.is_cut());
        assert_eq!(buf.push(b"cde"), Some(()));
        assert_eq!(buf.push(b"f"), None);
        assert_eq!(buf.push(b""), Some(()));
        assert_eq!(buf.as_bytes(), b"abcde");
        assert_eq!(buf.len(), 5);
    }

    #[test]
    fn within_a_limit() {
        let mut buf = ArrayBuf::<5>::new();
        assert_eq!(buf.push_within(3, b"abc"), Some(()));
        assert_eq!(buf.push_within(3, b"d"), None);
        assert_eq!(buf.push_within(9, b"de"), Some(()));
        assert_eq!(buf.push_within(9, b"f"), None);
        assert_eq!(buf.as_bytes(), b"abcde");
    }

    #[test]
    fn parts_that_fit() {
        assert_eq!(ArrayBuf::<6>::from_parts(&[b"ab", b"", b"cd"]).map(|b| b.len()), Some(4));
        assert_eq!(ArrayBuf::<6>::from_parts(&[b"abc", b"defg"]), None);
        assert!(ArrayBuf::<6>::from_parts(&[]).is_some_and(|b| b.is_empty()));
    }

    #[test]
    fn cut_content_is_never_equal() {
        let mut buf = ArrayBuf::<4>::new();
        for &byte in b"container" {
            let _ = buf.push(&[byte]);
        }
        assert_eq!(buf.as_bytes(), b"cont");
        assert!(buf.is_cut());
        assert!(!buf.is(b"cont"));
        buf.clear();
        assert_eq!(buf, ArrayBuf::new());
        assert!(ArrayBuf::<0>::new().is(b""));
    }
}
