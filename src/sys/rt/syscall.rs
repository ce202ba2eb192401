//! The syscalls that rustix does not offer in its stable API, made directly.
//! rustix keeps exit_group and sigaction in its doc-hidden, semver-exempt
//! `runtime` module and has no alarm; its sendmsg only takes control messages
//! built by its own ancillary buffer type, while we send the bytes that
//! crate::handoff builds. x86-64 only, like the binary (see start.rs).

use core::arch::{asm, global_asm};
use core::ffi::c_int;
use core::mem::size_of;

use linux_raw_sys::general::{
    __NR_alarm, __NR_exit_group, __NR_rt_sigaction, __NR_rt_sigreturn, __NR_sendmsg, SA_RESTORER,
};
use linux_raw_sys::net::msghdr;
use rustix::fd::{AsRawFd, BorrowedFd};

pub use linux_raw_sys::general::{SIGALRM, SIGPIPE};

/// Syscall `nr` with up to four arguments: the kernel's return value, a
/// negated errno on failure.
///
/// # Safety
/// The arguments must be what syscall `nr` expects, pointers valid for it.
unsafe fn syscall4(nr: u32, a: usize, b: usize, c: usize, d: usize) -> isize {
    let ret: isize;
    // SAFETY: the x86-64 convention: number and result in rax, arguments in
    // rdi, rsi, rdx and r10; the kernel clobbers rcx and r11 and restores
    // the flags. What the call does is the caller's contract.
    unsafe {
        asm!("syscall", inlateout("rax") nr as isize => ret, in("rdi") a, in("rsi") b, in("rdx") c, in("r10") d,
            lateout("rcx") _, lateout("r11") _, options(nostack, preserves_flags));
    }
    ret
}

/// Ends the process at once, without running exit handlers (there are none).
pub fn exit_group(status: c_int) -> ! {
    // SAFETY: exit_group takes any status and does not return.
    unsafe { asm!("syscall", in("rax") __NR_exit_group, in("rdi") status, options(noreturn, nostack)) }
}

/// sendmsg(2): the bytes sent, or the errno.
///
/// # Safety
/// `msg` must point at valid iovecs and control bytes of the lengths it gives.
pub unsafe fn sendmsg(fd: BorrowedFd<'_>, msg: &msghdr, flags: u32) -> Result<usize, c_int> {
    // SAFETY: the caller's contract; fd and flags are plain numbers.
    let ret = unsafe { syscall4(__NR_sendmsg, fd.as_raw_fd() as usize, (&raw const *msg) as usize, flags as usize, 0) };
    // A failure is -errno, -4095 to -1.
    usize::try_from(ret).map_err(|_| ret.unsigned_abs() as c_int)
}

/// `struct sigaction` as the x86-64 kernel takes it (linux-raw-sys's
/// kernel_sigaction, with the handler as a plain address so that SIG_IGN fits).
#[repr(C)]
struct KernelSigaction {
    handler: usize,
    flags: u64,
    restorer: usize,
    mask: u64,
}

const _: () = assert!(size_of::<KernelSigaction>() == size_of::<linux_raw_sys::general::kernel_sigaction>());

/// What a signal is to do.
pub enum Action {
    /// SIG_IGN.
    Ignore,
    /// Run this handler, which ends the process and so never returns.
    Handle(extern "C" fn(c_int) -> !),
}

// sockproxy_restore_rt: rt_sigreturn, where a returning handler would go.
// Ours never return, but the x86-64 kernel delivers no signal whose action
// lacks SA_RESTORER (setting up the signal frame fails, and the process gets
// SIGSEGV instead). global_asm rather than a naked function: those need
// Rust 1.88.
global_asm!(
    ".pushsection .text.sockproxy_restore_rt,\"ax\",@progbits",
    "sockproxy_restore_rt:",
    "mov eax, {nr}",
    "syscall",
    ".popsection",
    nr = const __NR_rt_sigreturn,
);

unsafe extern "C" {
    fn sockproxy_restore_rt();
}

/// Sets what `signal` does. rt_sigaction cannot fail for SIGPIPE and SIGALRM.
///
/// # Safety
/// A handler may run between any two instructions: it must do only what is
/// async-signal-safe.
pub unsafe fn set_action(signal: u32, action: Action) {
    let handler = match action {
        Action::Ignore => 1,
        Action::Handle(handler) => handler as usize,
    };
    let new = KernelSigaction {
        handler,
        flags: u64::from(SA_RESTORER),
        restorer: sockproxy_restore_rt as *const () as usize,
        mask: 0,
    };
    // SAFETY: `new` is a valid kernel sigaction, alive across the call; no old
    // action is asked for; the mask is 8 bytes. The handler is the caller's.
    unsafe { syscall4(__NR_rt_sigaction, signal as usize, (&raw const new) as usize, 0, size_of::<u64>()) };
}

/// alarm(2): SIGALRM after `seconds`, or no alarm for 0.
pub fn alarm(seconds: u32) {
    // SAFETY: alarm takes any number and touches no memory.
    unsafe { syscall4(__NR_alarm, seconds as usize, 0, 0, 0) };
}
