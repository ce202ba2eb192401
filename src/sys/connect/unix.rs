//! AF_UNIX connects: abstract names, paths of any length, case recovery.

use core::ffi::CStr;
use core::time::Duration;

use linux_raw_sys::general::{S_IFMT, S_IFSOCK};
use rustix::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};
use rustix::fs::{AtFlags, CWD, Mode, OFlags, open, openat, statat};
use rustix::io::Errno;
use rustix::net::addr::{SocketAddrArg, SocketAddrLen, SocketAddrOpaque};
use rustix::net::sockopt::{Timeout, set_socket_timeout};
use rustix::net::{AddressFamily, SocketFlags, SocketType, connect, socket_with};
use rustix::process::fchdir;

use crate::number::format_u32;
use crate::sys::connect::case::recover_case;
use crate::sys::cstr_until_nul;
use crate::targets::unix::{PathBuf, SUN_PATH_LEN, SockaddrUn, UnixAddress, UnixPath, UnixProblem, split_parent};

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

/// Connects `socket` to `address`; ENAMETOOLONG when it did not fit. A
/// signal (Ctrl-Z, then fg) that cuts short a wait bounded by SO_SNDTIMEO
/// gives EINTR, not a restart: the connect is made again.
fn connect_to(socket: BorrowedFd<'_>, address: Option<SockaddrUn>) -> Result<(), Errno> {
    let address = address.ok_or(Errno::NAMETOOLONG)?;
    loop {
        match connect(socket, &address) {
            Err(Errno::INTR) => {}
            result => return result,
        }
    }
}

/// Connects a new AF_UNIX stream socket to `address`.
pub fn connect_unix(address: UnixAddress<'_>) -> Result<OwnedFd, UnixProblem<'_>> {
    let socket = new_socket().map_err(UnixProblem::Socket)?;
    let errno = match connect_socket(socket.as_fd(), address) {
        Ok(()) => return Ok(socket),
        Err(errno) => errno,
    };
    match (errno, not_socket(address, errno)) {
        (_, Some(mode)) => Err(UnixProblem::NotSocket { address, mode }),
        (errno, None) => Err(UnixProblem::Connect { address, errno: errno.raw_os_error() }),
    }
}

/// The file type bits of the path of `address` when it exists and is no
/// socket: connect refuses such a path with ECONNREFUSED, as it refuses a
/// socket nobody listens on (yet). Out of line: it holds a path buffer.
#[inline(never)]
fn not_socket(address: UnixAddress<'_>, errno: Errno) -> Option<u32> {
    let (UnixAddress::Path(path), Errno::CONNREFUSED) = (address, errno) else {
        return None;
    };
    let mut buf = PathBuf::new();
    path.write_with_nul(&mut buf)?;
    let mode = statat(CWD, as_cstr(buf.as_bytes()), AtFlags::empty()).ok()?.st_mode & S_IFMT;
    (mode != S_IFSOCK).then_some(mode)
}

/// `connect_unix` for callers whose messages name the socket themselves:
/// the errno alone. With `timeout`, a listener whose backlog is full is
/// waited for that long at most (connect waits for room as long as
/// SO_SNDTIMEO says), then EAGAIN.
pub fn connect_unix_errno(address: UnixAddress<'_>, timeout: Option<Duration>) -> Result<OwnedFd, i32> {
    let socket = new_socket()?;
    if timeout.is_some() {
        set_socket_timeout(&socket, Timeout::Send, timeout).map_err(|errno| errno.raw_os_error())?;
    }
    connect_socket(socket.as_fd(), address).map_err(|errno| errno.raw_os_error())?;
    Ok(socket)
}

fn new_socket() -> Result<OwnedFd, i32> {
    socket_with(AddressFamily::UNIX, SocketType::STREAM, SocketFlags::CLOEXEC, None)
        .map_err(|errno| errno.raw_os_error())
}

fn connect_socket(socket: BorrowedFd<'_>, address: UnixAddress<'_>) -> Result<(), Errno> {
    match address {
        UnixAddress::Abstract(name) => connect_to(socket, SockaddrUn::abstract_name(name)),
        UnixAddress::Path(path) => match path.sockaddr() {
            // Fits in sun_path: the common case needs no path buffer.
            Some(short) => match connect_to(socket, Some(short)) {
                Err(Errno::NOENT) => connect_long(socket, path),
                result => result,
            },
            None => connect_long(socket, path),
        },
    }
}

/// A path longer than sun_path, or one not found as written: the full path
/// in a buffer (out of line, so that a short path's frame does not hold
/// it), with its case recovered if it does not exist as written.
#[inline(never)]
fn connect_long(socket: BorrowedFd<'_>, path: UnixPath<'_>) -> Result<(), Errno> {
    let mut buf = PathBuf::new();
    path.write_with_nul(&mut buf).ok_or(Errno::NAMETOOLONG)?;
    match connect_path(socket, as_cstr(buf.as_bytes())) {
        // The NUL is not part of what may be recovered.
        Err(Errno::NOENT) if recover_case(buf.as_bytes_mut().split_last_mut().map(|(_, p)| p).unwrap_or_default()) => {
            connect_path(socket, as_cstr(buf.as_bytes()))
        }
        result => result,
    }
}

/// The string up to the first NUL in `bytes_with_nul`, which has one (see
/// UnixPath::with_nul).
fn as_cstr(bytes_with_nul: &[u8]) -> &CStr {
    cstr_until_nul(bytes_with_nul).unwrap_or(c"")
}

/// Connects to a path of any length. `sun_path` holds 107 bytes and a NUL,
/// and there is no connectat(2): a longer path is reached from a descriptor
/// of its directory, through /proc/self/fd/N/NAME where there is /proc, so
/// that the working directory never moves. Early initrds have no /proc, and
/// then the working directory is the only place the kernel resolves a
/// connect's path from: the proxy moves into the directory for the connect
/// alone and back (see `connect_inside`). A final name that is itself too
/// long is reached through /proc/self/fd like upstream, or not at all.
fn connect_path(socket: BorrowedFd<'_>, path: &CStr) -> Result<(), Errno> {
    let bytes = path.to_bytes();
    if bytes.len() < SUN_PATH_LEN {
        return connect_to(socket, SockaddrUn::path(&[bytes]));
    }
    // The NUL follows the last `/`, so it ends up in `name`.
    let (dir, name) = split_parent(path.to_bytes_with_nul());
    // Part of a path that fits in PATH_MAX, so it fits too.
    let mut dir_path = PathBuf::new();
    dir_path.push_parts(&[dir, b"\0"]).ok_or(Errno::NAMETOOLONG)?;
    let dir = open(as_cstr(dir_path.as_bytes()), OFlags::PATH | OFlags::DIRECTORY | OFlags::CLOEXEC, Mode::empty())?;
    let name = as_cstr(name);
    if name.to_bytes().len() >= SUN_PATH_LEN {
        return connect_through_proc(socket, &openat(&dir, name, OFlags::PATH | OFlags::CLOEXEC, Mode::empty())?, b"");
    }
    // Check first: ENOENT from /proc below then means there is no /proc.
    statat(&dir, name, AtFlags::empty())?;
    match connect_through_proc(socket, &dir, name.to_bytes()) {
        Err(Errno::NAMETOOLONG) => connect_inside(socket, &dir, name),
        result => result,
    }
}

/// Connects to `/proc/self/fd/FD`, or `/proc/self/fd/FD/NAME` for a `name`;
/// ENAMETOOLONG when that does not fit in sun_path or there is no /proc.
fn connect_through_proc(socket: BorrowedFd<'_>, fd: &OwnedFd, name: &[u8]) -> Result<(), Errno> {
    const PREFIX: &[u8] = b"/proc/self/fd/";
    let mut digits = [0u8; 10];
    let fd = format_u32(fd.as_raw_fd().unsigned_abs(), &mut digits);
    let slash: &[u8] = if name.is_empty() { b"" } else { b"/" };
    match connect_to(socket, SockaddrUn::path(&[PREFIX, fd, slash, name])) {
        // The file exists (we hold it or checked it), so ENOENT means no /proc.
        Err(Errno::NOENT) => Err(Errno::NAMETOOLONG),
        result => result,
    }
}

/// Connects to `name` in `dir` from inside it: into the directory for the
/// one connect, then back through a descriptor of the working directory we
/// came from, whatever the connect gave, so that relative paths (a later
/// `--wait` attempt, machined's runtime dir) resolve as they did before.
/// When going back fails, so does the attempt.
fn connect_inside(socket: BorrowedFd<'_>, dir: &OwnedFd, name: &CStr) -> Result<(), Errno> {
    let came_from = open(c".", OFlags::PATH | OFlags::DIRECTORY | OFlags::CLOEXEC, Mode::empty())?;
    fchdir(dir)?;
    let connected = connect_to(socket, SockaddrUn::path(&[name.to_bytes()]));
    fchdir(&came_from).and(connected)
}
