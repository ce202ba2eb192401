//! What stdout ssh (or someone else) gives us, checked before connecting.
//! Without options a stdout that is no AF_UNIX socket means relay mode
//! (tests/blackbox/relay.rs); with `--fdpass` it is refused.

use std::net::{TcpListener, TcpStream};
use std::os::fd::OwnedFd;
use std::os::unix::net::UnixStream;
use std::os::unix::process::CommandExt;
use std::process::{Command, Stdio};

use std::time::Duration;

use sockproxy_test_common::TempDir;

use crate::support::{Listener, assert_connected_to, bin, run_bounded, run_fdpass, unix_host};

const NOT_UNIX: &str = "Standard output is not an AF_UNIX socket, so --fdpass cannot pass the connection (ssh needs ProxyUseFdpass yes).\n";

/// Runs the proxy against a live listener with the given stdio set-up and
/// asserts it failed with `message` without ever connecting.
#[track_caller]
fn assert_refused_before_connect(configure: impl FnOnce(&mut Command), message: &str) {
    let dir = TempDir::new();
    let sock = dir.join("s.sock");
    let listener = Listener::bind(&sock);
    let mut command = Command::new(bin());
    command.args(["--fdpass", &unix_host('/', &sock), "22"]).stdin(Stdio::null());
    configure(&mut command);
    let (status, stderr) = run_bounded(command, Duration::from_secs(20));
    assert_eq!(stderr, message);
    assert_eq!(status.code(), Some(1));
    assert!(!listener.has_pending(), "the proxy connected although it could not hand off");
}

#[test]
fn fdpass_refuses_a_pipe() {
    assert_refused_before_connect(
        |c| {
            c.stdout(Stdio::piped());
        },
        NOT_UNIX,
    );
}

#[test]
fn fdpass_refuses_dev_null() {
    assert_refused_before_connect(
        |c| {
            c.stdout(Stdio::null());
        },
        NOT_UNIX,
    );
}

#[test]
fn fdpass_refuses_a_tcp_socket() {
    let server = TcpListener::bind("127.0.0.1:0").expect("loopback listener");
    let tcp = TcpStream::connect(server.local_addr().unwrap()).expect("loopback connect");
    assert_refused_before_connect(
        move |c| {
            c.stdout(OwnedFd::from(tcp));
        },
        NOT_UNIX,
    );
}

#[test]
fn closed_stdout_is_refused() {
    // SAFETY: close(1) in the child between fork and exec is async-signal-safe.
    assert_refused_before_connect(
        |c| unsafe {
            c.pre_exec(|| {
                libc::close(1);
                Ok(())
            });
        },
        "Standard output (fd 1) is closed.\n",
    );
}

/// An O_PATH descriptor is open, but poll sees no file behind it, as for a
/// closed one: it is said as what it is.
#[test]
fn o_path_stdout_and_stdin_are_refused_as_such() {
    for (fd, name) in [(1, "Standard output"), (0, "Standard input")] {
        let (_ours, theirs) = UnixStream::pair().expect("socketpair");
        // SAFETY: open and dup2 in the child between fork and exec are
        // async-signal-safe.
        assert_refused_before_connect(
            move |c| unsafe {
                c.stdout(OwnedFd::from(theirs)).pre_exec(move || {
                    let path = libc::open(c"/".as_ptr(), libc::O_PATH);
                    if path < 0 || libc::dup2(path, fd) < 0 {
                        return Err(std::io::Error::last_os_error());
                    }
                    libc::close(path);
                    Ok(())
                });
            },
            &format!("{name} (fd {fd}) is an O_PATH descriptor, which can be neither read nor written.\n"),
        );
    }
}

#[test]
fn closed_stdin_is_refused() {
    let (_ours, theirs) = UnixStream::pair().expect("socketpair");
    // SAFETY: close(0) in the child between fork and exec is async-signal-safe.
    assert_refused_before_connect(
        move |c| unsafe {
            c.stdout(OwnedFd::from(theirs)).pre_exec(|| {
                libc::close(0);
                Ok(())
            });
        },
        "Standard input (fd 0) is closed.\n",
    );
}

#[test]
fn closed_stderr_fails_silently_before_connect() {
    let (_ours, theirs) = UnixStream::pair().expect("socketpair");
    // SAFETY: close(2) in the child between fork and exec is async-signal-safe.
    assert_refused_before_connect(
        move |c| unsafe {
            c.stdout(OwnedFd::from(theirs)).pre_exec(|| {
                libc::close(2);
                Ok(())
            });
        },
        "",
    );
}

#[test]
fn peer_closed_socketpair_is_an_error_not_sigpipe() {
    let dir = TempDir::new();
    let sock = dir.join("s.sock");
    let _listener = Listener::bind(&sock);
    let (ours, theirs) = UnixStream::pair().expect("socketpair");
    drop(ours);
    let mut command = Command::new(bin());
    command.args([&unix_host('/', &sock), "22"]).stdin(Stdio::null()).stdout(OwnedFd::from(theirs));
    let (status, stderr) = run_bounded(command, Duration::from_secs(20));
    assert_eq!(stderr, "Failed to send socket to ssh: Broken pipe\n");
    assert_eq!(status.code(), Some(1));
}

#[test]
fn socketpair_stdout_gets_the_descriptor() {
    let dir = TempDir::new();
    let sock = dir.join("s.sock");
    let listener = Listener::bind(&sock);
    let mut command = Command::new(bin());
    command.args([&unix_host('/', &sock), "22"]);
    let out = run_fdpass(command);
    assert_connected_to(out.assert_handoff(), &listener);
}
