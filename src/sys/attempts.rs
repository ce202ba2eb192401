//! `--wait` and `--timeout` around the connect: retry while the target is
//! not there yet, and bound each attempt (the pauses are in attempts.rs).

use core::cell::UnsafeCell;
use core::ffi::c_int;
use core::time::Duration;

use rustix::fd::{BorrowedFd, OwnedFd};

use crate::array_buf::ArrayBuf;
use crate::attempts::{AttemptsProblem, FIRST_PAUSE, next_pause};
use crate::cli::Options;
use crate::failure::Failure;
use crate::line::{LINE_CAPACITY, Line};
use crate::notice::Notice;
use crate::sys::deadline::Deadline;
use crate::sys::rt::signal::{self, Action, SIG_UNBLOCK, SIGALRM, mask_of};
use crate::sys::rt::syscall;
use crate::sys::stdio::notify;

/// Runs `attempt` once, or with `--wait` until it succeeds, fails for good
/// or the time is up (then its last failure stands).
#[inline(never)]
pub fn connect<'a>(
    options: &Options,
    mut attempt: impl FnMut() -> Result<OwnedFd, Failure<'a>>,
) -> Result<OwnedFd, Failure<'a>> {
    let deadline = match options.wait {
        Some(seconds) if seconds > 0 => Some(
            Deadline::after(Duration::from_secs(u64::from(seconds)))
                .map_err(|errno| AttemptsProblem::Timer(errno.raw_os_error()))?,
        ),
        _ => None,
    };
    let mut pause = FIRST_PAUSE;
    loop {
        if let Some(seconds) = options.timeout {
            arm_timeout(seconds);
        }
        let result = attempt();
        if options.timeout.is_some() {
            disarm_timeout();
        }
        let failure = match result {
            Err(failure) if failure.is_transient() => failure,
            result => return result,
        };
        let Some(deadline) = &deadline else { return Err(failure) };
        if !deadline.sleep(pause).map_err(|errno| AttemptsProblem::Timer(errno.raw_os_error()))? {
            return Err(failure);
        }
        // Said just before the next try, so the last failure is never followed by it.
        if options.verbose {
            notify(&Notice::Retrying(failure));
        }
        pause = next_pause(pause);
    }
}

/// The message the alarm handler prints: written before the alarm is armed,
/// read only by the handler while it is.
struct TimeoutMessage(UnsafeCell<ArrayBuf<LINE_CAPACITY>>);

// SAFETY: the process is single-threaded; the cell is written only while no
// alarm is pending and read only from the handler (see arm_timeout).
unsafe impl Sync for TimeoutMessage {}

static TIMEOUT_MESSAGE: TimeoutMessage = TimeoutMessage(UnsafeCell::new(ArrayBuf::new()));

extern "C" fn on_alarm(_: c_int) -> ! {
    // SAFETY: armed only after the message was written; nothing writes it now.
    let message = unsafe { &*TIMEOUT_MESSAGE.0.get() };
    // SAFETY: fd 2 was checked open at start-up.
    let stderr = unsafe { BorrowedFd::borrow_raw(2) };
    let _ = rustix::io::write(stderr, message.as_bytes());
    syscall::exit_group(1)
}

/// A hung connect or handshake cannot be interrupted portably from inside,
/// so SIGALRM ends the process with the timeout's message, like timeout(1).
#[inline(never)]
fn arm_timeout(seconds: u32) {
    let mut line = Line::default();
    Failure::Attempts(AttemptsProblem::TimedOut(seconds)).describe(&mut line);
    // SAFETY: no alarm is pending (disarmed after every attempt), so the
    // handler cannot be reading the cell now.
    let message = unsafe { &mut *TIMEOUT_MESSAGE.0.get() };
    // A line is at most LINE_CAPACITY bytes: it always fits.
    message.clear();
    let _ = message.push(line.finish());
    // SAFETY: the handler only writes and exits, both async-signal-safe.
    unsafe { signal::set_action(SIGALRM, Action::Handle(on_alarm)) };
    // A mask inherited from the parent may block it. Unblocked here, with the
    // handler in place, rather than at start-up: a SIGALRM pending since
    // before exec then cannot end the process by its default action.
    signal::set_mask(SIG_UNBLOCK, mask_of(SIGALRM));
    signal::alarm(seconds);
}

fn disarm_timeout() {
    signal::alarm(0);
}
