//! Every child process and temp dir the bench makes, killed by PID and removed on an error, a panic or a signal.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

/// Live children: (pid, whether it leads a process group of its own).
static CHILDREN: Mutex<Vec<(libc::pid_t, bool)>> = Mutex::new(Vec::new());
static DIRS: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());
static INTERRUPTED: AtomicBool = AtomicBool::new(false);

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|e| e.into_inner())
}

/// Notes a child that is not reaped yet; `group` kills its whole process group.
pub fn register(pid: libc::pid_t, group: bool) {
    lock(&CHILDREN).push((pid, group));
}

/// Forgets a child; call it while the child is still unreaped (a zombie at
/// most), so that its PID cannot belong to another process yet.
pub fn unregister(pid: libc::pid_t) {
    lock(&CHILDREN).retain(|&(p, _)| p != pid);
}

pub fn register_dir(path: &Path) {
    lock(&DIRS).push(path.to_path_buf());
}

pub fn unregister_dir(path: &Path) {
    lock(&DIRS).retain(|p| p != path);
}

/// True once SIGINT, SIGTERM or SIGHUP arrived: loops stop and unwind.
pub fn interrupted() -> bool {
    INTERRUPTED.load(Ordering::Relaxed)
}

fn kill_all(children: &[(libc::pid_t, bool)]) {
    for &(pid, group) in children {
        // SAFETY: kill has no memory-safety preconditions; every PID here is an unreaped child of ours.
        unsafe { libc::kill(if group { -pid } else { pid }, libc::SIGKILL) };
    }
}

fn remove_dirs(dirs: &[PathBuf]) {
    for dir in dirs {
        let _ = std::fs::remove_dir_all(dir);
    }
}

/// Installs the panic hook and the signal thread. Call first in main, before
/// any other thread exists: the blocked signals are inherited by every thread.
pub fn install() {
    // The release profile aborts on panic, so no Drop runs: the hook cleans up.
    let default = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        default(info);
        if let Ok(children) = CHILDREN.try_lock() {
            kill_all(&children);
        }
        if let Ok(dirs) = DIRS.try_lock() {
            remove_dirs(&dirs);
        }
    }));

    // SAFETY: plain sigset manipulation on a local, then blocking in this thread only.
    let set = unsafe {
        let mut set: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut set);
        for signal in [libc::SIGINT, libc::SIGTERM, libc::SIGHUP] {
            libc::sigaddset(&mut set, signal);
        }
        libc::pthread_sigmask(libc::SIG_BLOCK, &set, std::ptr::null_mut());
        set
    };
    std::thread::spawn(move || {
        let mut signal = 0;
        // SAFETY: set is a valid sigset blocked in every thread.
        unsafe { libc::sigwait(&set, &mut signal) };
        INTERRUPTED.store(true, Ordering::Relaxed);
        eprintln!("bench: signal {signal}: killing the children and stopping");
        kill_all(&lock(&CHILDREN));
        // The main thread now unwinds and cleans up (and exits); should it hang, give up on it.
        std::thread::sleep(Duration::from_secs(10));
        kill_all(&lock(&CHILDREN));
        remove_dirs(&lock(&DIRS));
        // SAFETY: _exit ends the process at once.
        unsafe { libc::_exit(128 + signal) };
    });
}

/// Blocks until `pid` has exited, without reaping it (WNOWAIT).
pub fn wait_exited(pid: libc::pid_t) -> std::io::Result<()> {
    loop {
        if poll_exited(pid, 0)? {
            return Ok(());
        }
    }
}

/// True when `pid` has exited (left unreaped); `flags` may add WNOHANG.
pub fn poll_exited(pid: libc::pid_t, flags: libc::c_int) -> std::io::Result<bool> {
    // SAFETY: info is a valid out-parameter; waitid with WNOWAIT leaves the child reapable.
    unsafe {
        let mut info: libc::siginfo_t = std::mem::zeroed();
        if libc::waitid(libc::P_PID, pid as libc::id_t, &mut info, libc::WEXITED | libc::WNOWAIT | flags) == 0 {
            return Ok(info.si_pid() != 0);
        }
    }
    let error = std::io::Error::last_os_error();
    if error.kind() == std::io::ErrorKind::Interrupted { Ok(false) } else { Err(error) }
}
