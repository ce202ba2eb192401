//! AF_VSOCK connects to (CID, port).

use rustix::fd::OwnedFd;
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

/// Connects a new AF_VSOCK stream socket to `address`.
pub fn connect_vsock(address: VsockAddress) -> Result<OwnedFd, VsockProblem<'static>> {
    let socket = socket_with(AddressFamily::VSOCK, SocketType::STREAM, SocketFlags::CLOEXEC, None)
        .map_err(|errno| VsockProblem::Socket(errno.raw_os_error()))?;
    connect(&socket, &SockaddrVm(sockaddr_vm(address)))
        .map_err(|errno| VsockProblem::Connect { address, errno: errno.raw_os_error() })?;
    Ok(socket)
}
