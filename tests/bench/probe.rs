//! Untimed looks at one start-up: its syscalls (strace -f on the command alone) and its peak RSS and mapped files (ptrace exit stop).

use std::collections::BTreeSet;
use std::ffi::OsString;
use std::os::fd::RawFd;
use std::path::{Path, PathBuf};

use crate::cleanup;
use crate::handoff::{self, Proc, Style};
use crate::spawn::{self, Argv};

/// The syscalls of one run, in order, from the command's execve to its exit_group.
pub struct Syscalls(pub Vec<String>);

/// Runs the command under `strace -f -o FILE` (which traces only the command,
/// from its execve on, not the harness) and reads every call from the trace.
/// `strace -c` would leave out exit_group, which never returns; this counts it.
pub fn syscalls(strace: &Path, style: Style, argv: &[OsString], trace: &Path) -> Result<Syscalls, String> {
    let mut wrapped: Vec<OsString> =
        vec![strace.into(), "-f".into(), "-qq".into(), "-o".into(), trace.into(), "--".into()];
    wrapped.extend(argv.iter().cloned());
    let wrapped = Argv::new(&wrapped);
    handoff::play(style, |stdin, stdout| spawn::spawn(&wrapped, stdin, stdout))?;
    let text = std::fs::read_to_string(trace).map_err(|e| format!("read {}: {e}", trace.display()))?;
    let _ = std::fs::remove_file(trace);
    Ok(Syscalls(text.lines().filter_map(syscall_name).map(str::to_string).collect()))
}

/// The call a trace line starts, if it starts one: `PID name(...` or
/// `PID name(... <unfinished ...>`; not `<... name resumed>`, signals or exits.
fn syscall_name(line: &str) -> Option<&str> {
    let rest = match line.split_once(' ') {
        Some((pid, rest)) if pid.bytes().all(|b| b.is_ascii_digit()) => rest.trim_start(),
        _ => line,
    };
    let name = rest.split('(').next()?;
    (!name.is_empty() && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')).then_some(name)
}

impl Syscalls {
    pub fn count(&self) -> usize {
        self.0.len()
    }

    /// `execve arch_prctl ... exit_group`.
    pub fn sequence(&self) -> String {
        self.0.join(" ")
    }
}

/// What the kernel still knew about the command when it stopped on its way out.
pub struct Memory {
    /// VmHWM: the peak resident set, in kB.
    pub peak_rss_kb: u64,
    /// Bytes of every distinct file it had mapped (the binary, shared libraries, locales).
    pub mapped_bytes: u64,
    pub mapped_files: usize,
}

/// Runs the command once under ptrace, stopped at exit (PTRACE_O_TRACEEXIT)
/// before its memory is released, and reads /proc/PID/status and maps there.
pub fn memory(style: Style, argv: &[OsString]) -> Result<Memory, String> {
    let argv = Argv::new(argv);
    let (_, mut traced) = handoff::play(style, |stdin, stdout| Traced::launch(&argv, stdin, stdout))?;
    traced.memory.take().ok_or_else(|| "no exit stop seen".to_string())
}

struct Traced {
    pid: libc::pid_t,
    reaped: bool,
    memory: Option<Memory>,
}

impl Traced {
    fn launch(argv: &Argv, stdin: RawFd, stdout: RawFd) -> std::io::Result<Traced> {
        let environment = spawn::environment();
        // SAFETY: the child calls only async-signal-safe functions (ptrace,
        // dup2, sigprocmask, signal, execve, _exit) on memory prepared before fork.
        let pid = unsafe {
            let mut empty: libc::sigset_t = std::mem::zeroed();
            libc::sigemptyset(&mut empty);
            let pid = libc::fork();
            if pid == 0 {
                libc::ptrace(libc::PTRACE_TRACEME, 0, 0, 0);
                libc::dup2(stdin, 0);
                libc::dup2(stdout, 1);
                libc::sigprocmask(libc::SIG_SETMASK, &empty, std::ptr::null_mut());
                libc::signal(libc::SIGPIPE, libc::SIG_DFL);
                libc::execve(argv.program(), argv.as_ptr().cast(), environment.cast());
                libc::_exit(127);
            }
            pid
        };
        if pid < 0 {
            return Err(std::io::Error::last_os_error());
        }
        cleanup::register(pid, false);
        let mut traced = Traced { pid, reaped: false, memory: None };
        // The first stop is the SIGTRAP after execve.
        let status = traced.next_stop()?;
        if !libc::WIFSTOPPED(status) {
            traced.reaped = true;
            return Err(std::io::Error::other(format!("exec failed (wait status {status:#x})")));
        }
        // SAFETY: ptrace requests on our stopped tracee.
        unsafe {
            libc::ptrace(libc::PTRACE_SETOPTIONS, pid, 0, libc::PTRACE_O_TRACEEXIT | libc::PTRACE_O_EXITKILL);
            libc::ptrace(libc::PTRACE_CONT, pid, 0, 0);
        }
        Ok(traced)
    }

    /// waitpid for the next stop or the end; reaps and unregisters at the end.
    fn next_stop(&mut self) -> std::io::Result<libc::c_int> {
        let mut status = 0;
        // SAFETY: status is a valid out-parameter.
        while unsafe { libc::waitpid(self.pid, &mut status, libc::__WALL) } != self.pid {
            let error = std::io::Error::last_os_error();
            if error.kind() != std::io::ErrorKind::Interrupted {
                return Err(error);
            }
        }
        if !libc::WIFSTOPPED(status) {
            self.reaped = true;
            cleanup::unregister(self.pid);
        }
        Ok(status)
    }
}

impl Proc for Traced {
    fn wait(&mut self) -> std::io::Result<libc::c_int> {
        loop {
            let status = self.next_stop()?;
            if !libc::WIFSTOPPED(status) {
                return Ok(status);
            }
            let inject = if status >> 8 == (libc::SIGTRAP | (libc::PTRACE_EVENT_EXIT << 8)) {
                self.memory = Some(read_memory(self.pid));
                0
            } else {
                // A signal for the tracee: deliver it.
                libc::WSTOPSIG(status)
            };
            // SAFETY: ptrace request on our stopped tracee.
            unsafe { libc::ptrace(libc::PTRACE_CONT, self.pid, 0, inject) };
        }
    }
}

impl Drop for Traced {
    fn drop(&mut self) {
        // PTRACE_O_EXITKILL would do it when we exit; do it now.
        while !self.reaped {
            // SAFETY: the tracee is not reaped, so the PID is still ours.
            unsafe { libc::kill(self.pid, libc::SIGKILL) };
            match self.next_stop() {
                // SAFETY: ptrace request on our stopped tracee, so that it goes on to die.
                Ok(status) if libc::WIFSTOPPED(status) => unsafe {
                    libc::ptrace(libc::PTRACE_CONT, self.pid, 0, 0);
                },
                Ok(_) => {}
                Err(_) => break,
            }
        }
    }
}

fn read_memory(pid: libc::pid_t) -> Memory {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let peak_rss_kb = status
        .lines()
        .find_map(|line| line.strip_prefix("VmHWM:"))
        .and_then(|value| value.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0);
    let maps = std::fs::read_to_string(format!("/proc/{pid}/maps")).unwrap_or_default();
    // The sixth field, when it is a path.
    let files: BTreeSet<PathBuf> = maps
        .lines()
        .filter_map(|line| line.split_whitespace().nth(5))
        .filter(|path| path.starts_with('/'))
        .map(PathBuf::from)
        .collect();
    let mapped_bytes = files.iter().filter_map(|f| std::fs::metadata(f).ok()).map(|m| m.len()).sum();
    Memory { peak_rss_kb, mapped_bytes, mapped_files: files.len() }
}
