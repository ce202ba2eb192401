//! `make prerequisites`, which `make demo` and `make test` run first: quiet
//! when nothing is missing, and as a user who is not root, the one command
//! that installs what is missing, without running it.

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::process::Command;

use sockproxy_test_common::TempDir;

use super::{both, make, repo, run};

#[test]
fn nothing_missing_is_quiet() {
    // This machine ran it already (make test depends on it): a second run
    // finds everything and says nothing.
    assert_eq!(make(&["prerequisites"]), "");
}

/// dpkg-query and apt-get stand-ins on PATH: dpkg-query says `socat` and
/// `strace` are not installed and the rest are; apt-get, if ever run, leaves
/// a mark.
#[test]
fn a_user_gets_the_command_and_nothing_is_installed() {
    let dir = TempDir::new();
    let fake = dir.join("bin");
    fs::create_dir(&fake).unwrap();
    let script = |name: &str, body: &str| {
        let path = fake.join(name);
        fs::write(&path, format!("#!/bin/sh\n{body}\n")).unwrap();
        fs::set_permissions(&path, fs::Permissions::from_mode(0o755)).unwrap();
    };
    script(
        "dpkg-query",
        r#"for package; do :; done; case "$package" in socat|strace) exit 1;; *) echo 'install ok installed';; esac"#,
    );
    let mark = dir.join("apt-get-ran");
    script("apt-get", &format!("touch '{}'", mark.display()));
    script("rustup", "exit 0");
    fs::set_permissions(dir.path(), fs::Permissions::from_mode(0o755)).unwrap();

    // A copy the user nobody can read, wherever the tree is (a root-only home, say).
    let copy = dir.join("prerequisites.sh");
    fs::copy(repo().join("tests/prerequisites.sh"), &copy).unwrap();
    fs::set_permissions(&copy, fs::Permissions::from_mode(0o644)).unwrap();
    let mut command = Command::new("setpriv");
    command
        .args(["--reuid=nobody", "--regid=nogroup", "--clear-groups", "--", "sh"])
        .arg(&copy)
        .env("PATH", format!("{}:/usr/bin:/bin", fake.display()));
    let output = run(command);
    assert_eq!(output.status.code(), Some(1), "{}", both(&output));
    assert_eq!(
        String::from_utf8_lossy(&output.stderr),
        "prerequisites: missing Debian packages; as root, run:\n  apt-get install -y --no-install-recommends strace socat\n",
        "{}",
        both(&output)
    );
    assert!(output.stdout.is_empty(), "{}", both(&output));
    assert!(!mark.exists(), "apt-get ran as a user");
}
