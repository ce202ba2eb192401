//! Standard descriptors: which one is which, and what can go wrong with them
//! (see sys/stdio.rs).

use crate::line::Line;

pub const STDIN: u8 = 0;
pub const STDOUT: u8 = 1;
pub const STDERR: u8 = 2;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StdioProblem {
    /// fd 0, 1 or 2 is not open.
    Closed(u8),
    /// fd 0, 1 or 2 is an O_PATH descriptor: open, but no data moves through it.
    PathOnly(u8),
    /// `--fdpass`, and stdout is no AF_UNIX socket.
    StdoutNotUnixSocket,
    StdoutCheck(i32),
    StdoutWrite(i32),
}

impl StdioProblem {
    pub fn describe(&self, line: &mut Line) {
        match *self {
            Self::Closed(fd) | Self::PathOnly(fd) => {
                line.text(if fd == STDIN { b"Standard input" } else { b"Standard output" });
                line.text(b" (fd ").number(u32::from(fd));
                line.text(if matches!(*self, Self::Closed(_)) {
                    b") is closed."
                } else {
                    b") is an O_PATH descriptor, which can be neither read nor written."
                });
            }
            Self::StdoutNotUnixSocket => {
                line.text(b"Standard output is not an AF_UNIX socket, so --fdpass cannot pass the connection (ssh needs ProxyUseFdpass yes).");
            }
            Self::StdoutCheck(errno) => {
                line.text(b"Failed to check standard output: ").errno(errno);
            }
            Self::StdoutWrite(errno) => {
                line.text(b"Failed to write to standard output: ").errno(errno);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages() {
        let message = |problem: StdioProblem| crate::line::render(|line| problem.describe(line));
        let cases: &[(StdioProblem, &str)] = &[
            (StdioProblem::Closed(STDIN), "Standard input (fd 0) is closed.\n"),
            (StdioProblem::Closed(STDOUT), "Standard output (fd 1) is closed.\n"),
            (
                StdioProblem::PathOnly(STDOUT),
                "Standard output (fd 1) is an O_PATH descriptor, which can be neither read nor written.\n",
            ),
            (
                StdioProblem::StdoutNotUnixSocket,
                "Standard output is not an AF_UNIX socket, so --fdpass cannot pass the connection (ssh needs ProxyUseFdpass yes).\n",
            ),
            (StdioProblem::StdoutCheck(9), "Failed to check standard output: Bad file descriptor\n"),
            (StdioProblem::StdoutWrite(28), "Failed to write to standard output: No space left on device\n"),
        ];
        for (problem, expected) in cases {
            assert_eq!(message(*problem), *expected);
        }
    }
}
