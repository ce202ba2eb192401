//! Standard descriptors: the checks before a hand-off, and the few writes we make.

use rustix::event::{PollFd, PollFlags, Timespec, poll};
use rustix::fd::BorrowedFd;
use rustix::fs::fstat;
use rustix::io::{Errno, fcntl_getfd, write};
use rustix::net::{AddressFamily, sockopt};

use crate::cli::Mode;
use crate::failure::Failure;
use crate::line::Line;
use crate::notice::Notice;
use crate::stdio::{STDERR, STDIN, STDOUT, StdioProblem};

fn std_fd(fd: u8) -> BorrowedFd<'static> {
    // SAFETY: only used on fds 0-2, which `choose_delivery` proves open
    // before anything else uses them. Before that proof they reach only poll
    // (closed fds come back as POLLNVAL) and write (fails with EBADF).
    unsafe { BorrowedFd::borrow_raw(i32::from(fd)) }
}

/// How the connected socket reaches ssh.
pub enum Delivery {
    /// SCM_RIGHTS over stdout, an AF_UNIX socket (`--fdpass`).
    FdPass(BorrowedFd<'static>),
    /// Auto mode, stdin and stdout one AF_UNIX socket (a socketpair end, as
    /// OpenSSH and libssh give it): SCM_RIGHTS, then relaying if the client
    /// writes on stdin instead of closing (libssh cannot take it).
    Offer { stdin: BorrowedFd<'static>, stdout: BorrowedFd<'static> },
    /// Bytes copied between stdin/stdout and the socket.
    Relay { stdin: BorrowedFd<'static>, stdout: BorrowedFd<'static> },
}

/// Checks that fds 0, 1 and 2 are open, so that no socket we create lands on
/// them (one poll covers all three), and picks the delivery: an offer of the
/// descriptor when stdin and stdout are one AF_UNIX socket, fd passing when
/// only stdout is one (or with `--fdpass`), relaying otherwise.
pub fn choose_delivery(mode: Mode) -> Result<Delivery, StdioProblem> {
    let mut fds = [STDIN, STDOUT, STDERR].map(|fd| PollFd::from_borrowed_fd(std_fd(fd), PollFlags::empty()));
    loop {
        match poll(&mut fds, Some(&Timespec { tv_sec: 0, tv_nsec: 0 })) {
            Err(Errno::INTR) => continue,
            Err(errno) => return Err(StdioProblem::StdoutCheck(errno.raw_os_error())),
            Ok(_) => break,
        }
    }
    for (fd, polled) in [STDIN, STDOUT, STDERR].into_iter().zip(&fds) {
        if polled.revents().contains(PollFlags::NVAL) {
            // poll sees no file behind an O_PATH descriptor either; fcntl does.
            return Err(match fcntl_getfd(std_fd(fd)) {
                Ok(_) => StdioProblem::PathOnly(fd),
                Err(_) => StdioProblem::Closed(fd),
            });
        }
    }
    let stdout = std_fd(STDOUT);
    let relay = Delivery::Relay { stdin: std_fd(STDIN), stdout };
    if mode == Mode::Relay {
        return Ok(relay);
    }
    match (sockopt::socket_domain(stdout), mode) {
        (Ok(AddressFamily::UNIX), Mode::FdPass) => Ok(Delivery::FdPass(stdout)),
        (Ok(AddressFamily::UNIX), _) if is_same_file(std_fd(STDIN), stdout) => {
            Ok(Delivery::Offer { stdin: std_fd(STDIN), stdout })
        }
        // Another stdin (a terminal, a pipe) may never end: hand off and exit.
        (Ok(AddressFamily::UNIX), _) => Ok(Delivery::FdPass(stdout)),
        (Ok(_) | Err(Errno::NOTSOCK), Mode::FdPass) => Err(StdioProblem::StdoutNotUnixSocket),
        (Ok(_) | Err(Errno::NOTSOCK), _) => Ok(relay),
        (Err(errno), _) => Err(StdioProblem::StdoutCheck(errno.raw_os_error())),
    }
}

/// True when `a` and `b` are the same open file (socket).
fn is_same_file(a: BorrowedFd<'_>, b: BorrowedFd<'_>) -> bool {
    match (fstat(a), fstat(b)) {
        (Ok(a), Ok(b)) => a.st_dev == b.st_dev && a.st_ino == b.st_ino,
        _ => false,
    }
}

/// How long a non-blocking stdout or stderr may stay full: its reader (ssh,
/// a terminal) is there and drains it, if slowly.
const ROOM_TIMEOUT: Timespec = Timespec { tv_sec: 5, tv_nsec: 0 };

/// Waits until `fd`, a non-blocking descriptor found full (EAGAIN), has
/// room again; EAGAIN when it stays full for ROOM_TIMEOUT.
#[inline(never)]
pub fn wait_for_room(fd: BorrowedFd<'_>) -> Result<(), Errno> {
    let mut fds = [PollFd::from_borrowed_fd(fd, PollFlags::OUT)];
    loop {
        match poll(&mut fds, Some(&ROOM_TIMEOUT)) {
            Ok(0) => return Err(Errno::AGAIN),
            Ok(_) => return Ok(()),
            Err(Errno::INTR) => {}
            Err(errno) => return Err(errno),
        }
    }
}

fn write_all(fd: u8, mut bytes: &[u8]) -> Result<(), Errno> {
    while !bytes.is_empty() {
        match write(std_fd(fd), bytes) {
            Ok(0) => return Err(Errno::IO),
            Ok(written) => bytes = bytes.get(written..).unwrap_or_default(),
            Err(Errno::INTR) => {}
            Err(Errno::AGAIN) => wait_for_room(std_fd(fd))?,
            Err(errno) => return Err(errno),
        }
    }
    Ok(())
}

/// Writes text that a person asked for (`--help`, `--version`) to stdout.
pub fn print(text: &[u8]) -> Result<(), StdioProblem> {
    write_all(STDOUT, text).map_err(|errno| StdioProblem::StdoutWrite(errno.raw_os_error()))
}

/// Writes the failure's one line to stderr. With stderr closed there is no
/// one to tell (nor with an O_PATH stderr, whose write fails); the exit
/// status still says it.
#[inline(never)]
pub fn report(failure: &Failure<'_>) {
    if matches!(*failure, Failure::Stdio(StdioProblem::Closed(STDERR))) {
        return;
    }
    let mut line = Line::default();
    failure.describe(&mut line);
    let _ = write_all(STDERR, line.finish());
}

/// Writes a `--verbose` notice to stderr.
pub fn notify(notice: &Notice<'_>) {
    let mut line = Line::default();
    notice.describe(&mut line);
    let _ = write_all(STDERR, line.finish());
}

/// Writes the line that `describe` words to stderr: ssh-sockserve's notes,
/// and its children's, which share its stderr.
pub fn say(describe: impl FnOnce(&mut Line)) {
    let mut line = Line::default();
    describe(&mut line);
    let _ = write_all(STDERR, line.finish());
}
