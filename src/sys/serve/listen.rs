//! Binding LISTEN addresses: the socket file's directory created, a stale
//! socket file replaced, a live one or another file refused, the file's
//! mode set as it is made, vsock that is not there yet; and at the end the
//! removal of the files this process made, and only those.

use core::ffi::CStr;

use rustix::fd::{AsFd, OwnedFd};
use rustix::fs::{FileType, Mode, lstat, mkdir, unlink};
use rustix::io::Errno;
use rustix::net::{AddressFamily, SocketFlags, SocketType, bind, connect, listen, socket_with};
use rustix::process::umask;

use crate::array_buf::ArrayBuf;
use crate::serve::listen::{Listen, ListenAddress, ListenProblem, Step, is_late};
use crate::sys::connect::vsock::SockaddrVm;
use crate::sys::cstr_until_nul;
use crate::targets::unix::{SUN_PATH_LEN, SockaddrUn};
use crate::targets::vsock::sockaddr_vm;

/// The listen backlog: the kernel caps it at net.core.somaxconn.
const BACKLOG: i32 = 4096;

/// Which file a socket file is, to remove it at the end only if it is still ours.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct FileId {
    dev: u64,
    ino: u64,
}

pub enum Outcome {
    /// Listening; `file` is the socket file it made, if any.
    Bound { socket: OwnedFd, file: Option<FileId> },
    /// AF_VSOCK is not there yet (see `is_late`): try again later.
    Late(i32),
}

/// A path of at most 107 bytes and its NUL.
type PathZ = ArrayBuf<SUN_PATH_LEN>;

fn with_nul(path: &[u8]) -> PathZ {
    // At most SUN_PATH_LEN - 1 bytes (parse_listen checks): it fits.
    ArrayBuf::from_parts(&[path, b"\0"]).unwrap_or_default()
}

fn as_cstr(path: &PathZ) -> &CStr {
    cstr_until_nul(path.as_bytes()).unwrap_or(c"")
}

fn new_socket(family: AddressFamily) -> Result<OwnedFd, Errno> {
    socket_with(family, SocketType::STREAM, SocketFlags::CLOEXEC | SocketFlags::NONBLOCK, None)
}

/// Binds and listens on `listen`; its AF_UNIX socket file gets `mode`.
pub fn bind_listen(listen: &Listen<'static>, mode: u32) -> Result<Outcome, ListenProblem<'static>> {
    let text = listen.text;
    let failed = |errno: Errno| ListenProblem::Failed { text, errno: errno.raw_os_error() };
    match listen.address {
        ListenAddress::Path(path) => bind_path(text, path, mode),
        ListenAddress::Abstract(name) => {
            let socket = new_socket(AddressFamily::UNIX).map_err(failed)?;
            let address = SockaddrUn::abstract_name(name).ok_or(ListenProblem::NameTooLong(text))?;
            bind(&socket, &address).map_err(failed)?;
            listen_on(socket, text).map(|socket| Outcome::Bound { socket, file: None })
        }
        ListenAddress::Vsock(address) => {
            let late = |step, errno: Errno| {
                let errno = errno.raw_os_error();
                if is_late(&listen.address, step, errno) {
                    Ok(Outcome::Late(errno))
                } else {
                    Err(failed_errno(text, errno))
                }
            };
            let socket = match new_socket(AddressFamily::VSOCK) {
                Ok(socket) => socket,
                Err(errno) => return late(Step::Socket, errno),
            };
            if let Err(errno) = bind(&socket, &SockaddrVm(sockaddr_vm(address))) {
                return late(Step::Bind, errno);
            }
            listen_on(socket, text).map(|socket| Outcome::Bound { socket, file: None })
        }
    }
}

fn failed_errno(text: &'static [u8], errno: i32) -> ListenProblem<'static> {
    ListenProblem::Failed { text, errno }
}

fn listen_on(socket: OwnedFd, text: &'static [u8]) -> Result<OwnedFd, ListenProblem<'static>> {
    listen(&socket, BACKLOG).map_err(|errno| failed_errno(text, errno.raw_os_error()))?;
    Ok(socket)
}

fn bind_path(text: &'static [u8], path: &'static [u8], mode: u32) -> Result<Outcome, ListenProblem<'static>> {
    let failed = |errno: Errno| failed_errno(text, errno.raw_os_error());
    create_parents(path).map_err(|errno| ListenProblem::Directory { text, errno: errno.raw_os_error() })?;
    let path_z = with_nul(path);
    let name = as_cstr(&path_z);
    match lstat(name) {
        Err(Errno::NOENT) => {}
        Err(errno) => return Err(failed(errno)),
        Ok(stat) if FileType::from_raw_mode(stat.st_mode) != FileType::Socket => {
            return Err(ListenProblem::NotSocket(text));
        }
        Ok(_) => replace_stale(text, path, name)?,
    }
    let socket = new_socket(AddressFamily::UNIX).map_err(failed)?;
    let address = SockaddrUn::path(&[path]).ok_or(ListenProblem::PathTooLong(text))?;
    // The file is made with `mode` at once: bind applies the umask.
    let old = umask(Mode::from_raw_mode(!mode & 0o777));
    let bound = bind(&socket, &address);
    umask(old);
    bound.map_err(failed)?;
    let listening = listen_on(socket, text).and_then(|socket| {
        let stat = lstat(name).map_err(failed)?;
        Ok(Outcome::Bound { socket, file: Some(FileId { dev: stat.st_dev, ino: stat.st_ino }) })
    });
    if listening.is_err() {
        let _ = unlink(name);
    }
    listening
}

/// Makes the directories above `path` (0755 before the umask) where missing.
fn create_parents(path: &[u8]) -> Result<(), Errno> {
    for (at, _) in path.iter().enumerate().skip(1).filter(|&(_, &b)| b == b'/') {
        let dir = with_nul(path.get(..at).unwrap_or_default());
        match mkdir(as_cstr(&dir), Mode::from_raw_mode(0o755)) {
            Ok(()) | Err(Errno::EXIST) => {}
            Err(errno) => return Err(errno),
        }
    }
    Ok(())
}

/// A socket file is in the way: removes it if nobody listens on it.
fn replace_stale(text: &'static [u8], path: &[u8], name: &CStr) -> Result<(), ListenProblem<'static>> {
    let failed = |errno: Errno| failed_errno(text, errno.raw_os_error());
    let probe = new_socket(AddressFamily::UNIX).map_err(failed)?;
    let address = SockaddrUn::path(&[path]).ok_or(ListenProblem::PathTooLong(text))?;
    match connect(probe.as_fd(), &address) {
        // Someone accepts there (EAGAIN: with a full backlog).
        Ok(()) | Err(Errno::AGAIN) => Err(ListenProblem::InUse(text)),
        Err(Errno::CONNREFUSED) => unlink(name).map_err(failed),
        Err(errno) => Err(failed(errno)),
    }
}

/// Removes the socket file at `path` if it is still the one this process made.
pub fn remove_file(path: &[u8], file: FileId) {
    let path_z = with_nul(path);
    let name = as_cstr(&path_z);
    if lstat(name).is_ok_and(|stat| FileId { dev: stat.st_dev, ino: stat.st_ino } == file) {
        let _ = unlink(name);
    }
}
