//! A run's failure: it wraps the problem of the feature where it arose, which
//! words its message, and decides which failures are worth another attempt.

use crate::attempts::AttemptsProblem;
use crate::cli::CliProblem;
use crate::handoff::HandoffProblem;
use crate::line::Line;
use crate::relay::RelayProblem;
use crate::ssh_config::SshConfigProblem;
use crate::stdio::StdioProblem;
use crate::targets::TargetProblem;
use crate::targets::machine::{MachineProblem, ScopeProblem, SshAddressProblem};
use crate::targets::mux::{MuxFailure, MuxProblem};
use crate::targets::unix::UnixProblem;
use crate::targets::vsock::VsockProblem;

/// Texts follow upstream systemd-ssh-proxy where it has one ("Failed to
/// <verb> <object>: <errno text>").
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[expect(clippy::large_enum_variant, reason = "no allocator to box Target into (see clippy.toml)")]
pub enum Failure<'a> {
    Cli(CliProblem<'a>),
    Target(TargetProblem<'a>),
    Stdio(StdioProblem),
    Handoff(HandoffProblem),
    Relay(RelayProblem),
    Attempts(AttemptsProblem),
    SshConfig(SshConfigProblem<'a>),
}

impl Failure<'_> {
    /// Writes the message (without newline) into `line`.
    pub fn describe(&self, line: &mut Line) {
        // `ref` throughout: no copies of the larger problems onto the stack.
        match *self {
            Self::Cli(ref problem) => problem.describe(line),
            Self::Target(ref problem) => problem.describe(line),
            Self::Stdio(ref problem) => problem.describe(line),
            Self::Handoff(ref problem) => problem.describe(line),
            Self::Relay(ref problem) => problem.describe(line),
            Self::Attempts(ref problem) => problem.describe(line),
            Self::SshConfig(ref problem) => problem.describe(line),
        }
    }

    /// True when trying again later may succeed (`--wait` retries these):
    /// the target is not there yet (no socket file, nobody listens, the VM
    /// is still booting, machined does not know the machine yet).
    pub fn is_transient(&self) -> bool {
        let Self::Target(ref problem) = *self else {
            return false;
        };
        match *problem {
            TargetProblem::Unix(UnixProblem::Connect { errno, .. })
            | TargetProblem::Vsock(VsockProblem::Connect { errno, .. })
            | TargetProblem::Machine(MachineProblem::NspawnConnect { errno, .. }) => is_transient_errno(errno),
            TargetProblem::Mux(MuxFailure { problem: MuxProblem::NotOpen, .. }) => true,
            TargetProblem::Machine(MachineProblem::SshAddress {
                problem: SshAddressProblem::Failed { transient, .. },
                ..
            }) => transient,
            TargetProblem::Machine(MachineProblem::Lookup { ref user, ref system, .. }) => {
                scope_is_transient(system) && user.as_ref().is_none_or(scope_is_transient)
            }
            _ => false,
        }
    }
}

/// Errors that mean "not there yet".
const TRANSIENT_ERRNOS: [u32; 6] = {
    use linux_raw_sys::errno::*;
    [ENOENT, ECONNREFUSED, ECONNRESET, ETIMEDOUT, ENODEV, EHOSTUNREACH]
};

/// True for an errno of reaching a socket that means it is not there yet
/// (what `--wait` retries, and ssh-sockserve's READY=1 builds on).
pub fn is_transient_errno(errno: i32) -> bool {
    u32::try_from(errno).is_ok_and(|errno| TRANSIENT_ERRNOS.contains(&errno))
}

fn scope_is_transient(problem: &ScopeProblem) -> bool {
    match *problem {
        ScopeProblem::NoSuchMachine => true,
        ScopeProblem::Unreachable(errno) => is_transient_errno(errno),
        _ => false,
    }
}

wrap_problems!(
    Failure:
    Cli(CliProblem<'a>),
    Target(TargetProblem<'a>),
    Target(UnixProblem<'a>),
    Target(VsockProblem<'a>),
    Target(MuxFailure<'a>),
    Target(MachineProblem<'a>),
    Stdio(StdioProblem),
    Handoff(HandoffProblem),
    Relay(RelayProblem),
    Attempts(AttemptsProblem),
    SshConfig(SshConfigProblem<'a>),
);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::targets::machine::NspawnLayout;
    use crate::targets::mux::ReplyReader;
    use crate::targets::unix::{UnixAddress, UnixPath};
    use crate::targets::vsock::VsockAddress;

    #[test]
    fn transient_failures() {
        let path = UnixAddress::Path(UnixPath { add_root: true, written: b"x" });
        let vsock = VsockAddress { cid: 3, port: 22 };
        let mux = |problem| Failure::from(MuxFailure { address: path, port: 22, problem });
        let lookup = |user, system| Failure::from(MachineProblem::Lookup { name: b"m", user, system });
        let transient = [
            Failure::from(UnixProblem::Connect { address: path, errno: 2 }),
            Failure::from(UnixProblem::Connect { address: path, errno: 111 }),
            Failure::from(VsockProblem::Connect { address: vsock, errno: 110 }),
            Failure::from(VsockProblem::Connect { address: vsock, errno: 19 }),
            Failure::from(VsockProblem::Connect { address: vsock, errno: 113 }),
            Failure::from(VsockProblem::Connect { address: vsock, errno: 104 }),
            mux(MuxProblem::NotOpen),
            lookup(None, ScopeProblem::NoSuchMachine),
            lookup(Some(ScopeProblem::NoSuchMachine), ScopeProblem::Unreachable(2)),
            Failure::from(MachineProblem::NspawnConnect {
                runtime_dir: b"/run",
                name: b"m",
                layout: NspawnLayout::Current,
                errno: 2,
            }),
        ];
        for failure in transient {
            assert!(failure.is_transient(), "{failure:?}");
        }
        let lasting = [
            Failure::from(UnixProblem::Connect { address: path, errno: 13 }),
            Failure::from(UnixProblem::Connect { address: path, errno: 91 }),
            Failure::from(UnixProblem::NotSocket { address: path, mode: linux_raw_sys::general::S_IFREG }),
            Failure::from(VsockProblem::Connect { address: vsock, errno: 97 }),
            mux(MuxProblem::BadReply(ReplyReader::default())),
            lookup(None, ScopeProblem::TimedOut),
            lookup(Some(ScopeProblem::TooLarge), ScopeProblem::NoSuchMachine),
            Failure::from(MachineProblem::NoCid(b"m")),
            Failure::from(VsockProblem::BadPort(b"x")),
            Failure::from(UnixProblem::Socket(24)),
        ];
        for failure in lasting {
            assert!(!failure.is_transient(), "{failure:?}");
        }
    }

    #[test]
    fn each_problem_words_its_own_line() {
        let mut line = Line::default();
        Failure::from(TargetProblem::UnknownHost(b"foo")).describe(&mut line);
        assert_eq!(line.finish(), b"Don't know how to parse host name specification: foo\n");
        let mut line = Line::default();
        Failure::from(AttemptsProblem::TimedOut(3)).describe(&mut line);
        assert_eq!(line.finish(), b"Timed out after 3 s connecting to the target (--timeout).\n");
    }
}
