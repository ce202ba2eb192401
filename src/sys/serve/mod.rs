//! ssh-sockserve's run: the command line, the listeners bound, READY=1,
//! then one loop that polls the listeners, a signalfd (SIGCHLD, SIGTERM,
//! SIGINT, all blocked: no handler ever runs) and two timers, until SIGTERM
//! or SIGINT. The syscall half of serve/: listen.rs, notify.rs and
//! connection.rs beside their library halves.

pub mod connection;
pub mod listen;
pub mod notify;
pub mod timer;

use core::ffi::{c_char, c_int};
use core::time::Duration;

use linux_raw_sys::general::{SIGCHLD, SIGINT, SIGTERM};
use rustix::event::{PollFd, PollFlags, poll};
use rustix::fd::{AsFd, BorrowedFd, OwnedFd};
use rustix::fs::{Mode, OFlags, open};
use rustix::io::{Errno, fcntl_getfd, read};

use crate::attempts::{FIRST_PAUSE, next_pause};
use crate::serve::cli::{Command, MAX_LISTEN, Options, Print, VERSION, parse_command};
use crate::serve::connection::{ACCEPT_PAUSE, Children, ConnectionNote, QUIET_WINDOW};
use crate::serve::listen::{Listen, ListenAddress, ListenNote};
use crate::serve::notify::{NotifyAddress, NotifyProblem, is_not_yet, parse_notify_socket};
use crate::serve::{Failure, SetupProblem};
use crate::stdio::{STDERR, STDIN, STDOUT, StdioProblem};
use crate::sys::rt::args::{Args, env_remove, env_var};
use crate::sys::rt::signal::{self, Action, SIG_BLOCK, SIGNALFD_SIGINFO_LEN, SIGPIPE, mask_of};
use crate::sys::stdio::{print, say};
use crate::texts;
use connection::Accepted;
use listen::{FileId, Outcome, bind_listen};
use timer::Timer;

/// Connections taken off one listener per wake-up, so that signals and the
/// other listeners get their turn in a flood.
const ACCEPTS_PER_WAKE: usize = 16;

/// The program: the exit status for argc, argv and the environment.
///
/// # Safety
/// As the kernel passes them: argc NUL-terminated strings and the
/// null-terminated environment, which live, unchanged but for what this
/// process does to them, until it exits; no other thread runs.
pub unsafe fn main(argc: c_int, argv: *const *const c_char, envp: *const *const c_char) -> c_int {
    // SAFETY: the caller's contract.
    let (args, notify) = unsafe { (Args::new(argc, argv), env_var(envp, b"NOTIFY_SOCKET")) };
    // SAFETY: the caller's contract.
    match unsafe { run(args, argv, envp, notify) } {
        Ok(()) => 0,
        Err(failure) => {
            say(|line| failure.describe(line));
            1
        }
    }
}

/// # Safety
/// As for `main`.
unsafe fn run(
    mut args: Args,
    argv: *const *const c_char,
    envp: *const *const c_char,
    notify: Option<&'static [u8]>,
) -> Result<(), Failure<'static>> {
    let _ = args.next();
    let serve = match parse_command(args)? {
        Command::Print(Print::Help) => return Ok(print(texts::serve_help().as_bytes())?),
        Command::Print(Print::Version) => return Ok(print(VERSION)?),
        Command::Serve(serve) => serve,
    };
    // Set but empty counts as unset.
    let notify = match notify {
        Some(text) if !text.is_empty() => Some((text, parse_notify_socket(text)?)),
        _ => None,
    };
    fill_std_fds()?;
    // SAFETY: the caller's contract; no other code reads the array now.
    unsafe { env_remove(envp, b"NOTIFY_SOCKET") };
    let command = connection::Command {
        // SAFETY: COMMAND is argument command_at after argv[0], within argv.
        argv: unsafe { argv.add(serve.command_at.wrapping_add(1)) },
        envp,
        name: serve.command,
        // SIGPIPE too: the server ignores it from here on.
        ignored: signal::ignored() | mask_of(SIGPIPE),
    };
    // Children must be reaped here, whatever was inherited; a stderr whose
    // reader is gone must not end the server (its writes fail, unread).
    signal::set_default(SIGCHLD);
    // SAFETY: SIG_IGN runs no handler.
    unsafe { signal::set_action(SIGPIPE, Action::Ignore) };
    let wanted = mask_of(SIGCHLD) | mask_of(SIGTERM) | mask_of(SIGINT);
    signal::set_mask(SIG_BLOCK, wanted);
    let signals = signal::signalfd(wanted).map_err(SetupProblem::Signals)?;
    let retry = Timer::new().map_err(SetupProblem::Timer)?;
    let quiet = Timer::new().map_err(SetupProblem::Timer)?;
    let mut server = Server {
        slots: serve.listens.map(|listen| listen.map(Slot::new)),
        options: serve.options,
        command,
        notify,
        notify_failed: false,
        signals,
        retry,
        quiet,
        children: Children::default(),
        pause: FIRST_PAUSE,
        paused: false,
        quieted: None,
    };
    server.bind_all()?;
    let signal = server.serve();
    if server.options.verbose {
        say(|line| ConnectionNote::Stopping { signal, sessions: server.children.len() }.describe(line));
    }
    server.close();
    Ok(())
}

/// One LISTEN address and what became of it.
struct Slot {
    listen: Listen<'static>,
    socket: Option<OwnedFd>,
    /// The socket file this process made, to remove at the end.
    file: Option<FileId>,
    /// AF_VSOCK was not there yet: bound on a later try.
    late: bool,
}

impl Slot {
    fn new(listen: Listen<'static>) -> Self {
        Self { listen, socket: None, file: None, late: false }
    }
}

struct Server {
    slots: [Option<Slot>; MAX_LISTEN],
    options: Options,
    command: connection::Command,
    /// NOTIFY_SOCKET as written and parsed, until READY=1 went (or could
    /// not, for good).
    notify: Option<(&'static [u8], NotifyAddress<'static>)>,
    /// READY=1 failed and was said so: a later failure is tried again quietly.
    notify_failed: bool,
    signals: OwnedFd,
    /// Fires for the next try of a late listener, and when a pause of
    /// accepting is over.
    retry: Timer,
    /// Fires when the window of quiet over-cap lines ends.
    quiet: Timer,
    children: Children,
    /// The pause before the next try of a late listener; it grows.
    pause: Duration,
    /// Accepting stopped after accept or fork failed (see ACCEPT_PAUSE).
    paused: bool,
    /// While over-cap lines are quiet: the connections closed since the last.
    quieted: Option<u32>,
}

impl Server {
    fn slots(&mut self) -> impl Iterator<Item = &mut Slot> {
        self.slots.iter_mut().flatten()
    }

    /// Binds every LISTEN address; one that fails for good ends the run,
    /// after the others are closed and their files removed.
    fn bind_all(&mut self) -> Result<(), Failure<'static>> {
        let (mode, verbose) = (self.options.mode, self.options.verbose);
        let mut failure = None;
        for slot in self.slots() {
            match bind_listen(&slot.listen, mode) {
                Ok(Outcome::Bound { socket, file }) => (slot.socket, slot.file) = (Some(socket), file),
                Ok(Outcome::Late(errno)) => {
                    slot.late = true;
                    if verbose {
                        say(|line| ListenNote::NotYet { text: slot.listen.text, errno }.describe(line));
                    }
                }
                Err(problem) => {
                    failure = Some(problem);
                    break;
                }
            }
        }
        if let Some(problem) = failure {
            self.close();
            return Err(problem.into());
        }
        self.after_binding();
        Ok(())
    }

    /// Tries the late listeners again.
    fn bind_late(&mut self) {
        let (mode, verbose) = (self.options.mode, self.options.verbose);
        for slot in self.slots().filter(|slot| slot.late) {
            match bind_listen(&slot.listen, mode) {
                Ok(Outcome::Bound { socket, file }) => {
                    (slot.socket, slot.file, slot.late) = (Some(socket), file, false);
                    if verbose {
                        say(|line| ListenNote::Listening(slot.listen.text).describe(line));
                    }
                }
                Ok(Outcome::Late(_)) => {}
                // The others are served already: this one is given up.
                Err(problem) => {
                    slot.late = false;
                    say(|line| problem.describe(line));
                }
            }
        }
        self.pause = next_pause(self.pause);
        self.after_binding();
    }

    /// READY=1 once every listener is bound; until then the next try. A
    /// READY=1 that finds nobody there yet is tried again, by the same
    /// growing pause.
    fn after_binding(&mut self) {
        if self.slots().any(|slot| slot.late) {
            self.retry.arm(self.pause);
            return;
        }
        if let Some((to, address)) = self.notify.take() {
            if let Err(errno) = notify::send_ready(&address) {
                let again = is_not_yet(errno);
                if !self.notify_failed {
                    say(|line| NotifyProblem::Send { to, errno, again }.describe(line));
                }
                if again {
                    (self.notify, self.notify_failed) = (Some((to, address)), true);
                    self.retry.arm(self.pause);
                }
            }
        }
    }

    /// Serves until SIGTERM or SIGINT, which it returns.
    fn serve(&mut self) -> u32 {
        loop {
            let [signals, retry, quiet, listeners @ ..] = self.wait();
            if signals {
                if let Some(signal) = self.read_signals() {
                    return signal;
                }
            }
            if retry && self.retry.fired() {
                self.paused = false;
                if self.slots().any(|slot| slot.late) {
                    self.bind_late();
                } else if self.notify.is_some() {
                    self.pause = next_pause(self.pause);
                    self.after_binding();
                }
            }
            if quiet && self.quiet.fired() {
                self.end_quiet();
            }
            for (i, _) in listeners.iter().enumerate().filter(|&(_, &ready)| ready) {
                self.accept_on(i);
            }
        }
    }

    /// Polls the signalfd, the timers and (unless paused) the listeners;
    /// which of them are ready, in that order, the listeners by slot.
    fn wait(&mut self) -> [bool; 3 + MAX_LISTEN] {
        let mut ready = [false; 3 + MAX_LISTEN];
        // The slot of each polled listener: only descriptors in use are
        // polled, as poll refuses more entries than RLIMIT_NOFILE.
        let mut slot_of = [0; MAX_LISTEN];
        let mut fds: [PollFd<'_>; 3 + MAX_LISTEN] = core::array::from_fn(|_| PollFd::new(&self.signals, PollFlags::IN));
        let timers = [PollFd::new(&self.retry, PollFlags::IN), PollFd::new(&self.quiet, PollFlags::IN)];
        for (fd, timer) in fds.iter_mut().skip(1).zip(timers) {
            *fd = timer;
        }
        let paused = self.paused;
        let sockets = self.slots.iter().enumerate().filter(|_| !paused);
        let sockets = sockets.filter_map(|(i, slot)| Some((i, slot.as_ref()?.socket.as_ref()?)));
        let listening = fds
            .iter_mut()
            .skip(3)
            .zip(slot_of.iter_mut())
            .zip(sockets)
            .map(|((fd, slot), (i, socket))| (*fd, *slot) = (PollFd::new(socket, PollFlags::IN), i))
            .count();
        // At most 3 + MAX_LISTEN.
        let polled = fds.get_mut(..listening.wrapping_add(3)).unwrap_or_default();
        let failed = match poll(polled, None) {
            Ok(_) | Err(Errno::INTR) => false,
            Err(_) => true,
        };
        let is_ready = |fd: &PollFd<'_>| !fd.revents().is_empty();
        for (flag, fd) in ready.iter_mut().zip(polled.iter()).take(3) {
            *flag = is_ready(fd);
        }
        for (fd, &slot) in polled.iter().skip(3).zip(&slot_of) {
            if let Some(flag) = ready.get_mut(slot.wrapping_add(3)) {
                *flag = is_ready(fd);
            }
        }
        // RLIMIT_NOFILE lowered under the server, say: no spinning on it.
        if failed {
            self.pause_accepting();
        }
        ready
    }

    /// Reads the signals that came: reaps on SIGCHLD; SIGTERM or SIGINT is
    /// returned.
    fn read_signals(&mut self) -> Option<u32> {
        let mut infos = [0u8; SIGNALFD_SIGINFO_LEN * 4];
        let mut stop = None;
        while let Ok(len) = read(&self.signals, &mut infos) {
            if len == 0 {
                break;
            }
            for info in infos.get(..len).unwrap_or_default().chunks_exact(SIGNALFD_SIGINFO_LEN) {
                if let Some(&[b0, b1, b2, b3]) = info.get(..4) {
                    match u32::from_ne_bytes([b0, b1, b2, b3]) {
                        SIGCHLD => {}
                        other => stop = Some(other),
                    }
                }
            }
        }
        // Reaping after every wake-up costs one waitpid and never misses
        // a SIGCHLD merged with another.
        connection::reap(&mut self.children);
        stop
    }

    fn accept_on(&mut self, i: usize) {
        for _ in 0..ACCEPTS_PER_WAKE {
            let Some(Some(slot)) = self.slots.get(i) else { return };
            let Some(socket) = slot.socket.as_ref() else { return };
            let listen = slot.listen.text;
            let (connection, peer) = match connection::accept(socket.as_fd(), self.options.verbose) {
                Accepted::Connection(connection, peer) => (connection, peer),
                Accepted::Empty => return,
                Accepted::Again => continue,
                Accepted::Failed(errno) => {
                    say(|line| ConnectionNote::AcceptFailed { listen, errno }.describe(line));
                    self.pause_accepting();
                    return;
                }
            };
            let max = self.options.max_connections;
            if self.children.len() >= max as usize {
                drop(connection);
                self.over_cap(listen);
                continue;
            }
            match connection::spawn(&connection, &self.command) {
                Ok(pid) => {
                    self.children.add(pid);
                    if self.options.verbose {
                        let count = self.children.len();
                        say(|line| ConnectionNote::Served { listen, peer, pid, count, max }.describe(line));
                    }
                }
                Err(errno) => {
                    say(|line| ConnectionNote::ForkFailed { listen, errno }.describe(line));
                    self.pause_accepting();
                    return;
                }
            }
        }
    }

    /// Stops accepting for ACCEPT_PAUSE: the connections wait in the backlog.
    fn pause_accepting(&mut self) {
        self.paused = true;
        self.retry.arm(ACCEPT_PAUSE);
    }

    /// One line, then quiet for QUIET_WINDOW while the closed ones are counted.
    fn over_cap(&mut self, listen: &'static [u8]) {
        match self.quieted {
            Some(ref mut count) => *count = count.saturating_add(1),
            None => {
                let max = self.options.max_connections;
                say(|line| ConnectionNote::OverCap { listen, max }.describe(line));
                self.quieted = Some(0);
                self.quiet.arm(QUIET_WINDOW);
            }
        }
    }

    fn end_quiet(&mut self) {
        match self.quieted.take() {
            Some(refused) if refused > 0 => {
                let max = self.options.max_connections;
                say(|line| ConnectionNote::MoreOverCap { refused, max }.describe(line));
                self.quieted = Some(0);
                self.quiet.arm(QUIET_WINDOW);
            }
            _ => {}
        }
    }

    /// Closes the listeners and removes the socket files this process made.
    fn close(&mut self) {
        for slot in self.slots() {
            slot.socket = None;
            if let (ListenAddress::Path(path), Some(file)) = (slot.listen.address, slot.file.take()) {
                listen::remove_file(path, file);
            }
        }
    }
}

/// Puts /dev/null on whichever of fds 0, 1 and 2 is closed, so that no
/// socket lands there and a child never gets a listener as its stderr (a
/// daemon's rule); fails when /dev/null cannot be opened.
fn fill_std_fds() -> Result<(), StdioProblem> {
    for fd in [STDIN, STDOUT, STDERR] {
        // SAFETY: fcntl only asks about the number; a closed one is EBADF.
        let probe = unsafe { BorrowedFd::borrow_raw(i32::from(fd)) };
        if fcntl_getfd(probe) == Err(Errno::BADF) {
            // The lowest free descriptor: this one, the lower ones being open.
            let null = open(c"/dev/null", OFlags::RDWR, Mode::empty()).map_err(|_| StdioProblem::Closed(fd))?;
            core::mem::forget(null);
        }
    }
    Ok(())
}
