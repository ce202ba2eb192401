//! How the texts are stored: LZ-compressed by a const fn, so that they stay
//! readable where they are written and only their compressed form, about
//! half the size, reaches the binary; unpacked into a buffer on use.
//!
//! Format: a byte below 0x80 stands for itself (the texts are ASCII); a byte
//! `0x80 | (length - MIN_MATCH) << 3 | distance_minus_one >> 8` and one more
//! byte with the low 8 bits of `distance_minus_one` repeat `length` bytes
//! from `distance` bytes back (possibly overlapping what they produce).

use crate::array_buf::AnyArrayBuf;

const MIN_MATCH: usize = 3;
const MAX_MATCH: usize = MIN_MATCH + 15;
const MAX_DISTANCE: usize = 1 << 11;

/// A text compressed into the first `.1` bytes of `.0`, which has the
/// text's length (compressed, it is never longer).
pub type Compressed<const N: usize> = ([u8; N], usize);

/// Greedy LZ77: at each position the longest earlier match, if long enough.
/// Run by the compiler only: its assert is a build check.
#[expect(
    clippy::indexing_slicing,
    clippy::arithmetic_side_effects,
    reason = "run by the compiler: a bad index or an overflow fails the build"
)]
pub const fn compress<const N: usize>(text: &[u8]) -> Compressed<N> {
    assert!(text.len() == N);
    let mut out = [0; N];
    let mut len = 0;
    let mut i = 0;
    while i < N {
        assert!(text[i] < 0x80, "packed texts must be ASCII");
        let (mut best, mut distance) = (0, 0);
        let mut from = i.saturating_sub(MAX_DISTANCE);
        while from < i {
            let mut n = 0;
            while n < MAX_MATCH && i + n < N && text[from + n] == text[i + n] {
                n += 1;
            }
            if n > best {
                (best, distance) = (n, i - from);
            }
            from += 1;
        }
        if best >= MIN_MATCH {
            let code = (best - MIN_MATCH) << 3 | (distance - 1) >> 8;
            out[len] = 0x80 | code as u8;
            out[len + 1] = (distance - 1) as u8;
            len += 2;
            i += best;
        } else {
            out[len] = text[i];
            len += 1;
            i += 1;
        }
    }
    (out, len)
}

/// The compressed bytes alone (M is `compressed.1`).
#[expect(
    clippy::indexing_slicing,
    clippy::arithmetic_side_effects,
    reason = "run by the compiler: a bad index or an overflow fails the build"
)]
pub const fn packed<const N: usize, const M: usize>(compressed: &Compressed<N>) -> [u8; M] {
    assert!(compressed.1 == M);
    let mut packed = [0; M];
    let mut i = 0;
    while i < M {
        packed[i] = compressed.0[i];
        i += 1;
    }
    packed
}

/// `a` then `b`, for texts packed as one.
#[expect(
    clippy::indexing_slicing,
    clippy::arithmetic_side_effects,
    reason = "run by the compiler: a bad index or an overflow fails the build"
)]
pub const fn concat<const N: usize>(a: &[u8], b: &[u8]) -> [u8; N] {
    assert!(a.len() + b.len() == N);
    let mut out = [0; N];
    let mut i = 0;
    while i < N {
        out[i] = if i < a.len() { a[i] } else { b[i - a.len()] };
        i += 1;
    }
    out
}

/// Unpacks `packed`, the output of `compress`, into `out`: the whole text,
/// or as much of its beginning as `out` holds.
pub fn unpack(packed: &[u8], out: &mut AnyArrayBuf) {
    let mut packed = packed.iter().copied();
    while out.len() < out.capacity() {
        let Some(code) = packed.next() else {
            return;
        };
        if code < 0x80 {
            let _ = out.push(&[code]);
            continue;
        }
        // `len` bytes copied from `distance` back. `compress` wrote only
        // distances into what was unpacked already: the checked steps below
        // never miss (a push past the end of `out` is refused).
        let low = usize::from(packed.next().unwrap_or(0));
        let len = usize::from(code >> 3 & 15).wrapping_add(MIN_MATCH);
        let distance = (usize::from(code & 7) << 8 | low).wrapping_add(1);
        for _ in 0..len {
            let byte = out.len().checked_sub(distance).and_then(|from| out.as_bytes().get(from)).copied();
            let _ = out.push(&[byte.unwrap_or(0)]);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::array_buf::ArrayBuf;

    fn round_trip<const N: usize>(text: &[u8]) -> usize {
        let compressed = compress::<N>(text);
        let mut out = ArrayBuf::<N>::new();
        unpack(&compressed.0[..compressed.1], &mut out);
        assert_eq!(out.as_bytes(), text);
        assert!(!out.is_cut());
        compressed.1
    }

    #[test]
    fn unpacks_what_it_packed() {
        assert_eq!(round_trip::<0>(b""), 0);
        assert_eq!(round_trip::<3>(b"abc"), 3);
        // A run overlaps what it produces.
        assert_eq!(round_trip::<12>(b"aaaaaaaaaaaa"), 3);
        const TEXT: &[u8] = b"Failed to connect to AF_UNIX socket; Failed to connect to AF_VSOCK socket";
        assert!(round_trip::<{ TEXT.len() }>(TEXT) < TEXT.len() * 2 / 3);
    }
}
