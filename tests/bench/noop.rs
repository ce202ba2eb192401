//! The floor of `make bench`: a static no_std binary, built like ssh-sockproxy, that exits at once.
// `cargo test` builds every example, with panic = "unwind", which no_std cannot
// take; there it is an empty std program, only so that it compiles.
#![cfg_attr(panic = "abort", no_std, no_main)]

#[cfg(panic = "unwind")]
fn main() {}

// The same start-up as ssh-sockproxy (src/sys/rt/): its `_start`, its exit.
#[cfg(panic = "abort")]
sockproxy::c_runtime!(main);

#[cfg(panic = "abort")]
extern "C" fn main(
    _argc: core::ffi::c_int,
    _argv: *const *const core::ffi::c_char,
    _envp: *const *const core::ffi::c_char,
) -> core::ffi::c_int {
    0
}
