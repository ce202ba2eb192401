//! The guest architectures: each one's QEMU and machine, and where `make vm-test` put its binaries.

use std::path::PathBuf;

pub struct Arch {
    /// As make's ARCH and build-artefacts.sh take it.
    pub name: &'static str,
    pub qemu: &'static str,
    /// The Debian package that has `qemu`.
    pub qemu_package: &'static str,
    /// `-machine` and what else the machine needs; the memory backend is added to `-machine`.
    pub machine: &'static str,
    pub extra: &'static [&'static str],
    pub console: &'static str,
}

pub const X86_64: Arch = Arch {
    name: "x86_64",
    qemu: "qemu-system-x86_64",
    qemu_package: "qemu-system-x86",
    machine: "pc",
    extra: &[],
    console: "ttyS0",
};

/// `-cpu max` would emulate pointer authentication, which makes the boot four times slower.
pub const AARCH64: Arch = Arch {
    name: "aarch64",
    qemu: "qemu-system-aarch64",
    qemu_package: "qemu-system-arm",
    machine: "virt",
    extra: &["-cpu", "cortex-a57"],
    console: "ttyAMA0",
};

/// OpenSBI (`-bios default`, from qemu-system-data) starts Debian's kernel, an image with an EFI stub.
pub const RISCV64: Arch = Arch {
    name: "riscv64",
    qemu: "qemu-system-riscv64",
    qemu_package: "qemu-system-misc",
    machine: "virt",
    extra: &["-bios", "default"],
    console: "ttyS0",
};

pub const ARMV7: Arch = Arch {
    name: "armv7",
    qemu: "qemu-system-arm",
    qemu_package: "qemu-system-arm",
    machine: "virt",
    extra: &["-cpu", "cortex-a15"],
    console: "ttyAMA0",
};

impl Arch {
    /// The binary `name` (`ssh-sockproxy` or `ssh-sockserve`) built for this architecture: in
    /// `$SSH_SOCKPROXY_BIN_DIR_<arch>`, which `make vm-test` sets; for x86-64, without it, the one cargo builds
    /// for this host with the test's profile.
    pub fn binary(&self, name: &str) -> PathBuf {
        let variable = format!("SSH_SOCKPROXY_BIN_DIR_{}", self.name);
        match std::env::var_os(&variable) {
            Some(dir) => PathBuf::from(dir).join(name),
            None if self.name == X86_64.name && name == PROXY => env!("CARGO_BIN_EXE_ssh-sockproxy").into(),
            None if self.name == X86_64.name && name == SERVE => env!("CARGO_BIN_EXE_ssh-sockserve").into(),
            None => panic!("{variable} is not set: `make vm-test` builds the {} binaries and sets it", self.name),
        }
    }
}

pub const PROXY: &str = "ssh-sockproxy";
pub const SERVE: &str = "ssh-sockserve";
