//! memcpy, memmove, memset, memcmp (also bcmp) and strlen (for
//! CStr::from_ptr), which compiled Rust calls and which no libc supplies here;
//! compiler_builtins exports them only on targets without a libc. The
//! binaries export them under their C names (see `c_runtime!`). The copies,
//! the fill and strlen are byte loops in assembly (arch/): a few bytes of
//! code, fast enough for the short copies we make, and no loop that the
//! compiler could turn back into a call to the very function it is in
//! (memcmp's loop has no such idiom; its disassembly shows no call).

use core::ffi::c_int;

use super::arch;

/// # Safety
/// As the C function of the same name.
pub unsafe fn memcpy(dest: *mut u8, src: *const u8, n: usize) -> *mut u8 {
    // SAFETY: the caller passes `n` readable bytes at `src` and `n` writable
    // ones at `dest`, which do not overlap.
    unsafe { arch::copy_forward(dest, src, n) };
    dest
}

/// # Safety
/// As the C function of the same name.
pub unsafe fn memmove(dest: *mut u8, src: *const u8, n: usize) -> *mut u8 {
    if (dest as usize).wrapping_sub(src as usize) >= n {
        // `dest` is below `src` or past its end: a forward copy never reads a
        // byte it wrote.
        // SAFETY: the caller passes `n` readable and `n` writable bytes.
        unsafe { arch::copy_forward(dest, src, n) };
    } else {
        // `dest` starts inside `src`: copying from the last byte never reads
        // a byte it wrote.
        // SAFETY: as above.
        unsafe { arch::copy_backward(dest, src, n) };
    }
    dest
}

/// # Safety
/// As the C function of the same name.
pub unsafe fn memset(dest: *mut u8, c: c_int, n: usize) -> *mut u8 {
    // SAFETY: the caller passes `n` writable bytes at `dest`. C takes the
    // low byte of `c`.
    unsafe { arch::fill(dest, c as u8, n) };
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
    // SAFETY: the caller passes a NUL-terminated string.
    unsafe { arch::strlen(s) }
}
