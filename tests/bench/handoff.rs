//! One start-up as OpenSSH performs it: spawn the ProxyCommand on a socketpair (fd passing) or pipes (relay), read the greeting.

use std::io::Read;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::os::unix::net::UnixStream;
use std::time::{Duration, Instant};

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

/// Receives what OpenSSH's mm_receive_fd would: one NUL byte and one descriptor.
fn receive_fd(socket: &UnixStream) -> Result<OwnedFd, String> {
    wait_readable(socket.as_raw_fd())?;
    let mut byte = [0u8; 1];
    let mut iov = libc::iovec { iov_base: byte.as_mut_ptr().cast(), iov_len: 1 };
    let mut control = [0u64; 8];
    // SAFETY: a zeroed msghdr is valid; the pointers below outlive the call.
    let mut msg: libc::msghdr = unsafe { std::mem::zeroed() };
    msg.msg_iov = &mut iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control.as_mut_ptr().cast();
    msg.msg_controllen = std::mem::size_of_val(&control) as _;
    let n = loop {
        // SAFETY: msg describes valid buffers; MSG_CMSG_CLOEXEC keeps the fd from other children.
        let n = unsafe { libc::recvmsg(socket.as_raw_fd(), &mut msg, libc::MSG_CMSG_CLOEXEC) };
        if n >= 0 || std::io::Error::last_os_error().kind() != std::io::ErrorKind::Interrupted {
            break n;
        }
    };
    if n < 0 {
        return Err(format!("recvmsg: {}", std::io::Error::last_os_error()));
    }
    let mut fds = Vec::new();
    // SAFETY: walking the control buffer the kernel just filled, with libc's macros.
    unsafe {
        let mut cmsg = libc::CMSG_FIRSTHDR(&msg);
        while !cmsg.is_null() {
            if ((*cmsg).cmsg_level, (*cmsg).cmsg_type) == (libc::SOL_SOCKET, libc::SCM_RIGHTS) {
                let data = libc::CMSG_DATA(cmsg).cast::<i32>();
                let count = ((*cmsg).cmsg_len as usize - libc::CMSG_LEN(0) as usize) / 4;
                for i in 0..count {
                    fds.push(OwnedFd::from_raw_fd(data.add(i).read_unaligned()));
                }
            }
            cmsg = libc::CMSG_NXTHDR(&msg, cmsg);
        }
    }
    match (n, &byte, fds.len()) {
        (1, [0], 1) => Ok(fds.pop().expect("one fd")),
        _ => Err(format!(
            "expected one NUL byte and one descriptor, got {:?} and {} descriptor(s)",
            &byte[..n as usize],
            fds.len()
        )),
    }
}
