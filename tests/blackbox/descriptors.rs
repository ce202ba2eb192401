//! What descriptors the proxy holds: at the moment it hands the socket over
//! it holds exactly stdin, stdout, stderr and that socket, whatever path it
//! took there; and with a small descriptor table it fails cleanly.

use std::io::{Read, Write};
use std::os::fd::OwnedFd;
use std::os::unix::net::UnixStream;
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use sockproxy_test_common::{ChildGuard, TempDir};

use crate::fake_machined::{FakeMachined, Reply};
use crate::machine_target::{CONTAINER, command as machine_command, nspawn_socket};
use crate::mux_front::MuxFront;
use crate::support::{Listener, assert_connected_to, bin, recv_with_fd, run_fdpass, unix_host};

/// The proxy's descriptors, each with what it refers to.
pub fn descriptors(pid: u32) -> Vec<(u32, String)> {
    let mut fds: Vec<(u32, String)> = std::fs::read_dir(format!("/proc/{pid}/fd"))
        .expect("list /proc/PID/fd")
        .filter_map(|entry| {
            let entry = entry.ok()?;
            let fd = entry.file_name().to_str()?.parse().ok()?;
            Some((fd, std::fs::read_link(entry.path()).ok()?.display().to_string()))
        })
        .collect();
    fds.sort();
    fds
}

/// The syscall the process is blocked in (first field of /proc/PID/syscall).
pub fn blocked_in(pid: u32) -> Option<i64> {
    std::fs::read_to_string(format!("/proc/{pid}/syscall")).ok()?.split_whitespace().next()?.parse().ok()
}

/// Starts `command` with only 0, 1 and 2 open: whatever else the test
/// process inherited (a jobserver pipe, say) is not the proxy's doing.
fn with_only_std_fds(command: &mut Command) -> &mut Command {
    // SAFETY: close_range is async-signal-safe and touches only this child.
    unsafe {
        command.pre_exec(|| {
            if libc::syscall(libc::SYS_close_range, 3u32, u32::MAX, 0u32) == 0 {
                Ok(())
            } else {
                Err(std::io::Error::last_os_error())
            }
        })
    }
}

/// Runs `command` (the proxy, possibly behind exec-ing wrappers) with a
/// stdout socketpair whose buffer is full, so that the hand-off sendmsg
/// blocks; lists the proxy's descriptors there, then lets it finish and
/// returns the descriptors and the socket it passed.
fn descriptors_at_handoff(mut command: Command) -> (Vec<(u32, String)>, OwnedFd) {
    let (ours, theirs) = UnixStream::pair().unwrap();
    theirs.set_nonblocking(true).unwrap();
    let chunk = [b'f'; 4096];
    let mut filled = 0;
    while let Ok(n) = (&theirs).write(&chunk) {
        filled += n;
    }
    // The flag is on the shared file description: the proxy must block.
    theirs.set_nonblocking(false).unwrap();
    command.stdin(OwnedFd::from(theirs.try_clone().unwrap())).stdout(OwnedFd::from(theirs)).stderr(Stdio::piped());
    with_only_std_fds(&mut command);
    let mut child = ChildGuard(Some(command.spawn().expect("spawn")));
    drop(command);
    let pid = child.0.as_ref().unwrap().id();
    let deadline = Instant::now() + Duration::from_secs(20);
    while blocked_in(pid) != Some(libc::SYS_sendmsg) {
        assert!(Instant::now() < deadline, "the proxy never reached its hand-off");
        std::thread::sleep(Duration::from_millis(5));
    }
    let fds = descriptors(pid);
    let mut drained = vec![0u8; filled];
    (&ours).read_exact(&mut drained).unwrap();
    let (byte, fd) = recv_with_fd(&ours);
    let status = child.wait_timeout(Duration::from_secs(20));
    assert_eq!((status.code(), byte.as_slice()), (Some(0), &b"\n"[..]));
    (fds, fd.expect("a descriptor"))
}

#[track_caller]
pub fn assert_only_std_and_one_socket(fds: &[(u32, String)]) {
    let numbers: Vec<u32> = fds.iter().map(|(fd, _)| *fd).collect();
    assert_eq!(&numbers[..3], &[0, 1, 2], "{fds:?}");
    assert_eq!(fds.len(), 4, "exactly one descriptor besides 0, 1 and 2: {fds:?}");
    assert!(fds[3].1.starts_with("socket:["), "{fds:?}");
}

#[test]
fn only_the_socket_at_handoff_for_unix_paths() {
    let dir = TempDir::new();
    std::fs::create_dir(dir.join("Mixed")).unwrap();
    let short = dir.join("Mixed/s.sock");
    let short_listener = Listener::bind(&short);
    // Long enough to go through its directory, and a final name through /proc.
    let long_dir = dir.join(&"d".repeat(120));
    std::fs::create_dir(&long_dir).unwrap();
    let long = long_dir.join("s.sock");
    let long_listener = Listener::bind_long(&long);
    let long_name = dir.join(&format!("{}.sock", "n".repeat(120)));
    let long_name_listener = Listener::bind_long(&long_name);
    let cases = [
        (unix_host('/', &short), &short_listener),
        (unix_host('/', &short).to_lowercase(), &short_listener),
        (unix_host('%', &long), &long_listener),
        (unix_host('/', &long_name), &long_name_listener),
    ];
    for (host, listener) in cases {
        let mut command = Command::new(bin());
        command.args([&host, "22"]);
        let (fds, fd) = descriptors_at_handoff(command);
        assert_only_std_and_one_socket(&fds);
        assert_connected_to(&fd, listener);
    }
}

#[test]
fn only_the_socket_at_handoff_for_a_mux_and_a_machine() {
    let dir = TempDir::new();
    let backend = dir.join("backend.sock");
    let backend_listener = Listener::bind(&backend);
    let mux = MuxFront::start(&dir.join("vm.vsock"), &backend);
    let mut command = Command::new(bin());
    command.args([&format!("vsock-mux/{}", mux.path().display()), "22"]);
    let (fds, fd) = descriptors_at_handoff(command);
    assert_only_std_and_one_socket(&fds);
    assert_connected_to(&fd, &backend_listener);

    let run_dir = TempDir::new();
    let _machined = FakeMachined::start(run_dir.path(), &[Reply::Json(CONTAINER)]);
    let container = nspawn_socket(run_dir.path(), "ct");
    let (fds, fd) = descriptors_at_handoff(machine_command(run_dir.path(), None, &[], &["machine/ct", "22"]));
    assert_only_std_and_one_socket(&fds);
    assert_connected_to(&fd, &container);
}

/// Also: a relay to a long path (reached through its directory) keeps the
/// working directory it was started in, not the socket's directory.
#[test]
fn only_the_socket_while_relaying() {
    let dir = TempDir::new();
    let long_dir = dir.join(&"d".repeat(120));
    std::fs::create_dir(&long_dir).unwrap();
    let sock = long_dir.join("t.sock");
    let listener = Listener::bind_long(&sock);
    let mut command = Command::new(bin());
    command
        .args([&unix_host('/', &sock), "22"])
        .current_dir(dir.path())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
    with_only_std_fds(&mut command);
    let mut child = ChildGuard(Some(command.spawn().unwrap()));
    let mut server = listener.accept();
    server.write_all(b"hello\n").unwrap();
    let proxy = child.0.as_mut().unwrap();
    let mut hello = [0u8; 6];
    proxy.stdout.as_mut().unwrap().read_exact(&mut hello).unwrap();
    assert_eq!(&hello, b"hello\n");
    let fds = descriptors(proxy.id());
    assert_only_std_and_one_socket(&fds);
    assert_eq!(std::fs::read_link(format!("/proc/{}/cwd", proxy.id())).unwrap(), dir.path());
    drop(proxy.stdin.take());
    drop(server);
    assert_eq!(child.wait_timeout(Duration::from_secs(20)).code(), Some(0));
}

/// The proxy with at most `limit` descriptors (RLIMIT_NOFILE).
fn limited(limit: u64, args: &[&str], cwd: &Path) -> Command {
    let mut command = Command::new(bin());
    command.args(args).current_dir(cwd);
    // SAFETY: setrlimit is async-signal-safe; nothing else runs in the child.
    unsafe {
        command.pre_exec(move || {
            let rlimit = libc::rlimit { rlim_cur: limit, rlim_max: limit };
            if libc::setrlimit(libc::RLIMIT_NOFILE, &rlimit) == 0 {
                Ok(())
            } else {
                Err(std::io::Error::last_os_error())
            }
        });
    }
    command
}

#[test]
fn a_small_descriptor_table_fails_cleanly_or_hands_off() {
    let dir = TempDir::new();
    let short = dir.join("s.sock");
    let short_listener = Listener::bind(&short);
    let long_dir = dir.join(&"d".repeat(120));
    std::fs::create_dir(&long_dir).unwrap();
    let long = long_dir.join("s.sock");
    let long_listener = Listener::bind_long(&long);
    let backend = dir.join("backend.sock");
    let backend_listener = Listener::bind(&backend);
    let mux = MuxFront::start(&dir.join("vm.vsock"), &backend);
    let targets = [
        (unix_host('/', &short), &short_listener, "AF_UNIX socket"),
        (unix_host('/', &long), &long_listener, "AF_UNIX socket"),
        (format!("vsock-mux/{}", mux.path().display()), &backend_listener, "AF_UNIX socket"),
    ];
    for (host, listener, what) in targets {
        // 0, 1 and 2 fill a table of 3; the socket needs a fourth, the
        // directory of a long path a fifth.
        for limit in [3, 4, 5, 6, 16] {
            let out = run_fdpass(limited(limit, &[&host, "22"], dir.path()));
            if out.code() == Some(0) {
                assert_connected_to(out.assert_handoff(), listener);
                continue;
            }
            assert!(
                out.stderr.ends_with(": Too many open files\n") && out.stderr.contains(what),
                "{host} with {limit}: {out:?}"
            );
            out.assert_failure(&out.stderr.clone());
            assert!(limit < 16, "{host} fails with 16 descriptors: {out:?}");
        }
        let out = run_fdpass(limited(3, &[&host, "22"], dir.path()));
        out.assert_failure("Failed to create AF_UNIX socket: Too many open files\n");
    }
}
