//! The long texts, `--help`, the ssh_config fragment and the errno texts,
//! kept LZ-compressed in the binary (about half their size) and unpacked
//! into a buffer on use. The compressor is a const fn: the texts stay
//! readable where they are written, and only their compressed form reaches
//! the binary.
//!
//! Format: a byte below 0x80 stands for itself (the texts are ASCII); a byte
//! `0x80 | (length - MIN_MATCH) << 3 | distance_minus_one >> 8` and one more
//! byte with the low 8 bits of `distance_minus_one` repeat `length` bytes
//! from `distance` bytes back (possibly overlapping what they produce).

use crate::cli::HELP;
use crate::errno_text::TABLE as ERRNO_TABLE;
use crate::ssh_config::{HEAD, LOCAL, TAIL};

const MIN_MATCH: usize = 3;
const MAX_MATCH: usize = MIN_MATCH + 15;
const MAX_DISTANCE: usize = 1 << 11;

const PARTS: [&[u8]; 5] = [HELP, HEAD, LOCAL, TAIL, &ERRNO_TABLE];

/// Where each part starts in the unpacked text, and where the last ends.
#[expect(clippy::indexing_slicing, reason = "run by the compiler: a bad index fails the build")]
const STARTS: [usize; PARTS.len() + 1] = {
    let mut starts = [0; PARTS.len() + 1];
    let mut i = 0;
    while i < PARTS.len() {
        starts[i + 1] = starts[i] + PARTS[i].len();
        i += 1;
    }
    starts
};

/// Length of the unpacked text.
#[expect(clippy::indexing_slicing, reason = "run by the compiler: a bad index fails the build")]
pub const TEXT_LEN: usize = STARTS[PARTS.len()];

#[expect(clippy::indexing_slicing, reason = "run by the compiler: a bad index fails the build")]
const TEXT: [u8; TEXT_LEN] = {
    let mut text = [0; TEXT_LEN];
    let mut at = 0;
    let mut i = 0;
    while i < PARTS.len() {
        let mut j = 0;
        while j < PARTS[i].len() {
            text[at] = PARTS[i][j];
            at += 1;
            j += 1;
        }
        i += 1;
    }
    text
};

/// Greedy LZ77: at each position the longest earlier match, if long enough.
/// Never longer than the text (a match of 3 or more bytes takes 2).
/// Run by the compiler only (for COMPRESSED): its assert is a build check.
#[expect(
    clippy::indexing_slicing,
    clippy::arithmetic_side_effects,
    reason = "run by the compiler: a bad index or an overflow fails the build"
)]
const fn compress(text: &[u8; TEXT_LEN]) -> ([u8; TEXT_LEN], usize) {
    let mut out = [0; TEXT_LEN];
    let mut len = 0;
    let mut i = 0;
    while i < TEXT_LEN {
        assert!(text[i] < 0x80, "packed texts must be ASCII");
        let (mut best, mut distance) = (0, 0);
        let mut from = i.saturating_sub(MAX_DISTANCE);
        while from < i {
            let mut n = 0;
            while n < MAX_MATCH && i + n < TEXT_LEN && text[from + n] == text[i + n] {
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

// Evaluated once; the compressed bytes are copied out of it below.
#[allow(long_running_const_eval)]
const COMPRESSED: ([u8; TEXT_LEN], usize) = compress(&TEXT);

#[expect(clippy::indexing_slicing, reason = "run by the compiler: a bad index fails the build")]
static PACKED: [u8; COMPRESSED.1] = {
    let mut packed = [0; COMPRESSED.1];
    let mut i = 0;
    while i < packed.len() {
        packed[i] = COMPRESSED.0[i];
        i += 1;
    }
    packed
};

/// The unpacked texts.
pub struct Texts([u8; TEXT_LEN]);

impl Texts {
    // One copy for its three callers.
    #[inline(never)]
    pub fn unpack() -> Self {
        let mut text = [0; TEXT_LEN];
        // PACKED is `compress`'s output, so every copy reads an earlier byte
        // and every write lands inside `text` (the unit test unpacks it all):
        // the checked accesses below never miss, nor does `at` overflow.
        let mut at: usize = 0;
        let mut packed = PACKED.iter().copied();
        while let Some(code) = packed.next() {
            // A literal byte, or `len` bytes copied from `distance` back.
            let (len, distance) = if code < 0x80 {
                (1, None)
            } else {
                let low = usize::from(packed.next().unwrap_or(0));
                (usize::from(code >> 3 & 15) + MIN_MATCH, Some((usize::from(code & 7) << 8 | low).wrapping_add(1)))
            };
            for _ in 0..len {
                let byte = match distance {
                    None => code,
                    Some(distance) => at.checked_sub(distance).and_then(|from| text.get(from)).copied().unwrap_or(0),
                };
                if let Some(slot) = text.get_mut(at) {
                    *slot = byte;
                }
                at = at.wrapping_add(1);
            }
        }
        Self(text)
    }

    fn part(&self, index: usize) -> &[u8] {
        match STARTS.get(index..) {
            Some(&[start, end, ..]) => self.0.get(start..end).unwrap_or_default(),
            _ => &[],
        }
    }

    /// `cli::HELP`.
    pub fn help(&self) -> &[u8] {
        self.part(0)
    }

    /// The ssh_config fragment's fixed pieces (see ssh_config::fragment).
    pub fn ssh_config(&self) -> [&[u8]; 3] {
        [self.part(1), self.part(2), self.part(3)]
    }

    /// `errno_text::TABLE`.
    pub fn errno_table(&self) -> &[u8] {
        self.part(4)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unpacks_to_the_texts() {
        let texts = Texts::unpack();
        assert_eq!(texts.0, TEXT);
        assert_eq!(texts.help(), HELP);
        assert_eq!(texts.ssh_config(), [HEAD, LOCAL, TAIL]);
        assert_eq!(texts.errno_table(), ERRNO_TABLE);
        assert!(PACKED.len() < TEXT_LEN * 6 / 10, "{} of {TEXT_LEN}", PACKED.len());
    }
}
