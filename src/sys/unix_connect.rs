//! AF_UNIX connects: abstract names, paths of any length, case recovery.

use core::ffi::CStr;

use rustix::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};
use rustix::fs::{AtFlags, Mode, OFlags, open, openat, statat};
use rustix::io::Errno;
use rustix::net::{AddressFamily, SocketAddrUnix, SocketFlags, SocketType, connect, socket_with};
use rustix::process::fchdir;
use sockproxy::failure::Failure;
use sockproxy::fill::join;
use sockproxy::number::format_u32;
use sockproxy::unix_address::{PATH_CAPACITY, SUN_PATH_LEN, UnixAddress, split_parent};

use super::case_recovery::recover_case;
use super::cstr_until_nul;

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
        UnixAddress::Abstract(name) => SocketAddrUnix::new_abstract_name(name).and_then(|addr| connect(&socket, &addr)),
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
        return connect(socket, &SocketAddrUnix::new(path)?);
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
        return connect(socket, &SocketAddrUnix::new(name)?);
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
    match connect(socket, &SocketAddrUnix::new(proc_path)?) {
        // The socket exists (we hold it open), so ENOENT means no /proc.
        Err(Errno::NOENT) => Err(Errno::NAMETOOLONG),
        result => result,
    }
}
