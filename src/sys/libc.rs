//! The few functions taken from musl, which is linked for its start-up code
//! anyway: where rustix has no equivalent, or its own would cost more.

use core::ffi::c_int;

use linux_raw_sys::net::msghdr;

unsafe extern "C" {
    /// Ends the process without exit handlers (async-signal-safe).
    pub fn _exit(status: c_int) -> !;
    /// `handler` is SIG_IGN or an `extern "C" fn(c_int)` as usize.
    pub fn signal(signum: c_int, handler: usize) -> usize;
    pub fn alarm(seconds: u32) -> u32;
    /// rustix's sendmsg only takes control messages built by its own
    /// ancillary buffer type; we send the bytes sockproxy::cmsg builds.
    pub fn sendmsg(fd: c_int, msg: *const msghdr, flags: c_int) -> isize;
    pub fn __errno_location() -> *mut c_int;
}

pub const SIGPIPE: c_int = 13;
pub const SIGALRM: c_int = 14;
pub const SIG_IGN: usize = 1;
