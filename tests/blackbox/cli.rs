//! Arguments and host strings that fail before any socket is made.

use std::process::Command;

use crate::support::{bin, run};

#[test]
fn help_is_usage_and_ssh_config_on_stdout() {
    let out = Command::new(bin()).arg("--help").output().expect("run --help");
    assert_eq!(out.status.code(), Some(0));
    assert!(out.stderr.is_empty());
    let text = String::from_utf8(out.stdout).expect("utf-8 help");
    assert!(text.starts_with("Usage: ssh-sockproxy [OPTIONS] HOST PORT\n"), "{text}");
    for needle in ["unix/PATH", "vsock/CID", ".host", "ProxyCommand", "ProxyUseFdpass yes", "%n %p"] {
        assert!(text.contains(needle), "help lacks {needle:?}:\n{text}");
    }
}

#[test]
fn version_is_one_line_on_stdout() {
    let out = Command::new(bin()).arg("--version").output().expect("run --version");
    assert_eq!(out.status.code(), Some(0));
    assert!(out.stderr.is_empty());
    assert_eq!(String::from_utf8(out.stdout).unwrap(), format!("ssh-sockproxy {}\n", env!("CARGO_PKG_VERSION")));
}

#[test]
fn wrong_argument_counts() {
    for args in [&[][..], &["unix/x"], &["unix/x", "22", "extra"], &["--"]] {
        run(args).assert_failure("Expected two arguments: host and port.\n");
    }
}

#[test]
fn unknown_option() {
    run(&["--frob", "unix/x", "22"]).assert_failure("Unknown option: --frob (see --help)\n");
}

#[test]
fn unknown_host_specifications() {
    for host in ["example.com", "Unix/run/x", "tcp/127.0.0.1", "unixx/x", "vsock-mu/x", ".HOST", "", "unix:/run/x"] {
        run(&[host, "22"]).assert_failure(&format!("Don't know how to parse host name specification: {host}\n"));
    }
}

#[test]
fn control_bytes_in_host_stay_on_one_line() {
    run(&["evil\nline\x1b[2J", "22"])
        .assert_failure("Don't know how to parse host name specification: evil\\x0aline\\x1b[2J\n");
}

#[test]
fn vsock_cid_errors() {
    for cid in ["any", "-1", "4294967295"] {
        run(&[&format!("vsock/{cid}"), "22"])
            .assert_failure("Cannot use VMADDR_CID_ANY to connect to a remote host.\n");
    }
    for cid in ["", "0x10", "+3", "4294967296", "Host", "3 ", "3/4"] {
        run(&[&format!("vsock/{cid}"), "22"]).assert_failure(&format!("Failed to parse vsock cid: {cid}\n"));
    }
}

#[test]
fn vsock_port_errors() {
    for port in ["", "-1", "4294967295", "4294967296", "ssh", " 22", "0x16"] {
        run(&["vsock%3", port]).assert_failure(&format!("Failed to parse vsock port: {port}\n"));
    }
    run(&["vsock/3", "22\nFOO 1"]).assert_failure("Failed to parse vsock port: 22\\x0aFOO 1\n");
}

#[test]
fn abstract_name_errors() {
    run(&["unix/@", "22"]).assert_failure("Abstract AF_UNIX socket name is empty.\n");
    let long = "n".repeat(108);
    run(&[&format!("unix/@{long}"), "22"])
        .assert_failure(&format!("Abstract AF_UNIX socket name is longer than 107 bytes: @{long}\n"));
}
