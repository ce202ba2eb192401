//! ChildGuard: a child process killed (by PID) and reaped on drop, and waited for with a time limit.

use std::process::{Child, ExitStatus};
use std::time::{Duration, Instant};

/// Kills (by PID) and reaps a child when dropped, so a failing test leaves nothing behind.
pub struct ChildGuard(pub Option<Child>);

impl ChildGuard {
    /// Waits up to `limit`; panics (after killing it) when the child outlives it.
    pub fn wait_timeout(&mut self, limit: Duration) -> ExitStatus {
        let child = self.0.as_mut().expect("child already reaped");
        let deadline = Instant::now() + limit;
        loop {
            if let Some(status) = child.try_wait().expect("try_wait") {
                self.0 = None;
                return status;
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                let _ = child.wait();
                self.0 = None;
                panic!("child did not exit within {limit:?}");
            }
            std::thread::sleep(Duration::from_millis(5));
        }
    }
}

impl Drop for ChildGuard {
    fn drop(&mut self) {
        if let Some(child) = self.0.as_mut() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}
