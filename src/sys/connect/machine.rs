//! machine/NAME: ask systemd-machined (user instance, then system instance)
//! what NAME is, then connect to the VM's CID or the container's ssh socket.

use core::time::Duration;

use rustix::event::PollFlags;
use rustix::fd::{AsFd, BorrowedFd, OwnedFd};
use rustix::io::Errno;
use rustix::net::{RecvFlags, SendFlags, recv, send};

use crate::array_buf::ArrayBuf;
use crate::failure::Failure;
use crate::json::Text;
use crate::notice::Notice;
use crate::sys::connect::unix::{connect_unix, connect_unix_errno};
use crate::sys::connect::vsock::connect_vsock;
use crate::sys::deadline::Deadline;
use crate::sys::stdio::notify;
use crate::targets::LOCAL_HOST_SOCKET;
use crate::targets::machine::{
    MachineProblem, MachineReply, NspawnLayout, ReplyBuffer, ScopeProblem, is_valid_machine_name, list_request,
    parse_machine_reply, vm_cid,
};
use crate::targets::unix::{PathBuf, UnixAddress, UnixPath};
use crate::targets::vsock::{VsockAddress, parse_port};

/// The whole exchange with one machined instance must end within this.
const EXCHANGE_TIMEOUT: Duration = Duration::from_secs(5);

const SOCKET_UNDER_RUNTIME_DIR: &[u8] = b"/systemd/machine/io.systemd.Machine";
const SYSTEM_RUNTIME_DIR: &[u8] = b"/run";

/// Connects to machine `name`; `xdg_runtime_dir` is the user instance's runtime dir.
#[inline(never)]
pub fn connect_machine(
    name: &'static [u8],
    port: &'static [u8],
    xdg_runtime_dir: Option<&'static [u8]>,
    verbose: bool,
    reply: &mut ReplyBuffer,
) -> Result<OwnedFd, Failure<'static>> {
    if !is_valid_machine_name(name) {
        return Err(MachineProblem::BadName(name).into());
    }
    if name == b".host" {
        return Ok(connect_unix(UnixAddress::Path(UnixPath::absolute(LOCAL_HOST_SOCKET)))?);
    }
    let mut user = None;
    if let Some(dir) = xdg_runtime_dir.filter(|dir| !dir.is_empty()) {
        let problem = match ask_machined(dir, name, reply) {
            Ok(machine) => return connect_to(&machine, dir, name, port),
            Err(problem) => problem,
        };
        if verbose {
            notify(&Notice::UserScopeUnusable(problem));
        }
        user = Some(problem);
    }
    match ask_machined(SYSTEM_RUNTIME_DIR, name, reply) {
        Ok(machine) => connect_to(&machine, SYSTEM_RUNTIME_DIR, name, port),
        Err(system) => Err(MachineProblem::Lookup { name, user, system }.into()),
    }
}

/// Connects to the machine that the instance under `runtime_dir` described.
fn connect_to(
    machine: &MachineReply,
    runtime_dir: &'static [u8],
    name: &'static [u8],
    port: &'static [u8],
) -> Result<OwnedFd, Failure<'static>> {
    let is = |field: &Option<Text<32>>, value: &[u8]| field.as_ref().is_some_and(|text| text.is(value));
    if is(&machine.class, b"vm") {
        let cid = vm_cid(name, machine.vsock_cid)?;
        return Ok(connect_vsock(VsockAddress { cid, port: parse_port(port)? })?);
    }
    if is(&machine.class, b"container") && is(&machine.service, b"systemd-nspawn") {
        return Ok(connect_nspawn(runtime_dir, name)?);
    }
    Err(MachineProblem::KindUnknown { name, class: machine.class, service: machine.service }.into())
}

/// The container's sshd socket, in systemd 262's layout or, when that does
/// not exist, the older one.
fn connect_nspawn(runtime_dir: &'static [u8], name: &'static [u8]) -> Result<OwnedFd, MachineProblem<'static>> {
    let fail = |layout, errno| MachineProblem::NspawnConnect { runtime_dir, name, layout, errno };
    let missing = Errno::NOENT.raw_os_error();
    match connect_layout(runtime_dir, name, NspawnLayout::Current) {
        Ok(socket) => Ok(socket),
        Err(errno) if errno != missing => Err(fail(NspawnLayout::Current, errno)),
        Err(_) => match connect_layout(runtime_dir, name, NspawnLayout::Old) {
            Ok(socket) => Ok(socket),
            // Neither exists: name the current layout, where it should be.
            Err(errno) if errno == missing => Err(fail(NspawnLayout::Current, errno)),
            Err(errno) => Err(fail(NspawnLayout::Old, errno)),
        },
    }
}

fn connect_layout(runtime_dir: &[u8], name: &[u8], layout: NspawnLayout) -> Result<OwnedFd, i32> {
    let (before, after) = layout.around_name();
    let mut path = PathBuf::new();
    path.push_parts(&[runtime_dir, before, name, after]).ok_or(Errno::NAMETOOLONG.raw_os_error())?;
    connect_unix_errno(UnixAddress::Path(UnixPath::absolute(path.as_bytes())), None)
}

/// One `io.systemd.Machine.List` exchange with the instance under
/// `runtime_dir`, connect included within its bound: an instance that hangs
/// with a full backlog (wedged) must not keep us from the next one.
fn ask_machined(runtime_dir: &[u8], name: &[u8], buf: &mut ReplyBuffer) -> Result<MachineReply, ScopeProblem> {
    let mut path = PathBuf::new();
    path.push_parts(&[runtime_dir, SOCKET_UNDER_RUNTIME_DIR])
        .ok_or(ScopeProblem::Unreachable(Errno::NAMETOOLONG.raw_os_error()))?;
    let deadline = Deadline::after(EXCHANGE_TIMEOUT).map_err(|errno| ScopeProblem::Recv(errno.raw_os_error()))?;
    let address = UnixAddress::Path(UnixPath::absolute(path.as_bytes()));
    let socket = connect_unix_errno(address, Some(EXCHANGE_TIMEOUT)).map_err(|errno| {
        if errno == Errno::AGAIN.raw_os_error() { ScopeProblem::TimedOut } else { ScopeProblem::Unreachable(errno) }
    })?;
    // The name is valid, so the request always fits.
    let mut request = ArrayBuf::new();
    let _ = list_request(name, &mut request);
    // Borrowed once: each OwnedFd::as_fd is a check of its own.
    let socket = socket.as_fd();
    send_all(socket, request.as_bytes(), &deadline)?;
    let reply = receive_message(socket, buf, &deadline)?;
    let machine = parse_machine_reply(reply).map_err(ScopeProblem::BadJson)?;
    match machine.error {
        Some(id) if id.is(b"io.systemd.Machine.NoSuchMachine") => Err(ScopeProblem::NoSuchMachine),
        Some(id) => Err(ScopeProblem::Error { id, errno: machine.errno }),
        None => Ok(machine),
    }
}

/// Waits for `socket` to be ready for `events` before the deadline.
fn ready(socket: BorrowedFd<'_>, events: PollFlags, deadline: &Deadline) -> Result<(), ScopeProblem> {
    match deadline.wait(socket, events) {
        Ok(true) => Ok(()),
        Ok(false) => Err(ScopeProblem::TimedOut),
        Err(errno) => Err(ScopeProblem::Recv(errno.raw_os_error())),
    }
}

fn send_all(socket: BorrowedFd<'_>, mut bytes: &[u8], deadline: &Deadline) -> Result<(), ScopeProblem> {
    while !bytes.is_empty() {
        ready(socket, PollFlags::OUT, deadline)?;
        match send(socket, bytes, SendFlags::NOSIGNAL | SendFlags::DONTWAIT) {
            Ok(sent) => bytes = bytes.get(sent..).unwrap_or_default(),
            Err(Errno::INTR | Errno::AGAIN) => {}
            Err(errno) => return Err(ScopeProblem::Send(errno.raw_os_error())),
        }
    }
    Ok(())
}

/// Reads one NUL-terminated Varlink message (without the NUL) into `buf`.
fn receive_message<'b>(
    socket: BorrowedFd<'_>,
    buf: &'b mut ReplyBuffer,
    deadline: &Deadline,
) -> Result<&'b [u8], ScopeProblem> {
    let mut len = 0;
    loop {
        ready(socket, PollFlags::IN, deadline)?;
        let Some(room) = buf.get_mut(len..).filter(|room| !room.is_empty()) else {
            return Err(ScopeProblem::TooLarge);
        };
        let received = match recv(socket, room, RecvFlags::DONTWAIT) {
            Ok((0, _)) => return Err(ScopeProblem::ClosedEarly),
            Ok((received, _)) => received,
            Err(Errno::INTR | Errno::AGAIN) => continue,
            Err(errno) => return Err(ScopeProblem::Recv(errno.raw_os_error())),
        };
        // Earlier bytes held no NUL: look in the new ones only. recv fills
        // at most the room, so neither sum can wrap.
        let start = len;
        len = len.wrapping_add(received);
        if let Some(nul) = buf.get(start..len).and_then(|new| new.iter().position(|&b| b == 0)) {
            return Ok(buf.get(..start.wrapping_add(nul)).unwrap_or_default());
        }
    }
}
