//! AF_VSOCK connects to (CID, port).

use rustix::fd::OwnedFd;
use rustix::io::Errno;
use rustix::net::addr::{SocketAddrArg, SocketAddrLen, SocketAddrOpaque};
use rustix::net::{AddressFamily, SocketFlags, SocketType, connect, socket_with};

use crate::targets::vsock::{SOCKADDR_VM_LEN, VsockAddress, VsockProblem, sockaddr_vm};

/// `struct sockaddr_vm` as bytes, aligned like the kernel's struct (also
/// what ssh-sockserve binds and notifies).
#[repr(C, align(4))]
pub struct SockaddrVm(pub [u8; SOCKADDR_VM_LEN]);

// SAFETY: the closure gets a pointer to SOCKADDR_VM_LEN initialised bytes laid
// out as `struct sockaddr_vm` (see targets/vsock.rs), valid for the
// duration of the call, and that length.
unsafe impl SocketAddrArg for SockaddrVm {
    unsafe fn with_sockaddr<R>(&self, f: impl FnOnce(*const SocketAddrOpaque, SocketAddrLen) -> R) -> R {
        f(self.0.as_ptr().cast(), SOCKADDR_VM_LEN as SocketAddrLen)
    }
}

/// Connects a new AF_VSOCK stream socket to `address`. Its connect waits
/// with a timeout, so a signal (Ctrl-Z, then fg) ends the wait with EINTR
/// instead of restarting it: the connect is made again, on a new socket
/// (what the interrupted one was left as is the kernel's business, and
/// connecting such a socket again has had kernel bugs).
#[inline(never)]
pub fn connect_vsock(address: VsockAddress) -> Result<OwnedFd, VsockProblem<'static>> {
    loop {
        let socket = socket_with(AddressFamily::VSOCK, SocketType::STREAM, SocketFlags::CLOEXEC, None)
            .map_err(|errno| VsockProblem::Socket(errno.raw_os_error()))?;
        match connect(&socket, &SockaddrVm(sockaddr_vm(address))) {
            Ok(()) => return Ok(socket),
            Err(Errno::INTR) => {}
            Err(errno) => return Err(VsockProblem::Connect { address, errno: errno.raw_os_error() }),
        }
    }
}
