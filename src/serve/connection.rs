//! Each accepted connection: the children that serve them (counted against
//! `--max-connections`), their peers, the pauses after a failed accept or
//! fork, and the lines said about them (see sys/serve/connection.rs).

use core::time::Duration;

use crate::line::Line;
use crate::targets::vsock::VsockAddress;

/// The highest `--max-connections`: the children are tracked by PID in a
/// table of this many (16 KiB, not in the file: it is zeroed memory).
pub const MAX_CONNECTIONS_LIMIT: u32 = 4096;

/// How long accepting stops after accept or fork failed for want of a
/// resource (EMFILE, ENFILE, EAGAIN...): the connections wait in the backlog.
pub const ACCEPT_PAUSE: Duration = Duration::from_secs(1);

/// After a line about a connection over the cap, the next ones are counted
/// for this long and then said in one line.
pub const QUIET_WINDOW: Duration = Duration::from_secs(1);

/// The PIDs of the children that serve connections. Only these count: a
/// server that is PID 1 also reaps orphans, which free no slot.
pub struct Children {
    pids: [u32; MAX_CONNECTIONS_LIMIT as usize],
    len: usize,
}

impl Default for Children {
    fn default() -> Self {
        Self { pids: [0; MAX_CONNECTIONS_LIMIT as usize], len: 0 }
    }
}

impl Children {
    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Notes a new child; `false` when the table is full.
    pub fn add(&mut self, pid: u32) -> bool {
        let Some(slot) = self.pids.get_mut(self.len) else { return false };
        *slot = pid;
        // Below the table's length, which fits.
        self.len = self.len.wrapping_add(1);
        true
    }

    /// Forgets `pid`; `false` when it was not one of ours.
    pub fn remove(&mut self, pid: u32) -> bool {
        let live = self.pids.get_mut(..self.len).unwrap_or_default();
        let Some(at) = live.iter().position(|&p| p == pid) else { return false };
        let last = live.len().wrapping_sub(1);
        live.swap(at, last);
        self.len = last;
        true
    }
}

/// Who is on the other end of a connection.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Peer {
    /// SO_PEERCRED of an AF_UNIX connection.
    Unix {
        pid: u32,
        uid: u32,
        gid: u32,
    },
    Vsock(VsockAddress),
    Unknown,
}

impl Peer {
    fn describe(&self, line: &mut Line) {
        match *self {
            Self::Unix { pid, uid, gid } => {
                line.text(b"pid ").number(pid).text(b" (uid ").number(uid).text(b", gid ").number(gid).text(b")");
            }
            Self::Vsock(VsockAddress { cid, port }) => {
                line.text(b"vsock:").number(cid).text(b":").number(port);
            }
            Self::Unknown => {
                line.text(b"an unknown peer");
            }
        }
    }
}

/// What is said about connections and the children that serve them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ConnectionNote<'a> {
    /// `-v`: one line per connection.
    Served {
        listen: &'a [u8],
        peer: Peer,
        pid: u32,
        count: usize,
        max: u32,
    },
    /// Closed at once: the cap is reached.
    OverCap {
        listen: &'a [u8],
        max: u32,
    },
    /// The connections over the cap since the last line.
    MoreOverCap {
        refused: u32,
        max: u32,
    },
    AcceptFailed {
        listen: &'a [u8],
        errno: i32,
    },
    ForkFailed {
        listen: &'a [u8],
        errno: i32,
    },
    /// `-v`: SIGTERM or SIGINT came; live sessions go on.
    Stopping {
        signal: u32,
        sessions: usize,
    },
}

impl ConnectionNote<'_> {
    pub fn describe(&self, line: &mut Line) {
        match *self {
            Self::Served { listen, peer, pid, count, max } => {
                line.quoted(listen).text(b": connection from ");
                peer.describe(line);
                line.text(b", served by pid ").number(pid);
                // At most MAX_CONNECTIONS_LIMIT: it fits.
                line.text(b" (").number(count as u32).text(b" of ").number(max).text(b").");
            }
            Self::OverCap { listen, max } => {
                line.quoted(listen).text(b": connection closed, ").number(max);
                line.text(b" connections already (--max-connections).");
            }
            Self::MoreOverCap { refused, max } => {
                line.number(refused).text(b" more connections closed, ").number(max);
                line.text(b" connections already (--max-connections).");
            }
            Self::AcceptFailed { listen, errno } => {
                line.text(b"Failed to accept a connection on ").quoted(listen).text(b": ").errno(errno);
                pausing(line);
            }
            Self::ForkFailed { listen, errno } => {
                line.text(b"Failed to start a process for a connection on ").quoted(listen).text(b": ").errno(errno);
                pausing(line);
            }
            Self::Stopping { signal, sessions } => {
                let name: &[u8] = if signal == linux_raw_sys::general::SIGINT { b"SIGINT" } else { b"SIGTERM" };
                line.text(b"Stopping on ").text(name).text(b"; ").number(sessions as u32);
                line.text(b" sessions go on.");
            }
        }
    }
}

fn pausing(line: &mut Line) {
    line.text(b"; pausing for ").number(ACCEPT_PAUSE.as_secs() as u32).text(b" s.");
}

/// The child could not execute COMMAND: it says so and exits 127.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ExecProblem<'a> {
    pub command: &'a [u8],
    pub errno: i32,
}

/// The exit status of a child that could not execute COMMAND, as a shell's.
pub const EXEC_FAILED: i32 = 127;

impl ExecProblem<'_> {
    pub fn describe(&self, line: &mut Line) {
        line.text(b"Failed to execute ").quoted(self.command).text(b": ").errno(self.errno);
    }
}

/// PATH when the environment has none, for a COMMAND without `/`.
pub const DEFAULT_PATH: &[u8] = b"/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/// True when execvp goes on to the next PATH directory after this errno.
pub fn try_next_directory(errno: i32) -> bool {
    use linux_raw_sys::errno::{EACCES, ENOENT, ENOTDIR};
    u32::try_from(errno).is_ok_and(|errno| [ENOENT, ENOTDIR, EACCES].contains(&errno))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn children_are_tracked_by_pid() {
        let mut children = Children::default();
        assert!(children.is_empty());
        for pid in [10, 11, 12] {
            assert!(children.add(pid));
        }
        assert!(!children.remove(99), "an orphan frees no slot");
        assert!(children.remove(10));
        assert!(!children.remove(10));
        assert_eq!(children.len(), 2);
        assert!(children.remove(12) && children.remove(11) && children.is_empty());
        for pid in 0..MAX_CONNECTIONS_LIMIT {
            assert!(children.add(pid + 1));
        }
        assert!(!children.add(1), "full");
        assert!(children.remove(MAX_CONNECTIONS_LIMIT));
        assert_eq!(children.len(), MAX_CONNECTIONS_LIMIT as usize - 1);
    }

    #[test]
    fn execvp_rules() {
        assert!(try_next_directory(2) && try_next_directory(20) && try_next_directory(13));
        assert!(!try_next_directory(8) && !try_next_directory(7) && !try_next_directory(26));
    }

    #[test]
    fn messages() {
        let message = |note: ConnectionNote| crate::line::render(|line| note.describe(line));
        let cases: &[(ConnectionNote, &str)] = &[
            (
                ConnectionNote::Served {
                    listen: b"/run/ssh",
                    peer: Peer::Unix { pid: 7, uid: 0, gid: 100 },
                    pid: 42,
                    count: 1,
                    max: 64,
                },
                "/run/ssh: connection from pid 7 (uid 0, gid 100), served by pid 42 (1 of 64).\n",
            ),
            (
                ConnectionNote::Served {
                    listen: b"vsock::22",
                    peer: Peer::Vsock(VsockAddress { cid: 2, port: 1073741824 }),
                    pid: 43,
                    count: 64,
                    max: 64,
                },
                "vsock::22: connection from vsock:2:1073741824, served by pid 43 (64 of 64).\n",
            ),
            (
                ConnectionNote::Served { listen: b"@x", peer: Peer::Unknown, pid: 1, count: 2, max: 3 },
                "@x: connection from an unknown peer, served by pid 1 (2 of 3).\n",
            ),
            (
                ConnectionNote::OverCap { listen: b"/s", max: 2 },
                "/s: connection closed, 2 connections already (--max-connections).\n",
            ),
            (
                ConnectionNote::MoreOverCap { refused: 9, max: 2 },
                "9 more connections closed, 2 connections already (--max-connections).\n",
            ),
            (
                ConnectionNote::AcceptFailed { listen: b"/s", errno: 24 },
                "Failed to accept a connection on /s: Too many open files; pausing for 1 s.\n",
            ),
            (
                ConnectionNote::ForkFailed { listen: b"/s", errno: 11 },
                "Failed to start a process for a connection on /s: Resource temporarily unavailable; pausing for 1 s.\n",
            ),
            (ConnectionNote::Stopping { signal: 15, sessions: 3 }, "Stopping on SIGTERM; 3 sessions go on.\n"),
            (ConnectionNote::Stopping { signal: 2, sessions: 0 }, "Stopping on SIGINT; 0 sessions go on.\n"),
        ];
        for (note, expected) in cases {
            assert_eq!(message(*note), *expected);
        }
        let exec = ExecProblem { command: b"/nonexistent", errno: 2 };
        assert_eq!(
            crate::line::render(|line| exec.describe(line)),
            "Failed to execute /nonexistent: No such file or directory\n"
        );
    }
}
