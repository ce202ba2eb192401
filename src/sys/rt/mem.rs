//! memcpy, memmove, memset, memcmp (also bcmp) and strlen (for
//! CStr::from_ptr), which compiled Rust calls and which no libc supplies here;
//! compiler_builtins exports them only on targets without a libc. The
//! binaries export them under their C names (see `c_runtime!`). They use
//! `rep movsb`, `rep stosb` and `repne scasb`: a few bytes of code, fast
//! enough for the short copies we make, and no loop that the compiler could
//! turn back into a call to the very function it is in (memcmp's loop has no
//! such idiom; its disassembly shows no call).

use core::arch::asm;
use core::ffi::c_int;

/// # Safety
/// As the C function of the same name.
pub unsafe fn memcpy(dest: *mut u8, src: *const u8, n: usize) -> *mut u8 {
    // SAFETY: the caller passes `n` readable bytes at `src` and `n` writable
    // ones at `dest`; the direction flag is clear, as the ABI guarantees.
    unsafe {
        asm!("rep movsb", inout("rcx") n => _, inout("rdi") dest => _, inout("rsi") src => _, options(nostack, preserves_flags));
    }
    dest
}

/// # Safety
/// As the C function of the same name.
pub unsafe fn memmove(dest: *mut u8, src: *const u8, n: usize) -> *mut u8 {
    if (dest as usize).wrapping_sub(src as usize) >= n {
        // `dest` is below `src` or past its end: a forward copy is safe.
        // SAFETY: as for memcpy, and the copy never reads a byte it wrote.
        return unsafe { memcpy(dest, src, n) };
    }
    // SAFETY: as above; copying backwards from the last byte never reads a
    // byte it wrote, and the direction flag is cleared again before return.
    unsafe {
        asm!("std", "rep movsb", "cld",
            inout("rcx") n => _, inout("rdi") dest.wrapping_add(n).wrapping_sub(1) => _,
            inout("rsi") src.wrapping_add(n).wrapping_sub(1) => _, options(nostack));
    }
    dest
}

/// # Safety
/// As the C function of the same name.
pub unsafe fn memset(dest: *mut u8, c: c_int, n: usize) -> *mut u8 {
    // SAFETY: the caller passes `n` writable bytes at `dest`.
    unsafe {
        asm!("rep stosb", inout("rcx") n => _, inout("rdi") dest => _, in("al") c as u8, options(nostack, preserves_flags));
    }
    dest
}

/// # Safety
/// As the C function of the same name.
pub unsafe fn memcmp(a: *const u8, b: *const u8, n: usize) -> c_int {
    let mut i = 0;
    while i < n {
        // SAFETY: the caller passes `n` readable bytes at both.
        let (x, y) = unsafe { (*a.add(i), *b.add(i)) };
        if x != y {
            // Two bytes' difference, -255 to 255.
            return c_int::from(x).wrapping_sub(c_int::from(y));
        }
        // Below `n`: no wrap.
        i = i.wrapping_add(1);
    }
    0
}

/// # Safety
/// As the C function of the same name.
pub unsafe fn strlen(s: *const u8) -> usize {
    let left: usize;
    // SAFETY: the caller passes a NUL-terminated string; the scan stops at
    // its NUL. rcx counts down from usize::MAX, one more than the length.
    unsafe {
        asm!("repne scasb", inout("rcx") usize::MAX => left, inout("rdi") s => _, in("al") 0u8, options(nostack, readonly));
    }
    (!left).wrapping_sub(1)
}
