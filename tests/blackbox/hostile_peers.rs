//! Peers that misbehave: a machined that closes at every step of its reply,
//! drips it or floods garbage; multiplexers that flood or drip; signals
//! arriving while the proxy waits. Each run ends in a clean error or a
//! correct hand-off, within its bound.

use std::io::{Read, Write};
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use sockproxy_test_common::TempDir;

use crate::machine_target::{CONTAINER, command as machine_command, nspawn_socket};
use crate::support::{Listener, Outcome, assert_connected_to, rest_of_stream, run, run_fdpass, run_fdpass_observed};

/// Pseudo-random bytes without NUL or newline (xorshift), deterministic.
fn garbage(len: usize, seed: u64) -> Vec<u8> {
    let mut state = seed | 1;
    (0..len)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            match (state >> 24) as u8 {
                0 | b'\n' => b'x',
                byte => byte,
            }
        })
        .collect()
}

/// Serves one connection at `path` in the background: reads the request up
/// to `request_end` (unless `None`), then runs `reply` on the stream.
fn serve_once(
    path: &Path,
    request_end: Option<u8>,
    reply: impl FnOnce(&mut UnixStream) + Send + 'static,
) -> JoinHandle<()> {
    let listener = UnixListener::bind(path).unwrap_or_else(|e| panic!("bind {}: {e}", path.display()));
    std::thread::spawn(move || {
        let (mut stream, _) = listener.accept().expect("accept");
        stream.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
        if let Some(end) = request_end {
            let mut byte = [0u8];
            while stream.read(&mut byte).is_ok_and(|n| n == 1) && byte[0] != end {}
        }
        reply(&mut stream);
    })
}

/// machined's socket in `runtime_dir`, its directory created.
fn machined_path(runtime_dir: &Path) -> std::path::PathBuf {
    let dir = runtime_dir.join("systemd/machine");
    std::fs::create_dir_all(&dir).unwrap();
    dir.join("io.systemd.Machine")
}

/// `machine/ct` with the user's machined in `user` playing `reply` and an
/// empty system /run: the line names both scopes.
fn machine_run(reply: impl FnOnce(&mut UnixStream) + Send + 'static, request_end: Option<u8>) -> Outcome {
    let (run_dir, user) = (TempDir::new(), TempDir::new());
    let server = serve_once(&machined_path(user.path()), request_end, reply);
    let out = run_fdpass(machine_command(run_dir.path(), Some(user.path()), &[], &["machine/ct", "22"]));
    server.join().expect("machined thread");
    out
}

fn user_scope_failure(problem: &str) -> String {
    format!(
        "Failed to look up machine ct: user scope: {problem}; system scope: cannot reach systemd-machined: No such file or directory\n"
    )
}

#[test]
fn machined_closing_at_every_byte_of_its_reply() {
    let reply = CONTAINER.as_bytes();
    for len in 0..=reply.len() {
        let part = reply[..len].to_vec();
        let out = machine_run(move |stream| stream.write_all(&part).unwrap(), Some(0));
        out.assert_failure(&user_scope_failure("connection closed before the reply ended"));
    }
}

#[test]
fn machined_closing_before_reading_the_request() {
    // The close meets the proxy sending (EPIPE), or waiting with its request
    // unread (the kernel resets the connection), or after the reset is gone.
    let out = machine_run(|_| (), None);
    let expected = [
        user_scope_failure("cannot send the request: Broken pipe"),
        user_scope_failure("cannot read the reply: Connection reset by peer"),
        user_scope_failure("connection closed before the reply ended"),
    ];
    assert!(expected.contains(&out.stderr), "{out:?}");
    assert_eq!((out.code(), out.fd.is_none(), out.stdout.is_empty()), (Some(1), true, true));
}

#[test]
fn machined_flooding_a_megabyte_of_garbage() {
    let flood = garbage(1 << 20, 7);
    let out = machine_run(
        move |stream| {
            let _ = stream.write_all(&flood);
        },
        Some(0),
    );
    out.assert_failure(&user_scope_failure("reply larger than 64 KiB"));
}

#[test]
fn machined_dripping_slower_than_its_five_seconds() {
    // A byte every 100 ms: 5 s pass long before the reply ends. The bound
    // is on the whole exchange, not on each read.
    let started = Instant::now();
    let out = machine_run(
        |stream| {
            for byte in CONTAINER.as_bytes() {
                if stream.write_all(std::slice::from_ref(byte)).is_err() {
                    return;
                }
                std::thread::sleep(Duration::from_millis(100));
            }
        },
        Some(0),
    );
    out.assert_failure(&user_scope_failure("no reply within 5 s"));
    assert!(started.elapsed() < Duration::from_secs(10), "took {:?}", started.elapsed());
}

#[test]
fn mux_flooding_a_megabyte_that_is_no_ok_line_is_handed_off_untouched() {
    let dir = TempDir::new();
    let path = dir.join("vm.vsock");
    let flood = garbage(1 << 20, 11);
    let expected = flood.clone();
    let server = serve_once(&path, Some(b'\n'), move |stream| {
        let _ = stream.write_all(&flood);
    });
    let out = run(&[&format!("vsock-mux/{}", path.display()), "22"]);
    let got = rest_of_stream(&out);
    server.join().unwrap();
    assert!(got == expected, "{} of {} bytes came through, or different ones", got.len(), expected.len());
}

#[test]
fn mux_flooding_digits_after_ok_is_a_broken_reply() {
    let dir = TempDir::new();
    let path = dir.join("vm.vsock");
    let server = serve_once(&path, Some(b'\n'), |stream| {
        let _ = stream.write_all(b"OK ");
        let _ = stream.write_all(&vec![b'7'; 1 << 20]);
    });
    let out = run(&[&format!("vsock-mux/{}", path.display()), "22"]);
    out.assert_failure(&format!(
        "Invalid reply of vsock multiplexer {} to CONNECT 22: OK 7777777777\n",
        path.display()
    ));
    server.join().unwrap();
}

#[test]
fn mux_dripping_its_ok_line_is_still_consumed_exactly() {
    let dir = TempDir::new();
    let path = dir.join("vm.vsock");
    let server = serve_once(&path, Some(b'\n'), |stream| {
        for byte in b"OK 1073741824\n" {
            stream.write_all(std::slice::from_ref(byte)).unwrap();
            std::thread::sleep(Duration::from_millis(150));
        }
        stream.write_all(b"SSH-2.0-guest\r\n").unwrap();
    });
    let out = run(&[&format!("vsock-mux/{}", path.display()), "22"]);
    let got = rest_of_stream(&out);
    server.join().unwrap();
    assert_eq!(got, b"SSH-2.0-guest\r\n");
}

/// Sends SIGWINCH and SIGCHLD to `pid`, alternately every 2 ms, until dropped.
struct Signaller {
    stop: Arc<AtomicBool>,
    sent: Arc<AtomicUsize>,
    thread: Option<JoinHandle<()>>,
}

impl Signaller {
    fn start(pid: u32) -> Signaller {
        let (stop, sent) = (Arc::new(AtomicBool::new(false)), Arc::new(AtomicUsize::new(0)));
        let (flag, count) = (stop.clone(), sent.clone());
        let thread = std::thread::spawn(move || {
            let pid = libc::pid_t::try_from(pid).unwrap();
            while !flag.load(Ordering::Relaxed) {
                let signal = if count.load(Ordering::Relaxed) % 2 == 0 { libc::SIGWINCH } else { libc::SIGCHLD };
                // SAFETY: a signal to our own child, which is not reaped before
                // this thread has stopped (see run_fdpass_observed).
                if unsafe { libc::kill(pid, signal) } == 0 {
                    count.fetch_add(1, Ordering::Relaxed);
                }
                std::thread::sleep(Duration::from_millis(2));
            }
        });
        Signaller { stop, sent, thread: Some(thread) }
    }
}

impl Drop for Signaller {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
        // A run too short to be signalled would prove nothing.
        assert!(self.sent.load(Ordering::Relaxed) > 10, "only {} signals sent", self.sent.load(Ordering::Relaxed));
    }
}

fn run_signalled(args: &[&str]) -> Outcome {
    let mut command = std::process::Command::new(crate::support::bin());
    command.args(args);
    run_fdpass_observed(command, Signaller::start)
}

#[test]
fn signals_while_a_mux_is_slow_to_answer() {
    let dir = TempDir::new();
    let path = dir.join("vm.vsock");
    let server = serve_once(&path, Some(b'\n'), |stream| {
        std::thread::sleep(Duration::from_millis(800));
        stream.write_all(b"OK 22\nSSH-2.0-guest\r\n").unwrap();
    });
    let out = run_signalled(&[&format!("vsock-mux/{}", path.display()), "22"]);
    let got = rest_of_stream(&out);
    server.join().unwrap();
    assert_eq!(got, b"SSH-2.0-guest\r\n");
}

#[test]
fn signals_while_machined_is_slow_to_answer() {
    let (run_dir, user) = (TempDir::new(), TempDir::new());
    let listener = nspawn_socket(user.path(), "ct");
    let server = serve_once(&machined_path(user.path()), Some(0), |stream| {
        std::thread::sleep(Duration::from_millis(800));
        stream.write_all(CONTAINER.as_bytes()).unwrap();
        stream.write_all(b"\0").unwrap();
    });
    let command = machine_command(run_dir.path(), Some(user.path()), &[], &["machine/ct", "22"]);
    let out = run_fdpass_observed(command, Signaller::start);
    server.join().unwrap();
    assert_connected_to(out.assert_handoff(), &listener);
}

#[test]
fn signals_while_waiting_for_a_socket() {
    let dir = TempDir::new();
    let sock = dir.join("late.sock");
    let path = sock.clone();
    let binder = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(1200));
        Listener::bind(&path)
    });
    let out = run_signalled(&["--wait=20", &format!("unix/{}", sock.display()), "22"]);
    assert_connected_to(out.assert_handoff(), &binder.join().unwrap());
}

#[test]
fn signals_while_waiting_out_the_time() {
    let dir = TempDir::new();
    let sock = dir.join("never.sock");
    let out = run_signalled(&["--wait=1", &format!("unix/{}", sock.display()), "22"]);
    out.assert_failure(&format!("Failed to connect to AF_UNIX socket {}: No such file or directory\n", sock.display()));
}
