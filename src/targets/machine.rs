//! `machine/NAME`: the name rule, systemd-machined's Varlink request for one
//! machine and the reply fields we use (`class`, `service`, `vSockCid`, or an
//! error), where systemd-nspawn exports a container's sshd, and what can go
//! wrong (see sys/connect/machine.rs).

use crate::array_buf::ArrayBuf;
use crate::json::{JsonError, Reader, Text};
use crate::line::Line;
use crate::number::hex_byte;
use crate::targets::vsock;

/// Longest machine name machined accepts (HOST_NAME_MAX).
pub const NAME_MAX: usize = 64;

/// Room for the request: the fixed text plus a name whose every byte is escaped.
pub const REQUEST_CAPACITY: usize = 64 + 6 * NAME_MAX;

/// Replies larger than this are refused.
pub const REPLY_CAPACITY: usize = 64 * 1024;

/// Room for one reply.
pub type ReplyBuffer = [u8; REPLY_CAPACITY];

/// True for names machined can hold (systemd's `hostname_is_valid`): `.host`,
/// or dot-separated labels of ASCII letters, digits and `-`, no label starting
/// or ending with `-`, at most 64 bytes.
pub fn is_valid_machine_name(name: &[u8]) -> bool {
    if name == b".host" {
        return true;
    }
    let label_is_valid = |label: &[u8]| {
        !label.starts_with(b"-")
            && !label.ends_with(b"-")
            && !label.is_empty()
            && label.iter().all(|&b| b.is_ascii_alphanumeric() || b == b'-')
    };
    name.len() <= NAME_MAX && name.split(|&b| b == b'.').all(label_is_valid)
}

/// `{"method":"io.systemd.Machine.List","parameters":{"name":NAME}}` and the
/// NUL that ends a Varlink message, with NAME as a JSON string.
pub fn list_request(name: &[u8], out: &mut ArrayBuf<REQUEST_CAPACITY>) -> Option<()> {
    const HEAD: &[u8] = br#"{"method":"io.systemd.Machine.List","parameters":{"name":""#;
    const TAIL: &[u8] = b"\"}}\0";
    out.push(HEAD)?;
    for &byte in name {
        match byte {
            b'"' | b'\\' => out.push(&[b'\\', byte])?,
            0..=0x1f => {
                let [high, low] = hex_byte(byte);
                out.push(&[b'\\', b'u', b'0', b'0', high, low])?
            }
            _ => out.push(&[byte])?,
        }
    }
    out.push(TAIL)
}

/// Error ids are shown to the user; 128 bytes keep any real one whole.
pub type ErrorId = Text<128>;

/// The parts of a `io.systemd.Machine.List` reply we use.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct MachineReply {
    /// Set when the reply is an error.
    pub error: Option<ErrorId>,
    /// `parameters.errno` of an `io.systemd.System` error.
    pub errno: Option<u32>,
    pub class: Option<Text<32>>,
    pub service: Option<Text<32>>,
    pub vsock_cid: Option<u32>,
}

fn set_once<T>(slot: &mut Option<T>, value: T, at: usize) -> Result<(), JsonError> {
    if slot.is_some() {
        return Err(JsonError::DuplicateKey(at));
    }
    *slot = Some(value);
    Ok(())
}

/// `set_once` for a string, decoded in place rather than copied in. A second
/// value is still read, and so checked, before it is refused.
fn string_once<const N: usize>(
    reader: &mut Reader<'_>,
    slot: &mut Option<Text<N>>,
    at: usize,
) -> Result<(), JsonError> {
    match slot {
        Some(_) => {
            reader.string(&mut Text::<0>::new())?;
            Err(JsonError::DuplicateKey(at))
        }
        None => reader.string(slot.insert(Text::new())),
    }
}

/// Parses one reply (without its NUL). Every other key is skipped, whatever
/// its value; the whole document must be valid JSON.
pub fn parse_machine_reply(doc: &[u8]) -> Result<MachineReply, JsonError> {
    let mut reply = MachineReply::default();
    let mut reader = Reader::new(doc);
    let mut key = Text::<16>::new();
    let mut seen_parameters = false;
    reader.begin_object()?;
    let mut first = true;
    while reader.next_member(first, &mut key)? {
        first = false;
        let at = reader.position();
        if key.is(b"parameters") {
            if seen_parameters {
                return Err(JsonError::DuplicateKey(at));
            }
            seen_parameters = true;
            parse_parameters(&mut reader, &mut reply)?;
        } else if key.is(b"error") {
            string_once(&mut reader, &mut reply.error, at)?;
        } else {
            reader.skip_value(1)?;
        }
    }
    reader.finish()?;
    Ok(reply)
}

fn parse_parameters(reader: &mut Reader<'_>, reply: &mut MachineReply) -> Result<(), JsonError> {
    let mut key = Text::<16>::new();
    reader.begin_object()?;
    let mut first = true;
    while reader.next_member(first, &mut key)? {
        first = false;
        let at = reader.position();
        if key.is(b"class") {
            string_once(reader, &mut reply.class, at)?;
        } else if key.is(b"service") {
            string_once(reader, &mut reply.service, at)?;
        } else if key.is(b"vSockCid") {
            if !reader.null()? {
                set_once(&mut reply.vsock_cid, reader.u32()?, at)?;
            }
        } else if key.is(b"errno") {
            set_once(&mut reply.errno, reader.u32()?, at)?;
        } else {
            reader.skip_value(2)?;
        }
    }
    Ok(())
}

/// The CID of VM `name` from machined's `vSockCid`, by the rules of the
/// command line (never VMADDR_CID_ANY) and of machined itself (systemd's
/// VSOCK_CID_IS_REGULAR): ANY is no CID assigned, as upstream reads it, and
/// 0, 1 and 2 (the hypervisor, the local host, the host) are no guest's.
pub fn vm_cid(name: &[u8], cid: Option<u32>) -> Result<u32, MachineProblem<'_>> {
    match cid {
        None | Some(vsock::ANY) => Err(MachineProblem::NoCid(name)),
        Some(cid) if cid <= vsock::CID_HOST => Err(MachineProblem::ReservedCid { name, cid }),
        Some(cid) => Ok(cid),
    }
}

/// Where systemd-nspawn puts the container's ssh socket under the runtime dir.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NspawnLayout {
    /// systemd 262: `systemd/nspawn/NAME/unix-export/ssh`.
    Current,
    /// Earlier releases: `systemd/nspawn/unix-export/NAME/ssh`.
    Old,
}

impl NspawnLayout {
    /// The path pieces after the runtime dir: before NAME, and after it.
    pub fn around_name(self) -> (&'static [u8], &'static [u8]) {
        match self {
            Self::Current => (b"/systemd/nspawn/", b"/unix-export/ssh"),
            Self::Old => (b"/systemd/nspawn/unix-export/", b"/ssh"),
        }
    }
}

/// What went wrong with a `machine/` target.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[expect(clippy::large_enum_variant, reason = "no allocator to box Lookup into (see clippy.toml)")]
pub enum MachineProblem<'a> {
    BadName(&'a [u8]),
    /// Neither machined instance could say what the machine is; `user` is
    /// `None` when XDG_RUNTIME_DIR is not set.
    Lookup {
        name: &'a [u8],
        user: Option<ScopeProblem>,
        system: ScopeProblem,
    },
    NoCid(&'a [u8]),
    /// machined gave a VM a CID that no guest has.
    ReservedCid {
        name: &'a [u8],
        cid: u32,
    },
    KindUnknown {
        name: &'a [u8],
        class: Option<Text<32>>,
        service: Option<Text<32>>,
    },
    /// The socket systemd-nspawn exports for the container's sshd.
    NspawnConnect {
        runtime_dir: &'a [u8],
        name: &'a [u8],
        layout: NspawnLayout,
        errno: i32,
    },
}

/// Why one machined instance gave no usable answer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ScopeProblem {
    NoSuchMachine,
    Unreachable(i32),
    Send(i32),
    Recv(i32),
    TimedOut,
    TooLarge,
    ClosedEarly,
    BadJson(JsonError),
    Error { id: ErrorId, errno: Option<u32> },
}

impl MachineProblem<'_> {
    pub fn describe(&self, line: &mut Line) {
        match *self {
            Self::BadName(name) => {
                line.text(b"Invalid machine name: ").quoted(name);
            }
            Self::Lookup { name, ref user, ref system } => {
                line.text(b"Failed to look up machine ").quoted(name).text(b": user scope: ");
                match user {
                    Some(problem) => problem.describe(line),
                    None => {
                        line.text(b"XDG_RUNTIME_DIR is not set");
                    }
                }
                line.text(b"; system scope: ");
                system.describe(line);
            }
            Self::NoCid(name) => {
                line.text(b"Machine ").quoted(name).text(b" has no AF_VSOCK CID assigned.");
            }
            Self::ReservedCid { name, cid } => {
                line.text(b"Machine ").quoted(name).text(b" has AF_VSOCK CID ").number(cid);
                line.text(b", a reserved CID that no VM has.");
            }
            Self::KindUnknown { name, ref class, ref service } => {
                line.text(b"Don't know how to SSH into machine ").quoted(name).text(b" of class ");
                match class {
                    Some(class) => write_text(line, class),
                    None => {
                        line.text(b"(none)");
                    }
                }
                if let Some(service) = service {
                    line.text(b", service ");
                    write_text(line, service);
                }
            }
            Self::NspawnConnect { runtime_dir, name, layout, errno } => {
                let (before, after) = layout.around_name();
                line.text(b"Failed to connect to AF_UNIX socket ").quoted(runtime_dir).text(before);
                line.quoted(name).text(after).text(b": ").errno(errno);
                if errno == linux_raw_sys::errno::ENOENT as i32 || errno == linux_raw_sys::errno::ECONNREFUSED as i32 {
                    line.text(b" (are sshd and systemd-ssh-generator installed and enabled in the container?)");
                }
            }
        }
    }
}

impl ScopeProblem {
    /// Writes what one machined instance's problem was.
    pub fn describe(&self, line: &mut Line) {
        match *self {
            Self::NoSuchMachine => {
                line.text(b"no such machine");
            }
            Self::Unreachable(errno) => {
                line.text(b"cannot reach systemd-machined: ").errno(errno);
            }
            Self::Send(errno) => {
                line.text(b"cannot send the request: ").errno(errno);
            }
            Self::Recv(errno) => {
                line.text(b"cannot read the reply: ").errno(errno);
            }
            Self::TimedOut => {
                line.text(b"no reply within 5 s");
            }
            Self::TooLarge => {
                line.text(b"reply larger than 64 KiB");
            }
            Self::ClosedEarly => {
                line.text(b"connection closed before the reply ended");
            }
            Self::BadJson(error) => {
                line.text(b"malformed reply: ");
                describe_json(line, error);
            }
            Self::Error { ref id, errno } => match errno {
                Some(errno) if id.is(b"io.systemd.System") => match i32::try_from(errno) {
                    Ok(errno) => {
                        line.errno(errno);
                    }
                    // No errno: the number as machined sent it.
                    Err(_) => {
                        line.text(b"Unknown error ").number(errno);
                    }
                },
                _ => write_text(line, id),
            },
        }
    }

    /// `--verbose`: the user's machined could not answer; the system one is asked next.
    pub fn describe_user_scope(&self, line: &mut Line) {
        line.text(b"User scope systemd-machined: ");
        self.describe(line);
        line.text(b"; asking the system scope.");
    }
}

fn write_text<const N: usize>(line: &mut Line, text: &Text<N>) {
    line.quoted(text.as_bytes());
    if text.is_cut() {
        line.text(b"...");
    }
}

fn describe_json(line: &mut Line, error: JsonError) {
    let (what, at): (&[u8], Option<usize>) = match error {
        JsonError::Truncated => (b"truncated", None),
        JsonError::Unexpected(at) => (b"unexpected byte", Some(at)),
        JsonError::TooDeep(at) => (b"nested too deeply", Some(at)),
        JsonError::BadEscape(at) => (b"bad escape", Some(at)),
        JsonError::ControlInString(at) => (b"control byte in a string", Some(at)),
        JsonError::NumberOutOfRange(at) => (b"number out of range", Some(at)),
        JsonError::DuplicateKey(at) => (b"duplicate key", Some(at)),
    };
    line.text(what);
    if let Some(at) = at {
        line.text(b" at byte ").number(u32::try_from(at).unwrap_or(u32::MAX));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn machine_names() {
        for good in [&b"foo"[..], b"my-vm", b"vm1.example", b"A-b-C", b".host", b"0", &[b'a'; 64], b"a--b", b"0-0.x-y"]
        {
            assert!(is_valid_machine_name(good), "{:?}", String::from_utf8_lossy(good));
        }
        for bad in [
            &b""[..],
            b".",
            b"..",
            b"a/b",
            b"/x",
            b"a..b",
            b".a",
            b"a.",
            b"a_b",
            b"a b",
            b"a\"b",
            b"\xc3\xa9",
            b"a\nb",
            b"..host",
            &[b'a'; 65],
            b"-a",
            b"a-",
            b"a.-b",
            b"a-.b",
            b"-",
        ] {
            assert!(!is_valid_machine_name(bad), "{:?}", String::from_utf8_lossy(bad));
        }
    }

    #[test]
    fn request_escapes_the_name() {
        let request = |name: &[u8]| {
            let mut out = ArrayBuf::new();
            list_request(name, &mut out).map(|()| out.as_bytes().to_vec())
        };
        assert_eq!(
            request(b"vm1").unwrap(),
            b"{\"method\":\"io.systemd.Machine.List\",\"parameters\":{\"name\":\"vm1\"}}\0"
        );
        assert_eq!(
            request(b"a\"b\\c\n").unwrap(),
            b"{\"method\":\"io.systemd.Machine.List\",\"parameters\":{\"name\":\"a\\\"b\\\\c\\u000a\"}}\0"
        );
        let worst = [0x01u8; NAME_MAX];
        assert_eq!(request(&worst).unwrap().len(), 58 + 6 * NAME_MAX + 4);
    }

    fn reply(doc: &str) -> Result<MachineReply, JsonError> {
        parse_machine_reply(doc.as_bytes())
    }

    /// A reply as machined 262 sends it, with nested values we must skip.
    const REAL_VM: &str = r#"{"parameters":{"name":"fedora","id":"8f4f1c0e6a3b4d2f9e8d7c6b5a493827","service":"systemd-vmspawn","class":"vm","leader":{"pid":4242,"pidfdId":17},"rootDirectory":"/","unit":"machine-fedora.scope","timestamp":{"realtime":1732000000000000,"monotonic":12345678},"vSockCid":4711,"sshAddress":"vsock/4711","sshPrivateKeyPath":"/run/user/1000/vm.key","addresses":[{"ifindex":3,"family":2,"address":[10,0,0,2]}],"OSRelease":["ID=fedora","VERSION_ID=41"],"UID":1000,"float":-1.5e-3,"flag":true,"none":null}}"#;

    #[test]
    fn real_vm_reply() {
        let got = reply(REAL_VM).unwrap();
        assert!(got.error.is_none());
        assert!(got.class.unwrap().is(b"vm"));
        assert!(got.service.unwrap().is(b"systemd-vmspawn"));
        assert_eq!(got.vsock_cid, Some(4711));
    }

    #[test]
    fn reply_shapes() {
        let container =
            reply(r#"{"parameters":{"class":"container","service":"systemd-nspawn","name":"ct"}}"#).unwrap();
        assert!(container.class.unwrap().is(b"container"));
        assert!(container.service.unwrap().is(b"systemd-nspawn"));
        assert_eq!(container.vsock_cid, None);

        let escaped = reply(r#"{"parameters":{"cl\u0061ss":"\u0076m","vSockCid":3}}"#).unwrap();
        assert!(escaped.class.unwrap().is(b"vm"));
        assert_eq!(escaped.vsock_cid, Some(3));

        let null_cid = reply(r#"{"parameters":{"class":"vm","vSockCid":null}}"#).unwrap();
        assert_eq!(null_cid.vsock_cid, None);

        let missing = reply(r#"{"error":"io.systemd.Machine.NoSuchMachine","parameters":{}}"#).unwrap();
        assert!(missing.error.unwrap().is(b"io.systemd.Machine.NoSuchMachine"));

        let system = reply(r#"{"error":"io.systemd.System","parameters":{"errno":13,"errnoName":"EACCES"}}"#).unwrap();
        assert!(system.error.unwrap().is(b"io.systemd.System"));
        assert_eq!(system.errno, Some(13));

        let bare = reply(r#"{"error":"org.varlink.service.MethodNotFound"}"#).unwrap();
        assert!(bare.error.unwrap().is(b"org.varlink.service.MethodNotFound"));

        let empty = reply("{}").unwrap();
        assert_eq!(empty, MachineReply::default());

        let continues = reply(r#"{"parameters":{"class":"vm","vSockCid":5},"continues":false}"#).unwrap();
        assert_eq!(continues.vsock_cid, Some(5));
    }

    #[test]
    fn bad_replies() {
        let cases: &[(&str, JsonError)] = &[
            (r#"[{"parameters":{}}]"#, JsonError::Unexpected(0)),
            (r#""parameters""#, JsonError::Unexpected(0)),
            (r#"{"parameters":[]}"#, JsonError::Unexpected(14)),
            (r#"{"parameters":{"class":1}}"#, JsonError::Unexpected(23)),
            (r#"{"parameters":{"vSockCid":"3"}}"#, JsonError::Unexpected(26)),
            (r#"{"parameters":{"vSockCid":-3}}"#, JsonError::NumberOutOfRange(26)),
            (r#"{"parameters":{"vSockCid":4294967296}}"#, JsonError::NumberOutOfRange(26)),
            (r#"{"parameters":{"vSockCid":3.5}}"#, JsonError::NumberOutOfRange(26)),
            (r#"{"parameters":{"class":"vm","class":"container"}}"#, JsonError::DuplicateKey(36)),
            // A repeated key's value is checked before the repetition is refused.
            (r#"{"parameters":{"class":"vm","class":1}}"#, JsonError::Unexpected(36)),
            (r#"{"parameters":{},"parameters":{}}"#, JsonError::DuplicateKey(30)),
            (r#"{"error":"a","error":"b"}"#, JsonError::DuplicateKey(21)),
            (r#"{"parameters":{"class":"vm"}"#, JsonError::Truncated),
            (r#"{"parameters":{"class":"vm"}} x"#, JsonError::Unexpected(30)),
            (
                r#"{"parameters":{"x":[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]}}"#,
                JsonError::TooDeep(49),
            ),
        ];
        for (doc, error) in cases {
            assert_eq!(reply(doc), Err(*error), "{doc}");
        }
    }

    #[test]
    fn vm_cids() {
        assert_eq!(vm_cid(b"vm", Some(3)), Ok(3));
        assert_eq!(vm_cid(b"vm", Some(4294967294)), Ok(4294967294));
        assert_eq!(vm_cid(b"vm", None), Err(MachineProblem::NoCid(b"vm")));
        assert_eq!(vm_cid(b"vm", Some(4294967295)), Err(MachineProblem::NoCid(b"vm")));
        for cid in [0, 1, 2] {
            assert_eq!(vm_cid(b"vm", Some(cid)), Err(MachineProblem::ReservedCid { name: b"vm", cid }));
        }
    }

    #[test]
    fn duplicates_of_ignored_keys_are_fine() {
        let got = reply(r#"{"parameters":{"name":"a","name":"b","class":"vm"}}"#).unwrap();
        assert!(got.class.unwrap().is(b"vm"));
    }

    fn message(problem: MachineProblem) -> String {
        crate::line::render(|line| problem.describe(line))
    }

    fn text(bytes: &[u8]) -> Text<32> {
        Text::from_parts(&[bytes]).unwrap()
    }

    #[test]
    fn messages() {
        let id = |text: &[u8]| ErrorId::from_parts(&[text]).unwrap();
        let cases: &[(MachineProblem, &str)] = &[
            (MachineProblem::BadName(b"a/b"), "Invalid machine name: a/b\n"),
            (
                MachineProblem::Lookup { name: b"vm1", user: None, system: ScopeProblem::NoSuchMachine },
                "Failed to look up machine vm1: user scope: XDG_RUNTIME_DIR is not set; system scope: no such machine\n",
            ),
            (
                MachineProblem::Lookup {
                    name: b"vm1",
                    user: Some(ScopeProblem::Unreachable(2)),
                    system: ScopeProblem::Error { id: id(b"io.systemd.System"), errno: Some(13) },
                },
                "Failed to look up machine vm1: user scope: cannot reach systemd-machined: No such file or directory; system scope: Permission denied\n",
            ),
            (
                MachineProblem::Lookup {
                    name: b"vm1",
                    user: Some(ScopeProblem::BadJson(JsonError::Unexpected(7))),
                    system: ScopeProblem::Error { id: id(b"org.varlink.service.MethodNotFound"), errno: None },
                },
                "Failed to look up machine vm1: user scope: malformed reply: unexpected byte at byte 7; system scope: org.varlink.service.MethodNotFound\n",
            ),
            (
                MachineProblem::Lookup {
                    name: b"x",
                    user: Some(ScopeProblem::TimedOut),
                    system: ScopeProblem::TooLarge,
                },
                "Failed to look up machine x: user scope: no reply within 5 s; system scope: reply larger than 64 KiB\n",
            ),
            (
                MachineProblem::Lookup {
                    name: b"x",
                    user: Some(ScopeProblem::ClosedEarly),
                    system: ScopeProblem::BadJson(JsonError::Truncated),
                },
                "Failed to look up machine x: user scope: connection closed before the reply ended; system scope: malformed reply: truncated\n",
            ),
            (MachineProblem::NoCid(b"vm1"), "Machine vm1 has no AF_VSOCK CID assigned.\n"),
            (
                MachineProblem::Lookup {
                    name: b"vm1",
                    user: None,
                    system: ScopeProblem::Error { id: id(b"io.systemd.System"), errno: Some(4294967295) },
                },
                "Failed to look up machine vm1: user scope: XDG_RUNTIME_DIR is not set; system scope: Unknown error 4294967295\n",
            ),
            (
                MachineProblem::ReservedCid { name: b"vm1", cid: 2 },
                "Machine vm1 has AF_VSOCK CID 2, a reserved CID that no VM has.\n",
            ),
            (
                MachineProblem::KindUnknown { name: b"m", class: Some(text(b"host")), service: None },
                "Don't know how to SSH into machine m of class host\n",
            ),
            (
                MachineProblem::KindUnknown {
                    name: b"m",
                    class: Some(text(b"container")),
                    service: Some(text(b"docker")),
                },
                "Don't know how to SSH into machine m of class container, service docker\n",
            ),
            (
                MachineProblem::KindUnknown { name: b"m", class: None, service: None },
                "Don't know how to SSH into machine m of class (none)\n",
            ),
            (
                MachineProblem::NspawnConnect {
                    runtime_dir: b"/run",
                    name: b"ct",
                    layout: NspawnLayout::Current,
                    errno: 2,
                },
                "Failed to connect to AF_UNIX socket /run/systemd/nspawn/ct/unix-export/ssh: No such file or directory (are sshd and systemd-ssh-generator installed and enabled in the container?)\n",
            ),
            (
                MachineProblem::NspawnConnect {
                    runtime_dir: b"/run/user/0",
                    name: b"ct",
                    layout: NspawnLayout::Old,
                    errno: 13,
                },
                "Failed to connect to AF_UNIX socket /run/user/0/systemd/nspawn/unix-export/ct/ssh: Permission denied\n",
            ),
        ];
        for (problem, expected) in cases {
            assert_eq!(message(*problem), *expected);
        }
    }
}
