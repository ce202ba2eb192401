//! `vsock/CID`: CID names, the port rule, the kernel's sockaddr_vm, and what
//! can go wrong (see sys/connect/vsock.rs).

use crate::line::Line;
use crate::number::parse_u32;

/// VMADDR_CID_ANY and VMADDR_PORT_ANY: wildcards, never a peer to connect to.
pub const ANY: u32 = u32::MAX;

/// VMADDR_CID_HOST: CIDs up to this one (the hypervisor, the local host, the
/// host) are never a guest's.
pub const CID_HOST: u32 = 2;

/// Size of `struct sockaddr_vm`.
pub const SOCKADDR_VM_LEN: usize = 16;

/// A vsock peer: context id and port.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct VsockAddress {
    pub cid: u32,
    pub port: u32,
}

/// What went wrong with a `vsock/` target (or a port for vsock-mux/ and machine/).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum VsockProblem<'a> {
    CidAny,
    BadCid(&'a [u8]),
    BadPort(&'a [u8]),
    Socket(i32),
    Connect { address: VsockAddress, errno: i32 },
}

impl VsockProblem<'_> {
    pub fn describe(&self, line: &mut Line) {
        match *self {
            Self::CidAny => {
                line.text(b"Cannot use VMADDR_CID_ANY to connect to a remote host.");
            }
            Self::BadCid(text) => {
                line.text(b"Failed to parse vsock cid: ").quoted(text);
            }
            Self::BadPort(text) => {
                line.text(b"Failed to parse vsock port: ").quoted(text);
            }
            Self::Socket(errno) => {
                line.text(b"Failed to create AF_VSOCK socket: ").errno(errno);
            }
            Self::Connect { address, errno } => {
                line.text(b"Failed to connect to vsock:").number(address.cid);
                line.text(b":").number(address.port).text(b": ").errno(errno);
            }
        }
    }
}

/// Parses a CID: a well-known name or a strict decimal number.
pub fn parse_cid(text: &[u8]) -> Result<u32, VsockProblem<'_>> {
    let cid = if text == b"hypervisor" {
        0
    } else if text == b"local" {
        1
    } else if text == b"host" {
        2
    } else if text == b"any" || text == b"-1" {
        ANY
    } else {
        parse_u32(text).ok_or(VsockProblem::BadCid(text))?
    };
    if cid == ANY {
        return Err(VsockProblem::CidAny);
    }
    Ok(cid)
}

/// Parses a vsock port: strict decimal, VMADDR_PORT_ANY excluded.
pub fn parse_port(text: &[u8]) -> Result<u32, VsockProblem<'_>> {
    match parse_u32(text) {
        Some(port) if port != ANY => Ok(port),
        _ => Err(VsockProblem::BadPort(text)),
    }
}

/// The bytes of `struct sockaddr_vm` for `address`: family u16 = AF_VSOCK,
/// reserved u16, port u32, cid u32, flags u8, then 3 zero bytes.
pub fn sockaddr_vm(address: VsockAddress) -> [u8; SOCKADDR_VM_LEN] {
    let [f0, f1] = (linux_raw_sys::net::AF_VSOCK as u16).to_ne_bytes();
    let [p0, p1, p2, p3] = address.port.to_ne_bytes();
    let [c0, c1, c2, c3] = address.cid.to_ne_bytes();
    [f0, f1, 0, 0, p0, p1, p2, p3, c0, c1, c2, c3, 0, 0, 0, 0]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cid_names_and_numbers() {
        let cases: &[(&[u8], Result<u32, VsockProblem>)] = &[
            (b"hypervisor", Ok(0)),
            (b"local", Ok(1)),
            (b"host", Ok(2)),
            (b"0", Ok(0)),
            (b"3", Ok(3)),
            (b"4711", Ok(4711)),
            (b"010", Ok(10)),
            (b"4294967294", Ok(4294967294)),
            (b"any", Err(VsockProblem::CidAny)),
            (b"-1", Err(VsockProblem::CidAny)),
            (b"4294967295", Err(VsockProblem::CidAny)),
            (b"4294967296", Err(VsockProblem::BadCid(b"4294967296"))),
            (b"", Err(VsockProblem::BadCid(b""))),
            (b"Host", Err(VsockProblem::BadCid(b"Host"))),
            (b"ANY", Err(VsockProblem::BadCid(b"ANY"))),
            (b"0x10", Err(VsockProblem::BadCid(b"0x10"))),
            (b"+3", Err(VsockProblem::BadCid(b"+3"))),
            (b"-2", Err(VsockProblem::BadCid(b"-2"))),
            (b" 3", Err(VsockProblem::BadCid(b" 3"))),
            (b"3 ", Err(VsockProblem::BadCid(b"3 "))),
            (b"3/4", Err(VsockProblem::BadCid(b"3/4"))),
        ];
        for (text, expected) in cases {
            assert_eq!(&parse_cid(text), expected, "cid {:?}", String::from_utf8_lossy(text));
        }
    }

    #[test]
    fn port_rules() {
        let cases: &[(&[u8], Result<u32, VsockProblem>)] = &[
            (b"22", Ok(22)),
            (b"0", Ok(0)),
            (b"022", Ok(22)),
            (b"4294967294", Ok(4294967294)),
            (b"4294967295", Err(VsockProblem::BadPort(b"4294967295"))),
            (b"4294967296", Err(VsockProblem::BadPort(b"4294967296"))),
            (b"-1", Err(VsockProblem::BadPort(b"-1"))),
            (b"", Err(VsockProblem::BadPort(b""))),
            (b"ssh", Err(VsockProblem::BadPort(b"ssh"))),
            (b" 22", Err(VsockProblem::BadPort(b" 22"))),
            (b"22\nFOO 1", Err(VsockProblem::BadPort(b"22\nFOO 1"))),
            (b"0x16", Err(VsockProblem::BadPort(b"0x16"))),
        ];
        for (text, expected) in cases {
            assert_eq!(&parse_port(text), expected, "port {:?}", String::from_utf8_lossy(text));
        }
    }

    #[test]
    fn messages() {
        let message = |problem: VsockProblem| crate::line::render(|line| problem.describe(line));
        let cases: &[(VsockProblem, &str)] = &[
            (VsockProblem::CidAny, "Cannot use VMADDR_CID_ANY to connect to a remote host.\n"),
            (VsockProblem::BadCid(b"x"), "Failed to parse vsock cid: x\n"),
            (VsockProblem::BadPort(b"22\nFOO 1"), "Failed to parse vsock port: 22\\x0aFOO 1\n"),
            (
                VsockProblem::Connect { address: VsockAddress { cid: 3, port: 22 }, errno: 111 },
                "Failed to connect to vsock:3:22: Connection refused\n",
            ),
            (VsockProblem::Socket(97), "Failed to create AF_VSOCK socket: Address family not supported by protocol\n"),
        ];
        for (problem, expected) in cases {
            assert_eq!(message(*problem), *expected);
        }
    }

    #[test]
    fn sockaddr_vm_matches_kernel_layout() {
        let bytes = sockaddr_vm(VsockAddress { cid: 0x0403_0201, port: 0x0807_0605 });
        assert_eq!(bytes, [40, 0, 0, 0, 5, 6, 7, 8, 1, 2, 3, 4, 0, 0, 0, 0]);
    }

    // linux-raw-sys 0.12 declares svm_zero as 115 bytes (the kernel's is 3), so
    // only the field offsets are compared; the kernel wants exactly 16 bytes.
    #[test]
    fn sockaddr_vm_field_offsets_match_linux_raw_sys() {
        use linux_raw_sys::vm_sockets::sockaddr_vm as Raw;
        assert_eq!(core::mem::offset_of!(Raw, svm_family), 0);
        assert_eq!(core::mem::offset_of!(Raw, svm_port), 4);
        assert_eq!(core::mem::offset_of!(Raw, svm_cid), 8);
        assert_eq!(core::mem::offset_of!(Raw, svm_flags), 12);
    }
}
