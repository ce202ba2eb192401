//! Hands the connected socket to ssh: one NUL byte plus SCM_RIGHTS on stdout.

use core::ffi::c_int;
use core::ptr::null_mut;

use linux_raw_sys::general::iovec;
use linux_raw_sys::net::{MSG_NOSIGNAL, msghdr};
use rustix::fd::{AsRawFd, BorrowedFd, OwnedFd};

use crate::handoff::{CMSG_SPACE_ONE_FD, HandoffProblem, scm_rights};
use crate::sys::rt::syscall;
use crate::sys::stdio::wait_for_room;

const EINTR: c_int = linux_raw_sys::errno::EINTR as c_int;
const EAGAIN: c_int = linux_raw_sys::errno::EAGAIN as c_int;

/// Sends `socket` over `stdout`. OpenSSH reads one byte (any value) and one
/// descriptor. MSG_NOSIGNAL: a peer that went away is an error, not SIGPIPE.
/// EINTR is tried again; EAGAIN, from a non-blocking stdout that is full,
/// waits for room first (see `wait_for_room`); a blocking one blocks until
/// ssh reads.
pub fn send_fd(stdout: BorrowedFd<'_>, socket: &OwnedFd) -> Result<(), HandoffProblem> {
    let mut payload = [0u8; 1];
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
            wait_for_room(stdout).map_err(|errno| HandoffProblem(errno.raw_os_error()))?;
        } else if errno != EINTR {
            return Err(HandoffProblem(errno));
        }
    }
}
