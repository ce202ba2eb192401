//! `unix/PATH` addresses: the leading-`/` rule, `./` paths, abstract `@name`.

use crate::failure::Failure;
use crate::fill::{Fill, join};

/// Bytes in `sockaddr_un.sun_path`.
pub const SUN_PATH_LEN: usize = 108;

/// Size of `struct sockaddr_un`: the family, then sun_path.
pub const SOCKADDR_UN_LEN: usize = 2 + SUN_PATH_LEN;

/// PATH_MAX: the longest path, NUL included, that one syscall accepts.
pub const PATH_CAPACITY: usize = 4096;

/// Where an AF_UNIX target lives.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UnixAddress<'a> {
    /// A file system path.
    Path(UnixPath<'a>),
    /// A Linux abstract socket name (without the leading NUL).
    Abstract(&'a [u8]),
}

/// A file system path as written in the host string, plus whether it needs a
/// `/` in front (`unix/run/x` means `/run/x`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct UnixPath<'a> {
    pub add_root: bool,
    pub written: &'a [u8],
}

impl<'a> UnixPath<'a> {
    pub const fn absolute(path: &'a [u8]) -> Self {
        Self { add_root: false, written: path }
    }

    /// Length of the full path, without NUL.
    pub fn len(&self) -> usize {
        // A slice's length is at most isize::MAX: no wrap.
        self.written.len().wrapping_add(usize::from(self.add_root))
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Writes the full path and a NUL into `buf`; returns the path (without
    /// the NUL). `None` when it does not fit in PATH_MAX, which the kernel
    /// would refuse with ENAMETOOLONG anyway, or holds a NUL of its own.
    pub fn write_with_nul<'b>(&self, buf: &'b mut [u8; PATH_CAPACITY]) -> Option<&'b [u8]> {
        // iter().any, not contains: that brings a word-at-a-time memchr.
        #[allow(clippy::manual_contains)]
        let has_nul = self.written.iter().any(|&b| b == 0);
        if has_nul {
            return None;
        }
        let mut out = Fill::new(buf);
        if self.add_root {
            out.put(b"/")?;
        }
        out.put(self.written)?;
        out.put(b"\0")?;
        out.filled().split_last().map(|(_, path)| path)
    }
}

/// `struct sockaddr_un` as bytes, and the length that connect(2) takes with it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SockaddrUn {
    pub bytes: [u8; SOCKADDR_UN_LEN],
    pub len: usize,
}

impl SockaddrUn {
    /// AF_UNIX, then `sun_path` made of `parts`; `None` when they do not fit.
    fn new(parts: [&[u8]; 2]) -> Option<Self> {
        let family = (linux_raw_sys::net::AF_UNIX as u16).to_ne_bytes();
        let [first, second] = parts;
        let mut bytes = [0u8; SOCKADDR_UN_LEN];
        let len = join(&mut bytes, &[&family, first, second])?.len();
        Some(Self { bytes, len })
    }

    /// For a path (without NUL) shorter than SUN_PATH_LEN: it and its NUL.
    pub fn path(path: &[u8]) -> Option<Self> {
        Self::new([path, b"\0"])
    }

    /// For an abstract name of at most SUN_PATH_LEN - 1 bytes: a NUL, then the name.
    pub fn abstract_name(name: &[u8]) -> Option<Self> {
        Self::new([b"\0", name])
    }
}

/// Applies the unix/ rules to the text after the separator.
pub fn parse_unix_address(rest: &[u8]) -> Result<UnixAddress<'_>, Failure<'_>> {
    if let Some(name) = rest.strip_prefix(b"@") {
        if name.is_empty() {
            return Err(Failure::AbstractNameEmpty);
        }
        // sun_path holds the leading NUL plus the name.
        if name.len() > SUN_PATH_LEN - 1 {
            return Err(Failure::AbstractNameTooLong(name));
        }
        return Ok(UnixAddress::Abstract(name));
    }
    let add_root = !(rest.starts_with(b"/") || rest.starts_with(b"./"));
    Ok(UnixAddress::Path(UnixPath { add_root, written: rest }))
}

/// Splits a path at its last `/` into the directory (`/` for top-level names)
/// and the final name. The paths we build always contain a `/`.
pub fn split_parent(path: &[u8]) -> (&[u8], &[u8]) {
    let Some((dir, slash_name)) = path.iter().rposition(|&b| b == b'/').and_then(|slash| path.split_at_checked(slash))
    else {
        return (b".", path);
    };
    let name = slash_name.get(1..).unwrap_or_default();
    (if dir.is_empty() { b"/" } else { dir }, name)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn full_path(rest: &[u8]) -> Vec<u8> {
        match parse_unix_address(rest).unwrap() {
            UnixAddress::Path(path) => {
                let mut buf = [0u8; PATH_CAPACITY];
                let written = path.write_with_nul(&mut buf).unwrap().to_vec();
                assert_eq!(buf[written.len()], 0);
                written
            }
            UnixAddress::Abstract(_) => panic!("abstract"),
        }
    }

    #[test]
    fn leading_slash_rule() {
        let cases: &[(&[u8], &[u8])] = &[
            (b"run/x", b"/run/x"),
            (b"/run/x", b"/run/x"),
            (b"./x.sock", b"./x.sock"),
            (b"./", b"./"),
            (b"../x", b"/../x"),
            (b".x", b"/.x"),
            (b"", b"/"),
            (b"run/My VM/sock", b"/run/My VM/sock"),
            (b"run%x", b"/run%x"),
            (b"\xc3\xa9", b"/\xc3\xa9"),
        ];
        for (rest, expected) in cases {
            assert_eq!(full_path(rest), *expected, "rest {:?}", String::from_utf8_lossy(rest));
        }
    }

    #[test]
    fn abstract_names() {
        assert_eq!(parse_unix_address(b"@vm1"), Ok(UnixAddress::Abstract(b"vm1")));
        assert_eq!(parse_unix_address(b"@/x"), Ok(UnixAddress::Abstract(b"/x")));
        assert_eq!(parse_unix_address(b"@"), Err(Failure::AbstractNameEmpty));
        let longest = [b'n'; 107];
        assert_eq!(parse_unix_address(&[b"@".as_slice(), &longest].concat()), Ok(UnixAddress::Abstract(&longest)));
        let too_long = [b'n'; 108];
        assert_eq!(
            parse_unix_address(&[b"@".as_slice(), &too_long].concat()),
            Err(Failure::AbstractNameTooLong(&too_long))
        );
        // Only a leading @ makes a name abstract.
        assert!(matches!(parse_unix_address(b"run/@x"), Ok(UnixAddress::Path(_))));
    }

    #[test]
    fn path_capacity_is_path_max() {
        let fits = vec![b'a'; PATH_CAPACITY - 2];
        let path = UnixPath { add_root: true, written: &fits };
        let mut buf = [0u8; PATH_CAPACITY];
        assert_eq!(path.write_with_nul(&mut buf).unwrap().len(), PATH_CAPACITY - 1);
        let too_long = vec![b'a'; PATH_CAPACITY - 1];
        let path = UnixPath { add_root: true, written: &too_long };
        assert!(path.write_with_nul(&mut buf).is_none());
        let with_nul = UnixPath { add_root: true, written: b"a\0b" };
        assert!(with_nul.write_with_nul(&mut buf).is_none());
    }

    #[test]
    fn sockaddr_un_layout() {
        use core::mem::{offset_of, size_of};
        use linux_raw_sys::net::sockaddr_un as Raw;
        assert_eq!(size_of::<Raw>(), SOCKADDR_UN_LEN);
        assert_eq!(offset_of!(Raw, sun_path), 2);
        let family = (linux_raw_sys::net::AF_UNIX as u16).to_ne_bytes();
        let path = SockaddrUn::path(b"/run/x").unwrap();
        assert_eq!(path.len, 2 + 6 + 1);
        assert_eq!(path.bytes[..9], [&family[..], b"/run/x\0"].concat());
        assert!(path.bytes[9..].iter().all(|&b| b == 0));
        let name = SockaddrUn::abstract_name(b"vm").unwrap();
        assert_eq!(name.len, 2 + 1 + 2);
        assert_eq!(name.bytes[..5], [&family[..], b"\0vm"].concat());
        // As rustix's SocketAddrUnix: 107 bytes and a NUL, or a NUL and 107 bytes.
        assert_eq!(SockaddrUn::path(&[b'a'; 107]).map(|a| a.len), Some(SOCKADDR_UN_LEN));
        assert_eq!(SockaddrUn::path(&[b'a'; 108]), None);
        assert_eq!(SockaddrUn::abstract_name(&[b'a'; 107]).map(|a| a.len), Some(SOCKADDR_UN_LEN));
        assert_eq!(SockaddrUn::abstract_name(&[b'a'; 108]), None);
    }

    #[test]
    fn splits_parent_and_name() {
        let cases: &[(&[u8], &[u8], &[u8])] = &[
            (b"/run/x.sock", b"/run", b"x.sock"),
            (b"/x.sock", b"/", b"x.sock"),
            (b"./a/b", b"./a", b"b"),
            (b"./b", b".", b"b"),
            (b"/a/b/", b"/a/b", b""),
            (b"b", b".", b"b"),
        ];
        for (path, dir, name) in cases {
            assert_eq!(split_parent(path), (*dir, *name), "path {:?}", String::from_utf8_lossy(path));
        }
    }
}
