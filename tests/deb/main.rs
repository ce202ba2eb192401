//! `make deb` (make deb-test): the Debian packages of every architecture, what
//! they hold, lintian's view, two builds giving the same bytes, and the amd64
//! package installed on this machine with dpkg -i, a real login through its
//! drop-in alone, then dpkg -r and dpkg --purge leaving nothing behind.
//!
//! A crate of its own, run after the black-box tests: while the package is
//! installed, its drop-in is in /etc/ssh/ssh_config.d, where the ssh of
//! other tests running beside it would read it.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use sockproxy_test_common::TempDir;
use sockproxy_test_common::sshd::{Sshd, output_with_timeout, user};

const VERSION: &str = env!("CARGO_PKG_VERSION");
const DROPIN: &str = "/etc/ssh/ssh_config.d/20-ssh-sockproxy.conf";
/// Each architecture's Debian name and its Rust triple.
const ARCHES: [(&str, &str); 4] = [
    ("amd64", "x86_64-unknown-linux-musl"),
    ("arm64", "aarch64-unknown-linux-musl"),
    ("riscv64", "riscv64gc-unknown-linux-gnu"),
    ("armhf", "armv7-unknown-linux-gnueabihf"),
];
/// What every package installs, as `dpkg-deb -c` lists it.
const FILES: [&str; 8] = [
    "./etc/ssh/ssh_config.d/20-ssh-sockproxy.conf",
    "./usr/bin/ssh-sockproxy",
    "./usr/sbin/ssh-sockserve",
    "./usr/share/doc/ssh-sockproxy/changelog.gz",
    "./usr/share/doc/ssh-sockproxy/copyright",
    "./usr/share/lintian/overrides/ssh-sockproxy",
    "./usr/share/man/man1/ssh-sockproxy.1.gz",
    "./usr/share/man/man1/ssh-sockserve.1.gz",
];

fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn both(output: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr))
}

/// Runs `program ARGS`, which must succeed; returns its stdout.
#[track_caller]
fn must(program: &str, args: &[&str]) -> String {
    let mut command = Command::new(program);
    command.args(args).stdin(Stdio::null());
    let output = output_with_timeout(command, 600);
    assert!(output.status.success(), "{program} {args:?}: {}\n{}", output.status, both(&output));
    String::from_utf8(output.stdout).unwrap()
}

/// `make deb` into `dist`; the package path of each architecture.
fn make_deb(dist: &Path) -> Vec<PathBuf> {
    let dist_arg = format!("DIST={}", dist.display());
    must("make", &["-C", repo().to_str().unwrap(), "--no-print-directory", "deb", &dist_arg]);
    ARCHES.iter().map(|(arch, _)| dist.join(format!("ssh-sockproxy_{VERSION}_{arch}.deb"))).collect()
}

fn is_installed() -> bool {
    let mut command = Command::new("dpkg-query");
    command.args(["-W", "-f=${Status}", "ssh-sockproxy"]).stderr(Stdio::null());
    let output = output_with_timeout(command, 60);
    output.status.success() && output.stdout.ends_with(b" installed")
}

/// Purges the package if a test installed it and then failed.
struct Purge;

impl Drop for Purge {
    fn drop(&mut self) {
        let mut command = Command::new("dpkg");
        command.args(["--purge", "ssh-sockproxy"]);
        let _ = output_with_timeout(command, 120);
    }
}

#[test]
fn packages_hold_every_architectures_binaries_and_build_the_same_twice() {
    let (first, second) = (TempDir::new(), TempDir::new());
    let debs = make_deb(first.path());
    for (deb, (arch, triple)) in debs.iter().zip(ARCHES) {
        let deb_arg = deb.to_str().unwrap();
        assert_eq!(
            must("dpkg-deb", &["-f", deb_arg, "Package", "Version", "Architecture"]),
            format!("Package: ssh-sockproxy\nVersion: {VERSION}\nArchitecture: {arch}\n")
        );
        let listing = must("dpkg-deb", &["-c", deb_arg]);
        for file in FILES {
            assert!(listing.lines().any(|line| line.ends_with(&format!(" {file}"))), "{arch}: no {file}:\n{listing}");
        }
        assert_eq!(must("dpkg-deb", &["-I", deb_arg, "conffiles"]), format!("{DROPIN}\n"), "{arch}");
        let unpacked = TempDir::new();
        must("dpkg-deb", &["-x", deb_arg, unpacked.path().to_str().unwrap()]);
        for (installed, built) in
            [("usr/bin/ssh-sockproxy", "ssh-sockproxy"), ("usr/sbin/ssh-sockserve", "ssh-sockserve")]
        {
            let built = repo().join("target").join(triple).join("release").join(built);
            assert!(fs::read(unpacked.join(installed)).unwrap() == fs::read(&built).unwrap(), "{arch}: {installed}");
        }
        let dropin = fs::read_to_string(unpacked.join(&DROPIN[1..])).unwrap();
        assert!(dropin.contains("    ProxyCommand /usr/bin/ssh-sockproxy %"), "{arch}: {dropin}");
        // No errors and no warnings; the override (static on purpose) is in the package.
        // (lintian's only words on stderr, as root, are that it runs as root.)
        let lintian = must("lintian", &[deb_arg]);
        let complaints: Vec<&str> = lintian.lines().filter(|l| l.starts_with("E:") || l.starts_with("W:")).collect();
        assert!(complaints.is_empty(), "{arch}: lintian:\n{lintian}");
    }
    for (deb, again) in debs.iter().zip(make_deb(second.path())) {
        assert!(fs::read(deb).unwrap() == fs::read(&again).unwrap(), "{} differs between two builds", deb.display());
    }
}

#[test]
fn installed_with_dpkg_logs_in_and_purges_to_nothing() {
    assert!(
        !is_installed() && !Path::new("/usr/bin/ssh-sockproxy").exists(),
        "ssh-sockproxy is installed on this machine already: this test installs and purges it itself"
    );
    let dist = TempDir::new();
    let deb = make_deb(dist.path()).remove(0);
    let listing = must("dpkg-deb", &["-c", deb.to_str().unwrap()]);
    let paths: Vec<String> = listing
        .lines()
        .filter_map(|line| line.split_whitespace().last())
        .filter(|path| !path.ends_with('/'))
        .map(|path| path.trim_start_matches('.').to_owned())
        .collect();

    let _purge = Purge;
    must("dpkg", &["-i", deb.to_str().unwrap()]);
    assert!(is_installed());
    assert!(
        fs::read("/usr/bin/ssh-sockproxy").unwrap()
            == fs::read(repo().join("target/x86_64-unknown-linux-musl/release/ssh-sockproxy")).unwrap()
    );
    assert_eq!(must("/usr/sbin/ssh-sockserve", &["--version"]), format!("ssh-sockserve {VERSION}\n"));
    assert!(must("man", &["-w", "ssh-sockproxy"]).contains("/usr/share/man/man1/ssh-sockproxy.1.gz"));

    // A login configured by nothing but the installed drop-in.
    let dir = TempDir::new();
    let sshd = Sshd::start(dir.path());
    let destination = format!("{}@unix/{}", user(), sshd.socket_path().display());
    let mut ssh = Command::new("ssh");
    ssh.args(["-F", DROPIN, "-i"])
        .arg(sshd.client_key())
        .args(["-o", "IdentitiesOnly=yes", "-o", "BatchMode=yes", &destination, "echo", "ok"])
        .stdin(Stdio::null());
    let output = output_with_timeout(ssh, 60);
    assert!(output.status.success() && output.stdout == b"ok\n", "{}\n--- sshd ---\n{}", both(&output), sshd.log());

    // Removed: the conffile stays, as dpkg keeps it for a purge.
    must("dpkg", &["-r", "ssh-sockproxy"]);
    for path in &paths {
        assert_eq!(Path::new(path).exists(), path == DROPIN, "after dpkg -r: {path}");
    }
    must("dpkg", &["--purge", "ssh-sockproxy"]);
    for path in &paths {
        assert!(!Path::new(path).exists(), "after dpkg --purge: {path}");
    }
    assert!(!Path::new("/usr/share/doc/ssh-sockproxy").exists());
    let leftovers: Vec<_> = fs::read_dir("/var/lib/dpkg/info")
        .unwrap()
        .filter_map(|entry| entry.ok())
        .filter(|entry| entry.file_name().to_string_lossy().starts_with("ssh-sockproxy."))
        .collect();
    assert!(leftovers.is_empty(), "dpkg's records: {leftovers:?}");
    assert!(!is_installed());
}
