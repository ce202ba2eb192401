//! `unix/` targets: every path rule, long paths, abstract names, case recovery, errors.

use std::os::unix::ffi::OsStringExt;
use std::os::unix::net::UnixDatagram;
use std::path::Path;
use std::process::Command;

use sockproxy_test_common::TempDir;

use crate::support::{Listener, assert_connected_to, bin, run, run_fdpass, unix_host};

/// The proxy with `args`, in a private mount namespace prepared by the shell
/// command `setup` (an empty /proc as in an early initrd, a /run of our own).
pub fn in_mount_namespace(setup: &str, args: &[&str]) -> Command {
    let mut command = Command::new("unshare");
    command
        .args(["--mount", "--propagation", "private", "--", "sh", "-c"])
        .arg(format!("{setup} && exec \"$0\" \"$@\""))
        .arg(bin())
        .args(args);
    command
}

#[test]
fn absolute_path_in_every_spelling() {
    let dir = TempDir::new();
    let sock = dir.join("s.sock");
    let listener = Listener::bind(&sock);
    let without_root = sock.to_str().unwrap().trim_start_matches('/').to_owned();
    for host in
        [format!("unix/{without_root}"), format!("unix%{without_root}"), unix_host('/', &sock), unix_host('%', &sock)]
    {
        let out = run(&[&host, "22"]);
        assert_connected_to(out.assert_handoff(), &listener);
    }
}

#[test]
fn port_is_ignored() {
    let dir = TempDir::new();
    let sock = dir.join("s.sock");
    let listener = Listener::bind(&sock);
    let out = run(&[&unix_host('/', &sock), "not-a-port"]);
    assert_connected_to(out.assert_handoff(), &listener);
}

#[test]
fn dot_slash_path_is_relative_to_cwd() {
    let dir = TempDir::new();
    let listener = Listener::bind(&dir.join("rel.sock"));
    for host in ["unix/./rel.sock", "unix%./rel.sock"] {
        let mut command = Command::new(bin());
        command.args([host, "22"]).current_dir(dir.path());
        assert_connected_to(run_fdpass(command).assert_handoff(), &listener);
    }
}

#[test]
fn path_without_dot_slash_is_absolute() {
    let dir = TempDir::new();
    let _listener = Listener::bind(&dir.join("rel.sock"));
    let mut command = Command::new(bin());
    command.args(["unix/rel.sock", "22"]).current_dir(dir.path());
    run_fdpass(command).assert_failure("Failed to connect to AF_UNIX socket /rel.sock: No such file or directory\n");
}

/// A directory chain under `dir` that makes `dir/.../name` `total` bytes long.
pub fn deep_path(dir: &Path, total: usize, name: &str) -> std::path::PathBuf {
    let mut path = dir.to_path_buf();
    while path.as_os_str().len() + 1 + name.len() < total {
        let room = total - path.as_os_str().len() - 1 - name.len() - 1;
        let segment = "d".repeat(room.clamp(1, 60));
        path.push(segment);
    }
    std::fs::create_dir_all(&path).expect("create deep dirs");
    let path = path.join(name);
    assert_eq!(path.as_os_str().len(), total, "test set-up");
    path
}

#[test]
fn paths_longer_than_sun_path() {
    for total in [108, 109, 300, 1000] {
        let dir = TempDir::new();
        let sock = deep_path(dir.path(), total, "s.sock");
        let listener = Listener::bind_long(&sock);
        let out = run(&[&unix_host('/', &sock), "22"]);
        assert_connected_to(out.assert_handoff(), &listener);
    }
}

#[test]
fn long_relative_path() {
    let dir = TempDir::new();
    let sock = deep_path(dir.path(), dir.path().as_os_str().len() + 250, "s.sock");
    let listener = Listener::bind_long(&sock);
    let relative = format!("./{}", sock.strip_prefix(dir.path()).unwrap().display());
    let mut command = Command::new(bin());
    command.args([&format!("unix/{relative}"), "22"]).current_dir(dir.path());
    assert_connected_to(run_fdpass(command).assert_handoff(), &listener);
}

#[test]
fn long_path_without_proc() {
    let dir = TempDir::new();
    let sock = deep_path(dir.path(), 400, "s.sock");
    let listener = Listener::bind_long(&sock);
    // A private mount namespace with an empty /proc, like an early initrd.
    let command = in_mount_namespace("mount -t tmpfs none /proc", &[&unix_host('/', &sock), "22"]);
    assert_connected_to(run_fdpass(command).assert_handoff(), &listener);
}

#[test]
fn final_name_longer_than_sun_path_uses_proc() {
    let dir = TempDir::new();
    let name = format!("{}.sock", "n".repeat(150));
    let sock = dir.join(&name);
    let listener = Listener::bind_long(&sock);
    let out = run(&[&unix_host('/', &sock), "22"]);
    assert_connected_to(out.assert_handoff(), &listener);
}

#[test]
fn final_name_longer_than_sun_path_without_proc_is_too_long() {
    let dir = TempDir::new();
    let name = format!("{}.sock", "n".repeat(150));
    let sock = dir.join(&name);
    let _listener = Listener::bind_long(&sock);
    let command = in_mount_namespace("mount -t tmpfs none /proc", &[&unix_host('/', &sock), "22"]);
    run_fdpass(command)
        .assert_failure(&format!("Failed to connect to AF_UNIX socket {}: File name too long\n", sock.display()));
}

#[test]
fn path_beyond_path_max_is_too_long() {
    let host = format!("unix/{}", "a/".repeat(2100));
    let out = run(&[&host, "22"]);
    assert_eq!(out.code(), Some(1));
    // The path is shown by its head and tail, so the reason still fits.
    let half = "a/".repeat(50);
    out.assert_failure(&format!("Failed to connect to AF_UNIX socket /{half}...{half}: File name too long\n"));
}

#[test]
fn abstract_socket() {
    let name = format!("ssh-sockproxy-test-{}", std::process::id());
    let listener = Listener::bind_abstract(name.as_bytes());
    for sep in ['/', '%'] {
        let out = run(&[&format!("unix{sep}@{name}"), "22"]);
        assert_connected_to(out.assert_handoff(), &listener);
    }
}

#[test]
fn missing_abstract_socket() {
    let host = format!("unix/@ssh-sockproxy-absent-{}", std::process::id());
    run(&[&host, "22"])
        .assert_failure(&format!("Failed to connect to AF_UNIX socket {}: Connection refused\n", &host[5..]));
}

#[test]
fn case_recovered_for_lowercased_host() {
    let dir = TempDir::new();
    std::fs::create_dir_all(dir.join("VMs/Web-1")).unwrap();
    let sock = dir.join("VMs/Web-1/SSH.sock");
    let listener = Listener::bind(&sock);
    let lowered = unix_host('/', &sock).to_lowercase();
    let out = run(&[&lowered, "22"]);
    assert_connected_to(out.assert_handoff(), &listener);
}

#[test]
fn case_recovered_for_long_and_relative_paths() {
    let dir = TempDir::new();
    let sock = deep_path(&dir.join("Deep"), dir.path().as_os_str().len() + 200, "Vm.sock");
    let listener = Listener::bind_long(&sock);
    let lowered = unix_host('/', &sock).to_lowercase();
    assert_connected_to(run(&[&lowered, "22"]).assert_handoff(), &listener);

    let relative = format!("unix/./{}", sock.strip_prefix(dir.path()).unwrap().display()).to_lowercase();
    let mut command = Command::new(bin());
    command.args([&relative, "22"]).current_dir(dir.path());
    assert_connected_to(run_fdpass(command).assert_handoff(), &listener);
}

#[test]
fn ambiguous_case_is_not_guessed() {
    let dir = TempDir::new();
    let _a = Listener::bind(&dir.join("Vm.sock"));
    let _b = Listener::bind(&dir.join("VM.sock"));
    let wanted = dir.join("vm.sock");
    run(&[&unix_host('/', &wanted), "22"]).assert_failure(&format!(
        "Failed to connect to AF_UNIX socket {}: No such file or directory\n",
        wanted.display()
    ));
}

#[test]
fn exact_name_wins_over_case_variants() {
    let dir = TempDir::new();
    let exact = Listener::bind(&dir.join("vm.sock"));
    let _other = Listener::bind(&dir.join("VM.sock"));
    let out = run(&[&unix_host('/', &dir.join("vm.sock")), "22"]);
    assert_connected_to(out.assert_handoff(), &exact);
}

#[test]
fn connect_errors_name_path_and_errno() {
    let dir = TempDir::new();
    std::fs::write(dir.join("file"), b"x").unwrap();
    std::fs::create_dir(dir.join("dir")).unwrap();
    drop(Listener::bind(&dir.join("stale.sock"))); // socket file, nobody listening
    let _dgram = UnixDatagram::bind(dir.join("dgram.sock")).unwrap();
    let cases = [
        ("missing.sock", "No such file or directory"),
        ("file", "it is a regular file, not a socket"),
        ("dir", "it is a directory, not a socket"),
        ("stale.sock", "Connection refused"),
        ("dgram.sock", "Protocol wrong type for socket"),
        ("file/below", "Not a directory"),
    ];
    for (name, errno) in cases {
        let path = dir.join(name);
        run(&[&unix_host('/', &path), "22"])
            .assert_failure(&format!("Failed to connect to AF_UNIX socket {}: {errno}\n", path.display()));
    }
}

/// A path that exists and is no socket will not become one: it fails at
/// once, even with --wait (with -v, a retry would add a line), saying what it
/// is, whichever way the path is reached.
#[test]
fn non_socket_paths_fail_at_once_even_with_wait() {
    let dir = TempDir::new();
    std::fs::write(dir.join("file"), b"x").unwrap();
    std::fs::create_dir(dir.join("dir")).unwrap();
    let fifo = std::ffi::CString::new(dir.join("fifo").into_os_string().into_vec()).unwrap();
    // SAFETY: mkfifo reads a valid NUL-terminated path.
    assert_eq!(unsafe { libc::mkfifo(fifo.as_ptr(), 0o600) }, 0, "mkfifo");
    // Longer than sun_path, short enough to be shown whole.
    let long = deep_path(dir.path(), 180, "file");
    std::fs::write(&long, b"x").unwrap();
    let not_socket = |path: &Path, what: &str| {
        format!("Failed to connect to AF_UNIX socket {}: it is a {what}, not a socket\n", path.display())
    };
    let cases = [
        (unix_host('/', &dir.join("file")), not_socket(&dir.join("file"), "regular file")),
        (unix_host('%', &dir.join("dir")), not_socket(&dir.join("dir"), "directory")),
        (unix_host('/', &dir.join("fifo")), not_socket(&dir.join("fifo"), "FIFO")),
        (unix_host('/', &long), not_socket(&long, "regular file")),
        ("unix/dev/null".to_owned(), not_socket(Path::new("/dev/null"), "character device")),
        ("unix/".to_owned(), not_socket(Path::new("/"), "directory")),
        (format!("vsock-mux/{}", dir.join("fifo").display()), not_socket(&dir.join("fifo"), "FIFO")),
    ];
    for (host, message) in cases {
        run(&["-v", "--wait=3", &host, "22"]).assert_failure(&message);
    }
}

#[test]
fn dot_host_is_the_local_sshd_socket() {
    // /run/ssh-unix-local/socket, provided in a private mount namespace.
    let dir = TempDir::new();
    std::fs::create_dir(dir.join("ssh-unix-local")).unwrap();
    let listener = Listener::bind(&dir.join("ssh-unix-local/socket"));
    let command = in_mount_namespace(&format!("mount --bind {} /run", dir.path().display()), &[".host", "22"]);
    assert_connected_to(run_fdpass(command).assert_handoff(), &listener);
}

#[test]
fn dot_host_without_local_sshd() {
    let dir = TempDir::new();
    let command = in_mount_namespace(&format!("mount --bind {} /run", dir.path().display()), &[".host", "22"]);
    run_fdpass(command)
        .assert_failure("Failed to connect to AF_UNIX socket /run/ssh-unix-local/socket: No such file or directory\n");
}
