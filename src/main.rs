//! ssh-sockproxy: the OpenSSH ProxyCommand. A program without libc (see
//! sys/rt/); its run is sys/proxy.rs.
#![no_std]
#![no_main]

use core::ffi::{c_char, c_int};

sockproxy::c_runtime!(main);

/// Called by the start-up code (sys/rt/start.rs).
extern "C" fn main(argc: c_int, argv: *const *const c_char, envp: *const *const c_char) -> c_int {
    // SAFETY: the kernel passes argc NUL-terminated strings and the
    // environment, which live, unchanged, until the process exits.
    unsafe { sockproxy::sys::proxy::main(argc, argv, envp) }
}
