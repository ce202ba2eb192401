//! The machined reply parser and the JSON reader on arbitrary bytes: no panic,
//! and a document that parses gives the same answer twice.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sockproxy::json::Reader;
use sockproxy::targets::machine::parse_machine_reply;

fuzz_target!(|data: &[u8]| {
    let first = parse_machine_reply(data);
    assert_eq!(first, parse_machine_reply(data));
    let mut reader = Reader::new(data);
    if reader.skip_value(0).is_ok() {
        let _ = reader.finish();
    }
});
