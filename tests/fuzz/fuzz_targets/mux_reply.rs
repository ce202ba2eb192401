//! The vsock-mux reply reader on arbitrary bytes: no panic, a decision never
//! takes more than the longest legal reply, and `Done` means a real OK line
//! whose number fits in u32.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sockproxy::targets::mux::{REPLY_MAX, ReplyReader, Step};

fuzz_target!(|data: &[u8]| {
    let mut reader = ReplyReader::default();
    for (i, &byte) in data.iter().enumerate() {
        match reader.push(byte) {
            Step::More => assert!(i + 1 < REPLY_MAX),
            Step::Done => {
                let line = &data[..=i];
                let digits = &line[3..line.len() - 1];
                assert!(line.starts_with(b"OK ") && line.ends_with(b"\n"));
                assert!(!digits.is_empty() && digits.iter().all(u8::is_ascii_digit));
                assert!(digits.iter().map(|&d| (d - b'0') as u64).fold(0, |v, d| v * 10 + d) <= u64::from(u32::MAX));
                break;
            }
            Step::NotOk => {
                assert_eq!(i, 0);
                break;
            }
            Step::Broken => break,
        }
    }
});
