//! `machine/NAME` for a VM that machined knows without an AF_VSOCK CID, but
//! with an `sshAddress` in our own HOST grammar (systemd#41013): reached by
//! the code of that target, never through machined again.

use sockproxy_test_common::TempDir;

use crate::fake_machined::{FakeMachined, Reply};
use crate::machine_target::{command, run_with_vsock_faked};
use crate::support::{Listener, Outcome, assert_connected_to, rest_of_stream, run_fdpass};
use crate::vsock_mux::{Act, BANNER, FIRECRACKER_OK, FakeMux};

/// machined's reply for VM vm1 with `fields` after its class.
fn vm_reply(fields: &str) -> Reply {
    let json = format!(r#"{{"parameters":{{"name":"vm1","class":"vm","service":"qemu"{fields}}}}}"#);
    Reply::Raw([json.as_bytes(), b"\0"].concat())
}

/// `machine/vm1 22` (after `options`) against a system machined that answers `reply`.
fn run_with(reply: Reply, options: &[&str]) -> (Outcome, FakeMachined) {
    let run = TempDir::new();
    let machined = FakeMachined::start(run.path(), &[reply]);
    let args = [options, &["machine/vm1", "22"]].concat();
    (run_fdpass(command(run.path(), None, &[], &args)), machined)
}

fn json_string(text: &str) -> String {
    text.replace('\\', "\\\\").replace('"', "\\\"")
}

#[test]
fn unix_address_is_connected_to() {
    let dir = TempDir::new();
    let path = dir.join("ssh.sock");
    let listener = Listener::bind(&path);
    for address in [format!("unix/{}", path.display()), format!("unix%{}", path.display())] {
        // vSockCid absent, null or VMADDR_CID_ANY: no CID.
        for cid in ["", r#","vSockCid":null"#, r#","vSockCid":4294967295"#] {
            let reply = vm_reply(&format!(r#"{cid},"sshAddress":"{}""#, json_string(&address)));
            let (out, machined) = run_with(reply, &[]);
            assert_connected_to(out.assert_handoff(), &listener);
            assert_eq!(machined.requests().len(), 1, "machined is asked once");
        }
    }
}

#[test]
fn vsock_mux_address_does_the_handshake() {
    let mux = FakeMux::start(true, &[Act::Send(FIRECRACKER_OK), Act::Send(BANNER)]);
    let reply = vm_reply(&format!(r#","sshAddress":"{}""#, json_string(&mux.host('/'))));
    let (out, _machined) = run_with(reply, &[]);
    assert_eq!(rest_of_stream(&out), BANNER);
    assert_eq!(mux.finish(), b"CONNECT 22\n");
}

/// A vsock/ address goes to that CID and PORT (the connect faked by strace).
#[test]
fn vsock_address_is_connected_to_under_strace() {
    let run = TempDir::new();
    let _machined = FakeMachined::start(run.path(), &[vm_reply(r#","sshAddress":"vsock/4711""#)]);
    let (out, vsock) = run_with_vsock_faked(run.path(), &["machine/vm1", "2222"]);
    out.assert_failure("Machine vm1, at its sshAddress: Failed to connect to vsock:4711:2222: Connection refused\n");
    assert_eq!(vsock.len(), 1, "{vsock:?}");
    assert!(vsock[0].contains("svm_cid=0x1267, svm_port=0x8ae"), "{vsock:?}");
}

/// A CID that works wins over the sshAddress.
#[test]
fn a_cid_is_used_before_the_address() {
    let run = TempDir::new();
    let dir = TempDir::new();
    let path = dir.join("ssh.sock");
    let _listener = Listener::bind(&path);
    let reply =
        vm_reply(&format!(r#","vSockCid":4711,"sshAddress":"unix/{}""#, json_string(&path.display().to_string())));
    let _machined = FakeMachined::start(run.path(), &[reply]);
    let (out, vsock) = run_with_vsock_faked(run.path(), &["machine/vm1", "22"]);
    out.assert_failure("Failed to connect to vsock:4711:22: Connection refused\n");
    assert_eq!(vsock.len(), 1, "{vsock:?}");
}

#[test]
fn addresses_that_lead_back_to_machined_are_refused() {
    for address in ["machine/vm1", "machine%vm1", "machine/.host", ".host", "machine/other"] {
        let (out, machined) = run_with(vm_reply(&format!(r#","sshAddress":"{address}""#)), &[]);
        out.assert_failure(&format!(
            "Machine vm1 has sshAddress {address}, which would ask systemd-machined again \
             (machine/ and .host are refused there).\n"
        ));
        assert_eq!(machined.requests().len(), 1, "{address}: machined is asked once");
    }
}

#[test]
fn unparsable_and_overlong_addresses_are_refused() {
    let cases = [
        ("tcp/192.0.2.1", "Don't know how to parse host name specification: tcp/192.0.2.1"),
        ("vsock/any", "Cannot use VMADDR_CID_ANY to connect to a remote host."),
        ("unix/@", "Abstract AF_UNIX socket name is empty."),
        (r"unix/run/\u001b[2J", r"Failed to connect to AF_UNIX socket /run/\x1b[2J: No such file or directory"),
    ];
    for (address, reason) in cases {
        let (out, _machined) = run_with(vm_reply(&format!(r#","sshAddress":"{address}""#)), &[]);
        out.assert_failure(&format!("Machine vm1, at its sshAddress: {reason}\n"));
    }
    let long = format!("unix/{}", "a".repeat(600));
    let (out, _machined) = run_with(vm_reply(&format!(r#","sshAddress":"{long}""#)), &[]);
    out.assert_failure("Machine vm1 has an sshAddress longer than 512 bytes.\n");
}

/// `--wait` retries what would be retried for the address as HOST: a
/// socket that is not there yet.
#[test]
fn wait_retries_an_address_that_is_not_there_yet() {
    let run = TempDir::new();
    let dir = TempDir::new();
    let path = dir.join("ssh.sock");
    let reply = vm_reply(&format!(r#","sshAddress":"unix/{}""#, json_string(&path.display().to_string())));
    let _machined = FakeMachined::start(run.path(), &[reply]);
    let proxy = command(run.path(), None, &[], &["--wait", "--timeout=20", "machine/vm1", "22"]);
    let binder = std::thread::spawn(move || {
        std::thread::sleep(std::time::Duration::from_millis(700));
        Listener::bind(&path)
    });
    let out = run_fdpass(proxy);
    let listener = binder.join().unwrap();
    assert_connected_to(out.assert_handoff(), &listener);
}
