//! Hands the connected socket to ssh: one "\n" plus SCM_RIGHTS on stdout,
//! then, in auto mode, learns from stdin whether the client took it.

use core::ffi::c_int;
use core::ptr::null_mut;

use linux_raw_sys::general::iovec;
use linux_raw_sys::net::{MSG_NOSIGNAL, msghdr};
use rustix::event::{PollFd, PollFlags, poll};
use rustix::fd::{AsRawFd, BorrowedFd, OwnedFd};
use rustix::io::{Errno, read};

use crate::handoff::{CMSG_SPACE_ONE_FD, HandoffProblem, scm_rights};
use crate::sys::rt::syscall;
use crate::sys::stdio::wait_for_room;

const EINTR: c_int = linux_raw_sys::errno::EINTR as c_int;
const EAGAIN: c_int = linux_raw_sys::errno::EAGAIN as c_int;

/// Sends `socket` over `stdout` with one byte, "\n". OpenSSH reads one byte
/// (any value) and one descriptor. A client that cannot take descriptors
/// (libssh) reads the byte as an empty line before the server's banner, and
/// the kernel drops the descriptor ("\0" would spoil libssh's banner line;
/// a second byte would be left unread by OpenSSH, and its close then reads
/// as ECONNRESET here). MSG_NOSIGNAL: a peer that went away is an error, not SIGPIPE.
/// EINTR is tried again; EAGAIN, from a non-blocking stdout that is full,
/// waits for room first (see `wait_for_room`); a blocking one blocks until
/// ssh reads.
pub fn send_fd(stdout: BorrowedFd<'_>, socket: &OwnedFd) -> Result<(), HandoffProblem> {
    let mut payload = [b'\n'];
    let mut iov = iovec { iov_base: payload.as_mut_ptr().cast(), iov_len: payload.len() as _ };
    let mut control = scm_rights(socket.as_raw_fd());
    let msg = msghdr {
        msg_name: null_mut(),
        msg_namelen: 0,
        // linux-raw-sys declares msghdr's iovec as an opaque twin of this one.
        msg_iov: (&raw mut iov).cast(),
        msg_iovlen: 1,
        msg_control: control.0.as_mut_ptr().cast(),
        msg_controllen: CMSG_SPACE_ONE_FD,
        msg_flags: 0,
    };
    loop {
        // SAFETY: `msg` points at one valid iovec and CMSG_SPACE_ONE_FD
        // initialised control bytes, all alive across the call.
        let errno = match unsafe { syscall::sendmsg(stdout, &msg, MSG_NOSIGNAL) } {
            Ok(1) => return Ok(()),
            Ok(_) => linux_raw_sys::errno::EIO as c_int,
            Err(errno) => errno,
        };
        if errno == EAGAIN {
            wait_for_room(stdout).map_err(|errno| HandoffProblem::Send(errno.raw_os_error()))?;
        } else if errno != EINTR {
            return Err(HandoffProblem::Send(errno));
        }
    }
}

/// After `send_fd` in auto mode: waits for the client's move on `stdin`.
/// OpenSSH closes its end once it has the descriptor (before it waits for
/// us): end of stream, or ECONNRESET if it left bytes unread, and 0 is
/// returned. A client that cannot take it writes its banner instead (libssh
/// always writes first): those bytes are read into `buf`, their count
/// returned, for the relay to send on. No timeout: the client's end is the
/// bound. Nothing is read from the target here: with OpenSSH it is ssh's.
pub fn await_client(stdin: BorrowedFd<'_>, buf: &mut [u8]) -> Result<usize, HandoffProblem> {
    let mut fds = [PollFd::from_borrowed_fd(stdin, PollFlags::IN)];
    loop {
        // Only for a non-blocking stdin; a blocking one would wait in read.
        match poll(&mut fds, None) {
            Ok(_) | Err(Errno::INTR) => {}
            Err(errno) => return Err(HandoffProblem::Await(errno.raw_os_error())),
        }
        match read(stdin, &mut *buf) {
            Ok(bytes) => return Ok(bytes),
            Err(Errno::CONNRESET) => return Ok(0),
            Err(Errno::AGAIN | Errno::INTR) => {}
            Err(errno) => return Err(HandoffProblem::Await(errno.raw_os_error())),
        }
    }
}
