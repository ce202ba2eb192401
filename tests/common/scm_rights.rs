//! Receiving as OpenSSH's mm_receive_fd does: one data byte and whatever descriptors arrive with it in SCM_RIGHTS.

use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::net::UnixStream;

/// What one recvmsg brought, for each caller to judge its own way.
pub struct Received {
    /// The data byte, or nothing at end of stream.
    pub bytes: Vec<u8>,
    pub fds: Vec<OwnedFd>,
    /// The control buffer was too small (MSG_CTRUNC): descriptors were lost.
    pub truncated: bool,
    /// A control message that is not SCM_RIGHTS arrived.
    pub other_control: bool,
}

/// One recvmsg of one byte with room for 16 descriptors (so that a sender of
/// more than one is caught), retried on EINTR. Descriptors arrive CLOEXEC.
pub fn receive(socket: &UnixStream) -> std::io::Result<Received> {
    let mut byte = [0u8; 1];
    let mut iov = libc::iovec { iov_base: byte.as_mut_ptr().cast(), iov_len: 1 };
    let mut control = [0u64; 16];
    // SAFETY: a zeroed msghdr is valid; the pointers below outlive the call.
    let mut msg: libc::msghdr = unsafe { std::mem::zeroed() };
    msg.msg_iov = &mut iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control.as_mut_ptr().cast();
    msg.msg_controllen = std::mem::size_of_val(&control) as _;
    let n = loop {
        // SAFETY: msg describes valid buffers; MSG_CMSG_CLOEXEC keeps the fd from our other children.
        let n = unsafe { libc::recvmsg(socket.as_raw_fd(), &mut msg, libc::MSG_CMSG_CLOEXEC) };
        if n >= 0 {
            break n as usize;
        }
        let error = std::io::Error::last_os_error();
        if error.kind() != std::io::ErrorKind::Interrupted {
            return Err(error);
        }
    };
    let mut received = Received {
        bytes: byte[..n].to_vec(),
        fds: Vec::new(),
        truncated: msg.msg_flags & libc::MSG_CTRUNC != 0,
        other_control: false,
    };
    // SAFETY: walking the control buffer the kernel just filled, with libc's macros.
    unsafe {
        let mut cmsg = libc::CMSG_FIRSTHDR(&msg);
        while !cmsg.is_null() {
            if ((*cmsg).cmsg_level, (*cmsg).cmsg_type) == (libc::SOL_SOCKET, libc::SCM_RIGHTS) {
                let data = libc::CMSG_DATA(cmsg).cast::<i32>();
                let count = ((*cmsg).cmsg_len as usize - libc::CMSG_LEN(0) as usize) / 4;
                for i in 0..count {
                    received.fds.push(OwnedFd::from_raw_fd(data.add(i).read_unaligned()));
                }
            } else {
                received.other_control = true;
            }
            cmsg = libc::CMSG_NXTHDR(&msg, cmsg);
        }
    }
    Ok(received)
}
