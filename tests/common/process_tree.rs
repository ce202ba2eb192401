//! A process and everything it started, stopped and killed by PID: a
//! server's children live in sessions of their own, out of reach of a
//! process-group kill.

use std::collections::BTreeSet;

/// The PIDs whose parent is `pid`, from /proc/PID/stat.
pub fn children_of(pid: u32) -> Vec<u32> {
    let Ok(entries) = std::fs::read_dir("/proc") else { return Vec::new() };
    entries
        .filter_map(|entry| entry.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .filter(|&candidate| parent_of(candidate) == Some(pid))
        .collect()
}

/// The parent of `pid`: the field after the state, which follows the last `)`.
fn parent_of(pid: u32) -> Option<u32> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    stat.rsplit_once(')')?.1.split_whitespace().nth(1)?.parse().ok()
}

/// Every descendant of `pid`, however deep.
pub fn descendants(pid: u32) -> BTreeSet<u32> {
    let mut found = BTreeSet::new();
    let mut next = vec![pid];
    while let Some(parent) = next.pop() {
        for child in children_of(parent) {
            if found.insert(child) {
                next.push(child);
            }
        }
    }
    found
}

fn signal(pid: u32, signal: libc::c_int) {
    // SAFETY: kill has no memory-safety preconditions.
    unsafe { libc::kill(pid as libc::pid_t, signal) };
}

/// Makes orphans among this process's descendants its children, instead
/// of init's (PR_SET_CHILD_SUBREAPER), so that it can reap them: a
/// server's sessions outlive the server, and this machine's init does not
/// reap what it inherits.
pub fn become_subreaper() {
    // SAFETY: prctl with these arguments only sets a flag of this process.
    unsafe { libc::prctl(libc::PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) };
}

/// Stops and kills the descendants of `root` (a child of ours, not yet
/// reaped, so that its PID is still its own) and then `root`, reaps `root`
/// and, as a subreaper, the orphans.
pub fn kill_tree(root: &mut std::process::Child) {
    become_subreaper();
    let root_pid = root.id();
    signal(root_pid, libc::SIGSTOP);
    let stopped = stop_descendants(root_pid);
    signal(root_pid, libc::SIGKILL);
    let _ = root.wait();
    kill_and_reap(&stopped);
}

/// Stops every descendant of `pid`, until a pass finds none it had not
/// stopped, so that none can start another; returns them.
pub fn stop_descendants(pid: u32) -> BTreeSet<u32> {
    let mut stopped = BTreeSet::new();
    loop {
        let fresh: Vec<u32> = descendants(pid).difference(&stopped).copied().collect();
        if fresh.is_empty() {
            return stopped;
        }
        for &pid in &fresh {
            signal(pid, libc::SIGSTOP);
            stopped.insert(pid);
        }
    }
}

/// SIGKILLs each of `pids` once (they are stopped, so each PID is still
/// its process's), then reaps those that are, or become, our children;
/// gives up after 10 s.
pub fn kill_and_reap(pids: &BTreeSet<u32>) {
    for &pid in pids {
        signal(pid, libc::SIGKILL);
    }
    let mut left: Vec<u32> = pids.iter().copied().collect();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while !left.is_empty() && std::time::Instant::now() < deadline {
        left.retain(|&pid| {
            let mut status = 0;
            // SAFETY: status is a valid out-parameter.
            match unsafe { libc::waitpid(pid as libc::pid_t, &mut status, libc::WNOHANG) } {
                0 => true,
                // Not ours yet while its parent, one of them, is dying; else gone or another's.
                -1 => parent_of(pid).is_some_and(|parent| pids.contains(&parent)),
                _ => false,
            }
        });
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
}
