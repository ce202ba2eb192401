//! Process start-up without a C library.
//!
//! The binary needs none of libc's services: rustix makes the syscalls, and
//! there is no TLS, no allocator, no stdio, no constructor to run. musl's
//! start-up code (TLS and auxv set-up, init_array, exit handlers) and its
//! unwind tables took several KB, so the binary links no libc.a at all.
//! rustc still links the C runtime objects of the musl target: crt1.o's
//! `_start` takes argc and argv from the stack the kernel set up and calls
//! `__libc_start_main(main, argc, argv, ...)`, which this file supplies in
//! musl's place. x86-64 only: the syscalls in syscall.rs are written for it.

use core::ffi::{c_char, c_int};

use super::syscall::exit_group;

#[cfg(not(all(target_arch = "x86_64", target_os = "linux")))]
compile_error!("the binary's start-up and raw syscalls are written for x86-64 Linux");

/// musl's entry point, called by crt1.o's `_start` with argc and argv from
/// the initial stack; the environment follows argv's terminating null.
#[unsafe(no_mangle)]
extern "C" fn __libc_start_main(_main: usize, argc: c_int, argv: *const *const c_char) -> ! {
    // SAFETY: the kernel put argc argv pointers and a null on the stack, and
    // the environment's pointers right after them.
    let envp = unsafe { argv.add(usize::try_from(argc).unwrap_or(0)).add(1) };
    exit_group(crate::main(argc, argv, envp))
}
