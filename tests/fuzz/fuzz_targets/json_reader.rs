//! The machined reply parser and the JSON reader on arbitrary bytes: no panic,
//! and a document that parses gives the same answer twice. An sshAddress
//! goes on as the proxy takes it: the recursion check, the HOST grammar, and
//! a message about it kept within its room.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sockproxy::json::Reader;
use sockproxy::targets::machine::{SshAddressProblem, is_recursive, parse_machine_reply};
use sockproxy::targets::parse_target;

fuzz_target!(|data: &[u8]| {
    let first = parse_machine_reply(data);
    assert_eq!(first, parse_machine_reply(data));
    if let Ok(reply) = first
        && let Some(address) = reply.ssh_address
    {
        let host = address.as_bytes();
        if !is_recursive(host) {
            let _ = parse_target(host, b"22");
        }
        let SshAddressProblem::Failed { message, .. } = SshAddressProblem::failed(host, true) else { panic!() };
        assert!(message.len() <= host.len() && host.starts_with(message.as_bytes()));
    }
    let mut reader = Reader::new(data);
    if reader.skip_value(0).is_ok() {
        let _ = reader.finish();
    }
});
