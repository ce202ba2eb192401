//! Real logins through an installed copy, configured by nothing but the installed drop-in.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use sockproxy_test_common::TempDir;
use sockproxy_test_common::sshd::{Sshd, user};

use super::{both, make, print_ssh_config, read, run};

/// Installs with DESTDIR empty, so that the drop-in names the real path of
/// the copy: under a PREFIX with a space and a `%`, which ssh_config needs
/// quoted and doubled. Returns the drop-in and the installed binary.
fn install_into(dir: &Path) -> (PathBuf, PathBuf) {
    let prefix = dir.join("opt/my tools 100%");
    let dropin = dir.join("etc/ssh/ssh_config.d/20-ssh-sockproxy.conf");
    make(&["install", &format!("PREFIX={}", prefix.display()), &format!("SSHCONF={}", dropin.display())]);
    let installed = prefix.join("bin/ssh-sockproxy");
    let text = read(&dropin);
    let quoted = format!("'{}'", installed.display().to_string().replace('%', "%%"));
    assert!(text.contains(&format!("\n    ProxyCommand {quoted} %n %p\n")), "{text}");
    assert_eq!(text, print_ssh_config(&installed), "the drop-in differs from the installed copy's own");
    (dropin, installed)
}

/// ssh with only `config`: the key and batch mode are the only options given.
fn ssh(config: &Path, sshd: &Sshd, destination: &str) -> Command {
    let mut command = Command::new("ssh");
    command
        .arg("-F")
        .arg(config)
        .arg("-i")
        .arg(sshd.client_key())
        .args(["-o", "IdentitiesOnly=yes", "-o", "BatchMode=yes", destination, "echo", "ok"])
        .stdin(Stdio::null());
    command
}

#[track_caller]
fn assert_echoed_ok(command: Command, sshd: &Sshd) {
    let description = format!("{command:?}");
    let output = run(command);
    assert!(
        output.status.success() && output.stdout == b"ok\n",
        "{description}: {}\n{}--- sshd log ---\n{}",
        output.status,
        both(&output),
        sshd.log()
    );
}

#[test]
fn login_through_installed_copy_with_only_the_dropin() {
    let dir = TempDir::new();
    let (dropin, _) = install_into(dir.path());
    let sshd = Sshd::start(dir.path());
    let socket = sshd.socket_path().display().to_string();
    for destination in [format!("{}@unix/{socket}", user()), format!("{}@unix%{socket}", user())] {
        assert_echoed_ok(ssh(&dropin, &sshd, &destination), &sshd);
    }
}

#[test]
fn dot_host_entry_reaches_the_local_sshd_socket() {
    let dir = TempDir::new();
    let (dropin, _) = install_into(dir.path());
    // A /run of our own in a private mount namespace holds the local sshd's socket.
    let run_dir = dir.join("run");
    let sshd = Sshd::start_at(dir.path(), &run_dir.join("ssh-unix-local/socket"));
    for host in [".host", "machine/.host"] {
        let inner = ssh(&dropin, &sshd, &format!("{}@{host}", user()));
        let mut command = Command::new("unshare");
        command
            .args(["--mount", "--propagation", "private", "--", "sh", "-c"])
            .arg(format!("mount --bind '{}' /run && exec \"$0\" \"$@\"", run_dir.display()))
            .arg(inner.get_program())
            .args(inner.get_args())
            .stdin(Stdio::null());
        assert_echoed_ok(command, &sshd);
    }
}

#[test]
fn alias_with_its_own_proxy_command_copies_files() {
    let dir = TempDir::new();
    let (dropin, installed) = install_into(dir.path());
    let sshd = Sshd::start(dir.path());
    // The man page's recipe for scp and rsync to a path: a name of its own,
    // whose host key is then checked under that name.
    let known_hosts = dir.join("known_hosts");
    let config = dir.join("config");
    let quoted = format!("'{}'", installed.display().to_string().replace('%', "%%"));
    fs::write(
        &config,
        format!(
            "Include {dropin}\n\nHost app\n    ProxyCommand {quoted} unix/{socket} %p\n    ProxyUseFdpass yes\n    \
             StrictHostKeyChecking accept-new\n    UserKnownHostsFile {known_hosts}\n",
            socket = sshd.socket_path().display(),
            known_hosts = known_hosts.display(),
            dropin = dropin.display(),
        ),
    )
    .unwrap();
    let local = dir.join("local.txt");
    let remote = dir.join("remote.txt");
    fs::write(&local, "through an alias\n").unwrap();
    let mut command = Command::new("scp");
    command
        .arg("-F")
        .arg(&config)
        .arg("-i")
        .arg(sshd.client_key())
        .args(["-q", "-o", "IdentitiesOnly=yes", "-o", "BatchMode=yes"])
        .arg(&local)
        .arg(format!("{}@app:{}", user(), remote.display()))
        .stdin(Stdio::null());
    let output = run(command);
    assert!(output.status.success(), "scp: {}\n{}--- sshd log ---\n{}", output.status, both(&output), sshd.log());
    assert_eq!(read(&remote), "through an alias\n");
    let hosts = read(&known_hosts);
    assert_eq!(hosts.lines().count(), 1, "{hosts}");
    assert!(hosts.starts_with("app ssh-ed25519 "), "{hosts}");
}

#[test]
fn the_path_keeps_the_case_it_was_typed_in() {
    let dir = TempDir::new();
    let (dropin, _) = install_into(dir.path());
    // ssh lowercases %h: with it, the proxy would reach the decoy at case/s.
    let sshd = Sshd::start_at(dir.path(), &dir.join("Case/s"));
    fs::create_dir_all(dir.join("case")).unwrap();
    let _decoy = std::os::unix::net::UnixListener::bind(dir.join("case/s")).unwrap();
    let destination = format!("{}@unix/{}", user(), sshd.socket_path().display());
    assert_echoed_ok(ssh(&dropin, &sshd, &destination), &sshd);
}

#[test]
fn control_master_sessions_go_through_the_dropin() {
    let dir = TempDir::new();
    let (dropin, _) = install_into(dir.path());
    let sshd = Sshd::start_at(dir.path(), &dir.join("Master/s"));
    let destination = format!("{}@unix%{}", user(), sshd.socket_path().display());
    let control_path = format!("ControlPath={}", dir.join("cm").display());
    let master = ["-o", "ControlMaster=auto", "-o", "ControlPersist=60", "-o", control_path.as_str()];
    let with_master = |control: &[&str]| {
        let mut command = Command::new("ssh");
        command.arg("-F").arg(&dropin).arg("-i").arg(sshd.client_key());
        command.args(["-o", "IdentitiesOnly=yes", "-o", "BatchMode=yes"]).args(master).args(control);
        command.args([destination.as_str(), "echo", "ok"]).stdin(Stdio::null());
        command
    };
    // The first session starts the master through the proxy, the second rides on it.
    assert_echoed_ok(with_master(&[]), &sshd);
    let check = run(with_master(&["-O", "check"]));
    assert_echoed_ok(with_master(&[]), &sshd);
    let stop = run(with_master(&["-O", "exit"]));
    assert!(check.status.success(), "no master after the first session: {}", both(&check));
    assert!(stop.status.success(), "ssh -O exit: {}", both(&stop));
}
