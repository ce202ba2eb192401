//! The syscall layer: everything that touches the kernel, through rustix and,
//! where rustix has no stable API, raw syscalls (rt/). Each file holds the
//! syscall half of the library module of the same name: connect/unix.rs of
//! targets/unix.rs, handoff.rs of handoff.rs, and so on.

pub mod attempts;
pub mod buffers;
pub mod connect;
pub mod deadline;
pub mod handoff;
pub mod proxy;
pub mod relay;
pub mod rt;
pub mod serve;
pub mod ssh_config;
pub mod stdio;

use core::ffi::CStr;

/// `bytes` up to and with its first NUL: CStr::from_bytes_until_nul in
/// smaller code (docs/performance.md, Size).
pub fn cstr_until_nul(bytes: &[u8]) -> Option<&CStr> {
    let nul = bytes.iter().position(|&b| b == 0)?;
    // SAFETY: the slice ends with a NUL, the first one in it.
    Some(unsafe { CStr::from_bytes_with_nul_unchecked(bytes.get(..=nul)?) })
}
