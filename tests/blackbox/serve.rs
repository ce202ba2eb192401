//! ssh-sockserve, the guest half, run as a user runs it: real listeners on
//! AF_UNIX (never AF_VSOCK: its socket calls are faked by strace), real
//! children, real sshd behind it. Every server is started with a test
//! NOTIFY_SOCKET and awaited by its READY=1; its children, which live in
//! sessions of their own, are killed and reaped with it.

mod bad_input;
mod children;
mod late_vsock;
mod listen;
mod login;
mod notify;

use std::ffi::OsStr;
use std::fs::File;
use std::io::Read;
use std::os::unix::net::{UnixDatagram, UnixStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use sockproxy_test_common::process_tree::{become_subreaper, children_of, kill_tree};

use crate::support::PANIC_EXIT;

pub use crate::support::serve_bin;

/// The proxy, for the logins through both halves.
pub fn proxy_bin() -> &'static str {
    crate::support::bin()
}

/// How long a condition the tests wait for may take on a loaded machine.
pub const LIMIT: Duration = Duration::from_secs(30);

/// A child command that greets, then echoes what it reads until EOF.
pub const ECHO: [&str; 3] = ["/bin/sh", "-c", "echo hello; exec cat"];

/// A running ssh-sockserve; on drop it is killed with every process it
/// started, and all are reaped.
pub struct Server {
    child: Option<Child>,
    stdout: PathBuf,
    stderr: PathBuf,
}

impl Server {
    /// Starts `ssh-sockserve ARGS` with NOTIFY_SOCKET at a datagram socket
    /// in `dir` and waits for its READY=1.
    pub fn start<S: AsRef<OsStr>>(dir: &Path, args: &[S]) -> Server {
        let mut command = Command::new(serve_bin());
        command.args(args);
        Server::start_command(dir, command)
    }

    /// `start` for a prepared command (environment, pre_exec...).
    pub fn start_command(dir: &Path, mut command: Command) -> Server {
        let notify_path = dir.join("notify");
        let _ = std::fs::remove_file(&notify_path);
        let notify = UnixDatagram::bind(&notify_path).expect("bind the test NOTIFY_SOCKET");
        command.env("NOTIFY_SOCKET", &notify_path);
        let mut server = Server::spawn(dir, command);
        server.await_ready(&notify);
        server
    }

    /// Starts the command as it is (no readiness awaited), its stdout and
    /// stderr into files in `dir`.
    pub fn spawn(dir: &Path, mut command: Command) -> Server {
        // Before anything is orphaned: the sessions that outlive a server
        // come to the test process, which reaps them.
        become_subreaper();
        let stdout = dir.join("server.stdout");
        let stderr = dir.join("server.stderr");
        command
            .stdin(Stdio::null())
            .stdout(File::create(&stdout).expect("server stdout file"))
            .stderr(File::create(&stderr).expect("server stderr file"));
        let child = command.spawn().unwrap_or_else(|e| panic!("spawn {command:?}: {e}"));
        Server { child: Some(child), stdout, stderr }
    }

    fn await_ready(&mut self, notify: &UnixDatagram) {
        notify.set_read_timeout(Some(Duration::from_millis(100))).expect("timeout");
        let deadline = Instant::now() + LIMIT;
        let mut message = [0u8; 64];
        loop {
            if let Ok(len) = notify.recv(&mut message) {
                assert_eq!(&message[..len], b"READY=1", "{}", self.stderr());
                return;
            }
            if let Ok(Some(status)) = self.child.as_mut().expect("server running").try_wait() {
                self.child = None;
                panic!("the server exited ({status}) before READY=1: {}", self.stderr());
            }
            assert!(Instant::now() < deadline, "no READY=1 within {LIMIT:?}: {}", self.stderr());
        }
    }

    pub fn pid(&self) -> u32 {
        self.child.as_ref().expect("server running").id()
    }

    /// For a server run under strace: the server itself, strace's child.
    #[track_caller]
    pub fn tracee(&self) -> u32 {
        let deadline = Instant::now() + LIMIT;
        loop {
            if let [pid] = children_of(self.pid())[..] {
                return pid;
            }
            assert!(Instant::now() < deadline, "strace started no server: {}", self.stderr());
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// Everything the server (and its children, which share its stderr) wrote there so far.
    pub fn stderr(&self) -> String {
        let mut text = String::new();
        let _ = File::open(&self.stderr).and_then(|mut f| f.read_to_string(&mut text));
        text
    }

    /// Waits (bounded) until stderr satisfies `done`, and returns it.
    #[track_caller]
    pub fn wait_stderr(&self, what: &str, done: impl Fn(&str) -> bool) -> String {
        let deadline = Instant::now() + LIMIT;
        loop {
            let text = self.stderr();
            if done(&text) {
                return text;
            }
            assert!(Instant::now() < deadline, "waited {LIMIT:?} for {what}; stderr:\n{text}");
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// The PIDs stderr names as serving connections (`-v`).
    pub fn served_pids(&self) -> Vec<u32> {
        self.stderr()
            .lines()
            .filter_map(|line| line.split(", served by pid ").nth(1)?.split(' ').next()?.parse().ok())
            .collect()
    }

    pub fn signal(&self, signal: libc::c_int) {
        // SAFETY: kill has no memory-safety preconditions; the server is not reaped, its PID is its own.
        unsafe { libc::kill(self.pid() as libc::pid_t, signal) };
    }

    /// Waits (bounded) for the server to exit on its own; asserts it wrote
    /// nothing to stdout and did not panic.
    #[track_caller]
    pub fn wait_exit(&mut self) -> ExitStatus {
        let child = self.child.as_mut().expect("server running");
        let deadline = Instant::now() + LIMIT;
        let status = loop {
            if let Some(status) = child.try_wait().expect("try_wait") {
                break status;
            }
            assert!(Instant::now() < deadline, "the server did not exit within {LIMIT:?}: {}", self.stderr());
            std::thread::sleep(Duration::from_millis(10));
        };
        self.child = None;
        assert_ne!(status.code(), Some(PANIC_EXIT), "the server panicked: {}", self.stderr());
        let stdout = std::fs::read(&self.stdout).unwrap_or_default();
        assert!(stdout.is_empty(), "the server wrote to stdout: {:?}", String::from_utf8_lossy(&stdout));
        status
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            kill_tree(&mut child);
        }
    }
}

/// Connects to the AF_UNIX socket at `path`, reads bounded by LIMIT.
#[track_caller]
pub fn connect(path: &Path) -> UnixStream {
    let stream = UnixStream::connect(path).unwrap_or_else(|e| panic!("connect {}: {e}", path.display()));
    stream.set_read_timeout(Some(LIMIT)).expect("timeout");
    stream
}

/// Reads exactly `len` bytes (bounded by the stream's timeout).
#[track_caller]
pub fn read_exactly(stream: &mut UnixStream, len: usize) -> Vec<u8> {
    let mut bytes = vec![0u8; len];
    stream.read_exact(&mut bytes).expect("read from the served connection");
    bytes
}

/// Reads to EOF (bounded by the stream's timeout).
#[track_caller]
pub fn read_to_end(stream: &mut UnixStream) -> Vec<u8> {
    let mut bytes = Vec::new();
    stream.read_to_end(&mut bytes).expect("read the served connection to EOF");
    bytes
}

/// Runs `command` (strace, which runs the server) under a seccomp filter
/// that refuses socket(AF_VSOCK) with EAFNOSUPPORT: a second guard, behind
/// strace's faking, that no AF_VSOCK socket exists on this machine. strace
/// stops each call before seccomp sees it, so a call strace fakes never
/// reaches the filter, and the trace shows which did.
pub fn refusing_vsock_sockets(command: &mut Command) -> &mut Command {
    use std::os::unix::process::CommandExt;
    // BPF over seccomp_data: nr at offset 0, arch at 4, args[0] at 16 (its low half, little-endian).
    const LD_W_ABS: u16 = 0x20; // BPF_LD | BPF_W | BPF_ABS
    const JEQ_K: u16 = 0x15; // BPF_JMP | BPF_JEQ | BPF_K
    const RET_K: u16 = 0x06; // BPF_RET | BPF_K
    const AUDIT_ARCH_X86_64: u32 = 0xc000_003e;
    let op = |code, jt, jf, k| libc::sock_filter { code, jt, jf, k };
    let filter = [
        op(LD_W_ABS, 0, 0, 4),
        op(JEQ_K, 1, 0, AUDIT_ARCH_X86_64),
        op(RET_K, 0, 0, libc::SECCOMP_RET_KILL_PROCESS),
        op(LD_W_ABS, 0, 0, 0),
        op(JEQ_K, 0, 3, libc::SYS_socket as u32),
        op(LD_W_ABS, 0, 0, 16),
        op(JEQ_K, 0, 1, libc::AF_VSOCK as u32),
        op(RET_K, 0, 0, libc::SECCOMP_RET_ERRNO | libc::EAFNOSUPPORT as u32),
        op(RET_K, 0, 0, libc::SECCOMP_RET_ALLOW),
    ];
    // SAFETY: prctl calls only, in the child before exec; the program lives across them.
    unsafe {
        command.pre_exec(move || {
            let program = libc::sock_fprog { len: filter.len() as u16, filter: filter.as_ptr().cast_mut() };
            if libc::prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0
                || libc::prctl(libc::PR_SET_SECCOMP, libc::SECCOMP_MODE_FILTER, &program) != 0
            {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        })
    }
}

/// The lines of an strace log that create an AF_VSOCK socket; each must
/// show that strace faked it. Only whole lines count: strace writes a call
/// in two parts, at entry and at exit, and a log read while the server runs
/// may end in the middle of one.
#[track_caller]
pub fn vsock_sockets(trace: &str) -> Vec<&str> {
    let whole = trace.rsplit_once('\n').map_or("", |(whole, _)| whole);
    let lines: Vec<&str> = whole.lines().filter(|l| l.contains("socket(AF_VSOCK")).collect();
    for line in &lines {
        assert!(line.ends_with("(INJECTED)"), "an AF_VSOCK socket call was not faked:\n{trace}");
    }
    lines
}
