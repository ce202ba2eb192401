//! Runs the release binary the way OpenSSH does and collects what it did.

use std::io::Read;
use std::os::fd::OwnedFd;
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::Path;
use std::process::{Command, ExitStatus, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use sockproxy_test_common::{ChildGuard, TempDir, scm_rights};

/// The binary under test: the one in `$SSH_SOCKPROXY_BIN_DIR` when that is
/// set, as `make test` sets it to each architecture's (for a foreign one, to
/// scripts that exec qemu-user on them), else the one cargo builds for this
/// host with the test's profile.
pub fn bin() -> &'static str {
    static BIN: OnceLock<String> = OnceLock::new();
    BIN.get_or_init(|| under_test("ssh-sockproxy", env!("CARGO_BIN_EXE_ssh-sockproxy")))
}

/// ssh-sockserve under test, found as `bin` is.
pub fn serve_bin() -> &'static str {
    static BIN: OnceLock<String> = OnceLock::new();
    BIN.get_or_init(|| under_test("ssh-sockserve", env!("CARGO_BIN_EXE_ssh-sockserve")))
}

fn under_test(name: &str, host_build: &str) -> String {
    match std::env::var("SSH_SOCKPROXY_BIN_DIR") {
        Ok(dir) => format!("{dir}/{name}"),
        Err(_) => host_build.into(),
    }
}

/// Exit status of the binary's panic handler: no test may ever see it.
pub const PANIC_EXIT: i32 = 70;

/// What one run of the proxy did.
#[derive(Debug)]
pub struct Outcome {
    pub status: ExitStatus,
    /// stderr as text (invalid UTF-8 replaced); `stderr_bytes` as written.
    pub stderr: String,
    pub stderr_bytes: Vec<u8>,
    /// The descriptor that arrived with SCM_RIGHTS, if any.
    pub fd: Option<OwnedFd>,
    /// Every byte that came through stdout (the hand-off byte included).
    pub stdout: Vec<u8>,
}

impl Outcome {
    pub fn code(&self) -> Option<i32> {
        self.status.code()
    }

    /// Asserts a clean failure: exit 1, exactly `message` on stderr, nothing
    /// on stdout, no descriptor sent.
    #[track_caller]
    pub fn assert_failure(&self, message: &str) {
        assert_eq!(self.stderr, message, "stderr of {self:?}");
        assert_eq!(self.code(), Some(1), "exit status of {self:?}");
        assert!(self.stdout.is_empty(), "stdout of {self:?}");
        assert!(self.fd.is_none(), "a descriptor was sent: {self:?}");
    }

    /// Asserts a hand-off: exit 0, silent stderr, one "\n" byte and one fd.
    #[track_caller]
    pub fn assert_handoff(&self) -> &OwnedFd {
        assert_eq!(self.code(), Some(0), "exit status of {self:?}");
        assert_eq!(self.stderr, "", "stderr of {self:?}");
        assert_eq!(self.stdout, b"\n", "stdout of {self:?}");
        self.fd.as_ref().expect("no descriptor received")
    }
}

/// Runs the proxy with `args` like OpenSSH's ProxyUseFdpass: stdin and stdout
/// are one end of a socketpair, from which we recvmsg the descriptor.
pub fn run(args: &[&str]) -> Outcome {
    let mut command = Command::new(bin());
    command.args(args);
    run_fdpass(command)
}

/// Like `run`, for a prepared command (a wrapper such as strace, a cwd...).
pub fn run_fdpass(command: Command) -> Outcome {
    run_fdpass_observed(command, |_| ())
}

/// `run_fdpass`, calling `while_running` with the proxy's PID once it runs.
/// What it returns is dropped after the proxy exited but before it is
/// reaped, while the PID cannot belong to anyone else (a signal sender must
/// stop by then).
pub fn run_fdpass_observed<T>(mut command: Command, while_running: impl FnOnce(u32) -> T) -> Outcome {
    let (ours, theirs) = UnixStream::pair().expect("socketpair");
    command.stdin(OwnedFd::from(theirs.try_clone().expect("dup"))).stdout(OwnedFd::from(theirs)).stderr(Stdio::piped());
    let mut child = ChildGuard(Some(command.spawn().expect("spawn proxy")));
    let mut stderr_pipe = child.0.as_mut().and_then(|c| c.stderr.take()).expect("stderr pipe");
    drop(command); // our copies of the child's end: EOF arrives when it exits
    let observer = while_running(child.0.as_ref().expect("child").id());
    ours.set_read_timeout(Some(Duration::from_secs(20))).expect("timeout");
    let (mut stdout, fd) = recv_with_fd(&ours);
    let mut rest = Vec::new();
    (&ours).read_to_end(&mut rest).expect("read stdout to EOF");
    stdout.extend(rest);
    // EOF on stdout: the proxy has exited (or closed fd 1).
    wait_exited_unreaped(child.0.as_ref().expect("child").id(), Duration::from_secs(20));
    drop(observer);
    let status = child.wait_timeout(Duration::from_secs(20));
    let mut stderr_bytes = Vec::new();
    stderr_pipe.read_to_end(&mut stderr_bytes).expect("read stderr");
    let stderr = String::from_utf8_lossy(&stderr_bytes).into_owned();
    assert_ne!(status.code(), Some(PANIC_EXIT), "the proxy panicked: {stderr}");
    Outcome { status, stderr, stderr_bytes, fd, stdout }
}

/// Runs `command` as it is set up, capturing only stderr; kills it (and
/// fails) after `limit`. Returns the exit status and stderr.
pub fn run_bounded(mut command: Command, limit: Duration) -> (ExitStatus, String) {
    command.stderr(Stdio::piped());
    let mut child = ChildGuard(Some(command.spawn().expect("spawn")));
    let mut stderr_pipe = child.0.as_mut().and_then(|c| c.stderr.take()).expect("stderr pipe");
    drop(command);
    let status = child.wait_timeout(limit);
    let mut stderr = String::new();
    stderr_pipe.read_to_string(&mut stderr).expect("read stderr");
    assert_ne!(status.code(), Some(PANIC_EXIT), "the proxy panicked: {stderr}");
    (status, stderr)
}

/// Waits (at most `limit`) until the child `pid` has exited, leaving it a
/// zombie: its PID stays ours until `ChildGuard` reaps it.
fn wait_exited_unreaped(pid: u32, limit: Duration) {
    let deadline = Instant::now() + limit;
    while Instant::now() < deadline {
        // SAFETY: waitid with WNOWAIT only reads the child's state into `info`.
        let mut info: libc::siginfo_t = unsafe { std::mem::zeroed() };
        let flags = libc::WEXITED | libc::WNOWAIT | libc::WNOHANG;
        let done = unsafe { libc::waitid(libc::P_PID, pid, &mut info, flags) } == 0 && unsafe { info.si_pid() } != 0;
        if done {
            return;
        }
        std::thread::sleep(Duration::from_millis(2));
    }
}

/// Receives what OpenSSH's mm_receive_fd would: one byte and at most one fd;
/// then, as OpenSSH closes its end, shuts down our side's writing, so that
/// the proxy sees the end of its stdin (and exits, having been taken).
pub fn recv_with_fd(socket: &UnixStream) -> (Vec<u8>, Option<OwnedFd>) {
    let mut received = scm_rights::receive(socket).expect("recvmsg");
    let _ = socket.shutdown(std::net::Shutdown::Write);
    assert!(!received.truncated, "control data truncated");
    assert!(!received.other_control, "a control message other than SCM_RIGHTS");
    assert!(received.fds.len() <= 1, "proxy sent {} descriptors", received.fds.len());
    (received.bytes, received.fds.pop())
}

/// An AF_UNIX stream listener standing in for sshd.
pub struct Listener(pub UnixListener);

impl Listener {
    pub fn bind(path: &Path) -> Self {
        let listener = UnixListener::bind(path).unwrap_or_else(|e| panic!("bind {}: {e}", path.display()));
        Listener(listener)
    }

    /// A listener reachable at a path longer than sun_path: bind() cannot take
    /// such a path, so bind a short name in a short directory and rename it.
    pub fn bind_long(path: &Path) -> Self {
        let short_dir = TempDir::new();
        let short = short_dir.join("s");
        let listener = Listener::bind(&short);
        std::fs::rename(&short, path).expect("move socket to its long path");
        listener
    }

    pub fn bind_abstract(name: &[u8]) -> Self {
        use std::os::linux::net::SocketAddrExt;
        let addr = std::os::unix::net::SocketAddr::from_abstract_name(name).expect("abstract address");
        Listener(UnixListener::bind_addr(&addr).expect("bind abstract"))
    }

    /// Accepts the proxy's connection (waiting at most 10 s).
    pub fn accept(&self) -> UnixStream {
        self.0.set_nonblocking(true).expect("nonblocking");
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            match self.0.accept() {
                Ok((stream, _)) => {
                    stream.set_nonblocking(false).expect("blocking");
                    return stream;
                }
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock && Instant::now() < deadline => {
                    std::thread::sleep(Duration::from_millis(5))
                }
                Err(e) => panic!("accept: {e}"),
            }
        }
    }

    /// True when a connection is waiting (consumes it).
    pub fn has_pending(&self) -> bool {
        self.0.set_nonblocking(true).expect("nonblocking");
        self.0.accept().is_ok()
    }
}

/// Proves that `fd` is connected to `listener`: a greeting written on the
/// server side arrives through `fd`, and a reply goes back.
#[track_caller]
pub fn assert_connected_to(fd: &OwnedFd, listener: &Listener) {
    use std::io::Write;
    let mut server = listener.accept();
    server.write_all(b"SSH-2.0-greeting\r\n").expect("write greeting");
    let client = UnixStream::from(fd.try_clone().expect("dup received fd"));
    client.set_read_timeout(Some(Duration::from_secs(10))).expect("timeout");
    let mut got = [0u8; 18];
    (&client).read_exact(&mut got).expect("read greeting through received fd");
    assert_eq!(&got, b"SSH-2.0-greeting\r\n");
    (&client).write_all(b"reply").expect("write through received fd");
    let mut back = [0u8; 5];
    server.set_read_timeout(Some(Duration::from_secs(10))).expect("timeout");
    server.read_exact(&mut back).expect("read reply");
    assert_eq!(&back, b"reply");
}

/// Asserts a hand-off, then reads everything the descriptor yields until the
/// peer closes (at most 15 s of silence).
#[track_caller]
pub fn rest_of_stream(out: &Outcome) -> Vec<u8> {
    let fd = out.assert_handoff();
    let stream = UnixStream::from(fd.try_clone().expect("dup"));
    stream.set_read_timeout(Some(Duration::from_secs(15))).expect("timeout");
    let mut rest = Vec::new();
    (&stream).read_to_end(&mut rest).expect("read the handed-off stream to EOF");
    rest
}

/// `unix/` host string for an absolute path, in the given separator form.
pub fn unix_host(sep: char, path: &Path) -> String {
    format!("unix{sep}{}", path.display())
}
