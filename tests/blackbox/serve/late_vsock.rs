//! A vsock LISTEN address whose transport is not there yet: the others are
//! served at once, it is tried again, said once with -v, and READY=1 waits
//! for it; a vsock bind that fails for good ends the run. This machine is a
//! VM: every AF_VSOCK socket call is faked by strace (and refused by a
//! seccomp filter behind it), so no AF_VSOCK socket ever exists here.

use std::os::unix::net::UnixDatagram;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use sockproxy_test_common::TempDir;

use super::{ECHO, LIMIT, Server, connect, read_exactly, refusing_vsock_sockets, serve_bin, vsock_sockets};

/// The server under strace with `injects`, tracing socket, bind and listen
/// into `dir/trace`; AF_VSOCK sockets refused behind strace.
fn traced_command(dir: &Path, injects: &[&str], args: &[&str]) -> Command {
    let mut command = Command::new("strace");
    command.args(["-qq", "-e", "trace=socket,bind,listen"]);
    for inject in injects {
        command.args(["-e", &format!("inject={inject}")]);
    }
    command.arg("-o").arg(dir.join("trace")).arg(serve_bin()).args(args).arg("--").args(ECHO);
    refusing_vsock_sockets(&mut command);
    command
}

/// `traced_command`, started; and where its trace goes.
fn traced(dir: &Path, injects: &[&str], args: &[&str]) -> (Server, PathBuf) {
    (Server::spawn(dir, traced_command(dir, injects, args)), dir.join("trace"))
}

/// Waits (bounded) until the trace holds at least `count` AF_VSOCK socket
/// calls, each faked; returns the trace.
fn vsock_attempts(trace: &Path, count: usize, server: &Server) -> String {
    let deadline = Instant::now() + LIMIT;
    loop {
        let text = std::fs::read_to_string(trace).unwrap_or_default();
        if vsock_sockets(&text).len() >= count {
            return text;
        }
        assert!(Instant::now() < deadline, "fewer than {count} vsock attempts:\n{text}\n{}", server.stderr());
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn the_guard_refuses_vsock_sockets() {
    let mut python = Command::new("python3");
    python.args(["-c", "import socket\ntry:\n socket.socket(socket.AF_VSOCK)\nexcept OSError as e:\n print(e.errno)"]);
    refusing_vsock_sockets(&mut python);
    let output = python.output().expect("python3 (apt-get install python3)");
    assert_eq!(String::from_utf8_lossy(&output.stdout), format!("{}\n", libc::EAFNOSUPPORT));
}

#[test]
fn without_af_vsock_the_others_are_served_and_vsock_is_tried_again_said_once() {
    let dir = TempDir::new();
    let socket = dir.join("s");
    let notify = UnixDatagram::bind(dir.join("notify")).unwrap();
    notify.set_nonblocking(true).unwrap();
    // The unix listener's socket() is the first; every later one is AF_VSOCK's.
    let args = ["-v", socket.to_str().unwrap(), "vsock::22"];
    let mut command = traced_command(dir.path(), &["socket:error=EAFNOSUPPORT:when=2+"], &args);
    command.env("NOTIFY_SOCKET", dir.join("notify"));
    let (mut server, trace) = (Server::spawn(dir.path(), command), dir.join("trace"));
    let text = vsock_attempts(&trace, 4, &server);
    assert!(!text.lines().any(|l| l.contains("AF_VSOCK") && l.starts_with("bind(")), "{text}");
    assert_eq!(read_exactly(&mut connect(&socket), 6), b"hello\n", "the unix listener is served meanwhile");
    let stderr = server.stderr();
    let late = "Cannot listen on vsock::22 yet (Address family not supported by protocol); \
                serving the other addresses and trying again.";
    assert_eq!(stderr.lines().filter(|l| *l == late).count(), 1, "said once:\n{stderr}");
    assert!(stderr.lines().all(|l| l == late || l.contains(": connection from pid")), "{stderr}");
    // READY=1 means every address takes connections: not yet.
    assert!(notify.recv(&mut [0u8; 16]).is_err(), "READY=1 while vsock::22 is not bound");
    let tracee = server.tracee();
    // SAFETY: kill has no memory-safety preconditions; the tracee is strace's child, alive.
    unsafe { libc::kill(tracee as libc::pid_t, libc::SIGTERM) };
    assert_eq!(server.wait_exit().code(), Some(0));
    assert!(!socket.exists());
    vsock_sockets(&std::fs::read_to_string(&trace).unwrap());
}

#[test]
fn a_vsock_bind_without_a_transport_is_tried_again_and_quiet_without_v() {
    for (errno, text) in [("EADDRNOTAVAIL", "Cannot assign requested address"), ("ENODEV", "No such device")] {
        let dir = TempDir::new();
        let socket = dir.join("s");
        let injects = ["socket:retval=100:when=2+", &format!("bind:error={errno}:when=2+")];
        let (server, trace) = traced(dir.path(), &injects, &[socket.to_str().unwrap(), "vsock:3:22"]);
        let trace = vsock_attempts(&trace, 3, &server);
        let bind = format!(
            "bind(100, {{sa_family=AF_VSOCK, svm_cid=0x3, svm_port=0x16, svm_flags=0}}, 16) = -1 {errno} ({text}) (INJECTED)"
        );
        assert!(trace.lines().filter(|l| *l == bind).count() >= 2, "{trace}");
        assert_eq!(read_exactly(&mut connect(&socket), 6), b"hello\n");
        assert_eq!(server.stderr(), "", "nothing said without -v");
    }
}

#[test]
fn a_vsock_bind_that_fails_for_good_is_one_line_and_exit_1() {
    let dir = TempDir::new();
    let name = format!("@ssh-sockserve-test-{}-good", std::process::id());
    let injects = ["socket:retval=100:when=1", "bind:error=EADDRINUSE:when=1"];
    let (mut server, trace) = traced(dir.path(), &injects, &["vsock::22", &name]);
    assert_eq!(server.wait_exit().code(), Some(1));
    assert_eq!(server.stderr(), "Failed to listen on vsock::22: Address already in use\n");
    let trace = std::fs::read_to_string(trace).unwrap();
    assert_eq!(vsock_sockets(&trace).len(), 1);
    assert!(!trace.contains("AF_UNIX"), "bound on after the failure:\n{trace}");

    let dir = TempDir::new();
    let (mut server, _) = traced(dir.path(), &["socket:error=EACCES:when=1"], &["vsock::22", &name]);
    assert_eq!(server.wait_exit().code(), Some(1));
    assert_eq!(server.stderr(), "Failed to listen on vsock::22: Permission denied\n");
}
