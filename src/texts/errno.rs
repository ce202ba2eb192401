//! Error texts for errno values, worded as glibc's strerror() so that our
//! messages read like upstream's (musl words several of them differently).

/// errno values and their texts; only TABLE, packed, reaches the binary.
const TEXTS: [(u8, &[u8]); 66] = [
    (1, b"Operation not permitted"),
    (2, b"No such file or directory"),
    (3, b"No such process"),
    (4, b"Interrupted system call"),
    (5, b"Input/output error"),
    (6, b"No such device or address"),
    (7, b"Argument list too long"),
    (9, b"Bad file descriptor"),
    (11, b"Resource temporarily unavailable"),
    (12, b"Cannot allocate memory"),
    (13, b"Permission denied"),
    (14, b"Bad address"),
    (16, b"Device or resource busy"),
    (17, b"File exists"),
    (18, b"Invalid cross-device link"),
    (19, b"No such device"),
    (20, b"Not a directory"),
    (21, b"Is a directory"),
    (22, b"Invalid argument"),
    (23, b"Too many open files in system"),
    (24, b"Too many open files"),
    (26, b"Text file busy"),
    (28, b"No space left on device"),
    (30, b"Read-only file system"),
    (31, b"Too many links"),
    (32, b"Broken pipe"),
    (34, b"Numerical result out of range"),
    (35, b"Resource deadlock avoided"),
    (36, b"File name too long"),
    (37, b"No locks available"),
    (38, b"Function not implemented"),
    (40, b"Too many levels of symbolic links"),
    (42, b"No message of desired type"),
    (61, b"No data available"),
    (71, b"Protocol error"),
    (74, b"Bad message"),
    (75, b"Value too large for defined data type"),
    (88, b"Socket operation on non-socket"),
    (89, b"Destination address required"),
    (90, b"Message too long"),
    (91, b"Protocol wrong type for socket"),
    (92, b"Protocol not available"),
    (93, b"Protocol not supported"),
    (94, b"Socket type not supported"),
    (95, b"Operation not supported"),
    (97, b"Address family not supported by protocol"),
    (98, b"Address already in use"),
    (99, b"Cannot assign requested address"),
    (100, b"Network is down"),
    (101, b"Network is unreachable"),
    (102, b"Network dropped connection on reset"),
    (103, b"Software caused connection abort"),
    (104, b"Connection reset by peer"),
    (105, b"No buffer space available"),
    (106, b"Transport endpoint is already connected"),
    (107, b"Transport endpoint is not connected"),
    (108, b"Cannot send after transport endpoint shutdown"),
    (110, b"Connection timed out"),
    (111, b"Connection refused"),
    (112, b"Host is down"),
    (113, b"No route to host"),
    (114, b"Operation already in progress"),
    (115, b"Operation now in progress"),
    (116, b"Stale file handle"),
    (122, b"Disk quota exceeded"),
    (125, b"Operation canceled"),
];

/// `TEXTS` as one byte string: for each entry its errno, the length of its
/// text, then the text. A `match` on the errno cost a jump table of 8-byte
/// addresses and code for each arm, more than twice the texts themselves.
pub const TABLE_LEN: usize = table_len();
pub const TABLE: [u8; TABLE_LEN] = table();

// These run in the compiler only (for the constants above).
#[expect(
    clippy::indexing_slicing,
    clippy::arithmetic_side_effects,
    reason = "run by the compiler: a bad index or an overflow fails the build"
)]
const fn table_len() -> usize {
    let mut len = 0;
    let mut i = 0;
    while i < TEXTS.len() {
        len += 2 + TEXTS[i].1.len();
        i += 1;
    }
    len
}

#[expect(
    clippy::indexing_slicing,
    clippy::arithmetic_side_effects,
    reason = "run by the compiler: a bad index or an overflow fails the build"
)]
const fn table() -> [u8; TABLE_LEN] {
    let mut out = [0u8; TABLE_LEN];
    let mut at = 0;
    let mut i = 0;
    while i < TEXTS.len() {
        let (errno, text) = TEXTS[i];
        assert!(text.len() <= u8::MAX as usize);
        out[at] = errno;
        out[at + 1] = text.len() as u8;
        let mut j = 0;
        while j < text.len() {
            out[at + 2 + j] = text[j];
            j += 1;
        }
        at += 2 + text.len();
        i += 1;
    }
    out
}

/// Where the text for `errno` is in `table` (an unpacked TABLE), or `None`
/// for values outside it.
pub fn find(table: &[u8], errno: i32) -> Option<(usize, usize)> {
    let mut at: usize = 0;
    while let Some(&[code, len]) = table.get(at..).and_then(|rest| rest.first_chunk()) {
        let start = at.checked_add(2)?;
        let end = start.checked_add(usize::from(len)).filter(|&end| end <= table.len())?;
        if i32::from(code) == errno {
            return Some((start, end));
        }
        at = end;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_entry_is_found() {
        for (errno, text) in TEXTS {
            let (start, end) = find(&TABLE, i32::from(errno)).unwrap();
            assert_eq!(&TABLE[start..end], text, "errno {errno}");
        }
        for errno in [0, -1, 4095, i32::MAX] {
            assert_eq!(find(&TABLE, errno), None);
        }
    }
}
