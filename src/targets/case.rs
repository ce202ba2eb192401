//! Recovering a path's case after ssh lowercased `%h` (systemd#41641).

/// Looks for the one directory entry that equals `wanted` ignoring ASCII case.
/// ssh lowercases with tolower() in the C locale, so only ASCII letters can
/// differ and a match always has the length of `wanted`.
pub struct CaseSearch<'w> {
    wanted: &'w [u8],
    matches: u32,
}

impl<'w> CaseSearch<'w> {
    pub const fn new(wanted: &'w [u8]) -> Self {
        Self { wanted, matches: 0 }
    }

    /// Offers one entry name; true when it matches (the caller keeps a copy).
    pub fn offer(&mut self, name: &[u8]) -> bool {
        #[expect(clippy::manual_ignore_case_cmp, reason = "smaller code (docs/performance.md, Size)")]
        let hit = name.len() == self.wanted.len()
            && name.iter().zip(self.wanted).all(|(a, b)| a.to_ascii_lowercase() == b.to_ascii_lowercase());
        if hit {
            self.matches = self.matches.saturating_add(1);
        }
        hit
    }

    /// True when exactly one entry matched: only then is the match trusted.
    pub fn is_unique(&self) -> bool {
        self.matches == 1
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ENTRIES: &[&[u8]] = &[b".", b"..", b"MyVM.sock", b"other", b"Dup", b"DUP", b"\xc3\x89t\xc3\xa9"];

    fn search(wanted: &[u8]) -> Option<Vec<u8>> {
        let mut search = CaseSearch::new(wanted);
        let mut kept = None;
        for name in ENTRIES {
            if search.offer(name) {
                kept = Some(name.to_vec());
            }
        }
        if search.is_unique() { kept } else { None }
    }

    #[test]
    fn unique_match_only() {
        let cases: &[(&[u8], Option<&[u8]>)] = &[
            (b"myvm.sock", Some(b"MyVM.sock")),
            (b"MYVM.SOCK", Some(b"MyVM.sock")),
            (b"other", Some(b"other")),
            (b"dup", None),
            (b"missing", None),
            (b"myvm.soc", None),
            (b"myvm.sockx", None),
            // tolower() in the C locale leaves non-ASCII bytes alone.
            (b"\xc3\xa9t\xc3\xa9", None),
            (b"\xc3\x89T\xc3\xa9", Some(b"\xc3\x89t\xc3\xa9")),
        ];
        for (wanted, expected) in cases {
            assert_eq!(search(wanted).as_deref(), *expected, "{wanted:?}");
        }
    }
}
