//! What differs between the architectures, one file each, picked by
//! `target_arch`: the raw syscall instruction (`syscall4`, `syscall6`,
//! `exit_group`), `_start` (`rt_start!`), the byte loops under the mem
//! functions, and the layout of the kernel's `struct sigaction`.

#[cfg(target_arch = "aarch64")]
mod aarch64;
#[cfg(target_arch = "arm")]
mod arm;
#[cfg(target_arch = "riscv64")]
mod riscv64;
#[cfg(target_arch = "x86_64")]
mod x86_64;

#[cfg(target_arch = "aarch64")]
pub use aarch64::*;
#[cfg(target_arch = "arm")]
pub use arm::*;
#[cfg(target_arch = "riscv64")]
pub use riscv64::*;
#[cfg(target_arch = "x86_64")]
pub use x86_64::*;

#[cfg(not(any(target_arch = "x86_64", target_arch = "aarch64", target_arch = "riscv64", target_arch = "arm")))]
compile_error!("sys/rt/arch/ has the start-up and raw syscalls of x86_64, aarch64, riscv64 and arm Linux only");
