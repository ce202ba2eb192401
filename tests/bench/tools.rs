//! Finding the peers and tools the bench compares with or uses; absent ones are skipped with a reason.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

/// Where a tool was found, or why it is skipped.
pub type Tool = Result<PathBuf, String>;

fn executable(path: &Path) -> bool {
    std::fs::metadata(path).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

/// `$variable` if set (it must then name an executable), else `name` on PATH,
/// else the first of `also` that exists.
pub fn find(variable: Option<&str>, name: &str, also: &[&str]) -> Tool {
    if let Some(value) = variable.and_then(std::env::var_os).filter(|v| !v.is_empty()) {
        let path = PathBuf::from(&value);
        return if executable(&path) {
            Ok(path)
        } else {
            Err(format!("skipped: {}={} is not an executable file", variable.unwrap_or_default(), path.display()))
        };
    }
    let on_path = std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).map(|dir| dir.join(name)).collect::<Vec<_>>())
        .unwrap_or_default();
    let candidates = on_path.into_iter().chain(also.iter().map(PathBuf::from));
    for candidate in candidates {
        if executable(&candidate) {
            return Ok(candidate);
        }
    }
    let mut looked = Vec::new();
    if let Some(v) = variable {
        looked.push(format!("${v}"));
    }
    looked.push("PATH".to_string());
    looked.extend(also.iter().map(|a| a.to_string()));
    Err(format!("skipped: not found (looked in {})", looked.join(", ")))
}

pub fn socat() -> Tool {
    find(Some("SOCAT"), "socat", &[])
}

/// Upstream systemd-ssh-proxy (systemd 256 and later); not on PATH where distributions install it.
pub fn systemd_ssh_proxy() -> Tool {
    find(
        Some("SYSTEMD_SSH_PROXY"),
        "systemd-ssh-proxy",
        &["/usr/lib/systemd/systemd-ssh-proxy", "/usr/libexec/systemd-ssh-proxy"],
    )
}

/// systemd's inetd-style socket activator (Debian 12's systemd package ships it).
pub fn systemd_socket_activate() -> Tool {
    find(
        Some("SYSTEMD_SOCKET_ACTIVATE"),
        "systemd-socket-activate",
        &["/usr/bin/systemd-socket-activate", "/lib/systemd/systemd-socket-activate"],
    )
}

pub fn strace() -> Tool {
    find(Some("STRACE"), "strace", &[])
}

/// The line of `program args` (stdout, else stderr) that says "version", else its first line.
pub fn version(program: &Path, args: &[&str]) -> String {
    let output = std::process::Command::new(program).args(args).stdin(std::process::Stdio::null()).output();
    let Ok(output) = output else { return "?".to_string() };
    let text = if output.stdout.is_empty() { output.stderr } else { output.stdout };
    let text = String::from_utf8_lossy(&text);
    let line = text.lines().find(|l| l.contains("version")).or_else(|| text.lines().next());
    line.unwrap_or("?").trim().to_string()
}
