//! Strict numbers: ASCII digits only, no sign, no spaces, no `0x`; decimal,
//! and octal for file modes.

/// Parses `text` as a decimal `u32`. Leading zeros are allowed and stay decimal
/// (unlike upstream's base-0 parsing, where `010` is 8).
pub fn parse_u32(text: &[u8]) -> Option<u32> {
    if text.is_empty() {
        return None;
    }
    let mut value: u32 = 0;
    for &byte in text {
        let digit = byte.wrapping_sub(b'0');
        if digit > 9 {
            return None;
        }
        value = value.checked_mul(10)?.checked_add(u32::from(digit))?;
    }
    Some(value)
}

/// Parses `text` as an octal `u32` (a file mode: `0660`, `600`): digits 0
/// to 7 only, leading zeros allowed.
pub fn parse_octal(text: &[u8]) -> Option<u32> {
    if text.is_empty() {
        return None;
    }
    let mut value: u32 = 0;
    for &byte in text {
        let digit = byte.wrapping_sub(b'0');
        if digit > 7 {
            return None;
        }
        value = value.checked_mul(8)?.checked_add(u32::from(digit))?;
    }
    Some(value)
}

/// The lowercase hex digit for the low four bits of `value`.
fn hex_digit(value: u8) -> u8 {
    let nibble = value & 0xf;
    if nibble < 10 { b'0' | nibble } else { (b'a' - 10).wrapping_add(nibble) }
}

/// Writes `value` in decimal into `out` and returns the digits.
pub fn format_u32(value: u32, out: &mut [u8; 10]) -> &[u8] {
    // Filled from the end; ten places hold u32::MAX, so `rest` reaches 0
    // before `start` does.
    let mut start = out.len();
    let mut rest = value;
    while let Some(at) = start.checked_sub(1) {
        start = at;
        if let Some(slot) = out.get_mut(at) {
            // A remainder of 10: below 10, it fits in u8.
            *slot = b'0' | (rest % 10) as u8;
        }
        rest /= 10;
        if rest == 0 {
            break;
        }
    }
    out.get(start..).unwrap_or_default()
}

/// `byte` as two lowercase hex digits.
pub fn hex_byte(byte: u8) -> [u8; 2] {
    [hex_digit(byte >> 4), hex_digit(byte)]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_strict_decimal() {
        let cases: &[(&[u8], Option<u32>)] = &[
            (b"0", Some(0)),
            (b"1", Some(1)),
            (b"22", Some(22)),
            (b"010", Some(10)),
            (b"0000000000000000000022", Some(22)),
            (b"4294967295", Some(u32::MAX)),
            (b"4294967296", None),
            (b"99999999999", None),
            (b"", None),
            (b"+1", None),
            (b"-1", None),
            (b" 1", None),
            (b"1 ", None),
            (b"0x10", None),
            (b"1e3", None),
            (b"12a", None),
            (b"\xff", None),
            (b"\xd9\xa1", None),
        ];
        for (text, expected) in cases {
            assert_eq!(parse_u32(text), *expected, "input {:?}", text);
        }
    }

    #[test]
    fn parses_strict_octal() {
        let cases: &[(&[u8], Option<u32>)] = &[
            (b"0", Some(0)),
            (b"666", Some(0o666)),
            (b"0666", Some(0o666)),
            (b"0600", Some(0o600)),
            (b"00000000000000000000777", Some(0o777)),
            (b"37777777777", Some(u32::MAX)),
            (b"40000000000", None),
            (b"8", None),
            (b"0o666", None),
            (b"", None),
            (b"+1", None),
            (b" 1", None),
            (b"-1", None),
        ];
        for (text, expected) in cases {
            assert_eq!(parse_octal(text), *expected, "input {:?}", text);
        }
    }

    #[test]
    fn formats_every_width() {
        let mut buf = [0u8; 10];
        for value in [0, 7, 10, 22, 1073741824, u32::MAX] {
            let text = format_u32(value, &mut buf);
            assert_eq!(text, value.to_string().as_bytes());
        }
    }

    #[test]
    fn formats_hex_bytes() {
        for byte in 0..=u8::MAX {
            assert_eq!(hex_byte(byte), format!("{byte:02x}").as_bytes());
        }
    }
}
