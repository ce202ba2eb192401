//! vsock-mux/: connect to the multiplexer's AF_UNIX socket, ask for the guest
//! port, and consume exactly the `OK <u32>\n` line.

use core::time::Duration;

use rustix::fd::OwnedFd;
use rustix::io::Errno;
use rustix::net::sockopt::{Timeout, set_socket_timeout};
use rustix::net::{RecvFlags, SendFlags, recv, send};

use crate::failure::Failure;
use crate::notice::Notice;
use crate::sys::connect::unix::connect_unix;
use crate::sys::stdio::notify;
use crate::targets::mux::{MuxFailure, MuxProblem, MuxSilence, REPLY_MAX, ReplyReader, Step, connect_request};
use crate::targets::unix::UnixAddress;

/// How long the multiplexer may stay silent, as upstream.
const REPLY_TIMEOUT: Duration = Duration::from_secs(5);

/// How the reply ended, when it did not fail.
enum Reply {
    /// The OK line was read; the next byte is the guest service's.
    Ok,
    /// The first byte cannot start an OK line: left in place for ssh.
    NotOk,
    /// Nothing arrived in time: upstream hands the stream to ssh anyway.
    Silent,
}

pub fn connect_mux(address: UnixAddress<'_>, port: u32, verbose: bool) -> Result<OwnedFd, Failure<'_>> {
    let socket = connect_unix(address)?;
    let reply = handshake(&socket, port).map_err(|problem| MuxFailure { address, port, problem })?;
    if let (Reply::Silent, true) = (reply, verbose) {
        notify(&Notice::MuxSilent(MuxSilence { address, port }));
    }
    Ok(socket)
}

fn handshake(socket: &OwnedFd, port: u32) -> Result<Reply, MuxProblem> {
    let set_timeout = |timeout| {
        set_socket_timeout(socket, Timeout::Recv, timeout).map_err(|errno| MuxProblem::SetTimeout(errno.raw_os_error()))
    };
    send_request(socket, connect_request(port).as_bytes())?;
    set_timeout(Some(REPLY_TIMEOUT))?;
    let reply = read_reply(socket)?;
    // ssh gets the socket as a fresh connect would leave it.
    set_timeout(None)?;
    Ok(reply)
}

/// Sends the CONNECT line, normally in one send. MSG_NOSIGNAL: a multiplexer
/// that already closed gives EPIPE, not SIGPIPE.
fn send_request(socket: &OwnedFd, mut request: &[u8]) -> Result<(), MuxProblem> {
    while !request.is_empty() {
        match send(socket, request, SendFlags::NOSIGNAL) {
            Ok(sent) => request = request.get(sent..).unwrap_or_default(),
            Err(Errno::INTR) => {}
            // Closed before or while we asked: the same as closing without a reply.
            Err(Errno::PIPE | Errno::CONNRESET) => return Err(MuxProblem::NotOpen),
            Err(errno) => return Err(MuxProblem::Send(errno.raw_os_error())),
        }
    }
    Ok(())
}

/// Reads the reply without taking a byte that is not part of an OK line:
/// peek at what is there, decide byte by byte, consume only the OK line.
fn read_reply(socket: &OwnedFd) -> Result<Reply, MuxProblem> {
    let mut reader = ReplyReader::default();
    let mut peeked = [0u8; REPLY_MAX];
    loop {
        let room = REPLY_MAX.saturating_sub(reader.seen().len()).max(1);
        // 1 to REPLY_MAX bytes: the checked slice never misses.
        let available = match recv(socket, peeked.get_mut(..room).unwrap_or_default(), RecvFlags::PEEK) {
            Ok((0, _)) | Err(Errno::CONNRESET) if reader.is_empty() => return Err(MuxProblem::NotOpen),
            Ok((0, _)) | Err(Errno::CONNRESET) => return Err(MuxProblem::ClosedMidReply(reader)),
            Ok((n, _)) => n,
            Err(Errno::AGAIN) if reader.is_empty() => return Ok(Reply::Silent),
            Err(Errno::AGAIN) => return Err(MuxProblem::TimedOutMidReply(reader)),
            Err(Errno::INTR) => continue,
            Err(errno) => return Err(MuxProblem::Recv(errno.raw_os_error())),
        };
        let mut used: usize = 0;
        let mut step = Step::More;
        for &byte in peeked.get(..available).unwrap_or_default() {
            // At most `available`: no wrap.
            used = used.wrapping_add(1);
            step = reader.push(byte);
            if step != Step::More {
                break;
            }
        }
        match step {
            // Only the first byte can say NotOk, so nothing was consumed.
            Step::NotOk => return Ok(Reply::NotOk),
            Step::Broken => return Err(MuxProblem::BadReply(reader)),
            Step::More | Step::Done => consume(socket, used)?,
        }
        if step == Step::Done {
            return Ok(Reply::Ok);
        }
    }
}

/// Takes `count` bytes that a peek has shown to be there.
fn consume(socket: &OwnedFd, mut count: usize) -> Result<(), MuxProblem> {
    let mut sink = [0u8; REPLY_MAX];
    while count > 0 {
        // `count` is at most REPLY_MAX, what a peek showed: the checked slice never misses.
        match recv(socket, sink.get_mut(..count).unwrap_or_default(), RecvFlags::empty()) {
            Ok((0, _)) => return Err(MuxProblem::Recv(Errno::IO.raw_os_error())),
            Ok((n, _)) => count = count.saturating_sub(n),
            Err(Errno::INTR) => {}
            Err(errno) => return Err(MuxProblem::Recv(errno.raw_os_error())),
        }
    }
    Ok(())
}
