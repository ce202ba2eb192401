//! Real OpenSSH server fixture: `sshd -i` behind an AF_UNIX listener, plus time-bounded ssh/scp/sftp runners.
//! `SshdConfig` alone is the keys, config and client options, for a server such as ssh-sockserve to run `sshd -i`.

use std::fs::{self, File, OpenOptions};
use std::io::{self, ErrorKind, Read, Write};
use std::os::fd::OwnedFd;
use std::os::unix::fs::PermissionsExt;
use std::os::unix::net::{UnixListener, UnixStream};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, mpsc};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

const SSHD: &str = "/usr/sbin/sshd";
/// sshd's privilege-separation chroot; `sshd -i` refuses to run without it.
const PRIVSEP_DIR: &str = "/run/sshd";
const POLL: Duration = Duration::from_millis(10);

/// An OpenSSH server that runs one `sshd -i` per connection accepted on an AF_UNIX socket.
pub struct Sshd {
    config: SshdConfig,
    socket: PathBuf,
    stop: Arc<AtomicBool>,
    acceptor: Option<JoinHandle<()>>,
    children: Arc<Mutex<Vec<Child>>>,
}

/// What every `sshd -i` of a fixture shares: host and client keys, the
/// config, the log; and the client options that log in with them.
pub struct SshdConfig {
    config: PathBuf,
    client_key: PathBuf,
    log: PathBuf,
}

impl std::ops::Deref for Sshd {
    type Target = SshdConfig;

    fn deref(&self) -> &SshdConfig {
        &self.config
    }
}

impl Sshd {
    /// Starts a server in `dir` listening on `dir/sshd.sock`.
    pub fn start(dir: &Path) -> Sshd {
        Sshd::start_at(dir, &dir.join("sshd.sock"))
    }

    /// Starts a server whose keys, config and log live in `dir`, listening on `socket`.
    pub fn start_at(dir: &Path, socket: &Path) -> Sshd {
        let config = SshdConfig::new(dir);
        let socket = std::path::absolute(socket).expect("absolute socket path");
        if let Some(parent) = socket.parent() {
            fs::create_dir_all(parent).expect("create socket directory");
        }
        let listener = UnixListener::bind(&socket).unwrap_or_else(|e| panic!("bind {}: {e}", socket.display()));
        // Non-blocking so the accept thread can notice `stop` without a wake-up connection.
        listener.set_nonblocking(true).expect("nonblocking listener");

        let stop = Arc::new(AtomicBool::new(false));
        let children = Arc::new(Mutex::new(Vec::new()));
        let acceptor = {
            let (stop, children, sshd_config, log) =
                (stop.clone(), children.clone(), config.config.clone(), config.log.clone());
            thread::spawn(move || accept_loop(listener, &sshd_config, &log, &stop, &children))
        };

        Sshd { config, socket, stop, acceptor: Some(acceptor), children }
    }

    /// The AF_UNIX socket sshd listens on.
    pub fn socket_path(&self) -> &Path {
        &self.socket
    }
}

impl SshdConfig {
    /// Writes keys, config and an empty log into `dir`, made if missing.
    pub fn new(dir: &Path) -> SshdConfig {
        let dir = std::path::absolute(dir).expect("absolute fixture dir");
        fs::create_dir_all(&dir).expect("create the fixture dir");
        assert!(
            Path::new(SSHD).exists(),
            "{SSHD} not found: the OpenSSH tests need `apt-get install openssh-server openssh-client`"
        );
        ensure_privsep_dir();

        let host_key = dir.join("host_key");
        let client_key = dir.join("client_key");
        keygen(&host_key);
        keygen(&client_key);
        let authorized_keys = dir.join("authorized_keys");
        fs::copy(client_key.with_extension("pub"), &authorized_keys).expect("write authorized_keys");

        let config = dir.join("sshd_config");
        fs::write(
            &config,
            format!(
                "HostKey \"{host_key}\"\n\
                 AuthorizedKeysFile \"{authorized_keys}\"\n\
                 UsePAM no\n\
                 PubkeyAuthentication yes\n\
                 PasswordAuthentication no\n\
                 KbdInteractiveAuthentication no\n\
                 PermitRootLogin prohibit-password\n\
                 StrictModes no\n\
                 PidFile none\n\
                 PermitUserRC no\n\
                 PrintMotd no\n\
                 PrintLastLog no\n\
                 Subsystem sftp internal-sftp\n\
                 LogLevel VERBOSE\n",
                host_key = host_key.display(),
                authorized_keys = authorized_keys.display(),
            ),
        )
        .expect("write sshd_config");
        check_config(&config);

        let log = dir.join("sshd.log");
        File::create(&log).expect("create sshd.log");
        SshdConfig { config, client_key, log }
    }

    /// `sshd -i -e -f CONFIG`: one session on stdin and stdout, its log on stderr.
    pub fn inetd_command(&self) -> Vec<String> {
        [SSHD, "-i", "-e", "-f"].iter().map(|s| s.to_string()).chain([self.config.display().to_string()]).collect()
    }

    /// Where the fixture's own `sshd -i` processes write their log.
    pub fn log_path(&self) -> &Path {
        &self.log
    }

    /// The private key authorized to log in.
    pub fn client_key(&self) -> &Path {
        &self.client_key
    }

    /// Everything the sshd processes wrote to stderr so far.
    pub fn log(&self) -> String {
        String::from_utf8_lossy(&fs::read(&self.log).unwrap_or_default()).into_owned()
    }

    /// Client options shared by ssh, scp and sftp: no config files, key-only, non-interactive, fd passing.
    pub fn common_options(&self, proxy_command: &str) -> Vec<String> {
        self.options_with_fdpass(proxy_command, true)
    }

    /// `common_options` with ProxyUseFdpass as given (ssh keeps the first
    /// value of an option, so it cannot be overridden later on the line).
    pub fn options_with_fdpass(&self, proxy_command: &str, fdpass: bool) -> Vec<String> {
        let mut args: Vec<String> = vec!["-F".into(), "none".into()];
        for option in [
            format!("ProxyCommand={proxy_command}").as_str(),
            if fdpass { "ProxyUseFdpass=yes" } else { "ProxyUseFdpass=no" },
            "StrictHostKeyChecking=no",
            "UserKnownHostsFile=/dev/null",
            "IdentitiesOnly=yes",
            "BatchMode=yes",
            "LogLevel=ERROR",
            "ConnectTimeout=20",
        ] {
            args.push("-o".into());
            args.push(option.to_string());
        }
        args.push("-i".into());
        args.push(self.client_key().display().to_string());
        args
    }

    /// `ssh` to `destination` through `proxy_command`; the caller appends the remote command.
    pub fn ssh(&self, proxy_command: &str, destination: &str) -> Command {
        let mut cmd = self.client("ssh", proxy_command);
        cmd.arg(destination);
        cmd
    }

    /// `ssh` with ProxyUseFdpass=no: the proxy talks to ssh through pipes.
    pub fn ssh_without_fdpass(&self, proxy_command: &str, destination: &str) -> Command {
        let mut cmd = Command::new("ssh");
        cmd.args(self.options_with_fdpass(proxy_command, false)).arg(destination).stdin(Stdio::null());
        cmd
    }

    /// `scp` through `proxy_command` with `args` (extra options, then source and target).
    pub fn scp(&self, proxy_command: &str, args: &[&str]) -> Command {
        let mut cmd = self.client("scp", proxy_command);
        cmd.args(args);
        cmd
    }

    /// `sftp` through `proxy_command` with `args` (extra options such as `-b FILE`, then destination).
    pub fn sftp(&self, proxy_command: &str, args: &[&str]) -> Command {
        let mut cmd = self.client("sftp", proxy_command);
        cmd.args(args);
        cmd
    }

    fn client(&self, program: &str, proxy_command: &str) -> Command {
        let mut cmd = Command::new(program);
        cmd.args(self.common_options(proxy_command)).stdin(Stdio::null());
        cmd
    }
}

impl Drop for Sshd {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(acceptor) = self.acceptor.take() {
            let _ = acceptor.join();
        }
        let mut children = self.children.lock().unwrap_or_else(|e| e.into_inner());
        for child in children.iter_mut() {
            // The group also holds sshd's privsep and session children. The leader is not
            // reaped yet, so its id cannot have been reused.
            kill_group(child.id());
            let _ = child.wait();
        }
        let _ = fs::remove_file(&self.socket);
    }
}

/// The user the tests log in as: the current user (root in CI).
pub fn user() -> String {
    let output = Command::new("id")
        .arg("-un")
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("cannot run `id -un`: {e}"));
    assert!(output.status.success(), "id -un failed: {}", output.status);
    String::from_utf8(output.stdout).expect("user name is UTF-8").trim().to_string()
}

/// Runs `cmd` with stdout and stderr captured; kills its process group and panics after `secs` seconds.
pub fn output_with_timeout(mut cmd: Command, secs: u64) -> Output {
    // Own process group, so a hung ProxyCommand dies with ssh.
    cmd.stdout(Stdio::piped()).stderr(Stdio::piped()).process_group(0);
    let mut child = cmd.spawn().unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"));
    let (done_tx, done_rx) = mpsc::channel();
    let stdout = read_in_background(child.stdout.take().unwrap(), done_tx.clone());
    let stderr = read_in_background(child.stderr.take().unwrap(), done_tx);

    let deadline = Instant::now() + Duration::from_secs(secs);
    let mut exited = false;
    let mut open_pipes = 2;
    while !exited || open_pipes > 0 {
        if Instant::now() >= deadline {
            // If ssh is already reaped, whatever still holds its pipes keeps the group alive.
            kill_group(child.id());
            let _ = child.wait();
            panic!(
                "timed out after {secs}s: {cmd:?}\n--- stdout so far ---\n{}\n--- stderr so far ---\n{}",
                String::from_utf8_lossy(&stdout.lock().unwrap()),
                String::from_utf8_lossy(&stderr.lock().unwrap()),
            );
        }
        if open_pipes > 0 {
            if done_rx.recv_timeout(POLL).is_ok() {
                open_pipes -= 1;
            }
        } else {
            thread::sleep(POLL);
        }
        exited = exited || matches!(child.try_wait(), Ok(Some(_)));
    }
    // Already reaped by try_wait; wait() hands back the saved status.
    let status = child.wait().unwrap_or_else(|e| panic!("wait for {cmd:?}: {e}"));
    let take = |buf: Arc<Mutex<Vec<u8>>>| std::mem::take(&mut *buf.lock().unwrap());
    Output { status, stdout: take(stdout), stderr: take(stderr) }
}

/// Copies a pipe into a shared buffer (readable on timeout) and reports EOF on `done`.
fn read_in_background(mut pipe: impl Read + Send + 'static, done: mpsc::Sender<()>) -> Arc<Mutex<Vec<u8>>> {
    let buf = Arc::new(Mutex::new(Vec::new()));
    let shared = buf.clone();
    thread::spawn(move || {
        let mut chunk = [0u8; 8192];
        loop {
            match pipe.read(&mut chunk) {
                Ok(0) => break,
                Ok(n) => shared.lock().unwrap().extend_from_slice(&chunk[..n]),
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(_) => break,
            }
        }
        let _ = done.send(());
    });
    buf
}

fn accept_loop(listener: UnixListener, config: &Path, log: &Path, stop: &AtomicBool, children: &Mutex<Vec<Child>>) {
    while !stop.load(Ordering::Relaxed) {
        let stream = match listener.accept() {
            Ok((stream, _)) => stream,
            Err(e) if e.kind() == ErrorKind::WouldBlock => {
                thread::sleep(POLL);
                continue;
            }
            Err(e) if e.kind() == ErrorKind::Interrupted => continue,
            Err(e) => {
                append_log(log, &format!("fixture: accept failed, no more connections: {e}"));
                return;
            }
        };
        match spawn_sshd(stream, config, log) {
            Ok(child) => children.lock().unwrap().push(child),
            Err(e) => append_log(log, &format!("fixture: cannot start {SSHD}: {e}")),
        }
    }
}

/// Serves one accepted connection with `sshd -i`, in its own process group.
fn spawn_sshd(stream: UnixStream, config: &Path, log: &Path) -> io::Result<Child> {
    stream.set_nonblocking(false)?;
    let stdin = OwnedFd::from(stream);
    let stdout = stdin.try_clone()?;
    let stderr = OpenOptions::new().append(true).open(log)?;
    Command::new(SSHD)
        .arg("-i")
        .arg("-e")
        .arg("-f")
        .arg(config)
        .stdin(stdin)
        .stdout(stdout)
        .stderr(stderr)
        .process_group(0)
        .spawn()
}

/// Notes a fixture problem in the log that test failures print.
fn append_log(log: &Path, line: &str) {
    if let Ok(mut file) = OpenOptions::new().append(true).open(log) {
        let _ = writeln!(file, "{line}");
    }
}

fn ensure_privsep_dir() {
    if Path::new(PRIVSEP_DIR).is_dir() {
        return;
    }
    fs::create_dir_all(PRIVSEP_DIR)
        .unwrap_or_else(|e| panic!("sshd needs {PRIVSEP_DIR} and it cannot be created: {e}"));
    fs::set_permissions(PRIVSEP_DIR, fs::Permissions::from_mode(0o755))
        .unwrap_or_else(|e| panic!("chmod {PRIVSEP_DIR}: {e}"));
}

fn keygen(path: &Path) {
    let output = Command::new("ssh-keygen")
        .args(["-q", "-N", "", "-t", "ed25519", "-C", "ssh-sockproxy-test", "-f"])
        .arg(path)
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| {
            panic!("cannot run ssh-keygen ({e}): the OpenSSH tests need `apt-get install openssh-client`")
        });
    assert!(
        output.status.success(),
        "ssh-keygen -f {} failed: {}\n{}",
        path.display(),
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
}

/// `sshd -t` reports config mistakes here instead of as a failed login later.
fn check_config(config: &Path) {
    let output = Command::new(SSHD)
        .arg("-t")
        .arg("-f")
        .arg(config)
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("cannot run {SSHD}: {e}"));
    assert!(
        output.status.success(),
        "sshd -t -f {} failed: {}\n{}",
        config.display(),
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
}

fn kill_group(pgid: u32) {
    let pgid = libc::pid_t::try_from(pgid).expect("pid fits pid_t");
    // SAFETY: kill has no memory-safety preconditions; the negative id names the process
    // group this module created for its own, still unreaped, child.
    unsafe { libc::kill(-pgid, libc::SIGKILL) };
}
