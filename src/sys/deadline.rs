//! A point in time that waits can be bounded by: a timerfd polled beside the
//! socket, so no clock has to be read (rustix reads clocks through the vDSO,
//! which costs kilobytes of parsing code).

use core::time::Duration;

use rustix::event::{PollFd, PollFlags, poll};
use rustix::fd::{AsFd, OwnedFd};
use rustix::io::Errno;
use rustix::time::{Itimerspec, TimerfdClockId, TimerfdFlags, TimerfdTimerFlags, Timespec, timerfd_create, timerfd_settime};

pub struct Deadline(OwnedFd);

impl Deadline {
    /// A deadline `after` from now.
    pub fn after(after: Duration) -> Result<Self, Errno> {
        let timer = timerfd_create(TimerfdClockId::Monotonic, TimerfdFlags::CLOEXEC | TimerfdFlags::NONBLOCK)?;
        let value = Timespec {
            tv_sec: i64::try_from(after.as_secs()).unwrap_or(i64::MAX),
            tv_nsec: i64::from(after.subsec_nanos()),
        };
        let zero = Timespec { tv_sec: 0, tv_nsec: 0 };
        timerfd_settime(&timer, TimerfdTimerFlags::empty(), &Itimerspec { it_interval: zero, it_value: value })?;
        Ok(Self(timer))
    }

    /// Waits until `fd` has one of `events`; `false` when the deadline came first.
    pub fn wait(&self, fd: impl AsFd, events: PollFlags) -> Result<bool, Errno> {
        let mut fds = [PollFd::new(&fd, events), PollFd::new(&self.0, PollFlags::IN)];
        loop {
            match poll(&mut fds, None) {
                Ok(_) => break,
                Err(Errno::INTR) => continue,
                Err(errno) => return Err(errno),
            }
        }
        Ok(fds[1].revents().is_empty())
    }
}
