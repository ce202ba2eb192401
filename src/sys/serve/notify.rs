//! Sends READY=1 to NOTIFY_SOCKET from the server's own process (what
//! systemd's NotifyAccess=main accepts): a datagram to an AF_UNIX socket, or
//! over AF_VSOCK a datagram or a connection that carries it (a VMM's
//! vmm.notify_socket).

use rustix::fd::{AsFd, OwnedFd};
use rustix::io::Errno;
use rustix::net::addr::SocketAddrArg;
use rustix::net::{AddressFamily, SendFlags, SocketFlags, SocketType, connect, send, sendto, socket_with};

use crate::serve::notify::{NotifyAddress, READY, type_unsupported};
use crate::sys::connect::vsock::SockaddrVm;
use crate::targets::unix::SockaddrUn;
use crate::targets::vsock::sockaddr_vm;

/// Sends READY=1 to `address`; the errno when it could not.
pub fn send_ready(address: &NotifyAddress<'_>) -> Result<(), i32> {
    let unix = match *address {
        NotifyAddress::Path(path) => SockaddrUn::path(&[path]),
        NotifyAddress::Abstract(name) => SockaddrUn::abstract_name(name),
        NotifyAddress::Vsock { kind, address } => {
            return send_vsock(kind.socket_types(), &SockaddrVm(sockaddr_vm(address)));
        }
    };
    // parse_notify_socket checked the length.
    let unix = unix.ok_or(Errno::NAMETOOLONG.raw_os_error())?;
    let socket = new_socket(AddressFamily::UNIX, SocketType::DGRAM).map_err(|errno| errno.raw_os_error())?;
    sent(sendto(&socket, READY, SendFlags::NOSIGNAL, &unix))
}

fn new_socket(family: AddressFamily, kind: SocketType) -> Result<OwnedFd, Errno> {
    socket_with(family, kind, SocketFlags::CLOEXEC, None)
}

/// Tries the socket types in order; a type that AF_VSOCK lacks here gives
/// way to the next.
fn send_vsock(types: &[u32], address: &SockaddrVm) -> Result<(), i32> {
    let mut last = Errno::AFNOSUPPORT.raw_os_error();
    for &raw in types {
        let kind = SocketType::from_raw(raw);
        let socket = match new_socket(AddressFamily::VSOCK, kind) {
            Ok(socket) => socket,
            Err(errno) if type_unsupported(errno.raw_os_error()) => {
                last = errno.raw_os_error();
                continue;
            }
            Err(errno) => return Err(errno.raw_os_error()),
        };
        return if kind == SocketType::DGRAM {
            sent(sendto(&socket, READY, SendFlags::NOSIGNAL, address))
        } else {
            send_connected(socket.as_fd(), address)
        };
    }
    Err(last)
}

fn send_connected(socket: rustix::fd::BorrowedFd<'_>, address: &impl SocketAddrArg) -> Result<(), i32> {
    connect(socket, address).map_err(|errno| errno.raw_os_error())?;
    sent(send(socket, READY, SendFlags::NOSIGNAL))
}

/// The whole message went, or the errno (EIO for a short send).
fn sent(result: Result<usize, Errno>) -> Result<(), i32> {
    match result {
        Ok(n) if n == READY.len() => Ok(()),
        Ok(_) => Err(Errno::IO.raw_os_error()),
        Err(errno) => Err(errno.raw_os_error()),
    }
}
