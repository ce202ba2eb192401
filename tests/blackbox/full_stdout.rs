//! Stdouts that are full when the proxy writes: non-blocking ones (the flag
//! is on the file description, which the parent may share) make the write
//! fail with EAGAIN; the proxy waits for room, up to 5 s, as its reader
//! drains them. Full blocking ones are in descriptors.rs and faults.rs.

use std::io::{Read, Write};
use std::os::fd::{FromRawFd, OwnedFd};
use std::os::unix::net::UnixStream;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use sockproxy_test_common::{ChildGuard, TempDir};

use crate::support::{Listener, assert_connected_to, bin, recv_with_fd, unix_host};

/// Fills `fd`, which is non-blocking, until it takes no more; returns how much it took.
fn fill(mut fd: impl Write) -> usize {
    let chunk = [b'f'; 4096];
    let mut filled = 0;
    while let Ok(n) = fd.write(&chunk) {
        filled += n;
    }
    filled
}

/// Waits until `child` waits for room on a full descriptor (a ppoll of one
/// descriptor; the stdio check at start-up polls three) or has exited.
fn until_waiting_for_room(child: &mut Child) -> Option<ExitStatus> {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return Some(status);
        }
        let syscall = std::fs::read_to_string(format!("/proc/{}/syscall", child.id())).unwrap_or_default();
        let mut fields = syscall.split_whitespace();
        if fields.next() == Some(&libc::SYS_ppoll.to_string()) && fields.nth(1) == Some("0x1") {
            return None;
        }
        assert!(Instant::now() < deadline, "the proxy neither waited for room nor exited");
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// A socketpair whose far end is non-blocking and full: the proxy's stdout.
fn full_socketpair() -> (UnixStream, UnixStream, usize) {
    let (ours, theirs) = UnixStream::pair().unwrap();
    theirs.set_nonblocking(true).unwrap();
    let filled = fill(&theirs);
    (ours, theirs, filled)
}

#[test]
fn hand_off_waits_for_room_on_a_full_nonblocking_stdout() {
    let dir = TempDir::new();
    let sock = dir.join("s.sock");
    let listener = Listener::bind(&sock);
    let (ours, theirs, filled) = full_socketpair();
    let mut command = Command::new(bin());
    command
        .args([&unix_host('/', &sock), "22"])
        .stdin(OwnedFd::from(theirs.try_clone().unwrap()))
        .stdout(OwnedFd::from(theirs))
        .stderr(Stdio::piped());
    let mut child = ChildGuard(Some(command.spawn().unwrap()));
    let mut stderr_pipe = child.0.as_mut().and_then(|c| c.stderr.take()).unwrap();
    drop(command);
    let early = until_waiting_for_room(child.0.as_mut().unwrap());
    // ssh reads, a moment late.
    let mut drained = vec![0u8; filled];
    (&ours).read_exact(&mut drained).unwrap();
    ours.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    let (byte, fd) = recv_with_fd(&ours);
    let status = early.unwrap_or_else(|| child.wait_timeout(Duration::from_secs(20)));
    let mut stderr = String::new();
    stderr_pipe.read_to_string(&mut stderr).unwrap();
    assert_eq!((status.code(), stderr.as_str(), byte.as_slice()), (Some(0), "", &b"\0"[..]));
    assert_connected_to(fd.as_ref().expect("handed off"), &listener);
}

#[test]
fn hand_off_to_a_stdout_that_stays_full_ends() {
    let dir = TempDir::new();
    let sock = dir.join("s.sock");
    let _listener = Listener::bind(&sock);
    let (_ours, theirs, _) = full_socketpair();
    let mut command = Command::new(bin());
    command
        .args([&unix_host('/', &sock), "22"])
        .stdin(OwnedFd::from(theirs.try_clone().unwrap()))
        .stdout(OwnedFd::from(theirs));
    let (status, stderr) = crate::support::run_bounded(command, Duration::from_secs(20));
    assert_eq!(
        (status.code(), stderr.as_str()),
        (Some(1), "Failed to send socket to ssh: Resource temporarily unavailable\n")
    );
}

/// A non-blocking pipe, full: (read end, write end, bytes in it).
fn full_pipe() -> (std::fs::File, OwnedFd, usize) {
    let mut fds = [0; 2];
    // SAFETY: pipe2 writes two new descriptors into `fds`.
    assert_eq!(unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC | libc::O_NONBLOCK) }, 0, "pipe2");
    // SAFETY: both are ours alone from here on.
    let (reader, writer) = unsafe { (std::fs::File::from_raw_fd(fds[0]), std::fs::File::from_raw_fd(fds[1])) };
    let filled = fill(&writer);
    (reader, writer.into(), filled)
}

#[test]
fn printing_waits_for_room_on_a_full_nonblocking_stdout() {
    for (option, starts) in [("--help", "Usage: "), ("--version", "ssh-sockproxy "), ("--print-ssh-config", "# ")] {
        let (mut reader, writer, filled) = full_pipe();
        let mut command = Command::new(bin());
        command.arg(option).stdin(Stdio::null()).stdout(writer).stderr(Stdio::piped());
        let mut child = ChildGuard(Some(command.spawn().unwrap()));
        let mut stderr_pipe = child.0.as_mut().and_then(|c| c.stderr.take()).unwrap();
        drop(command);
        let early = until_waiting_for_room(child.0.as_mut().unwrap());
        let mut old = vec![0u8; filled];
        reader.read_exact(&mut old).unwrap();
        let status = early.unwrap_or_else(|| child.wait_timeout(Duration::from_secs(20)));
        let mut stderr = String::new();
        stderr_pipe.read_to_string(&mut stderr).unwrap();
        // The pipe is non-blocking: what the proxy wrote is there now.
        let mut printed = Vec::new();
        let _ = reader.read_to_end(&mut printed);
        let printed = String::from_utf8_lossy(&printed);
        assert_eq!((status.code(), stderr.as_str()), (Some(0), ""), "{option}");
        assert!(printed.starts_with(starts), "{option}: {printed}");
    }
}
