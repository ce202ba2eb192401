//! What differs between the architectures, one file each, picked by
//! `target_arch`: the raw syscall instruction (`syscall4`, `syscall6`,
//! `exit_group`), `_start` (`rt_start!`), the byte loops under the mem
//! functions, and the layout of the kernel's `struct sigaction`.

#[cfg(target_arch = "x86_64")]
mod x86_64;

#[cfg(target_arch = "x86_64")]
pub use x86_64::*;

#[cfg(not(target_arch = "x86_64"))]
compile_error!("sys/rt/arch/ has the start-up and raw syscalls of x86_64 Linux only");
