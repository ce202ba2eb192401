//! Failures of single syscalls, faked with strace, and the descriptors we open.

use std::process::Command;

use sockproxy_test_common::{ChildGuard, TempDir};

use crate::support::{Listener, Outcome, assert_connected_to, bin, run_fdpass, unix_host};

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
    let (out, _) =
        run_traced("getsockopt", &["-e", "inject=getsockopt:error=ENOBUFS"], &[&unix_host('/', &sock), "22"]);
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

/// EINTR, injected once into each syscall the proxy waits in, is retried:
/// the mux's send and peek, machined's poll and recv, the relay's splice.
#[test]
fn interrupted_waits_are_retried() {
    let dir = TempDir::new();
    let backend = dir.join("backend.sock");
    let backend_listener = Listener::bind(&backend);
    let mux = crate::mux_front::MuxFront::start(&dir.join("vm.vsock"), &backend);
    let host = format!("vsock-mux/{}", mux.path().display());
    for syscall in ["sendto", "recvfrom"] {
        let (out, trace) =
            run_traced(syscall, &["-e", &format!("inject={syscall}:error=EINTR:when=1")], &[&host, "22"]);
        assert!(trace.contains("(Interrupted system call)"), "{syscall}: {trace}");
        assert_connected_to(out.assert_handoff(), &backend_listener);
    }
}

#[test]
fn interrupted_machined_exchange_is_retried() {
    let run_dir = TempDir::new();
    let _machined = crate::fake_machined::FakeMachined::start(
        run_dir.path(),
        &[crate::fake_machined::Reply::Json(crate::machine_target::CONTAINER)],
    );
    let container = crate::machine_target::nspawn_socket(run_dir.path(), "ct");
    let log = run_dir.join("strace.log");
    // rustix's poll is ppoll on x86_64. The connect to machined (AF_UNIX) is
    // bounded by SO_SNDTIMEO, so a signal gives EINTR there too.
    for syscall in ["connect", "ppoll", "sendto", "recvfrom"] {
        let wrapper = [
            "strace",
            "-f",
            "-qq",
            "-e",
            &format!("trace={syscall}"),
            "-e",
            &format!("inject={syscall}:error=EINTR:when=1"),
            "-o",
        ];
        let mut wrapper: Vec<&str> = wrapper.to_vec();
        let log_arg = log.display().to_string();
        wrapper.push(&log_arg);
        let command = crate::machine_target::command(run_dir.path(), None, &wrapper, &["machine/ct", "22"]);
        let out = run_fdpass(command);
        let trace = std::fs::read_to_string(&log).unwrap();
        assert!(trace.contains("(Interrupted system call)"), "{syscall}: {trace}");
        assert_connected_to(out.assert_handoff(), &container);
    }
}

/// The relay under strace with pipes for stdin and stdout: the target
/// greets, ssh's side says "hi" and ends its input. Returns exit status,
/// stderr and what came out.
fn relay_traced(inject: &str) -> (Option<i32>, String, Vec<u8>) {
    use std::io::{Read, Write};
    let dir = TempDir::new();
    let sock = dir.join("t.sock");
    let listener = std::os::unix::net::UnixListener::bind(&sock).unwrap();
    let server = std::thread::spawn(move || {
        let (mut stream, _) = listener.accept().unwrap();
        stream.write_all(b"hello\n").unwrap();
        let mut got = Vec::new();
        let _ = stream.read_to_end(&mut got);
        got
    });
    let mut command = Command::new("strace");
    command
        .args(["-f", "-qq", "-o", "/dev/null", "-e", "trace=splice", "-e", inject, bin(), &unix_host('/', &sock), "22"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    let mut child = ChildGuard(Some(command.spawn().unwrap()));
    let proxy = child.0.as_mut().unwrap();
    let mut stdin = proxy.stdin.take().unwrap();
    let _ = stdin.write_all(b"hi");
    drop(stdin);
    let (mut stdout, mut stderr) = (proxy.stdout.take().unwrap(), proxy.stderr.take().unwrap());
    let mut out = Vec::new();
    stdout.read_to_end(&mut out).unwrap();
    let status = child.wait_timeout(std::time::Duration::from_secs(20));
    let mut message = String::new();
    stderr.read_to_string(&mut message).unwrap();
    drop(server.join());
    (status.code(), message, out)
}

#[test]
fn interrupted_relay_goes_on() {
    assert_eq!(relay_traced("inject=splice:error=EINTR:when=1"), (Some(0), String::new(), b"hello\n".to_vec()));
    // A spurious EAGAIN (the other end looked full) only makes it wait for room.
    assert_eq!(relay_traced("inject=splice:error=EAGAIN:when=1"), (Some(0), String::new(), b"hello\n".to_vec()));
}

#[test]
fn failed_relay_is_one_line() {
    let (code, message, out) = relay_traced("inject=splice:error=EIO:when=1");
    assert_eq!(code, Some(1));
    assert!(
        [
            "Failed to relay from ssh to the target: Input/output error\n",
            "Failed to relay from the target to ssh: Input/output error\n"
        ]
        .contains(&message.as_str()),
        "{message:?}"
    );
    assert!(out.is_empty() || out == b"hello\n", "{out:?}");
}

/// The wait on stdin after the hand-off (auto mode): EINTR in its ppoll or
/// read is retried; a read that fails is one line and exit 1, the socket
/// already sent (ssh holds it, or the kernel dropped it).
#[test]
fn wait_after_the_handoff() {
    let dir = TempDir::new();
    let sock = dir.join("s.sock");
    let listener = Listener::bind(&sock);
    let host = unix_host('/', &sock);
    // ppoll before the hand-off is choose_delivery's: the second is the wait's.
    for (syscall, when) in [("ppoll", 2), ("read", 1)] {
        let (out, trace) =
            run_traced(syscall, &["-e", &format!("inject={syscall}:error=EINTR:when={when}")], &[&host, "22"]);
        assert!(trace.contains("(Interrupted system call)"), "{syscall}: {trace}");
        assert_connected_to(out.assert_handoff(), &listener);
    }
    let (out, trace) = run_traced("read", &["-e", "inject=read:error=EIO"], &[&host, "22"]);
    assert!(trace.contains("(INJECTED)"), "{trace}");
    assert_eq!(
        (out.code(), out.stderr.as_str(), out.stdout.as_slice()),
        (Some(1), "Failed to read standard input after passing the socket: Input/output error\n", &b"\n"[..]),
        "{out:?}"
    );
    assert_connected_to(out.fd.as_ref().expect("the socket was sent"), &listener);
}

/// Before Linux 5.9 there is no close_range (ENOSYS, injected here): the
/// inherited descriptors are closed one by one below 1024, and the hand-off
/// goes on.
#[test]
fn without_close_range_inherited_descriptors_are_closed_one_by_one() {
    let dir = TempDir::new();
    let sock = dir.join("s.sock");
    let listener = Listener::bind(&sock);
    let (out, trace) =
        run_traced("close_range,close", &["-e", "inject=close_range:error=ENOSYS"], &[&unix_host('/', &sock), "22"]);
    assert_connected_to(out.assert_handoff(), &listener);
    // Each call without strace's pid column and alignment.
    let calls: Vec<String> =
        trace.lines().map(|line| line.split_whitespace().skip(1).collect::<Vec<_>>().join(" ")).collect();
    assert_eq!(calls[0], "close_range(3, 4294967295, 0) = -1 ENOSYS (Function not implemented) (INJECTED)", "{trace}");
    let closed: Vec<String> = calls[1..1022].iter().map(|call| call.split_once(')').unwrap().0.to_owned()).collect();
    let expected: Vec<String> = (3..1024).map(|fd| format!("close({fd}")).collect();
    assert_eq!(closed, expected);
}
