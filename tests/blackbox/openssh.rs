//! Acceptance tests: real ssh, scp and sftp reach a real sshd through the proxy's passed-back socket.

use std::fs;
use std::path::Path;
use std::process::Output;

use sockproxy_test_common::sshd::{Sshd, output_with_timeout, user};
use sockproxy_test_common::{TempDir, random_bytes};

use crate::fake_machined::{FakeMachined, Reply};
use crate::machine_target::CONTAINER;
use crate::mux_front::MuxFront;

pub const TIMEOUT_SECS: u64 = 60;

/// The ProxyCommand under test, as a user would put it in ssh_config.
pub fn proxy_command() -> String {
    format!("'{}' %h %p", crate::support::bin())
}

/// Panics unless `output` succeeded, showing ssh's and sshd's stderr.
pub fn assert_success(what: &str, output: &Output, sshd: &Sshd) {
    assert!(output.status.success(), "{what} failed: {}\n{}", output.status, diagnostics(output, sshd));
}

pub fn diagnostics(output: &Output, sshd: &Sshd) -> String {
    format!(
        "--- client stdout ---\n{}\n--- client stderr ---\n{}\n--- sshd log ---\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr),
        sshd.log()
    )
}

/// Runs `echo ok` over ssh to `destination` and checks the session worked.
fn ssh_echo(sshd: &Sshd, destination: &str) {
    ssh_echo_via(sshd, &proxy_command(), destination);
}

fn ssh_echo_via(sshd: &Sshd, proxy_command: &str, destination: &str) {
    let mut cmd = sshd.ssh(proxy_command, destination);
    cmd.args(["echo", "ok"]);
    let output = output_with_timeout(cmd, TIMEOUT_SECS);
    assert_success(&format!("ssh {destination} echo ok"), &output, sshd);
    assert_eq!(
        String::from_utf8_lossy(&output.stdout),
        "ok\n",
        "unexpected stdout from ssh {destination}\n{}",
        diagnostics(&output, sshd)
    );
}

/// Asserts two files are byte-for-byte identical without dumping a MiB into the message.
pub fn assert_same_file(expected: &[u8], path: &Path, what: &str, sshd: &Sshd) {
    let actual = fs::read(path).unwrap_or_else(|e| panic!("{what}: read {}: {e}\n{}", path.display(), sshd.log()));
    assert_eq!(actual.len(), expected.len(), "{what}: {} has the wrong length", path.display());
    if let Some(at) = actual.iter().zip(expected).position(|(a, b)| a != b) {
        panic!("{what}: {} differs from the original at byte {at}", path.display());
    }
}

// ~1 MiB, deliberately not a multiple of any buffer size.
const FILE_LEN: usize = (1 << 20) + 12_345;

#[test]
fn ssh_unix_slash_absolute_path() {
    let dir = TempDir::new();
    let sshd = Sshd::start(dir.path());
    // `unix/` + `/tmp/...` gives `unix//tmp/...`.
    ssh_echo(&sshd, &format!("{}@unix/{}", user(), sshd.socket_path().display()));
}

#[test]
fn ssh_unix_slash_path_without_leading_slash() {
    let dir = TempDir::new();
    let sshd = Sshd::start(dir.path());
    // `unix/tmp/...`: the proxy puts the leading `/` back.
    let path = sshd.socket_path().display().to_string();
    let path = path.strip_prefix('/').expect("absolute socket path");
    ssh_echo(&sshd, &format!("{}@unix/{path}", user()));
}

#[test]
fn ssh_unix_percent_separator() {
    let dir = TempDir::new();
    let sshd = Sshd::start(dir.path());
    ssh_echo(&sshd, &format!("{}@unix%{}", user(), sshd.socket_path().display()));
}

#[test]
fn ssh_runs_several_sessions_against_one_server() {
    let dir = TempDir::new();
    let sshd = Sshd::start(dir.path());
    let destination = format!("{}@unix%{}", user(), sshd.socket_path().display());
    for _ in 0..3 {
        ssh_echo(&sshd, &destination);
    }
}

#[test]
fn ssh_recovers_uppercase_socket_path() {
    let dir = TempDir::new();
    let socket = dir.path().join("VM-Sock").join("sshd.sock");
    let sshd = Sshd::start_at(dir.path(), &socket);
    // ssh lowercases the host before expanding %h; the proxy must find `VM-Sock` again.
    ssh_echo(&sshd, &format!("{}@unix/{}", user(), socket.display()));
    // A host containing `%` looks like a scoped IPv6 address to ssh, which then keeps its
    // case: this one must work without recovery.
    ssh_echo(&sshd, &format!("{}@unix%{}", user(), socket.display()));
}

/// Uploads and downloads a file with scp; `mode` is `-s` (SFTP protocol) or
/// `-O` (legacy scp). scp takes a host part containing `/` for a local path,
/// so the target goes in `HostName` behind an alias, with `%%` for `%`
/// (ssh expands `%` in HostName): `%h` in ProxyCommand becomes `target`.
fn scp_round_trip(sshd: &Sshd, dir: &Path, target: &str, mode: &str) {
    let original = random_bytes(FILE_LEN, 0x5eed_0001);
    let local = dir.join("local.bin");
    let remote = dir.join("remote.bin");
    let back = dir.join("back.bin");
    fs::write(&local, &original).unwrap();

    let hostname = format!("HostName={}", target.replace('%', "%%"));
    let user_option = format!("User={}", user());
    let upload = format!("sockhost:{}", remote.display());
    let options = ["-q", mode, "-o", &hostname, "-o", &user_option];

    let mut args = options.to_vec();
    args.extend([local.to_str().unwrap(), &upload]);
    let output = output_with_timeout(sshd.scp(&proxy_command(), &args), TIMEOUT_SECS);
    assert_success(&format!("scp {mode} upload to {target}"), &output, sshd);
    assert_same_file(&original, &remote, &format!("scp {mode} upload"), sshd);

    let mut args = options.to_vec();
    args.extend([upload.as_str(), back.to_str().unwrap()]);
    let output = output_with_timeout(sshd.scp(&proxy_command(), &args), TIMEOUT_SECS);
    assert_success(&format!("scp {mode} download from {target}"), &output, sshd);
    assert_same_file(&original, &back, &format!("scp {mode} download"), sshd);
}

/// Puts and gets a file with `sftp -b` through `destination`.
fn sftp_round_trip(sshd: &Sshd, dir: &Path, destination: &str) {
    let original = random_bytes(FILE_LEN, 0x5eed_0002);
    let local = dir.join("local.bin");
    let remote = dir.join("remote.bin");
    let back = dir.join("back.bin");
    fs::write(&local, &original).unwrap();

    let batch = dir.join("batch");
    fs::write(
        &batch,
        format!(
            "put \"{}\" \"{}\"\nget \"{}\" \"{}\"\n",
            local.display(),
            remote.display(),
            remote.display(),
            back.display()
        ),
    )
    .unwrap();

    let cmd = sshd.sftp(&proxy_command(), &["-q", "-b", batch.to_str().unwrap(), destination]);
    let output = output_with_timeout(cmd, TIMEOUT_SECS);
    assert_success(&format!("sftp -b put/get via {destination}"), &output, sshd);
    assert_same_file(&original, &remote, "sftp put", sshd);
    assert_same_file(&original, &back, "sftp get", sshd);
}

#[test]
fn scp_round_trip_sftp_protocol() {
    let dir = TempDir::new();
    let sshd = Sshd::start(dir.path());
    scp_round_trip(&sshd, dir.path(), &format!("unix%{}", sshd.socket_path().display()), "-s");
}

#[test]
fn scp_round_trip_legacy_protocol() {
    let dir = TempDir::new();
    let sshd = Sshd::start(dir.path());
    scp_round_trip(&sshd, dir.path(), &format!("unix%{}", sshd.socket_path().display()), "-O");
}

#[test]
fn sftp_batch_put_and_get() {
    let dir = TempDir::new();
    let sshd = Sshd::start(dir.path());
    sftp_round_trip(&sshd, dir.path(), &format!("{}@unix%{}", user(), sshd.socket_path().display()));
}

/// sshd behind a Firecracker-style multiplexer (`OK 1073741824`).
pub fn sshd_behind_mux(dir: &Path) -> (Sshd, MuxFront) {
    let sshd = Sshd::start(dir);
    let mux = MuxFront::start(&dir.join("vm.vsock"), sshd.socket_path());
    (sshd, mux)
}

#[test]
fn ssh_through_vsock_mux() {
    let dir = TempDir::new();
    let (sshd, mux) = sshd_behind_mux(dir.path());
    ssh_echo(&sshd, &format!("{}@vsock-mux/{}", user(), mux.path().display()));
    ssh_echo(&sshd, &format!("{}@vsock-mux%{}", user(), mux.path().display()));
}

#[test]
fn sftp_through_vsock_mux() {
    let dir = TempDir::new();
    let (sshd, mux) = sshd_behind_mux(dir.path());
    sftp_round_trip(&sshd, dir.path(), &format!("{}@vsock-mux%{}", user(), mux.path().display()));
}

#[test]
fn scp_through_vsock_mux() {
    let dir = TempDir::new();
    let (sshd, mux) = sshd_behind_mux(dir.path());
    scp_round_trip(&sshd, dir.path(), &format!("vsock-mux%{}", mux.path().display()), "-s");
}

#[test]
fn ssh_to_a_container_found_through_machined() {
    // The proxy runs with its own /run: a fake system machined and the
    // socket systemd-nspawn would export, with the test sshd behind it.
    let run = TempDir::new();
    let keys = TempDir::new();
    let sshd = Sshd::start_at(keys.path(), &run.path().join("systemd/nspawn/ct/unix-export/ssh"));
    let machined = FakeMachined::start(run.path(), &[Reply::Json(CONTAINER)]);
    ssh_echo_via(&sshd, &proxy_command_with_run(run.path()), &format!("{}@machine/ct", user()));
    assert_eq!(machined.requests().len(), 1);
}

/// The ProxyCommand in a private mount namespace whose /run is `run_dir`.
pub fn proxy_command_with_run(run_dir: &Path) -> String {
    format!(
        "unshare --mount --propagation private -- sh -c 'mount --bind {} /run && exec {} \"$0\" \"$1\"' %h %p",
        run_dir.display(),
        crate::support::bin()
    )
}
