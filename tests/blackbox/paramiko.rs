//! A real client without fd passing: Paramiko (Ansible's and Fabric's SSH
//! transport) runs the proxy with pipes through `paramiko.ProxyCommand`, so
//! the whole session goes through the relay.

use std::path::PathBuf;
use std::process::Command;

use sockproxy_test_common::TempDir;
use sockproxy_test_common::sshd::{Sshd, output_with_timeout, user};

use crate::openssh::TIMEOUT_SECS;
use crate::support::bin;

/// The venv that `make paramiko` (part of `make test`) builds from
/// tests/paramiko/requirements.txt (Paramiko and ansible-pylibssh), or
/// `SSH_SOCKPROXY_PARAMIKO_PYTHON`.
pub fn python() -> PathBuf {
    let python = std::env::var_os("SSH_SOCKPROXY_PARAMIKO_PYTHON")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/paramiko/bin/python3"));
    assert!(
        python.exists(),
        "{} not found: run `make paramiko` (make test does) to install Paramiko and ansible-pylibssh",
        python.display()
    );
    python
}

fn paramiko_client(proxy_command: &str, sshd: &Sshd, command: &str) -> Command {
    let mut cmd = Command::new(python());
    cmd.arg(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/paramiko/client.py"))
        .args([proxy_command, &user()])
        .arg(sshd.client_key())
        .arg(command);
    cmd
}

#[test]
fn paramiko_runs_a_command_through_the_relay() {
    let dir = TempDir::new();
    let sshd = Sshd::start(dir.path());
    let proxy = format!("{} unix/{} 22", bin(), sshd.socket_path().display());
    let output = output_with_timeout(paramiko_client(&proxy, &sshd, "echo through paramiko; exit 5"), TIMEOUT_SECS);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(5), "paramiko: {stderr}\n--- sshd log ---\n{}", sshd.log());
    assert_eq!(String::from_utf8_lossy(&output.stdout), "through paramiko\n", "{stderr}");
}

#[test]
fn paramiko_fails_cleanly_on_a_missing_target() {
    let dir = TempDir::new();
    let sshd = Sshd::start(dir.path());
    let missing = dir.join("missing.sock");
    let proxy = format!("{} unix/{} 22", bin(), missing.display());
    let mut client = paramiko_client(&proxy, &sshd, "true");
    // Paramiko's ProxyCommand keeps reading after the proxy's EOF until its
    // timeout when its first write beat the proxy's exit: keep that short.
    client.arg("5");
    let output = output_with_timeout(client, TIMEOUT_SECS);
    // Paramiko keeps the proxy's stderr to itself; whichever step of its
    // connect saw the proxy gone raised, and the client script's last line
    // says so (after Paramiko's own traceback, which varies with the step).
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(stderr.lines().last().is_some_and(|line| line.starts_with("paramiko failed: ")), "{stderr}");
}
