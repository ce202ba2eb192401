//! The installed product: make install/uninstall, the drop-in, the man pages, initrd and container recipes.

mod container;
mod dropin;
mod initrd;
mod layout;
mod login;
mod man_page;
mod prerequisites;

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use sockproxy_test_common::sshd::output_with_timeout;

use crate::serve::serve_bin;
use crate::support::bin;

const TIMEOUT_SECS: u64 = 60;

/// The source tree: the Makefile and src/dist/.
pub fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// The default drop-in path, relative to DESTDIR.
pub const DROPIN: &str = "etc/ssh/ssh_config.d/20-ssh-sockproxy.conf";

/// Runs `make ARGS` in the source tree and returns its stdout; panics with
/// stdout and stderr unless it succeeds. BIN and SERVE_BIN are the binaries
/// under test and CARGO=true skips the build: cargo test built them already,
/// and a nested cargo would rebuild them under other tests' feet if anything
/// had changed (`make test` builds the drop-in writer, `make dropin`, before
/// the tests).
pub fn make(args: &[&str]) -> String {
    let mut command = Command::new("make");
    let binaries = [format!("BIN={}", bin()), format!("SERVE_BIN={}", serve_bin())];
    command.arg("-C").arg(repo()).args(["--no-print-directory", "CARGO=true"]).args(binaries).args(args);
    let output = output_with_timeout(command, TIMEOUT_SECS);
    assert!(output.status.success(), "make {args:?} failed: {}\n{}", output.status, both(&output));
    String::from_utf8(output.stdout).expect("make's output is UTF-8")
}

/// Panics with a clear message unless `tool` is on PATH (or in /usr/sbin).
#[track_caller]
pub fn require_tool(tool: &str, package: &str) {
    let found = std::env::var_os("PATH")
        .into_iter()
        .flat_map(|path| std::env::split_paths(&path).collect::<Vec<_>>())
        .chain([PathBuf::from("/usr/sbin"), PathBuf::from("/sbin")])
        .any(|dir| dir.join(tool).is_file());
    assert!(found, "`{tool}` not found: this test needs `apt-get install {package}` (.ci/run installs it)");
}

/// Runs `command` (bounded in time) and returns its output.
pub fn run(command: Command) -> Output {
    output_with_timeout(command, TIMEOUT_SECS)
}

/// Stdout of `command`, which must exit 0 with nothing on stderr.
#[track_caller]
pub fn run_quietly(command: Command) -> String {
    let description = format!("{command:?}");
    let output = run(command);
    let quiet = output.status.success() && output.stderr.is_empty();
    assert!(quiet, "{description}: {}\n{}", output.status, both(&output));
    String::from_utf8(output.stdout).expect("UTF-8 output")
}

pub fn both(output: &Output) -> String {
    format!(
        "--- stdout ---\n{}--- stderr ---\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

pub fn read(path: &Path) -> String {
    fs::read_to_string(path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()))
}

/// Every file under `root` as `relative/path mode`, sorted; symlinks are
/// followed only at `root` itself.
pub fn files(root: &Path) -> Vec<String> {
    fn walk(root: &Path, dir: &Path, out: &mut Vec<String>) {
        for entry in fs::read_dir(dir).unwrap_or_else(|e| panic!("read_dir {}: {e}", dir.display())) {
            let path = entry.expect("dir entry").path();
            let meta = fs::symlink_metadata(&path).expect("stat");
            if meta.is_dir() {
                walk(root, &path, out);
            } else {
                let relative = path.strip_prefix(root).unwrap().display();
                out.push(format!("{relative} {:o}", meta.permissions().mode() & 0o7777));
            }
        }
    }
    let mut out = Vec::new();
    walk(root, root, &mut out);
    out.sort();
    out
}

/// What the binary at `path` prints for `--print-ssh-config`.
pub fn print_ssh_config(path: &Path) -> String {
    let mut command = Command::new(path);
    command.arg("--print-ssh-config");
    run_quietly(command)
}
