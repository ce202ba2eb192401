//! The floor of `make bench`: a static no_std binary, built like ssh-sockproxy, whose main returns 0.
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
