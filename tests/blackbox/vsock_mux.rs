//! `vsock-mux/` against a scripted fake multiplexer: every reply shape, how it
//! is split into segments, and what the received descriptor yields next.

use std::io::{Read, Write};
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use sockproxy_test_common::TempDir;

use crate::support::{Listener, Outcome, rest_of_stream, run, unix_host};

/// One step of the fake multiplexer's script, after it read the request.
#[derive(Clone, Copy)]
enum Act {
    /// Write the bytes in one write.
    Send(&'static [u8]),
    /// Write the bytes one at a time, 20 ms apart.
    Dribble(&'static [u8]),
    Sleep(u64),
}

/// An AF_UNIX multiplexer that accepts one connection, reads the request
/// line (unless told not to), plays its script and closes.
struct FakeMux {
    path: PathBuf,
    request: Arc<Mutex<Vec<u8>>>,
    thread: Option<JoinHandle<()>>,
    _dir: TempDir,
}

impl FakeMux {
    fn start(read_request: bool, script: &[Act]) -> FakeMux {
        let dir = TempDir::new();
        let path = dir.join("vm.vsock");
        let listener = UnixListener::bind(&path).expect("bind fake mux");
        let request = Arc::new(Mutex::new(Vec::new()));
        let (seen, script) = (request.clone(), script.to_vec());
        let thread = std::thread::spawn(move || {
            let Some(mut stream) = accept_within(&listener, Duration::from_secs(10)) else { return };
            if read_request {
                *seen.lock().unwrap() = read_line(&mut stream);
            }
            for act in script {
                match act {
                    Act::Send(bytes) => stream.write_all(bytes).expect("mux write"),
                    Act::Dribble(bytes) => {
                        for byte in bytes {
                            stream.write_all(std::slice::from_ref(byte)).expect("mux write");
                            std::thread::sleep(Duration::from_millis(20));
                        }
                    }
                    Act::Sleep(ms) => std::thread::sleep(Duration::from_millis(ms)),
                }
            }
        });
        FakeMux { path, request, thread: Some(thread), _dir: dir }
    }

    fn host(&self, sep: char) -> String {
        format!("vsock-mux{sep}{}", self.path.display())
    }

    /// The request line the proxy sent, once the script has finished.
    fn finish(mut self) -> Vec<u8> {
        if let Some(thread) = self.thread.take() {
            thread.join().expect("fake mux thread");
        }
        self.request.lock().unwrap().clone()
    }
}

impl Drop for FakeMux {
    fn drop(&mut self) {
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

fn accept_within(listener: &UnixListener, limit: Duration) -> Option<UnixStream> {
    listener.set_nonblocking(true).ok()?;
    let deadline = Instant::now() + limit;
    while Instant::now() < deadline {
        if let Ok((stream, _)) = listener.accept() {
            stream.set_nonblocking(false).ok()?;
            return Some(stream);
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    None
}

/// Reads up to and including the first newline (at most 64 bytes, 10 s).
fn read_line(stream: &mut UnixStream) -> Vec<u8> {
    stream.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let mut line = Vec::new();
    let mut byte = [0u8];
    while line.len() < 64 && !line.ends_with(b"\n") {
        match stream.read(&mut byte) {
            Ok(1) => line.push(byte[0]),
            _ => break,
        }
    }
    line
}

const FIRECRACKER_OK: &[u8] = b"OK 1073741824\n";
const BANNER: &[u8] = b"SSH-2.0-OpenSSH_9.2\r\n";

/// Runs the proxy against a mux playing `script`; checks the request line.
fn handshake(script: &[Act], args: &[&str]) -> (Outcome, FakeMux) {
    let mux = FakeMux::start(true, script);
    let host = mux.host('/');
    let mut argv: Vec<&str> = args.to_vec();
    argv.extend([host.as_str(), "22"]);
    (run(&argv), mux)
}

#[track_caller]
fn assert_handed_off_then(script: &[Act], expected_rest: &[u8]) {
    let (out, mux) = handshake(script, &[]);
    assert_eq!(rest_of_stream(&out), expected_rest, "{out:?}");
    assert_eq!(mux.finish(), b"CONNECT 22\n");
}

#[track_caller]
fn assert_fails(script: &[Act], message: &str) {
    let (out, mux) = handshake(script, &[]);
    let path = mux.path.display().to_string();
    out.assert_failure(&message.replace("PATH", &path));
    assert_eq!(mux.finish(), b"CONNECT 22\n");
}

#[test]
fn firecracker_ok_alone() {
    assert_handed_off_then(&[Act::Send(FIRECRACKER_OK), Act::Sleep(100), Act::Send(BANNER)], BANNER);
}

#[test]
fn firecracker_ok_with_banner_in_the_same_segment() {
    assert_handed_off_then(&[Act::Send(b"OK 1073741824\nSSH-2.0-OpenSSH_9.2\r\n")], BANNER);
}

#[test]
fn firecracker_ok_dribbled_byte_by_byte() {
    assert_handed_off_then(&[Act::Dribble(b"OK 1073741824\nSSH-2.0-OpenSSH_9.2\r\n")], BANNER);
}

#[test]
fn vhost_device_vsock_ok() {
    assert_handed_off_then(&[Act::Send(b"OK 22\n"), Act::Send(BANNER)], BANNER);
}

#[test]
fn longest_legal_ok() {
    assert_handed_off_then(&[Act::Send(b"OK 4294967295\nSSH")], b"SSH");
}

#[test]
fn ok_split_at_every_point() {
    let reply = b"OK 1073741824\nSSH";
    for split in 1..reply.len() {
        let (head, tail) = reply.split_at(split);
        let head: &'static [u8] = Box::leak(head.to_vec().into_boxed_slice());
        let tail: &'static [u8] = Box::leak(tail.to_vec().into_boxed_slice());
        assert_handed_off_then(&[Act::Send(head), Act::Sleep(30), Act::Send(tail)], b"SSH");
    }
}

#[test]
fn not_ok_from_the_first_byte_is_handed_off_untouched() {
    assert_handed_off_then(&[Act::Send(b"NOPE\n")], b"NOPE\n");
    assert_handed_off_then(&[Act::Send(b"ok 22\n")], b"ok 22\n");
    assert_handed_off_then(&[Act::Send(BANNER)], BANNER);
}

#[test]
fn broken_ok_lines() {
    assert_fails(
        &[Act::Send(b"OK 4294967296\n")],
        "Invalid reply of vsock multiplexer PATH to CONNECT 22: OK 4294967296\n",
    );
    assert_fails(&[Act::Send(b"OK\n")], "Invalid reply of vsock multiplexer PATH to CONNECT 22: OK\\x0a\n");
    assert_fails(&[Act::Send(b"OK 22 extra\n")], "Invalid reply of vsock multiplexer PATH to CONNECT 22: OK 22 \n");
    assert_fails(
        &[Act::Send(b"OK 00000000000000000022\n")],
        "Invalid reply of vsock multiplexer PATH to CONNECT 22: OK 00000000000\n",
    );
}

/// A raw CSI (0x9b), or the first byte of one in UTF-8 (0xc2, which cannot
/// continue an OK line): escaped, never passed to the terminal.
#[test]
fn c1_bytes_in_a_reply_are_escaped() {
    assert_fails(&[Act::Send(b"OK \x9b[2J\n")], "Invalid reply of vsock multiplexer PATH to CONNECT 22: OK \\x9b\n");
    assert_fails(
        &[Act::Send(b"OK 1\xc2\x9b[2J\n")],
        "Invalid reply of vsock multiplexer PATH to CONNECT 22: OK 1\\xc2\n",
    );
}

#[test]
fn partial_ok_then_eof() {
    assert_fails(
        &[Act::Send(b"OK 12")],
        "vsock multiplexer PATH closed the connection in the middle of its reply to CONNECT 22: OK 12\n",
    );
}

#[test]
fn partial_ok_then_silence() {
    assert_fails(
        &[Act::Send(b"OK "), Act::Sleep(6000)],
        "vsock multiplexer PATH did not finish its reply to CONNECT 22 within 5 s: OK \n",
    );
}

#[test]
fn close_after_reading_means_port_not_open() {
    assert_fails(&[], "Port 22 on PATH is not open\n");
}

#[test]
fn close_before_reading_means_port_not_open() {
    let mux = FakeMux::start(false, &[]);
    let out = run(&[&mux.host('%'), "22"]);
    out.assert_failure(&format!("Port 22 on {} is not open\n", mux.path.display()));
    assert_eq!(mux.finish(), b"", "the mux never read");
}

#[test]
fn silence_hands_off_after_five_seconds() {
    let (out, mux) = handshake(&[Act::Sleep(6000), Act::Send(BANNER)], &[]);
    assert_eq!(rest_of_stream(&out), BANNER);
    assert_eq!(mux.finish(), b"CONNECT 22\n");
}

#[test]
fn silence_is_reported_when_verbose() {
    let (out, mux) = handshake(&[Act::Sleep(6000), Act::Send(BANNER)], &["--verbose"]);
    let path = mux.path.display().to_string();
    let fd = out.fd.as_ref().expect("handed off");
    assert_eq!(out.code(), Some(0));
    assert_eq!(
        out.stderr,
        format!(
            "vsock multiplexer {path} sent no reply to CONNECT 22 within 5 s; handing the connection to ssh as it is.\n"
        )
    );
    let stream = UnixStream::from(fd.try_clone().unwrap());
    stream.set_read_timeout(Some(Duration::from_secs(15))).unwrap();
    let mut rest = Vec::new();
    (&stream).read_to_end(&mut rest).unwrap();
    assert_eq!(rest, BANNER);
    let _ = mux.finish();
}

#[test]
fn receive_timeout_does_not_leak_into_the_handed_off_socket() {
    for script in [&[Act::Send(FIRECRACKER_OK)][..], &[Act::Send(b"NOPE")], &[Act::Sleep(5500)]] {
        let (out, mux) = handshake(script, &[]);
        let fd = out.assert_handoff();
        let stream = UnixStream::from(fd.try_clone().unwrap());
        assert_eq!(stream.read_timeout().unwrap(), None, "SO_RCVTIMEO left on the socket");
        drop(mux);
    }
}

#[test]
fn request_carries_the_port() {
    for (port, line) in [
        ("0", "CONNECT 0\n"),
        ("1024", "CONNECT 1024\n"),
        ("0022", "CONNECT 22\n"),
        ("4294967294", "CONNECT 4294967294\n"),
    ] {
        let mux = FakeMux::start(true, &[Act::Send(b"OK 1\n")]);
        let out = run(&[&mux.host('/'), port]);
        out.assert_handoff();
        assert_eq!(mux.finish(), line.as_bytes());
    }
}

#[test]
fn invalid_ports_never_reach_the_mux() {
    let dir = TempDir::new();
    let sock = dir.join("vm.vsock");
    let listener = Listener::bind(&sock);
    for port in ["22\nFOO 1", " 22", "-1", "4294967295", "", "abc", "0x16"] {
        let host = format!("vsock-mux/{}", sock.display());
        let out = run(&[&host, port]);
        let shown = port.replace('\n', "\\x0a");
        out.assert_failure(&format!("Failed to parse vsock port: {shown}\n"));
        assert!(!listener.has_pending(), "port {port:?} reached the mux");
    }
}

#[test]
fn mux_path_rules_are_the_unix_ones() {
    let dir = TempDir::new();
    std::fs::create_dir(dir.join("VM")).unwrap();
    let missing = dir.join("missing.vsock");
    run(&[&format!("vsock-mux/{}", missing.display()), "22"]).assert_failure(&format!(
        "Failed to connect to AF_UNIX socket {}: No such file or directory\n",
        missing.display()
    ));
    // Case recovery, as for unix/.
    let real = dir.join("VM/Fc.vsock");
    let listener = UnixListener::bind(&real).unwrap();
    let thread = std::thread::spawn(move || {
        let mut stream = accept_within(&listener, Duration::from_secs(10)).expect("accept");
        assert_eq!(read_line(&mut stream), b"CONNECT 22\n");
        stream.write_all(b"OK 1073741824\nSSH").unwrap();
    });
    let lowered = unix_host('/', &real).replacen("unix", "vsock-mux", 1).to_lowercase();
    let out = run(&[&lowered, "22"]);
    thread.join().unwrap();
    assert_eq!(rest_of_stream(&out), b"SSH");
}
