//! The floor of `make bench`: a static no_std binary, built like ssh-sockproxy, that exits at once.
// `cargo test` builds every example, with panic = "unwind", which no_std cannot
// take; there it is an empty std program, only so that it compiles.
#![cfg_attr(panic = "abort", no_std, no_main)]

#[cfg(panic = "unwind")]
fn main() {}

// As in src/main.rs: without LTO (dev builds) the prebuilt core refers to the
// unwinder's personality routine.
#[cfg(all(panic = "abort", debug_assertions))]
#[unsafe(no_mangle)]
extern "C" fn rust_eh_personality() {}

#[cfg(panic = "abort")]
#[panic_handler]
fn panic(_: &core::panic::PanicInfo) -> ! {
    loop {}
}

#[cfg(panic = "abort")]
#[unsafe(no_mangle)]
extern "C" fn main() -> core::ffi::c_int {
    0
}

/// What crt1.o's `_start` calls with `main`. As in ssh-sockproxy
/// (src/sys/start.rs), no libc supplies it: the floor starts and ends the
/// same way.
#[cfg(panic = "abort")]
#[unsafe(no_mangle)]
extern "C" fn __libc_start_main(main: extern "C" fn() -> core::ffi::c_int) -> ! {
    let status = main();
    // SAFETY: exit_group (syscall 231 on x86-64) touches no memory and does not return.
    unsafe { core::arch::asm!("syscall", in("rax") 231, in("edi") status, options(noreturn, nostack)) }
}
