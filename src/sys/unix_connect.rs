//! AF_UNIX connects: abstract names, paths of any length, case recovery.

use core::ffi::CStr;

use rustix::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};
use rustix::fs::{AtFlags, Mode, OFlags, open, openat, statat};
use rustix::io::Errno;
use rustix::net::addr::{SocketAddrArg, SocketAddrLen, SocketAddrOpaque};
use rustix::net::{AddressFamily, SocketFlags, SocketType, connect, socket_with};
use rustix::process::fchdir;
use sockproxy::failure::Failure;
use sockproxy::fill::join;
use sockproxy::number::format_u32;
use sockproxy::unix_address::{PATH_CAPACITY, SUN_PATH_LEN, SockaddrUn, UnixAddress, split_parent};

use super::case_recovery::recover_case;
use super::cstr_until_nul;

/// `struct sockaddr_un` as bytes, aligned like the kernel's struct. Built by
/// sockproxy rather than rustix's SocketAddrUnix, whose copy into sun_path
/// keeps a bounds check (a panic path) that the compiler cannot drop.
#[repr(C, align(2))]
struct Sockaddr(SockaddrUn);

// SAFETY: the closure gets a pointer to SOCKADDR_UN_LEN initialised bytes laid
// out as `struct sockaddr_un` (see sockproxy::unix_address), valid for the
// duration of the call, and a length of at most that.
unsafe impl SocketAddrArg for Sockaddr {
    unsafe fn with_sockaddr<R>(&self, f: impl FnOnce(*const SocketAddrOpaque, SocketAddrLen) -> R) -> R {
        f(self.0.bytes.as_ptr().cast(), self.0.len as SocketAddrLen)
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
        UnixAddress::Path(path) => {
            let mut buf = [0u8; PATH_CAPACITY];
            match path.write_with_nul(&mut buf) {
                None => Err(Errno::NAMETOOLONG),
                Some(_) => connect_recovering_case(socket.as_fd(), &mut buf, path.len()),
            }
        }
    };
    match result {
        Ok(()) => Ok(socket),
        Err(errno) => Err(UnixConnectError::Connect(errno.raw_os_error())),
    }
}

/// Connects to the path in `buf[..len]` (NUL at `len`, below PATH_CAPACITY).
/// When it does not exist, retries once with the case recovered; the first
/// error stands if that finds nothing.
fn connect_recovering_case(socket: BorrowedFd<'_>, buf: &mut [u8; PATH_CAPACITY], len: usize) -> Result<(), Errno> {
    match connect_path(socket, as_cstr(buf)) {
        Err(Errno::NOENT) if recover_case(buf.get_mut(..len).unwrap_or_default()) => connect_path(socket, as_cstr(buf)),
        result => result,
    }
}

/// The string up to the first NUL in `bytes_with_nul`, which has one (see
/// UnixPath::write_with_nul).
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
    let mut dir_buf = [0u8; PATH_CAPACITY];
    // Part of a path that fits in PATH_MAX, so it fits too.
    let dir = join(&mut dir_buf, &[dir, b"\0"]).ok_or(Errno::NAMETOOLONG)?;
    let dir = open(as_cstr(dir), OFlags::PATH | OFlags::DIRECTORY | OFlags::CLOEXEC, Mode::empty())?;
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
    let mut buf = [0u8; 32];
    let mut digits = [0u8; 10];
    let fd = format_u32(file.as_raw_fd().unsigned_abs(), &mut digits);
    // At most 14 + 10 + 1 bytes: it fits.
    let proc_path = as_cstr(join(&mut buf, &[PREFIX, fd, b"\0"]).unwrap_or_default());
    match connect_to(socket, SockaddrUn::path(proc_path.to_bytes())) {
        // The socket exists (we hold it open), so ENOENT means no /proc.
        Err(Errno::NOENT) => Err(Errno::NAMETOOLONG),
        result => result,
    }
}
