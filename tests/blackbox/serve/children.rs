//! The children that serve connections: the cap, a COMMAND that cannot be
//! executed, what a child gets whatever the server inherited, and the
//! pauses when accept or fork fail for want of a resource.

use std::io::Write;
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use sockproxy_test_common::TempDir;

use super::{ECHO, LIMIT, Server, connect, read_exactly, read_to_end, serve_bin};

/// `OPTIONS... LISTEN -- COMMAND...` for the server.
fn args(options: &[&str], socket: &Path, command: &[&str]) -> Vec<String> {
    let mut args: Vec<String> = options.iter().map(|o| o.to_string()).collect();
    args.extend([socket.display().to_string(), "--".into()]);
    args.extend(command.iter().map(|c| c.to_string()));
    args
}

/// Connects until a connection is served by ECHO (a slot is free), bounded.
#[track_caller]
fn served_connection(socket: &Path, server: &Server) -> std::os::unix::net::UnixStream {
    served_connection_of(socket, || server.stderr())
}

/// `served_connection`, with `what` for the failure's message.
#[track_caller]
fn served_connection_of(socket: &Path, what: impl Fn() -> String) -> std::os::unix::net::UnixStream {
    let deadline = Instant::now() + LIMIT;
    loop {
        let mut stream = connect(socket);
        let mut hello = [0u8; 6];
        if std::io::Read::read_exact(&mut stream, &mut hello).is_ok() {
            assert_eq!(&hello, b"hello\n");
            return stream;
        }
        assert!(Instant::now() < deadline, "no slot became free: {}", what());
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// The connections closed over the cap that stderr accounts for: one per
/// line of their own, N per line that counts N more.
fn closed_over_cap(stderr: &str, socket: &Path, max: u32) -> u32 {
    let one = format!("{}: connection closed, {max} connections already (--max-connections).", socket.display());
    let more = format!(" more connections closed, {max} connections already (--max-connections).");
    stderr
        .lines()
        .map(|line| match line.strip_suffix(&more) {
            _ if line == one => 1,
            Some(count) => count.parse().unwrap_or_else(|_| panic!("not a count: {line}")),
            None => panic!("an unexpected line: {line}"),
        })
        .sum()
}

#[test]
fn over_the_cap_connections_are_closed_at_once_with_rate_limited_lines() {
    const OVER: u32 = 10;
    let dir = TempDir::new();
    let socket = dir.join("s");
    let server = Server::start(dir.path(), &args(&["--max-connections=2"], &socket, &ECHO));
    let (first, _second) = (served_connection(&socket, &server), served_connection(&socket, &server));
    for _ in 0..OVER {
        assert_eq!(read_to_end(&mut connect(&socket)), b"", "a connection over the cap was served");
    }
    // Each is said, in a line of its own or counted in the next one after
    // the quiet second; the first is a line of its own.
    let stderr =
        server.wait_stderr("every closed connection accounted for", |s| closed_over_cap(s, &socket, 2) == OVER);
    assert!(stderr.starts_with(&format!("{}: connection closed, 2 connections", socket.display())), "{stderr}");
    // A session that ends frees its slot.
    drop(first);
    let mut third = served_connection(&socket, &server);
    third.write_all(b"ping\n").unwrap();
    assert_eq!(read_exactly(&mut third, 5), b"ping\n");
}

#[test]
fn a_command_that_cannot_be_executed_is_one_line_and_exit_127_and_frees_its_slot() {
    let dir = TempDir::new();
    let socket = dir.join("s");
    let trace = dir.join("trace");
    let mut command = Command::new("strace");
    command.args(["-f", "-qq", "-e", "trace=execve,exit_group", "-o"]).arg(&trace).arg(serve_bin());
    command.args(args(&["--max-connections=1"], &socket, &["/nonexistent/command", "-i"]));
    let server = Server::start_command(dir.path(), command);
    let line = "Failed to execute /nonexistent/command: No such file or directory\n";
    // Two in a row with one slot: the first child's exit freed it.
    let deadline = Instant::now() + LIMIT;
    while server.stderr().matches(line).count() < 2 {
        assert_eq!(read_to_end(&mut connect(&socket)), b"", "the connection got bytes");
        assert!(Instant::now() < deadline, "{}", server.stderr());
    }
    let stderr = server.stderr();
    assert!(stderr.lines().all(|l| format!("{l}\n") == line || l.contains("connection closed")), "{stderr}");
    let trace = std::fs::read_to_string(&trace).unwrap();
    let exits = trace.lines().filter(|l| l.contains("exit_group(127)")).count();
    assert!(exits >= 2, "no exit 127:\n{trace}");
}

#[test]
fn a_command_without_a_slash_is_looked_up_in_path() {
    let dir = TempDir::new();
    let socket = dir.join("s");
    let tools = dir.join("bin");
    std::fs::create_dir(&tools).unwrap();
    let not_executable = tools.join("not-executable");
    std::fs::write(&not_executable, "#!/bin/sh\n").unwrap();
    let path = format!("/nonexistent:{}:/usr/bin:/bin", tools.display());
    let start = |command: &[&str]| {
        let mut server = Command::new(serve_bin());
        server.args(args(&[], &socket, command)).env("PATH", &path);
        Server::start_command(dir.path(), server)
    };
    let server = start(&["sh", "-c", "echo hello; exec cat"]);
    served_connection(&socket, &server);
    drop(server);
    for (name, error) in [("not-executable", "Permission denied"), ("no-such-command", "No such file or directory")] {
        let server = start(&[name]);
        assert_eq!(read_to_end(&mut connect(&socket)), b"");
        let line = format!("Failed to execute {name}: {error}\n");
        server.wait_stderr(&line, |s| s == line);
    }
}

/// A signal set of `signals`.
fn sigset(signals: &[libc::c_int]) -> libc::sigset_t {
    // SAFETY: sigemptyset and sigaddset initialise the local set.
    unsafe {
        let mut set: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut set);
        for &signal in signals {
            libc::sigaddset(&mut set, signal);
        }
        set
    }
}

/// The value of `field:` in /proc/PID/status.
fn status_field(pid: u32, field: &str) -> String {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let line = status.lines().find(|l| l.starts_with(&format!("{field}:"))).unwrap_or_else(|| panic!("{field}"));
    line[field.len() + 1..].trim().to_string()
}

/// The session of `pid` (field 6 of /proc/PID/stat, the fourth after the name).
fn session_of(pid: u32) -> u32 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
    stat.rsplit_once(")").unwrap().1.split_whitespace().nth(3).unwrap().parse().unwrap()
}

fn fds(pid: u32) -> Vec<(u32, String)> {
    let mut fds: Vec<(u32, String)> = std::fs::read_dir(format!("/proc/{pid}/fd"))
        .unwrap()
        .map(|e| {
            let e = e.unwrap();
            (
                e.file_name().to_str().unwrap().parse().unwrap(),
                std::fs::read_link(e.path()).unwrap().display().to_string(),
            )
        })
        .collect();
    fds.sort();
    fds
}

#[test]
fn a_child_gets_std_fds_default_signals_an_empty_mask_and_its_own_session() {
    let dir = TempDir::new();
    let socket = dir.join("s");
    let mut command = Command::new(serve_bin());
    command.args(args(&["-v"], &socket, &["/bin/cat"])).env("SERVE_TEST", "kept");
    let blocked = sigset(&[libc::SIGALRM, libc::SIGCHLD, libc::SIGUSR1]);
    // SAFETY: only async-signal-safe calls, in the child before exec.
    unsafe {
        command.pre_exec(move || {
            libc::sigprocmask(libc::SIG_BLOCK, &blocked, std::ptr::null_mut());
            for signal in [libc::SIGINT, libc::SIGQUIT, libc::SIGPIPE, libc::SIGHUP, libc::SIGUSR2] {
                libc::signal(signal, libc::SIG_IGN);
            }
            // Only one descriptor besides 0-2 (this test process may hold
            // others), and that without CLOEXEC, as from a careless parent.
            libc::syscall(libc::SYS_close_range, 3u32, u32::MAX, 0u32);
            libc::dup2(2, 9);
            Ok(())
        });
    }
    let server = Server::start_command(dir.path(), command);
    let server_pid = server.pid();
    let ignored = u64::from_str_radix(&status_field(server_pid, "SigIgn"), 16).unwrap();
    assert_eq!(ignored & 0x1807, 0x1807, "the server keeps what it inherited: {ignored:x}");

    let mut stream = connect(&socket);
    stream.write_all(b"ping\n").unwrap();
    assert_eq!(read_exactly(&mut stream, 5), b"ping\n", "cat has the connection as stdin and stdout");
    server.wait_stderr("the -v line", |s| s.contains("served by pid"));
    let pid = server.served_pids()[0];
    assert_eq!(std::fs::read_link(format!("/proc/{pid}/exe")).unwrap(), Path::new("/usr/bin/cat"));
    assert_eq!(status_field(pid, "SigBlk"), "0000000000000000", "an empty mask");
    assert_eq!(status_field(pid, "SigIgn"), "0000000000000000", "default dispositions");
    assert_eq!(session_of(pid), pid, "a session of its own");
    let fds = fds(pid);
    assert_eq!(fds.iter().map(|(fd, _)| *fd).collect::<Vec<_>>(), [0, 1, 2], "{fds:?}");
    assert!(fds[0].1.starts_with("socket:[") && fds[0].1 == fds[1].1, "{fds:?}");
    assert_eq!(Path::new(&fds[2].1), dir.join("server.stderr"), "stderr is the server's");
    let environ = std::fs::read(format!("/proc/{pid}/environ")).unwrap();
    let environ: Vec<&[u8]> = environ.split(|&b| b == 0).collect();
    assert!(environ.contains(&&b"SERVE_TEST=kept"[..]), "the environment is passed on");
    assert!(!environ.iter().any(|e| e.starts_with(b"NOTIFY_SOCKET=")), "NOTIFY_SOCKET is the server's alone");

    // Every descriptor the server made is CLOEXEC (fd 9 it inherited).
    for (fd, target) in self::fds(server_pid).into_iter().filter(|&(fd, _)| fd > 2 && fd != 9) {
        let info = std::fs::read_to_string(format!("/proc/{server_pid}/fdinfo/{fd}")).unwrap();
        let flags = info.lines().find_map(|l| l.strip_prefix("flags:")).unwrap().trim();
        let flags = u32::from_str_radix(flags, 8).unwrap();
        assert_ne!(flags & libc::O_CLOEXEC as u32, 0, "fd {fd} ({target}) is not CLOEXEC");
    }
    // With SIGCHLD blocked when it started, it still reaps: the slot frees.
    drop(stream);
    server.wait_stderr("the child reaped", |_| !Path::new(&format!("/proc/{pid}")).exists());
}

/// `strace -e inject=SPEC` around the server (no -f: the children are not
/// faked), and the trace.
fn traced(dir: &Path, inject: &str, socket: &Path) -> (Server, std::path::PathBuf) {
    let trace = dir.join("trace");
    let mut command = Command::new("strace");
    command.args(["-qq", "-e", "trace=accept4,clone", "-e"]).arg(format!("inject={inject}"));
    command.arg("-o").arg(&trace).arg(serve_bin()).args(args(&[], socket, &ECHO));
    (Server::start_command(dir, command), trace)
}

#[test]
fn accept_without_descriptors_pauses_instead_of_spinning() {
    let dir = TempDir::new();
    let socket = dir.join("s");
    let (server, trace) = traced(dir.path(), "accept4:error=EMFILE:when=1..3", &socket);
    // Waits in the backlog through three pauses, then is served.
    let mut stream = connect(&socket);
    assert_eq!(read_exactly(&mut stream, 6), b"hello\n");
    let line =
        format!("Failed to accept a connection on {}: Too many open files; pausing for 1 s.\n", socket.display());
    assert_eq!(server.stderr(), line.repeat(3));
    let tracee = server.tracee();
    drop(stream);
    // SAFETY: kill has no memory-safety preconditions; the tracee is strace's child, alive.
    unsafe { libc::kill(tracee as libc::pid_t, libc::SIGTERM) };
    let mut server = server;
    assert_eq!(server.wait_exit().code(), Some(0));
    let trace = std::fs::read_to_string(&trace).unwrap();
    let accepts: Vec<&str> = trace.lines().filter(|l| l.starts_with("accept4(")).collect();
    // Three refused, one taken, one that finds the backlog empty: no spinning.
    assert_eq!(accepts.len(), 5, "{trace}");
    assert_eq!(accepts.iter().filter(|l| l.ends_with("(INJECTED)")).count(), 3, "{trace}");
}

#[test]
fn a_failed_fork_closes_that_connection_and_pauses() {
    let dir = TempDir::new();
    let socket = dir.join("s");
    let (server, _trace) = traced(dir.path(), "clone:error=EAGAIN:when=1", &socket);
    assert_eq!(read_to_end(&mut connect(&socket)), b"", "the connection without a child is closed");
    let line = format!(
        "Failed to start a process for a connection on {}: Resource temporarily unavailable; pausing for 1 s.\n",
        socket.display()
    );
    server.wait_stderr("the fork failure", |s| s == line);
    assert_eq!(read_exactly(&mut connect(&socket), 6), b"hello\n", "the next one is served");
}

#[test]
fn a_stderr_nobody_reads_does_not_end_the_server() {
    let dir = TempDir::new();
    let socket = dir.join("s");
    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader);
    let mut command = Command::new(serve_bin());
    command.args(args(&["-v"], &socket, &["/bin/sh", "-c", "echo hello; exec cat"]));
    // Not Server::spawn, which gives stderr a file: here it is a pipe nobody reads.
    let notify = std::os::unix::net::UnixDatagram::bind(dir.join("notify")).unwrap();
    notify.set_read_timeout(Some(LIMIT)).unwrap();
    command.env("NOTIFY_SOCKET", dir.join("notify"));
    let child = command.stdin(std::process::Stdio::null()).stderr(writer).spawn().unwrap();
    let mut guard = sockproxy_test_common::ChildGuard(Some(child));
    notify.recv(&mut [0u8; 16]).expect("READY=1");
    for _ in 0..3 {
        // Each -v line hits EPIPE; the server serves on.
        served_connection_of(&socket, || format!("pid {}", guard.0.as_ref().map_or(0, |c| c.id())));
    }
    let pid = guard.0.as_ref().unwrap().id();
    // SAFETY: kill has no memory-safety preconditions; the server is not reaped.
    unsafe { libc::kill(pid as libc::pid_t, libc::SIGTERM) };
    assert_eq!(guard.wait_timeout(LIMIT).code(), Some(0), "the server died of its stderr");
}

#[test]
fn closed_std_fds_are_filled_with_dev_null() {
    let dir = TempDir::new();
    let socket = dir.join("s");
    let mut command = Command::new(serve_bin());
    command.args(args(&["-v"], &socket, &["/bin/cat"]));
    // SAFETY: close is async-signal-safe; only this child's descriptors.
    unsafe {
        command.pre_exec(|| {
            for fd in 0..3 {
                libc::close(fd);
            }
            Ok(())
        });
    }
    let server = Server::start_command(dir.path(), command);
    let mut stream = connect(&socket);
    stream.write_all(b"ping\n").unwrap();
    assert_eq!(read_exactly(&mut stream, 5), b"ping\n");
    let children = sockproxy_test_common::process_tree::children_of(server.pid());
    let [pid] = children[..] else { panic!("children {children:?}") };
    let fds = fds(pid);
    assert_eq!(fds.iter().map(|(fd, _)| *fd).collect::<Vec<_>>(), [0, 1, 2], "{fds:?}");
    assert!(fds[0].1.starts_with("socket:["), "{fds:?}");
    assert_eq!(fds[2].1, "/dev/null", "the child's stderr: no socket of the server's");
}
