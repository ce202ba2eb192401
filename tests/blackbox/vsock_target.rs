//! `vsock/` targets. The test machine is itself a VM: an AF_VSOCK connect here
//! would reach the hypervisor, so connect() never runs. strace fakes its
//! result (injection replaces the syscall; connect must be in the trace set)
//! and records the arguments we passed.

use std::os::fd::{AsRawFd, OwnedFd};
use std::process::Command;

use sockproxy_test_common::TempDir;

use crate::support::{Outcome, bin, run_fdpass};

/// Runs `vsock/...` under strace with connect() faked as `inject`
/// (e.g. `error=ECONNREFUSED`, `retval=0`). Returns the outcome and the trace.
fn run_faked(host: &str, port: &str, inject: &str) -> (Outcome, String) {
    run_faked_with(&[], host, port, inject)
}

/// `run_faked` with `options` before HOST.
fn run_faked_with(options: &[&str], host: &str, port: &str, inject: &str) -> (Outcome, String) {
    let dir = TempDir::new();
    let log = dir.join("strace.log");
    let mut command = Command::new("strace");
    command
        .args(["-f", "-qq", "-e", "trace=socket,connect", "-e"])
        .arg(format!("inject=connect:{inject}"))
        .arg("-o")
        .arg(&log)
        .arg(bin())
        .args(options)
        .args([host, port]);
    let outcome = run_fdpass(command);
    let trace = std::fs::read_to_string(&log).expect("strace log (is strace installed?)");
    (outcome, trace)
}

/// The one connect() call of the trace, without strace's pid column.
fn connect_line(trace: &str) -> &str {
    let lines: Vec<&str> = trace.lines().filter(|l| l.contains("connect(")).collect();
    assert_eq!(lines.len(), 1, "exactly one connect:\n{trace}");
    let line = lines[0];
    assert!(line.ends_with("(INJECTED)"), "connect was not faked:\n{trace}");
    &line[line.find("connect(").unwrap_or(0)..]
}

#[test]
fn connect_arguments_and_refusal_message() {
    let cases = [
        ("vsock/3", "22", 3u32, 22u32),
        ("vsock%3", "22", 3, 22),
        ("vsock/4711", "2222", 4711, 2222),
        ("vsock/010", "022", 10, 22),
        ("vsock/host", "22", 2, 22),
        ("vsock/local", "22", 1, 22),
        ("vsock/hypervisor", "0", 0, 0),
        ("vsock/4294967294", "4294967294", 4294967294, 4294967294),
    ];
    for (host, port, cid, port_number) in cases {
        let (out, trace) = run_faked(host, port, "error=ECONNREFUSED");
        out.assert_failure(&format!("Failed to connect to vsock:{cid}:{port_number}: Connection refused\n"));
        assert!(trace.contains("socket(AF_VSOCK, SOCK_STREAM|SOCK_CLOEXEC, 0) = 3"), "{trace}");
        // strace names the well-known CIDs and prints other numbers in hex.
        let cid_text = match cid {
            0 => "VMADDR_CID_HYPERVISOR".to_owned(),
            1 => "VMADDR_CID_LOCAL".to_owned(),
            2 => "VMADDR_CID_HOST".to_owned(),
            _ => format!("{cid:#x}"),
        };
        let port_text = if port_number == 0 { "0".to_owned() } else { format!("{port_number:#x}") };
        assert_eq!(
            connect_line(&trace),
            format!(
                "connect(3, {{sa_family=AF_VSOCK, svm_cid={cid_text}, svm_port={port_text}, svm_flags=0}}, 16) = -1 ECONNREFUSED (Connection refused) (INJECTED)"
            )
        );
    }
}

#[test]
fn connect_errors_use_glibc_wording() {
    for (errno, text) in [
        ("ETIMEDOUT", "Connection timed out"),
        ("EHOSTUNREACH", "No route to host"),
        ("ENODEV", "No such device"),
        ("ECONNRESET", "Connection reset by peer"),
    ] {
        let (out, _) = run_faked("vsock/7", "22", &format!("error={errno}"));
        out.assert_failure(&format!("Failed to connect to vsock:7:22: {text}\n"));
    }
}

/// AF_VSOCK's connect waits with a timeout, so a signal (Ctrl-Z, then fg)
/// ends it with EINTR. That is not the target's answer: the connect is made
/// again, on a new socket. Every connect here is faked with EINTR (one
/// inject spec covers them all), so only --timeout ends the run.
#[test]
fn interrupted_connect_is_made_again() {
    let (out, trace) = run_faked_with(&["--timeout=1"], "vsock/3", "22", "error=EINTR");
    out.assert_failure("Timed out after 1 s connecting to the target (--timeout).\n");
    let connects: Vec<&str> = trace.lines().filter(|l| l.contains("connect(")).collect();
    assert!(connects.len() >= 2, "made once only:\n{trace}");
    for line in &connects {
        assert!(line.contains("AF_VSOCK") && line.ends_with("(INJECTED)"), "not faked: {line}");
    }
    let sockets = trace.lines().filter(|l| l.contains("socket(")).count();
    assert!(sockets >= connects.len(), "each connect on a new socket:\n{trace}");
    for line in trace.lines().filter(|l| l.contains("socket(")) {
        assert!(line.contains("socket(AF_VSOCK, SOCK_STREAM|SOCK_CLOEXEC, 0) = 3"), "{line}");
    }
}

#[test]
fn connected_vsock_socket_is_handed_off() {
    let (out, trace) = run_faked("vsock/7", "22", "retval=0");
    assert!(connect_line(&trace).ends_with("= 0 (INJECTED)"), "{trace}");
    let fd: &OwnedFd = out.assert_handoff();
    let mut domain: libc::c_int = 0;
    let mut len = size_of::<libc::c_int>() as libc::socklen_t;
    // SAFETY: getsockopt writes at most `len` bytes into `domain`.
    let rc = unsafe {
        libc::getsockopt(fd.as_raw_fd(), libc::SOL_SOCKET, libc::SO_DOMAIN, (&raw mut domain).cast(), &mut len)
    };
    assert_eq!(rc, 0);
    assert_eq!(domain, libc::AF_VSOCK, "the received descriptor is the AF_VSOCK socket");
}

#[test]
fn bad_vsock_input_never_opens_a_socket() {
    for (host, port) in [("vsock/any", "22"), ("vsock/x", "22"), ("vsock/3", "x"), ("vsock/3", "4294967295")] {
        let (out, trace) = run_faked(host, port, "error=ECONNREFUSED");
        assert_eq!(out.code(), Some(1));
        assert!(!trace.contains("socket("), "{host} {port}: {trace}");
    }
}
