//! Auto mode with a socketpair stdout whose client cannot take a descriptor
//! (libssh): it reads the hand-off byte as plain data, writes its banner,
//! and gets a relay through the socket the proxy still holds. And what the
//! proxy inherits past stderr (libssh's own socketpair end) it closes.

use std::io::{Read, Write};
use std::net::Shutdown;
use std::os::fd::{AsRawFd, OwnedFd};
use std::os::unix::net::UnixStream;
use std::os::unix::process::CommandExt;
use std::process::{Command, ExitStatus, Stdio};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use sockproxy_test_common::{ChildGuard, TempDir};

use crate::descriptors::{assert_only_std_and_one_socket, blocked_in, descriptors};
use crate::support::{Listener, bin, unix_host};

const BANNER: &[u8] = b"SSH-2.0-libssh_like\r\n";
const SERVER_HELLO: &[u8] = b"SSH-2.0-server\r\n";
const LATER: &[u8] = b"more from the client";
const LIMIT: Duration = Duration::from_secs(20);

/// The target: reads the banner, answers, then echoes everything back
/// reversed in one piece at EOF, and closes. Returns what it read in all.
fn serve(listener: Listener) -> JoinHandle<Vec<u8>> {
    std::thread::spawn(move || {
        let mut stream = listener.accept();
        stream.set_read_timeout(Some(LIMIT)).unwrap();
        let mut banner = vec![0u8; BANNER.len()];
        stream.read_exact(&mut banner).unwrap();
        stream.write_all(SERVER_HELLO).unwrap();
        let mut rest = Vec::new();
        stream.read_to_end(&mut rest).unwrap();
        stream.write_all(&rest.iter().rev().copied().collect::<Vec<u8>>()).unwrap();
        [banner, rest].concat()
    })
}

/// The proxy with one socketpair end as stdin and stdout, as libssh runs it.
fn spawn(theirs: UnixStream, args: &[&str], setup: impl FnOnce(&mut Command)) -> (ChildGuard, u32) {
    let mut command = Command::new(bin());
    command
        .args(args)
        .stdin(OwnedFd::from(theirs.try_clone().unwrap()))
        .stdout(OwnedFd::from(theirs))
        .stderr(Stdio::piped());
    setup(&mut command);
    let child = command.spawn().expect("spawn proxy");
    let pid = child.id();
    (ChildGuard(Some(child)), pid)
}

/// The libssh side after its banner: a plain read (no control buffer, so
/// the kernel drops any descriptor) of the hand-off byte, then the server's
/// answer; then more bytes, and the end of its writing. Returns what came
/// back after the answer.
fn talk(ours: &UnixStream) -> Vec<u8> {
    ours.set_read_timeout(Some(LIMIT)).unwrap();
    let mut got = vec![0u8; 1 + SERVER_HELLO.len()];
    (&*ours).read_exact(&mut got).unwrap();
    assert_eq!(got, [b"\n", SERVER_HELLO].concat(), "{:?}", String::from_utf8_lossy(&got));
    (&*ours).write_all(LATER).unwrap();
    ours.shutdown(Shutdown::Write).unwrap();
    let mut back = Vec::new();
    (&*ours).read_to_end(&mut back).unwrap();
    back
}

fn finish(mut child: ChildGuard) -> (ExitStatus, String) {
    let mut stderr_pipe = child.0.as_mut().and_then(|c| c.stderr.take()).unwrap();
    let status = child.wait_timeout(LIMIT);
    let mut stderr = String::new();
    stderr_pipe.read_to_string(&mut stderr).unwrap();
    (status, stderr)
}

#[track_caller]
fn assert_relayed(server: JoinHandle<Vec<u8>>, back: Vec<u8>, child: ChildGuard) {
    assert_eq!(server.join().unwrap(), [BANNER, LATER].concat());
    assert_eq!(back, LATER.iter().rev().copied().collect::<Vec<u8>>());
    let (status, stderr) = finish(child);
    assert_eq!((status.code(), stderr.as_str()), (Some(0), ""));
}

#[test]
fn a_banner_written_before_the_proxy_starts_gets_a_relay() {
    let dir = TempDir::new();
    let sock = dir.join("s.sock");
    let server = serve(Listener::bind(&sock));
    let (ours, theirs) = UnixStream::pair().unwrap();
    // libssh writes its banner before the proxy's first syscall.
    (&ours).write_all(BANNER).unwrap();
    let (child, _) = spawn(theirs, &[&unix_host('/', &sock), "22"], |_| ());
    let back = talk(&ours);
    assert_relayed(server, back, child);
}

#[test]
fn a_banner_written_while_the_proxy_waits_gets_a_relay() {
    let dir = TempDir::new();
    let sock = dir.join("s.sock");
    let server = serve(Listener::bind(&sock));
    let (ours, theirs) = UnixStream::pair().unwrap();
    let (child, pid) = spawn(theirs, &[&unix_host('/', &sock), "22"], |_| ());
    // The descriptor is sent and the proxy waits on stdin (its only ppoll
    // on this path): only now does the client write.
    let deadline = Instant::now() + LIMIT;
    while blocked_in(pid) != Some(libc::SYS_ppoll) {
        assert!(Instant::now() < deadline, "the proxy never waited on stdin");
        std::thread::sleep(Duration::from_millis(5));
    }
    (&ours).write_all(BANNER).unwrap();
    let back = talk(&ours);
    assert_relayed(server, back, child);
}

/// Puts a duplicate of `fd` at descriptor 4 of the child, without CLOEXEC,
/// as libssh leaves its own socketpair end in the proxy.
fn inherit_at_4(command: &mut Command, fd: i32) {
    // SAFETY: dup2 between fork and exec is async-signal-safe.
    unsafe {
        command.pre_exec(move || {
            // dup2 onto itself would keep the CLOEXEC flag: clear it instead.
            let done = if fd == 4 { libc::fcntl(4, libc::F_SETFD, 0) } else { libc::dup2(fd, 4) };
            if done < 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
}

#[test]
fn inherited_descriptors_are_closed_so_the_clients_close_ends_the_relay() {
    for mode in [Some("--relay"), None] {
        let dir = TempDir::new();
        let sock = dir.join("s.sock");
        let server = serve(Listener::bind(&sock));
        let (ours, theirs) = UnixStream::pair().unwrap();
        (&ours).write_all(BANNER).unwrap();
        let host = unix_host('/', &sock);
        let args: Vec<&str> = mode.into_iter().chain([host.as_str(), "22"]).collect();
        let ours_fd = ours.as_raw_fd();
        let (child, pid) = spawn(theirs, &args, |command| inherit_at_4(command, ours_fd));
        ours.set_read_timeout(Some(LIMIT)).unwrap();
        let expected = if mode.is_some() { SERVER_HELLO.to_vec() } else { [b"\n", SERVER_HELLO].concat() };
        let mut got = vec![0u8; expected.len()];
        (&ours).read_exact(&mut got).unwrap();
        assert_eq!(got, expected, "{mode:?}");
        // Relaying now: 0, 1, 2 and the target socket, not the inherited fd 4.
        let fds = descriptors(pid);
        assert_only_std_and_one_socket(&fds);
        let ours_inode = std::fs::read_link(format!("/proc/self/fd/{ours_fd}")).unwrap();
        assert_ne!(fds[3].1, ours_inode.display().to_string(), "{mode:?}: the client's end is held");
        // The client goes away without a word: the proxy sees EOF and ends.
        drop(ours);
        assert_eq!(server.join().unwrap(), BANNER, "{mode:?}");
        let (status, stderr) = finish(child);
        assert_eq!((status.code(), stderr.as_str()), (Some(0), ""), "{mode:?}");
    }
}

#[test]
fn forced_fdpass_exits_without_waiting_for_the_client() {
    let dir = TempDir::new();
    let sock = dir.join("s.sock");
    let listener = Listener::bind(&sock);
    let (ours, theirs) = UnixStream::pair().unwrap();
    let (child, _) = spawn(theirs, &["--fdpass", &unix_host('/', &sock), "22"], |_| ());
    // Our end stays open and silent: with --fdpass the proxy does not wait.
    assert_handed_off_without_waiting(&ours, child, &listener);
}

/// The socket came with "\n" on `ours`, which stays open and silent, and
/// the proxy ended by itself, exit 0 and nothing on stderr.
#[track_caller]
fn assert_handed_off_without_waiting(ours: &UnixStream, child: ChildGuard, listener: &Listener) {
    ours.set_read_timeout(Some(LIMIT)).unwrap();
    let received = sockproxy_test_common::scm_rights::receive(ours).unwrap();
    assert_eq!((received.bytes.as_slice(), received.fds.len()), (&b"\n"[..], 1));
    let (status, stderr) = finish(child);
    assert_eq!((status.code(), stderr.as_str()), (Some(0), ""));
    crate::support::assert_connected_to(&received.fds[0], listener);
}

/// Only one socket as both stdin and stdout gets the offer: with stdout a
/// socket but stdin a pipe that stays open and silent (a terminal would do
/// the same), the proxy hands off and exits instead of waiting on stdin.
#[test]
fn a_stdin_of_its_own_gets_the_descriptor_and_no_wait() {
    let dir = TempDir::new();
    let sock = dir.join("s.sock");
    let listener = Listener::bind(&sock);
    let (ours, theirs) = UnixStream::pair().unwrap();
    let (reader, writer) = std::io::pipe().unwrap();
    let mut command = Command::new(bin());
    command.args([&unix_host('/', &sock), "22"]).stdin(reader).stdout(OwnedFd::from(theirs)).stderr(Stdio::piped());
    let child = ChildGuard(Some(command.spawn().expect("spawn proxy")));
    // The socketpair and the pipe both stay open: the proxy must end by itself.
    assert_handed_off_without_waiting(&ours, child, &listener);
    drop(writer);
}
