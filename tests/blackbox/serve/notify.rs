//! READY=1 to NOTIFY_SOCKET: from the server's own process once every
//! LISTEN address takes connections, in each address form (the vsock ones
//! faked by strace), kept from the children, and what a bad or unreachable
//! NOTIFY_SOCKET does.

use std::os::fd::AsRawFd;
use std::os::linux::net::SocketAddrExt;
use std::os::unix::net::{SocketAddr, UnixDatagram, UnixStream};
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use sockproxy_test_common::TempDir;

use super::{ECHO, LIMIT, Server, connect, read_exactly, refusing_vsock_sockets, serve_bin, vsock_sockets};

fn command(notify: &str, listens: &[&str]) -> Command {
    let mut command = Command::new(serve_bin());
    command.args(listens).arg("--").args(ECHO).env("NOTIFY_SOCKET", notify);
    command
}

/// One datagram and the PID of its sender (SCM_CREDENTIALS, with SO_PASSCRED on).
fn receive_with_sender(socket: &UnixDatagram) -> (Vec<u8>, libc::pid_t) {
    let mut bytes = [0u8; 64];
    let mut iov = libc::iovec { iov_base: bytes.as_mut_ptr().cast(), iov_len: bytes.len() };
    let mut control = [0u64; 8];
    // SAFETY: msghdr is plain data; the buffers it points at outlive the call.
    let mut msg: libc::msghdr = unsafe { std::mem::zeroed() };
    msg.msg_iov = &mut iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control.as_mut_ptr().cast();
    msg.msg_controllen = std::mem::size_of_val(&control) as _;
    // SAFETY: a valid msghdr over live buffers.
    let len = unsafe { libc::recvmsg(socket.as_raw_fd(), &mut msg, 0) };
    assert!(len >= 0, "recvmsg: {}", std::io::Error::last_os_error());
    // SAFETY: CMSG_FIRSTHDR and CMSG_DATA walk the control buffer the kernel filled.
    let pid = unsafe {
        let header = libc::CMSG_FIRSTHDR(&msg);
        assert!(!header.is_null() && (*header).cmsg_type == libc::SCM_CREDENTIALS, "no credentials");
        (*libc::CMSG_DATA(header).cast::<libc::ucred>()).pid
    };
    (bytes[..len as usize].to_vec(), pid)
}

fn pass_credentials(socket: &UnixDatagram) {
    let on: libc::c_int = 1;
    // SAFETY: setsockopt reads one int.
    let rc =
        unsafe { libc::setsockopt(socket.as_raw_fd(), libc::SOL_SOCKET, libc::SO_PASSCRED, (&raw const on).cast(), 4) };
    assert_eq!(rc, 0);
}

#[test]
fn ready_comes_from_the_server_itself_once_every_address_is_bound() {
    let dir = TempDir::new();
    let notify = UnixDatagram::bind(dir.join("notify")).unwrap();
    pass_credentials(&notify);
    notify.set_read_timeout(Some(LIMIT)).unwrap();
    let (one, two) = (dir.join("one"), dir.join("sub/two"));
    let name = format!("ssh-sockserve-test-{}-ready", std::process::id());
    let notify_path = dir.join("notify");
    let listens = [one.to_str().unwrap(), two.to_str().unwrap(), &format!("@{name}")];
    let server = Server::spawn(dir.path(), command(notify_path.to_str().unwrap(), &listens));
    let (message, sender) = receive_with_sender(&notify);
    assert_eq!(message, b"READY=1");
    assert_eq!(sender as u32, server.pid(), "NotifyAccess=main: from the server's own PID");
    // Every address takes connections by then.
    assert_eq!(read_exactly(&mut connect(&one), 6), b"hello\n");
    assert_eq!(read_exactly(&mut connect(&two), 6), b"hello\n");
    let address = SocketAddr::from_abstract_name(name.as_bytes()).unwrap();
    let mut stream = UnixStream::connect_addr(&address).unwrap();
    stream.set_read_timeout(Some(LIMIT)).unwrap();
    assert_eq!(read_exactly(&mut stream, 6), b"hello\n");
    // Once.
    notify.set_read_timeout(Some(Duration::from_millis(200))).unwrap();
    assert!(notify.recv(&mut [0u8; 16]).is_err(), "a second message");
}

#[test]
fn ready_goes_to_an_abstract_notify_socket() {
    let dir = TempDir::new();
    let name = format!("ssh-sockserve-test-{}-notify", std::process::id());
    let notify = UnixDatagram::bind_addr(&SocketAddr::from_abstract_name(name.as_bytes()).unwrap()).unwrap();
    notify.set_read_timeout(Some(LIMIT)).unwrap();
    let socket = dir.join("s");
    let _server = Server::spawn(dir.path(), command(&format!("@{name}"), &[socket.to_str().unwrap()]));
    let mut message = [0u8; 16];
    let len = notify.recv(&mut message).expect("READY=1 on the abstract socket");
    assert_eq!(&message[..len], b"READY=1");
}

/// A NOTIFY_SOCKET that is not there yet (a VMM or manager that listens
/// late): said once, serving goes on, and READY=1 is tried again until it
/// goes.
#[test]
fn a_notify_socket_that_comes_late_gets_ready_once_it_is_there() {
    let dir = TempDir::new();
    let socket = dir.join("s");
    let later = dir.join("later");
    let server = Server::spawn(dir.path(), command(later.to_str().unwrap(), &[socket.to_str().unwrap()]));
    let line = format!(
        "Failed to send READY=1 to NOTIFY_SOCKET {}: No such file or directory; trying again.\n",
        later.display()
    );
    server.wait_stderr("the failed READY=1", |s| s == line);
    assert_eq!(read_exactly(&mut connect(&socket), 6), b"hello\n");
    let notify = UnixDatagram::bind(&later).unwrap();
    notify.set_read_timeout(Some(LIMIT)).unwrap();
    let mut message = [0u8; 16];
    let len = notify.recv(&mut message).expect("READY=1 once the socket is there");
    assert_eq!(&message[..len], b"READY=1");
    assert_eq!(server.stderr(), line, "said once");
}

/// A failure that no later try mends (here a stream socket, which takes no
/// datagram) is one line, and serving goes on.
#[test]
fn a_notify_socket_of_the_wrong_kind_is_one_line_and_serving_goes_on() {
    let dir = TempDir::new();
    let socket = dir.join("s");
    let stream = dir.join("stream");
    let _listener = std::os::unix::net::UnixListener::bind(&stream).unwrap();
    let server = Server::spawn(dir.path(), command(stream.to_str().unwrap(), &[socket.to_str().unwrap()]));
    let line =
        format!("Failed to send READY=1 to NOTIFY_SOCKET {}: Protocol wrong type for socket\n", stream.display());
    server.wait_stderr("the failed READY=1", |s| s == line);
    assert_eq!(read_exactly(&mut connect(&socket), 6), b"hello\n");
}

#[test]
fn an_empty_notify_socket_is_unset() {
    let dir = TempDir::new();
    let socket = dir.join("s");
    let server = Server::spawn(dir.path(), command("", &[socket.to_str().unwrap()]));
    let deadline = Instant::now() + LIMIT;
    while !socket.exists() {
        assert!(Instant::now() < deadline, "{}", server.stderr());
        std::thread::sleep(Duration::from_millis(10));
    }
    assert_eq!(read_exactly(&mut connect(&socket), 6), b"hello\n");
    assert_eq!(server.stderr(), "");
}

#[test]
fn a_bad_notify_socket_is_refused_before_anything_is_bound() {
    for bad in ["run/notify", "vsock::9", "vsock:2", "vsock:any:9", "vsock-datagram:2:9", "tcp:1", "@", "x\ny"] {
        let dir = TempDir::new();
        let socket = dir.join("s");
        let mut server = Server::spawn(dir.path(), command(bad, &[socket.to_str().unwrap()]));
        assert_eq!(server.wait_exit().code(), Some(1), "{bad:?}");
        let shown = bad.replace('\n', "\\x0a");
        assert_eq!(
            server.stderr(),
            format!("Invalid NOTIFY_SOCKET: {shown} (/PATH, @NAME, vsock:CID:PORT or vsock-stream:CID:PORT)\n")
        );
        assert!(!Path::new(&socket).exists(), "{bad:?}: bound before the check");
    }
}

/// The server with NOTIFY_SOCKET=`notify` under strace, every AF_VSOCK
/// call faked: the notify socket, the second socket() after the abstract
/// listener's, becomes fd 100, and connect and sendto (send) succeed
/// without reaching the kernel. Returns the trace, once READY=1 was "sent".
fn faked_vsock_notify(notify: &str) -> String {
    let dir = TempDir::new();
    let trace = dir.join("trace");
    let mut command = Command::new("strace");
    command.args(["-qq", "-e", "trace=socket,connect,sendto"]);
    command.args(["-e", "inject=socket:retval=100:when=2", "-e", "inject=connect:retval=0"]);
    command.args(["-e", "inject=sendto:retval=7", "-o"]).arg(&trace).arg(serve_bin());
    let name = format!("@ssh-sockserve-test-{}-{}", std::process::id(), notify.replace(':', "-"));
    command.arg(name).arg("--").args(ECHO).env("NOTIFY_SOCKET", notify);
    refusing_vsock_sockets(&mut command);
    let server = Server::spawn(dir.path(), command);
    let deadline = Instant::now() + LIMIT;
    loop {
        let text = std::fs::read_to_string(&trace).unwrap_or_default();
        // strace writes a call's line in two parts, at entry and at exit:
        // done once the sendto line has its end.
        if text.split_once("sendto(").is_some_and(|(_, rest)| rest.contains('\n')) {
            assert_eq!(server.stderr(), "", "{text}");
            return text;
        }
        assert!(Instant::now() < deadline, "no READY=1 sent:\n{text}\n{}", server.stderr());
        std::thread::sleep(Duration::from_millis(10));
    }
}

const VSOCK_HOST_9999: &str = "{sa_family=AF_VSOCK, svm_cid=VMADDR_CID_HOST, svm_port=0x270f, svm_flags=0}, 16";

#[test]
fn ready_over_a_vsock_stream_connects_then_sends() {
    let trace = faked_vsock_notify("vsock-stream:2:9999");
    assert_eq!(vsock_sockets(&trace), ["socket(AF_VSOCK, SOCK_STREAM|SOCK_CLOEXEC, 0) = 100 (INJECTED)"]);
    let rest: Vec<&str> = trace.lines().filter(|l| !l.starts_with("socket(")).collect();
    assert_eq!(
        rest,
        [
            format!("connect(100, {VSOCK_HOST_9999}) = 0 (INJECTED)"),
            "sendto(100, \"READY=1\", 7, MSG_NOSIGNAL, NULL, 0) = 7 (INJECTED)".to_string(),
        ]
    );
}

#[test]
fn ready_over_vsock_is_a_datagram_first_and_seqpacket_on_request() {
    let trace = faked_vsock_notify("vsock:2:9999");
    assert_eq!(vsock_sockets(&trace), ["socket(AF_VSOCK, SOCK_DGRAM|SOCK_CLOEXEC, 0) = 100 (INJECTED)"]);
    let sends: Vec<&str> = trace.lines().filter(|l| !l.starts_with("socket(")).collect();
    assert_eq!(sends, [format!("sendto(100, \"READY=1\", 7, MSG_NOSIGNAL, {VSOCK_HOST_9999}) = 7 (INJECTED)")]);

    let trace = faked_vsock_notify("vsock-seqpacket:2:9999");
    assert_eq!(vsock_sockets(&trace), ["socket(AF_VSOCK, SOCK_SEQPACKET|SOCK_CLOEXEC, 0) = 100 (INJECTED)"]);
    assert!(trace.contains(&format!("connect(100, {VSOCK_HOST_9999}) = 0 (INJECTED)")), "{trace}");
}
