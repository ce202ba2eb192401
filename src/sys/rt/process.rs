//! New processes without libc: fork (clone with only SIGCHLD) and execve,
//! which rustix keeps in its doc-hidden runtime module, and closing what a
//! process inherited (close_range, which rustix lacks). Built on syscall4 like every raw syscall.

use core::ffi::{c_char, c_int};

use linux_raw_sys::errno::ENOSYS;
use linux_raw_sys::general::{__NR_clone, __NR_close, __NR_close_range, __NR_execve, SIGCHLD};

use super::syscall::syscall4;

/// fork(2): 0 in the child, the child's PID in the parent, or the errno.
///
/// clone with only SIGCHLD in the flags and zeros elsewhere: no new stack,
/// no TID or TLS words (so the architectures' different argument orders do
/// not matter); the child gets a copy of the address space, as from fork.
pub fn fork() -> Result<u32, c_int> {
    // SAFETY: without CLONE_VM the child has its own copy of memory, and
    // this process has no other threads whose locks the copy could hold.
    let ret = unsafe { syscall4(__NR_clone, SIGCHLD as usize, 0, 0, 0) };
    // A failure is -errno, -4095 to -1; a PID fits in u32.
    if ret < 0 { Err(ret.unsigned_abs() as c_int) } else { Ok(ret as u32) }
}

/// execve(2): returns only when it failed, with the errno.
///
/// # Safety
/// `path` must be a NUL-terminated string, `argv` and `envp` null-terminated
/// arrays of such strings.
pub unsafe fn execve(path: *const c_char, argv: *const *const c_char, envp: *const *const c_char) -> c_int {
    // SAFETY: the caller's contract.
    let ret = unsafe { syscall4(__NR_execve, path as usize, argv as usize, envp as usize, 0) };
    ret.unsigned_abs() as c_int
}

/// Closes every descriptor from `first` on: close_range(2), or before Linux
/// 5.9 (ENOSYS) close(2) on each one below 1024, where parents that leak
/// descriptors keep them (select's limit), without /proc to list them.
///
/// # Safety
/// No descriptor from `first` on may be in use (owned) by the program.
pub unsafe fn close_from(first: u32) {
    // SAFETY: only numbers; what is closed is the caller's contract.
    let ret = unsafe { syscall4(__NR_close_range, first as usize, u32::MAX as usize, 0, 0) };
    if ret.unsigned_abs() == ENOSYS as usize {
        for fd in first..1024 {
            // SAFETY: as above; a number that is no descriptor is EBADF.
            unsafe { syscall4(__NR_close, fd as usize, 0, 0, 0) };
        }
    }
}
