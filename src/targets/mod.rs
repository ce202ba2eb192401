//! The HOST grammar: `PREFIX SEP REST` with `/` or `%` as SEP, and `.host`.
//! Each target kind has its own file here, with its addresses, protocol and
//! problems, and its syscall half under the same name in sys/connect/.

pub mod case;
pub mod machine;
pub mod mux;
pub mod unix;
pub mod vsock;

use crate::line::Line;
use machine::MachineProblem;
use mux::MuxFailure;
use unix::{UnixAddress, UnixPath, UnixProblem, parse_unix_address};
use vsock::{VsockAddress, VsockProblem, parse_cid, parse_port};

/// The local host's sshd socket, as systemd-ssh-generator binds it.
pub const LOCAL_HOST_SOCKET: &[u8] = b"/run/ssh-unix-local/socket";

/// What the host string asks us to connect to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Target<'a> {
    Unix(UnixAddress<'a>),
    Vsock(VsockAddress),
    /// Hybrid vsock behind an AF_UNIX multiplexer (Firecracker, cloud-hypervisor).
    VsockMux {
        address: UnixAddress<'a>,
        port: u32,
    },
    /// A machine registered with systemd-machined.
    Machine(&'a [u8]),
}

/// What went wrong with the target: HOST named none, or the kind's own problem.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[expect(clippy::large_enum_variant, reason = "no allocator to box Machine into (see clippy.toml)")]
pub enum TargetProblem<'a> {
    UnknownHost(&'a [u8]),
    Unix(UnixProblem<'a>),
    Vsock(VsockProblem<'a>),
    Mux(MuxFailure<'a>),
    Machine(MachineProblem<'a>),
}

impl TargetProblem<'_> {
    pub fn describe(&self, line: &mut Line) {
        match *self {
            Self::UnknownHost(host) => {
                line.text(b"Don't know how to parse host name specification: ").quoted(host);
            }
            Self::Unix(ref problem) => problem.describe(line),
            Self::Vsock(ref problem) => problem.describe(line),
            Self::Mux(ref problem) => problem.describe(line),
            Self::Machine(ref problem) => problem.describe(line),
        }
    }
}

wrap_problems!(
    TargetProblem:
    Unix(UnixProblem<'a>),
    Vsock(VsockProblem<'a>),
    Mux(MuxFailure<'a>),
    Machine(MachineProblem<'a>),
);

/// Parses HOST (and PORT where the target uses it). Prefixes match exactly and
/// case-sensitively; only the first separator splits, the rest is taken as is.
pub fn parse_target<'a>(host: &'a [u8], port: &'a [u8]) -> Result<Target<'a>, TargetProblem<'a>> {
    if host == b".host" {
        return Ok(Target::Unix(UnixAddress::Path(UnixPath::absolute(LOCAL_HOST_SOCKET))));
    }
    let separator = host.iter().position(|&b| b == b'/' || b == b'%');
    let Some((prefix, separator_rest)) = separator.and_then(|at| host.split_at_checked(at)) else {
        return Err(TargetProblem::UnknownHost(host));
    };
    let rest = separator_rest.get(1..).unwrap_or_default();
    if prefix == b"unix" {
        Ok(Target::Unix(parse_unix_address(rest)?))
    } else if prefix == b"vsock" {
        let cid = parse_cid(rest)?;
        let port = parse_port(port)?;
        Ok(Target::Vsock(VsockAddress { cid, port }))
    } else if prefix == b"vsock-mux" {
        let address = parse_unix_address(rest)?;
        // Validated like vsock/ before anything is sent: the port goes
        // into the CONNECT line, where `22\nFOO 1` would inject a line.
        let port = parse_port(port)?;
        Ok(Target::VsockMux { address, port })
    } else if prefix == b"machine" {
        Ok(Target::Machine(rest))
    } else {
        Err(TargetProblem::UnknownHost(host))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn path(add_root: bool, written: &[u8]) -> UnixAddress<'_> {
        UnixAddress::Path(UnixPath { add_root, written })
    }

    /// HOST, PORT and what they parse to.
    type Case<'a> = (&'a [u8], &'a [u8], Result<Target<'a>, TargetProblem<'a>>);

    #[test]
    fn host_grammar() {
        let cases: &[Case] = &[
            (b"unix/run/x", b"22", Ok(Target::Unix(path(true, b"run/x")))),
            (b"unix%run/x", b"22", Ok(Target::Unix(path(true, b"run/x")))),
            (b"unix//run/x", b"22", Ok(Target::Unix(path(false, b"/run/x")))),
            (b"unix%/run/x", b"22", Ok(Target::Unix(path(false, b"/run/x")))),
            (b"unix/./x", b"22", Ok(Target::Unix(path(false, b"./x")))),
            (b"unix%./x", b"22", Ok(Target::Unix(path(false, b"./x")))),
            (b"unix/run%x", b"22", Ok(Target::Unix(path(true, b"run%x")))),
            (b"unix/@name", b"22", Ok(Target::Unix(UnixAddress::Abstract(b"name")))),
            (b"unix%@name", b"22", Ok(Target::Unix(UnixAddress::Abstract(b"name")))),
            (b"unix/", b"22", Ok(Target::Unix(path(true, b"")))),
            // PORT is ignored for unix/.
            (b"unix/run/x", b"not-a-port", Ok(Target::Unix(path(true, b"run/x")))),
            (b".host", b"22", Ok(Target::Unix(path(false, b"/run/ssh-unix-local/socket")))),
            (b"vsock/3", b"22", Ok(Target::Vsock(VsockAddress { cid: 3, port: 22 }))),
            (b"vsock%3", b"22", Ok(Target::Vsock(VsockAddress { cid: 3, port: 22 }))),
            (b"vsock/host", b"2222", Ok(Target::Vsock(VsockAddress { cid: 2, port: 2222 }))),
            (b"vsock/hypervisor", b"0", Ok(Target::Vsock(VsockAddress { cid: 0, port: 0 }))),
            (b"vsock/local", b"22", Ok(Target::Vsock(VsockAddress { cid: 1, port: 22 }))),
            (b"vsock/4294967294", b"4294967294", Ok(Target::Vsock(VsockAddress { cid: 4294967294, port: 4294967294 }))),
            (b"vsock/any", b"22", Err(TargetProblem::Vsock(VsockProblem::CidAny))),
            (b"vsock/-1", b"22", Err(TargetProblem::Vsock(VsockProblem::CidAny))),
            (b"vsock/4294967295", b"22", Err(TargetProblem::Vsock(VsockProblem::CidAny))),
            (b"vsock/", b"22", Err(TargetProblem::Vsock(VsockProblem::BadCid(b"")))),
            (b"vsock/0x3", b"22", Err(TargetProblem::Vsock(VsockProblem::BadCid(b"0x3")))),
            (b"vsock/3/", b"22", Err(TargetProblem::Vsock(VsockProblem::BadCid(b"3/")))),
            (b"vsock%3%", b"22", Err(TargetProblem::Vsock(VsockProblem::BadCid(b"3%")))),
            // The CID is checked before the port.
            (b"vsock/x", b"x", Err(TargetProblem::Vsock(VsockProblem::BadCid(b"x")))),
            (b"vsock/3", b"x", Err(TargetProblem::Vsock(VsockProblem::BadPort(b"x")))),
            (b"vsock/3", b"", Err(TargetProblem::Vsock(VsockProblem::BadPort(b"")))),
            (b"vsock/3", b"4294967295", Err(TargetProblem::Vsock(VsockProblem::BadPort(b"4294967295")))),
            (b"vsock-mux/run/vm.sock", b"22", Ok(Target::VsockMux { address: path(true, b"run/vm.sock"), port: 22 })),
            (
                b"vsock-mux%/run/vm.sock",
                b"22",
                Ok(Target::VsockMux { address: path(false, b"/run/vm.sock"), port: 22 }),
            ),
            (b"vsock-mux/@vm", b"1024", Ok(Target::VsockMux { address: UnixAddress::Abstract(b"vm"), port: 1024 })),
            (b"vsock-mux/./vm.sock", b"0", Ok(Target::VsockMux { address: path(false, b"./vm.sock"), port: 0 })),
            (b"vsock-mux/run/vm.sock", b"22\nFOO 1", Err(TargetProblem::Vsock(VsockProblem::BadPort(b"22\nFOO 1")))),
            (b"vsock-mux/run/vm.sock", b" 22", Err(TargetProblem::Vsock(VsockProblem::BadPort(b" 22")))),
            (b"vsock-mux/run/vm.sock", b"-1", Err(TargetProblem::Vsock(VsockProblem::BadPort(b"-1")))),
            (b"vsock-mux/run/vm.sock", b"4294967295", Err(TargetProblem::Vsock(VsockProblem::BadPort(b"4294967295")))),
            (b"vsock-mux/run/vm.sock", b"", Err(TargetProblem::Vsock(VsockProblem::BadPort(b"")))),
            (b"vsock-mux/run/vm.sock", b"abc", Err(TargetProblem::Vsock(VsockProblem::BadPort(b"abc")))),
            (b"vsock-mux/@", b"22", Err(TargetProblem::Unix(UnixProblem::AbstractNameEmpty))),
            (b"machine/foo", b"22", Ok(Target::Machine(b"foo"))),
            (b"machine%foo", b"22", Ok(Target::Machine(b"foo"))),
            (b"machine/.host", b"22", Ok(Target::Machine(b".host"))),
            (b"", b"22", Err(TargetProblem::UnknownHost(b""))),
            (b"/", b"22", Err(TargetProblem::UnknownHost(b"/"))),
            (b"unix", b"22", Err(TargetProblem::UnknownHost(b"unix"))),
            (b"vsock", b"22", Err(TargetProblem::UnknownHost(b"vsock"))),
            (b"Unix/run/x", b"22", Err(TargetProblem::UnknownHost(b"Unix/run/x"))),
            (b"UNIX/run/x", b"22", Err(TargetProblem::UnknownHost(b"UNIX/run/x"))),
            (b"unixx/run/x", b"22", Err(TargetProblem::UnknownHost(b"unixx/run/x"))),
            (b"vsock-mu/x", b"22", Err(TargetProblem::UnknownHost(b"vsock-mu/x"))),
            (b"vsockmux/x", b"22", Err(TargetProblem::UnknownHost(b"vsockmux/x"))),
            (b"vsock-mux-/x", b"22", Err(TargetProblem::UnknownHost(b"vsock-mux-/x"))),
            (b"tcp/127.0.0.1", b"22", Err(TargetProblem::UnknownHost(b"tcp/127.0.0.1"))),
            (b"example.com", b"22", Err(TargetProblem::UnknownHost(b"example.com"))),
            (b".host/x", b"22", Err(TargetProblem::UnknownHost(b".host/x"))),
            (b".HOST", b"22", Err(TargetProblem::UnknownHost(b".HOST"))),
            (b" unix/run/x", b"22", Err(TargetProblem::UnknownHost(b" unix/run/x"))),
            (b"unix:/run/x", b"22", Err(TargetProblem::UnknownHost(b"unix:/run/x"))),
            (b"\xffunix/x", b"22", Err(TargetProblem::UnknownHost(b"\xffunix/x"))),
        ];
        for (host, port, expected) in cases {
            assert_eq!(
                &parse_target(host, port),
                expected,
                "host {:?} port {:?}",
                String::from_utf8_lossy(host),
                String::from_utf8_lossy(port)
            );
        }
    }
}
