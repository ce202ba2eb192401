//! ssh-sockserve's command line, LISTEN grammar and NOTIFY_SOCKET on
//! arbitrary argument vectors (split at NUL bytes; the last part is
//! NOTIFY_SOCKET): no panic, every failure described in exactly one line,
//! and what parses keeps its promises (LISTEN values fit sun_path, COMMAND
//! follows `--`).
#![no_main]

use libfuzzer_sys::fuzz_target;
use sockproxy::line::Line;
use sockproxy::serve::Failure;
use sockproxy::serve::cli::{Command, parse_command};
use sockproxy::serve::listen::ListenAddress;
use sockproxy::serve::notify::parse_notify_socket;

fn one_line(failure: Failure) {
    let mut line = Line::default();
    failure.describe(&mut line);
    let text = line.finish();
    assert_eq!(text.iter().filter(|&&b| b == b'\n').count(), 1);
    assert!(text.ends_with(b"\n"));
}

fuzz_target!(|data: &[u8]| {
    let mut parts: Vec<&[u8]> = data.split(|&b| b == 0).collect();
    let notify = parts.pop().unwrap_or_default();
    match parse_command(parts.iter().copied()) {
        Ok(Command::Serve(serve)) => {
            assert!(parts.get(serve.command_at.wrapping_sub(1)) == Some(&&b"--"[..]));
            assert_eq!(parts.get(serve.command_at), Some(&serve.command));
            for listen in serve.listens() {
                match listen.address {
                    ListenAddress::Path(path) => assert!(path.starts_with(b"/") && path.len() < 108),
                    ListenAddress::Abstract(name) => assert!(!name.is_empty() && name.len() < 108),
                    ListenAddress::Vsock(address) => assert_ne!(address.port, u32::MAX),
                }
            }
        }
        Ok(_) => {}
        Err(problem) => one_line(problem.into()),
    }
    if let Err(problem) = parse_notify_socket(notify) {
        one_line(problem.into());
    }
});
