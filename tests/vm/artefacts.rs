//! The cached guest kernel, initramfs and vsock backend, built or reused by build-artefacts.sh.

use std::path::PathBuf;
use std::process::Command;

use sockproxy_test_common::sshd::output_with_timeout;

use crate::arch::Arch;

/// Overrides the cache directory (default `$HOME/.cache/ssh-sockproxy-vm`).
pub const CACHE_ENV: &str = "SSH_SOCKPROXY_VM_CACHE";
/// A first build compiles vhost-device-vsock (about a minute) and fetches each guest's packages (about 20 s);
/// a cached run takes a second.
const BUILD_TIMEOUT_SECS: u64 = 900;

pub struct Artefacts {
    pub vhost_device_vsock: PathBuf,
    pub kernel: PathBuf,
    /// `uname -r` of the guest kernel.
    pub kernel_release: String,
    /// The base initramfs (uncompressed cpio) without this run's keys and binary.
    pub initramfs: PathBuf,
    /// What the builder said on stderr: what it had to build, if anything.
    pub notes: String,
}

pub fn cache_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os(CACHE_ENV) {
        return PathBuf::from(dir);
    }
    let home = std::env::var_os("HOME")
        .unwrap_or_else(|| panic!("neither {CACHE_ENV} nor HOME is set: no place for the VM artefact cache"));
    PathBuf::from(home).join(".cache/ssh-sockproxy-vm")
}

/// Runs the builder for `arch`; panics with its output when it fails.
pub fn build(arch: &Arch) -> Artefacts {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/vm/build-artefacts.sh");
    let mut command = Command::new("bash");
    command.arg(script).arg(arch.name).arg(cache_dir());
    let output = output_with_timeout(command, BUILD_TIMEOUT_SECS);
    let stdout = String::from_utf8_lossy(&output.stdout);
    let notes = String::from_utf8_lossy(&output.stderr).into_owned();
    assert!(output.status.success(), "{script} failed ({}):\n{notes}{stdout}", output.status);
    let value = |key: &str| {
        stdout
            .lines()
            .find_map(|line| line.strip_prefix(key)?.strip_prefix('='))
            .unwrap_or_else(|| panic!("{script} printed no {key}=:\n{stdout}"))
            .to_string()
    };
    Artefacts {
        vhost_device_vsock: value("vhost_device_vsock").into(),
        kernel: value("kernel").into(),
        kernel_release: value("kernel_release"),
        initramfs: value("initramfs").into(),
        notes,
    }
}
