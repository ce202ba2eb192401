//! A real libssh client: ansible-pylibssh (libssh 0.12.0), which gives the
//! proxy a socketpair, cannot take a descriptor and writes its banner first,
//! logs in with the drop-in's plain line, no options: it must get a relay.

use std::process::{Command, Stdio};

use sockproxy_test_common::sshd::{Sshd, output_with_timeout, user};
use sockproxy_test_common::{ChildGuard, TempDir};

use crate::openssh::TIMEOUT_SECS;
use crate::paramiko::python;
use crate::support::bin;

const LOGINS: usize = 20;

fn logins_in_a_row(sshd: &Sshd) {
    let proxy = format!("{} unix/{} 22", bin(), sshd.socket_path().display());
    let mut client = Command::new(python());
    client
        .arg(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/paramiko/libssh_client.py"))
        .args([&proxy, &user()])
        .arg(sshd.client_key())
        .args(["echo through libssh", &LOGINS.to_string()]);
    let output = output_with_timeout(client, TIMEOUT_SECS * 5);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(0), "libssh: {stderr}\n--- sshd log ---\n{}", sshd.log());
    assert_eq!(String::from_utf8_lossy(&output.stdout), "through libssh\n".repeat(LOGINS), "{stderr}");
}

#[test]
fn libssh_logs_in_again_and_again_with_no_options() {
    let dir = TempDir::new();
    let sshd = Sshd::start(dir.path());
    logins_in_a_row(&sshd);
}

#[test]
fn libssh_logs_in_again_and_again_on_a_loaded_machine() {
    let dir = TempDir::new();
    let sshd = Sshd::start(dir.path());
    // Two busy loops, killed and reaped by PID when the guards drop.
    let _load: Vec<ChildGuard> = (0..2)
        .map(|_| {
            let busy = Command::new("sh")
                .args(["-c", "while :; do :; done"])
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .spawn()
                .expect("spawn a busy loop");
            ChildGuard(Some(busy))
        })
        .collect();
    logins_in_a_row(&sshd);
}
