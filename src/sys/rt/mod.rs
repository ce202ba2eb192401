//! The libc stand-in of the static binaries, which link no libc: start-up
//! (start.rs), the mem functions that compiled code calls (mem.rs), the raw
//! syscalls rustix has no stable API for (syscall.rs; signal.rs for the
//! signals, process.rs for fork and exec), argv and the environment
//! (args.rs), what differs between the architectures (arch/), and the
//! linker script that build.rs gives every
//! binary (discard.ld). A binary crate takes it on with `c_runtime!`.

pub mod arch;
pub mod args;
pub mod mem;
pub mod process;
pub mod signal;
pub mod start;
pub mod syscall;

use core::ffi::c_int;

/// Exit status of a panic; the tests assert that no run ever ends with it.
pub const PANIC_EXIT: c_int = 70;

/// Ends the process at once, without running exit handlers (there are none).
pub fn exit_now(status: c_int) -> ! {
    syscall::exit_group(status)
}

/// Defines, in the binary crate that invokes it, the symbols that no libc
/// supplies here (the entry point `_start`, and `memcpy` & co., which
/// compiled code calls), and the panic handler. `$main` is the program's
/// `extern "C" fn(argc, argv, envp) -> c_int`. A macro, so that the library
/// itself defines none of them and std programs can link it.
#[macro_export]
macro_rules! c_runtime {
    ($main:path) => {
        /// Called by `_start` with the initial stack pointer (see sys/rt/start.rs).
        unsafe extern "C" fn sockproxy_entry(stack: *const usize) -> ! {
            // SAFETY: `_start` passes the stack pointer the kernel set up.
            unsafe { $crate::sys::rt::start::start(stack, $main) }
        }
        $crate::rt_start!(sockproxy_entry);

        #[unsafe(no_mangle)]
        unsafe extern "C" fn memcpy(dest: *mut u8, src: *const u8, n: usize) -> *mut u8 {
            // SAFETY: memcpy's contract is the caller's.
            unsafe { $crate::sys::rt::mem::memcpy(dest, src, n) }
        }

        #[unsafe(no_mangle)]
        unsafe extern "C" fn memmove(dest: *mut u8, src: *const u8, n: usize) -> *mut u8 {
            // SAFETY: memmove's contract is the caller's.
            unsafe { $crate::sys::rt::mem::memmove(dest, src, n) }
        }

        #[unsafe(no_mangle)]
        unsafe extern "C" fn memset(dest: *mut u8, c: ::core::ffi::c_int, n: usize) -> *mut u8 {
            // SAFETY: memset's contract is the caller's.
            unsafe { $crate::sys::rt::mem::memset(dest, c, n) }
        }

        #[unsafe(no_mangle)]
        unsafe extern "C" fn memcmp(a: *const u8, b: *const u8, n: usize) -> ::core::ffi::c_int {
            // SAFETY: memcmp's contract is the caller's.
            unsafe { $crate::sys::rt::mem::memcmp(a, b, n) }
        }

        #[unsafe(no_mangle)]
        unsafe extern "C" fn bcmp(a: *const u8, b: *const u8, n: usize) -> ::core::ffi::c_int {
            // SAFETY: bcmp's contract, memcmp's, is the caller's.
            unsafe { $crate::sys::rt::mem::memcmp(a, b, n) }
        }

        #[unsafe(no_mangle)]
        unsafe extern "C" fn strlen(s: *const u8) -> usize {
            // SAFETY: strlen's contract is the caller's.
            unsafe { $crate::sys::rt::mem::strlen(s) }
        }

        #[panic_handler]
        fn panic(_: &::core::panic::PanicInfo) -> ! {
            $crate::sys::rt::exit_now($crate::sys::rt::PANIC_EXIT)
        }

        // Without LTO (the dev profile) the prebuilt core still refers to the
        // unwinder's personality routine, although panic = "abort" never
        // unwinds; this stands in.
        #[cfg(debug_assertions)]
        #[unsafe(no_mangle)]
        extern "C" fn rust_eh_personality() {}
    };
}
