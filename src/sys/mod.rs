//! The binary's syscall layer: everything that touches the kernel.

pub mod args;
pub mod case_recovery;
pub mod handoff;
pub mod own_path;
pub mod stdio;
pub mod unix_connect;
pub mod vsock_connect;
pub mod vsock_mux;

use core::ffi::c_int;

use rustix::io::Errno;
use rustix::net::{AddressFamily, SocketFlags, SocketType, socket_with};
use rustix::fd::OwnedFd;
use sockproxy::failure::Failure;

unsafe extern "C" {
    fn _exit(status: c_int) -> !;
}

/// Ends the process at once, without running exit handlers.
pub fn exit_now(status: c_int) -> ! {
    // SAFETY: _exit takes any status and never returns.
    unsafe { _exit(status) }
}

/// A close-on-exec stream socket of `family`; `name` is for the message.
pub fn stream_socket(family: AddressFamily, name: &'static [u8]) -> Result<OwnedFd, Failure<'static>> {
    socket_with(family, SocketType::STREAM, SocketFlags::CLOEXEC, None)
        .map_err(|errno: Errno| Failure::Socket { family: name, errno: errno.raw_os_error() })
}
