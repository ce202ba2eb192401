//! Readiness: `READY=1` to `$NOTIFY_SOCKET` in the sd_notify address forms
//! (an AF_UNIX datagram `/PATH`, `@NAME`, `vsock:CID:PORT` and its
//! `vsock-stream:`, `vsock-seqpacket:`, `vsock-dgram:` kinds), and what can
//! go wrong sending it (see sys/serve/notify.rs).

use crate::failure::is_transient_errno;
use crate::line::Line;
use crate::targets::unix::SUN_PATH_LEN;
use crate::targets::vsock::{VsockAddress, parse_cid, parse_port};

/// The message, as sd_notify(0, "READY=1") sends it.
pub const READY: &[u8] = b"READY=1";

/// The socket types that a vsock NOTIFY_SOCKET is tried with, in order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum VsockKind {
    /// `vsock:`: a datagram, else a seqpacket or stream connection, as
    /// systemd falls back where the transport has no datagrams (virtio).
    Any,
    Stream,
    Seqpacket,
    Dgram,
}

impl VsockKind {
    /// The socket types to try (SOCK_STREAM 1, SOCK_DGRAM 2, SOCK_SEQPACKET 5).
    pub fn socket_types(self) -> &'static [u32] {
        use linux_raw_sys::net::{SOCK_DGRAM, SOCK_SEQPACKET, SOCK_STREAM};
        match self {
            Self::Any => &[SOCK_DGRAM, SOCK_SEQPACKET, SOCK_STREAM],
            Self::Stream => &[SOCK_STREAM],
            Self::Seqpacket => &[SOCK_SEQPACKET],
            Self::Dgram => &[SOCK_DGRAM],
        }
    }
}

/// True when creating the socket failed because its type is missing, so
/// that `VsockKind::Any` goes on to the next type (systemd's rule).
pub fn type_unsupported(errno: i32) -> bool {
    use linux_raw_sys::errno::{EAFNOSUPPORT, ENODEV, ENOPROTOOPT, EOPNOTSUPP, EPROTONOSUPPORT, ESOCKTNOSUPPORT};
    const MISSING: [u32; 6] = [EOPNOTSUPP, ESOCKTNOSUPPORT, EPROTONOSUPPORT, EAFNOSUPPORT, ENOPROTOOPT, ENODEV];
    u32::try_from(errno).is_ok_and(|errno| MISSING.contains(&errno))
}

/// Where READY=1 goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NotifyAddress<'a> {
    /// An AF_UNIX datagram socket at this path.
    Path(&'a [u8]),
    /// An abstract AF_UNIX datagram socket (the name without its NUL).
    Abstract(&'a [u8]),
    Vsock {
        kind: VsockKind,
        address: VsockAddress,
    },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NotifyProblem<'a> {
    /// NOTIFY_SOCKET is in none of the forms.
    Bad(&'a [u8]),
    /// `again`: it is tried again (see `is_not_yet`).
    Send { to: &'a [u8], errno: i32, again: bool },
}

/// Errors of sending READY=1 that a later try may not have: the socket is
/// not there yet, as for the proxy's `--wait` (a VMM that listens late, the
/// host side of vsock not up), and also no route, no such address, a full
/// datagram queue, or AF_VSOCK's transport not loaded yet (ENODEV and
/// EAFNOSUPPORT: with only vsock.ko in, a bind works but this connect does not).
pub fn is_not_yet(errno: i32) -> bool {
    use linux_raw_sys::errno::*;
    is_transient_errno(errno)
        || [ENETUNREACH, EADDRNOTAVAIL, EAFNOSUPPORT, EAGAIN]
            .iter()
            .any(|&not_yet| u32::try_from(errno).is_ok_and(|errno| errno == not_yet))
}

impl NotifyProblem<'_> {
    pub fn describe(&self, line: &mut Line) {
        match *self {
            Self::Bad(text) => {
                line.text(b"Invalid NOTIFY_SOCKET: ").quoted(text);
                line.text(b" (/PATH, @NAME, vsock:CID:PORT or vsock-stream:CID:PORT)");
            }
            Self::Send { to, errno, again } => {
                line.text(b"Failed to send READY=1 to NOTIFY_SOCKET ").quoted(to).text(b": ").errno(errno);
                if again {
                    line.text(b"; trying again.");
                }
            }
        }
    }
}

/// Parses NOTIFY_SOCKET's value.
pub fn parse_notify_socket(text: &[u8]) -> Result<NotifyAddress<'_>, NotifyProblem<'_>> {
    let bad = NotifyProblem::Bad(text);
    if text.starts_with(b"/") || text.starts_with(b"@") {
        // sun_path holds the path and its NUL, or the NUL and the name.
        if text.len() >= SUN_PATH_LEN || text == b"@" {
            return Err(bad);
        }
        return Ok(match text.strip_prefix(b"@") {
            Some(name) => NotifyAddress::Abstract(name),
            None => NotifyAddress::Path(text),
        });
    }
    let kinds: [(&[u8], VsockKind); 4] = [
        (b"vsock:", VsockKind::Any),
        (b"vsock-stream:", VsockKind::Stream),
        (b"vsock-seqpacket:", VsockKind::Seqpacket),
        (b"vsock-dgram:", VsockKind::Dgram),
    ];
    let (kind, rest) =
        kinds.into_iter().find_map(|(prefix, kind)| Some((kind, text.strip_prefix(prefix)?))).ok_or(bad)?;
    let colon = rest.iter().position(|&b| b == b':').ok_or(bad)?;
    let (cid, colon_port) = rest.split_at_checked(colon).ok_or(bad)?;
    let cid = parse_cid(cid).map_err(|_| bad)?;
    let port = parse_port(colon_port.get(1..).unwrap_or_default()).map_err(|_| bad)?;
    Ok(NotifyAddress::Vsock { kind, address: VsockAddress { cid, port } })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vsock(kind: VsockKind, cid: u32, port: u32) -> NotifyAddress<'static> {
        NotifyAddress::Vsock { kind, address: VsockAddress { cid, port } }
    }

    #[test]
    fn notify_socket_grammar() {
        let longest = [&b"/"[..], &[b'p'; 106]].concat();
        let too_long = [&b"/"[..], &[b'p'; 107]].concat();
        let cases: &[(&[u8], Result<NotifyAddress, ()>)] = &[
            (b"/run/systemd/notify", Ok(NotifyAddress::Path(b"/run/systemd/notify"))),
            (&longest, Ok(NotifyAddress::Path(&longest))),
            (&too_long, Err(())),
            (b"@notify", Ok(NotifyAddress::Abstract(b"notify"))),
            (b"@", Err(())),
            (b"vsock:2:9999", Ok(vsock(VsockKind::Any, 2, 9999))),
            (b"vsock:host:9999", Ok(vsock(VsockKind::Any, 2, 9999))),
            (b"vsock-stream:2:9999", Ok(vsock(VsockKind::Stream, 2, 9999))),
            (b"vsock-seqpacket:2:1", Ok(vsock(VsockKind::Seqpacket, 2, 1))),
            (b"vsock-dgram:3:1", Ok(vsock(VsockKind::Dgram, 3, 1))),
            (b"vsock::9999", Err(())),
            (b"vsock:any:9999", Err(())),
            (b"vsock:2:", Err(())),
            (b"vsock:2", Err(())),
            (b"vsock:2:4294967295", Err(())),
            (b"vsock:2:1:2", Err(())),
            (b"vsock-stream:x:1", Err(())),
            (b"vsock-foo:2:1", Err(())),
            (b"run/notify", Err(())),
            (b"", Err(())),
        ];
        for (text, expected) in cases {
            let parsed = parse_notify_socket(text).map_err(|problem| assert_eq!(problem, NotifyProblem::Bad(text)));
            assert_eq!(&parsed, expected, "{:?}", String::from_utf8_lossy(text));
        }
    }

    #[test]
    fn vsock_kinds_fall_back_like_systemd() {
        use linux_raw_sys::net::{SOCK_DGRAM, SOCK_SEQPACKET, SOCK_STREAM};
        assert_eq!(VsockKind::Any.socket_types(), [SOCK_DGRAM, SOCK_SEQPACKET, SOCK_STREAM]);
        assert_eq!(VsockKind::Stream.socket_types(), [SOCK_STREAM]);
        assert!(type_unsupported(19) && type_unsupported(95) && type_unsupported(94) && type_unsupported(97));
        assert!(!type_unsupported(111) && !type_unsupported(13) && !type_unsupported(-19));
    }

    #[test]
    fn messages() {
        let message = |problem: NotifyProblem| crate::line::render(|line| problem.describe(line));
        assert_eq!(
            message(NotifyProblem::Bad(b"tcp:1")),
            "Invalid NOTIFY_SOCKET: tcp:1 (/PATH, @NAME, vsock:CID:PORT or vsock-stream:CID:PORT)\n"
        );
        assert_eq!(
            message(NotifyProblem::Send { to: b"/run/n", errno: 91, again: false }),
            "Failed to send READY=1 to NOTIFY_SOCKET /run/n: Protocol wrong type for socket\n"
        );
        assert_eq!(
            message(NotifyProblem::Send { to: b"vsock-stream:2:9000", errno: 19, again: true }),
            "Failed to send READY=1 to NOTIFY_SOCKET vsock-stream:2:9000: No such device; trying again.\n"
        );
    }

    #[test]
    fn which_failures_are_tried_again() {
        for errno in [2, 111, 104, 110, 19, 101, 113, 99, 97, 11] {
            assert!(is_not_yet(errno), "{errno}");
        }
        for errno in [0, -1, 1, 13, 91, 22, 36] {
            assert!(!is_not_yet(errno), "{errno}");
        }
    }
}
