//! `--wait` and `--timeout`: the pauses between attempts and what can go
//! wrong with the timers (see sys/attempts.rs; which failures are worth
//! another attempt is `Failure::is_transient`).

use core::time::Duration;

use crate::line::Line;

/// The first pause between attempts; each next one doubles, up to the longest.
pub const FIRST_PAUSE: Duration = Duration::from_millis(100);
pub const LONGEST_PAUSE: Duration = Duration::from_secs(1);

/// The pause after `pause`.
pub fn next_pause(pause: Duration) -> Duration {
    pause.saturating_mul(2).min(LONGEST_PAUSE)
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AttemptsProblem {
    /// `--timeout` ran out while connecting.
    TimedOut(u32),
    /// The `--wait` timer could not be set up.
    Timer(i32),
}

impl AttemptsProblem {
    pub fn describe(&self, line: &mut Line) {
        match *self {
            Self::TimedOut(seconds) => {
                line.text(b"Timed out after ").number(seconds).text(b" s connecting to the target (--timeout).");
            }
            Self::Timer(errno) => {
                line.text(b"Failed to set up the --wait timer: ").errno(errno);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pauses_double_up_to_a_second() {
        let pauses: Vec<u128> = core::iter::successors(Some(FIRST_PAUSE), |&p| Some(next_pause(p)))
            .take(6)
            .map(|p| p.as_millis())
            .collect();
        assert_eq!(pauses, [100, 200, 400, 800, 1000, 1000]);
    }

    #[test]
    fn messages() {
        let mut line = Line::default();
        AttemptsProblem::TimedOut(3).describe(&mut line);
        assert_eq!(line.finish(), b"Timed out after 3 s connecting to the target (--timeout).\n");
    }
}
