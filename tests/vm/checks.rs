//! The checks, each a real ssh session against the booted guest: exit status and exact output.

use std::fs;
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};
use std::process::Output;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use sockproxy_test_common::sshd::{output_with_timeout, user};
use sockproxy_test_common::{TempDir, random_bytes};

use crate::guest::{GUEST_HOSTNAME, Guest, GuestSsh, PROXY_COMMAND_WITH_STATUS, SESSION_SECS};
use crate::machine::{NOTIFY_PORT, host_port_path};

/// What every check may use.
pub struct Context<'a> {
    pub guest: Guest<'a>,
    /// `uname -r` of the guest kernel.
    pub guest_release: &'a str,
    pub dir: &'a TempDir,
    /// What the guest's ssh-sockserve sent to NOTIFY_SOCKET=vsock-stream:2:9000, to its end.
    pub ready_message: &'a [u8],
    /// The host's `ssh-sockproxy --wait vsock-mux/…` login started before the guest's vsock::22 was bound.
    pub late_login: &'a Result<Output, String>,
}

pub type Check = fn(&Context);

/// In order: the later ones run their ssh inside the guest, so they need the first to work.
pub const CHECKS: &[(&str, Check)] = &[
    ("host → guest: --wait logs in once the late vsock::22 is bound", late_vsock),
    ("readiness: READY=1 over vsock-stream:2:9000 at VM.vsock_9000", readiness),
    ("guest: no socat; ssh unix/run/ssh-unix-local/socket, ssh-sockserve's other listener", guest_unix_listener),
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
    ("guest → host: --wait until the host listens at VM.vsock_2222", wait_for_late_host_listener),
    ("host → guest: relay (ProxyUseFdpass no) through vsock-mux/", host_to_guest_relay),
    ("guest → host: relay (ProxyUseFdpass no) over vsock/2", guest_to_host_relay),
    ("guest loopback: relay (ProxyUseFdpass no) over vsock/1", guest_loopback_relay),
];

/// Exits with `status`, printing exactly `stdout` and `stderr`.
#[track_caller]
fn assert_output(what: &str, output: &Output, status: i32, stdout: &str, stderr: &str) {
    let text = |bytes: &[u8]| String::from_utf8_lossy(bytes).into_owned();
    let actual = (output.status.code(), text(&output.stdout), text(&output.stderr));
    assert_eq!(actual, (Some(status), stdout.into(), stderr.into()), "{what}: (exit status, stdout, stderr)");
}

/// ssh-sockserve started before the vsock modules were loaded: with -v it said once that vsock::22 was
/// not there yet and once that it listens; the login started before that got in.
fn late_vsock(cx: &Context) {
    let login = cx.late_login.as_ref().expect("the late login");
    let what = "ssh -o ProxyCommand='ssh-sockproxy -v --wait=120 %h %p' vsock-mux/PATH";
    let stderr = String::from_utf8_lossy(&login.stderr);
    assert_eq!(
        (login.status.code(), String::from_utf8_lossy(&login.stdout).as_ref()),
        (Some(0), "logged in late\n"),
        "{what}: stderr {stderr:?}"
    );
    let log = cx.guest.run("cat /run/sshd.log");
    assert_eq!(log.status.code(), Some(0), "cat /run/sshd.log in the guest");
    let log = String::from_utf8_lossy(&log.stdout);
    let not_yet = "Cannot listen on vsock::22 yet (Address family not supported by protocol); \
                   serving the other addresses and trying again.";
    let late_notes = ["Cannot listen on ", "Listening on "];
    let notes: Vec<&str> = log.lines().filter(|line| late_notes.iter().any(|note| line.starts_with(note))).collect();
    assert_eq!(notes, [not_yet, "Listening on vsock::22 now."], "ssh-sockserve's notes in /run/sshd.log:\n{log}");
    let from_host = "vsock::22: connection from vsock:2:";
    assert!(log.lines().any(|line| line.starts_with(from_host)), "no {from_host:?} in /run/sshd.log:\n{log}");
}

/// The VMM side of readiness: the backend handed the guest's stream to CID 2 port 9000 to the host's listener
/// at VM.vsock_9000, and it carried READY=1 and nothing else.
fn readiness(cx: &Context) {
    let what = format!("what arrived at VM.vsock_{NOTIFY_PORT}");
    assert_eq!(String::from_utf8_lossy(cx.ready_message), "READY=1", "{what}");
}

fn guest_unix_listener(cx: &Context) {
    let ssh = GuestSsh::new("root@unix/run/ssh-unix-local/socket", "hostname");
    let output = cx.guest.run(&format!("if command -v socat; then exit 1; fi; {}", ssh.command_line()));
    let what = "in the guest: no socat, then ssh root@unix/run/ssh-unix-local/socket";
    assert_output(what, &output, 0, &format!("{GUEST_HOSTNAME}\n"), "");
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
    let destination = format!("{}@{target}", user());
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

/// From now on, the host's sshd is reachable from the guest at CID 2 port 2222: the one
/// connection to `VM.vsock_2222` is forwarded to the sshd.
fn forward_from_now(listen_at: PathBuf, sshd: &Path) -> JoinHandle<usize> {
    let listener = UnixListener::bind(&listen_at).expect("bind VM.vsock_2222");
    let sshd = sshd.to_path_buf();
    std::thread::spawn(move || {
        let (guest, _) = listener.accept().expect("accept the guest's connection");
        let server = UnixStream::connect(&sshd).expect("connect the host sshd");
        let (guest2, server2) = (guest.try_clone().unwrap(), server.try_clone().unwrap());
        let up = std::thread::spawn(move || copy_then_shutdown(guest2, server2));
        copy_then_shutdown(server, guest);
        let _ = up.join();
        drop(listener);
        let _ = fs::remove_file(&listen_at);
        1
    })
}

fn copy_then_shutdown(mut from: UnixStream, mut to: UnixStream) {
    let _ = std::io::copy(&mut from, &mut to);
    let _ = to.shutdown(std::net::Shutdown::Write);
}

/// The guest's first tries find no listener (vhost-device-vsock sends no reset,
/// so each ends in the guest kernel's 2 s ETIMEDOUT); `--wait` keeps trying. The
/// waiting ssh runs in a session of its own with its stderr in a file, and the
/// host listens only once that file shows a retry, however slowly the guest runs.
fn wait_for_late_host_listener(cx: &Context) {
    const ERRORS: &str = "/tmp/wait-stderr";
    let retry = "Not there yet, retrying: Failed to connect to vsock:2:2222: Connection timed out";
    let destination = format!("{}@vsock/2", user());
    let ssh = GuestSsh {
        proxy_command: "/bin/ssh-sockproxy -v --wait=60 %h %p",
        port: 2222,
        ..GuestSsh::new(&destination, "echo waited")
    };
    let waiting = format!("{} 2>{ERRORS}; status=$?; cat {ERRORS} >&2; exit $status", ssh.command_line());
    let (output, forwarder) = std::thread::scope(|scope| {
        let session = scope.spawn(|| cx.guest.run(&waiting));
        let deadline = Instant::now() + Duration::from_secs(SESSION_SECS);
        while !String::from_utf8_lossy(&cx.guest.run(&format!("cat {ERRORS} 2>/dev/null")).stdout).contains(retry) {
            assert!(!session.is_finished() && Instant::now() < deadline, "in the guest: no retry of ssh --wait");
            std::thread::sleep(Duration::from_millis(200));
        }
        let forwarder = forward_from_now(host_port_path(cx.dir.path(), 2222), cx.guest.sshd.socket_path());
        (session.join().expect("the waiting session"), forwarder)
    });
    let what = format!("in the guest: ssh --wait {destination}");
    assert_eq!(
        (output.status.code(), String::from_utf8_lossy(&output.stdout).as_ref()),
        (Some(0), "waited\n"),
        "{what}"
    );
    // -v: one line per retry, each naming the guest kernel's timeout.
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!stderr.is_empty() && stderr.lines().all(|line| line == retry), "{what}: stderr {stderr:?}");
    assert_eq!(forwarder.join().expect("forwarder"), 1);
}

fn host_to_guest_relay(cx: &Context) {
    let mut ssh = cx.guest.sshd.ssh_without_fdpass(&cx.guest.proxy_command(), &cx.guest.destination('%'));
    ssh.arg("echo relayed; hostname; echo err >&2; exit 4");
    let output = output_with_timeout(ssh, SESSION_SECS);
    assert_output(
        "ssh -o ProxyUseFdpass=no vsock-mux%PATH",
        &output,
        4,
        &format!("relayed\n{GUEST_HOSTNAME}\n"),
        "err\n",
    );
}

fn guest_to_host_relay(cx: &Context) {
    let destination = format!("{}@vsock/2", user());
    let ssh = GuestSsh { fdpass: false, ..GuestSsh::new(&destination, "echo relayed from the guest") };
    let output = cx.guest.run(&ssh.command_line());
    assert_output(
        &format!("in the guest: ssh -o ProxyUseFdpass=no {destination}"),
        &output,
        0,
        "relayed from the guest\n",
        "",
    );
}

fn guest_loopback_relay(cx: &Context) {
    let ssh = GuestSsh { fdpass: false, ..GuestSsh::new("root@vsock/1", "hostname") };
    let output = cx.guest.run(&ssh.command_line());
    assert_output(
        "in the guest: ssh -o ProxyUseFdpass=no root@vsock/1",
        &output,
        0,
        &format!("{GUEST_HOSTNAME}\n"),
        "",
    );
}
