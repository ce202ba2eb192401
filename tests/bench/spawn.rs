//! posix_spawn of a command with given stdin and stdout, as a registered child that is killed and reaped on drop.

use std::ffi::{CString, OsStr, c_char};
use std::os::fd::RawFd;
use std::os::unix::ffi::OsStrExt;

use crate::cleanup;

unsafe extern "C" {
    static environ: *const *mut c_char;
}

/// An argument vector ready for exec: built before the clock starts.
pub struct Argv {
    _strings: Vec<CString>,
    pointers: Vec<*mut c_char>,
}

impl Argv {
    /// `args[0]` is the program's path (no PATH search).
    pub fn new<S: AsRef<OsStr>>(args: &[S]) -> Argv {
        let strings: Vec<CString> =
            args.iter().map(|a| CString::new(a.as_ref().as_bytes()).expect("argument without NUL")).collect();
        let mut pointers: Vec<*mut c_char> = strings.iter().map(|s| s.as_ptr().cast_mut()).collect();
        pointers.push(std::ptr::null_mut());
        Argv { _strings: strings, pointers }
    }

    pub fn program(&self) -> *const c_char {
        self.pointers[0]
    }

    pub fn as_ptr(&self) -> *const *mut c_char {
        self.pointers.as_ptr()
    }
}

/// The harness's environment, for execve.
pub fn environment() -> *const *mut c_char {
    // SAFETY: the C runtime's environ; the harness never changes its environment.
    unsafe { environ }
}

/// A child that has not been reaped yet.
pub struct Child {
    pid: libc::pid_t,
    group: bool,
    reaped: bool,
}

/// Starts `argv` with `stdin` and `stdout` as fds 0 and 1 (stderr inherited),
/// an empty signal mask and SIGPIPE at its default, as a shell would.
pub fn spawn(argv: &Argv, stdin: RawFd, stdout: RawFd) -> std::io::Result<Child> {
    spawn_in(argv, stdin, stdout, false)
}

/// `spawn`, leading a process group of its own when `group` (killed as a group).
pub fn spawn_in(argv: &Argv, stdin: RawFd, stdout: RawFd, group: bool) -> std::io::Result<Child> {
    // SAFETY: the attribute and file-action objects are initialised before use
    // and destroyed after; argv and environ are NULL-terminated arrays of C strings.
    let (rc, pid) = unsafe {
        let mut actions: libc::posix_spawn_file_actions_t = std::mem::zeroed();
        libc::posix_spawn_file_actions_init(&mut actions);
        libc::posix_spawn_file_actions_adddup2(&mut actions, stdin, 0);
        libc::posix_spawn_file_actions_adddup2(&mut actions, stdout, 1);
        let mut attr: libc::posix_spawnattr_t = std::mem::zeroed();
        libc::posix_spawnattr_init(&mut attr);
        let mut empty: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut empty);
        libc::posix_spawnattr_setsigmask(&mut attr, &empty);
        let mut defaults: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut defaults);
        libc::sigaddset(&mut defaults, libc::SIGPIPE);
        libc::posix_spawnattr_setsigdefault(&mut attr, &defaults);
        let mut flags = libc::POSIX_SPAWN_SETSIGMASK | libc::POSIX_SPAWN_SETSIGDEF;
        if group {
            flags |= libc::POSIX_SPAWN_SETPGROUP;
            libc::posix_spawnattr_setpgroup(&mut attr, 0);
        }
        libc::posix_spawnattr_setflags(&mut attr, flags as _);
        let mut pid = 0;
        let rc = libc::posix_spawn(&mut pid, argv.program(), &actions, &attr, argv.as_ptr(), environment());
        libc::posix_spawnattr_destroy(&mut attr);
        libc::posix_spawn_file_actions_destroy(&mut actions);
        (rc, pid)
    };
    if rc != 0 {
        return Err(std::io::Error::from_raw_os_error(rc));
    }
    cleanup::register(pid, group);
    Ok(Child { pid, group, reaped: false })
}

impl Child {
    /// Waits for the child and reaps it; returns its raw wait status.
    pub fn wait(&mut self) -> std::io::Result<libc::c_int> {
        cleanup::wait_exited(self.pid)?;
        cleanup::unregister(self.pid);
        let status = reap(self.pid)?;
        self.reaped = true;
        Ok(status)
    }
}

impl Drop for Child {
    fn drop(&mut self) {
        if !self.reaped {
            // SAFETY: kill has no memory-safety preconditions; the child is not reaped, so the PID is still its.
            unsafe { libc::kill(if self.group { -self.pid } else { self.pid }, libc::SIGKILL) };
            let _ = self.wait();
        }
    }
}

/// waitpid for an exited child, retried on EINTR.
pub fn reap(pid: libc::pid_t) -> std::io::Result<libc::c_int> {
    loop {
        let mut status = 0;
        // SAFETY: status is a valid out-parameter.
        if unsafe { libc::waitpid(pid, &mut status, 0) } == pid {
            return Ok(status);
        }
        let error = std::io::Error::last_os_error();
        if error.kind() != std::io::ErrorKind::Interrupted {
            return Err(error);
        }
    }
}

/// "exit 0", "exit 3", "signal 9": a wait status for messages; Ok only for exit 0.
pub fn check(status: libc::c_int, what: &str) -> Result<(), String> {
    if libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0 {
        Ok(())
    } else if libc::WIFEXITED(status) {
        Err(format!("{what} exited with status {}", libc::WEXITSTATUS(status)))
    } else {
        Err(format!("{what} ended with wait status {status:#x} (signal {})", libc::WTERMSIG(status)))
    }
}
