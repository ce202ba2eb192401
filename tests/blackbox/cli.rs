//! Arguments and host strings that fail before any socket is made.

use std::ffi::CString;
use std::os::fd::AsRawFd;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::process::CommandExt;
use std::process::Command;

use sockproxy_test_common::TempDir;

use crate::support::{bin, run};

#[test]
fn help_is_usage_and_ssh_config_on_stdout() {
    let out = Command::new(bin()).arg("--help").output().expect("run --help");
    assert_eq!(out.status.code(), Some(0));
    assert!(out.stderr.is_empty());
    let text = String::from_utf8(out.stdout).expect("utf-8 help");
    assert!(text.starts_with("Usage: ssh-sockproxy [OPTIONS] HOST PORT\n"), "{text}");
    for needle in ["unix/PATH", "vsock/CID", ".host", "ProxyCommand", "ProxyUseFdpass yes", "%h %p"] {
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

/// A binary deleted or replaced (an upgrade) while it runs has no path left
/// to put in the drop-in: --print-ssh-config refuses with one line instead
/// of writing `'/path (deleted)'`. The copy is run from a descriptor of its
/// file after that file was removed (execveat), so it is gone before it starts.
#[test]
fn print_ssh_config_from_a_deleted_binary_is_refused() {
    for replaced in [false, true] {
        let dir = TempDir::new();
        let copy = dir.join("ssh-sockproxy");
        std::fs::copy(bin(), &copy).unwrap();
        let file = std::fs::File::open(&copy).unwrap();
        std::fs::remove_file(&copy).unwrap();
        if replaced {
            std::fs::copy(bin(), &copy).unwrap();
        }
        let argv0 = CString::new(copy.as_os_str().as_bytes()).unwrap();
        let fd = file.as_raw_fd();
        let mut command = Command::new("/nonexistent");
        // SAFETY: execveat only reads the strings, alive in the child's copy
        // of memory; on success it never returns.
        unsafe {
            command.pre_exec(move || {
                let argv = [argv0.as_ptr(), c"--print-ssh-config".as_ptr(), std::ptr::null()];
                let envp = [std::ptr::null::<libc::c_char>()];
                libc::syscall(libc::SYS_execveat, fd, c"".as_ptr(), argv.as_ptr(), envp.as_ptr(), libc::AT_EMPTY_PATH);
                Err(std::io::Error::last_os_error())
            });
        }
        let out = command.output().expect("run the deleted copy");
        assert_eq!(
            (out.status.code(), String::from_utf8_lossy(&out.stderr).as_ref(), out.stdout.as_slice()),
            (
                Some(1),
                "Failed to find the path of this binary: its file was deleted or replaced while it ran; run it again\n",
                &b""[..]
            ),
            "replaced: {replaced}"
        );
        drop(file);
    }
}
