//! One start-up as OpenSSH performs it: spawn the ProxyCommand on a socketpair (fd passing) or pipes (relay), read the greeting.

use std::io::Read;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::os::unix::net::UnixStream;
use std::time::{Duration, Instant};

use sockproxy_test_common::scm_rights;

/// What every listener writes first; the harness must read all of it.
pub const GREETING: &[u8] = b"SSH-2.0-bench\r\n";
/// How long any read may wait: a hung proxy fails the bench, it does not stall it.
const READ_LIMIT_MS: libc::c_int = 10_000;

/// How the harness talks to the command, as OpenSSH would with it.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Style {
    /// ProxyUseFdpass yes: stdin and stdout are one end of a socketpair; recvmsg
    /// one byte and the descriptor, read the greeting through the descriptor.
    FdPass,
    /// ProxyUseFdpass no: two pipes; read the greeting from stdout, then close
    /// stdin so that the relay ends.
    Relay,
    /// The floor: the socketpair as for FdPass, and nothing but waiting for the exit.
    Exit,
}

/// A started command the harness can wait for (plain or traced).
pub trait Proc {
    /// Waits for the exit and reaps; returns the raw wait status.
    fn wait(&mut self) -> std::io::Result<libc::c_int>;
}

impl Proc for crate::spawn::Child {
    fn wait(&mut self) -> std::io::Result<libc::c_int> {
        crate::spawn::Child::wait(self)
    }
}

/// Runs one start-up: `launch(stdin, stdout)` starts the command. Returns the
/// time from just before the launch to the reaped exit, and the process.
pub fn play<P: Proc>(
    style: Style,
    launch: impl FnOnce(RawFd, RawFd) -> std::io::Result<P>,
) -> Result<(Duration, P), String> {
    match style {
        Style::FdPass | Style::Exit => {
            let (ours, theirs) = UnixStream::pair().map_err(|e| format!("socketpair: {e}"))?;
            let start = Instant::now();
            let mut child = launch(theirs.as_raw_fd(), theirs.as_raw_fd()).map_err(|e| format!("spawn: {e}"))?;
            drop(theirs);
            if style == Style::FdPass {
                let fd = receive_fd(&ours)?;
                // As OpenSSH: its end closed once the descriptor is in, before waiting.
                drop(ours);
                read_greeting(fd.as_raw_fd())?;
            }
            let status = child.wait().map_err(|e| format!("wait: {e}"))?;
            let elapsed = start.elapsed();
            crate::spawn::check(status, "the command")?;
            Ok((elapsed, child))
        }
        Style::Relay => {
            let (stdin_read, stdin_write) = pipe()?;
            let (stdout_read, stdout_write) = pipe()?;
            let start = Instant::now();
            let mut child =
                launch(stdin_read.as_raw_fd(), stdout_write.as_raw_fd()).map_err(|e| format!("spawn: {e}"))?;
            drop((stdin_read, stdout_write));
            read_greeting(stdout_read.as_raw_fd())?;
            drop(stdin_write);
            let status = child.wait().map_err(|e| format!("wait: {e}"))?;
            let elapsed = start.elapsed();
            drop(stdout_read);
            crate::spawn::check(status, "the command")?;
            Ok((elapsed, child))
        }
    }
}

pub fn pipe() -> Result<(OwnedFd, OwnedFd), String> {
    let mut fds = [0; 2];
    // SAFETY: fds is a valid two-element out-array.
    if unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) } != 0 {
        return Err(format!("pipe2: {}", std::io::Error::last_os_error()));
    }
    // SAFETY: both fds were just created and are owned by nothing else.
    Ok(unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) })
}

/// Waits (bounded) until `fd` is readable.
pub fn wait_readable(fd: RawFd) -> Result<(), String> {
    let mut pollfd = libc::pollfd { fd, events: libc::POLLIN, revents: 0 };
    loop {
        // SAFETY: one valid pollfd.
        match unsafe { libc::poll(&mut pollfd, 1, READ_LIMIT_MS) } {
            1 => return Ok(()),
            0 => return Err(format!("nothing to read after {READ_LIMIT_MS} ms")),
            _ if std::io::Error::last_os_error().kind() == std::io::ErrorKind::Interrupted => {}
            _ => return Err(format!("poll: {}", std::io::Error::last_os_error())),
        }
    }
}

/// Reads exactly GREETING from `fd`.
fn read_greeting(fd: RawFd) -> Result<(), String> {
    let mut got = [0u8; GREETING.len()];
    let mut have = 0;
    // SAFETY: borrowed for the reads below only; ManuallyDrop keeps the caller's fd open.
    let mut file = std::mem::ManuallyDrop::new(unsafe { std::fs::File::from_raw_fd(fd) });
    while have < got.len() {
        wait_readable(fd)?;
        match file.read(&mut got[have..]) {
            Ok(0) => return Err(format!("end of stream after {have} bytes of the greeting")),
            Ok(n) => have += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(format!("read greeting: {e}")),
        }
    }
    if got != GREETING {
        return Err(format!("wrong greeting: {:?}", String::from_utf8_lossy(&got)));
    }
    Ok(())
}

/// Receives what OpenSSH's mm_receive_fd would: one byte, "\n", and one descriptor.
fn receive_fd(socket: &UnixStream) -> Result<OwnedFd, String> {
    wait_readable(socket.as_raw_fd())?;
    let mut received = scm_rights::receive(socket).map_err(|e| format!("recvmsg: {e}"))?;
    if received.truncated || received.other_control {
        return Err("control data truncated or not SCM_RIGHTS".into());
    }
    match (received.bytes.as_slice(), received.fds.len()) {
        ([b'\n'], 1) => Ok(received.fds.pop().expect("one fd")),
        (bytes, count) => {
            Err(format!("expected one \"\\n\" byte and one descriptor, got {bytes:?} and {count} descriptor(s)"))
        }
    }
}
