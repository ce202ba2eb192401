//! Real OpenSSH through both halves: ssh → ssh-sockproxy → ssh-sockserve →
//! `sshd -i`, with fd passing and with the relay, fifty sessions at once,
//! and a session that outlives the server's SIGTERM.

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Output, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use sockproxy_test_common::TempDir;
use sockproxy_test_common::process_tree::{descendants, kill_and_reap};
use sockproxy_test_common::sshd::{SshdConfig, output_with_timeout, user};

use super::{LIMIT, Server, proxy_bin};

const SESSION_SECS: u64 = 120;

/// sshd's keys and config in `dir/keys`, and ssh-sockserve serving
/// `sshd -i` on `dir/run/ssh/socket` (a directory it creates) with `options`.
fn serve_sshd(dir: &Path, options: &[&str]) -> (SshdConfig, Server, PathBuf) {
    let config = SshdConfig::new(&dir.join("keys"));
    let socket = dir.join("run/ssh/socket");
    let mut args: Vec<String> = options.iter().map(|o| o.to_string()).collect();
    args.extend([socket.display().to_string(), "--".into()]);
    args.extend(config.inetd_command());
    let server = Server::start(dir, &args);
    (config, server, socket)
}

fn proxy_command() -> String {
    format!("'{}' %h %p", proxy_bin())
}

fn destination(socket: &Path) -> String {
    format!("{}@unix{}", user(), socket.display())
}

#[track_caller]
fn assert_echoed(output: &Output, expected: &str, server: &Server) {
    assert!(
        output.status.success() && String::from_utf8_lossy(&output.stdout) == expected,
        "ssh: {}\n--- stdout ---\n{}\n--- stderr ---\n{}\n--- server (and sshd) stderr ---\n{}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr),
        server.stderr()
    );
}

#[test]
fn ssh_logs_in_through_proxy_and_server_with_fd_passing_and_relay() {
    let dir = TempDir::new();
    let (config, server, socket) = serve_sshd(dir.path(), &["-v"]);
    let mut ssh = config.ssh(&proxy_command(), &destination(&socket));
    ssh.args(["echo", "passed"]);
    assert_echoed(&output_with_timeout(ssh, SESSION_SECS), "passed\n", &server);
    let mut ssh = config.ssh_without_fdpass(&proxy_command(), &destination(&socket));
    ssh.args(["echo", "relayed"]);
    assert_echoed(&output_with_timeout(ssh, SESSION_SECS), "relayed\n", &server);
    // -v names each connection's peer by its credentials: the proxy, run as we are.
    let stderr = server.stderr();
    let uid = format!("(uid {}, gid {})", unsafe { libc::getuid() }, unsafe { libc::getgid() });
    let served: Vec<&str> = stderr.lines().filter(|l| l.contains(": connection from pid ")).collect();
    assert_eq!(served.len(), 2, "{stderr}");
    for line in served {
        assert!(line.starts_with(&format!("{}: connection from pid ", socket.display())), "{line}");
        assert!(line.contains(&uid) && line.contains(", served by pid "), "{line}");
    }
}

#[test]
fn fifty_sessions_at_once() {
    const SESSIONS: usize = 50;
    let dir = TempDir::new();
    let (config, server, socket) = serve_sshd(dir.path(), &[]);
    let started = dir.join("started");
    std::fs::create_dir(&started).unwrap();
    // Each session marks itself started and waits for all the others: they
    // are live at the same time, or none finishes.
    let remote = format!(
        "touch {dir}/$0; while [ $(ls {dir} | wc -l) -lt {SESSIONS} ]; do sleep 0.1; done; echo done $0",
        dir = started.display()
    );
    let outputs: Vec<Output> = std::thread::scope(|scope| {
        let sessions: Vec<_> = (0..SESSIONS)
            .map(|n| {
                let mut ssh = config.ssh(&proxy_command(), &destination(&socket));
                ssh.args(["sh", "-c", &format!("'{remote}'"), &n.to_string()]);
                scope.spawn(move || output_with_timeout(ssh, SESSION_SECS))
            })
            .collect();
        sessions.into_iter().map(|s| s.join().expect("session thread")).collect()
    });
    for (n, output) in outputs.iter().enumerate() {
        assert_echoed(output, &format!("done {n}\n"), &server);
    }
}

#[test]
fn a_live_session_outlives_sigterm_and_the_socket_file_goes() {
    let dir = TempDir::new();
    let (config, mut server, socket) = serve_sshd(dir.path(), &[]);
    let mut ssh = config.ssh(&proxy_command(), &destination(&socket));
    ssh.arg("cat").stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped());
    let mut ssh = ssh.spawn().expect("spawn ssh");
    let mut to_remote = ssh.stdin.take().unwrap();
    let from_remote = lines_of(ssh.stdout.take().unwrap());
    to_remote.write_all(b"before\n").unwrap();
    assert_eq!(from_remote.recv_timeout(LIMIT).as_deref(), Ok("before"), "{}", server.stderr());

    let sessions = descendants(server.pid());
    server.signal(libc::SIGTERM);
    assert_eq!(server.wait_exit().code(), Some(0), "{}", server.stderr());
    assert!(!socket.exists(), "the socket file is still there");
    assert!(socket.parent().unwrap().is_dir(), "only the socket file goes");

    to_remote.write_all(b"after\n").unwrap();
    assert_eq!(from_remote.recv_timeout(LIMIT).as_deref(), Ok("after"), "the session ended with the server");
    drop(to_remote);
    let status = wait_bounded(&mut ssh);
    // The sessions were the server's children: orphans now, this process reaps them.
    kill_and_reap(&sessions);
    assert!(status.success(), "ssh: {status}");
}

/// The lines of `pipe`, read on a thread of their own.
fn lines_of(pipe: impl std::io::Read + Send + 'static) -> mpsc::Receiver<String> {
    let (send, receive) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(pipe).lines() {
            let Ok(line) = line else { return };
            if send.send(line).is_err() {
                return;
            }
        }
    });
    receive
}

fn wait_bounded(child: &mut std::process::Child) -> std::process::ExitStatus {
    let deadline = std::time::Instant::now() + LIMIT;
    loop {
        if let Some(status) = child.try_wait().expect("try_wait") {
            return status;
        }
        if std::time::Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("ssh did not end within {LIMIT:?}");
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}
