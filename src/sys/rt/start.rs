//! Process start-up without a C library.
//!
//! The binary needs none of libc's services: rustix makes the syscalls, and
//! there is no TLS, no allocator, no stdio, no constructor to run. musl's
//! start-up code (TLS and auxv set-up, init_array, exit handlers) and its
//! unwind tables took several KB, so the binary links no libc.a at all.
//! rustc still links the C runtime objects of the musl target: crt1.o's
//! `_start` takes argc and argv from the stack the kernel set up and calls
//! `__libc_start_main(main, argc, argv, ...)`, which `c_runtime!` supplies in
//! musl's place. x86-64 only: the syscalls in syscall.rs are written for it.

use core::ffi::{c_char, c_int};

use super::syscall::exit_group;

#[cfg(not(all(target_arch = "x86_64", target_os = "linux")))]
compile_error!("the binary's start-up and raw syscalls are written for x86-64 Linux");

/// The program's `main`, called with argc, argv and the environment.
pub type Main = extern "C" fn(c_int, *const *const c_char, *const *const c_char) -> c_int;

/// Runs `main` with argc and argv as the kernel put them on the initial
/// stack (`__libc_start_main`, see `c_runtime!`, passes them on); the
/// environment follows argv's terminating null.
///
/// # Safety
/// `argv` must be the initial stack's: argc pointers, a null, then the
/// environment's pointers.
pub unsafe fn start(argc: c_int, argv: *const *const c_char, main: Main) -> ! {
    // SAFETY: the caller's contract: the environment follows argv's null.
    let envp = unsafe { argv.add(usize::try_from(argc).unwrap_or(0)).add(1) };
    exit_group(main(argc, argv, envp))
}
