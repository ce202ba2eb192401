//! argv as an iterator of byte strings, without copying.

use core::ffi::{CStr, c_char, c_int};

pub struct Args {
    next: *const *const c_char,
    remaining: usize,
}

impl Args {
    /// # Safety
    /// `argv` must hold `argc` pointers to NUL-terminated strings that stay
    /// valid and unchanged for the rest of the process.
    pub unsafe fn new(argc: c_int, argv: *const *const c_char) -> Self {
        Self { next: argv, remaining: usize::try_from(argc).unwrap_or(0) }
    }
}

impl Iterator for Args {
    type Item = &'static [u8];

    fn next(&mut self) -> Option<&'static [u8]> {
        self.remaining = self.remaining.checked_sub(1)?;
        // SAFETY: `new`'s contract: `next` points at one of the argc valid
        // string pointers, and those strings live as long as the process.
        let arg = unsafe { CStr::from_ptr(*self.next) };
        // SAFETY: stays within argv (or one past its last used entry).
        self.next = unsafe { self.next.add(1) };
        Some(arg.to_bytes())
    }
}

/// The value of environment variable `name` in `envp`, if set.
///
/// # Safety
/// `envp` must be the null-terminated array the C start-up code passes to
/// `main`, whose strings live, unchanged, until the process exits.
pub unsafe fn env_var(envp: *const *const c_char, name: &[u8]) -> Option<&'static [u8]> {
    let mut next = envp;
    loop {
        // SAFETY: the array ends with a null pointer, which stops the walk.
        let entry = unsafe { *next };
        if entry.is_null() {
            return None;
        }
        // SAFETY: entries before the null one are valid C strings (see above).
        let entry = unsafe { CStr::from_ptr(entry) }.to_bytes();
        if let Some(value) = entry.strip_prefix(name).and_then(|rest| rest.strip_prefix(b"=")) {
            return Some(value);
        }
        // SAFETY: not yet at the terminating null pointer.
        next = unsafe { next.add(1) };
    }
}

/// Removes every `name=...` entry from `envp` in place, as unsetenv does,
/// so that children do not inherit it. Values returned by `env_var` stay
/// valid: only the array of pointers changes.
///
/// # Safety
/// As for `env_var`, and the array must be writable and used by no one else
/// while this runs (the initial stack's, in a single-threaded process).
pub unsafe fn env_remove(envp: *const *const c_char, name: &[u8]) {
    let envp = envp.cast_mut();
    let mut read = envp;
    let mut write = envp;
    loop {
        // SAFETY: the array ends with a null pointer, which stops the walk;
        // `write` never passes `read`.
        let entry = unsafe { *read };
        if !entry.is_null() {
            // SAFETY: entries before the null one are valid C strings.
            let bytes = unsafe { CStr::from_ptr(entry) }.to_bytes();
            if bytes.strip_prefix(name).is_some_and(|rest| rest.starts_with(b"=")) {
                // SAFETY: not yet at the terminating null pointer.
                read = unsafe { read.add(1) };
                continue;
            }
        }
        // SAFETY: `write` is at or before `read`, within the array.
        unsafe { *write = entry };
        if entry.is_null() {
            return;
        }
        // SAFETY: both stay within the array, before its null.
        (read, write) = unsafe { (read.add(1), write.add(1)) };
    }
}
