//! AF_UNIX connects: abstract names, paths of any length, case recovery.

use core::ffi::CStr;

use rustix::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};
use rustix::fs::{AtFlags, Mode, OFlags, open, openat, statat};
use rustix::io::Errno;
use rustix::net::addr::{SocketAddrArg, SocketAddrLen, SocketAddrOpaque};
use rustix::net::{AddressFamily, SocketFlags, SocketType, connect, socket_with};
use rustix::process::fchdir;

use crate::array_buf::ArrayBuf;
use crate::number::format_u32;
use crate::sys::connect::case::recover_case;
use crate::sys::cstr_until_nul;
use crate::targets::unix::{PathBuf, SUN_PATH_LEN, SockaddrUn, UnixAddress, UnixProblem, split_parent};

// SAFETY: the closure gets a pointer to the initialised bytes of a
// `struct sockaddr_un` (see targets/unix.rs) and their number, at most its
// size, valid for the duration of the call. connect(2) copies them byte by
// byte: no alignment needed. (Built by the library rather than by rustix's
// SocketAddrUnix, whose copy into sun_path keeps a bounds check, a panic
// path, that the compiler cannot drop.)
unsafe impl SocketAddrArg for SockaddrUn {
    unsafe fn with_sockaddr<R>(&self, f: impl FnOnce(*const SocketAddrOpaque, SocketAddrLen) -> R) -> R {
        let bytes = self.0.as_bytes();
        f(bytes.as_ptr().cast(), bytes.len() as SocketAddrLen)
    }
}

/// Connects `socket` to `address`; ENAMETOOLONG when it did not fit.
fn connect_to(socket: BorrowedFd<'_>, address: Option<SockaddrUn>) -> Result<(), Errno> {
    connect(socket, &address.ok_or(Errno::NAMETOOLONG)?)
}

/// Connects a new AF_UNIX stream socket to `address`.
pub fn connect_unix(address: UnixAddress<'_>) -> Result<OwnedFd, UnixProblem<'_>> {
    let socket = new_socket().map_err(UnixProblem::Socket)?;
    connect_socket(socket.as_fd(), address).map_err(|errno| UnixProblem::Connect { address, errno })?;
    Ok(socket)
}

/// `connect_unix` for callers whose messages name the socket themselves:
/// the errno alone.
pub fn connect_unix_errno(address: UnixAddress<'_>) -> Result<OwnedFd, i32> {
    let socket = new_socket()?;
    connect_socket(socket.as_fd(), address)?;
    Ok(socket)
}

fn new_socket() -> Result<OwnedFd, i32> {
    socket_with(AddressFamily::UNIX, SocketType::STREAM, SocketFlags::CLOEXEC, None)
        .map_err(|errno| errno.raw_os_error())
}

fn connect_socket(socket: BorrowedFd<'_>, address: UnixAddress<'_>) -> Result<(), i32> {
    match address {
        UnixAddress::Abstract(name) => connect_to(socket, SockaddrUn::abstract_name(name)),
        UnixAddress::Path(path) => {
            let mut buf = PathBuf::new();
            match path.write_with_nul(&mut buf) {
                None => Err(Errno::NAMETOOLONG),
                Some(()) => connect_recovering_case(socket, &mut buf),
            }
        }
    }
    .map_err(|errno| errno.raw_os_error())
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
    let mut dir_path = PathBuf::new();
    dir_path.push_parts(&[dir, b"\0"]).ok_or(Errno::NAMETOOLONG)?;
    let dir = open(as_cstr(dir_path.as_bytes()), OFlags::PATH | OFlags::DIRECTORY | OFlags::CLOEXEC, Mode::empty())?;
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
