//! The binary's syscall layer: everything that touches the kernel.

pub mod args;
pub mod case_recovery;
pub mod deadline;
pub mod handoff;
pub mod machine;
pub mod own_path;
pub mod stdio;
pub mod unix_connect;
pub mod vsock_connect;
pub mod vsock_mux;

use core::ffi::c_int;

unsafe extern "C" {
    fn _exit(status: c_int) -> !;
}

/// Ends the process at once, without running exit handlers.
pub fn exit_now(status: c_int) -> ! {
    // SAFETY: _exit takes any status and never returns.
    unsafe { _exit(status) }
}
