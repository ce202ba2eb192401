//! Relay mode: stdin/stdout that cannot carry a descriptor (pipes, as
//! OpenSSH without ProxyUseFdpass and Paramiko give; other fds with
//! `--relay`). Bytes must flow both ways and half-closes must propagate.

use std::io::{Read, Write};
use std::os::fd::OwnedFd;
use std::os::unix::net::{UnixListener, UnixStream};
use std::process::{Command, Stdio};
use std::thread::JoinHandle;
use std::time::Duration;

use sockproxy_test_common::{ChildGuard, TempDir};

use crate::support::{PANIC_EXIT, bin};

/// A target that greets, reads everything until the client's EOF, then
/// says how much it got and closes: it answers only after a half-close.
fn counting_server(listener: UnixListener) -> JoinHandle<Vec<u8>> {
    std::thread::spawn(move || {
        let (mut stream, _) = listener.accept().expect("accept");
        stream.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
        stream.write_all(b"hello\n").unwrap();
        let mut got = Vec::new();
        stream.read_to_end(&mut got).expect("read to the client's EOF");
        stream.write_all(format!("got {} bytes\n", got.len()).as_bytes()).unwrap();
        got
    })
}

/// Runs the proxy with `stdin`/`stdout` as given and `extra` options; feeds
/// `input` through `feed` (the write end of stdin), collects `collect`.
struct Relay {
    child: ChildGuard,
}

impl Relay {
    fn start(extra: &[&str], host: &str, stdin: impl Into<Stdio>, stdout: impl Into<Stdio>) -> Relay {
        let mut command = Command::new(bin());
        command.args(extra).args([host, "22"]).stdin(stdin).stdout(stdout).stderr(Stdio::piped());
        Relay { child: ChildGuard(Some(command.spawn().expect("spawn proxy"))) }
    }

    fn finish(mut self) -> (Option<i32>, String) {
        let mut stderr = String::new();
        let mut pipe = self.child.0.as_mut().and_then(|c| c.stderr.take()).expect("stderr");
        let status = self.child.wait_timeout(Duration::from_secs(30));
        pipe.read_to_string(&mut stderr).unwrap();
        assert_ne!(status.code(), Some(PANIC_EXIT));
        (status.code(), stderr)
    }
}

fn target() -> (TempDir, String, UnixListener) {
    let dir = TempDir::new();
    let path = dir.join("t.sock");
    let listener = UnixListener::bind(&path).unwrap();
    let host = format!("unix/{}", path.display());
    (dir, host, listener)
}

#[test]
fn pipes_are_relayed_with_half_close_toward_the_target() {
    let (_dir, host, listener) = target();
    let server = counting_server(listener);
    let mut relay = Relay::start(&[], &host, Stdio::piped(), Stdio::piped());
    let child = relay.child.0.as_mut().unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let mut stdout = child.stdout.take().unwrap();
    stdin.write_all(b"abc").unwrap();
    drop(stdin); // EOF: the proxy must shut down its write side
    let mut out = Vec::new();
    stdout.read_to_end(&mut out).unwrap();
    assert_eq!(out, b"hello\ngot 3 bytes\n");
    assert_eq!(server.join().unwrap(), b"abc");
    assert_eq!(relay.finish(), (Some(0), String::new()));
}

#[test]
fn target_closing_first_ends_the_relay_while_input_still_flows() {
    let (_dir, host, listener) = target();
    let server = std::thread::spawn(move || {
        let (mut stream, _) = listener.accept().unwrap();
        stream.write_all(b"bye\n").unwrap();
        // Closed with the client's data unread.
    });
    let mut relay = Relay::start(&[], &host, Stdio::piped(), Stdio::piped());
    let child = relay.child.0.as_mut().unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let mut stdout = child.stdout.take().unwrap();
    let writer = std::thread::spawn(move || {
        let chunk = [b'x'; 65536];
        // Keeps writing until the proxy is gone (EPIPE ends the loop).
        for _ in 0..1024 {
            if stdin.write_all(&chunk).is_err() {
                break;
            }
        }
    });
    let mut out = Vec::new();
    stdout.read_to_end(&mut out).unwrap();
    assert_eq!(out, b"bye\n");
    server.join().unwrap();
    let (code, stderr) = relay.finish();
    writer.join().unwrap();
    assert_eq!((code, stderr.as_str()), (Some(0), ""));
}

#[test]
fn sockets_are_relayed_by_read_and_write_with_relay_forced() {
    let (_dir, host, listener) = target();
    let server = counting_server(listener);
    let (ours_in, theirs_in) = UnixStream::pair().unwrap();
    let (ours_out, theirs_out) = UnixStream::pair().unwrap();
    let relay = Relay::start(&["--relay"], &host, OwnedFd::from(theirs_in), OwnedFd::from(theirs_out));
    (&ours_in).write_all(b"0123456789").unwrap();
    ours_in.shutdown(std::net::Shutdown::Write).unwrap();
    ours_out.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    let mut out = Vec::new();
    (&ours_out).read_to_end(&mut out).unwrap();
    assert_eq!(out, b"hello\ngot 10 bytes\n");
    assert_eq!(server.join().unwrap(), b"0123456789");
    assert_eq!(relay.finish(), (Some(0), String::new()));
}

#[test]
fn dev_null_in_and_out() {
    let (_dir, host, listener) = target();
    let server = counting_server(listener);
    let relay = Relay::start(&[], &host, Stdio::null(), Stdio::null());
    assert_eq!(server.join().unwrap(), b"");
    assert_eq!(relay.finish(), (Some(0), String::new()));
}

#[test]
fn large_transfer_both_ways_is_exact() {
    let (_dir, host, listener) = target();
    let size = 8 << 20;
    let data: Vec<u8> = (0..size).map(|i: usize| (i.wrapping_mul(2654435761) >> 13) as u8).collect();
    let expected = data.clone();
    // Echo server: sends back everything it reads, then closes.
    let server = std::thread::spawn(move || {
        let (stream, _) = listener.accept().unwrap();
        let mut reader = stream.try_clone().unwrap();
        let mut writer = stream;
        std::io::copy(&mut reader, &mut writer).unwrap();
    });
    let mut relay = Relay::start(&[], &host, Stdio::piped(), Stdio::piped());
    let child = relay.child.0.as_mut().unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let mut stdout = child.stdout.take().unwrap();
    let writer = std::thread::spawn(move || stdin.write_all(&data).unwrap());
    let mut out = Vec::new();
    stdout.read_to_end(&mut out).unwrap();
    writer.join().unwrap();
    server.join().unwrap();
    assert!(out == expected, "echoed {} bytes, {} expected", out.len(), expected.len());
    assert_eq!(relay.finish(), (Some(0), String::new()));
}

/// ssh exits as soon as its session is over, often before the server's last
/// bytes arrive: writing them then meets EPIPE, which must end the relay
/// without SIGPIPE and without a message on the terminal ssh shared with us.
#[test]
fn stdout_reader_gone_ends_the_relay_quietly() {
    let (_dir, host, listener) = target();
    let server = std::thread::spawn(move || {
        let (mut stream, _) = listener.accept().unwrap();
        let _ = stream.write_all(&[b'y'; 1 << 20]);
    });
    let mut relay = Relay::start(&[], &host, Stdio::piped(), Stdio::piped());
    let child = relay.child.0.as_mut().unwrap();
    let _stdin = child.stdin.take().unwrap();
    drop(child.stdout.take()); // nobody reads stdout any more
    let (code, stderr) = relay.finish();
    server.join().unwrap();
    assert_eq!((code, stderr.as_str()), (Some(0), ""));
}
