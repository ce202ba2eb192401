//! A point in time that waits can be bounded by: a timerfd polled beside the
//! socket, so no clock has to be read (rustix reads clocks through the vDSO,
//! which costs kilobytes of parsing code).

use core::time::Duration;

use rustix::event::{PollFd, PollFlags, poll};
use rustix::fd::{BorrowedFd, OwnedFd};
use rustix::io::Errno;
use rustix::time::{
    Itimerspec, TimerfdClockId, TimerfdFlags, TimerfdTimerFlags, Timespec, timerfd_create, timerfd_settime,
};

pub struct Deadline(OwnedFd);

impl Deadline {
    /// A deadline `after` from now.
    pub fn after(after: Duration) -> Result<Self, Errno> {
        let timer = timerfd_create(TimerfdClockId::Monotonic, TimerfdFlags::CLOEXEC | TimerfdFlags::NONBLOCK)?;
        let once = Itimerspec { it_interval: timespec(Duration::ZERO), it_value: timespec(after) };
        timerfd_settime(&timer, TimerfdTimerFlags::empty(), &once)?;
        Ok(Self(timer))
    }

    /// Sleeps for `pause` or until the deadline, whichever comes first;
    /// `false` when the deadline has come.
    pub fn sleep(&self, pause: Duration) -> Result<bool, Errno> {
        let mut fds = [PollFd::new(&self.0, PollFlags::IN)];
        let pause = timespec(pause);
        loop {
            match poll(&mut fds, Some(&pause)) {
                Ok(_) => return Ok(fds[0].revents().is_empty()),
                Err(Errno::INTR) => continue,
                Err(errno) => return Err(errno),
            }
        }
    }

    /// Waits until `fd` has one of `events`; `false` when the deadline came first.
    pub fn wait(&self, fd: BorrowedFd<'_>, events: PollFlags) -> Result<bool, Errno> {
        let mut fds = [PollFd::from_borrowed_fd(fd, events), PollFd::new(&self.0, PollFlags::IN)];
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

fn timespec(duration: Duration) -> Timespec {
    Timespec {
        tv_sec: i64::try_from(duration.as_secs()).unwrap_or(i64::MAX),
        tv_nsec: i64::from(duration.subsec_nanos()),
    }
}
