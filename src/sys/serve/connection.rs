//! Serving a connection: accept it, start the child that runs COMMAND on
//! it (fds 0, 1 and 2 only, default signal dispositions, an empty mask, a
//! session of its own), and reap the children.

use core::ffi::c_char;

use linux_raw_sys::general::__NR_getpeername;
use rustix::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};
use rustix::io::Errno;
use rustix::net::{AddressFamily, SocketFlags, accept_with, sockopt};
use rustix::process::{WaitOptions, setsid, wait};
use rustix::stdio::{dup2_stdin, dup2_stdout};

use crate::serve::connection::{Children, DEFAULT_PATH, EXEC_FAILED, ExecProblem, Peer, try_next_directory};
use crate::sys::rt::args::env_var;
use crate::sys::rt::process::{close_from, execve, fork};
use crate::sys::rt::signal::{self, SIG_SETMASK, mask_of};
use crate::sys::rt::syscall::{exit_group, syscall4};
use crate::sys::stdio::say;
use crate::targets::unix::PathBuf;
use crate::targets::vsock::{SOCKADDR_VM_LEN, VsockAddress};

/// COMMAND as the child executes it.
pub struct Command {
    /// COMMAND and its ARGs: the tail of the server's own argv, null-terminated.
    pub argv: *const *const c_char,
    /// The server's environment, NOTIFY_SOCKET taken out.
    pub envp: *const *const c_char,
    /// COMMAND as written, for PATH and for messages.
    pub name: &'static [u8],
    /// The signals the server found ignored: the child sets them back to SIG_DFL.
    pub ignored: u64,
}

/// What one accept gave.
pub enum Accepted {
    Connection(OwnedFd, Peer),
    /// Nothing is waiting any more.
    Empty,
    /// The connection went away before it was taken, or a signal came: go on.
    Again,
    /// It failed for want of something (EMFILE, ENFILE, ENOBUFS...): pause.
    Failed(i32),
}

/// Takes a waiting connection (blocking, CLOEXEC) off `listener`; its peer
/// only when `verbose` asks for it.
pub fn accept(listener: BorrowedFd<'_>, verbose: bool) -> Accepted {
    let connection = match accept_with(listener, SocketFlags::CLOEXEC) {
        Ok(connection) => connection,
        Err(Errno::AGAIN) => return Accepted::Empty,
        Err(Errno::INTR | Errno::CONNABORTED) => return Accepted::Again,
        Err(errno) => return Accepted::Failed(errno.raw_os_error()),
    };
    let peer = match verbose.then(|| sockopt::socket_domain(&connection)) {
        Some(Ok(AddressFamily::VSOCK)) => vsock_peer(connection.as_fd()).map_or(Peer::Unknown, Peer::Vsock),
        Some(Ok(_)) => match sockopt::socket_peercred(&connection) {
            Ok(cred) => {
                Peer::Unix { pid: cred.pid.as_raw_pid().unsigned_abs(), uid: cred.uid.as_raw(), gid: cred.gid.as_raw() }
            }
            Err(_) => Peer::Unknown,
        },
        _ => Peer::Unknown,
    };
    Accepted::Connection(connection, peer)
}

/// The peer of an AF_VSOCK connection: getpeername(2) made directly into a
/// sockaddr_vm, as rustix's SocketAddrAny keeps length checks (panic paths)
/// that the compiler cannot drop.
fn vsock_peer(connection: BorrowedFd<'_>) -> Option<VsockAddress> {
    let mut address = [0u32; SOCKADDR_VM_LEN / 4];
    let mut len = SOCKADDR_VM_LEN as u32;
    // SAFETY: the kernel writes at most `len` bytes into `address`, and the
    // length into `len`, both alive across the call.
    let ret = unsafe {
        syscall4(
            __NR_getpeername,
            connection.as_raw_fd() as usize,
            address.as_mut_ptr() as usize,
            (&raw mut len) as usize,
            0,
        )
    };
    // sockaddr_vm: family and reserved (u16 each), port, cid (see targets/vsock.rs).
    let [_, port, cid, _] = address;
    (ret == 0 && len as usize == SOCKADDR_VM_LEN).then_some(VsockAddress { cid, port })
}

/// Starts the child that runs `command` on `connection`: its PID, or the
/// errno of the fork.
pub fn spawn(connection: &OwnedFd, command: &Command) -> Result<u32, i32> {
    match fork()? {
        0 => child(connection.as_fd(), command),
        pid => Ok(pid),
    }
}

/// In the child: the connection as stdin and stdout, nothing else but
/// stderr, a clean signal state and a session of its own; then COMMAND.
fn child(connection: BorrowedFd<'_>, command: &Command) -> ! {
    let errno = match dup2_stdin(connection).and_then(|()| dup2_stdout(connection)) {
        Ok(()) => {
            // The connection, the listeners and whatever the server inherited.
            // SAFETY: COMMAND's exec follows; nothing past stderr is used again.
            unsafe { close_from(3) };
            let _ = setsid();
            for signal in 1..=64 {
                if command.ignored & mask_of(signal) != 0 {
                    signal::set_default(signal);
                }
            }
            signal::set_mask(SIG_SETMASK, 0);
            exec(command)
        }
        Err(errno) => errno.raw_os_error(),
    };
    say(|line| ExecProblem { command: command.name, errno }.describe(line));
    exit_group(EXEC_FAILED)
}

/// Executes COMMAND, looked up in PATH as execvp does when it has no `/`;
/// returns the errno when it could not.
fn exec(command: &Command) -> i32 {
    let name = command.name;
    #[expect(clippy::manual_contains, reason = "smaller code (docs/performance.md, Size)")]
    let has_slash = name.iter().any(|&b| b == b'/');
    if has_slash || name.is_empty() {
        // SAFETY: argv[0] is COMMAND, and argv and envp are the kernel's
        // null-terminated arrays of C strings.
        return unsafe { execve(*command.argv, command.argv, command.envp) };
    }
    // SAFETY: envp is null-terminated, its strings live until exit.
    let path = unsafe { env_var(command.envp, b"PATH") }.unwrap_or(DEFAULT_PATH);
    let (mut errno, mut denied) = (Errno::NOENT.raw_os_error(), false);
    for dir in path.split(|&b| b == b':') {
        let dir: &[u8] = if dir.is_empty() { b"." } else { dir };
        let mut file = PathBuf::new();
        if file.push_parts(&[dir, b"/", name, b"\0"]).is_none() {
            continue;
        }
        // SAFETY: `file` is NUL-terminated; argv and envp as above.
        errno = unsafe { execve(file.as_bytes().as_ptr().cast(), command.argv, command.envp) };
        denied |= errno == Errno::ACCESS.raw_os_error();
        if !try_next_directory(errno) {
            return errno;
        }
    }
    if denied { Errno::ACCESS.raw_os_error() } else { errno }
}

/// Reaps every child that has exited; those that served connections free
/// their slots (a PID 1 server reaps orphans too).
pub fn reap(children: &mut Children) {
    loop {
        match wait(WaitOptions::NOHANG) {
            Ok(Some((pid, _))) => {
                children.remove(pid.as_raw_pid().unsigned_abs());
            }
            Err(Errno::INTR) => {}
            // None left that has exited, or no children at all.
            Ok(None) | Err(_) => return,
        }
    }
}
