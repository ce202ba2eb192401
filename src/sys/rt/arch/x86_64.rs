//! x86-64: the `syscall` instruction, `_start`, `rep movsb`/`stosb`/`scasb`
//! for the mem functions, and a `struct sigaction` that must name a restorer.

use core::arch::{asm, global_asm};
use core::ffi::c_int;

use linux_raw_sys::general::{__NR_exit_group, __NR_rt_sigreturn, SA_RESTORER};

/// Syscall `nr` with up to four arguments: the kernel's return value, a
/// negated errno on failure.
///
/// # Safety
/// The arguments must be what syscall `nr` expects, pointers valid for it.
pub unsafe fn syscall4(nr: u32, a: usize, b: usize, c: usize, d: usize) -> isize {
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

/// `syscall4` with six arguments.
///
/// # Safety
/// As for `syscall4`.
pub unsafe fn syscall6(nr: u32, a: usize, b: usize, c: usize, d: usize, e: usize, f: usize) -> isize {
    let ret: isize;
    // SAFETY: as in syscall4; the fifth and sixth arguments go in r8 and r9.
    unsafe {
        asm!("syscall", inlateout("rax") nr as isize => ret, in("rdi") a, in("rsi") b, in("rdx") c, in("r10") d,
            in("r8") e, in("r9") f, lateout("rcx") _, lateout("r11") _, options(nostack, preserves_flags));
    }
    ret
}

/// Ends the process at once, without running exit handlers (there are none).
pub fn exit_group(status: c_int) -> ! {
    // SAFETY: exit_group takes any status and does not return.
    unsafe { asm!("syscall", in("rax") __NR_exit_group, in("rdi") status, options(noreturn, nostack)) }
}

/// `_start`, the ELF entry point, in the binary crate that `c_runtime!`
/// expands in: the kernel leaves argc at the stack pointer, then argv, a
/// null, the environment and another null. `$entry` is an
/// `unsafe extern "C" fn(*const usize) -> !` that gets that address.
#[doc(hidden)]
#[macro_export]
macro_rules! rt_start {
    ($entry:path) => {
        ::core::arch::global_asm!(
            ".pushsection .text._start,\"ax\",@progbits",
            ".globl _start",
            "_start:",
            "mov rdi, rsp",
            // The kernel aligns the stack to 16 bytes already; the call then
            // leaves it as a function expects to find it.
            "and rsp, -16",
            "call {entry}",
            ".popsection",
            entry = sym $entry,
        );
    };
}

/// Copies `n` bytes from `src` to `dest`, first to last.
///
/// # Safety
/// `n` readable bytes at `src`, `n` writable ones at `dest`; a forward copy
/// must not read a byte it wrote.
pub unsafe fn copy_forward(dest: *mut u8, src: *const u8, n: usize) {
    // SAFETY: the caller's contract; the direction flag is clear, as the ABI
    // guarantees.
    unsafe {
        asm!("rep movsb", inout("rcx") n => _, inout("rdi") dest => _, inout("rsi") src => _, options(nostack, preserves_flags));
    }
}

/// Copies `n` bytes from `src` to `dest`, last to first.
///
/// # Safety
/// As for `copy_forward`, with a backward copy that must not read a byte it
/// wrote.
pub unsafe fn copy_backward(dest: *mut u8, src: *const u8, n: usize) {
    // SAFETY: the caller's contract; the direction flag is cleared again
    // before return.
    unsafe {
        asm!("std", "rep movsb", "cld",
            inout("rcx") n => _, inout("rdi") dest.wrapping_add(n).wrapping_sub(1) => _,
            inout("rsi") src.wrapping_add(n).wrapping_sub(1) => _, options(nostack));
    }
}

/// Sets `n` bytes at `dest` to `byte`.
///
/// # Safety
/// `n` writable bytes at `dest`.
pub unsafe fn fill(dest: *mut u8, byte: u8, n: usize) {
    // SAFETY: the caller's contract.
    unsafe {
        asm!("rep stosb", inout("rcx") n => _, inout("rdi") dest => _, in("al") byte, options(nostack, preserves_flags));
    }
}

/// The length of the NUL-terminated string at `s`.
///
/// # Safety
/// `s` must point at a NUL-terminated string.
pub unsafe fn strlen(s: *const u8) -> usize {
    let left: usize;
    // SAFETY: the scan stops at the string's NUL. rcx counts down from
    // usize::MAX, one more than the length.
    unsafe {
        asm!("repne scasb", inout("rcx") usize::MAX => left, inout("rdi") s => _, in("al") 0u8, options(nostack, readonly));
    }
    (!left).wrapping_sub(1)
}

/// `struct sigaction` as the x86-64 kernel takes it (linux-raw-sys's
/// kernel_sigaction, with the handler as a plain address so that SIG_IGN fits).
#[repr(C)]
pub struct KernelSigaction {
    handler: usize,
    flags: u64,
    restorer: usize,
    mask: u64,
}

const _: () = assert!(size_of::<KernelSigaction>() == size_of::<linux_raw_sys::general::kernel_sigaction>());

impl KernelSigaction {
    /// The handler's address, or SIG_DFL (0) or SIG_IGN (1).
    pub fn handler(&self) -> usize {
        self.handler
    }

    /// `handler` (or SIG_IGN, 1) with SA_* `flags`, blocking `mask` while it runs.
    pub fn new(handler: usize, flags: u32, mask: u64) -> Self {
        let restorer = sockproxy_restore_rt as *const () as usize;
        Self { handler, flags: u64::from(flags | SA_RESTORER), restorer, mask }
    }
}

// sockproxy_restore_rt: rt_sigreturn, where a returning handler goes. The
// x86-64 kernel delivers no signal whose action lacks SA_RESTORER (setting
// up the signal frame fails, and the process gets SIGSEGV instead), even to
// a handler that never returns. global_asm rather than a naked function:
// those need Rust 1.88.
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
