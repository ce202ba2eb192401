//! The binary's syscall layer: everything that touches the kernel.

pub mod args;
pub mod attempts;
pub mod case_recovery;
pub mod deadline;
pub mod handoff;
pub mod machine;
mod mem;
pub mod own_path;
pub mod relay;
mod start;
pub mod stdio;
pub mod syscall;
pub mod unix_connect;
pub mod vsock_connect;
pub mod vsock_mux;

use core::ffi::c_int;

/// Ends the process at once, without running exit handlers.
pub fn exit_now(status: c_int) -> ! {
    syscall::exit_group(status)
}
