//! aarch64: `svc 0`, `_start`, byte loops for the mem functions, and a
//! `struct sigaction` whose restorer can stay empty.

use core::arch::asm;
use core::ffi::c_int;

use linux_raw_sys::general::__NR_exit_group;

/// Syscall `nr` with up to four arguments: the kernel's return value, a
/// negated errno on failure.
///
/// # Safety
/// The arguments must be what syscall `nr` expects, pointers valid for it.
pub unsafe fn syscall4(nr: u32, a: usize, b: usize, c: usize, d: usize) -> isize {
    let ret: isize;
    // SAFETY: the aarch64 convention: number in x8, arguments in x0 to x3,
    // result in x0; the kernel preserves every other register and the
    // flags. What the call does is the caller's contract.
    unsafe {
        asm!("svc 0", in("x8") nr as usize, inlateout("x0") a => ret, in("x1") b, in("x2") c, in("x3") d,
            options(nostack, preserves_flags));
    }
    ret
}

/// `syscall4` with six arguments.
///
/// # Safety
/// As for `syscall4`.
pub unsafe fn syscall6(nr: u32, a: usize, b: usize, c: usize, d: usize, e: usize, f: usize) -> isize {
    let ret: isize;
    // SAFETY: as in syscall4; the fifth and sixth arguments go in x4 and x5.
    unsafe {
        asm!("svc 0", in("x8") nr as usize, inlateout("x0") a => ret, in("x1") b, in("x2") c, in("x3") d, in("x4") e,
            in("x5") f, options(nostack, preserves_flags));
    }
    ret
}

/// Ends the process at once, without running exit handlers (there are none).
pub fn exit_group(status: c_int) -> ! {
    // SAFETY: exit_group takes any status and does not return.
    unsafe { asm!("svc 0", in("x8") __NR_exit_group, in("x0") status, options(noreturn, nostack)) }
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
            ".pushsection .text._start,\"ax\",%progbits",
            ".globl _start",
            "_start:",
            "mov x0, sp",
            // The kernel aligns the stack to 16 bytes already, as the ABI
            // wants it.
            "and x1, x0, #-16",
            "mov sp, x1",
            "bl {entry}",
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
    // SAFETY: the caller's contract; the loop touches bytes 0 to n - 1 of
    // both, and none for n = 0.
    unsafe {
        asm!(
            "cbz {n}, 2f",
            "1:",
            "ldrb {byte:w}, [{src}], #1",
            "strb {byte:w}, [{dest}], #1",
            "subs {n}, {n}, #1",
            "b.ne 1b",
            "2:",
            n = inout(reg) n => _, src = inout(reg) src => _, dest = inout(reg) dest => _, byte = out(reg) _,
            options(nostack),
        );
    }
}

/// Copies `n` bytes from `src` to `dest`, last to first.
///
/// # Safety
/// As for `copy_forward`, with a backward copy that must not read a byte it
/// wrote.
pub unsafe fn copy_backward(dest: *mut u8, src: *const u8, n: usize) {
    // SAFETY: the caller's contract; the loop touches bytes n - 1 down to 0
    // of both (the byte moves leave the flags of `subs`), none for n = 0.
    unsafe {
        asm!(
            "cbz {n}, 2f",
            "1:",
            "subs {n}, {n}, #1",
            "ldrb {byte:w}, [{src}, {n}]",
            "strb {byte:w}, [{dest}, {n}]",
            "b.ne 1b",
            "2:",
            n = inout(reg) n => _, src = in(reg) src, dest = in(reg) dest, byte = out(reg) _,
            options(nostack),
        );
    }
}

/// Sets `n` bytes at `dest` to `byte`.
///
/// # Safety
/// `n` writable bytes at `dest`.
pub unsafe fn fill(dest: *mut u8, byte: u8, n: usize) {
    // SAFETY: the caller's contract; the loop writes bytes 0 to n - 1, none
    // for n = 0.
    unsafe {
        asm!(
            "cbz {n}, 2f",
            "1:",
            "strb {byte:w}, [{dest}], #1",
            "subs {n}, {n}, #1",
            "b.ne 1b",
            "2:",
            n = inout(reg) n => _, dest = inout(reg) dest => _, byte = in(reg) byte,
            options(nostack),
        );
    }
}

/// The length of the NUL-terminated string at `s`.
///
/// # Safety
/// `s` must point at a NUL-terminated string.
pub unsafe fn strlen(s: *const u8) -> usize {
    let end: *const u8;
    // SAFETY: the scan stops after the string's NUL; `end` is one past it.
    unsafe {
        asm!(
            "1:",
            "ldrb {byte:w}, [{at}], #1",
            "cbnz {byte:w}, 1b",
            at = inout(reg) s => end, byte = out(reg) _,
            options(nostack, readonly),
        );
    }
    (end as usize).wrapping_sub(s as usize).wrapping_sub(1)
}

/// `struct sigaction` as the aarch64 kernel takes it (linux-raw-sys's
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

    /// `handler` (or SIG_IGN, 1) with SA_* `flags`, blocking `mask` while it
    /// runs. Without SA_RESTORER the kernel returns from a handler through
    /// the vDSO's rt_sigreturn.
    pub fn new(handler: usize, flags: u32, mask: u64) -> Self {
        Self { handler, flags: u64::from(flags), restorer: 0, mask }
    }
}
