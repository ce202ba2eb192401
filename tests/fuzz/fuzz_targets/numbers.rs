//! Number parsing against an independent oracle: `parse_u32` accepts exactly
//! the non-empty all-digit strings whose value fits in u32 (leading zeros
//! included), `format_u32` writes it back, and vsock CIDs and ports follow
//! from it with their names and reserved values.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sockproxy::number::{format_u32, parse_u32};
use sockproxy::targets::vsock::{parse_cid, parse_port};

/// The value of an all-digit string, with u128 room, or None.
fn oracle(text: &[u8]) -> Option<u32> {
    if text.is_empty() || !text.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let significant = &text[text.iter().position(|&d| d != b'0').unwrap_or(text.len())..];
    if significant.len() > 10 {
        return None;
    }
    let value = significant.iter().fold(0u128, |v, &d| v * 10 + u128::from(d - b'0'));
    u32::try_from(value).ok()
}

fuzz_target!(|data: &[u8]| {
    let parsed = parse_u32(data);
    assert_eq!(parsed, oracle(data), "{:?}", String::from_utf8_lossy(data));
    if let Some(value) = parsed {
        let mut digits = [0u8; 10];
        let written = format_u32(value, &mut digits);
        assert_eq!(parse_u32(written), Some(value));
        assert_eq!(written, value.to_string().as_bytes());
    }
    let named = match data {
        b"hypervisor" => Some(0),
        b"local" => Some(1),
        b"host" => Some(2),
        _ => None,
    };
    match parse_cid(data) {
        Ok(cid) => {
            assert_ne!(cid, u32::MAX);
            assert_eq!(Some(cid), named.or(parsed));
        }
        Err(_) => assert!(named.is_none() && parsed.is_none_or(|cid| cid == u32::MAX)),
    }
    assert_eq!(parse_port(data).ok(), parsed.filter(|&port| port != u32::MAX));
});
