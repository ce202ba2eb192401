//! Relay mode's one way to fail: copying in either direction (see sys/relay.rs).

use crate::line::Line;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RelayProblem {
    /// ssh → target (else target → ssh).
    pub to_target: bool,
    pub errno: i32,
}

impl RelayProblem {
    pub fn describe(&self, line: &mut Line) {
        line.text(if self.to_target {
            b"Failed to relay from ssh to the target: "
        } else {
            b"Failed to relay from the target to ssh: "
        });
        line.errno(self.errno);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages() {
        let message = |problem: RelayProblem| crate::line::render(|line| problem.describe(line));
        assert_eq!(
            message(RelayProblem { to_target: true, errno: 104 }),
            "Failed to relay from ssh to the target: Connection reset by peer\n"
        );
        assert_eq!(
            message(RelayProblem { to_target: false, errno: 32 }),
            "Failed to relay from the target to ssh: Broken pipe\n"
        );
    }
}
