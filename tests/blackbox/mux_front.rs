//! A stand-in for Firecracker's vsock multiplexer in front of a real sshd:
//! answers `CONNECT <port>\n` with `OK 1073741824\n`, then relays bytes to
//! the sshd fixture's AF_UNIX socket, as the VMM relays them to the guest.

use std::io::{Read, Write};
use std::net::Shutdown;
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;

pub struct MuxFront {
    path: PathBuf,
    stop: Arc<AtomicBool>,
    acceptor: Option<JoinHandle<()>>,
}

impl MuxFront {
    /// Listens on `path` and relays each accepted connection to `backend`.
    pub fn start(path: &Path, backend: &Path) -> MuxFront {
        let listener = UnixListener::bind(path).unwrap_or_else(|e| panic!("bind {}: {e}", path.display()));
        listener.set_nonblocking(true).expect("nonblocking");
        let stop = Arc::new(AtomicBool::new(false));
        let (flag, backend) = (stop.clone(), backend.to_path_buf());
        let acceptor = std::thread::spawn(move || {
            while !flag.load(Ordering::Relaxed) {
                match listener.accept() {
                    Ok((client, _)) => {
                        let backend = backend.clone();
                        std::thread::spawn(move || serve(client, &backend));
                    }
                    Err(_) => std::thread::sleep(Duration::from_millis(10)),
                }
            }
        });
        MuxFront { path: path.to_path_buf(), stop, acceptor: Some(acceptor) }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for MuxFront {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(acceptor) = self.acceptor.take() {
            let _ = acceptor.join();
        }
    }
}

fn serve(mut client: UnixStream, backend: &Path) {
    client.set_nonblocking(false).expect("blocking");
    let mut request = Vec::new();
    let mut byte = [0u8];
    while !request.ends_with(b"\n") && request.len() < 32 {
        match client.read(&mut byte) {
            Ok(1) => request.push(byte[0]),
            _ => return,
        }
    }
    if request != b"CONNECT 22\n" {
        return; // like a VMM with nothing on that port: close without a word
    }
    let Ok(guest) = UnixStream::connect(backend) else { return };
    // The OK line and the first server bytes may share a segment, as they can
    // with a real VMM; the proxy must consume only the OK line.
    client.write_all(b"OK 1073741824\n").expect("write OK");
    let (client2, guest2) = (client.try_clone().expect("dup"), guest.try_clone().expect("dup"));
    let up = std::thread::spawn(move || copy_then_shutdown(client2, guest2));
    copy_then_shutdown(guest, client);
    let _ = up.join();
}

fn copy_then_shutdown(mut from: UnixStream, mut to: UnixStream) {
    let _ = std::io::copy(&mut from, &mut to);
    let _ = to.shutdown(Shutdown::Write);
}
