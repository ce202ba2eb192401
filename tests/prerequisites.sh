#!/bin/sh
# make prerequisites (which make demo and make test run first): what a fresh
# Debian or Ubuntu machine lacks to build, demo and test, installed when it
# is missing and nothing done when it is there. rustup adds the product's
# triples and the lint components; apt-get the packages, as root. As another
# user it prints the one command that installs them, and stops.
set -eu

# What each package is for:
# - make, gcc, binutils: the build (gcc links x86-64; objdump, addr2line and
#   objcopy check the panic sites, make no-panic); g++: libFuzzer (make fuzz-smoke);
# - openssh-client, openssh-server: the demo's and the tests' real logins;
# - strace: the faked vsock connects and the fault tests; file: static checks;
#   util-linux, mount: unshare and mount for the machined tests; git: make repro;
# - systemd: systemd-socket-activate, ssh-sockserve's peer in the bench;
# - dracut-core, cpio, groff-base, man-db, buildah: the install tests;
# - qemu-user: the black-box tests of the aarch64, riscv64 and armv7 binaries;
# - qemu-system-x86, qemu-system-arm, qemu-system-misc: the nested-VM vsock
#   tests, whose Debian guests are fetched with debian-archive-keyring's keys and
#   unpacked with kmod (modinfo), xz-utils and cpio; busybox-static for the guest;
# - socat: the bench's peer; python3-venv: the venv of the Paramiko and libssh
#   clients (from PyPI); lintian: the check of make deb's packages.
PACKAGES="make gcc g++ binutils openssh-client openssh-server strace file util-linux mount git
systemd dracut-core cpio groff-base man-db buildah
qemu-user qemu-system-x86 qemu-system-arm qemu-system-misc kmod xz-utils debian-archive-keyring busybox-static
socat python3 python3-venv lintian"
# The product's triples (.cargo/config.toml): riscv64 and armv7 have no musl
# rust-std to download, and link no libc anyway.
TARGETS="x86_64-unknown-linux-musl aarch64-unknown-linux-musl riscv64gc-unknown-linux-gnu armv7-unknown-linux-gnueabihf"
COMPONENTS="clippy rustfmt"

command -v rustup >/dev/null || {
    echo "prerequisites: rustup is missing; install the Rust toolchain from https://rustup.rs first" >&2
    exit 1
}

missing=
for package in $PACKAGES; do
    dpkg-query -W -f='${Status}\n' "$package" 2>/dev/null | grep -q '^install ok installed$' || missing="$missing $package"
done
if [ -n "$missing" ]; then
    if [ "$(id -u)" -ne 0 ]; then
        echo "prerequisites: missing Debian packages; as root, run:" >&2
        echo "  apt-get install -y --no-install-recommends$missing" >&2
        exit 1
    fi
    echo "prerequisites: installing$missing"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    # shellcheck disable=SC2086
    apt-get install -y -qq --no-install-recommends $missing >/dev/null
fi

# What the tests call by name, wherever a package put it.
for tool in make g++ objdump addr2line objcopy readelf ssh sshd scp sftp ssh-keygen strace file unshare git dracut cpio \
    groff man buildah qemu-aarch64 qemu-riscv64 qemu-arm qemu-system-x86_64 qemu-system-aarch64 qemu-system-riscv64 \
    qemu-system-arm modinfo xz busybox socat python3 systemd-socket-activate lintian dpkg-deb; do
    command -v "$tool" >/dev/null || [ -x "/usr/sbin/$tool" ] || [ -x "/sbin/$tool" ] || {
        echo "prerequisites: $tool is missing although its package is installed" >&2
        exit 1
    }
done

installed_targets=$(rustup target list --installed)
for target in $TARGETS; do
    echo "$installed_targets" | grep -qx "$target" || rustup target add "$target"
done
installed_components=$(rustup component list --installed)
for component in $COMPONENTS; do
    echo "$installed_components" | grep -q "^$component-" || rustup component add "$component"
done
