//! The command line and host grammar on arbitrary argument vectors (split at
//! NUL bytes): no panic, and every failure is described in exactly one line.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sockproxy::cli::{Command, parse_command};
use sockproxy::failure::Failure;
use sockproxy::line::Line;
use sockproxy::targets::parse_target;

fuzz_target!(|data: &[u8]| {
    let args: Vec<&[u8]> = data.split(|&b| b == 0).collect();
    let failure: Option<Failure> = match parse_command(args.iter().copied()) {
        Ok(Command::Connect { host, port, .. }) => parse_target(host, port).err().map(Failure::from),
        Ok(_) => None,
        Err(problem) => Some(problem.into()),
    };
    if let Some(failure) = failure {
        let mut line = Line::default();
        failure.describe(&mut line);
        let text = line.finish();
        assert_eq!(text.iter().filter(|&&b| b == b'\n').count(), 1);
        assert!(text.ends_with(b"\n"));
    }
});
