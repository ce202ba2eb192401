//! The bad-input corpus: argument vectors that must be refused before any
//! socket exists. Each run is traced (socket and connect), and must exit 1
//! with exactly the expected line on stderr, nothing on stdout and no
//! descriptor sent, within the harness's time bound.
//!
//! The expected lines are built here from the message formats and an
//! independent rendering of untrusted text (`shown`), not recorded from the
//! binary.

use std::ffi::OsString;
use std::os::unix::ffi::OsStringExt;
use std::process::{Command, Stdio};
use std::time::Duration;

use sockproxy_test_common::{ChildGuard, TempDir};

use crate::signals::{Inherited, inherit, widowed_pipe};
use crate::support::{bin, run_fdpass};

/// One argument vector and the one line it must produce.
struct Case {
    args: Vec<Vec<u8>>,
    message: Vec<u8>,
}

fn case(args: &[&[u8]], message: impl Into<Vec<u8>>) -> Case {
    Case { args: args.iter().map(|arg| arg.to_vec()).collect(), message: message.into() }
}

/// How a message shows untrusted bytes: control characters (C0, DEL, C1,
/// in their UTF-8 form) and bytes that are not UTF-8 as `\xNN` each, by
/// std's reading of UTF-8; more than 200 bytes as the first 100, `...` and
/// the last 100.
pub fn shown(bytes: &[u8]) -> Vec<u8> {
    fn escape(bytes: &[u8]) -> Vec<u8> {
        let hex = |out: &mut Vec<u8>, bytes: &[u8]| {
            for byte in bytes {
                out.extend(format!("\\x{byte:02x}").into_bytes());
            }
        };
        let mut out = Vec::new();
        for chunk in bytes.utf8_chunks() {
            for c in chunk.valid().chars() {
                let mut utf8 = [0; 4];
                let encoded = c.encode_utf8(&mut utf8).as_bytes();
                if c.is_control() {
                    hex(&mut out, encoded);
                } else {
                    out.extend_from_slice(encoded);
                }
            }
            hex(&mut out, chunk.invalid());
        }
        out
    }
    if bytes.len() > 200 {
        [escape(&bytes[..100]), b"...".to_vec(), escape(&bytes[bytes.len() - 100..])].concat()
    } else {
        escape(bytes)
    }
}

pub fn line(parts: &[&[u8]]) -> Vec<u8> {
    [parts.concat(), b"\n".to_vec()].concat()
}

/// Runs every case under strace and collects what went wrong, so that one
/// run reports all broken cases at once.
fn check_all(cases: &[Case]) {
    let dir = TempDir::new();
    let mut broken = Vec::new();
    for (n, case) in cases.iter().enumerate() {
        let log = dir.join(&format!("strace-{n}.log"));
        let mut command = Command::new("strace");
        command.args(["-f", "-qq", "-e", "trace=socket,connect", "-o"]).arg(&log).arg(bin());
        command.args(case.args.iter().map(|arg| OsString::from_vec(arg.clone())));
        let out = run_fdpass(command);
        let trace = std::fs::read_to_string(&log).unwrap_or_default();
        let shown_args: Vec<String> =
            case.args.iter().map(|a| String::from_utf8_lossy(&shown(a)).into_owned()).collect();
        let mut problems = Vec::new();
        if out.code() != Some(1) {
            problems.push(format!("exit status {:?}", out.status));
        }
        if out.stderr_bytes != case.message {
            problems.push(format!(
                "stderr {:?}, expected {:?}",
                String::from_utf8_lossy(&out.stderr_bytes),
                String::from_utf8_lossy(&case.message)
            ));
        }
        if out.stderr_bytes.iter().filter(|&&b| b == b'\n').count() != 1 || !out.stderr_bytes.ends_with(b"\n") {
            problems.push("stderr is not exactly one line".into());
        }
        if !out.stdout.is_empty() || out.fd.is_some() {
            problems.push(format!("stdout {:?}, descriptor {:?}", out.stdout, out.fd));
        }
        if trace.contains("socket(") || trace.contains("connect(") {
            problems.push(format!("made a socket: {trace}"));
        }
        if !problems.is_empty() {
            broken.push(format!("{shown_args:?}: {}", problems.join("; ")));
        }
    }
    assert!(broken.is_empty(), "{} of {} cases broken:\n{}", broken.len(), cases.len(), broken.join("\n"));
}

const ARGUMENT_COUNT: &[u8] = b"Expected two arguments: host and port.";

fn unknown_option(option: &[u8]) -> Vec<u8> {
    line(&[b"Unknown option: ", &shown(option), b" (see --help)"])
}

fn bad_option_value(option: &[u8]) -> Vec<u8> {
    line(&[b"Invalid value in option: ", &shown(option), b" (a number of seconds)"])
}

fn unknown_host(host: &[u8]) -> Vec<u8> {
    line(&[b"Don't know how to parse host name specification: ", &shown(host)])
}

fn bad_cid(cid: &[u8]) -> Vec<u8> {
    line(&[b"Failed to parse vsock cid: ", &shown(cid)])
}

fn bad_port(port: &[u8]) -> Vec<u8> {
    line(&[b"Failed to parse vsock port: ", &shown(port)])
}

fn bad_machine(name: &[u8]) -> Vec<u8> {
    line(&[b"Invalid machine name: ", &shown(name)])
}

/// A string of `len` bytes of `byte`.
pub fn repeat(byte: u8, len: usize) -> Vec<u8> {
    vec![byte; len]
}

/// Numbers just past every boundary a CID or port has, and garbage that
/// looks like a number.
pub fn bad_numbers() -> Vec<Vec<u8>> {
    let mut numbers: Vec<Vec<u8>> = [
        &b""[..],
        b"4294967296",
        b"4294967297",
        b"9999999999",
        b"18446744073709551615",
        b"18446744073709551616",
        b"0x10",
        b"0X10",
        b"+3",
        b" 3",
        b"3 ",
        b"\t3",
        b"3\n",
        b"-0",
        b"--1",
        b"1e3",
        b"3.0",
        b"3,0",
        b"0b11",
        b"\xe0\xa5\xa9",
        b"\xff",
        b"\xc2\x9b3",
        b"3\x9b",
        b"abc",
    ]
    .iter()
    .map(|n| n.to_vec())
    .collect();
    numbers.push(repeat(b'9', 5000));
    numbers.push([&b"1"[..], &repeat(b'0', 300)].concat());
    numbers
}

fn argument_counts_and_options() -> Vec<Case> {
    let mut cases = vec![
        case(&[], line(&[ARGUMENT_COUNT])),
        case(&[b"unix/x"], line(&[ARGUMENT_COUNT])),
        case(&[b"unix/x", b"22", b"extra"], line(&[ARGUMENT_COUNT])),
        case(&[b"unix/x", b"22", b"extra", b"more"], line(&[ARGUMENT_COUNT])),
        case(&[b"--"], line(&[ARGUMENT_COUNT])),
        case(&[b"--", b"unix/x"], line(&[ARGUMENT_COUNT])),
        case(&[b"--", b"unix/x", b"22", b"--"], line(&[ARGUMENT_COUNT])),
        case(&[b"-v"], line(&[ARGUMENT_COUNT])),
        case(&[b"-v", b"unix/x"], line(&[ARGUMENT_COUNT])),
        case(&[b"--wait", b"--relay", b"unix/x"], line(&[ARGUMENT_COUNT])),
        case(&[b"--fdpass", b"--", b"unix/x", b"22", b"-v"], line(&[ARGUMENT_COUNT])),
        // Options end at the host: a trailing option is an argument too many.
        case(&[b"unix/x", b"22", b"-v"], line(&[ARGUMENT_COUNT])),
    ];
    let unknown: &[&[u8]] = &[
        b"-",
        b"-x",
        b"-V",
        b"-vv",
        b"-hv",
        b"---",
        b"--frob",
        b"--WAIT",
        b"--wai",
        b"--waitt",
        b"--timeout",
        b"--timeouts=1",
        b"--help=1",
        b"--verbose=1",
        b"--fdpass=1",
        b"--relay=yes",
        b"--version=2",
        b"--print-ssh-config=x",
        b"--=",
        b"-\n",
        b"--\x1b[2J",
        b"-\xff",
        b"--\xc2\x9b[2J",
        b"--\x9b[2J",
    ];
    for option in unknown {
        cases.push(case(&[option, b"unix/x", b"22"], unknown_option(option)));
    }
    let long_option = [&b"--"[..], &repeat(b'x', 3000)].concat();
    cases.push(case(&[&long_option, b"unix/x", b"22"], unknown_option(&long_option)));
    let bad_values: &[&[u8]] = &[
        b"--wait=",
        b"--wait=x",
        b"--wait=-1",
        b"--wait=+1",
        b"--wait=1.5",
        b"--wait= 1",
        b"--wait=1s",
        b"--wait=0x10",
        b"--wait=4294967296",
        b"--wait=99999999999999999999",
        b"--wait==1",
        b"--timeout=",
        b"--timeout=0",
        b"--timeout=00",
        b"--timeout=-5",
        b"--timeout=4294967296",
        b"--timeout=1e3",
        b"--timeout=\n",
        b"--timeout=\xc2\x9b",
        b"--wait=\x9b1",
    ];
    for option in bad_values {
        cases.push(case(&[option, b"unix/x", b"22"], bad_option_value(option)));
    }
    cases
}

fn host_specifications() -> Vec<Case> {
    let mut cases = Vec::new();
    let mut hosts: Vec<Vec<u8>> = [
        &b""[..],
        b"example.com",
        b"tcp/127.0.0.1",
        b"ssh://host",
        b"Unix/x",
        b"UNIX/x",
        b"VSOCK/3",
        b"Vsock/3",
        b"Machine/x",
        b"Vsock-Mux/x",
        b"unix",
        b"vsock",
        b"vsock-mux",
        b"machine",
        b"unix:x",
        b"unix\\x",
        b"unix#x",
        b"unix-x",
        b"vsock-/3",
        b"vsock_mux/x",
        b"vsockmux/x",
        b"vsock-mux-x/y",
        b"/unix/x",
        b"%unix/x",
        b"/",
        b"%",
        b"//",
        b".host/",
        b".hostx",
        b".HOST",
        b"..host",
        b"host",
        b" unix/x",
        b"unix /x",
        b"\xff",
        b"\xff/x",
        b"unix\xff/x",
        b"evil\nline\x1b[2J",
        b"\x7f",
        // C1 controls: CSI (U+009B) in UTF-8 and as a raw byte, NEL, the
        // first and last; U+00A0 and U+011B (0xc4 0x9b) are none.
        b"evil\xc2\x9b[2Jline",
        b"evil\x9b[2Jline",
        b"a\xc2\x85b\xc2\x80\xc2\x9f\xc2\xa0\xc4\x9b",
        // Not UTF-8: overlong forms of CSI, a surrogate, past U+10FFFF, cut short.
        b"\xc1\x9b\xe0\x82\x9b\xf0\x80\x82\x9b",
        b"\xed\xa0\x80\xf4\x90\x80\x80",
        b"\xe2\x82",
        b"unix\xc2\x9b/x",
    ]
    .iter()
    .map(|h| h.to_vec())
    .collect();
    hosts.push(repeat(b'a', 5000));
    hosts.push(repeat(b'\n', 300));
    // The cut at 100 bytes falls inside a C1 control and inside a character.
    hosts.push([repeat(b'a', 99), b"\xc2\x9b".repeat(60), repeat(b'a', 99), "\u{e9}".repeat(10).into_bytes()].concat());
    hosts.push(repeat(b'a', 131_000));
    for host in &hosts {
        cases.push(case(&[host, b"22"], unknown_host(host)));
    }
    cases
}

fn vsock_cids_and_ports() -> Vec<Case> {
    let mut cases = Vec::new();
    for sep in ["/", "%"] {
        for any in [&b"any"[..], b"-1", b"4294967295"] {
            let host = [format!("vsock{sep}").as_bytes(), any].concat();
            cases.push(case(&[&host, b"22"], line(&[b"Cannot use VMADDR_CID_ANY to connect to a remote host."])));
        }
        let mut cids = bad_numbers();
        cids.extend([&b"LOCAL"[..], b"Host", b"hypervisor2", b"loca", b"3/4", b"3%4"].iter().map(|c| c.to_vec()));
        for cid in cids {
            let host = [format!("vsock{sep}").as_bytes(), &cid].concat();
            cases.push(case(&[&host, b"22"], bad_cid(&cid)));
        }
    }
    // A good CID with a bad port: refused before the socket, so nothing
    // here can reach a real AF_VSOCK peer (this machine is a VM).
    let mut ports = bad_numbers();
    ports.extend([&b"-1"[..], b"4294967295", b"ssh", b"22\nFOO 1"].iter().map(|p| p.to_vec()));
    for host in [&b"vsock/3"[..], b"vsock%local", b"vsock/host", b"vsock/hypervisor"] {
        for port in &ports {
            cases.push(case(&[host, port], bad_port(port)));
        }
    }
    cases
}

fn unix_mux_and_machine_names() -> Vec<Case> {
    let mut cases = Vec::new();
    for prefix in [&b"unix"[..], b"vsock-mux"] {
        for sep in [b'/', b'%'] {
            let host = [prefix, &[sep], b"@"].concat();
            cases.push(case(&[&host, b"22"], line(&[b"Abstract AF_UNIX socket name is empty."])));
            for len in [108, 200, 5000] {
                let name = repeat(b'n', len);
                let host = [prefix, &[sep], b"@", &name].concat();
                let message = line(&[b"Abstract AF_UNIX socket name is longer than 107 bytes: @", &shown(&name)]);
                cases.push(case(&[&host, b"22"], message));
            }
        }
    }
    for port in [&b""[..], b"-1", b"4294967295", b"4294967296", b" 22", b"22\nFOO 1", b"0x16", b"ssh"] {
        for host in [&b"vsock-mux/run/vm.vsock"[..], b"vsock-mux%./vm.vsock", b"vsock-mux/@vm"] {
            cases.push(case(&[host, port], bad_port(port)));
        }
    }
    let names: Vec<Vec<u8>> = [
        &b""[..],
        b".",
        b"..",
        b"a/b",
        b"/x",
        b"a b",
        b"a_b",
        b"-a",
        b"a-",
        b"a.-b",
        b"a..b",
        b".a",
        b"a.",
        b"\xc3\xa9",
        b"\xff",
        b"a\nb",
        b"..host",
        b".host.",
        b"a\"b",
        b"a\\b",
        b"*",
        b"a%b",
        b"\xc2\x9b[2J",
        b"a\x9bb",
    ]
    .iter()
    .map(|n| n.to_vec())
    .chain([repeat(b'a', 65), repeat(b'a', 5000)])
    .collect();
    for name in &names {
        for sep in [b'/', b'%'] {
            let host = [&b"machine"[..], &[sep], name].concat();
            cases.push(case(&[&host, b"22"], bad_machine(name)));
        }
    }
    cases
}

#[test]
fn bad_options_and_argument_counts() {
    check_all(&argument_counts_and_options());
}

#[test]
fn bad_host_specifications() {
    check_all(&host_specifications());
}

#[test]
fn bad_vsock_cids_and_ports() {
    check_all(&vsock_cids_and_ports());
}

#[test]
fn bad_unix_mux_and_machine_names() {
    check_all(&unix_mux_and_machine_names());
}

fn every_case() -> Vec<Case> {
    [argument_counts_and_options(), host_specifications(), vsock_cids_and_ports(), unix_mux_and_machine_names()]
        .into_iter()
        .flatten()
        .collect()
}

/// Every vector again as an unlucky parent starts it: first with a stderr
/// whose reader is gone (the line is lost, but the exit status is still 1,
/// not death by SIGPIPE), then with every signal blocked and SIGALRM and
/// SIGPIPE ignored (the same line).
#[test]
fn every_vector_whatever_the_parent_left() {
    let cases = every_case();
    let mut broken = Vec::new();
    for case in &cases {
        let args: Vec<OsString> = case.args.iter().map(|arg| OsString::from_vec(arg.clone())).collect();
        let shown_args: Vec<String> =
            case.args.iter().map(|a| String::from_utf8_lossy(&shown(a)).into_owned()).collect();
        let mut command = Command::new(bin());
        command.args(&args).stdin(Stdio::null()).stdout(Stdio::null()).stderr(widowed_pipe());
        let status = ChildGuard(Some(command.spawn().expect("spawn"))).wait_timeout(Duration::from_secs(20));
        if status.code() != Some(1) {
            broken.push(format!("{shown_args:?} with stderr gone: {status:?}"));
        }
        let mut command = Command::new(bin());
        command.args(&args);
        inherit(&mut command, Inherited::Both);
        let out = run_fdpass(command);
        if out.code() != Some(1) || out.stderr_bytes != case.message || !out.stdout.is_empty() || out.fd.is_some() {
            broken.push(format!("{shown_args:?} with signals blocked and ignored: {out:?}"));
        }
    }
    assert!(broken.is_empty(), "{} of {} cases broken:\n{}", broken.len(), cases.len(), broken.join("\n"));
}

#[test]
fn corpus_has_at_least_150_vectors() {
    let total = every_case().len();
    eprintln!("bad-input corpus: {total} vectors");
    assert!(total >= 150, "only {total} vectors");
}
