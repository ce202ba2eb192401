//! Every way a run can fail, and the one stderr line that says so.

use crate::line::Line;
use crate::mux_reply::ReplyReader;
use crate::unix_address::{UnixAddress, UnixPath};
use crate::vsock_address::VsockAddress;

/// Standard file descriptor numbers, for `StdFdClosed`.
pub const STDIN: u8 = 0;
pub const STDOUT: u8 = 1;

/// A failure and its context. Texts follow upstream systemd-ssh-proxy where it
/// has one ("Failed to <verb> <object>: <errno text>").
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Failure<'a> {
    ArgumentCount,
    UnknownOption(&'a [u8]),
    UnknownHost(&'a [u8]),
    CidAny,
    BadCid(&'a [u8]),
    BadPort(&'a [u8]),
    AbstractNameEmpty,
    AbstractNameTooLong(&'a [u8]),
    NotSupportedYet(&'a [u8]),
    StdFdClosed(u8),
    StdoutNotUnixSocket,
    StdoutCheck(i32),
    Socket { family: &'static [u8], errno: i32 },
    UnixConnect { address: UnixAddress<'a>, errno: i32 },
    VsockConnect { address: VsockAddress, errno: i32 },
    SendFd(i32),
    StdoutWrite(i32),
    /// Neither /proc/self/exe nor an absolute argv[0] names this binary.
    OwnPath(i32),
    UnquotablePath(&'a [u8]),
    /// The vsock-mux handshake with the multiplexer at `address` for `port`.
    Mux { address: UnixAddress<'a>, port: u32, problem: MuxProblem },
}

/// What went wrong in the vsock-mux handshake.
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

impl Failure<'_> {
    /// Writes the message (without newline) into `line`.
    pub fn describe(&self, line: &mut Line) {
        match *self {
            Self::ArgumentCount => {
                line.text(b"Expected two arguments: host and port.");
            }
            Self::UnknownOption(option) => {
                line.text(b"Unknown option: ").quoted(option).text(b" (see --help)");
            }
            Self::UnknownHost(host) => {
                line.text(b"Don't know how to parse host name specification: ").quoted(host);
            }
            Self::CidAny => {
                line.text(b"Cannot use VMADDR_CID_ANY to connect to a remote host.");
            }
            Self::BadCid(text) => {
                line.text(b"Failed to parse vsock cid: ").quoted(text);
            }
            Self::BadPort(text) => {
                line.text(b"Failed to parse vsock port: ").quoted(text);
            }
            Self::AbstractNameEmpty => {
                line.text(b"Abstract AF_UNIX socket name is empty.");
            }
            Self::AbstractNameTooLong(name) => {
                line.text(b"Abstract AF_UNIX socket name is longer than 107 bytes: @").quoted(name);
            }
            Self::NotSupportedYet(host) => {
                line.text(b"This target kind is not supported yet: ").quoted(host);
            }
            Self::StdFdClosed(fd) => {
                line.text(if fd == STDIN { b"Standard input" } else { b"Standard output" });
                line.text(b" (fd ").number(u32::from(fd)).text(b") is closed.");
            }
            Self::StdoutNotUnixSocket => {
                line.text(b"Standard output is not an AF_UNIX socket: run this as ssh's ProxyCommand with ProxyUseFdpass yes.");
            }
            Self::StdoutCheck(errno) => {
                line.text(b"Failed to check standard output: ").errno(errno);
            }
            Self::Socket { family, errno } => {
                line.text(b"Failed to create ").text(family).text(b" socket: ").errno(errno);
            }
            Self::UnixConnect { address, errno } => {
                line.text(b"Failed to connect to AF_UNIX socket ");
                write_unix_address(line, address);
                line.text(b": ").errno(errno);
            }
            Self::VsockConnect { address, errno } => {
                line.text(b"Failed to connect to vsock:").number(address.cid);
                line.text(b":").number(address.port).text(b": ").errno(errno);
            }
            Self::SendFd(errno) => {
                line.text(b"Failed to send socket to ssh: ").errno(errno);
            }
            Self::StdoutWrite(errno) => {
                line.text(b"Failed to write to standard output: ").errno(errno);
            }
            Self::OwnPath(errno) => {
                line.text(b"Failed to find the path of this binary (/proc/self/exe): ").errno(errno);
                line.text(b"; run it by its absolute path");
            }
            Self::UnquotablePath(path) => {
                line.text(b"Cannot write this binary's path into ssh_config: ").quoted(path);
            }
            Self::Mux { address, port, problem } => describe_mux(line, address, port, problem),
        }
    }
}

fn describe_mux(line: &mut Line, address: UnixAddress<'_>, port: u32, problem: MuxProblem) {
    let mux = |line: &mut Line| {
        line.text(b"vsock multiplexer ");
        write_unix_address(line, address);
    };
    match problem {
        MuxProblem::NotOpen => {
            line.text(b"Port ").number(port).text(b" on ");
            write_unix_address(line, address);
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
        MuxProblem::BadReply(reply) => {
            line.text(b"Invalid reply of ");
            mux(line);
            line.text(b" to CONNECT ").number(port).text(b": ").quoted(reply.seen());
        }
        MuxProblem::ClosedMidReply(reply) => {
            mux(line);
            line.text(b" closed the connection in the middle of its reply to CONNECT ").number(port);
            line.text(b": ").quoted(reply.seen());
        }
        MuxProblem::TimedOutMidReply(reply) => {
            mux(line);
            line.text(b" did not finish its reply to CONNECT ").number(port).text(b" within 5 s: ");
            line.quoted(reply.seen());
        }
    }
}

/// Writes an AF_UNIX address as the user would write it: the full path, or `@name`.
pub fn write_unix_address(line: &mut Line, address: UnixAddress<'_>) {
    match address {
        UnixAddress::Path(UnixPath { add_root, written }) => {
            if add_root {
                line.text(b"/");
            }
            line.quoted(written);
        }
        UnixAddress::Abstract(name) => {
            line.text(b"@").quoted(name);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(failure: Failure) -> String {
        let mut line = Line::new();
        failure.describe(&mut line);
        String::from_utf8(line.finish().to_vec()).unwrap()
    }

    #[test]
    fn upstream_wording() {
        let path = UnixAddress::Path(UnixPath { add_root: true, written: b"run/x" });
        let cases: &[(Failure, &str)] = &[
            (Failure::ArgumentCount, "Expected two arguments: host and port.\n"),
            (Failure::UnknownHost(b"foo"), "Don't know how to parse host name specification: foo\n"),
            (Failure::CidAny, "Cannot use VMADDR_CID_ANY to connect to a remote host.\n"),
            (Failure::BadCid(b"x"), "Failed to parse vsock cid: x\n"),
            (Failure::BadPort(b"22\nFOO 1"), "Failed to parse vsock port: 22\\x0aFOO 1\n"),
            (
                Failure::UnixConnect { address: path, errno: 2 },
                "Failed to connect to AF_UNIX socket /run/x: No such file or directory\n",
            ),
            (
                Failure::UnixConnect { address: UnixAddress::Abstract(b"vm"), errno: 111 },
                "Failed to connect to AF_UNIX socket @vm: Connection refused\n",
            ),
            (
                Failure::VsockConnect { address: VsockAddress { cid: 3, port: 22 }, errno: 111 },
                "Failed to connect to vsock:3:22: Connection refused\n",
            ),
        ];
        for (failure, expected) in cases {
            assert_eq!(message(*failure), *expected);
        }
    }

    fn reply(bytes: &[u8]) -> ReplyReader {
        let mut reader = ReplyReader::new();
        for &byte in bytes {
            reader.push(byte);
        }
        reader
    }

    #[test]
    fn mux_messages() {
        let address = UnixAddress::Path(UnixPath { add_root: true, written: b"run/vm.sock" });
        let mux = |problem| Failure::Mux { address, port: 22, problem };
        let cases: &[(Failure, &str)] = &[
            (mux(MuxProblem::NotOpen), "Port 22 on /run/vm.sock is not open\n"),
            (mux(MuxProblem::Send(104)), "Failed to send CONNECT 22 to vsock multiplexer /run/vm.sock: Connection reset by peer\n"),
            (mux(MuxProblem::Recv(5)), "Failed to read the reply of vsock multiplexer /run/vm.sock: Input/output error\n"),
            (mux(MuxProblem::SetTimeout(22)), "Failed to set a receive timeout for vsock multiplexer /run/vm.sock: Invalid argument\n"),
            (mux(MuxProblem::BadReply(reply(b"OK\n"))), "Invalid reply of vsock multiplexer /run/vm.sock to CONNECT 22: OK\\x0a\n"),
            (
                mux(MuxProblem::ClosedMidReply(reply(b"OK 12"))),
                "vsock multiplexer /run/vm.sock closed the connection in the middle of its reply to CONNECT 22: OK 12\n",
            ),
            (
                mux(MuxProblem::TimedOutMidReply(reply(b"OK "))),
                "vsock multiplexer /run/vm.sock did not finish its reply to CONNECT 22 within 5 s: OK \n",
            ),
        ];
        for (failure, expected) in cases {
            assert_eq!(message(*failure), *expected);
        }
    }

    #[test]
    fn our_own_messages() {
        let cases: &[(Failure, &str)] = &[
            (Failure::UnknownOption(b"--frob"), "Unknown option: --frob (see --help)\n"),
            (Failure::AbstractNameEmpty, "Abstract AF_UNIX socket name is empty.\n"),
            (Failure::AbstractNameTooLong(b"n"), "Abstract AF_UNIX socket name is longer than 107 bytes: @n\n"),
            (Failure::NotSupportedYet(b"machine/x"), "This target kind is not supported yet: machine/x\n"),
            (Failure::StdFdClosed(STDIN), "Standard input (fd 0) is closed.\n"),
            (Failure::StdFdClosed(STDOUT), "Standard output (fd 1) is closed.\n"),
            (
                Failure::StdoutNotUnixSocket,
                "Standard output is not an AF_UNIX socket: run this as ssh's ProxyCommand with ProxyUseFdpass yes.\n",
            ),
            (Failure::StdoutCheck(9), "Failed to check standard output: Bad file descriptor\n"),
            (Failure::Socket { family: b"AF_VSOCK", errno: 97 }, "Failed to create AF_VSOCK socket: Address family not supported by protocol\n"),
            (Failure::SendFd(32), "Failed to send socket to ssh: Broken pipe\n"),
            (Failure::StdoutWrite(28), "Failed to write to standard output: No space left on device\n"),
            (
                Failure::OwnPath(2),
                "Failed to find the path of this binary (/proc/self/exe): No such file or directory; run it by its absolute path\n",
            ),
            (Failure::UnquotablePath(b"/it's"), "Cannot write this binary's path into ssh_config: /it's\n"),
        ];
        for (failure, expected) in cases {
            assert_eq!(message(*failure), *expected);
        }
    }
}
