//! Stand-ins for sshd and for a vsock multiplexer: AF_UNIX listeners that greet every connection on a thread of their own.

use std::io::{Read, Write};
use std::os::fd::AsRawFd;
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;

use crate::handoff::GREETING;

/// What the listener does with each connection before it closes it.
#[derive(Clone, Copy)]
pub enum Reply {
    /// Writes GREETING, as sshd writes its banner.
    Greeting,
    /// Reads `CONNECT 22\n`, answers `OK 1073741824\n` (as Firecracker does)
    /// and then GREETING, as the guest's sshd would.
    Mux,
}

/// A listening socket served until drop.
pub struct Listener {
    stop: Arc<AtomicBool>,
    failures: Arc<AtomicU64>,
    thread: Option<JoinHandle<()>>,
}

impl Listener {
    /// Binds `path` (at most sun_path long) and serves it.
    pub fn bind(path: &Path, reply: Reply) -> Result<Listener, String> {
        let listener = UnixListener::bind(path).map_err(|e| format!("bind {}: {e}", path.display()))?;
        Ok(Listener::serve(listener, reply))
    }

    /// Serves a socket at a path longer than sun_path: bind() cannot take one,
    /// so bind `short` and rename it to `path`.
    pub fn bind_renamed(short: &Path, path: &Path, reply: Reply) -> Result<Listener, String> {
        let listener = Listener::bind(short, reply)?;
        std::fs::rename(short, path).map_err(|e| format!("rename {} to {}: {e}", short.display(), path.display()))?;
        Ok(listener)
    }

    fn serve(listener: UnixListener, reply: Reply) -> Listener {
        let stop = Arc::new(AtomicBool::new(false));
        let failures = Arc::new(AtomicU64::new(0));
        let thread = {
            let (stop, failures) = (stop.clone(), failures.clone());
            std::thread::spawn(move || accept_loop(&listener, reply, &stop, &failures))
        };
        Listener { stop, failures, thread: Some(thread) }
    }

    /// Fails when a connection could not be served as it should (a wrong CONNECT line...).
    pub fn check(&self) -> Result<(), String> {
        match self.failures.load(Ordering::Relaxed) {
            0 => Ok(()),
            n => Err(format!("the listener could not serve {n} connection(s)")),
        }
    }
}

impl Drop for Listener {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

fn accept_loop(listener: &UnixListener, reply: Reply, stop: &AtomicBool, failures: &AtomicU64) {
    if listener.set_nonblocking(true).is_err() {
        failures.fetch_add(1, Ordering::Relaxed);
        return;
    }
    while !stop.load(Ordering::Relaxed) {
        let mut pollfd = libc::pollfd { fd: listener.as_raw_fd(), events: libc::POLLIN, revents: 0 };
        // SAFETY: one valid pollfd; 100 ms bounds how long a drop waits for this thread.
        if unsafe { libc::poll(&mut pollfd, 1, 100) } <= 0 {
            continue;
        }
        // Take every pending connection before polling again.
        while let Ok((stream, _)) = listener.accept() {
            if answer(stream, reply).is_err() {
                failures.fetch_add(1, Ordering::Relaxed);
            }
        }
    }
}

fn answer(mut stream: UnixStream, reply: Reply) -> std::io::Result<()> {
    stream.set_nonblocking(false)?;
    stream.set_read_timeout(Some(Duration::from_secs(10)))?;
    stream.set_write_timeout(Some(Duration::from_secs(10)))?;
    if let Reply::Mux = reply {
        // The proxy sends its line in one write and nothing after it until ssh speaks.
        let mut line = [0u8; 64];
        let mut len = 0;
        while !line[..len].contains(&b'\n') && len < line.len() {
            match stream.read(&mut line[len..])? {
                0 => return Err(std::io::Error::other("closed before the CONNECT line")),
                n => len += n,
            }
        }
        if &line[..len] != b"CONNECT 22\n" {
            return Err(std::io::Error::other("unexpected CONNECT line"));
        }
        stream.write_all(b"OK 1073741824\n")?;
    }
    stream.write_all(GREETING)
}
