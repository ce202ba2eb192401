//! LISTEN: the addresses ssh-sockserve listens on, in systemd's
//! ListenStream= syntax (`vsock::PORT`, `vsock:CID:PORT`, `/PATH`, `@NAME`),
//! and what can go wrong binding them (see sys/serve/listen.rs).

use crate::line::Line;
use crate::targets::unix::SUN_PATH_LEN;
use crate::targets::vsock::{VsockAddress, VsockProblem, parse_cid, parse_port};

/// VMADDR_CID_ANY: every CID of this machine (`vsock::PORT`).
pub const CID_ANY: u32 = u32::MAX;

/// What a LISTEN value names.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ListenAddress<'a> {
    Vsock(VsockAddress),
    /// An absolute path, at most 107 bytes (sun_path and its NUL).
    Path(&'a [u8]),
    /// An abstract name without its leading NUL, 1 to 107 bytes.
    Abstract(&'a [u8]),
}

/// One LISTEN value: the address, and its text as written for messages.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Listen<'a> {
    pub text: &'a [u8],
    pub address: ListenAddress<'a>,
}

/// The step of setting up a listener that failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Step {
    Socket,
    Bind,
    Listen,
}

/// What is wrong with a LISTEN value, or with binding it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ListenProblem<'a> {
    Unsupported(&'a [u8]),
    BadCid(&'a [u8]),
    BadPort(&'a [u8]),
    PathTooLong(&'a [u8]),
    NameEmpty,
    NameTooLong(&'a [u8]),
    Duplicate(&'a [u8]),
    TooMany(usize),
    /// Its parent directory could not be created.
    Directory {
        text: &'a [u8],
        errno: i32,
    },
    /// A file that is not a socket is in the way.
    NotSocket(&'a [u8]),
    /// A live server listens on the socket file already.
    InUse(&'a [u8]),
    /// A step failed for good (not a vsock transport that is still missing).
    Failed {
        text: &'a [u8],
        errno: i32,
    },
}

impl ListenProblem<'_> {
    pub fn describe(&self, line: &mut Line) {
        match *self {
            Self::Unsupported(text) => {
                line.text(b"Unsupported LISTEN address: ").quoted(text);
                line.text(b" (vsock::PORT, vsock:CID:PORT, /PATH or @NAME)");
            }
            Self::BadCid(text) => {
                line.text(b"Failed to parse vsock cid in LISTEN address: ").quoted(text);
            }
            Self::BadPort(text) => {
                line.text(b"Failed to parse vsock port in LISTEN address: ").quoted(text);
            }
            Self::PathTooLong(text) => {
                line.text(b"AF_UNIX socket path is longer than 107 bytes: ").quoted(text);
            }
            Self::NameEmpty => {
                line.text(b"Abstract AF_UNIX socket name is empty.");
            }
            Self::NameTooLong(text) => {
                line.text(b"Abstract AF_UNIX socket name is longer than 107 bytes: ").quoted(text);
            }
            Self::Duplicate(text) => {
                line.text(b"LISTEN address given twice: ").quoted(text);
            }
            Self::TooMany(max) => {
                line.text(b"Too many LISTEN addresses (at most ").number(max as u32).text(b").");
            }
            Self::Directory { text, errno } => {
                line.text(b"Failed to create the directory of ").quoted(text).text(b": ").errno(errno);
            }
            Self::NotSocket(text) => {
                line.text(b"Failed to listen on ").quoted(text).text(b": it exists and is not a socket.");
            }
            Self::InUse(text) => {
                line.text(b"Failed to listen on ").quoted(text).text(b": another server is listening there.");
            }
            Self::Failed { text, errno } => {
                line.text(b"Failed to listen on ").quoted(text).text(b": ").errno(errno);
            }
        }
    }
}

/// Parses one LISTEN value.
pub fn parse_listen(text: &[u8]) -> Result<Listen<'_>, ListenProblem<'_>> {
    let address = if text.starts_with(b"/") {
        if text.len() >= SUN_PATH_LEN {
            return Err(ListenProblem::PathTooLong(text));
        }
        ListenAddress::Path(text)
    } else if let Some(name) = text.strip_prefix(b"@") {
        if name.is_empty() {
            return Err(ListenProblem::NameEmpty);
        }
        // sun_path holds the leading NUL plus the name.
        if name.len() >= SUN_PATH_LEN {
            return Err(ListenProblem::NameTooLong(text));
        }
        ListenAddress::Abstract(name)
    } else if let Some(rest) = text.strip_prefix(b"vsock:") {
        let colon = rest.iter().position(|&b| b == b':').ok_or(ListenProblem::BadPort(text))?;
        let (cid, colon_port) = rest.split_at_checked(colon).ok_or(ListenProblem::BadPort(text))?;
        let port = parse_port(colon_port.get(1..).unwrap_or_default()).map_err(|_| ListenProblem::BadPort(text))?;
        // Empty, like systemd's `vsock::PORT`, or `any`: every local CID.
        let cid = match parse_cid(cid) {
            _ if cid.is_empty() => CID_ANY,
            Ok(cid) => cid,
            Err(VsockProblem::CidAny) => CID_ANY,
            Err(_) => return Err(ListenProblem::BadCid(text)),
        };
        ListenAddress::Vsock(VsockAddress { cid, port })
    } else {
        return Err(ListenProblem::Unsupported(text));
    };
    Ok(Listen { text, address })
}

/// True when a vsock listener failed because AF_VSOCK, or its transport, is
/// not there yet (the modules load late): the socket call fails with
/// EAFNOSUPPORT, or the bind with EADDRNOTAVAIL or ENODEV. It is tried again.
pub fn is_late(address: &ListenAddress<'_>, step: Step, errno: i32) -> bool {
    use linux_raw_sys::errno::{EADDRNOTAVAIL, EAFNOSUPPORT, ENODEV};
    let late: &[u32] = match step {
        Step::Socket => &[EAFNOSUPPORT],
        Step::Bind => &[EADDRNOTAVAIL, ENODEV],
        Step::Listen => &[],
    };
    let listed = late.iter().any(|&e| u32::try_from(errno) == Ok(e));
    matches!(address, ListenAddress::Vsock(_)) && listed
}

/// The `-v` notes of a listener that binds late.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ListenNote<'a> {
    /// Said once: AF_VSOCK is not there yet; the others are served meanwhile.
    NotYet { text: &'a [u8], errno: i32 },
    /// It is bound at last.
    Listening(&'a [u8]),
}

impl ListenNote<'_> {
    pub fn describe(&self, line: &mut Line) {
        match *self {
            Self::NotYet { text, errno } => {
                line.text(b"Cannot listen on ").quoted(text).text(b" yet (").errno(errno);
                line.text(b"); serving the other addresses and trying again.");
            }
            Self::Listening(text) => {
                line.text(b"Listening on ").quoted(text).text(b" now.");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vsock(cid: u32, port: u32) -> ListenAddress<'static> {
        ListenAddress::Vsock(VsockAddress { cid, port })
    }

    #[test]
    fn listen_grammar() {
        let longest_path = [&b"/"[..], &[b'p'; 106]].concat();
        let longest_name = [&b"@"[..], &[b'n'; 107]].concat();
        let cases: &[(&[u8], Result<ListenAddress, ListenProblem>)] = &[
            (b"vsock::22", Ok(vsock(CID_ANY, 22))),
            (b"vsock:3:22", Ok(vsock(3, 22))),
            (b"vsock:1:2222", Ok(vsock(1, 2222))),
            (b"vsock:local:22", Ok(vsock(1, 22))),
            (b"vsock:any:22", Ok(vsock(CID_ANY, 22))),
            (b"vsock:4294967295:22", Ok(vsock(CID_ANY, 22))),
            (b"vsock::0", Ok(vsock(CID_ANY, 0))),
            (b"vsock::4294967294", Ok(vsock(CID_ANY, 4294967294))),
            (b"/run/ssh-unix-local/socket", Ok(ListenAddress::Path(b"/run/ssh-unix-local/socket"))),
            (b"/", Ok(ListenAddress::Path(b"/"))),
            (&longest_path, Ok(ListenAddress::Path(&longest_path))),
            (b"@ssh", Ok(ListenAddress::Abstract(b"ssh"))),
            (b"@/x", Ok(ListenAddress::Abstract(b"/x"))),
            (&longest_name, Ok(ListenAddress::Abstract(&longest_name[1..]))),
            (b"vsock:22", Err(ListenProblem::BadPort(b"vsock:22"))),
            (b"vsock:", Err(ListenProblem::BadPort(b"vsock:"))),
            (b"vsock::", Err(ListenProblem::BadPort(b"vsock::"))),
            (b"vsock::x", Err(ListenProblem::BadPort(b"vsock::x"))),
            (b"vsock::22:1", Err(ListenProblem::BadPort(b"vsock::22:1"))),
            (b"vsock::4294967295", Err(ListenProblem::BadPort(b"vsock::4294967295"))),
            (b"vsock::-1", Err(ListenProblem::BadPort(b"vsock::-1"))),
            (b"vsock:x:22", Err(ListenProblem::BadCid(b"vsock:x:22"))),
            (b"vsock:0x3:22", Err(ListenProblem::BadCid(b"vsock:0x3:22"))),
            (b"vsock: 3:22", Err(ListenProblem::BadCid(b"vsock: 3:22"))),
            (b"@", Err(ListenProblem::NameEmpty)),
            (b"22", Err(ListenProblem::Unsupported(b"22"))),
            (b"0.0.0.0:22", Err(ListenProblem::Unsupported(b"0.0.0.0:22"))),
            (b"[::]:22", Err(ListenProblem::Unsupported(b"[::]:22"))),
            (b"run/x", Err(ListenProblem::Unsupported(b"run/x"))),
            (b"./x", Err(ListenProblem::Unsupported(b"./x"))),
            (b"VSOCK::22", Err(ListenProblem::Unsupported(b"VSOCK::22"))),
            (b"vsock-stream::22", Err(ListenProblem::Unsupported(b"vsock-stream::22"))),
            (b"", Err(ListenProblem::Unsupported(b""))),
        ];
        for (text, expected) in cases {
            let parsed = parse_listen(text).map(|listen| listen.address);
            assert_eq!(&parsed, expected, "{:?}", String::from_utf8_lossy(text));
        }
        let too_long = [&b"/"[..], &[b'p'; 107]].concat();
        assert_eq!(parse_listen(&too_long), Err(ListenProblem::PathTooLong(&too_long)));
        let too_long = [&b"@"[..], &[b'n'; 108]].concat();
        assert_eq!(parse_listen(&too_long), Err(ListenProblem::NameTooLong(&too_long)));
        assert_eq!(parse_listen(b"vsock:3:22").map(|l| l.text), Ok(&b"vsock:3:22"[..]));
    }

    #[test]
    fn only_vsock_is_late() {
        use linux_raw_sys::errno::{EACCES, EADDRINUSE, EADDRNOTAVAIL, EAFNOSUPPORT, ENODEV};
        let vsock = vsock(CID_ANY, 22);
        let path = ListenAddress::Path(b"/x");
        let cases = [
            (Step::Socket, EAFNOSUPPORT, true),
            (Step::Bind, EADDRNOTAVAIL, true),
            (Step::Bind, ENODEV, true),
            (Step::Socket, ENODEV, false),
            (Step::Bind, EAFNOSUPPORT, false),
            (Step::Bind, EADDRINUSE, false),
            (Step::Bind, EACCES, false),
            (Step::Listen, ENODEV, false),
        ];
        for (step, errno, late) in cases {
            assert_eq!(is_late(&vsock, step, errno as i32), late, "{step:?} {errno}");
            assert!(!is_late(&path, step, errno as i32), "{step:?} {errno}");
        }
    }

    #[test]
    fn messages() {
        let message = |problem: ListenProblem| crate::line::render(|line| problem.describe(line));
        let cases: &[(ListenProblem, &str)] = &[
            (
                ListenProblem::Unsupported(b"tcp:22\n"),
                "Unsupported LISTEN address: tcp:22\\x0a (vsock::PORT, vsock:CID:PORT, /PATH or @NAME)\n",
            ),
            (ListenProblem::BadCid(b"vsock:x:22"), "Failed to parse vsock cid in LISTEN address: vsock:x:22\n"),
            (ListenProblem::BadPort(b"vsock::x"), "Failed to parse vsock port in LISTEN address: vsock::x\n"),
            (ListenProblem::PathTooLong(b"/p"), "AF_UNIX socket path is longer than 107 bytes: /p\n"),
            (ListenProblem::NameEmpty, "Abstract AF_UNIX socket name is empty.\n"),
            (ListenProblem::NameTooLong(b"@n"), "Abstract AF_UNIX socket name is longer than 107 bytes: @n\n"),
            (ListenProblem::Duplicate(b"/s"), "LISTEN address given twice: /s\n"),
            (ListenProblem::TooMany(16), "Too many LISTEN addresses (at most 16).\n"),
            (
                ListenProblem::Directory { text: b"/proc/x/s", errno: 2 },
                "Failed to create the directory of /proc/x/s: No such file or directory\n",
            ),
            (
                ListenProblem::NotSocket(b"/etc/passwd"),
                "Failed to listen on /etc/passwd: it exists and is not a socket.\n",
            ),
            (ListenProblem::InUse(b"/s"), "Failed to listen on /s: another server is listening there.\n"),
            (ListenProblem::Failed { text: b"@x", errno: 98 }, "Failed to listen on @x: Address already in use\n"),
        ];
        for (problem, expected) in cases {
            assert_eq!(message(*problem), *expected);
        }
        let note = |note: ListenNote| crate::line::render(|line| note.describe(line));
        assert_eq!(
            note(ListenNote::NotYet { text: b"vsock::22", errno: 97 }),
            "Cannot listen on vsock::22 yet (Address family not supported by protocol); serving the other addresses and trying again.\n"
        );
        assert_eq!(note(ListenNote::Listening(b"vsock::22")), "Listening on vsock::22 now.\n");
    }
}
