//! AF_UNIX connects: abstract names, paths of any length, case recovery.

use core::ffi::CStr;

use rustix::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};
use rustix::fs::{AtFlags, Mode, OFlags, open, openat, statat};
use rustix::io::Errno;
use rustix::net::addr::{SocketAddrArg, SocketAddrLen, SocketAddrOpaque};
use rustix::net::{AddressFamily, SocketFlags, SocketType, connect, socket_with};
use rustix::process::fchdir;
use sockproxy::array_buf::ArrayBuf;
use sockproxy::failure::Failure;
use sockproxy::number::format_u32;
use sockproxy::unix_address::{PathBuf, SUN_PATH_LEN, SockaddrUn, UnixAddress, split_parent};

use super::case_recovery::recover_case;
use super::cstr_until_nul;

/// `struct sockaddr_un` for connect(2), which copies it byte by byte (no
/// alignment needed). Built by sockproxy rather than rustix's
/// SocketAddrUnix, whose copy into sun_path keeps a bounds check (a panic
/// path) that the compiler cannot drop.
struct Sockaddr(SockaddrUn);

// SAFETY: the closure gets a pointer to the initialised bytes of a
// `struct sockaddr_un` (see sockproxy::unix_address) and their number, at
// most its size, valid for the duration of the call.
unsafe impl SocketAddrArg for Sockaddr {
    unsafe fn with_sockaddr<R>(&self, f: impl FnOnce(*const SocketAddrOpaque, SocketAddrLen) -> R) -> R {
        let bytes = self.0.0.as_bytes();
        f(bytes.as_ptr().cast(), bytes.len() as SocketAddrLen)
    }
}

/// Connects `socket` to `address`; ENAMETOOLONG when it did not fit.
fn connect_to(socket: BorrowedFd<'_>, address: Option<SockaddrUn>) -> Result<(), Errno> {
    connect(socket, &Sockaddr(address.ok_or(Errno::NAMETOOLONG)?))
}

/// Why an AF_UNIX connect failed, for callers with messages of their own.
pub enum UnixConnectError {
    Socket(i32),
    Connect(i32),
}

/// Connects a new AF_UNIX stream socket to `address`.
pub fn connect_unix(address: UnixAddress<'_>) -> Result<OwnedFd, Failure<'_>> {
    connect_unix_raw(address).map_err(|error| match error {
        UnixConnectError::Socket(errno) => Failure::Socket { family: b"AF_UNIX", errno },
        UnixConnectError::Connect(errno) => Failure::UnixConnect { address, errno },
    })
}

/// `connect_unix` with the bare errno.
pub fn connect_unix_raw(address: UnixAddress<'_>) -> Result<OwnedFd, UnixConnectError> {
    let socket = socket_with(AddressFamily::UNIX, SocketType::STREAM, SocketFlags::CLOEXEC, None)
        .map_err(|errno| UnixConnectError::Socket(errno.raw_os_error()))?;
    let result = match address {
        UnixAddress::Abstract(name) => connect_to(socket.as_fd(), SockaddrUn::abstract_name(name)),
        UnixAddress::Path(path) => match path.with_nul() {
            None => Err(Errno::NAMETOOLONG),
            Some(mut path) => connect_recovering_case(socket.as_fd(), &mut path),
        },
    };
    match result {
        Ok(()) => Ok(socket),
        Err(errno) => Err(UnixConnectError::Connect(errno.raw_os_error())),
    }
}

/// Connects to `path` (NUL-terminated). When it does not exist, retries once
/// with the case recovered; the first error stands if that finds nothing.
fn connect_recovering_case(socket: BorrowedFd<'_>, path: &mut PathBuf) -> Result<(), Errno> {
    match connect_path(socket, as_cstr(path.as_bytes())) {
        Err(Errno::NOENT) if recover_case(path.as_bytes_mut().split_last_mut().map(|(_, p)| p).unwrap_or_default()) => {
            connect_path(socket, as_cstr(path.as_bytes()))
        }
        result => result,
    }
}

/// The string up to the first NUL in `bytes_with_nul`, which has one (see
/// UnixPath::with_nul).
fn as_cstr(bytes_with_nul: &[u8]) -> &CStr {
    cstr_until_nul(bytes_with_nul).unwrap_or(c"")
}

/// Connects to a path of any length. `sun_path` holds 107 bytes and a NUL;
/// longer paths are reached through their directory, which needs no /proc
/// (early initrds have none), or, for a final name that is itself too long,
/// through /proc/self/fd like upstream.
fn connect_path(socket: BorrowedFd<'_>, path: &CStr) -> Result<(), Errno> {
    let bytes = path.to_bytes();
    if bytes.len() < SUN_PATH_LEN {
        return connect_to(socket, SockaddrUn::path(bytes));
    }
    // The NUL follows the last `/`, so it ends up in `name`.
    let (dir, name) = split_parent(path.to_bytes_with_nul());
    // Part of a path that fits in PATH_MAX, so it fits too.
    let dir = PathBuf::from_parts(&[dir, b"\0"]).ok_or(Errno::NAMETOOLONG)?;
    let dir = open(as_cstr(dir.as_bytes()), OFlags::PATH | OFlags::DIRECTORY | OFlags::CLOEXEC, Mode::empty())?;
    let name = as_cstr(name);
    if name.to_bytes().len() < SUN_PATH_LEN {
        // Check first, so that a missing name fails before the working
        // directory moves (case recovery resolves `./` paths against it).
        statat(&dir, name, AtFlags::empty())?;
        fchdir(&dir)?;
        return connect_to(socket, SockaddrUn::path(name.to_bytes()));
    }
    connect_through_proc(socket, &openat(&dir, name, OFlags::PATH | OFlags::CLOEXEC, Mode::empty())?)
}

fn connect_through_proc(socket: BorrowedFd<'_>, file: &OwnedFd) -> Result<(), Errno> {
    const PREFIX: &[u8] = b"/proc/self/fd/";
    let mut digits = [0u8; 10];
    let fd = format_u32(file.as_raw_fd().unsigned_abs(), &mut digits);
    // At most 14 + 10 bytes: it fits.
    let proc_path = ArrayBuf::<24>::from_parts(&[PREFIX, fd]).unwrap_or_default();
    match connect_to(socket, SockaddrUn::path(proc_path.as_bytes())) {
        // The socket exists (we hold it open), so ENOENT means no /proc.
        Err(Errno::NOENT) => Err(Errno::NAMETOOLONG),
        result => result,
    }
}
