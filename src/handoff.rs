//! The hand-off to ssh: the SCM_RIGHTS control message that carries the one
//! descriptor, and what can go wrong (see sys/handoff.rs).

use core::mem::size_of;

use linux_raw_sys::net::{SCM_RIGHTS, SOL_SOCKET, cmsghdr};

use crate::line::Line;

const ALIGN: usize = size_of::<usize>();
const HEADER_LEN: usize = size_of::<cmsghdr>();
const FD_LEN: usize = size_of::<i32>();

/// CMSG_LEN(sizeof(int)): header plus one descriptor.
pub const CMSG_LEN_ONE_FD: usize = HEADER_LEN + FD_LEN;

/// CMSG_SPACE(sizeof(int)): CMSG_LEN rounded up to the header's alignment.
pub const CMSG_SPACE_ONE_FD: usize = CMSG_LEN_ONE_FD.next_multiple_of(ALIGN);

/// Control bytes, aligned like `struct cmsghdr` as the kernel's CMSG macros expect.
#[repr(C, align(8))]
pub struct ControlBuffer(pub [u8; CMSG_SPACE_ONE_FD]);

/// Builds `cmsghdr { len, SOL_SOCKET, SCM_RIGHTS }` followed by `fd`, padding zeroed.
pub fn scm_rights(fd: i32) -> ControlBuffer {
    // cmsghdr: the size_t length, then the level and type ints, no padding.
    const LEVEL_AT: usize = size_of::<usize>();
    const TYPE_AT: usize = LEVEL_AT + size_of::<i32>();
    const _: () = assert!(HEADER_LEN == TYPE_AT + size_of::<i32>());
    let mut bytes = [0u8; CMSG_SPACE_ONE_FD];
    put(&mut bytes, 0, CMSG_LEN_ONE_FD.to_ne_bytes());
    put(&mut bytes, LEVEL_AT, (SOL_SOCKET as i32).to_ne_bytes());
    put(&mut bytes, TYPE_AT, (SCM_RIGHTS as i32).to_ne_bytes());
    put(&mut bytes, HEADER_LEN, fd.to_ne_bytes());
    ControlBuffer(bytes)
}

/// Writes `field` at offset `at`; with the constant offsets above, within
/// CMSG_LEN_ONE_FD, the check is made by the compiler and never misses.
fn put<const N: usize>(bytes: &mut [u8], at: usize, field: [u8; N]) {
    if let Some(slot) = bytes.get_mut(at..).and_then(<[u8]>::first_chunk_mut) {
        *slot = field;
    }
}

/// The hand-off failed: the errno.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HandoffProblem {
    /// sendmsg(2) of the descriptor.
    Send(i32),
    /// Waiting on stdin for the client to take the descriptor or write.
    Await(i32),
}

impl HandoffProblem {
    pub fn describe(&self, line: &mut Line) {
        let (text, errno) = match *self {
            Self::Send(errno) => (&b"Failed to send socket to ssh: "[..], errno),
            Self::Await(errno) => (&b"Failed to read standard input after passing the socket: "[..], errno),
        };
        line.text(text).errno(errno);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_match_the_kernel_abi() {
        assert_eq!(align_of::<ControlBuffer>(), align_of::<cmsghdr>());
        #[cfg(target_pointer_width = "64")]
        {
            assert_eq!(CMSG_LEN_ONE_FD, 20);
            assert_eq!(CMSG_SPACE_ONE_FD, 24);
        }
    }

    #[cfg(all(target_pointer_width = "64", target_endian = "little"))]
    #[test]
    fn exact_bytes_for_fd_7() {
        let ControlBuffer(bytes) = scm_rights(7);
        assert_eq!(bytes, [20, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 7, 0, 0, 0, 0, 0, 0, 0]);
    }

    #[test]
    fn header_fields_decode_back() {
        let ControlBuffer(bytes) = scm_rights(0x1234_5678);
        let word = |at: usize| i32::from_ne_bytes(bytes[at..at + 4].try_into().unwrap());
        assert_eq!(usize::from_ne_bytes(bytes[..ALIGN].try_into().unwrap()), CMSG_LEN_ONE_FD);
        assert_eq!(word(ALIGN), SOL_SOCKET as i32);
        assert_eq!(word(ALIGN + 4), SCM_RIGHTS as i32);
        assert_eq!(word(HEADER_LEN), 0x1234_5678);
    }

    #[test]
    fn message() {
        let mut line = Line::default();
        HandoffProblem::Send(32).describe(&mut line);
        assert_eq!(line.finish(), b"Failed to send socket to ssh: Broken pipe\n");
        let mut line = Line::default();
        HandoffProblem::Await(5).describe(&mut line);
        assert_eq!(line.finish(), b"Failed to read standard input after passing the socket: Input/output error\n");
    }
}
