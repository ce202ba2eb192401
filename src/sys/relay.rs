//! Relay mode, for ssh clients without fd passing: copy stdin to the socket
//! and the socket to stdout until both directions have ended. splice(2)
//! moves the bytes inside the kernel when one end of a direction is a pipe
//! (as with OpenSSH's and Paramiko's ProxyCommand); read/write otherwise.

use rustix::event::{PollFd, PollFlags, poll};
use rustix::fd::{AsFd, BorrowedFd, OwnedFd};
use rustix::fs::{FileType, OFlags, fcntl_setfl, fstat};
use rustix::io::{Errno, read, write};
use rustix::net::{SendFlags, Shutdown, send, shutdown};
use rustix::pipe::{SpliceFlags, splice};

use crate::relay::RelayProblem;

/// Most bytes one splice call may move: a pipe holds 64 KiB by default.
const SPLICE_CHUNK: usize = 1 << 20;
/// Buffer of the read/write path, one per direction.
pub const COPY_BUFFER: usize = 32 * 1024;

/// The read/write path's buffers (from sys/buffers.rs, not the stack).
pub type CopyBuffers = [[u8; COPY_BUFFER]; 2];

/// How far one direction has come.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Progress {
    Flowing,
    /// Input ended; what is still buffered goes out first.
    InputEnded,
    Done,
    /// Nobody reads stdout any more: ssh has gone, and the session with it.
    SshGone,
}

/// One direction of the relay.
struct Flow<'a> {
    from: BorrowedFd<'a>,
    to: BorrowedFd<'a>,
    /// stdin → target (else target → stdout).
    toward_target: bool,
    /// `from` or `to` is a pipe: splice.
    splice: bool,
    /// `to` is a socket: send with MSG_DONTWAIT | MSG_NOSIGNAL.
    to_socket: bool,
    /// The last move found `to` full: wait for room before moving again.
    waiting_for_room: bool,
    /// Read/write path: `buf[start..end]` is read but not yet written.
    start: usize,
    end: usize,
    progress: Progress,
}

fn file_type(fd: BorrowedFd<'_>) -> Option<FileType> {
    fstat(fd).ok().map(|stat| FileType::from_raw_mode(stat.st_mode))
}

impl<'a> Flow<'a> {
    /// `other` is the type of stdin or stdout, whichever end is not the target.
    fn new(from: BorrowedFd<'a>, to: BorrowedFd<'a>, toward_target: bool, other: Option<FileType>) -> Self {
        Self {
            from,
            to,
            toward_target,
            splice: other == Some(FileType::Fifo),
            to_socket: toward_target || other == Some(FileType::Socket),
            waiting_for_room: false,
            start: 0,
            end: 0,
            progress: Progress::Flowing,
        }
    }

    fn failure(&self, errno: Errno) -> RelayProblem {
        RelayProblem { to_target: self.toward_target, errno: errno.raw_os_error() }
    }

    /// The one descriptor this direction waits on, and for what.
    fn interest(&self) -> PollFd<'a> {
        if self.waiting_for_room || self.start < self.end {
            PollFd::from_borrowed_fd(self.to, PollFlags::OUT)
        } else {
            PollFd::from_borrowed_fd(self.from, PollFlags::IN)
        }
    }

    /// Called when `interest` is ready: moves what it can without blocking.
    fn advance(&mut self, buf: &mut [u8; COPY_BUFFER]) -> Result<(), RelayProblem> {
        if self.waiting_for_room {
            // Only a wake-up: the next poll looks at the input again, so a
            // `to` that reports room it does not have cannot spin us.
            self.waiting_for_room = false;
            return Ok(());
        }
        let moved = if self.splice { self.splice_some() } else { self.copy_some(buf) };
        match moved {
            Ok(()) => Ok(()),
            Err(errno) => self.ended_by(errno),
        }
        .map(|()| {
            if self.progress == Progress::InputEnded && self.start == self.end {
                self.finish();
            }
        })
    }

    fn splice_some(&mut self) -> Result<(), Errno> {
        match splice(self.from, None, self.to, None, SPLICE_CHUNK, SpliceFlags::NONBLOCK | SpliceFlags::MOVE) {
            Ok(0) => self.progress = Progress::InputEnded,
            Ok(_) | Err(Errno::INTR) => {}
            // `from` was ready, so it is `to` that is full.
            Err(Errno::AGAIN) => self.waiting_for_room = true,
            // Not splice-able after all (say, a file opened for append): copy.
            Err(Errno::INVAL) => self.splice = false,
            Err(errno) => return Err(errno),
        }
        Ok(())
    }

    fn copy_some(&mut self, buf: &mut [u8; COPY_BUFFER]) -> Result<(), Errno> {
        if self.start == self.end {
            match read(self.from, &mut buf[..]) {
                Ok(0) => self.progress = Progress::InputEnded,
                Ok(n) => (self.start, self.end) = (0, n),
                Err(Errno::AGAIN | Errno::INTR) => {}
                Err(errno) => return Err(errno),
            }
        }
        while self.start < self.end {
            let pending = buf.get(self.start..self.end).unwrap_or_default();
            let written = if self.to_socket {
                send(self.to, pending, SendFlags::NOSIGNAL | SendFlags::DONTWAIT)
            } else {
                write(self.to, pending)
            };
            match written {
                // At most `pending.len()`: no wrap.
                Ok(n) => self.start = self.start.wrapping_add(n),
                Err(Errno::INTR) => {}
                Err(Errno::AGAIN) => {
                    self.waiting_for_room = true;
                    break;
                }
                Err(errno) => return Err(errno),
            }
        }
        Ok(())
    }

    /// An error on either end. The target closing its socket is the end of
    /// a direction, not a failure: an AF_UNIX peer that closes with our data
    /// unread leaves ECONNRESET (on our reads too, once its last bytes are
    /// delivered) and EPIPE on our writes; what ssh still sends then has
    /// nowhere to go. EPIPE toward ssh is how every session ends when ssh
    /// exits before the server's last bytes arrive: quietly the end too.
    fn ended_by(&mut self, errno: Errno) -> Result<(), RelayProblem> {
        self.progress = match (self.toward_target, errno) {
            (true, Errno::PIPE | Errno::CONNRESET) => Progress::Done,
            (false, Errno::CONNRESET) => Progress::InputEnded,
            (false, Errno::PIPE) => Progress::SshGone,
            _ => return Err(self.failure(errno)),
        };
        (self.start, self.end) = (0, 0);
        Ok(())
    }

    /// Passes the end of input on: SHUT_WR to the target, or closing stdout.
    fn finish(&mut self) {
        self.progress = Progress::Done;
        if self.toward_target {
            let _ = shutdown(self.to, Shutdown::Write);
        } else {
            // A stdout socket may be shared with stdin (`--relay` with one
            // socketpair end as both): only SHUT_WR tells its reader.
            if self.to_socket {
                let _ = shutdown(self.to, Shutdown::Write);
            }
            // SAFETY: `to` is fd 1 here, and nothing writes to it after this.
            unsafe { rustix::io::close(1) };
        }
    }
}

/// Relays until both directions are done: stdin EOF becomes SHUT_WR on the
/// target, the target's EOF closes stdout, and each direction keeps going
/// after the other has ended.
pub fn relay(
    socket: OwnedFd,
    stdin: BorrowedFd<'_>,
    stdout: BorrowedFd<'_>,
    bufs: &mut CopyBuffers,
) -> Result<(), RelayProblem> {
    // Our own socket only: stdin and stdout may be shared with ssh.
    fcntl_setfl(&socket, OFlags::NONBLOCK)
        .map_err(|errno| RelayProblem { to_target: true, errno: errno.raw_os_error() })?;
    let target = socket.as_fd();
    let mut flows =
        [Flow::new(stdin, target, true, file_type(stdin)), Flow::new(target, stdout, false, file_type(stdout))];
    loop {
        // A finished direction is left out: a pipe at EOF reports POLLHUP forever.
        let mut fds = flows.each_ref().map(Flow::interest);
        if flows.iter().any(|flow| flow.progress == Progress::SshGone) {
            return Ok(());
        }
        let [to_target, to_ssh] = &flows;
        let (ready, first) = match (to_target.progress != Progress::Done, to_ssh.progress != Progress::Done) {
            (true, true) => (&mut fds[..], to_target),
            (true, false) => (&mut fds[..1], to_target),
            (false, true) => (&mut fds[1..], to_ssh),
            (false, false) => return Ok(()),
        };
        match poll(ready, None) {
            Ok(_) | Err(Errno::INTR) => {}
            Err(errno) => return Err(first.failure(errno)),
        }
        for ((flow, buf), fd) in flows.iter_mut().zip(bufs.iter_mut()).zip(&fds) {
            if flow.progress != Progress::Done && !fd.revents().is_empty() {
                flow.advance(buf)?;
            }
        }
    }
}
