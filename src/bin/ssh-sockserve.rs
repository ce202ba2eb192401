//! ssh-sockserve: the guest half, `sshd -i` on AF_VSOCK and AF_UNIX sockets.
//! A program without libc (see sys/rt/); its run is sys/serve/.
#![no_std]
#![no_main]

use core::ffi::{c_char, c_int};

sockproxy::c_runtime!(main);

/// Called by the start-up code; crt1.o refers to it by this name too.
#[unsafe(no_mangle)]
extern "C" fn main(argc: c_int, argv: *const *const c_char, envp: *const *const c_char) -> c_int {
    // SAFETY: the kernel passes argc NUL-terminated strings and the
    // environment, which live until the process exits; no other thread runs.
    unsafe { sockproxy::sys::serve::main(argc, argv, envp) }
}
