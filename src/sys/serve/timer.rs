//! A one-shot timer the server polls beside its sockets: a timerfd, so that
//! no clock has to be read and a wake-up for anything else does not restart it.

use core::time::Duration;

use rustix::fd::{AsFd, BorrowedFd, OwnedFd};
use rustix::io::read;
use rustix::time::{
    Itimerspec, TimerfdClockId, TimerfdFlags, TimerfdTimerFlags, Timespec, timerfd_create, timerfd_settime,
};

pub struct Timer(OwnedFd);

impl Timer {
    pub fn new() -> Result<Self, i32> {
        timerfd_create(TimerfdClockId::Monotonic, TimerfdFlags::CLOEXEC | TimerfdFlags::NONBLOCK)
            .map(Self)
            .map_err(|errno| errno.raw_os_error())
    }

    /// Fires once, `after` from now (replacing what was set).
    pub fn arm(&self, after: Duration) {
        let value = Timespec {
            tv_sec: i64::try_from(after.as_secs()).unwrap_or(i64::MAX),
            tv_nsec: i64::from(after.subsec_nanos()),
        };
        let once = Itimerspec { it_interval: Timespec { tv_sec: 0, tv_nsec: 0 }, it_value: value };
        // Cannot fail with a valid timerfd and a value in range.
        let _ = timerfd_settime(&self.0, TimerfdTimerFlags::empty(), &once);
    }

    /// True when it has fired since the last call (which clears it).
    pub fn fired(&self) -> bool {
        let mut count = [0u8; 8];
        matches!(read(&self.0, &mut count), Ok(8))
    }
}

impl AsFd for Timer {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.0.as_fd()
    }
}
