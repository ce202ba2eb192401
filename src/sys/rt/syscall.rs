//! The syscalls that rustix does not offer in its stable API, made directly:
//! `syscall4` (and `syscall6`), on which every raw syscall here and in
//! signal.rs and process.rs is built, and exit_group and sendmsg. rustix
//! keeps exit_group in its doc-hidden, semver-exempt `runtime` module; its
//! sendmsg only takes control messages built by its own ancillary buffer
//! type, while we send the bytes that crate::handoff builds. The instruction
//! itself is each architecture's (arch/).

use core::ffi::c_int;

use linux_raw_sys::general::__NR_sendmsg;
use linux_raw_sys::net::msghdr;
use rustix::fd::{AsRawFd, BorrowedFd};

pub use super::arch::{exit_group, syscall4, syscall6};

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

#[cfg(test)]
mod tests {
    use linux_raw_sys::general::{__NR_mmap, __NR_munmap, MAP_SHARED, PROT_READ};
    use rustix::fd::AsRawFd;
    use rustix::fs::{MemfdFlags, memfd_create};

    use super::{syscall4, syscall6};

    /// mmap's fifth and sixth arguments are the file and the offset: the second
    /// page of a memfd shows what was written there.
    #[test]
    fn syscall6_passes_all_six_arguments() {
        let fd = memfd_create("syscall6", MemfdFlags::CLOEXEC).unwrap();
        let mut data = vec![b'1'; 8192];
        data[4096..4101].copy_from_slice(b"page2");
        assert_eq!(rustix::io::write(&fd, &data), Ok(8192));
        // SAFETY: mmap of a new mapping touches no memory of ours.
        let page = unsafe {
            syscall6(__NR_mmap, 0, 4096, PROT_READ as usize, MAP_SHARED as usize, fd.as_raw_fd() as usize, 4096)
        };
        assert!(page > 0, "mmap: {page}");
        // SAFETY: the mapping is 4096 readable bytes until the munmap below.
        assert_eq!(unsafe { core::slice::from_raw_parts(page as *const u8, 5) }, b"page2");
        // SAFETY: nothing refers to the mapping any more.
        assert_eq!(unsafe { syscall4(__NR_munmap, page as usize, 4096, 0, 0) }, 0);
    }
}
