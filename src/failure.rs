//! Every way a run can fail, and the one stderr line that says so.

use crate::json::{JsonError, Text};
use crate::line::Line;
use crate::machined::ErrorId;
use crate::mux_reply::ReplyReader;
use crate::unix_address::{UnixAddress, UnixPath};
use crate::vsock_address::VsockAddress;

/// Standard file descriptor numbers, for `StdFdClosed`.
pub const STDIN: u8 = 0;
pub const STDOUT: u8 = 1;

/// A failure and its context. Texts follow upstream systemd-ssh-proxy where it
/// has one ("Failed to <verb> <object>: <errno text>").
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[expect(clippy::large_enum_variant, reason = "no allocator to box MachineLookup into (see clippy.toml)")]
pub enum Failure<'a> {
    ArgumentCount,
    UnknownOption(&'a [u8]),
    BadOptionValue(&'a [u8]),
    UnknownHost(&'a [u8]),
    CidAny,
    BadCid(&'a [u8]),
    BadPort(&'a [u8]),
    AbstractNameEmpty,
    AbstractNameTooLong(&'a [u8]),
    StdFdClosed(u8),
    StdoutNotUnixSocket,
    StdoutCheck(i32),
    Socket {
        family: &'static [u8],
        errno: i32,
    },
    UnixConnect {
        address: UnixAddress<'a>,
        errno: i32,
    },
    VsockConnect {
        address: VsockAddress,
        errno: i32,
    },
    SendFd(i32),
    /// Copying bytes in relay mode; `to_target` tells the direction.
    Relay {
        to_target: bool,
        errno: i32,
    },
    StdoutWrite(i32),
    /// `--timeout` ran out while connecting.
    TimedOut(u32),
    /// The `--wait` timer could not be set up.
    Timer(i32),
    /// Neither /proc/self/exe nor an absolute argv[0] names this binary.
    OwnPath(i32),
    UnquotablePath(&'a [u8]),
    /// The vsock-mux handshake with the multiplexer at `address` for `port`.
    Mux {
        address: UnixAddress<'a>,
        port: u32,
        problem: MuxProblem,
    },
    BadMachineName(&'a [u8]),
    /// Neither machined instance could say what the machine is; `user` is
    /// `None` when XDG_RUNTIME_DIR is not set.
    MachineLookup {
        name: &'a [u8],
        user: Option<ScopeProblem>,
        system: ScopeProblem,
    },
    MachineNoCid(&'a [u8]),
    MachineKindUnknown {
        name: &'a [u8],
        class: Option<Text<32>>,
        service: Option<Text<32>>,
    },
    /// The socket systemd-nspawn exports for the container's sshd.
    NspawnConnect {
        runtime_dir: &'a [u8],
        name: &'a [u8],
        layout: NspawnLayout,
        errno: i32,
    },
}

/// Why one machined instance gave no usable answer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ScopeProblem {
    NoSuchMachine,
    Unreachable(i32),
    Send(i32),
    Recv(i32),
    TimedOut,
    TooLarge,
    ClosedEarly,
    BadJson(JsonError),
    Error { id: ErrorId, errno: Option<u32> },
}

/// Where systemd-nspawn puts the container's ssh socket under the runtime dir.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NspawnLayout {
    /// systemd 262: `systemd/nspawn/NAME/unix-export/ssh`.
    Current,
    /// Earlier releases: `systemd/nspawn/unix-export/NAME/ssh`.
    Old,
}

impl NspawnLayout {
    /// The path pieces after the runtime dir: before NAME, and after it.
    pub fn around_name(self) -> (&'static [u8], &'static [u8]) {
        match self {
            Self::Current => (b"/systemd/nspawn/", b"/unix-export/ssh"),
            Self::Old => (b"/systemd/nspawn/unix-export/", b"/ssh"),
        }
    }
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

/// Errors that mean "not there yet": the socket file is missing, nobody
/// listens, the VM is still booting.
const TRANSIENT_ERRNOS: [u32; 6] = {
    use linux_raw_sys::errno::*;
    [ENOENT, ECONNREFUSED, ECONNRESET, ETIMEDOUT, ENODEV, EHOSTUNREACH]
};

fn is_transient_errno(errno: i32) -> bool {
    u32::try_from(errno).is_ok_and(|errno| TRANSIENT_ERRNOS.contains(&errno))
}

impl ScopeProblem {
    fn is_transient(&self) -> bool {
        match *self {
            Self::NoSuchMachine => true,
            Self::Unreachable(errno) => is_transient_errno(errno),
            _ => false,
        }
    }
}

impl Failure<'_> {
    /// True when trying again later may succeed (`--wait` retries these).
    pub fn is_transient(&self) -> bool {
        match *self {
            Self::UnixConnect { errno, .. } | Self::VsockConnect { errno, .. } | Self::NspawnConnect { errno, .. } => {
                is_transient_errno(errno)
            }
            Self::Mux { problem: MuxProblem::NotOpen, .. } => true,
            Self::MachineLookup { ref user, ref system, .. } => {
                system.is_transient() && user.as_ref().is_none_or(ScopeProblem::is_transient)
            }
            _ => false,
        }
    }

    /// Writes the message (without newline) into `line`.
    pub fn describe(&self, line: &mut Line) {
        match *self {
            Self::ArgumentCount => {
                line.text(b"Expected two arguments: host and port.");
            }
            Self::UnknownOption(option) => {
                line.text(b"Unknown option: ").quoted(option).text(b" (see --help)");
            }
            Self::BadOptionValue(option) => {
                line.text(b"Invalid value in option: ").quoted(option).text(b" (a number of seconds)");
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
            Self::StdFdClosed(fd) => {
                line.text(if fd == STDIN { b"Standard input" } else { b"Standard output" });
                line.text(b" (fd ").number(u32::from(fd)).text(b") is closed.");
            }
            Self::StdoutNotUnixSocket => {
                line.text(b"Standard output is not an AF_UNIX socket, so --fdpass cannot pass the connection (ssh needs ProxyUseFdpass yes).");
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
            Self::Relay { to_target, errno } => {
                line.text(if to_target {
                    b"Failed to relay from ssh to the target: "
                } else {
                    b"Failed to relay from the target to ssh: "
                });
                line.errno(errno);
            }
            Self::StdoutWrite(errno) => {
                line.text(b"Failed to write to standard output: ").errno(errno);
            }
            Self::TimedOut(seconds) => {
                line.text(b"Timed out after ").number(seconds).text(b" s connecting to the target (--timeout).");
            }
            Self::Timer(errno) => {
                line.text(b"Failed to set up the --wait timer: ").errno(errno);
            }
            Self::OwnPath(errno) => {
                line.text(b"Failed to find the path of this binary (/proc/self/exe): ").errno(errno);
                line.text(b"; run it by its absolute path");
            }
            Self::UnquotablePath(path) => {
                line.text(b"Cannot write this binary's path into ssh_config: ").quoted(path);
            }
            // `ref` for the larger fields: no copies of them onto the stack.
            Self::Mux { address, port, ref problem } => describe_mux(line, address, port, problem),
            Self::BadMachineName(name) => {
                line.text(b"Invalid machine name: ").quoted(name);
            }
            Self::MachineLookup { name, ref user, ref system } => {
                line.text(b"Failed to look up machine ").quoted(name).text(b": user scope: ");
                match user {
                    Some(problem) => describe_scope(line, problem),
                    None => {
                        line.text(b"XDG_RUNTIME_DIR is not set");
                    }
                }
                line.text(b"; system scope: ");
                describe_scope(line, system);
            }
            Self::MachineNoCid(name) => {
                line.text(b"Machine ").quoted(name).text(b" has no AF_VSOCK CID assigned.");
            }
            Self::MachineKindUnknown { name, ref class, ref service } => {
                line.text(b"Don't know how to SSH into machine ").quoted(name).text(b" of class ");
                match class {
                    Some(class) => write_text(line, class),
                    None => {
                        line.text(b"(none)");
                    }
                }
                if let Some(service) = service {
                    line.text(b", service ");
                    write_text(line, service);
                }
            }
            Self::NspawnConnect { runtime_dir, name, layout, errno } => {
                let (before, after) = layout.around_name();
                line.text(b"Failed to connect to AF_UNIX socket ").quoted(runtime_dir).text(before);
                line.quoted(name).text(after).text(b": ").errno(errno);
                if errno == linux_raw_sys::errno::ENOENT as i32 || errno == linux_raw_sys::errno::ECONNREFUSED as i32 {
                    line.text(b" (are sshd and systemd-ssh-generator installed and enabled in the container?)");
                }
            }
        }
    }
}

fn write_text<const N: usize>(line: &mut Line, text: &Text<N>) {
    line.quoted(text.as_bytes());
    if text.is_cut() {
        line.text(b"...");
    }
}

/// Writes what one machined instance's problem was.
pub fn describe_scope(line: &mut Line, problem: &ScopeProblem) {
    match *problem {
        ScopeProblem::NoSuchMachine => {
            line.text(b"no such machine");
        }
        ScopeProblem::Unreachable(errno) => {
            line.text(b"cannot reach systemd-machined: ").errno(errno);
        }
        ScopeProblem::Send(errno) => {
            line.text(b"cannot send the request: ").errno(errno);
        }
        ScopeProblem::Recv(errno) => {
            line.text(b"cannot read the reply: ").errno(errno);
        }
        ScopeProblem::TimedOut => {
            line.text(b"no reply within 5 s");
        }
        ScopeProblem::TooLarge => {
            line.text(b"reply larger than 64 KiB");
        }
        ScopeProblem::ClosedEarly => {
            line.text(b"connection closed before the reply ended");
        }
        ScopeProblem::BadJson(error) => {
            line.text(b"malformed reply: ");
            describe_json(line, error);
        }
        ScopeProblem::Error { ref id, errno } => match errno {
            Some(errno) if id.is(b"io.systemd.System") => {
                line.errno(i32::try_from(errno).unwrap_or(i32::MAX));
            }
            _ => write_text(line, id),
        },
    }
}

fn describe_json(line: &mut Line, error: JsonError) {
    let (what, at): (&[u8], Option<usize>) = match error {
        JsonError::Truncated => (b"truncated", None),
        JsonError::Unexpected(at) => (b"unexpected byte", Some(at)),
        JsonError::TooDeep(at) => (b"nested too deeply", Some(at)),
        JsonError::BadEscape(at) => (b"bad escape", Some(at)),
        JsonError::ControlInString(at) => (b"control byte in a string", Some(at)),
        JsonError::NumberOutOfRange(at) => (b"number out of range", Some(at)),
        JsonError::DuplicateKey(at) => (b"duplicate key", Some(at)),
    };
    line.text(what);
    if let Some(at) = at {
        line.text(b" at byte ").number(u32::try_from(at).unwrap_or(u32::MAX));
    }
}

fn describe_mux(line: &mut Line, address: UnixAddress<'_>, port: u32, problem: &MuxProblem) {
    let mux = |line: &mut Line| {
        line.text(b"vsock multiplexer ");
        write_unix_address(line, address);
    };
    match *problem {
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
        let mut reader = ReplyReader::default();
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
            (
                mux(MuxProblem::Send(104)),
                "Failed to send CONNECT 22 to vsock multiplexer /run/vm.sock: Connection reset by peer\n",
            ),
            (
                mux(MuxProblem::Recv(5)),
                "Failed to read the reply of vsock multiplexer /run/vm.sock: Input/output error\n",
            ),
            (
                mux(MuxProblem::SetTimeout(22)),
                "Failed to set a receive timeout for vsock multiplexer /run/vm.sock: Invalid argument\n",
            ),
            (
                mux(MuxProblem::BadReply(reply(b"OK\n"))),
                "Invalid reply of vsock multiplexer /run/vm.sock to CONNECT 22: OK\\x0a\n",
            ),
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

    fn text(bytes: &[u8]) -> Text<32> {
        Text::from_parts(&[bytes]).unwrap()
    }

    #[test]
    fn machine_messages() {
        let id = |text: &[u8]| ErrorId::from_parts(&[text]).unwrap();
        let cases: &[(Failure, &str)] = &[
            (Failure::BadMachineName(b"a/b"), "Invalid machine name: a/b\n"),
            (
                Failure::MachineLookup { name: b"vm1", user: None, system: ScopeProblem::NoSuchMachine },
                "Failed to look up machine vm1: user scope: XDG_RUNTIME_DIR is not set; system scope: no such machine\n",
            ),
            (
                Failure::MachineLookup {
                    name: b"vm1",
                    user: Some(ScopeProblem::Unreachable(2)),
                    system: ScopeProblem::Error { id: id(b"io.systemd.System"), errno: Some(13) },
                },
                "Failed to look up machine vm1: user scope: cannot reach systemd-machined: No such file or directory; system scope: Permission denied\n",
            ),
            (
                Failure::MachineLookup {
                    name: b"vm1",
                    user: Some(ScopeProblem::BadJson(JsonError::Unexpected(7))),
                    system: ScopeProblem::Error { id: id(b"org.varlink.service.MethodNotFound"), errno: None },
                },
                "Failed to look up machine vm1: user scope: malformed reply: unexpected byte at byte 7; system scope: org.varlink.service.MethodNotFound\n",
            ),
            (
                Failure::MachineLookup {
                    name: b"x",
                    user: Some(ScopeProblem::TimedOut),
                    system: ScopeProblem::TooLarge,
                },
                "Failed to look up machine x: user scope: no reply within 5 s; system scope: reply larger than 64 KiB\n",
            ),
            (
                Failure::MachineLookup {
                    name: b"x",
                    user: Some(ScopeProblem::ClosedEarly),
                    system: ScopeProblem::BadJson(JsonError::Truncated),
                },
                "Failed to look up machine x: user scope: connection closed before the reply ended; system scope: malformed reply: truncated\n",
            ),
            (Failure::MachineNoCid(b"vm1"), "Machine vm1 has no AF_VSOCK CID assigned.\n"),
            (
                Failure::MachineKindUnknown { name: b"m", class: Some(text(b"host")), service: None },
                "Don't know how to SSH into machine m of class host\n",
            ),
            (
                Failure::MachineKindUnknown {
                    name: b"m",
                    class: Some(text(b"container")),
                    service: Some(text(b"docker")),
                },
                "Don't know how to SSH into machine m of class container, service docker\n",
            ),
            (
                Failure::MachineKindUnknown { name: b"m", class: None, service: None },
                "Don't know how to SSH into machine m of class (none)\n",
            ),
            (
                Failure::NspawnConnect { runtime_dir: b"/run", name: b"ct", layout: NspawnLayout::Current, errno: 2 },
                "Failed to connect to AF_UNIX socket /run/systemd/nspawn/ct/unix-export/ssh: No such file or directory (are sshd and systemd-ssh-generator installed and enabled in the container?)\n",
            ),
            (
                Failure::NspawnConnect {
                    runtime_dir: b"/run/user/0",
                    name: b"ct",
                    layout: NspawnLayout::Old,
                    errno: 13,
                },
                "Failed to connect to AF_UNIX socket /run/user/0/systemd/nspawn/unix-export/ct/ssh: Permission denied\n",
            ),
        ];
        for (failure, expected) in cases {
            assert_eq!(message(*failure), *expected);
        }
    }

    #[test]
    fn transient_failures() {
        let path = UnixAddress::Path(UnixPath { add_root: true, written: b"x" });
        let vsock = VsockAddress { cid: 3, port: 22 };
        let transient = [
            Failure::UnixConnect { address: path, errno: 2 },
            Failure::UnixConnect { address: path, errno: 111 },
            Failure::VsockConnect { address: vsock, errno: 110 },
            Failure::VsockConnect { address: vsock, errno: 19 },
            Failure::VsockConnect { address: vsock, errno: 113 },
            Failure::VsockConnect { address: vsock, errno: 104 },
            Failure::Mux { address: path, port: 22, problem: MuxProblem::NotOpen },
            Failure::MachineLookup { name: b"m", user: None, system: ScopeProblem::NoSuchMachine },
            Failure::MachineLookup {
                name: b"m",
                user: Some(ScopeProblem::NoSuchMachine),
                system: ScopeProblem::Unreachable(2),
            },
            Failure::NspawnConnect { runtime_dir: b"/run", name: b"m", layout: NspawnLayout::Current, errno: 2 },
        ];
        for failure in transient {
            assert!(failure.is_transient(), "{failure:?}");
        }
        let lasting = [
            Failure::UnixConnect { address: path, errno: 13 },
            Failure::UnixConnect { address: path, errno: 91 },
            Failure::VsockConnect { address: vsock, errno: 97 },
            Failure::Mux { address: path, port: 22, problem: MuxProblem::BadReply(ReplyReader::default()) },
            Failure::MachineLookup { name: b"m", user: None, system: ScopeProblem::TimedOut },
            Failure::MachineLookup {
                name: b"m",
                user: Some(ScopeProblem::TooLarge),
                system: ScopeProblem::NoSuchMachine,
            },
            Failure::MachineNoCid(b"m"),
            Failure::BadPort(b"x"),
            Failure::Socket { family: b"AF_UNIX", errno: 24 },
        ];
        for failure in lasting {
            assert!(!failure.is_transient(), "{failure:?}");
        }
    }

    #[test]
    fn our_own_messages() {
        let cases: &[(Failure, &str)] = &[
            (Failure::UnknownOption(b"--frob"), "Unknown option: --frob (see --help)\n"),
            (
                Failure::Relay { to_target: true, errno: 104 },
                "Failed to relay from ssh to the target: Connection reset by peer\n",
            ),
            (Failure::Relay { to_target: false, errno: 32 }, "Failed to relay from the target to ssh: Broken pipe\n"),
            (Failure::TimedOut(3), "Timed out after 3 s connecting to the target (--timeout).\n"),
            (Failure::BadOptionValue(b"--wait=x"), "Invalid value in option: --wait=x (a number of seconds)\n"),
            (Failure::AbstractNameEmpty, "Abstract AF_UNIX socket name is empty.\n"),
            (Failure::AbstractNameTooLong(b"n"), "Abstract AF_UNIX socket name is longer than 107 bytes: @n\n"),
            (Failure::StdFdClosed(STDIN), "Standard input (fd 0) is closed.\n"),
            (Failure::StdFdClosed(STDOUT), "Standard output (fd 1) is closed.\n"),
            (
                Failure::StdoutNotUnixSocket,
                "Standard output is not an AF_UNIX socket, so --fdpass cannot pass the connection (ssh needs ProxyUseFdpass yes).\n",
            ),
            (Failure::StdoutCheck(9), "Failed to check standard output: Bad file descriptor\n"),
            (
                Failure::Socket { family: b"AF_VSOCK", errno: 97 },
                "Failed to create AF_VSOCK socket: Address family not supported by protocol\n",
            ),
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
