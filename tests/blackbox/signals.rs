//! Signals as the parent left them: a mask that blocks every signal, SIGALRM
//! and SIGPIPE ignored, and readers of stdout or stderr that went away.
//! `--timeout` must still end a hang, and a write nobody reads must be an
//! error (exit 1), never death by SIGPIPE.

use std::os::fd::{FromRawFd, OwnedFd};
use std::os::unix::process::CommandExt;
use std::process::{Command, Stdio};
use std::time::Duration;

use sockproxy_test_common::TempDir;

use crate::support::{Listener, assert_connected_to, bin, run_bounded, run_fdpass, unix_host};
use crate::wait_timeout::FullBacklog;

/// What the parent leaves the proxy with.
#[derive(Clone, Copy, Debug)]
pub enum Inherited {
    /// Every signal blocked.
    AllBlocked,
    /// SIGALRM and SIGPIPE ignored.
    Ignored,
    Both,
}

/// Sets up `command` to start with `inherited` (std resets the mask and
/// SIGPIPE before the pre_exec hooks run, so this is what the proxy gets).
pub fn inherit(command: &mut Command, inherited: Inherited) -> &mut Command {
    // SAFETY: sigfillset, sigprocmask and signal are async-signal-safe and
    // touch only this child.
    unsafe {
        command.pre_exec(move || {
            if matches!(inherited, Inherited::AllBlocked | Inherited::Both) {
                let mut all: libc::sigset_t = std::mem::zeroed();
                libc::sigfillset(&mut all);
                if libc::sigprocmask(libc::SIG_SETMASK, &all, std::ptr::null_mut()) != 0 {
                    return Err(std::io::Error::last_os_error());
                }
            }
            if matches!(inherited, Inherited::Ignored | Inherited::Both) {
                libc::signal(libc::SIGALRM, libc::SIG_IGN);
                libc::signal(libc::SIGPIPE, libc::SIG_IGN);
            }
            Ok(())
        })
    }
}

const EVERY_INHERITANCE: [Inherited; 3] = [Inherited::AllBlocked, Inherited::Ignored, Inherited::Both];

#[test]
fn timeout_ends_a_hang_whatever_the_signal_mask() {
    let dir = TempDir::new();
    let sock = dir.join("full.sock");
    let _full = FullBacklog::bind(&sock);
    for inherited in EVERY_INHERITANCE {
        let mut command = Command::new(bin());
        command.args(["--timeout=1", &unix_host('/', &sock), "22"]);
        inherit(&mut command, inherited);
        run_fdpass(command).assert_failure("Timed out after 1 s connecting to the target (--timeout).\n");
    }
}

#[test]
fn hand_off_and_wait_whatever_the_signal_mask() {
    let dir = TempDir::new();
    let sock = dir.join("s.sock");
    let listener = Listener::bind(&sock);
    for inherited in EVERY_INHERITANCE {
        let mut command = Command::new(bin());
        command.args(["--wait=5", "--timeout=5", &unix_host('/', &sock), "22"]);
        inherit(&mut command, inherited);
        assert_connected_to(run_fdpass(command).assert_handoff(), &listener);
    }
}

/// A pipe whose read end is already closed.
pub fn widowed_pipe() -> OwnedFd {
    let mut fds = [0; 2];
    // SAFETY: pipe2 writes two new descriptors into `fds`.
    assert_eq!(unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) }, 0, "pipe2");
    // SAFETY: both are ours alone from here on.
    let (reader, writer) = unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) };
    drop(reader);
    writer
}

#[test]
fn failure_line_to_a_gone_stderr_is_exit_1() {
    let dir = TempDir::new();
    let missing = unix_host('/', &dir.join("missing.sock"));
    let (_ours, theirs) = std::os::unix::net::UnixStream::pair().unwrap();
    let theirs = OwnedFd::from(theirs);
    let mut command = Command::new(bin());
    command.args([&missing, "22"]).stdin(theirs.try_clone().unwrap()).stdout(theirs).stderr(widowed_pipe());
    let mut child = sockproxy_test_common::ChildGuard(Some(command.spawn().unwrap()));
    let status = child.wait_timeout(Duration::from_secs(20));
    assert_eq!(status.code(), Some(1), "{status:?}");
}

#[test]
fn printing_to_a_gone_stdout_is_exit_1_with_one_line() {
    for option in ["--help", "--version", "--print-ssh-config"] {
        for inherited in [None, Some(Inherited::AllBlocked)] {
            let mut command = Command::new(bin());
            command.arg(option).stdin(Stdio::null()).stdout(widowed_pipe());
            if let Some(inherited) = inherited {
                inherit(&mut command, inherited);
            }
            let (status, stderr) = run_bounded(command, Duration::from_secs(20));
            assert_eq!(
                (status.code(), stderr.as_str()),
                (Some(1), "Failed to write to standard output: Broken pipe\n"),
                "{option} {inherited:?}: {status:?}"
            );
        }
    }
}
