//! `--wait` (retry while the target is not there yet) and `--timeout` (bound
//! one connect with its handshake), against targets that appear late, never
//! appear, or hang.

use std::io::{BufRead, Read, Write};
use std::os::fd::{FromRawFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::net::{UnixDatagram, UnixListener, UnixStream};
use std::path::Path;
use std::process::{Command, Stdio};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use sockproxy_test_common::{ChildGuard, TempDir};

use crate::fake_machined::{FakeMachined, Reply};
use crate::machine_target::CONTAINER;
use crate::support::{Listener, Outcome, PANIC_EXIT, assert_connected_to, bin, run, run_fdpass};
use crate::unix_target::{deep_path, in_mount_namespace};

const GREETING: &[u8] = b"SSH-2.0-guest\r\n";

/// Binds a listener at `path` after `delay`, in the background.
fn bind_later(path: &Path, delay: Duration) -> JoinHandle<Listener> {
    let path = path.to_path_buf();
    std::thread::spawn(move || {
        std::thread::sleep(delay);
        Listener::bind(&path)
    })
}

fn missing_socket_error(path: &Path) -> String {
    format!("Failed to connect to AF_UNIX socket {}: No such file or directory\n", path.display())
}

#[test]
fn wait_connects_to_a_socket_that_appears_late() {
    let dir = TempDir::new();
    let sock = dir.join("late.sock");
    let listener = bind_later(&sock, Duration::from_millis(1500));
    let out = run(&["--wait=15", &format!("unix/{}", sock.display()), "22"]);
    assert_connected_to(out.assert_handoff(), &listener.join().unwrap());
}

#[test]
fn wait_gives_up_with_the_last_error() {
    let dir = TempDir::new();
    let sock = dir.join("never.sock");
    let started = Instant::now();
    let out = run(&["--wait=1", &format!("unix/{}", sock.display()), "22"]);
    out.assert_failure(&missing_socket_error(&sock));
    assert!(
        started.elapsed() >= Duration::from_secs(1),
        "gave up after {:?}, before --wait=1 ran out",
        started.elapsed()
    );
}

#[test]
fn wait_is_silent_unless_verbose() {
    let dir = TempDir::new();
    let sock = dir.join("never.sock");
    let out = run(&["-v", "--wait=1", &format!("unix/{}", sock.display()), "22"]);
    let error = missing_socket_error(&sock);
    let lines: Vec<&str> = out.stderr.split_inclusive('\n').collect();
    let (last, retries) = lines.split_last().expect("stderr lines");
    assert_eq!(*last, error, "{out:?}");
    // 0.1 + 0.2 + 0.4 s of pauses fit in one second: at least three retries.
    assert!(retries.len() >= 3, "{out:?}");
    for line in retries {
        assert_eq!(*line, format!("Not there yet, retrying: {error}"), "{out:?}");
    }
    assert_eq!(out.code(), Some(1));
}

#[test]
fn wait_zero_tries_once() {
    let dir = TempDir::new();
    let sock = dir.join("never.sock");
    let out = run(&["-v", "--wait=0", &format!("unix/{}", sock.display()), "22"]);
    out.assert_failure(&missing_socket_error(&sock));
}

/// Runs `command` with `-v --wait` like `run_fdpass`, calling `retrying`
/// once the first "Not there yet" line is on stderr; returns the outcome.
fn run_until_retrying(mut command: Command, retrying: impl FnOnce()) -> Outcome {
    let (ours, theirs) = UnixStream::pair().unwrap();
    command.stdin(OwnedFd::from(theirs.try_clone().unwrap())).stdout(OwnedFd::from(theirs)).stderr(Stdio::piped());
    let mut child = ChildGuard(Some(command.spawn().expect("spawn")));
    let stderr = child.0.as_mut().and_then(|c| c.stderr.take()).unwrap();
    drop(command);
    let (first, first_seen) = std::sync::mpsc::channel();
    let reader = std::thread::spawn(move || {
        let mut lines = Vec::new();
        for line in std::io::BufReader::new(stderr).split(b'\n') {
            lines.extend(line.unwrap());
            lines.push(b'\n');
            let _ = first.send(());
        }
        lines
    });
    first_seen.recv_timeout(Duration::from_secs(20)).expect("a first retry");
    retrying();
    ours.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    let (stdout, fd) = crate::support::recv_with_fd(&ours);
    let status = child.wait_timeout(Duration::from_secs(20));
    let stderr_bytes = reader.join().unwrap();
    let stderr = String::from_utf8_lossy(&stderr_bytes).into_owned();
    assert_ne!(status.code(), Some(PANIC_EXIT), "{stderr}");
    Outcome { status, stderr, stderr_bytes, fd, stdout }
}

/// A relative path longer than sun_path, where a stale socket (refused)
/// is replaced by a live one while `--wait` retries: every attempt starts
/// from the working directory the proxy was started in, with /proc (the
/// path is reached as /proc/self/fd/N/NAME) and without (the proxy goes into
/// the socket's directory for each connect, and back).
#[test]
fn wait_reaches_a_long_relative_path_after_a_refusal() {
    for without_proc in [false, true] {
        let dir = TempDir::new();
        // Longer than sun_path, short enough to be shown whole.
        let sock = deep_path(dir.path(), dir.path().as_os_str().len() + 150, "s.sock");
        drop(Listener::bind_long(&sock));
        let relative = format!("./{}", sock.strip_prefix(dir.path()).unwrap().display());
        let args = ["-v", "--wait=20", &format!("unix/{relative}"), "22"];
        let mut command = if without_proc {
            in_mount_namespace("mount -t tmpfs none /proc", &args)
        } else {
            let mut command = Command::new(bin());
            command.args(args);
            command
        };
        command.current_dir(dir.path());
        let mut listener = None;
        // bind_long renames the new socket over the stale one: the path
        // never goes missing, so a "No such file" can only be a wrong cwd.
        let out = run_until_retrying(command, || listener = Some(Listener::bind_long(&sock)));
        let refused =
            format!("Not there yet, retrying: Failed to connect to AF_UNIX socket {relative}: Connection refused\n");
        assert!(!out.stderr.is_empty(), "{out:?}");
        for line in out.stderr.split_inclusive('\n') {
            assert_eq!(line, refused, "without /proc: {without_proc}: {out:?}");
        }
        assert_eq!(out.code(), Some(0), "{out:?}");
        assert_eq!(out.stdout, b"\0");
        assert_connected_to(out.fd.as_ref().expect("handed off"), listener.as_ref().unwrap());
    }
}

#[test]
fn wait_does_not_retry_a_lasting_failure() {
    // A datagram socket answers EPROTOTYPE: waiting will not change that.
    // With retries the run would outlast the harness's 20 s and fail.
    let dir = TempDir::new();
    let sock = dir.join("dgram.sock");
    let _dgram = UnixDatagram::bind(&sock).unwrap();
    let out = run(&["-v", "--wait=60", &format!("unix/{}", sock.display()), "22"]);
    out.assert_failure(&format!(
        "Failed to connect to AF_UNIX socket {}: Protocol wrong type for socket\n",
        sock.display()
    ));
}

/// A multiplexer whose guest sshd is not up for the first `closed`
/// connections (they are closed without a word, as Firecracker does), then
/// answers `OK` and the banner. Returns the number of connections it saw.
fn mux_up_after(listener: UnixListener, closed: usize) -> JoinHandle<usize> {
    std::thread::spawn(move || {
        let mut seen = 0;
        loop {
            let (mut stream, _) = listener.accept().expect("accept");
            seen += 1;
            let mut request = [0u8; 11];
            stream.read_exact(&mut request).expect("CONNECT line");
            assert_eq!(&request, b"CONNECT 22\n");
            if seen > closed {
                stream.write_all(b"OK 1073741824\n").unwrap();
                stream.write_all(GREETING).unwrap();
                // Keep the stream open until the proxy's side is done with it.
                let _ = stream.read(&mut [0u8; 1]);
                return seen;
            }
        }
    })
}

#[test]
fn wait_retries_a_mux_until_the_guest_port_opens() {
    let dir = TempDir::new();
    let path = dir.join("vm.vsock");
    let mux = mux_up_after(UnixListener::bind(&path).unwrap(), 3);
    let out = run(&["--wait=15", &format!("vsock-mux/{}", path.display()), "22"]);
    let fd = out.assert_handoff();
    let mut got = [0u8; GREETING.len()];
    let stream = UnixStream::from(fd.try_clone().unwrap());
    stream.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    (&stream).read_exact(&mut got).unwrap();
    assert_eq!(got, GREETING);
    drop(stream);
    drop(out);
    assert_eq!(mux.join().unwrap(), 4);
}

#[test]
fn without_wait_a_closed_guest_port_fails_at_once() {
    let dir = TempDir::new();
    let path = dir.join("vm.vsock");
    let _mux = mux_up_after(UnixListener::bind(&path).unwrap(), usize::MAX);
    let out = run(&[&format!("vsock-mux/{}", path.display()), "22"]);
    out.assert_failure(&format!("Port 22 on {} is not open\n", path.display()));
}

#[test]
fn wait_for_a_machine_that_registers_late() {
    const NO_SUCH: &str = r#"{"error":"io.systemd.Machine.NoSuchMachine","parameters":{}}"#;
    let run_dir = TempDir::new();
    let nspawn = run_dir.join("systemd/nspawn/ct/unix-export");
    std::fs::create_dir_all(&nspawn).unwrap();
    let container = Listener::bind(&nspawn.join("ssh"));
    let unknown = FakeMachined::start(run_dir.path(), &[Reply::Json(NO_SUCH)]);
    let socket = run_dir.join("systemd/machine/io.systemd.Machine");
    let run_path = run_dir.path().to_path_buf();
    let registered = std::thread::spawn(move || {
        while unknown.requests().is_empty() {
            std::thread::sleep(Duration::from_millis(10));
        }
        drop(unknown);
        std::fs::remove_file(&socket).unwrap();
        FakeMachined::start(&run_path, &[Reply::Json(CONTAINER)])
    });
    let mut command = Command::new("unshare");
    command
        .args(["--mount", "--propagation", "private", "--", "sh", "-c", "mount --bind \"$0\" /run && exec \"$@\""])
        .arg(run_dir.path())
        .arg(bin())
        .args(["--wait=15", "machine/ct", "22"])
        .env_remove("XDG_RUNTIME_DIR");
    let out = run_fdpass(command);
    assert_connected_to(out.assert_handoff(), &container);
    assert_eq!(registered.join().unwrap().requests().len(), 1);
}

/// An AF_UNIX listener whose backlog is full: the next connect blocks.
pub struct FullBacklog {
    _listener: OwnedFd,
    _queued: UnixStream,
}

impl FullBacklog {
    pub fn bind(path: &Path) -> FullBacklog {
        // std listens with a backlog of 128; a full queue needs listen(fd, 0).
        // SAFETY: plain socket calls on a fresh descriptor and a valid sockaddr_un.
        let listener = unsafe {
            let fd = libc::socket(libc::AF_UNIX, libc::SOCK_STREAM | libc::SOCK_CLOEXEC, 0);
            assert!(fd >= 0);
            let listener = OwnedFd::from_raw_fd(fd);
            let mut addr: libc::sockaddr_un = std::mem::zeroed();
            addr.sun_family = libc::AF_UNIX as libc::sa_family_t;
            for (dst, src) in addr.sun_path.iter_mut().zip(path.as_os_str().as_bytes()) {
                *dst = *src as libc::c_char;
            }
            let len = std::mem::size_of::<libc::sockaddr_un>() as libc::socklen_t;
            assert_eq!(libc::bind(fd, (&raw const addr).cast(), len), 0, "bind");
            assert_eq!(libc::listen(fd, 0), 0, "listen");
            listener
        };
        // With a backlog of 0 one connection fits; it fills the queue.
        let queued = UnixStream::connect(path).unwrap();
        FullBacklog { _listener: listener, _queued: queued }
    }
}

fn timed_out(seconds: u32) -> String {
    format!("Timed out after {seconds} s connecting to the target (--timeout).\n")
}

#[test]
fn timeout_ends_a_connect_that_hangs() {
    let dir = TempDir::new();
    let sock = dir.join("full.sock");
    let _full = FullBacklog::bind(&sock);
    let out = run(&["--timeout=1", &format!("unix/{}", sock.display()), "22"]);
    out.assert_failure(&timed_out(1));
}

#[test]
fn timeout_ends_a_silent_mux_before_its_five_seconds() {
    let dir = TempDir::new();
    let path = dir.join("vm.vsock");
    let listener = UnixListener::bind(&path).unwrap();
    let mux = std::thread::spawn(move || {
        let (mut stream, _) = listener.accept().unwrap();
        // Says nothing until the proxy is gone.
        let _ = stream.read_to_end(&mut Vec::new());
    });
    let started = Instant::now();
    let out = run(&["--timeout=1", &format!("vsock-mux/{}", path.display()), "22"]);
    out.assert_failure(&timed_out(1));
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "took {:?}: the mux's 5 s hand-off came first",
        started.elapsed()
    );
    mux.join().unwrap();
}

#[test]
fn timeout_ends_a_hang_even_while_waiting() {
    let dir = TempDir::new();
    let sock = dir.join("full.sock");
    let _full = FullBacklog::bind(&sock);
    let out = run(&["--wait=30", "--timeout=1", &format!("unix/{}", sock.display()), "22"]);
    out.assert_failure(&timed_out(1));
}

#[test]
fn timeout_does_not_cut_a_relayed_session() {
    // The session outlives --timeout=1: the bound covers the connect only.
    let dir = TempDir::new();
    let sock = dir.join("slow.sock");
    let listener = UnixListener::bind(&sock).unwrap();
    let server = std::thread::spawn(move || {
        let (mut stream, _) = listener.accept().unwrap();
        std::thread::sleep(Duration::from_millis(2500));
        stream.write_all(b"late answer\n").unwrap();
    });
    let mut command = Command::new(bin());
    command
        .args(["--timeout=1", &format!("unix/{}", sock.display()), "22"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = ChildGuard(Some(command.spawn().unwrap()));
    let mut stdout = child.0.as_mut().unwrap().stdout.take().unwrap();
    let mut stderr = child.0.as_mut().unwrap().stderr.take().unwrap();
    let mut got = Vec::new();
    stdout.read_to_end(&mut got).unwrap();
    let status = child.wait_timeout(Duration::from_secs(20));
    let mut message = String::new();
    stderr.read_to_string(&mut message).unwrap();
    server.join().unwrap();
    assert_ne!(status.code(), Some(PANIC_EXIT));
    assert_eq!((status.code(), message.as_str(), got.as_slice()), (Some(0), "", &b"late answer\n"[..]));
}

#[test]
fn timeout_and_wait_leave_a_quick_target_alone() {
    let dir = TempDir::new();
    let sock = dir.join("quick.sock");
    let listener = Listener::bind(&sock);
    let out: Outcome = run(&["--timeout=30", "--wait=30", &format!("unix/{}", sock.display()), "22"]);
    assert_connected_to(out.assert_handoff(), &listener);
}
