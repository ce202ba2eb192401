//! A bounded, allocation-free JSON reader: pulls the few values we need out of
//! a document and checks the syntax of everything it skips.

use crate::array_buf::{AnyArrayBuf, ArrayBuf};

/// Deepest nesting of arrays and objects accepted.
pub const MAX_DEPTH: u32 = 32;

/// What is wrong with a document, and at which byte offset.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum JsonError {
    /// The document ends inside a value.
    Truncated,
    /// A byte that cannot come here.
    Unexpected(usize),
    TooDeep(usize),
    BadEscape(usize),
    /// A raw control byte inside a string.
    ControlInString(usize),
    /// A number we read is not an integer in range.
    NumberOutOfRange(usize),
    /// A key we read appears twice.
    DuplicateKey(usize),
}

/// A decoded string: at most N bytes are kept, and a longer one is cut (see
/// `ArrayBuf::is_cut`), so it never equals a short constant.
pub type Text<const N: usize> = ArrayBuf<N>;

/// Appends a decoded character.
fn push_char(out: &mut AnyArrayBuf, c: char) {
    let mut utf8 = [0u8; 4];
    for &byte in c.encode_utf8(&mut utf8).as_bytes() {
        let _ = out.push(&[byte]);
    }
}

/// A cursor over one JSON document.
pub struct Reader<'a> {
    doc: &'a [u8],
    /// The next byte's offset; at most `doc.len()`.
    pos: usize,
}

impl<'a> Reader<'a> {
    pub const fn new(doc: &'a [u8]) -> Self {
        Self { doc, pos: 0 }
    }

    /// Moves past the byte at `pos`, which is there: the sum is at most
    /// `doc.len()` and cannot wrap.
    fn skip(&mut self) {
        self.pos = self.pos.wrapping_add(1);
    }

    fn skip_space(&mut self) {
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.doc.get(self.pos) {
            self.skip();
        }
    }

    /// The next byte after white space, not consumed.
    fn peek(&mut self) -> Result<u8, JsonError> {
        self.skip_space();
        self.doc.get(self.pos).copied().ok_or(JsonError::Truncated)
    }

    fn next_byte(&mut self) -> Result<u8, JsonError> {
        let byte = self.doc.get(self.pos).copied().ok_or(JsonError::Truncated)?;
        self.skip();
        Ok(byte)
    }

    fn expect(&mut self, wanted: u8) -> Result<(), JsonError> {
        if self.peek()? != wanted {
            return Err(JsonError::Unexpected(self.pos));
        }
        self.skip();
        Ok(())
    }

    /// Enters an object: `{`.
    pub fn begin_object(&mut self) -> Result<(), JsonError> {
        self.expect(b'{')
    }

    /// Moves to the next member of the object entered last: decodes its key
    /// into `key` and consumes the `:`. `false` at the closing `}`.
    /// `first` must be true for the first call on an object.
    pub fn next_member<const N: usize>(&mut self, first: bool, key: &mut Text<N>) -> Result<bool, JsonError> {
        self.next_member_into(first, key)
    }

    fn next_member_into(&mut self, first: bool, key: &mut AnyArrayBuf) -> Result<bool, JsonError> {
        if self.peek()? == b'}' {
            self.skip();
            return Ok(false);
        }
        if !first {
            self.expect(b',')?;
        }
        key.clear();
        self.string_into(key)?;
        self.expect(b':')?;
        Ok(true)
    }

    /// Reads a string value, decoding escapes into `out`.
    pub fn string<const N: usize>(&mut self, out: &mut Text<N>) -> Result<(), JsonError> {
        self.string_into(out)
    }

    fn string_into(&mut self, out: &mut AnyArrayBuf) -> Result<(), JsonError> {
        self.expect(b'"')?;
        loop {
            let at = self.pos;
            match self.next_byte()? {
                b'"' => return Ok(()),
                b'\\' => {
                    let escaped = match self.next_byte()? {
                        b'"' => '"',
                        b'\\' => '\\',
                        b'/' => '/',
                        b'b' => '\u{8}',
                        b'f' => '\u{c}',
                        b'n' => '\n',
                        b'r' => '\r',
                        b't' => '\t',
                        b'u' => self.unicode_escape(at)?,
                        _ => return Err(JsonError::BadEscape(at)),
                    };
                    push_char(out, escaped);
                }
                0..=0x1f => return Err(JsonError::ControlInString(at)),
                byte => {
                    let _ = out.push(&[byte]);
                }
            }
        }
    }

    fn hex4(&mut self, at: usize) -> Result<u32, JsonError> {
        let mut value = 0;
        for _ in 0..4 {
            let digit = char::from(self.next_byte()?).to_digit(16).ok_or(JsonError::BadEscape(at))?;
            // Four hex digits: 16 bits, no overflow.
            value = value << 4 | digit;
        }
        Ok(value)
    }

    /// `\uXXXX` after the `u`, with a following `\uXXXX` for a surrogate pair.
    fn unicode_escape(&mut self, at: usize) -> Result<char, JsonError> {
        let first = self.hex4(at)?;
        let code = match first {
            0xd800..=0xdbff => {
                if self.next_byte()? != b'\\' || self.next_byte()? != b'u' {
                    return Err(JsonError::BadEscape(at));
                }
                let low = self.hex4(at)?;
                if !(0xdc00..=0xdfff).contains(&low) {
                    return Err(JsonError::BadEscape(at));
                }
                // 20 bits from the pair, above the basic plane: at most 0x10ffff.
                ((first & 0x3ff) << 10 | low & 0x3ff).checked_add(0x10000)
            }
            0xdc00..=0xdfff => return Err(JsonError::BadEscape(at)),
            _ => Some(first),
        };
        code.and_then(char::from_u32).ok_or(JsonError::BadEscape(at))
    }

    /// Reads a non-negative integer that fits in u32.
    pub fn u32(&mut self) -> Result<u32, JsonError> {
        self.skip_space();
        let at = self.pos;
        let (integer, plain) = self.number()?;
        let digits = self.doc.get(integer.0..integer.1).unwrap_or_default();
        if !plain || digits.starts_with(b"-") {
            return Err(JsonError::NumberOutOfRange(at));
        }
        crate::number::parse_u32(digits).ok_or(JsonError::NumberOutOfRange(at))
    }

    /// True (and consumed) when the next value is `null`.
    pub fn null(&mut self) -> Result<bool, JsonError> {
        if self.peek()? == b'n' {
            self.literal(b"null")?;
            return Ok(true);
        }
        Ok(false)
    }

    fn literal(&mut self, word: &[u8]) -> Result<(), JsonError> {
        let rest = self.doc.get(self.pos..).unwrap_or_default();
        if !rest.starts_with(word) {
            return if rest.len() < word.len() && word.starts_with(rest) {
                Err(JsonError::Truncated)
            } else {
                Err(JsonError::Unexpected(self.pos))
            };
        }
        // `word` is there: the sum is at most `doc.len()`, no wrap.
        self.pos = self.pos.wrapping_add(word.len());
        Ok(())
    }

    /// Checks a number's syntax; returns the span of its integer part (sign
    /// included) and whether it has no fraction or exponent.
    fn number(&mut self) -> Result<((usize, usize), bool), JsonError> {
        let start = self.pos;
        if self.doc.get(self.pos) == Some(&b'-') {
            self.skip();
        }
        match self.doc.get(self.pos) {
            Some(b'0') => self.skip(),
            Some(b'1'..=b'9') => self.digits(),
            Some(_) => return Err(JsonError::Unexpected(self.pos)),
            None => return Err(JsonError::Truncated),
        }
        let integer = (start, self.pos);
        let mut plain = true;
        if self.doc.get(self.pos) == Some(&b'.') {
            self.skip();
            self.required_digits()?;
            plain = false;
        }
        if let Some(b'e' | b'E') = self.doc.get(self.pos) {
            self.skip();
            if let Some(b'+' | b'-') = self.doc.get(self.pos) {
                self.skip();
            }
            self.required_digits()?;
            plain = false;
        }
        Ok((integer, plain))
    }

    fn digits(&mut self) {
        while let Some(b'0'..=b'9') = self.doc.get(self.pos) {
            self.skip();
        }
    }

    fn required_digits(&mut self) -> Result<(), JsonError> {
        match self.doc.get(self.pos) {
            Some(b'0'..=b'9') => {
                self.digits();
                Ok(())
            }
            Some(_) => Err(JsonError::Unexpected(self.pos)),
            None => Err(JsonError::Truncated),
        }
    }

    /// Skips any value, checking its syntax; `depth` is the nesting it sits at.
    pub fn skip_value(&mut self, depth: u32) -> Result<(), JsonError> {
        let at = self.pos;
        match self.peek()? {
            b'{' | b'[' if depth >= MAX_DEPTH => Err(JsonError::TooDeep(at)),
            b'{' => {
                self.skip();
                let inner = depth.wrapping_add(1);
                let mut key = Text::<0>::new();
                let mut first = true;
                while self.next_member(first, &mut key)? {
                    self.skip_value(inner)?;
                    first = false;
                }
                Ok(())
            }
            b'[' => {
                self.skip();
                let inner = depth.wrapping_add(1);
                if self.peek()? == b']' {
                    self.skip();
                    return Ok(());
                }
                loop {
                    self.skip_value(inner)?;
                    match self.peek()? {
                        b',' => self.skip(),
                        b']' => {
                            self.skip();
                            return Ok(());
                        }
                        _ => return Err(JsonError::Unexpected(self.pos)),
                    }
                }
            }
            b'"' => self.string(&mut Text::<0>::new()),
            b't' => self.literal(b"true"),
            b'f' => self.literal(b"false"),
            b'n' => self.literal(b"null"),
            _ => self.number().map(|_| ()),
        }
    }

    /// Checks that nothing but white space follows the document.
    pub fn finish(&mut self) -> Result<(), JsonError> {
        self.skip_space();
        if self.pos < self.doc.len() {
            return Err(JsonError::Unexpected(self.pos));
        }
        Ok(())
    }

    /// Offset of the next byte, for duplicate-key errors.
    pub fn position(&self) -> usize {
        self.pos
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(doc: &[u8]) -> Result<(), JsonError> {
        let mut reader = Reader::new(doc);
        reader.skip_value(0)?;
        reader.finish()
    }

    fn nested(depth: usize) -> Vec<u8> {
        [vec![b'['; depth], vec![b']'; depth]].concat()
    }

    #[test]
    fn valid_documents() {
        let docs: &[&[u8]] = &[
            b"{}",
            b"[]",
            b" { } ",
            b"\t\r\n[\n]\n",
            b"0",
            b"-0",
            b"12",
            b"-12",
            b"1.5",
            b"1e10",
            b"1E+10",
            b"1e-10",
            b"-0.0e0",
            b"123456789012345678901234567890",
            b"true",
            b"false",
            b"null",
            br#""""#,
            br#""abc""#,
            br#""\"\\\/\b\f\n\r\t""#,
            br#""\u0041\u00e9\u20ac""#,
            br#""\ud83d\ude00""#,
            b"\"\xc3\xa9\xe2\x82\xac\"",
            br#"{"a":1}"#,
            br#"{"a":1,"b":[true,false,null],"c":{"d":"e"}}"#,
            br#"{"a":{"b":{"c":{"d":[[[]]]}}}}"#,
            br#"[1,"2",{"3":4},[5]]"#,
            br#"{"a":1,"a":2}"#,
            br#"{"":0}"#,
            br#"{ "a" : 1 , "b" : 2 }"#,
        ];
        for doc in docs {
            assert_eq!(check(doc), Ok(()), "{}", String::from_utf8_lossy(doc));
        }
        assert_eq!(check(&nested(MAX_DEPTH as usize)), Ok(()));
    }

    #[test]
    fn invalid_documents() {
        let docs: &[(&[u8], JsonError)] = &[
            (b"", JsonError::Truncated),
            (b"   ", JsonError::Truncated),
            (b"{", JsonError::Truncated),
            (b"[", JsonError::Truncated),
            (br#"{"a""#, JsonError::Truncated),
            (br#"{"a":"#, JsonError::Truncated),
            (br#"{"a":1"#, JsonError::Truncated),
            (br#""abc"#, JsonError::Truncated),
            (b"tru", JsonError::Truncated),
            (b"-", JsonError::Truncated),
            (b"1.", JsonError::Truncated),
            (b"1e", JsonError::Truncated),
            (b"}", JsonError::Unexpected(0)),
            (b"{}}", JsonError::Unexpected(2)),
            (b"{} {}", JsonError::Unexpected(3)),
            (br#"{"a":1,}"#, JsonError::Unexpected(7)),
            (br#"{,}"#, JsonError::Unexpected(1)),
            (br#"[1,]"#, JsonError::Unexpected(3)),
            (br#"[1 2]"#, JsonError::Unexpected(3)),
            (br#"{"a" 1}"#, JsonError::Unexpected(5)),
            (br#"{a:1}"#, JsonError::Unexpected(1)),
            (br#"{1:1}"#, JsonError::Unexpected(1)),
            (b"'a'", JsonError::Unexpected(0)),
            (b"01", JsonError::Unexpected(1)),
            (b"+1", JsonError::Unexpected(0)),
            (b".5", JsonError::Unexpected(0)),
            (b"1.e5", JsonError::Unexpected(2)),
            (b"0x10", JsonError::Unexpected(1)),
            (b"NaN", JsonError::Unexpected(0)),
            (b"nul", JsonError::Truncated),
            (b"nulL", JsonError::Unexpected(0)),
            (b"True", JsonError::Unexpected(0)),
            (b"\"a\nb\"", JsonError::ControlInString(2)),
            (b"\"\x00\"", JsonError::ControlInString(1)),
            (br#""\x41""#, JsonError::BadEscape(1)),
            (br#""\u12""#, JsonError::BadEscape(1)),
            (br#""\u12G4""#, JsonError::BadEscape(1)),
            (br#""\ud83d""#, JsonError::BadEscape(1)),
            (br#""\ud83dx""#, JsonError::BadEscape(1)),
            (br#""\ud83d\u0041""#, JsonError::BadEscape(1)),
            (br#""\ude00""#, JsonError::BadEscape(1)),
            (b"\xef\xbb\xbf{}", JsonError::Unexpected(0)),
        ];
        for (doc, error) in docs {
            assert_eq!(check(doc), Err(*error), "{}", String::from_utf8_lossy(doc));
        }
    }

    #[test]
    fn nesting_is_bounded() {
        let limit = MAX_DEPTH as usize;
        assert_eq!(check(&nested(limit + 1)), Err(JsonError::TooDeep(limit)));
        assert_eq!(check(&vec![b'['; 100_000]), Err(JsonError::TooDeep(limit)));
        let objects = br#"{"a":"#.repeat(limit + 1);
        assert!(matches!(check(&objects), Err(JsonError::TooDeep(_))));
    }

    fn decode<const N: usize>(doc: &[u8]) -> Result<Text<N>, JsonError> {
        let mut text = Text::new();
        Reader::new(doc).string(&mut text)?;
        Ok(text)
    }

    #[test]
    fn string_escapes_decode() {
        let cases: &[(&[u8], &[u8])] = &[
            (br#""vm""#, b"vm"),
            (br#""v\u006d""#, b"vm"),
            (br#""a\"b\\c\/d""#, b"a\"b\\c/d"),
            (br#""\n\t\r\b\f""#, b"\n\t\r\x08\x0c"),
            (br#""\u00e9""#, "\u{e9}".as_bytes()),
            (br#""\u20AC""#, "\u{20ac}".as_bytes()),
            (br#""\uD83D\uDE00""#, "\u{1f600}".as_bytes()),
            (br#""\u0000""#, b"\0"),
            (b"\"\xc3\xa9\"", b"\xc3\xa9"),
        ];
        for (doc, expected) in cases {
            let text = decode::<32>(doc).unwrap();
            assert_eq!(text.as_bytes(), *expected, "{}", String::from_utf8_lossy(doc));
            assert!(text.is(expected));
        }
    }

    #[test]
    fn long_strings_are_cut_and_never_equal() {
        let text = decode::<4>(br#""container""#).unwrap();
        assert!(text.is_cut());
        assert_eq!(text.as_bytes(), b"cont");
        assert!(!text.is(b"cont"));
        let text = decode::<2>(br#""\u20ac""#).unwrap();
        assert!(text.is_cut());
    }

    #[test]
    fn integers_for_fields() {
        let cases: &[(&[u8], Result<u32, JsonError>)] = &[
            (b"0", Ok(0)),
            (b" 42", Ok(42)),
            (b"4294967295", Ok(u32::MAX)),
            (b"4294967296", Err(JsonError::NumberOutOfRange(0))),
            (b"-1", Err(JsonError::NumberOutOfRange(0))),
            (b"-0", Err(JsonError::NumberOutOfRange(0))),
            (b"1.0", Err(JsonError::NumberOutOfRange(0))),
            (b"1e3", Err(JsonError::NumberOutOfRange(0))),
            (b"99999999999999999999999", Err(JsonError::NumberOutOfRange(0))),
            (b"\"3\"", Err(JsonError::Unexpected(0))),
            (b"01", Ok(0)),
        ];
        for (doc, expected) in cases {
            assert_eq!(Reader::new(doc).u32(), *expected, "{}", String::from_utf8_lossy(doc));
        }
    }
}
