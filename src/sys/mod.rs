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

use core::ffi::{CStr, c_int};

/// `bytes` up to and with its first NUL, like CStr::from_bytes_until_nul but
/// without the word-at-a-time memchr that brings 250 bytes of code.
pub fn cstr_until_nul(bytes: &[u8]) -> Option<&CStr> {
    let nul = bytes.iter().position(|&b| b == 0)?;
    // SAFETY: the slice ends with a NUL, the first one in it.
    Some(unsafe { CStr::from_bytes_with_nul_unchecked(bytes.get(..=nul)?) })
}

/// Ends the process at once, without running exit handlers.
pub fn exit_now(status: c_int) -> ! {
    syscall::exit_group(status)
}
