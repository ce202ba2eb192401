//! Failures of single syscalls, faked with strace, and the descriptors we open.

use std::process::Command;

use crate::support::{Listener, Outcome, TempDir, assert_connected_to, bin, run_fdpass, unix_host};

/// Runs the proxy under strace with `extra` strace arguments; returns the
/// outcome and the trace of `trace` syscalls.
fn run_traced(trace: &str, extra: &[&str], args: &[&str]) -> (Outcome, String) {
    let dir = TempDir::new();
    let log = dir.join("strace.log");
    let mut command = Command::new("strace");
    command.args(["-f", "-qq", "-e", &format!("trace={trace}")]).args(extra).arg("-o").arg(&log).arg(bin()).args(args);
    let outcome = run_fdpass(command);
    (outcome, std::fs::read_to_string(&log).expect("strace log"))
}

#[test]
fn socket_creation_failure() {
    let (out, _) = run_traced("socket", &["-e", "inject=socket:error=EAFNOSUPPORT"], &["vsock/3", "22"]);
    out.assert_failure("Failed to create AF_VSOCK socket: Address family not supported by protocol\n");
    let (out, _) = run_traced("socket", &["-e", "inject=socket:error=EMFILE"], &["unix/run/x", "22"]);
    out.assert_failure("Failed to create AF_UNIX socket: Too many open files\n");
}

#[test]
fn handoff_failure() {
    let dir = TempDir::new();
    let sock = dir.join("s.sock");
    let _listener = Listener::bind(&sock);
    let (out, _) = run_traced("sendmsg", &["-e", "inject=sendmsg:error=ENOBUFS"], &[&unix_host('/', &sock), "22"]);
    out.assert_failure("Failed to send socket to ssh: No buffer space available\n");
}

#[test]
fn interrupted_handoff_is_retried() {
    let dir = TempDir::new();
    let sock = dir.join("s.sock");
    let listener = Listener::bind(&sock);
    let (out, trace) =
        run_traced("sendmsg", &["-e", "inject=sendmsg:error=EINTR:when=1"], &[&unix_host('/', &sock), "22"]);
    assert_eq!(trace.matches("sendmsg(").count(), 2, "{trace}");
    assert_connected_to(out.assert_handoff(), &listener);
}

#[test]
fn stdout_check_failure() {
    let dir = TempDir::new();
    let sock = dir.join("s.sock");
    let _listener = Listener::bind(&sock);
    let (out, _) = run_traced("getsockopt", &["-e", "inject=getsockopt:error=ENOBUFS"], &[&unix_host('/', &sock), "22"]);
    out.assert_failure("Failed to check standard output: No buffer space available\n");
}

#[test]
fn help_to_a_full_disk_is_an_error() {
    let full = std::fs::OpenOptions::new().write(true).open("/dev/full").expect("/dev/full");
    let out = Command::new(bin()).arg("--help").stdout(full).output().expect("run --help");
    assert_eq!(String::from_utf8_lossy(&out.stderr), "Failed to write to standard output: No space left on device\n");
    assert_eq!(out.status.code(), Some(1));
}

/// Every descriptor the proxy creates is close-on-exec, on the short path,
/// the long path (directory walk and /proc) and the case recovery.
#[test]
fn every_descriptor_is_cloexec() {
    let dir = TempDir::new();
    std::fs::create_dir(dir.join("Upper")).unwrap();
    let short = dir.join("Upper/s.sock");
    let short_listener = Listener::bind(&short);
    let long_name = format!("{}.sock", "n".repeat(120));
    let long_dir = dir.join(&"d".repeat(100));
    std::fs::create_dir(&long_dir).unwrap();
    let long_listener = Listener::bind_long(&long_dir.join(&long_name));
    let hosts = [
        (unix_host('/', &short).to_lowercase(), &short_listener),
        (unix_host('/', &long_dir.join(&long_name)), &long_listener),
        (unix_host('/', &long_dir.join("s2")), &long_listener),
    ];
    for (host, listener) in hosts {
        let (out, trace) = run_traced("socket,open,openat,accept,accept4,dup,dup2,dup3,fcntl", &[], &[&host, "22"]);
        let mut created = 0;
        for line in trace.lines().filter(|l| !l.contains("= -1")) {
            if line.contains("socket(") {
                assert!(line.contains("SOCK_CLOEXEC"), "{line}");
                created += 1;
            } else if line.contains("open") {
                assert!(line.contains("O_CLOEXEC"), "{line}");
                created += 1;
            } else if line.contains("execve") || line.contains("exited") {
            } else {
                panic!("unexpected descriptor call: {line}");
            }
        }
        assert!(created >= 1, "{trace}");
        if host.ends_with("s2") {
            assert_eq!(out.code(), Some(1));
        } else {
            assert_connected_to(out.assert_handoff(), listener);
        }
    }
}
