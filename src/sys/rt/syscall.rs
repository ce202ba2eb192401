//! The syscalls that rustix does not offer in its stable API, made directly:
//! `syscall4`, on which every raw syscall here and in signal.rs is built, and
//! exit_group, sendmsg and close_range. rustix keeps exit_group in its doc-hidden,
//! semver-exempt `runtime` module; its sendmsg only takes control messages
//! built by its own ancillary buffer type, while we send the bytes that
//! crate::handoff builds; it has no close_range. x86-64 only, like the binary (see start.rs).

use core::arch::asm;
use core::ffi::c_int;

use linux_raw_sys::general::{__NR_close_range, __NR_exit_group, __NR_sendmsg};
use linux_raw_sys::net::msghdr;
use rustix::fd::{AsRawFd, BorrowedFd};

/// Syscall `nr` with up to four arguments: the kernel's return value, a
/// negated errno on failure.
///
/// # Safety
/// The arguments must be what syscall `nr` expects, pointers valid for it.
pub unsafe fn syscall4(nr: u32, a: usize, b: usize, c: usize, d: usize) -> isize {
    let ret: isize;
    // SAFETY: the x86-64 convention: number and result in rax, arguments in
    // rdi, rsi, rdx and r10; the kernel clobbers rcx and r11 and restores
    // the flags. What the call does is the caller's contract.
    unsafe {
        asm!("syscall", inlateout("rax") nr as isize => ret, in("rdi") a, in("rsi") b, in("rdx") c, in("r10") d,
            lateout("rcx") _, lateout("r11") _, options(nostack, preserves_flags));
    }
    ret
}

/// Ends the process at once, without running exit handlers (there are none).
pub fn exit_group(status: c_int) -> ! {
    // SAFETY: exit_group takes any status and does not return.
    unsafe { asm!("syscall", in("rax") __NR_exit_group, in("rdi") status, options(noreturn, nostack)) }
}

/// sendmsg(2): the bytes sent, or the errno.
///
/// # Safety
/// `msg` must point at valid iovecs and control bytes of the lengths it gives.
pub unsafe fn sendmsg(fd: BorrowedFd<'_>, msg: &msghdr, flags: u32) -> Result<usize, c_int> {
    // SAFETY: the caller's contract; fd and flags are plain numbers.
    let ret = unsafe { syscall4(__NR_sendmsg, fd.as_raw_fd() as usize, (&raw const *msg) as usize, flags as usize, 0) };
    // A failure is -errno, -4095 to -1.
    usize::try_from(ret).map_err(|_| ret.unsigned_abs() as c_int)
}

/// close_range(2) without flags: closes every descriptor from `first` on;
/// the errno on failure (ENOSYS before Linux 5.9).
///
/// # Safety
/// No descriptor from `first` on may be in use (owned) by the program.
pub unsafe fn close_from(first: u32) -> Result<(), c_int> {
    // SAFETY: only numbers; what is closed is the caller's contract.
    let ret = unsafe { syscall4(__NR_close_range, first as usize, u32::MAX as usize, 0, 0) };
    if ret == 0 { Ok(()) } else { Err(ret.unsigned_abs() as c_int) }
}
