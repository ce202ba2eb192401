//! Process start-up without a C library.
//!
//! The binary needs none of libc's services: rustix makes the syscalls, and
//! there is no TLS, no allocator, no stdio, no constructor to run. musl's
//! start-up code (TLS and auxv set-up, init_array, exit handlers) and its
//! unwind tables took several KB, so the binary links no libc and no C
//! runtime object: each architecture's `_start` (arch/, put into the binary
//! by `c_runtime!`) passes the initial stack pointer to the binary's entry,
//! which calls `start` here.

use core::ffi::{c_char, c_int};

use super::syscall::exit_group;

/// The program's `main`, called with argc, argv and the environment.
pub type Main = extern "C" fn(c_int, *const *const c_char, *const *const c_char) -> c_int;

/// Runs `main` with argc, argv and the environment as the kernel put them
/// on the initial stack: argc, argc pointers, a null, then the
/// environment's pointers and a null.
///
/// # Safety
/// `stack` must be the initial stack pointer that `_start` found.
pub unsafe fn start(stack: *const usize, main: Main) -> ! {
    // SAFETY: the caller's contract: argc is at the stack pointer.
    let argc = unsafe { *stack };
    // SAFETY: argv follows argc, and the environment argv's null.
    let (argv, envp) = unsafe {
        let argv = stack.add(1).cast::<*const c_char>();
        (argv, argv.add(argc).add(1))
    };
    exit_group(main(c_int::try_from(argc).unwrap_or(0), argv, envp))
}
