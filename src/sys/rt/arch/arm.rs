//! arm (32-bit, EABI, ARM state): `svc 0`, `_start`, byte loops for the mem
//! functions, and a `struct sigaction` with 32-bit flags and an empty
//! restorer.

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
    // SAFETY: the EABI convention: number in r7, arguments in r0 to r3,
    // result in r0; the kernel preserves every other register and the
    // flags. What the call does is the caller's contract.
    unsafe {
        asm!("svc 0", in("r7") nr as usize, inlateout("r0") a => ret, in("r1") b, in("r2") c, in("r3") d,
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
    // SAFETY: as in syscall4; the fifth and sixth arguments go in r4 and r5.
    unsafe {
        asm!("svc 0", in("r7") nr as usize, inlateout("r0") a => ret, in("r1") b, in("r2") c, in("r3") d, in("r4") e,
            in("r5") f, options(nostack, preserves_flags));
    }
    ret
}

/// Ends the process at once, without running exit handlers (there are none).
pub fn exit_group(status: c_int) -> ! {
    // SAFETY: exit_group takes any status and does not return.
    unsafe { asm!("svc 0", in("r7") __NR_exit_group, in("r0") status, options(noreturn, nostack)) }
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
            ".arm",
            "_start:",
            "mov r0, sp",
            // The kernel aligns the stack to 16 bytes already; the ABI wants 8.
            "bic r1, r0, #15",
            "mov sp, r1",
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
            "cmp {n}, #0",
            "beq 2f",
            "1:",
            "ldrb {byte}, [{src}], #1",
            "strb {byte}, [{dest}], #1",
            "subs {n}, {n}, #1",
            "bne 1b",
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
            "cmp {n}, #0",
            "beq 2f",
            "1:",
            "subs {n}, {n}, #1",
            "ldrb {byte}, [{src}, {n}]",
            "strb {byte}, [{dest}, {n}]",
            "bne 1b",
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
            "cmp {n}, #0",
            "beq 2f",
            "1:",
            "strb {byte}, [{dest}], #1",
            "subs {n}, {n}, #1",
            "bne 1b",
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
            "ldrb {byte}, [{at}], #1",
            "cmp {byte}, #0",
            "bne 1b",
            at = inout(reg) s => end, byte = out(reg) _,
            options(nostack, readonly),
        );
    }
    (end as usize).wrapping_sub(s as usize).wrapping_sub(1)
}

/// `struct sigaction` as the arm kernel takes it: the flags are a 32-bit
/// long and the mask two of them, low half first (linux-raw-sys's
/// kernel_sigaction, with the handler as a plain address so that SIG_IGN
/// fits).
#[repr(C)]
pub struct KernelSigaction {
    handler: usize,
    flags: u32,
    restorer: usize,
    mask: [u32; 2],
}

const _: () = assert!(size_of::<KernelSigaction>() == size_of::<linux_raw_sys::general::kernel_sigaction>());

impl KernelSigaction {
    /// The handler's address, or SIG_DFL (0) or SIG_IGN (1).
    pub fn handler(&self) -> usize {
        self.handler
    }

    /// `handler` (or SIG_IGN, 1) with SA_* `flags`, blocking `mask` while it
    /// runs. Without SA_RESTORER the kernel returns from a handler through
    /// its own sigreturn page.
    pub fn new(handler: usize, flags: u32, mask: u64) -> Self {
        let mask = [mask as u32, (mask >> 32) as u32];
        Self { handler, flags, restorer: 0, mask }
    }
}
