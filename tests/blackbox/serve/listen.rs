//! LISTEN addresses on AF_UNIX: the socket file's directory and mode, a
//! stale socket file replaced, a live one and other files left alone, an
//! abstract name, and what SIGTERM, SIGINT and a failed bind remove.

use std::os::linux::net::SocketAddrExt;
use std::os::unix::fs::{FileTypeExt, MetadataExt, PermissionsExt};
use std::os::unix::net::{SocketAddr, UnixListener, UnixStream};
use std::path::Path;
use std::process::Command;

use sockproxy_test_common::TempDir;

use super::{ECHO, Server, connect, read_exactly, serve_bin};

/// `LISTEN... -- ECHO`.
fn args(listens: &[&str]) -> Vec<String> {
    let mut args: Vec<String> = listens.iter().map(|l| l.to_string()).collect();
    args.push("--".into());
    args.extend(ECHO.iter().map(|a| a.to_string()));
    args
}

/// Asserts the connection is served by ECHO.
#[track_caller]
fn assert_served(stream: &mut UnixStream) {
    assert_eq!(read_exactly(stream, 6), b"hello\n");
}

/// Runs a server that must fail: exit 1 and exactly `message` on stderr.
#[track_caller]
fn assert_fails(dir: &Path, args: &[String], message: &str) {
    let mut command = Command::new(serve_bin());
    command.args(args);
    let mut server = Server::spawn(dir, command);
    let status = server.wait_exit();
    assert_eq!((status.code(), server.stderr()), (Some(1), message.to_string()), "{args:?}");
}

fn mode(path: &Path) -> u32 {
    std::fs::symlink_metadata(path).unwrap_or_else(|e| panic!("{}: {e}", path.display())).permissions().mode() & 0o7777
}

fn abstract_name(tag: &str) -> String {
    format!("ssh-sockserve-test-{}-{tag}", std::process::id())
}

#[test]
fn the_socket_file_and_its_directories_are_made_with_their_modes() {
    let dir = TempDir::new();
    let socket = dir.join("a/b/socket");
    let _server = Server::start(dir.path(), &args(&[socket.to_str().unwrap()]));
    let meta = std::fs::symlink_metadata(&socket).unwrap();
    assert!(meta.file_type().is_socket());
    assert_eq!(mode(&socket), 0o666, "systemd's SocketMode= default");
    // 0755 less this process's umask, which the server inherited.
    let umask = unsafe { libc::umask(0o022) };
    unsafe { libc::umask(umask) };
    assert_eq!(mode(&dir.join("a")), 0o755 & !umask);
    assert_eq!(mode(&dir.join("a/b")), 0o755 & !umask);
    assert_served(&mut connect(&socket));

    for (option, expected) in [("--mode=0600", 0o600), ("--mode=660", 0o660), ("--mode=0", 0)] {
        let dir = TempDir::new();
        let socket = dir.join("s");
        let _server = Server::start(dir.path(), &args(&[option, socket.to_str().unwrap()]));
        assert_eq!(mode(&socket), expected, "{option}");
    }
}

#[test]
fn an_abstract_name_is_served() {
    let dir = TempDir::new();
    let name = abstract_name("abstract");
    let _server = Server::start(dir.path(), &args(&[&format!("@{name}")]));
    let address = SocketAddr::from_abstract_name(name.as_bytes()).unwrap();
    let mut stream = UnixStream::connect_addr(&address).expect("connect to the abstract name");
    stream.set_read_timeout(Some(super::LIMIT)).unwrap();
    assert_served(&mut stream);
}

#[test]
fn a_stale_socket_file_is_replaced_and_removed_on_sigterm() {
    let dir = TempDir::new();
    let socket = dir.join("s");
    // Bound and closed: the file stays, nobody listens.
    drop(UnixListener::bind(&socket).unwrap());
    let refused = UnixStream::connect(&socket).map_err(|e| e.kind());
    assert_eq!(refused.err(), Some(std::io::ErrorKind::ConnectionRefused), "not stale");
    let mut server = Server::start(dir.path(), &args(&[socket.to_str().unwrap()]));
    assert_served(&mut connect(&socket));
    server.signal(libc::SIGTERM);
    assert_eq!(server.wait_exit().code(), Some(0));
    assert!(!socket.exists(), "the socket file it made is removed");
}

#[test]
fn sigint_closes_every_listener_and_removes_the_files() {
    let dir = TempDir::new();
    let (one, two) = (dir.join("one"), dir.join("x/two"));
    let name = abstract_name("sigint");
    let listens = [one.to_str().unwrap(), two.to_str().unwrap(), &format!("@{name}")];
    let mut server = Server::start(dir.path(), &args(&listens));
    server.signal(libc::SIGINT);
    assert_eq!(server.wait_exit().code(), Some(0), "{}", server.stderr());
    assert!(!one.exists() && !two.exists(), "socket files left");
    assert!(dir.join("x").is_dir(), "the directory it made stays");
    let address = SocketAddr::from_abstract_name(name.as_bytes()).unwrap();
    assert!(UnixStream::connect_addr(&address).is_err(), "the abstract name is still bound");
}

#[test]
fn a_socket_file_replaced_meanwhile_is_not_removed() {
    let dir = TempDir::new();
    let socket = dir.join("s");
    let mut server = Server::start(dir.path(), &args(&[socket.to_str().unwrap()]));
    std::fs::remove_file(&socket).unwrap();
    let ours = UnixListener::bind(&socket).unwrap();
    server.signal(libc::SIGTERM);
    assert_eq!(server.wait_exit().code(), Some(0));
    assert!(socket.exists(), "another server's socket file was removed");
    drop(ours);
}

#[test]
fn a_live_socket_is_left_to_its_server() {
    let dir = TempDir::new();
    let socket = dir.join("s");
    let other = UnixListener::bind(&socket).unwrap();
    let inode = std::fs::metadata(&socket).unwrap().ino();
    assert_fails(
        dir.path(),
        &args(&[socket.to_str().unwrap()]),
        &format!("Failed to listen on {}: another server is listening there.\n", socket.display()),
    );
    assert_eq!(std::fs::metadata(&socket).unwrap().ino(), inode, "the live socket file was replaced");
    // Still the other server's: the probe connection is waiting there, and another gets through.
    other.set_nonblocking(true).unwrap();
    assert!(other.accept().is_ok(), "the probe");
    assert!(UnixStream::connect(&socket).is_ok());
}

#[test]
fn a_path_that_is_not_a_socket_is_refused_and_left_alone() {
    let dir = TempDir::new();
    let file = dir.join("file");
    std::fs::write(&file, "keep me").unwrap();
    let directory = dir.join("directory");
    std::fs::create_dir(&directory).unwrap();
    // A symlink to a live socket is not a socket file of ours to replace either.
    let target = dir.join("target");
    let _listener = UnixListener::bind(&target).unwrap();
    let link = dir.join("link");
    std::os::unix::fs::symlink(&target, &link).unwrap();
    for path in [&file, &directory, &link] {
        assert_fails(
            dir.path(),
            &args(&[path.to_str().unwrap()]),
            &format!("Failed to listen on {}: it exists and is not a socket.\n", path.display()),
        );
    }
    assert_eq!(std::fs::read_to_string(&file).unwrap(), "keep me");
    assert!(directory.is_dir() && std::fs::symlink_metadata(&link).unwrap().file_type().is_symlink());
}

#[test]
fn a_directory_that_cannot_be_made_is_one_line() {
    let dir = TempDir::new();
    std::fs::write(dir.join("file"), "").unwrap();
    let socket = dir.join("file/sub/s");
    assert_fails(
        dir.path(),
        &args(&[socket.to_str().unwrap()]),
        &format!("Failed to create the directory of {}: Not a directory\n", socket.display()),
    );
    let socket = dir.join("file/s");
    assert_fails(
        dir.path(),
        &args(&[socket.to_str().unwrap()]),
        &format!("Failed to listen on {}: Not a directory\n", socket.display()),
    );
}

#[test]
fn a_failed_bind_after_others_removes_what_was_made() {
    let dir = TempDir::new();
    let first = dir.join("first");
    let name = abstract_name("taken");
    let taken = SocketAddr::from_abstract_name(name.as_bytes()).unwrap();
    let _other = UnixListener::bind_addr(&taken).unwrap();
    assert_fails(
        dir.path(),
        &args(&[first.to_str().unwrap(), &format!("@{name}")]),
        &format!("Failed to listen on @{name}: Address already in use\n"),
    );
    assert!(!first.exists(), "the first socket file was left behind");
}
