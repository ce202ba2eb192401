//! ssh-sockserve's bad-input corpus: command lines that must be refused
//! before anything is bound. Each run is traced (socket, bind, listen,
//! clone) and must exit 1 with exactly the expected line on stderr and
//! nothing on stdout. The lines are built here from the message formats
//! and the proxy corpus's rendering of untrusted text, not recorded.

use std::ffi::OsString;
use std::io::Read;
use std::os::unix::ffi::OsStringExt;
use std::process::{Command, Stdio};

use sockproxy_test_common::{ChildGuard, TempDir};

use super::serve_bin;
use crate::bad_input::{bad_numbers, line, repeat, shown};
use crate::support::PANIC_EXIT;

struct Case {
    args: Vec<Vec<u8>>,
    message: Vec<u8>,
}

fn case(args: &[&[u8]], message: Vec<u8>) -> Case {
    Case { args: args.iter().map(|a| a.to_vec()).collect(), message }
}

/// `LISTEN -- /bin/true`: a command line whose only fault is LISTEN.
fn with_listen(listen: &[u8], message: Vec<u8>) -> Case {
    case(&[listen, b"--", b"/bin/true"], message)
}

/// `OPTION /run/x -- /bin/true`.
fn with_option(option: &[u8], message: Vec<u8>) -> Case {
    case(&[option, b"/run/sockserve-never", b"--", b"/bin/true"], message)
}

fn check_all(cases: &[Case]) {
    let dir = TempDir::new();
    let mut broken = Vec::new();
    for (n, case) in cases.iter().enumerate() {
        let log = dir.join(&format!("strace-{n}.log"));
        let mut command = Command::new("strace");
        command.args(["-f", "-qq", "-e", "trace=socket,bind,listen,clone", "-o"]).arg(&log).arg(serve_bin());
        command.args(case.args.iter().map(|arg| OsString::from_vec(arg.clone())));
        command.stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped());
        let mut child = ChildGuard(Some(command.spawn().expect("spawn strace")));
        let (mut stdout, mut stderr) = (Vec::new(), Vec::new());
        let child_ref = child.0.as_mut().unwrap();
        let (out_pipe, err_pipe) = (child_ref.stdout.take().unwrap(), child_ref.stderr.take().unwrap());
        std::thread::scope(|scope| {
            scope.spawn(|| {
                let _ = { out_pipe }.read_to_end(&mut stdout);
            });
            let _ = { err_pipe }.read_to_end(&mut stderr);
        });
        let status = child.wait_timeout(super::LIMIT);
        assert_ne!(status.code(), Some(PANIC_EXIT), "panicked");
        let trace = std::fs::read_to_string(&log).unwrap_or_default();
        let mut problems = Vec::new();
        if status.code() != Some(1) {
            problems.push(format!("exit status {status:?}"));
        }
        if stderr != case.message {
            let (got, expected) = (String::from_utf8_lossy(&stderr), String::from_utf8_lossy(&case.message));
            problems.push(format!("stderr {got:?}, expected {expected:?}"));
        }
        if !stdout.is_empty() {
            problems.push(format!("stdout {:?}", String::from_utf8_lossy(&stdout)));
        }
        if ["socket(", "bind(", "listen(", "clone("].iter().any(|call| trace.contains(call)) {
            problems.push(format!("went on: {trace}"));
        }
        if !problems.is_empty() {
            let shown_args: Vec<String> = case.args.iter().map(|a| String::from_utf8_lossy(&shown(a)).into()).collect();
            broken.push(format!("{shown_args:?}: {}", problems.join("; ")));
        }
    }
    assert!(broken.is_empty(), "{} of {} cases broken:\n{}", broken.len(), cases.len(), broken.join("\n"));
}

fn unknown_option(option: &[u8]) -> Vec<u8> {
    line(&[b"Unknown option: ", &shown(option), b" (see --help)"])
}

fn bad_max(option: &[u8]) -> Vec<u8> {
    line(&[b"Invalid value in option: ", &shown(option), b" (a number of connections, 1 to 4096)"])
}

fn bad_mode(option: &[u8]) -> Vec<u8> {
    line(&[b"Invalid value in option: ", &shown(option), b" (an octal mode, 0 to 0777)"])
}

fn unsupported(listen: &[u8]) -> Vec<u8> {
    line(&[b"Unsupported LISTEN address: ", &shown(listen), b" (vsock::PORT, vsock:CID:PORT, /PATH or @NAME)"])
}

#[test]
fn usage_is_one_line_before_anything_is_bound() {
    let no_listen = line(&[b"Expected at least one LISTEN address before -- (see --help)."]);
    let no_separator = line(&[b"Expected -- and the command to run after the LISTEN addresses (see --help)."]);
    let no_command = line(&[b"Expected the command to run after -- (see --help)."]);
    let mut cases = vec![
        case(&[], no_listen.clone()),
        case(&[b"--"], no_listen.clone()),
        case(&[b"--", b"/usr/sbin/sshd", b"-i"], no_listen.clone()),
        case(&[b"-v", b"--max-connections=3", b"--", b"sshd"], no_listen.clone()),
        case(&[b"/run/s"], no_separator.clone()),
        case(&[b"-v", b"/run/s", b"@x"], no_separator),
        case(&[b"/run/s", b"--"], no_command.clone()),
        case(&[b"vsock::22", b"-v", b"--"], no_command),
        // A forgotten --: COMMAND is taken for a LISTEN address (an absolute
        // path is one), its options for ours.
        case(&[b"/run/s", b"/usr/sbin/sshd", b"-i"], unknown_option(b"-i")),
        case(&[b"/run/s", b"sshd", b"-i"], unsupported(b"sshd")),
    ];
    let unknown: &[&[u8]] = &[
        b"-",
        b"-x",
        b"-V",
        b"-vv",
        b"-hv",
        b"---",
        b"--frob",
        b"--VERBOSE",
        b"--verbose=1",
        b"--help=1",
        b"--version=2",
        b"--max-connections",
        b"--max-connection=3",
        b"--maxconnections=3",
        b"--mode",
        b"--MODE=0600",
        b"--modes=0600",
        b"--wait",
        b"--fdpass",
        b"-\n-",
        b"--\xff",
    ];
    for option in unknown {
        cases.push(with_option(option, unknown_option(option)));
    }
    let mut max_values: Vec<Vec<u8>> = ["0", "4097", "-1", "+3", "0x10", "1e3", "3.0", "64 ", " 64", "4294967296"]
        .iter()
        .map(|v| v.as_bytes().to_vec())
        .collect();
    max_values.extend(bad_numbers());
    for value in max_values {
        let option = [&b"--max-connections="[..], &value].concat();
        cases.push(with_option(&option, bad_max(&option)));
    }
    let mode_values: &[&[u8]] =
        &[b"", b"8", b"0800", b"1000", b"07777", b"0o600", b"rw", b"-1", b"+600", b" 600", b"600 ", b"0x1ff"];
    let mut mode_values: Vec<Vec<u8>> = mode_values.iter().map(|v| v.to_vec()).collect();
    mode_values.extend([repeat(b'7', 5000), [&b"0"[..], &repeat(b'0', 300), b"7777"].concat()]);
    for value in mode_values {
        let option = [&b"--mode="[..], &value].concat();
        cases.push(with_option(&option, bad_mode(&option)));
    }
    check_all(&cases);
}

#[test]
fn bad_listen_addresses_are_one_line_before_anything_is_bound() {
    let mut cases = Vec::new();
    let unsupported_values: Vec<Vec<u8>> = [
        &b"22"[..],
        b"tcp:22",
        b"0.0.0.0:22",
        b"[::]:22",
        b"127.0.0.1:2222",
        b"run/ssh.sock",
        b"./ssh.sock",
        b"~/ssh.sock",
        b"VSOCK::22",
        b"Vsock::22",
        b"vsock-stream::22",
        b"vsock-mux/run/x",
        b"vsock/3",
        b"unix:/run/x",
        b"unix/run/x",
        b".host",
        b"",
        b" /run/x",
        b"\x1b[2J",
        b"line\nbreak",
        b"\xff\xfe",
    ]
    .iter()
    .map(|v| v.to_vec())
    .chain([repeat(b'x', 5000), repeat(b'\n', 300), repeat(b'a', 131_000)])
    .collect();
    for value in &unsupported_values {
        cases.push(with_listen(value, unsupported(value)));
    }
    let mut numbers = bad_numbers();
    numbers.extend([b"4294967295".to_vec(), b"-1".to_vec(), b"22:1".to_vec(), b":22".to_vec()]);
    for port in &numbers {
        for cid in [&b""[..], b"3", b"any"] {
            let listen = [&b"vsock:"[..], cid, b":", port].concat();
            cases.push(with_listen(
                &listen,
                line(&[b"Failed to parse vsock port in LISTEN address: ", &shown(&listen)]),
            ));
        }
    }
    for no_port in [&b"vsock:"[..], b"vsock:22", b"vsock:3", b"vsock:local"] {
        cases.push(with_listen(no_port, line(&[b"Failed to parse vsock port in LISTEN address: ", &shown(no_port)])));
    }
    let mut cids = bad_numbers();
    cids.retain(|cid| !cid.is_empty() && !cid.contains(&b':'));
    cids.extend([b"Host".to_vec(), b"LOCAL".to_vec(), b"-2".to_vec(), b"0x3".to_vec()]);
    for cid in &cids {
        let listen = [&b"vsock:"[..], cid, b":22"].concat();
        cases.push(with_listen(&listen, line(&[b"Failed to parse vsock cid in LISTEN address: ", &shown(&listen)])));
    }
    for len in [108, 109, 200, 4096, 131_000] {
        let path = [&b"/"[..], &repeat(b'p', len - 1)].concat();
        cases.push(with_listen(&path, line(&[b"AF_UNIX socket path is longer than 107 bytes: ", &shown(&path)])));
        let name = [&b"@"[..], &repeat(b'n', len)].concat();
        cases.push(with_listen(
            &name,
            line(&[b"Abstract AF_UNIX socket name is longer than 107 bytes: ", &shown(&name)]),
        ));
    }
    cases.push(with_listen(b"@", line(&[b"Abstract AF_UNIX socket name is empty."])));
    for (first, second) in [(&b"/run/s"[..], &b"/run/s"[..]), (b"@x", b"@x"), (b"vsock::22", b"vsock:4294967295:22")] {
        cases.push(case(&[first, second, b"--", b"/bin/true"], line(&[b"LISTEN address given twice: ", second])));
    }
    let seventeen: Vec<Vec<u8>> = (0..17).map(|n| format!("@sockserve-never-{n}").into_bytes()).collect();
    let mut args: Vec<&[u8]> = seventeen.iter().map(Vec::as_slice).collect();
    args.extend([&b"--"[..], b"/bin/true"]);
    cases.push(case(&args, line(&[b"Too many LISTEN addresses (at most 16)."])));
    check_all(&cases);
}

#[test]
fn help_and_version_print_to_stdout() {
    let output = Command::new(serve_bin()).arg("--help").output().unwrap();
    let help = String::from_utf8(output.stdout).unwrap();
    assert!(output.status.success() && output.stderr.is_empty());
    assert!(help.starts_with("Usage: ssh-sockserve [OPTIONS] LISTEN... -- COMMAND [ARG...]\n"), "{help}");
    for needle in
        ["vsock::PORT", "vsock:CID:PORT", "/PATH", "@NAME", "--max-connections=N", "--mode=OCTAL", "NOTIFY_SOCKET"]
    {
        assert!(help.contains(needle), "--help lacks {needle}");
    }
    let output = Command::new(serve_bin()).args(["-h", "@x", "--", "x"]).output().unwrap();
    assert_eq!(String::from_utf8(output.stdout).unwrap(), help);
    let output = Command::new(serve_bin()).arg("--version").output().unwrap();
    assert!(output.status.success() && output.stderr.is_empty());
    assert_eq!(String::from_utf8(output.stdout).unwrap(), format!("ssh-sockserve {}\n", env!("CARGO_PKG_VERSION")));
}
