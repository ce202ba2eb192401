//! The large buffers, out of every stack frame: static, so they cost no file
//! size (bss) and no memory until a page of them is used, and handed out
//! once, so that no two places can hold the same bytes.

use core::cell::UnsafeCell;
use core::mem::MaybeUninit;
use core::sync::atomic::{AtomicBool, Ordering};

use crate::ssh_config::QuotedPath;
use crate::sys::relay::{COPY_BUFFER, CopyBuffers};
use crate::targets::machine::REPLY_CAPACITY;
use crate::targets::unix::PATH_CAPACITY;

/// What would otherwise take 140 KiB of stack (after LTO, of `main`'s frame,
/// which stack probing touches page by page).
pub struct Buffers {
    /// The relay's read/write path, one per direction.
    pub relay: CopyBuffers,
    /// A reply from systemd-machined.
    pub machine_reply: [u8; REPLY_CAPACITY],
    /// `--print-ssh-config`: where /proc/self/exe points, and that path quoted.
    pub exe_link: [MaybeUninit<u8>; PATH_CAPACITY],
    pub exe_quoted: QuotedPath,
}

/// In this order: the flag, which every run writes, lands in the page that
/// the binary's data already occupies, not in a page of its own past 140 KiB
/// of buffers (Rust's own layout puts it last).
#[repr(C)]
struct Once {
    taken: AtomicBool,
    buffers: UnsafeCell<Buffers>,
}

// SAFETY: `buffers` is reached only through `take`, which lets one caller
// have it. The binaries start no thread, so the flag's load and store need
// no read-modify-write (which on aarch64 would pull in outline atomics and,
// with them, libc's getauxval).
unsafe impl Sync for Once {}

static ONCE: Once = Once {
    taken: AtomicBool::new(false),
    buffers: UnsafeCell::new(Buffers {
        relay: [[0; COPY_BUFFER]; 2],
        machine_reply: [0; REPLY_CAPACITY],
        exe_link: [MaybeUninit::uninit(); PATH_CAPACITY],
        exe_quoted: QuotedPath::new(),
    }),
};

impl Buffers {
    /// The buffers, to the first caller of the process; `None` after that.
    pub fn take() -> Option<&'static mut Buffers> {
        if ONCE.taken.load(Ordering::Relaxed) {
            return None;
        }
        ONCE.taken.store(true, Ordering::Relaxed);
        // SAFETY: the flag was clear, and is set now for good: no other
        // reference to the buffers exists or will.
        Some(unsafe { &mut *ONCE.buffers.get() })
    }
}
