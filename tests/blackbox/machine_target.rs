//! `machine/NAME` against scripted machined instances. The system scope lives
//! under /run, so each run gets a private mount namespace whose /run is a
//! temporary directory; the user scope is XDG_RUNTIME_DIR.

use std::path::Path;
use std::process::Command;

use sockproxy_test_common::TempDir;

use crate::fake_machined::{FakeMachined, Reply};
use crate::support::{Listener, Outcome, assert_connected_to, bin, run_fdpass};
use crate::wait_timeout::FullBacklog;

const REQUEST_CT: &[u8] = br#"{"method":"io.systemd.Machine.List","parameters":{"name":"ct"}}"#;
pub const CONTAINER: &str =
    r#"{"parameters":{"name":"ct","class":"container","service":"systemd-nspawn","leader":{"pid":1},"netif":[2,3]}}"#;
const NO_SUCH: &str = r#"{"error":"io.systemd.Machine.NoSuchMachine","parameters":{}}"#;

/// The proxy (or `wrapper` around it, e.g. strace) in a mount namespace
/// whose /run is `run_dir`, with XDG_RUNTIME_DIR set to `xdg` or unset.
pub fn command(run_dir: &Path, xdg: Option<&Path>, wrapper: &[&str], args: &[&str]) -> Command {
    let mut command = Command::new("unshare");
    command
        .args(["--mount", "--propagation", "private", "--", "sh", "-c", "mount --bind \"$0\" /run && exec \"$@\""])
        .arg(run_dir)
        .args(wrapper)
        .arg(bin())
        .args(args);
    match xdg {
        Some(dir) => command.env("XDG_RUNTIME_DIR", dir),
        None => command.env_remove("XDG_RUNTIME_DIR"),
    };
    command
}

fn run_in(run_dir: &Path, xdg: Option<&Path>, args: &[&str]) -> Outcome {
    run_fdpass(command(run_dir, xdg, &[], args))
}

/// A listener where systemd-nspawn (262) exports the container's sshd.
pub fn nspawn_socket(run_dir: &Path, name: &str) -> Listener {
    let dir = run_dir.join(format!("systemd/nspawn/{name}/unix-export"));
    std::fs::create_dir_all(&dir).unwrap();
    Listener::bind_long(&dir.join("ssh"))
}

#[test]
fn container_in_the_system_scope() {
    let run = TempDir::new();
    let machined = FakeMachined::start(run.path(), &[Reply::Json(CONTAINER)]);
    let listener = nspawn_socket(run.path(), "ct");
    let out = run_in(run.path(), None, &["machine/ct", "22"]);
    assert_connected_to(out.assert_handoff(), &listener);
    assert_eq!(machined.requests(), vec![REQUEST_CT.to_vec()]);
}

#[test]
fn container_in_the_older_nspawn_layout() {
    let run = TempDir::new();
    let _machined = FakeMachined::start(run.path(), &[Reply::Json(CONTAINER)]);
    std::fs::create_dir_all(run.join("systemd/nspawn/unix-export/ct")).unwrap();
    let listener = Listener::bind(&run.join("systemd/nspawn/unix-export/ct/ssh"));
    let out = run_in(run.path(), None, &["machine%ct", "22"]);
    assert_connected_to(out.assert_handoff(), &listener);
}

#[test]
fn container_without_its_socket() {
    let run = TempDir::new();
    let _machined = FakeMachined::start(run.path(), &[Reply::Json(CONTAINER)]);
    run_in(run.path(), None, &["machine/ct", "22"]).assert_failure(
        "Failed to connect to AF_UNIX socket /run/systemd/nspawn/ct/unix-export/ssh: No such file or directory \
         (are sshd and systemd-ssh-generator installed and enabled in the container?)\n",
    );
}

#[test]
fn container_in_the_user_scope_uses_its_runtime_dir() {
    let run = TempDir::new();
    let user = TempDir::new();
    let _user_machined = FakeMachined::start(user.path(), &[Reply::Json(CONTAINER)]);
    let listener = nspawn_socket(user.path(), "ct");
    let out = run_in(run.path(), Some(user.path()), &["machine/ct", "22"]);
    assert_connected_to(out.assert_handoff(), &listener);
}

/// A relative XDG_RUNTIME_DIR whose machined and nspawn paths are both
/// longer than sun_path: asking machined must leave the working directory
/// where the container's path is then resolved from, with /proc and without.
#[test]
fn long_relative_runtime_dir() {
    let no_proc: &[&str] = &["sh", "-c", "mount -t tmpfs none /proc && exec \"$0\" \"$@\""];
    for wrapper in [&[][..], no_proc] {
        let run = TempDir::new();
        let base = TempDir::new();
        let relative = "r".repeat(80);
        let _machined = FakeMachined::start(&base.join(&relative), &[Reply::Json(CONTAINER)]);
        let listener = nspawn_socket(&base.join(&relative), "ct");
        let mut command = command(run.path(), Some(Path::new(&relative)), wrapper, &["machine/ct", "22"]);
        command.current_dir(base.path());
        assert_connected_to(run_fdpass(command).assert_handoff(), &listener);
    }
}

/// `machine/...` (`args`) in a namespace whose /run is `run`, under strace
/// with every connect after machined's faked as refused (one inject spec
/// for all of them), so that no real AF_VSOCK connect can happen; the
/// outcome and the trace's AF_VSOCK connects, each checked to be faked.
pub fn run_with_vsock_faked(run: &Path, args: &[&str]) -> (Outcome, Vec<String>) {
    let log = run.join("strace.log");
    let log_arg = log.to_str().unwrap();
    let wrapper = [
        "strace",
        "-f",
        "-qq",
        "-e",
        "trace=connect",
        "-e",
        "inject=connect:error=ECONNREFUSED:when=2+",
        "-o",
        log_arg,
    ];
    let out = run_fdpass(command(run, None, &wrapper, args));
    let trace = std::fs::read_to_string(&log).unwrap();
    let vsock: Vec<String> = trace.lines().filter(|l| l.contains("AF_VSOCK")).map(str::to_owned).collect();
    assert!(vsock.iter().all(|l| l.ends_with("(INJECTED)")), "an AF_VSOCK connect was not faked:\n{trace}");
    (out, vsock)
}

#[test]
fn vm_is_reached_by_its_cid() {
    let run = TempDir::new();
    let _machined = FakeMachined::start(
        run.path(),
        &[Reply::Json(r#"{"parameters":{"name":"vm1","class":"vm","service":"systemd-vmspawn","vSockCid":4711}}"#)],
    );
    let (out, vsock) = run_with_vsock_faked(run.path(), &["machine/vm1", "2222"]);
    out.assert_failure("Failed to connect to vsock:4711:2222: Connection refused\n");
    assert_eq!(vsock.len(), 1, "{vsock:?}");
    assert!(vsock[0].contains("svm_cid=0x1267, svm_port=0x8ae"), "{vsock:?}");
}

#[test]
fn vm_without_cid() {
    let run = TempDir::new();
    let _machined = FakeMachined::start(run.path(), &[Reply::Json(r#"{"parameters":{"class":"vm","vSockCid":null}}"#)]);
    run_in(run.path(), None, &["machine/vm1", "22"]).assert_failure("Machine vm1 has no AF_VSOCK CID assigned.\n");
}

/// machined's vSockCid by the rules of vsock/CID: 4294967295
/// (VMADDR_CID_ANY) is no CID assigned, as upstream reads it, and 0, 1 and 2
/// (the hypervisor, the local host, the host) are no VM's; neither gets a
/// socket. Under strace, with every connect after machined's faked, so that
/// even a binary that did connect could not reach a real AF_VSOCK peer.
#[test]
fn vm_cids_that_no_vm_has_are_refused() {
    let reserved = |cid: u32| format!("Machine vm1 has AF_VSOCK CID {cid}, a reserved CID that no VM has.\n");
    let cases = [
        (4294967295u32, "Machine vm1 has no AF_VSOCK CID assigned.\n".to_owned()),
        (0, reserved(0)),
        (1, reserved(1)),
        (2, reserved(2)),
    ];
    for (cid, message) in cases {
        let run = TempDir::new();
        let log = run.join("strace.log");
        let reply = format!(r#"{{"parameters":{{"name":"vm1","class":"vm","vSockCid":{cid}}}}}"#);
        let _machined = FakeMachined::start(run.path(), &[Reply::Raw([reply.as_bytes(), b"\0"].concat())]);
        let log_arg = log.to_str().unwrap();
        let wrapper = [
            "strace",
            "-f",
            "-qq",
            "-e",
            "trace=socket,connect",
            "-e",
            "inject=connect:error=ECONNREFUSED:when=2+",
            "-o",
            log_arg,
        ];
        run_fdpass(command(run.path(), None, &wrapper, &["machine/vm1", "22"])).assert_failure(&message);
        let trace = std::fs::read_to_string(&log).unwrap();
        assert!(!trace.contains("AF_VSOCK"), "CID {cid}: {trace}");
    }
}

#[test]
fn unknown_classes_and_services() {
    let run = TempDir::new();
    let _machined =
        FakeMachined::start(run.path(), &[Reply::Json(r#"{"parameters":{"class":"container","service":"docker"}}"#)]);
    run_in(run.path(), None, &["machine/c1", "22"])
        .assert_failure("Don't know how to SSH into machine c1 of class container, service docker\n");
}

#[test]
fn no_such_machine_for_the_user_then_found_by_the_system() {
    let run = TempDir::new();
    let user = TempDir::new();
    let user_machined = FakeMachined::start(user.path(), &[Reply::Json(NO_SUCH)]);
    let system_machined = FakeMachined::start(run.path(), &[Reply::Json(CONTAINER)]);
    let listener = nspawn_socket(run.path(), "ct");
    let out = run_in(run.path(), Some(user.path()), &["machine/ct", "22"]);
    assert_connected_to(out.assert_handoff(), &listener);
    assert_eq!(user_machined.requests(), vec![REQUEST_CT.to_vec()]);
    assert_eq!(system_machined.requests(), vec![REQUEST_CT.to_vec()]);
}

#[test]
fn unreachable_user_scope_falls_back_and_verbose_says_so() {
    let run = TempDir::new();
    let user = TempDir::new();
    let _machined = FakeMachined::start(run.path(), &[Reply::Json(CONTAINER)]);
    let listener = nspawn_socket(run.path(), "ct");
    let out = run_in(run.path(), Some(user.path()), &["-v", "machine/ct", "22"]);
    assert_eq!(
        out.stderr,
        "User scope systemd-machined: cannot reach systemd-machined: No such file or directory; asking the system scope.\n"
    );
    assert_eq!(out.code(), Some(0));
    assert_connected_to(out.fd.as_ref().expect("handed off"), &listener);
}

/// machined's socket with a full backlog, where `runtime_dir`'s instance lives.
fn wedged_machined(runtime_dir: &Path) -> FullBacklog {
    std::fs::create_dir_all(runtime_dir.join("systemd/machine")).unwrap();
    FullBacklog::bind(&runtime_dir.join("systemd/machine/io.systemd.Machine"))
}

/// A user instance that hangs with a full backlog: the 5 s bound covers the
/// connect too, and the system instance is asked next.
#[test]
fn wedged_user_scope_falls_back_to_the_system_scope() {
    let run = TempDir::new();
    let user = TempDir::new();
    let _wedged = wedged_machined(user.path());
    let _machined = FakeMachined::start(run.path(), &[Reply::Json(CONTAINER)]);
    let listener = nspawn_socket(run.path(), "ct");
    let out = run_in(run.path(), Some(user.path()), &["-v", "machine/ct", "22"]);
    assert_eq!(out.stderr, "User scope systemd-machined: no reply within 5 s; asking the system scope.\n");
    assert_eq!(out.code(), Some(0));
    assert_connected_to(out.fd.as_ref().expect("handed off"), &listener);
}

#[test]
fn wedged_machined_in_both_scopes_ends() {
    let run = TempDir::new();
    let user = TempDir::new();
    let _wedged_user = wedged_machined(user.path());
    let _wedged_system = wedged_machined(run.path());
    run_in(run.path(), Some(user.path()), &["machine/ct", "22"]).assert_failure(
        "Failed to look up machine ct: user scope: no reply within 5 s; system scope: no reply within 5 s\n",
    );
}

#[test]
fn both_scopes_fail() {
    let run = TempDir::new();
    let user = TempDir::new();
    let _user_machined = FakeMachined::start(user.path(), &[Reply::Json(NO_SUCH)]);
    run_in(run.path(), Some(user.path()), &["machine/ct", "22"]).assert_failure(
        "Failed to look up machine ct: user scope: no such machine; system scope: cannot reach systemd-machined: No such file or directory\n",
    );
}

#[test]
fn no_xdg_runtime_dir() {
    let run = TempDir::new();
    let _machined = FakeMachined::start(run.path(), &[Reply::Json(NO_SUCH)]);
    run_in(run.path(), None, &["machine/ct", "22"]).assert_failure(
        "Failed to look up machine ct: user scope: XDG_RUNTIME_DIR is not set; system scope: no such machine\n",
    );
}

/// Runs `machine/ct` against a system machined playing `script`; asserts the
/// system-scope part of the message.
#[track_caller]
fn assert_system_problem(script: &[Reply], problem: &str) {
    let run = TempDir::new();
    let _machined = FakeMachined::start(run.path(), script);
    run_in(run.path(), None, &["machine/ct", "22"]).assert_failure(&format!(
        "Failed to look up machine ct: user scope: XDG_RUNTIME_DIR is not set; system scope: {problem}\n"
    ));
}

#[test]
fn varlink_errors() {
    assert_system_problem(
        &[Reply::Json(r#"{"error":"io.systemd.System","parameters":{"errno":13,"errnoName":"EACCES"}}"#)],
        "Permission denied",
    );
    assert_system_problem(
        &[Reply::Json(r#"{"error":"org.varlink.service.MethodNotFound"}"#)],
        "org.varlink.service.MethodNotFound",
    );
    // A peer's text stays on one line.
    assert_system_problem(&[Reply::Json(r#"{"error":"x\nline\u001b[2J"}"#)], "x\\x0aline\\x1b[2J");
    assert_system_problem(
        &[Reply::Raw(b"{\"error\":\"x\nline\"}\0".to_vec())],
        "malformed reply: control byte in a string at byte 11",
    );
}

/// No errno has this number: it is shown as sent, not cut to i32::MAX.
#[test]
fn errno_beyond_every_errno_is_shown_as_sent() {
    assert_system_problem(
        &[Reply::Json(r#"{"error":"io.systemd.System","parameters":{"errno":4294967295}}"#)],
        "Unknown error 4294967295",
    );
}

/// A peer's text drives no terminal: C1 controls (U+009B is CSI, U+0085
/// NEL) in the error, class and service fields are escaped like C0 ones,
/// other text is not.
#[test]
fn c1_controls_from_machined_are_escaped() {
    assert_system_problem(&[Reply::Json(r#"{"error":"x\u009b[2J\u0085y\u00e9"}"#)], "x\\xc2\\x9b[2J\\xc2\\x85y\u{e9}");
    let run = TempDir::new();
    let _machined = FakeMachined::start(
        run.path(),
        &[Reply::Json(r#"{"parameters":{"class":"\u009b[31mvm","service":"x\u0080\u009fy"}}"#)],
    );
    run_in(run.path(), None, &["machine/c1", "22"]).assert_failure(
        "Don't know how to SSH into machine c1 of class \\xc2\\x9b[31mvm, service x\\xc2\\x80\\xc2\\x9fy\n",
    );
}

#[test]
fn malformed_replies() {
    assert_system_problem(
        &[Reply::Json(r#"{"parameters":{"class":"vm",}}"#)],
        "malformed reply: unexpected byte at byte 28",
    );
    assert_system_problem(&[Reply::Json(r#"[1]"#)], "malformed reply: unexpected byte at byte 0");
    assert_system_problem(
        &[Reply::Json(r#"{"parameters":{"vSockCid":-1}}"#)],
        "malformed reply: number out of range at byte 26",
    );
    let deep = format!(r#"{{"parameters":{{"x":{}1{}}}}}"#, "[".repeat(40), "]".repeat(40));
    assert_system_problem(
        &[Reply::Raw([deep.as_bytes(), b"\0"].concat())],
        "malformed reply: nested too deeply at byte 49",
    );
}

#[test]
fn oversized_reply() {
    let mut huge = br#"{"parameters":{"pad":""#.to_vec();
    huge.resize(70_000, b'x');
    assert_system_problem(&[Reply::Raw(huge)], "reply larger than 64 KiB");
}

#[test]
fn peer_closes_mid_reply() {
    assert_system_problem(
        &[Reply::Raw(br#"{"parameters":{"class":"#.to_vec())],
        "connection closed before the reply ended",
    );
}

#[test]
fn peer_never_answers() {
    assert_system_problem(&[Reply::Sleep(6000)], "no reply within 5 s");
}

#[test]
fn reply_dribbled_in_pieces() {
    let run = TempDir::new();
    let mut script = Vec::new();
    for chunk in CONTAINER.as_bytes().chunks(7) {
        script.push(Reply::Raw(chunk.to_vec()));
        script.push(Reply::Sleep(10));
    }
    script.push(Reply::Raw(b"\0".to_vec()));
    let _machined = FakeMachined::start(run.path(), &script);
    let listener = nspawn_socket(run.path(), "ct");
    assert_connected_to(run_in(run.path(), None, &["machine/ct", "22"]).assert_handoff(), &listener);
}

#[test]
fn invalid_names_are_refused_before_any_io() {
    let run = TempDir::new();
    let machined = FakeMachined::start(run.path(), &[Reply::Json(CONTAINER)]);
    for name in ["", ".", "..", "a_b", "a..b", "x/y", &"a".repeat(65)] {
        let host = format!("machine/{name}");
        run_in(run.path(), None, &[&host, "22"]).assert_failure(&format!("Invalid machine name: {name}\n"));
    }
    assert!(machined.requests().is_empty());
}

#[test]
fn dot_host_machine_is_the_local_sshd() {
    let run = TempDir::new();
    std::fs::create_dir(run.join("ssh-unix-local")).unwrap();
    let listener = Listener::bind(&run.join("ssh-unix-local/socket"));
    assert_connected_to(run_in(run.path(), None, &["machine/.host", "22"]).assert_handoff(), &listener);
}
