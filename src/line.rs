//! A one-line message assembled in a fixed buffer: no allocator, no `core::fmt`.

use crate::array_buf::ArrayBuf;
use crate::number::{format_u32, hex_byte};
use crate::texts;

/// Capacity of a message line; longer content is cut and marked with `...`.
pub const LINE_CAPACITY: usize = 1024;

const ELLIPSIS: &[u8] = b"...";

/// Bytes of content a line holds: the rest is kept for `...` and the newline.
const CONTENT_CAPACITY: usize = LINE_CAPACITY - ELLIPSIS.len() - 1;

/// Untrusted text longer than this is shown as its first and last halves
/// with `...` between, so that the reason after it always fits on the line.
pub const QUOTED_MAX: usize = 200;

/// A message line under construction. `finish` appends the newline.
#[derive(Default)]
pub struct Line {
    buf: ArrayBuf<LINE_CAPACITY>,
}

impl Line {
    /// Appends `bytes` whole if they fit before the room kept for the end.
    fn push(&mut self, bytes: &[u8]) -> Option<()> {
        self.buf.push_within(CONTENT_CAPACITY, bytes)
    }

    /// Appends trusted text verbatim, as much of it as fits.
    pub fn text(&mut self, text: &[u8]) -> &mut Self {
        for &byte in text {
            let _ = self.push(&[byte]);
        }
        self
    }

    /// Appends untrusted bytes (argv, paths, what a peer sent) so that they
    /// can neither break the line nor drive the terminal: control characters
    /// (C0, DEL and C1, whose U+009B is CSI on many terminals) and bytes that
    /// are not UTF-8 become `\xNN`, byte by byte; other UTF-8 stays as it is.
    /// Beyond QUOTED_MAX bytes only the head and the tail are shown.
    pub fn quoted(&mut self, bytes: &[u8]) -> &mut Self {
        match (bytes.get(..QUOTED_MAX / 2), bytes.len().checked_sub(QUOTED_MAX / 2).and_then(|tail| bytes.get(tail..)))
        {
            (Some(head), Some(tail)) if bytes.len() > QUOTED_MAX => self.escaped(head).text(ELLIPSIS).escaped(tail),
            _ => self.escaped(bytes),
        }
    }

    fn escaped(&mut self, bytes: &[u8]) -> &mut Self {
        let mut rest = bytes;
        while let Some(&lead) = rest.first() {
            // One character of valid UTF-8: a lead byte, whose leading ones
            // count the bytes of its character, then that many continuation
            // bytes (the second within the lead's range, so that no overlong
            // form or surrogate passes); any other byte stands alone.
            let len = if (0xc2..=0xf4).contains(&lead) { lead.leading_ones() as usize } else { 1 };
            let (second_min, second_max) = match lead {
                0xe0 => (0xa0, 0xbf),
                0xed => (0x80, 0x9f),
                0xf0 => (0x90, 0xbf),
                0xf4 => (0x80, 0x8f),
                _ => (0x80, 0xbf),
            };
            let valid = (1..len).all(|at| {
                rest.get(at)
                    .is_some_and(|&b| if at == 1 { second_min <= b && b <= second_max } else { b & 0xc0 == 0x80 })
            });
            let (char, after) = rest.split_at_checked(if valid { len } else { 1 }).unwrap_or((rest, &[]));
            rest = after;
            let escape = match *char {
                [byte] => !(0x20..0x7f).contains(&byte),
                // U+0080 to U+009F.
                [0xc2, second] => second < 0xa0,
                _ => false,
            };
            if !escape {
                let _ = self.push(char);
                continue;
            }
            for &byte in char {
                let [high, low] = hex_byte(byte);
                // Whole or not at all: an escape is never split by the cut.
                if self.push(&[b'\\', b'x', high, low]).is_none() {
                    return self;
                }
            }
        }
        self
    }

    pub fn number(&mut self, value: u32) -> &mut Self {
        let mut digits = [0u8; 10];
        self.text(format_u32(value, &mut digits))
    }

    /// Appends the strerror() text of `errno` (glibc wording).
    pub fn errno(&mut self, errno: i32) -> &mut Self {
        match texts::errno(errno) {
            Some(text) => self.text(text.as_bytes()),
            None => {
                self.text(b"Unknown error ");
                if errno < 0 {
                    self.text(b"-");
                }
                self.number(errno.unsigned_abs())
            }
        }
    }

    /// The finished line: the content, `...` if it was cut, and the newline.
    pub fn finish(&mut self) -> &[u8] {
        let ellipsis: &[u8] = if self.buf.is_cut() { ELLIPSIS } else { b"" };
        // The room kept after CONTENT_CAPACITY takes both.
        let _ = self.buf.push_parts(&[ellipsis, b"\n"]);
        self.buf.as_bytes()
    }
}

/// The line that `describe` writes, finished, as text: for the message tests
/// of every feature.
#[cfg(test)]
pub fn render(describe: impl FnOnce(&mut Line)) -> String {
    let mut line = Line::default();
    describe(&mut line);
    String::from_utf8(line.finish().to_vec()).unwrap()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn render(build: impl FnOnce(&mut Line)) -> Vec<u8> {
        super::render(build).into_bytes()
    }

    #[test]
    fn joins_parts_and_ends_with_newline() {
        let out = render(|l| {
            l.text(b"Failed to connect to vsock:").number(3).text(b":").number(22).text(b": ").errno(111);
        });
        assert_eq!(out, b"Failed to connect to vsock:3:22: Connection refused\n");
    }

    #[test]
    fn escapes_control_bytes_only() {
        let out = render(|l| {
            l.quoted(b"a\nb\x1b[0m\x7f\xc3\xa9 z");
        });
        assert_eq!(out, b"a\\x0ab\\x1b[0m\\x7f\xc3\xa9 z\n");
    }

    #[test]
    fn escapes_c1_controls_and_bytes_that_are_not_utf8() {
        let out = render(|l| {
            // CSI as UTF-8 (U+009B) and as a raw byte, U+0085 (NEL), U+009F,
            // then U+00A0, U+011B (0xc4 0x9b: a 0x9b that is no control),
            // U+0969, and bytes that are not UTF-8.
            l.quoted(b"a\xc2\x9b[2J \x9b[2J \xc2\x85\xc2\x9f|\xc2\xa0\xc4\x9b\xe0\xa5\xa9|\xff\xc2|\xe0\x80\x9b");
        });
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "a\\xc2\\x9b[2J \\x9b[2J \\xc2\\x85\\xc2\\x9f|\u{a0}\u{11b}\u{969}|\\xff\\xc2|\\xe0\\x80\\x9b\n"
        );
    }

    #[test]
    fn unknown_errno_gets_number() {
        assert_eq!(
            render(|l| {
                l.errno(4000);
            }),
            b"Unknown error 4000\n"
        );
        assert_eq!(
            render(|l| {
                l.errno(-5);
            }),
            b"Unknown error -5\n"
        );
    }

    #[test]
    fn long_untrusted_text_keeps_head_and_tail_and_the_reason() {
        let mut long = vec![b'h'; 100];
        long.extend([b'm'; 4800]);
        long.extend([b't'; 100]);
        let out = render(|l| {
            l.text(b"path ").quoted(&long).text(b": tail");
        });
        let expected = [&b"path "[..], &[b'h'; 100], b"...", &[b't'; 100], b": tail\n"].concat();
        assert_eq!(out, expected);
        let exactly = vec![b'x'; QUOTED_MAX];
        assert_eq!(
            render(|l| {
                l.quoted(&exactly);
            }),
            [&exactly[..], b"\n"].concat()
        );
    }

    #[test]
    fn overlong_content_is_cut_with_ellipsis() {
        let long = vec![b'a'; 5000];
        let out = render(|l| {
            l.text(b"path ").text(&long).text(b": tail");
        });
        assert_eq!(out.len(), LINE_CAPACITY);
        assert!(out.ends_with(b"aaa...\n"));
        assert_eq!(out.iter().filter(|&&b| b == b'\n').count(), 1);
    }

    #[test]
    fn escape_is_never_split_by_the_cut() {
        let long = vec![b'\n'; QUOTED_MAX];
        let out = render(|l| {
            l.quoted(&long).quoted(&long);
        });
        let body = &out[..out.len() - 4];
        assert!(body.ends_with(b"\\x0a"), "{:?}", String::from_utf8_lossy(&out[out.len() - 12..]));
    }
}
