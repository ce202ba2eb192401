//! Every mode under `ulimit -s 32`: a 32 KiB stack, environment included.
//! The large buffers live outside every stack frame, so no run may die of
//! SIGSEGV (which a stack limit turns a deep frame into) however small the
//! limit its parent set.

use std::io::{Read, Write};
use std::os::unix::net::UnixListener;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use sockproxy_test_common::{ChildGuard, TempDir};

use crate::fake_machined::{FakeMachined, Reply};
use crate::machine_target::{CONTAINER, nspawn_socket};
use crate::mux_front::MuxFront;
use crate::support::{Listener, PANIC_EXIT, assert_connected_to, bin, run_fdpass, unix_host};
use crate::wait_timeout::FullBacklog;

/// The shell line that limits the stack, then runs the proxy.
const LIMIT_THEN_EXEC: &str = "ulimit -s 32 && exec \"$0\" \"$@\"";

/// The proxy with `args` under a 32 KiB stack limit.
fn tiny_stack(args: &[&str]) -> Command {
    let mut command = Command::new("sh");
    command.args(["-c", LIMIT_THEN_EXEC, bin()]).args(args);
    command
}

#[test]
fn prints_under_a_tiny_stack() {
    for (option, starts) in
        [("--version", "ssh-sockproxy "), ("--help", "Usage: "), ("--print-ssh-config", "# ssh-sockproxy: ")]
    {
        let out = tiny_stack(&[option]).output().expect("run the proxy");
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert_eq!(out.status.code(), Some(0), "{option}: {:?} {}", out.status, String::from_utf8_lossy(&out.stderr));
        assert!(stdout.starts_with(starts), "{option}: {stdout}");
    }
}

#[test]
fn hand_offs_under_a_tiny_stack() {
    let dir = TempDir::new();
    std::fs::create_dir(dir.join("Upper")).unwrap();
    let short = dir.join("Upper/s.sock");
    let short_listener = Listener::bind(&short);
    let long_dir = dir.join(&"d".repeat(150));
    std::fs::create_dir(&long_dir).unwrap();
    let long = long_dir.join("s.sock");
    let long_listener = Listener::bind_long(&long);
    let backend = dir.join("backend.sock");
    let backend_listener = Listener::bind(&backend);
    let mux = MuxFront::start(&dir.join("vm.vsock"), &backend);
    let cases = [
        (unix_host('/', &short), &short_listener),
        // ssh's lowercased %h: found again by case recovery.
        (unix_host('/', &short).to_lowercase(), &short_listener),
        (unix_host('/', &long), &long_listener),
        (format!("vsock-mux/{}", mux.path().display()), &backend_listener),
    ];
    for (host, listener) in cases {
        let out = run_fdpass(tiny_stack(&[&host, "22"]));
        assert_connected_to(out.assert_handoff(), listener);
    }
}

#[test]
fn failures_under_a_tiny_stack() {
    let dir = TempDir::new();
    let missing = dir.join("missing.sock");
    run_fdpass(tiny_stack(&[&unix_host('/', &missing), "22"])).assert_failure(&format!(
        "Failed to connect to AF_UNIX socket {}: No such file or directory\n",
        missing.display()
    ));
    // The SIGALRM handler runs on the same small stack.
    let full = dir.join("full.sock");
    let _backlog = FullBacklog::bind(&full);
    run_fdpass(tiny_stack(&["--timeout=1", &unix_host('/', &full), "22"]))
        .assert_failure("Timed out after 1 s connecting to the target (--timeout).\n");
}

#[test]
fn relay_under_a_tiny_stack() {
    let dir = TempDir::new();
    let sock = dir.join("t.sock");
    let listener = UnixListener::bind(&sock).unwrap();
    let server = std::thread::spawn(move || {
        let (mut stream, _) = listener.accept().unwrap();
        stream.write_all(b"hello\n").unwrap();
        let mut got = Vec::new();
        stream.read_to_end(&mut got).unwrap();
        got
    });
    let mut command = tiny_stack(&[&unix_host('/', &sock), "22"]);
    command.stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped());
    let mut child = ChildGuard(Some(command.spawn().unwrap()));
    let proxy = child.0.as_mut().unwrap();
    let mut stdin = proxy.stdin.take().unwrap();
    stdin.write_all(b"hi").unwrap();
    drop(stdin);
    let (mut stdout, mut stderr) = (proxy.stdout.take().unwrap(), proxy.stderr.take().unwrap());
    let mut out = Vec::new();
    stdout.read_to_end(&mut out).unwrap();
    let status = child.wait_timeout(Duration::from_secs(20));
    let mut message = String::new();
    stderr.read_to_string(&mut message).unwrap();
    assert_ne!(status.code(), Some(PANIC_EXIT));
    assert_eq!((status.code(), message.as_str(), out.as_slice()), (Some(0), "", &b"hello\n"[..]));
    assert_eq!(server.join().unwrap(), b"hi");
}

/// machine/ in a mount namespace whose /run is `run_dir`, under the limit.
fn machine_tiny_stack(run_dir: &Path, name: &str) -> Command {
    let mut command = Command::new("unshare");
    command
        .args(["--mount", "--propagation", "private", "--", "sh", "-c"])
        .arg(format!("mount --bind \"$1\" /run && shift && {LIMIT_THEN_EXEC}"))
        .arg(bin())
        .arg(run_dir)
        .args([name, "22"])
        .env_remove("XDG_RUNTIME_DIR");
    command
}

#[test]
fn machine_under_a_tiny_stack() {
    let run = TempDir::new();
    let _machined = FakeMachined::start(run.path(), &[Reply::Json(CONTAINER)]);
    let listener = nspawn_socket(run.path(), "ct");
    let out = run_fdpass(machine_tiny_stack(run.path(), "machine/ct"));
    assert_connected_to(out.assert_handoff(), &listener);
}
