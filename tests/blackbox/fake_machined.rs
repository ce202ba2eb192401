//! A scripted systemd-machined: a Varlink server on an AF_UNIX socket that
//! records each request and answers every connection with the same script.

use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use crate::support::Listener;

/// One step of the reply script.
#[derive(Clone)]
pub enum Reply {
    /// Bytes as they are (add the NUL yourself, or leave it out).
    Raw(Vec<u8>),
    /// A JSON document followed by the Varlink NUL.
    Json(&'static str),
    Sleep(u64),
}

pub struct FakeMachined {
    requests: Arc<Mutex<Vec<Vec<u8>>>>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl FakeMachined {
    /// Serves at `runtime_dir/systemd/machine/io.systemd.Machine` (a path
    /// longer than sun_path too).
    pub fn start(runtime_dir: &Path, script: &[Reply]) -> FakeMachined {
        let dir = runtime_dir.join("systemd/machine");
        std::fs::create_dir_all(&dir).expect("create machined dir");
        let Listener(listener) = Listener::bind_long(&dir.join("io.systemd.Machine"));
        listener.set_nonblocking(true).expect("nonblocking");
        let requests = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let (seen, flag, script) = (requests.clone(), stop.clone(), script.to_vec());
        let thread = std::thread::spawn(move || {
            while !flag.load(Ordering::Relaxed) {
                match listener.accept() {
                    Ok((stream, _)) => serve(stream, &script, &seen),
                    Err(_) => std::thread::sleep(Duration::from_millis(5)),
                }
            }
        });
        FakeMachined { requests, stop, thread: Some(thread) }
    }

    /// The requests received so far, each without its NUL.
    pub fn requests(&self) -> Vec<Vec<u8>> {
        self.requests.lock().unwrap().clone()
    }
}

impl Drop for FakeMachined {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

fn serve(mut stream: UnixStream, script: &[Reply], seen: &Mutex<Vec<Vec<u8>>>) {
    stream.set_nonblocking(false).expect("blocking");
    stream.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let mut request = Vec::new();
    let mut byte = [0u8];
    while request.len() < 4096 {
        match stream.read(&mut byte) {
            Ok(1) if byte[0] == 0 => break,
            Ok(1) => request.push(byte[0]),
            _ => break,
        }
    }
    seen.lock().unwrap().push(request);
    for step in script {
        // The proxy may stop reading (oversized reply) or leave: not our error.
        let _ = match step {
            Reply::Raw(bytes) => stream.write_all(bytes),
            Reply::Json(doc) => stream.write_all(doc.as_bytes()).and_then(|()| stream.write_all(b"\0")),
            Reply::Sleep(ms) => {
                std::thread::sleep(Duration::from_millis(*ms));
                Ok(())
            }
        };
    }
}
