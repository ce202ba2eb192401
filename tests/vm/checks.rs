//! The checks, each a real ssh session against the booted guest: exit status and exact output.

use std::fs;
use std::process::Output;
use std::time::{Duration, Instant};

use crate::guest::{GUEST_HOSTNAME, Guest, GuestSsh, PROXY_COMMAND_WITH_STATUS};
use crate::support::TempDir;

/// What every check may use.
pub struct Context<'a> {
    pub guest: Guest<'a>,
    /// `uname -r` of the guest kernel.
    pub guest_release: &'a str,
    pub dir: &'a TempDir,
}

pub type Check = fn(&Context);

/// In order: the later ones run their ssh inside the guest, so they need the first to work.
/// Pending, for the issue that adds them: `--wait` while the host listener at
/// `VM.vsock_PORT` appears late, and relay mode (`GuestSsh { fdpass: false, .. }`).
pub const CHECKS: &[(&str, Check)] = &[
    ("host → guest: ssh vsock-mux/PATH", host_to_guest_slash),
    ("host → guest: ssh vsock-mux%PATH", host_to_guest_percent),
    ("host → guest: exit status and stderr come back", host_to_guest_status),
    ("host → guest: scp -s up and down, HostName=vsock-mux%%PATH", |cx| scp_round_trip(cx, "-s")),
    ("host → guest: scp -O up and down, HostName=vsock-mux%%PATH", |cx| scp_round_trip(cx, "-O")),
    ("guest → host: ssh vsock/2 to the host's sshd at VM.vsock_22", |cx| guest_to_host(cx, "vsock/2")),
    ("guest → host: ssh vsock/host", |cx| guest_to_host(cx, "vsock/host")),
    ("guest loopback: ssh vsock/1 to the guest's own sshd", |cx| guest_loopback(cx, "vsock/1")),
    ("guest loopback: ssh vsock/local", |cx| guest_loopback(cx, "vsock/local")),
    ("guest: closed port on the host times out", closed_host_port),
    ("guest: closed loopback port is reset", closed_loopback_port),
    ("guest: CID 4294967295 is refused", cid_any),
];

/// Exits with `status`, printing exactly `stdout` and `stderr`.
#[track_caller]
fn assert_output(what: &str, output: &Output, status: i32, stdout: &str, stderr: &str) {
    let text = |bytes: &[u8]| String::from_utf8_lossy(bytes).into_owned();
    let actual = (output.status.code(), text(&output.stdout), text(&output.stderr));
    assert_eq!(actual, (Some(status), stdout.into(), stderr.into()), "{what}: (exit status, stdout, stderr)");
}

fn host_to_guest(cx: &Context, separator: char) {
    let output = cx.guest.run_via(separator, "uname -r; hostname");
    let expected = format!("{}\n{GUEST_HOSTNAME}\n", cx.guest_release);
    assert_output(&format!("ssh {}", cx.guest.destination(separator)), &output, 0, &expected, "");
}

fn host_to_guest_slash(cx: &Context) {
    host_to_guest(cx, '/');
}

fn host_to_guest_percent(cx: &Context) {
    host_to_guest(cx, '%');
}

fn host_to_guest_status(cx: &Context) {
    let output = cx.guest.run("echo out; echo err >&2; exit 7");
    assert_output("ssh ... 'exit 7'", &output, 7, "out\n", "err\n");
}

/// Uploads a file into the guest and fetches it back, in scp's `mode` (`-s` SFTP, `-O` legacy).
fn scp_round_trip(cx: &Context, mode: &str) {
    let original = random_bytes((1 << 20) + 12_345, 0x5eed_0003);
    let local = cx.dir.join("scp-local.bin");
    let back = cx.dir.join("scp-back.bin");
    fs::write(&local, &original).expect("write local file");
    let remote = format!("vm:/tmp/scp{mode}.bin");

    let upload = cx.guest.scp(&[mode, local.to_str().unwrap(), &remote]);
    assert_output(&format!("scp {mode} upload"), &upload, 0, "", "");
    let size = cx.guest.run(&format!("wc -c < /tmp/scp{mode}.bin"));
    assert_output("size of the upload in the guest", &size, 0, &format!("{}\n", original.len()), "");

    let download = cx.guest.scp(&[mode, &remote, back.to_str().unwrap()]);
    assert_output(&format!("scp {mode} download"), &download, 0, "", "");
    let copy = fs::read(&back).expect("read the downloaded file");
    assert!(copy == original, "scp {mode}: the round trip changed the file ({} bytes back)", copy.len());
}

/// Our binary in the guest reaches the host's sshd over the guest kernel's AF_VSOCK.
fn guest_to_host(cx: &Context, target: &str) {
    let destination = format!("{}@{target}", crate::sshd::user());
    let ssh = GuestSsh::new(&destination, "cat /proc/sys/kernel/osrelease /proc/sys/kernel/hostname");
    let output = cx.guest.run(&ssh.command_line());
    let host = |key: &str| fs::read_to_string(format!("/proc/sys/kernel/{key}")).expect("read host kernel info");
    let expected = host("osrelease") + &host("hostname");
    assert_output(&format!("in the guest: ssh {destination}"), &output, 0, &expected, "");
}

fn guest_loopback(cx: &Context, target: &str) {
    let destination = format!("root@{target}");
    let ssh = GuestSsh::new(&destination, "hostname");
    let output = cx.guest.run(&ssh.command_line());
    assert_output(&format!("in the guest: ssh {destination}"), &output, 0, &format!("{GUEST_HOSTNAME}\n"), "");
}

/// Runs the proxy through ssh in the guest where it must fail; ssh exits 255 and,
/// with LogLevel QUIET, stderr holds only the proxy's line and its exit status.
fn guest_failure(cx: &Context, destination: &str, port: u32) -> (Output, Duration) {
    let ssh = GuestSsh {
        proxy_command: PROXY_COMMAND_WITH_STATUS,
        log_level: "QUIET",
        port,
        ..GuestSsh::new(destination, "true")
    };
    let started = Instant::now();
    let output = cx.guest.run(&ssh.command_line());
    (output, started.elapsed())
}

/// Nothing listens at VM.vsock_9999: vhost-device-vsock sends no reset, so the guest
/// kernel's 2 s connect timeout (VSOCK_DEFAULT_CONNECT_TIMEOUT) ends it.
fn closed_host_port(cx: &Context) {
    let (output, elapsed) = guest_failure(cx, "root@vsock/2", 9999);
    let stderr = "Failed to connect to vsock:2:9999: Connection timed out\nssh-sockproxy exited 1\n";
    assert_output("in the guest: ssh -p 9999 root@vsock/2", &output, 255, "", stderr);
    assert!(elapsed >= Duration::from_secs(2), "a timeout after only {elapsed:?}");
}

/// The loopback transport resets a connection to a port nobody listens on.
fn closed_loopback_port(cx: &Context) {
    let (output, _) = guest_failure(cx, "root@vsock/1", 9999);
    let stderr = "Failed to connect to vsock:1:9999: Connection reset by peer\nssh-sockproxy exited 1\n";
    assert_output("in the guest: ssh -p 9999 root@vsock/1", &output, 255, "", stderr);
}

fn cid_any(cx: &Context) {
    let (output, _) = guest_failure(cx, "root@vsock/4294967295", 22);
    let stderr = "Cannot use VMADDR_CID_ANY to connect to a remote host.\nssh-sockproxy exited 1\n";
    assert_output("in the guest: ssh root@vsock/4294967295", &output, 255, "", stderr);
}

/// Pseudo-random, incompressible test data (xorshift64), deterministic per `seed`.
fn random_bytes(len: usize, seed: u64) -> Vec<u8> {
    let mut state = seed | 1;
    let mut data = Vec::with_capacity(len + 8);
    while data.len() < len {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        data.extend_from_slice(&state.to_le_bytes());
    }
    data.truncate(len);
    data
}
