//! `unix/PATH`: the leading-`/` rule, `./` paths, abstract `@name`, the
//! kernel's sockaddr_un, and what can go wrong (see sys/connect/unix.rs).

use crate::array_buf::ArrayBuf;
use crate::line::Line;

/// Bytes in `sockaddr_un.sun_path`.
pub const SUN_PATH_LEN: usize = 108;

/// Size of `struct sockaddr_un`: the family, then sun_path.
pub const SOCKADDR_UN_LEN: usize = 2 + SUN_PATH_LEN;

/// PATH_MAX: the longest path, NUL included, that one syscall accepts.
pub const PATH_CAPACITY: usize = 4096;

/// A path for a syscall, NUL included.
pub type PathBuf = ArrayBuf<PATH_CAPACITY>;

/// Where an AF_UNIX target lives.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UnixAddress<'a> {
    /// A file system path.
    Path(UnixPath<'a>),
    /// A Linux abstract socket name (without the leading NUL).
    Abstract(&'a [u8]),
}

impl UnixAddress<'_> {
    /// Writes the address as the user would write it: the full path, or `@name`.
    pub fn describe(&self, line: &mut Line) {
        match *self {
            Self::Path(UnixPath { add_root, written }) => {
                if add_root {
                    line.text(b"/");
                }
                line.quoted(written);
            }
            Self::Abstract(name) => {
                line.text(b"@").quoted(name);
            }
        }
    }
}

/// What went wrong with a `unix/` target.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UnixProblem<'a> {
    AbstractNameEmpty,
    AbstractNameTooLong(&'a [u8]),
    Socket(i32),
    Connect {
        address: UnixAddress<'a>,
        errno: i32,
    },
    /// The path exists and is no socket (`mode`: its S_IFMT bits); connect
    /// refuses it as it refuses a socket nobody listens on yet, but waiting
    /// will not turn it into one.
    NotSocket {
        address: UnixAddress<'a>,
        mode: u32,
    },
}

impl UnixProblem<'_> {
    pub fn describe(&self, line: &mut Line) {
        match *self {
            Self::AbstractNameEmpty => {
                line.text(b"Abstract AF_UNIX socket name is empty.");
            }
            Self::AbstractNameTooLong(name) => {
                line.text(b"Abstract AF_UNIX socket name is longer than 107 bytes: @").quoted(name);
            }
            Self::Socket(errno) => {
                line.text(b"Failed to create AF_UNIX socket: ").errno(errno);
            }
            Self::Connect { address, errno } => {
                line.text(b"Failed to connect to AF_UNIX socket ");
                address.describe(line);
                line.text(b": ").errno(errno);
            }
            Self::NotSocket { address, mode } => {
                use linux_raw_sys::general::{S_IFCHR, S_IFDIR, S_IFIFO, S_IFREG};
                line.text(b"Failed to connect to AF_UNIX socket ");
                address.describe(line);
                line.text(b": it is a ").text(match mode {
                    S_IFREG => b"regular file",
                    S_IFDIR => b"directory",
                    S_IFIFO => b"FIFO",
                    S_IFCHR => b"character device",
                    // stat(2) follows symbolic links: what is left is S_IFBLK.
                    _ => b"block device",
                });
                line.text(b", not a socket");
            }
        }
    }
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

    fn root(&self) -> &'static [u8] {
        if self.add_root { b"/" } else { b"" }
    }

    /// A NUL of its own would cut the path short.
    fn has_nul(&self) -> bool {
        #[expect(clippy::manual_contains, reason = "smaller code (docs/performance.md, Size)")]
        let has_nul = self.written.iter().any(|&b| b == 0);
        has_nul
    }

    /// Appends the full path and a NUL to `out`. `None` when it does not fit in
    /// PATH_MAX, which the kernel would refuse with ENAMETOOLONG anyway, or
    /// holds a NUL of its own.
    pub fn write_with_nul(&self, out: &mut PathBuf) -> Option<()> {
        if self.has_nul() {
            return None;
        }
        out.push_parts(&[self.root(), self.written, b"\0"])
    }

    /// The address of a full path that fits in `sun_path`, with its NUL;
    /// `None` for a longer one or one with a NUL of its own.
    pub fn sockaddr(&self) -> Option<SockaddrUn> {
        if self.has_nul() {
            return None;
        }
        SockaddrUn::path(&[self.root(), self.written])
    }
}

/// `struct sockaddr_un` as bytes: the family, then sun_path; its length is
/// the one connect(2) takes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SockaddrUn(pub ArrayBuf<SOCKADDR_UN_LEN>);

impl SockaddrUn {
    /// AF_UNIX, then `sun_path` made of `parts` and `end`; `None` when they do not fit.
    fn new(parts: &[&[u8]], end: &[u8]) -> Option<Self> {
        let mut address = ArrayBuf::from_parts(&[&(linux_raw_sys::net::AF_UNIX as u16).to_ne_bytes()])?;
        address.push_parts(parts)?;
        address.push(end)?;
        Some(Self(address))
    }

    /// For a path (without NUL), made of `parts`, shorter than SUN_PATH_LEN:
    /// it and its NUL.
    pub fn path(parts: &[&[u8]]) -> Option<Self> {
        Self::new(parts, b"\0")
    }

    /// For an abstract name of at most SUN_PATH_LEN - 1 bytes: a NUL, then the name.
    pub fn abstract_name(name: &[u8]) -> Option<Self> {
        Self::new(&[b"\0"], name)
    }
}

/// Applies the unix/ rules to the text after the separator.
pub fn parse_unix_address(rest: &[u8]) -> Result<UnixAddress<'_>, UnixProblem<'_>> {
    if let Some(name) = rest.strip_prefix(b"@") {
        if name.is_empty() {
            return Err(UnixProblem::AbstractNameEmpty);
        }
        // sun_path holds the leading NUL plus the name.
        if name.len() > SUN_PATH_LEN - 1 {
            return Err(UnixProblem::AbstractNameTooLong(name));
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

    fn with_nul(path: UnixPath) -> Option<Vec<u8>> {
        let mut buf = PathBuf::new();
        path.write_with_nul(&mut buf).map(|()| buf.as_bytes().to_vec())
    }

    fn full_path(rest: &[u8]) -> Vec<u8> {
        match parse_unix_address(rest).unwrap() {
            UnixAddress::Path(path) => {
                let written = with_nul(path).unwrap();
                assert_eq!(written.last(), Some(&0));
                written[..written.len() - 1].to_vec()
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
        assert_eq!(parse_unix_address(b"@"), Err(UnixProblem::AbstractNameEmpty));
        let longest = [b'n'; 107];
        assert_eq!(parse_unix_address(&[b"@".as_slice(), &longest].concat()), Ok(UnixAddress::Abstract(&longest)));
        let too_long = [b'n'; 108];
        assert_eq!(
            parse_unix_address(&[b"@".as_slice(), &too_long].concat()),
            Err(UnixProblem::AbstractNameTooLong(&too_long))
        );
        // Only a leading @ makes a name abstract.
        assert!(matches!(parse_unix_address(b"run/@x"), Ok(UnixAddress::Path(_))));
    }

    fn message(problem: UnixProblem) -> String {
        crate::line::render(|line| problem.describe(line))
    }

    #[test]
    fn messages() {
        let path = UnixAddress::Path(UnixPath { add_root: true, written: b"run/x" });
        let cases: &[(UnixProblem, &str)] = &[
            (
                UnixProblem::Connect { address: path, errno: 2 },
                "Failed to connect to AF_UNIX socket /run/x: No such file or directory\n",
            ),
            (
                UnixProblem::Connect { address: UnixAddress::Abstract(b"vm"), errno: 111 },
                "Failed to connect to AF_UNIX socket @vm: Connection refused\n",
            ),
            (UnixProblem::AbstractNameEmpty, "Abstract AF_UNIX socket name is empty.\n"),
            (UnixProblem::AbstractNameTooLong(b"n"), "Abstract AF_UNIX socket name is longer than 107 bytes: @n\n"),
            (UnixProblem::Socket(24), "Failed to create AF_UNIX socket: Too many open files\n"),
            (
                UnixProblem::NotSocket { address: path, mode: linux_raw_sys::general::S_IFREG },
                "Failed to connect to AF_UNIX socket /run/x: it is a regular file, not a socket\n",
            ),
            (
                UnixProblem::NotSocket { address: path, mode: linux_raw_sys::general::S_IFIFO },
                "Failed to connect to AF_UNIX socket /run/x: it is a FIFO, not a socket\n",
            ),
        ];
        for (problem, expected) in cases {
            assert_eq!(message(*problem), *expected);
        }
    }

    #[test]
    fn path_capacity_is_path_max() {
        let fits = vec![b'a'; PATH_CAPACITY - 2];
        let path = UnixPath { add_root: true, written: &fits };
        assert_eq!(with_nul(path).unwrap().len(), PATH_CAPACITY);
        let too_long = vec![b'a'; PATH_CAPACITY - 1];
        let path = UnixPath { add_root: true, written: &too_long };
        assert!(with_nul(path).is_none());
        let nul_inside = UnixPath { add_root: true, written: b"a\0b" };
        assert!(with_nul(nul_inside).is_none());
    }

    #[test]
    fn sockaddr_un_layout() {
        use core::mem::{offset_of, size_of};
        use linux_raw_sys::net::sockaddr_un as Raw;
        assert_eq!(size_of::<Raw>(), SOCKADDR_UN_LEN);
        assert_eq!(offset_of!(Raw, sun_path), 2);
        let family = (linux_raw_sys::net::AF_UNIX as u16).to_ne_bytes();
        let path = SockaddrUn::path(&[b"/run/x"]).unwrap();
        assert_eq!(path.0.as_bytes(), [&family[..], b"/run/x\0"].concat());
        let name = SockaddrUn::abstract_name(b"vm").unwrap();
        assert_eq!(name.0.as_bytes(), [&family[..], b"\0vm"].concat());
        // As rustix's SocketAddrUnix: 107 bytes and a NUL, or a NUL and 107 bytes.
        assert_eq!(SockaddrUn::path(&[&[b'a'; 107]]).map(|a| a.0.len()), Some(SOCKADDR_UN_LEN));
        assert_eq!(SockaddrUn::path(&[&[b'a'; 108]]), None);
        assert_eq!(SockaddrUn::abstract_name(&[b'a'; 107]).map(|a| a.0.len()), Some(SOCKADDR_UN_LEN));
        assert_eq!(SockaddrUn::abstract_name(&[b'a'; 108]), None);
    }

    #[test]
    fn short_paths_become_an_address_directly() {
        let family = (linux_raw_sys::net::AF_UNIX as u16).to_ne_bytes();
        let address = UnixPath { add_root: true, written: b"run/x" }.sockaddr().unwrap();
        assert_eq!(address.0.as_bytes(), [&family[..], b"/run/x\0"].concat());
        let relative = UnixPath { add_root: false, written: b"./x" }.sockaddr().unwrap();
        assert_eq!(relative.0.as_bytes(), [&family[..], b"./x\0"].concat());
        // 107 bytes with the root fit, 108 do not (they go through the directory).
        assert!(UnixPath { add_root: true, written: &[b'a'; 106] }.sockaddr().is_some());
        assert!(UnixPath { add_root: true, written: &[b'a'; 107] }.sockaddr().is_none());
        assert!(UnixPath { add_root: true, written: b"a\0b" }.sockaddr().is_none());
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
