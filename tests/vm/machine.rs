//! Boots the guest under QEMU with vhost-device-vsock as its vsock device; both are killed by PID and reaped on drop.

use std::fs::{self, File};
use std::io::{ErrorKind, Read, Write};
use std::os::unix::net::UnixListener;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use sockproxy_test_common::ChildGuard;

use crate::arch::{Arch, X86_64};
use crate::artefacts::Artefacts;

/// The guest's CID; the host is CID 2 as always.
pub const GUEST_CID: u32 = 4;
const MEMORY: &str = "512M";
/// The guest port ssh-sockserve sends READY=1 to (its NOTIFY_SOCKET in init.sh is vsock-stream:2:9000).
pub const NOTIFY_PORT: u32 = 9000;
/// init.sh prints these on the serial console.
const VSOCK_LOADED: &str = "ssh-sockproxy-vm: vsock modules loaded";
const INIT_FAILED: &str = "ssh-sockproxy-vm: init failed";
/// Each wait: READY=1 came 10 to 33 s after starting QEMU under TCG here, by architecture, on a busy
/// machine (init.sh holds vsock back for 5 s of it); generous for a slower CI machine.
const BOOT_TIMEOUT: Duration = Duration::from_secs(120);
const POLL: Duration = Duration::from_millis(20);
/// The backend's `uds-path`, in the run directory.
const MUX_SOCKET: &str = "vm.vsock";

/// Where a guest connection to CID 2 port `port` arrives: the backend connects to
/// the AF_UNIX socket `<uds-path>_<port>` on the host.
pub fn host_port_path(dir: &Path, port: u32) -> PathBuf {
    dir.join(format!("{MUX_SOCKET}_{port}"))
}

pub struct Vm {
    // Dropped in this order: QEMU first, so the backend never sees a live guest lose its device.
    qemu: ChildGuard,
    backend: ChildGuard,
    dir: PathBuf,
    /// The VMM side of readiness: where the backend delivers the guest's connection to CID 2 NOTIFY_PORT.
    notify: UnixListener,
    pub accel: &'static str,
    /// From starting QEMU until the vsock modules were loaded, and until READY=1 arrived.
    pub boot_time: Duration,
    pub ready_time: Duration,
    started: Instant,
}

impl Vm {
    /// Boots from the cached kernel and initramfs plus `overlay` (a cpio archive appended
    /// to the initramfs), with every file of the run in `dir`; returns once the guest has
    /// loaded its vsock modules, while its ssh-sockserve is held back from binding vsock::22
    /// for two seconds (init.sh); `wait_ready` then waits for its READY=1.
    pub fn boot(arch: &Arch, artefacts: &Artefacts, dir: &Path, overlay: &[u8]) -> Vm {
        // QEMU and the backend take comma-separated option lists.
        assert!(!dir.to_string_lossy().contains(','), "run directory {} has a comma", dir.display());
        let initrd = dir.join("initrd.cpio");
        fs::copy(&artefacts.initramfs, &initrd).expect("copy the base initramfs");
        // The kernel unpacks concatenated archives in order; later files win.
        File::options().append(true).open(&initrd).and_then(|mut f| f.write_all(overlay)).expect("append overlay");

        let vhost_socket = dir.join("vhost.sock");
        let mut backend = Command::new(&artefacts.vhost_device_vsock);
        // No forward-cid: a guest connection to CID 2 must end at our AF_UNIX listeners, not at this host's vsock.
        // tx-buffer-size is the credit the guest may fill: 0.3.0 drops (and so breaks the stream of) a packet
        // in more than two descriptors, which kernels from 6.17 on (and trixie's 6.12) send for more than
        // 32 KiB, as in an scp download.
        backend.arg("--vm").arg(format!(
            "guest-cid={GUEST_CID},socket={},uds-path={},tx-buffer-size=32768",
            vhost_socket.display(),
            dir.join(MUX_SOCKET).display()
        ));
        let backend = spawn(backend, &dir.join("backend.log"), "cargo install vhost-device-vsock");
        let (qemu, dir_buf) = (ChildGuard(None), dir.to_path_buf());
        let notify = UnixListener::bind(host_port_path(dir, NOTIFY_PORT)).expect("bind VM.vsock_9000");
        notify.set_nonblocking(true).expect("make VM.vsock_9000 non-blocking");
        let (boot_time, ready_time, started) = (Duration::ZERO, Duration::ZERO, Instant::now());
        let mut vm = Vm { qemu, backend, dir: dir_buf, notify, accel: "", boot_time, ready_time, started };
        vm.wait_for("the backend's vhost-user socket", Duration::from_secs(10), || Ok(vhost_socket.exists()));

        let (accel, accel_args) = accel(arch);
        vm.accel = accel;
        let console = dir.join("console.log");
        let mut qemu = Command::new(arch.qemu);
        // One vCPU: the host's other core runs ssh, the backend and QEMU's I/O; two boot slower here.
        // vhost-user needs the guest's memory in a shareable memfd, the machine's memory backend.
        qemu.args(["-nodefaults", "-no-user-config", "-display", "none", "-no-reboot"])
            .args(["-machine", &format!("{},memory-backend=mem", arch.machine), "-smp", "1", "-m", MEMORY])
            .args(arch.extra)
            .args(accel_args)
            .arg("-kernel")
            .arg(&artefacts.kernel)
            .arg("-initrd")
            .arg(&initrd)
            .args(["-append", &format!("console={} loglevel=4 panic=-1 mitigations=off", arch.console)])
            .arg("-serial")
            .arg(format!("file:{}", console.display()))
            .args(["-object", &format!("memory-backend-memfd,id=mem,size={MEMORY},share=on")])
            .arg("-chardev")
            .arg(format!("socket,id=vhost,path={}", vhost_socket.display()))
            .args(["-device", "vhost-user-vsock-pci,chardev=vhost"]);
        vm.started = Instant::now();
        vm.qemu = spawn(qemu, &dir.join("qemu.log"), &format!("apt-get install {}", arch.qemu_package));
        vm.wait_for("the guest's vsock modules", BOOT_TIMEOUT, || console_says(&console, VSOCK_LOADED));
        vm.boot_time = vm.started.elapsed();
        vm
    }

    /// Waits for the guest's connection to CID 2 NOTIFY_PORT and returns all it sent, to its end.
    pub fn wait_ready(&mut self) -> Vec<u8> {
        let (console, notify) = (self.dir.join("console.log"), self.notify.try_clone().expect("dup VM.vsock_9000"));
        let mut connection = None;
        self.wait_for("READY=1 at VM.vsock_9000", BOOT_TIMEOUT, || {
            match notify.accept() {
                Ok((stream, _)) => connection = Some(stream),
                Err(e) if e.kind() == ErrorKind::WouldBlock => {}
                Err(e) => return Err(format!("accept on VM.vsock_9000: {e}")),
            }
            console_says(&console, "").map(|_| connection.is_some())
        });
        self.ready_time = self.started.elapsed();
        let mut connection = connection.expect("accepted");
        connection.set_nonblocking(false).expect("make the notify connection blocking");
        connection.set_read_timeout(Some(Duration::from_secs(30))).expect("set a read timeout");
        let mut message = Vec::new();
        if let Err(e) = connection.read_to_end(&mut message) {
            panic!("read READY=1 from VM.vsock_9000: {e} after {message:?}\n{}", self.diagnostics());
        }
        message
    }

    /// The multiplexer socket: `CONNECT <guest port>` reaches the guest.
    pub fn mux_path(&self) -> PathBuf {
        self.dir.join(MUX_SOCKET)
    }

    /// The guest console, QEMU's and the backend's output, for failure messages.
    pub fn diagnostics(&self) -> String {
        ["console.log", "qemu.log", "backend.log"]
            .iter()
            .map(|name| format!("--- {name} (last 40 lines) ---\n{}", tail(&self.dir.join(name), 40)))
            .collect::<Vec<_>>()
            .join("\n")
    }

    /// Polls `ready` until it says `Ok(true)`; panics with diagnostics when it fails,
    /// QEMU or the backend dies, or `limit` passes.
    fn wait_for(&mut self, what: &str, limit: Duration, mut ready: impl FnMut() -> Result<bool, String>) {
        let deadline = Instant::now() + limit;
        loop {
            match ready() {
                Ok(true) => return,
                Ok(false) if Instant::now() < deadline => {}
                Ok(false) => panic!("no {what} within {limit:?}\n{}", self.diagnostics()),
                Err(problem) => panic!("{problem} while waiting for {what}\n{}", self.diagnostics()),
            }
            if let Some((name, status)) = self.exited() {
                panic!("{name} exited ({status}) while waiting for {what}\n{}", self.diagnostics());
            }
            std::thread::sleep(POLL);
        }
    }

    /// QEMU or the backend, if one of them has exited (it is reaped then).
    fn exited(&mut self) -> Option<(&'static str, ExitStatus)> {
        for (name, guard) in [("QEMU", &mut self.qemu), ("vhost-device-vsock", &mut self.backend)] {
            if let Some(status) = guard.0.as_mut().and_then(|child| child.try_wait().expect("try_wait")) {
                guard.0 = None;
                return Some((name, status));
            }
        }
        None
    }
}

/// KVM only for an x86-64 guest, and only where it can run a stock kernel (kvm_intel or kvm_amd);
/// these machines' paging-based kvm_pvm cannot, so everything else gets TCG.
fn accel(arch: &Arch) -> (&'static str, Vec<&'static str>) {
    let hardware_kvm = ["kvm_intel", "kvm_amd"].iter().any(|m| Path::new("/sys/module").join(m).exists());
    if arch.name == X86_64.name && hardware_kvm && Path::new("/dev/kvm").exists() {
        ("kvm", vec!["-accel", "kvm", "-cpu", "host"])
    } else {
        ("tcg", vec!["-accel", "tcg"])
    }
}

/// Starts `command` with its output in `log`; `install` says where a missing program comes from. It also gets
/// SIGKILL when the spawning thread (the test's, which outlives every Vm) dies, so even a killed test run
/// leaves nothing.
fn spawn(mut command: Command, log: &Path, install: &str) -> ChildGuard {
    let log = File::create(log).expect("create log");
    command.stdin(Stdio::null()).stdout(log.try_clone().expect("dup log")).stderr(log);
    // SAFETY: the closure runs between fork and exec and only makes the prctl system
    // call, which is async-signal-safe and touches no memory of the parent.
    unsafe {
        command.pre_exec(|| {
            if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL) == -1 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    let program = command.get_program().to_string_lossy().into_owned();
    let child = command.spawn().unwrap_or_else(|e| panic!("cannot start {program}: {e} ({install})"));
    ChildGuard(Some(child))
}

/// Whether the console shows `line` yet; an error once init has failed.
fn console_says(console: &Path, line: &str) -> Result<bool, String> {
    let console = fs::read_to_string(console).unwrap_or_default();
    if console.contains(INIT_FAILED) {
        return Err("the guest's init failed".into());
    }
    Ok(console.contains(line))
}

fn tail(path: &Path, lines: usize) -> String {
    let text = fs::read_to_string(path).unwrap_or_else(|e| format!("(cannot read {}: {e})\n", path.display()));
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}
