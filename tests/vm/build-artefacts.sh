#!/usr/bin/env bash
# Builds or reuses the nested-VM test's artefacts in CACHE_DIR and prints their paths (key=value).
#
# Usage: build-artefacts.sh CACHE_DIR
#
# Every artefact lives under a name that carries its key, so a cache made from
# other versions is rebuilt, never reused; entries no longer current are pruned.
#   vhost-device-vsock-VERSION/bin/vhost-device-vsock   the vhost-user vsock backend (cargo install)
#   kernel-PACKAGE_VERSION/{vmlinuz,release,modules/}  Debian's cloud kernel and its vsock/virtio modules
#   initramfs-SHA256.cpio                               busybox, sshd, ssh, scp, socat, their libraries,
#                                                       the modules and init.sh (uncompressed: faster under TCG)
# Needs: apt-get (with lists from `apt-get update`), dpkg-deb, cargo, busybox-static,
# openssh-server, openssh-client, socat, qemu-system-x86, flock.
set -euo pipefail

VHOST_DEVICE_VSOCK_VERSION=0.3.0
KERNEL_META=linux-image-cloud-amd64
# Dependency order; vsock_loopback serves CID 1 (VMADDR_CID_LOCAL) inside the guest.
MODULES="virtio_ring virtio_pci_modern_dev virtio_pci_legacy_dev virtio virtio_pci vsock
vmw_vsock_virtio_transport_common vmw_vsock_virtio_transport vsock_loopback"
GUEST_PROGRAMS="/usr/sbin/sshd /usr/bin/ssh /usr/bin/scp /usr/bin/socat"

here=$(cd "$(dirname "$0")" && pwd)
say() { echo "vm artefacts: $*" >&2; }
die() { say "$*"; exit 1; }

[ $# -eq 1 ] || die "usage: $0 CACHE_DIR"
cache=$1

for tool in qemu-system-x86_64 socat apt-get apt-cache dpkg-deb dpkg-query cargo flock sha256sum ldd; do
    command -v "$tool" >/dev/null || die "missing $tool: apt-get install qemu-system-x86 socat busybox-static openssh-server openssh-client (see .ci/run)"
done
for file in /bin/busybox $GUEST_PROGRAMS; do
    [ -x "$file" ] || die "missing $file: apt-get install busybox-static openssh-server openssh-client socat"
done
# ldd fails on a static executable.
if ldd /bin/busybox >/dev/null 2>&1; then die "/bin/busybox is not static: apt-get install busybox-static"; fi

mkdir -p "$cache"
cache=$(cd "$cache" && pwd)
# One builder at a time; a second test run waits and then finds everything built.
exec 9>"$cache/.lock"
flock 9

# --- vhost-device-vsock -------------------------------------------------------
backend_dir=$cache/vhost-device-vsock-$VHOST_DEVICE_VSOCK_VERSION
backend=$backend_dir/bin/vhost-device-vsock
if [ ! -x "$backend" ]; then
    say "building vhost-device-vsock $VHOST_DEVICE_VSOCK_VERSION with cargo install (about a minute, once)"
    rm -rf "$backend_dir.tmp"
    log=$cache/vhost-device-vsock-build.log
    # Outside the repository, whose .cargo/config.toml would make it a static musl build.
    if ! (cd "$cache" && env -u CARGO_TARGET_DIR -u CARGO_BUILD_TARGET -u RUSTFLAGS -u CARGO_ENCODED_RUSTFLAGS \
        cargo install --locked --root "$backend_dir.tmp" --version "$VHOST_DEVICE_VSOCK_VERSION" vhost-device-vsock) >"$log" 2>&1; then
        tail -n 30 "$log" >&2
        die "cargo install vhost-device-vsock failed; full log: $log"
    fi
    rm -rf "$backend_dir"
    mv "$backend_dir.tmp" "$backend_dir"
fi

# --- kernel ---------------------------------------------------------------------
kernel_package=$(apt-cache depends "$KERNEL_META" 2>/dev/null | sed -n 's/^ *Depends: \(linux-image-[^ ]*\)$/\1/p' | head -n 1)
[ -n "$kernel_package" ] || die "apt knows no $KERNEL_META: run apt-get update"
kernel_version=$(apt-cache policy "$kernel_package" | sed -n 's/^ *Candidate: //p')
if [ -z "$kernel_version" ] || [ "$kernel_version" = "(none)" ]; then
    die "no candidate version of $kernel_package: run apt-get update"
fi
kernel_dir=$cache/kernel-$kernel_package-$kernel_version
if [ ! -f "$kernel_dir/release" ]; then
    say "fetching $kernel_package $kernel_version"
    work=$(mktemp -d "$cache/kernel.XXXXXX")
    # apt-get download writes to the working directory, as _apt when it can.
    chmod 0755 "$work"
    (cd "$work" && apt-get download -q "$kernel_package=$kernel_version") >"$work/download.log" 2>&1 ||
        { cat "$work/download.log" >&2; die "apt-get download $kernel_package failed"; }
    dpkg-deb -x "$work"/*.deb "$work/root"
    release=$(ls "$work/root/lib/modules")
    mkdir -p "$work/out/modules"
    cp "$work/root/boot/vmlinuz-$release" "$work/out/vmlinuz"
    for module in $MODULES; do
        found=$(find "$work/root/lib/modules/$release" -name "$module.ko" | head -n 1)
        [ -n "$found" ] || die "$kernel_package has no $module.ko"
        cp "$found" "$work/out/modules/"
    done
    echo "$release" >"$work/out/release"
    rm -rf "$kernel_dir"
    mv "$work/out" "$kernel_dir"
    rm -rf "$work"
fi
kernel_release=$(cat "$kernel_dir/release")

# --- initramfs -------------------------------------------------------------------
# The guest's programs and every library they load, as ldd resolves them on this host.
originals=$(for program in $GUEST_PROGRAMS; do
    echo "$program"
    ldd "$program" | awk '$2 == "=>" && $3 ~ /^\// { print $3 } $1 ~ /^\// { print $1 }'
done | sort -u)
payload=$(printf '%s\n' /bin/busybox "$originals" | xargs -n 1 readlink -f | sort -u)
key=$( {
    # Contents, not paths: every checkout of the same sources shares the entry.
    cat "$here/build-artefacts.sh" "$here/init.sh" | sha256sum
    basename "$kernel_dir"
    echo "$originals"
    # shellcheck disable=SC2086
    sha256sum $payload
} | sha256sum | cut -c1-16)
initramfs=$cache/initramfs-$key.cpio
if [ ! -f "$initramfs" ]; then
    say "building the guest initramfs"
    stage=$(mktemp -d "$cache/initramfs.XXXXXX")
    root=$stage/root
    # Merged /usr like Debian 12, so every path ldd printed resolves in the guest as on the host.
    mkdir -p "$root"/usr/bin "$root"/usr/sbin "$root"/usr/lib/modules "$root"/usr/lib64 \
        "$root"/etc/ssh "$root"/root/.ssh "$root"/proc "$root"/sys "$root"/dev "$root"/run "$root"/tmp
    for dir in bin sbin lib lib64; do ln -s "usr/$dir" "$root/$dir"; done
    for file in $payload; do
        mkdir -p "$root$(dirname "$file")"
        cp "$file" "$root$file"
    done
    # The names programs ask for (sonames, /lib64/ld-linux-x86-64.so.2) where they are symlinks here.
    for file in $originals; do
        [ -e "$root$file" ] || ln -s "$(readlink -f "$file")" "$root$file"
    done
    for applet in $(/bin/busybox --list); do
        [ -e "$root/usr/bin/$applet" ] || ln -s busybox "$root/usr/bin/$applet"
    done
    cp "$kernel_dir"/modules/*.ko "$root/usr/lib/modules/"
    echo "$MODULES" >"$root/etc/modules-order"
    install -m 0755 "$here/init.sh" "$root/init"
    chmod 0700 "$root/root" "$root/root/.ssh"
    chmod 1777 "$root/tmp"
    printf 'root:x:0:0:root:/root:/bin/sh\nsshd:x:100:65534::/run/sshd:/usr/sbin/nologin\n' >"$root/etc/passwd"
    printf 'root:*:19000:0:99999:7:::\nsshd:*:19000:0:99999:7:::\n' >"$root/etc/shadow"
    printf 'root:x:0:\nnogroup:x:65534:\n' >"$root/etc/group"
    printf 'passwd: files\ngroup: files\nshadow: files\nhosts: files\n' >"$root/etc/nsswitch.conf"
    chmod 0600 "$root/etc/shadow"
    # Keys come per run in a second archive appended by the test (ssh_host_ed25519_key, authorized_keys).
    cat >"$root/etc/ssh/sshd_config" <<'EOF'
HostKey /etc/ssh/ssh_host_ed25519_key
AuthorizedKeysFile /etc/ssh/authorized_keys
UsePAM no
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
PermitRootLogin prohibit-password
StrictModes no
PidFile none
PermitUserRC no
PrintMotd no
PrintLastLog no
UseDNS no
Subsystem sftp internal-sftp
LogLevel VERBOSE
EOF
    (cd "$root" && find . -mindepth 1 | LC_ALL=C sort | /bin/busybox cpio -o -H newc) >"$stage/initramfs.cpio" 2>"$stage/cpio.log" ||
        { cat "$stage/cpio.log" >&2; die "cpio failed"; }
    mv "$stage/initramfs.cpio" "$initramfs"
    rm -rf "$stage"
fi

# What is not current any more, unless another checkout (other sources, so other
# keys) used it within the hour: it may be about to copy its initramfs.
touch "$backend_dir" "$kernel_dir" "$initramfs"
for entry in "$cache"/vhost-device-vsock-* "$cache"/kernel[-.]* "$cache"/initramfs[-.]*; do
    case $entry in
        "$backend_dir" | "$kernel_dir" | "$initramfs" | "$cache/vhost-device-vsock-build.log") ;;
        *) if [ -n "$(find "$entry" -maxdepth 0 -mmin +60)" ]; then rm -rf "$entry"; fi ;;
    esac
done

echo "vhost_device_vsock=$backend"
echo "kernel=$kernel_dir/vmlinuz"
echo "kernel_release=$kernel_release"
echo "initramfs=$initramfs"
