//! End-to-end vsock tests in a nested VM: a real guest kernel's AF_VSOCK, vhost-device-vsock's multiplexer, real ssh.
//!
//! This machine is a VM itself and never opens AF_VSOCK connections: the `vsock/`
//! targets run only inside the guest, which QEMU boots under TCG (or hardware KVM).
//! One test per guest architecture, each with Debian's kernel and programs of that
//! architecture and the binaries built for it (ssh-sockserve serves the guest's sshd);
//! the host's side is the x86-64 ssh-sockproxy.

mod arch;
mod artefacts;
mod checks;
mod cpio;
mod guest;
mod machine;

use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::Mutex;
use std::time::Instant;

use sockproxy_test_common::TempDir;
use sockproxy_test_common::sshd::{Sshd, output_with_timeout};

use arch::{AARCH64, ARMV7, Arch, PROXY, RISCV64, SERVE, X86_64};
use checks::{CHECKS, Context};
use guest::Guest;
use machine::Vm;

#[test]
fn guest_x86_64() {
    end_to_end(&X86_64);
}

#[test]
fn guest_aarch64() {
    end_to_end(&AARCH64);
}

#[test]
fn guest_riscv64() {
    end_to_end(&RISCV64);
}

#[test]
fn guest_armv7() {
    end_to_end(&ARMV7);
}

/// One guest at a time, whatever cargo test's threads: the machine has two cores.
static ONE_GUEST: Mutex<()> = Mutex::new(());

fn end_to_end(arch: &Arch) {
    let _one = ONE_GUEST.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    let progress = |line: &str| progress(arch, line);
    let started = Instant::now();
    let artefacts = artefacts::build(arch);
    for note in artefacts.notes.lines() {
        progress(note.strip_prefix("vm artefacts: ").unwrap_or(note));
    }
    progress(&format!("artefacts ready in {:.1?}", started.elapsed()));

    let dir = TempDir::new();
    // The host's sshd for the guest's connections to CID 2 port 22; its client key logs in both ways.
    let host_sshd = Sshd::start_at(&make_dir(&dir.join("host-sshd")), &machine::host_port_path(dir.path(), 22));
    let overlay = overlay(&dir, &host_sshd, arch);
    let mut vm = Vm::boot(arch, &artefacts, dir.path(), &overlay);
    let (release, accel, boot_time) = (&artefacts.kernel_release, vm.accel, vm.boot_time);
    progress(&format!("guest {release} booted ({accel}), vsock modules in {boot_time:.1?}"));
    // Before the guest's ssh-sockserve may bind vsock::22: a login that must ride it out with --wait.
    let late_login = std::thread::spawn({
        let proxy_command = format!("'{}' -v --wait=120 %h %p", X86_64.binary(PROXY).display());
        let mut ssh = host_sshd.ssh(&proxy_command, &format!("root@vsock-mux/{}", vm.mux_path().display()));
        ssh.arg("echo logged in late");
        move || output_with_timeout(ssh, guest::SESSION_SECS)
    });
    // The login is reaped (within its time limit) even when READY=1 never comes.
    let ready_message = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| vm.wait_ready()));
    let late_login = late_login.join().map_err(|_| "the late login panicked (its message is above)".to_string());
    let ready_message = ready_message.unwrap_or_else(|panic| std::panic::resume_unwind(panic));
    progress(&format!("READY=1 from the guest's ssh-sockserve {:.1?} after starting QEMU", vm.ready_time));
    if let Ok(login) = &late_login {
        let retries = String::from_utf8_lossy(&login.stderr).matches("retrying").count();
        progress(&format!("the late login's ssh-sockproxy --wait retried {retries} times"));
    }

    let guest = Guest { vm: &vm, sshd: &host_sshd };
    let (guest_release, late_login) = (&artefacts.kernel_release, &late_login);
    let cx = Context { guest, guest_release, dir: &dir, ready_message: &ready_message, late_login };
    let mut failed = Vec::new();
    for (name, check) in CHECKS {
        let check_started = Instant::now();
        let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| check(&cx)));
        let verdict = if result.is_ok() { "ok" } else { "FAILED" };
        progress(&format!("{name} ... {verdict} ({:.1?})", check_started.elapsed()));
        if result.is_err() {
            failed.push(*name);
        }
    }
    let mut diagnostics = format!("{}\n--- host sshd log ---\n{}", vm.diagnostics(), host_sshd.log());
    if !failed.is_empty() {
        diagnostics += &format!("\n--- guest sshd log ---\n{}", guest_sshd_log(&cx.guest));
    }
    drop(vm);
    let passed = CHECKS.len() - failed.len();
    progress(&format!("{passed} of {} checks passed; whole test {:.1?}", CHECKS.len(), started.elapsed()));
    assert!(failed.is_empty(), "failed checks (details above): {failed:#?}\n{diagnostics}");
}

/// The guest sshd's log, if the guest can still be reached.
fn guest_sshd_log(guest: &Guest) -> String {
    match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| guest.run("cat /run/sshd.log"))) {
        Ok(output) if output.status.success() => String::from_utf8_lossy(&output.stdout).into_owned(),
        _ => "(the guest cannot be reached to read /run/sshd.log)".into(),
    }
}

/// This run's files for the guest: the binaries under test (`arch`'s), the guest sshd's host key,
/// the key the host logs in with, and the same key for the guest's own ssh clients.
fn overlay(dir: &TempDir, host_sshd: &Sshd, arch: &Arch) -> Vec<u8> {
    let host_key = dir.join("guest_host_key");
    keygen(&host_key);
    let read = |path: &Path| std::fs::read(path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()));
    let (proxy, serve) = (read(&arch.binary(PROXY)), read(&arch.binary(SERVE)));
    let host_key = read(&host_key);
    let client_key = read(host_sshd.client_key());
    let authorized = read(&host_sshd.client_key().with_extension("pub"));
    cpio::archive(&[
        cpio::Entry { path: "usr/bin/ssh-sockproxy", mode: 0o755, data: &proxy },
        cpio::Entry { path: "usr/sbin/ssh-sockserve", mode: 0o755, data: &serve },
        cpio::Entry { path: "etc/ssh/ssh_host_ed25519_key", mode: 0o600, data: &host_key },
        cpio::Entry { path: "etc/ssh/authorized_keys", mode: 0o644, data: &authorized },
        cpio::Entry { path: "root/.ssh/id_ed25519", mode: 0o600, data: &client_key },
    ])
}

fn keygen(path: &Path) {
    let status = Command::new("ssh-keygen")
        .args(["-q", "-N", "", "-t", "ed25519", "-C", "ssh-sockproxy-vm-guest", "-f"])
        .arg(path)
        .stdin(Stdio::null())
        .status()
        .expect("run ssh-keygen");
    assert!(status.success(), "ssh-keygen -f {}: {status}", path.display());
}

fn make_dir(path: &Path) -> std::path::PathBuf {
    std::fs::create_dir_all(path).unwrap_or_else(|e| panic!("mkdir {}: {e}", path.display()));
    path.to_path_buf()
}

/// One line on the real stderr, past the test harness's capture: progress and timings
/// belong in the CI log even when the test passes.
fn progress(arch: &Arch, line: &str) {
    let _ = writeln!(std::io::stderr(), "vm {}: {}", arch.name, line.trim_end());
}
