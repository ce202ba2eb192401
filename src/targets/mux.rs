//! `vsock-mux/PATH`, the hybrid-vsock handshake of Firecracker,
//! cloud-hypervisor and vhost-device-vsock: we send `CONNECT <port>\n` on
//! the AF_UNIX socket PATH, the multiplexer answers `OK <u32>\n` once the
//! guest accepted, or closes the connection (see sys/connect/mux.rs).

use crate::array_buf::ArrayBuf;
use crate::line::Line;
use crate::number::format_u32;
use crate::targets::unix::UnixAddress;

/// The longest legal reply: `OK 4294967295\n`.
pub const REPLY_MAX: usize = 14;

/// The longest request: `CONNECT 4294967295\n`.
pub const REQUEST_MAX: usize = 19;

/// `CONNECT <port>\n`.
pub fn connect_request(port: u32) -> ArrayBuf<REQUEST_MAX> {
    let mut digits = [0u8; 10];
    // REQUEST_MAX has room for the longest port: this never fails.
    ArrayBuf::from_parts(&[b"CONNECT ", format_u32(port, &mut digits), b"\n"]).unwrap_or_default()
}

/// What one more byte of the reply tells.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Step {
    /// Part of an OK line; more must follow.
    More,
    /// The OK line is complete; the byte was its newline.
    Done,
    /// The first byte cannot start an OK line: the stream is not ours to
    /// read (upstream's rule for multiplexers that never send OK).
    NotOk,
    /// An OK line started but this byte breaks it.
    Broken,
}

/// Reads the reply one byte at a time, so that the answer does not depend on
/// how the bytes are split into segments. Keeps what it saw for messages.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ReplyReader {
    /// The reply so far, and at most one byte past the longest legal one.
    seen: ArrayBuf<{ REPLY_MAX + 1 }>,
    /// The number after OK so far, to refuse one that does not fit in u32.
    value: u32,
}

impl ReplyReader {
    /// Feeds one byte. After `Done`, `NotOk` or `Broken` no more bytes belong to the reply.
    pub fn push(&mut self, byte: u8) -> Step {
        let at = self.seen.len();
        let _ = self.seen.push(&[byte]);
        match (at, byte) {
            (0, b'O') | (1, b'K') | (2, b' ') => Step::More,
            (0, _) => Step::NotOk,
            (1 | 2, _) => Step::Broken,
            (3.., b'\n') if at > 3 => Step::Done,
            (3.., b'0'..=b'9') if at < REPLY_MAX - 1 => {
                match self.value.checked_mul(10).and_then(|v| v.checked_add(u32::from(byte.wrapping_sub(b'0')))) {
                    Some(value) => {
                        self.value = value;
                        Step::More
                    }
                    None => Step::Broken,
                }
            }
            _ => Step::Broken,
        }
    }

    /// The bytes seen so far (for messages).
    pub fn seen(&self) -> &[u8] {
        self.seen.as_bytes()
    }

    /// True before the first byte.
    pub fn is_empty(&self) -> bool {
        self.seen.is_empty()
    }
}

/// A handshake that failed: with the multiplexer at `address`, for guest `port`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MuxFailure<'a> {
    pub address: UnixAddress<'a>,
    pub port: u32,
    pub problem: MuxProblem,
}

/// What went wrong in the handshake.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MuxProblem {
    /// The multiplexer closed without a reply: nothing listens on the guest port.
    NotOpen,
    Send(i32),
    Recv(i32),
    SetTimeout(i32),
    /// An OK line started but went wrong (bytes as received).
    BadReply(ReplyReader),
    ClosedMidReply(ReplyReader),
    TimedOutMidReply(ReplyReader),
}

impl MuxFailure<'_> {
    pub fn describe(&self, line: &mut Line) {
        let Self { address, port, ref problem } = *self;
        let mux = |line: &mut Line| {
            line.text(b"vsock multiplexer ");
            address.describe(line);
        };
        match *problem {
            MuxProblem::NotOpen => {
                line.text(b"Port ").number(port).text(b" on ");
                address.describe(line);
                line.text(b" is not open");
            }
            MuxProblem::Send(errno) => {
                line.text(b"Failed to send CONNECT ").number(port).text(b" to ");
                mux(line);
                line.text(b": ").errno(errno);
            }
            MuxProblem::Recv(errno) => {
                line.text(b"Failed to read the reply of ");
                mux(line);
                line.text(b": ").errno(errno);
            }
            MuxProblem::SetTimeout(errno) => {
                line.text(b"Failed to set a receive timeout for ");
                mux(line);
                line.text(b": ").errno(errno);
            }
            MuxProblem::BadReply(ref reply) => {
                line.text(b"Invalid reply of ");
                mux(line);
                line.text(b" to CONNECT ").number(port).text(b": ").quoted(reply.seen());
            }
            MuxProblem::ClosedMidReply(ref reply) => {
                mux(line);
                line.text(b" closed the connection in the middle of its reply to CONNECT ").number(port);
                line.text(b": ").quoted(reply.seen());
            }
            MuxProblem::TimedOutMidReply(ref reply) => {
                mux(line);
                line.text(b" did not finish its reply to CONNECT ").number(port).text(b" within 5 s: ");
                line.quoted(reply.seen());
            }
        }
    }
}

/// `--verbose`: the multiplexer said nothing within 5 s, and the stream goes
/// to ssh as it is (upstream's rule).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MuxSilence<'a> {
    pub address: UnixAddress<'a>,
    pub port: u32,
}

impl MuxSilence<'_> {
    pub fn describe(&self, line: &mut Line) {
        line.text(b"vsock multiplexer ");
        self.address.describe(line);
        line.text(b" sent no reply to CONNECT ").number(self.port);
        line.text(b" within 5 s; handing the connection to ssh as it is.");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::targets::unix::UnixPath;

    #[test]
    fn requests() {
        assert_eq!(connect_request(22).as_bytes(), b"CONNECT 22\n");
        assert_eq!(connect_request(0).as_bytes(), b"CONNECT 0\n");
        assert_eq!(connect_request(4294967294).as_bytes(), b"CONNECT 4294967294\n");
        assert_eq!(connect_request(u32::MAX).len(), REQUEST_MAX);
    }

    /// Feeds `reply` until the reader decides; returns the decision and how
    /// many bytes it took.
    fn read(reply: &[u8]) -> (Step, usize, Vec<u8>) {
        let mut reader = ReplyReader::default();
        for (i, &byte) in reply.iter().enumerate() {
            let step = reader.push(byte);
            if step != Step::More {
                return (step, i + 1, reader.seen().to_vec());
            }
        }
        (Step::More, reply.len(), reader.seen().to_vec())
    }

    #[test]
    fn replies() {
        let cases: &[(&[u8], Step, usize)] = &[
            (b"OK 1073741824\n", Step::Done, 14),
            (b"OK 1073741824\nSSH-2.0-x\r\n", Step::Done, 14),
            (b"OK 22\n", Step::Done, 6),
            (b"OK 0\n", Step::Done, 5),
            (b"OK 0000000022\n", Step::Done, 14),
            (b"OK 4294967295\n", Step::Done, 14),
            (b"OK 4294967296\n", Step::Broken, 13),
            (b"OK 99999999999\n", Step::Broken, 13),
            (b"OK 00000000022\n", Step::Broken, 14),
            (b"OK\n", Step::Broken, 3),
            (b"OK \n", Step::Broken, 4),
            (b"OK  22\n", Step::Broken, 4),
            (b"OK 22 \n", Step::Broken, 6),
            (b"OK 22\r\n", Step::Broken, 6),
            (b"OK -1\n", Step::Broken, 4),
            (b"OKAY\n", Step::Broken, 3),
            (b"O\n", Step::Broken, 2),
            (b"NOPE\n", Step::NotOk, 1),
            (b"ok 22\n", Step::NotOk, 1),
            (b"SSH-2.0-OpenSSH_9.2\r\n", Step::NotOk, 1),
            (b"\0", Step::NotOk, 1),
            (b"OK 12", Step::More, 5),
            (b"OK ", Step::More, 3),
        ];
        for (reply, step, used) in cases {
            let (got, got_used, _) = read(reply);
            assert_eq!((got, got_used), (*step, *used), "reply {:?}", String::from_utf8_lossy(reply));
        }
    }

    #[test]
    fn seen_bytes() {
        let mut reader = ReplyReader::default();
        assert!(reader.is_empty());
        for &byte in b"OK 1073741824\n" {
            reader.push(byte);
        }
        assert_eq!(reader.seen(), b"OK 1073741824\n");
        let (_, _, seen) = read(b"OK 42949672950\n");
        assert_eq!(seen, b"OK 42949672950", "the byte that broke the line is kept");
        let mut reader = ReplyReader::default();
        for &byte in b"OK 000000000000000000" {
            reader.push(byte);
        }
        assert_eq!(reader.seen().len(), REPLY_MAX + 1, "keeps at most one byte past the longest reply");
    }

    fn reply(bytes: &[u8]) -> ReplyReader {
        let mut reader = ReplyReader::default();
        for &byte in bytes {
            reader.push(byte);
        }
        reader
    }

    #[test]
    fn messages() {
        let address = UnixAddress::Path(UnixPath { add_root: true, written: b"run/vm.sock" });
        let message = |problem| crate::line::render(|line| MuxFailure { address, port: 22, problem }.describe(line));
        let cases: &[(MuxProblem, &str)] = &[
            (MuxProblem::NotOpen, "Port 22 on /run/vm.sock is not open\n"),
            (
                MuxProblem::Send(104),
                "Failed to send CONNECT 22 to vsock multiplexer /run/vm.sock: Connection reset by peer\n",
            ),
            (MuxProblem::Recv(5), "Failed to read the reply of vsock multiplexer /run/vm.sock: Input/output error\n"),
            (
                MuxProblem::SetTimeout(22),
                "Failed to set a receive timeout for vsock multiplexer /run/vm.sock: Invalid argument\n",
            ),
            (
                MuxProblem::BadReply(reply(b"OK\n")),
                "Invalid reply of vsock multiplexer /run/vm.sock to CONNECT 22: OK\\x0a\n",
            ),
            (
                MuxProblem::ClosedMidReply(reply(b"OK 12")),
                "vsock multiplexer /run/vm.sock closed the connection in the middle of its reply to CONNECT 22: OK 12\n",
            ),
            (
                MuxProblem::TimedOutMidReply(reply(b"OK ")),
                "vsock multiplexer /run/vm.sock did not finish its reply to CONNECT 22 within 5 s: OK \n",
            ),
        ];
        for (problem, expected) in cases {
            assert_eq!(message(*problem), *expected);
        }
    }

    #[test]
    fn silence() {
        let address = UnixAddress::Path(UnixPath { add_root: false, written: b"/run/vm.sock" });
        let mut line = Line::default();
        MuxSilence { address, port: 22 }.describe(&mut line);
        assert_eq!(
            line.finish(),
            b"vsock multiplexer /run/vm.sock sent no reply to CONNECT 22 within 5 s; handing the connection to ssh as it is.\n"
        );
    }
}
