//! Signals: what one does (set_action), the mask (set_mask) and SIGALRM
//! after a time (alarm). rustix keeps sigaction in its doc-hidden runtime
//! module and has neither sigprocmask nor alarm/setitimer.

use core::ffi::c_int;
use core::mem::size_of;

use linux_raw_sys::general::{
    __NR_rt_sigaction, __NR_rt_sigprocmask, __NR_setitimer, __kernel_old_time_t, ITIMER_REAL, itimerval, timeval,
};

use super::arch::KernelSigaction;
use super::syscall::syscall4;

pub use linux_raw_sys::general::{SIG_BLOCK, SIG_SETMASK, SIG_UNBLOCK, SIGALRM, SIGPIPE};

/// What a signal is to do.
pub enum Action {
    /// SIG_IGN.
    Ignore,
    /// Run this handler, which ends the process and so never returns.
    Handle(extern "C" fn(c_int) -> !),
}

/// Sets what `signal` does. rt_sigaction cannot fail for SIGPIPE and SIGALRM.
///
/// # Safety
/// A handler may run between any two instructions: it must do only what is
/// async-signal-safe.
pub unsafe fn set_action(signal: u32, action: Action) {
    let handler = match action {
        Action::Ignore => 1,
        Action::Handle(handler) => handler as usize,
    };
    let new = KernelSigaction::new(handler, 0, 0);
    // SAFETY: `new` is a valid kernel sigaction, alive across the call; no old
    // action is asked for; the mask is 8 bytes. The handler is the caller's.
    unsafe { syscall4(__NR_rt_sigaction, signal as usize, (&raw const new) as usize, 0, size_of::<u64>()) };
}

/// Sets the signal mask as `how` (SIG_BLOCK, SIG_UNBLOCK or SIG_SETMASK) says
/// with `set` (bit `n - 1` is signal `n`); returns the mask before. It cannot
/// fail with these arguments.
pub fn set_mask(how: u32, set: u64) -> u64 {
    let mut old: u64 = 0;
    // SAFETY: both masks are 8 bytes, alive across the call.
    unsafe {
        syscall4(
            __NR_rt_sigprocmask,
            how as usize,
            (&raw const set) as usize,
            (&raw mut old) as usize,
            size_of::<u64>(),
        )
    };
    old
}

/// The bit of `signal` (1 to 64) in a signal mask.
pub const fn mask_of(signal: u32) -> u64 {
    1u64.wrapping_shl(signal.wrapping_sub(1))
}

/// SIGALRM after `seconds` (setitimer, which every architecture has, unlike
/// alarm), or no pending alarm for 0.
pub fn alarm(seconds: u32) {
    let zero = timeval { tv_sec: 0, tv_usec: 0 };
    // tv_sec is a C long: on arm, 2^31 seconds and more (68 years) become i32::MAX.
    let tv_sec = __kernel_old_time_t::try_from(u64::from(seconds)).unwrap_or(__kernel_old_time_t::MAX);
    let value = timeval { tv_sec, tv_usec: 0 };
    let timer = itimerval { it_interval: zero, it_value: value };
    // SAFETY: `timer` is a valid itimerval, alive across the call; no old
    // value is asked for.
    unsafe { syscall4(__NR_setitimer, ITIMER_REAL as usize, (&raw const timer) as usize, 0, 0) };
}

// What ssh-sockserve adds: signals read from a descriptor instead of
// handlers (no restorer or signal frame involved), and the dispositions a
// child must not inherit. Arch-neutral: they rely on the kernel's sigaction
// only in that all zeros is SIG_DFL, no flags, an empty mask.

/// A sigaction of all zeros: SIG_DFL with no flags and an empty mask.
fn zero_action() -> KernelSigaction {
    // SAFETY: the struct is plain integers; all zeros is a valid value.
    unsafe { core::mem::zeroed() }
}

/// Sets what `signal` does back to SIG_DFL (it fails, harmlessly, for
/// SIGKILL, SIGSTOP and numbers that are no signal).
pub fn set_default(signal: u32) {
    let new = zero_action();
    // SAFETY: `new` is a valid kernel sigaction, alive across the call; no
    // old action is asked for; the mask is 8 bytes. SIG_DFL runs no code.
    unsafe { syscall4(__NR_rt_sigaction, signal as usize, (&raw const new) as usize, 0, size_of::<u64>()) };
}

/// The signals whose action is SIG_IGN, as a mask (bit `n - 1` for signal
/// `n`), such as SIGINT and SIGQUIT for a shell's background job.
pub fn ignored() -> u64 {
    let mut mask = 0;
    for signal in 1..=64u32 {
        let mut old = zero_action();
        // SAFETY: only the old action is asked for, into `old`, alive across
        // the call; the mask is 8 bytes.
        let ret = unsafe { syscall4(__NR_rt_sigaction, signal as usize, 0, (&raw mut old) as usize, size_of::<u64>()) };
        // SIG_IGN is 1.
        if ret == 0 && old.handler() == 1 {
            mask |= mask_of(signal);
        }
    }
    mask
}

/// A signalfd (CLOEXEC, non-blocking) that reads the signals in `mask`,
/// which the caller blocks; the errno when it cannot be made.
pub fn signalfd(mask: u64) -> Result<rustix::fd::OwnedFd, c_int> {
    use linux_raw_sys::general::{__NR_signalfd4, O_CLOEXEC, O_NONBLOCK};
    // SFD_CLOEXEC and SFD_NONBLOCK are O_CLOEXEC and O_NONBLOCK.
    let flags = (O_CLOEXEC | O_NONBLOCK) as usize;
    // SAFETY: -1 asks for a new descriptor; the mask is 8 bytes, alive across the call.
    let ret = unsafe { syscall4(__NR_signalfd4, usize::MAX, (&raw const mask) as usize, size_of::<u64>(), flags) };
    // A failure is -errno, -4095 to -1; a descriptor fits in c_int.
    if ret < 0 {
        return Err(ret.unsigned_abs() as c_int);
    }
    // SAFETY: the kernel just made this descriptor, which nothing else owns.
    Ok(unsafe { rustix::fd::FromRawFd::from_raw_fd(ret as c_int) })
}

/// Bytes of one `struct signalfd_siginfo`; its first field is the signal's
/// number, a u32.
pub const SIGNALFD_SIGINFO_LEN: usize = 128;
