//! ssh-sockserve, the guest half: puts a command such as `sshd -i` on
//! AF_VSOCK and AF_UNIX sockets, one process per connection. Its command
//! line (cli.rs), the LISTEN grammar (listen.rs), readiness (notify.rs) and
//! the connections (connection.rs) each own their problems; `Failure` wraps
//! those that end the run. The syscall half is sys/serve/.

pub mod cli;
pub mod connection;
pub mod listen;
pub mod notify;

use crate::line::Line;
use crate::stdio::StdioProblem;
use cli::UsageProblem;
use listen::ListenProblem;
use notify::NotifyProblem;

/// What the server needs from the kernel before it can serve.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SetupProblem {
    Signals(i32),
    Timer(i32),
}

impl SetupProblem {
    pub fn describe(&self, line: &mut Line) {
        match *self {
            Self::Signals(errno) => line.text(b"Failed to set up signal handling: ").errno(errno),
            Self::Timer(errno) => line.text(b"Failed to set up a timer: ").errno(errno),
        };
    }
}

/// Why the server exits 1: one line on stderr, said before it serves, or
/// after it has closed and removed what it had bound.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Failure<'a> {
    Usage(UsageProblem<'a>),
    Listen(ListenProblem<'a>),
    Notify(NotifyProblem<'a>),
    Stdio(StdioProblem),
    Setup(SetupProblem),
}

impl Failure<'_> {
    pub fn describe(&self, line: &mut Line) {
        match *self {
            Self::Usage(ref problem) => problem.describe(line),
            Self::Listen(ref problem) => problem.describe(line),
            Self::Notify(ref problem) => problem.describe(line),
            Self::Stdio(ref problem) => problem.describe(line),
            Self::Setup(ref problem) => problem.describe(line),
        }
    }
}

wrap_problems!(
    Failure:
    Usage(UsageProblem<'a>),
    Listen(ListenProblem<'a>),
    Notify(NotifyProblem<'a>),
    Stdio(StdioProblem),
    Setup(SetupProblem),
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_problem_words_its_own_line() {
        let message = |failure: Failure| crate::line::render(|line| failure.describe(line));
        assert_eq!(
            message(Failure::from(UsageProblem::NoCommand)),
            "Expected the command to run after -- (see --help).\n"
        );
        assert_eq!(
            message(Failure::from(SetupProblem::Signals(24))),
            "Failed to set up signal handling: Too many open files\n"
        );
        assert_eq!(message(Failure::from(SetupProblem::Timer(24))), "Failed to set up a timer: Too many open files\n");
        assert_eq!(message(Failure::from(StdioProblem::Closed(0))), "Standard input (fd 0) is closed.\n");
    }
}
