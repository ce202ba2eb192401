//! Real ssh with `ProxyUseFdpass no`: ssh gives the proxy two pipes and the
//! proxy relays the whole session, for every target kind that can reach the
//! test sshd.

use std::fs;
use std::path::Path;

use sockproxy_test_common::sshd::{Sshd, output_with_timeout, user};
use sockproxy_test_common::{TempDir, random_bytes};

use crate::fake_machined::{FakeMachined, Reply};
use crate::machine_target::CONTAINER;
use crate::openssh::{
    TIMEOUT_SECS, assert_same_file, assert_success, diagnostics, proxy_command, proxy_command_with_run, sshd_behind_mux,
};

/// Not a multiple of any pipe, splice or buffer size.
const BIG_LEN: usize = (64 << 20) + 4_321;

fn ssh_relayed(sshd: &Sshd, proxy: &str, destination: &str, command: &str) -> std::process::Command {
    let mut cmd = sshd.ssh_without_fdpass(proxy, destination);
    cmd.arg(command);
    cmd
}

/// A command, then 64 MiB up and the same back, all through the relay.
fn relay_session(sshd: &Sshd, dir: &Path, proxy: &str, destination: &str) {
    let output =
        output_with_timeout(ssh_relayed(sshd, proxy, destination, "echo relayed; echo err >&2; exit 3"), TIMEOUT_SECS);
    assert_eq!(output.status.code(), Some(3), "exit status through the relay\n{}", diagnostics(&output, sshd));
    assert_eq!(String::from_utf8_lossy(&output.stdout), "relayed\n", "{}", diagnostics(&output, sshd));
    assert!(String::from_utf8_lossy(&output.stderr).contains("err\n"), "{}", diagnostics(&output, sshd));

    let original = random_bytes(BIG_LEN, 0x5eed_0064);
    let local = dir.join("big.bin");
    let remote = dir.join("big-remote.bin");
    fs::write(&local, &original).unwrap();
    let mut upload = ssh_relayed(sshd, proxy, destination, &format!("cat > '{}'", remote.display()));
    upload.stdin(fs::File::open(&local).unwrap());
    let output = output_with_timeout(upload, TIMEOUT_SECS);
    assert_success(&format!("64 MiB upload to {destination}"), &output, sshd);
    assert_same_file(&original, &remote, "upload through the relay", sshd);

    let download = ssh_relayed(sshd, proxy, destination, &format!("cat '{}'", remote.display()));
    let output = output_with_timeout(download, TIMEOUT_SECS);
    assert_success(&format!("64 MiB download from {destination}"), &output, sshd);
    assert_eq!(output.stdout.len(), original.len(), "download through the relay has the wrong length");
    assert!(output.stdout == original, "download through the relay differs from the upload");
}

#[test]
fn ssh_without_fdpass_relays_unix() {
    let dir = TempDir::new();
    let sshd = Sshd::start(dir.path());
    let destination = format!("{}@unix/{}", user(), sshd.socket_path().display());
    relay_session(&sshd, dir.path(), &proxy_command(), &destination);
}

#[test]
fn ssh_without_fdpass_relays_vsock_mux() {
    let dir = TempDir::new();
    let (sshd, mux) = sshd_behind_mux(dir.path());
    let destination = format!("{}@vsock-mux%{}", user(), mux.path().display());
    relay_session(&sshd, dir.path(), &proxy_command(), &destination);
}

#[test]
fn ssh_without_fdpass_relays_machine() {
    let run = TempDir::new();
    let keys = TempDir::new();
    let sshd = Sshd::start_at(keys.path(), &run.path().join("systemd/nspawn/ct/unix-export/ssh"));
    let _machined = FakeMachined::start(run.path(), &[Reply::Json(CONTAINER)]);
    let destination = format!("{}@machine/ct", user());
    relay_session(&sshd, keys.path(), &proxy_command_with_run(run.path()), &destination);
}
