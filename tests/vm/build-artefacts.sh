#!/usr/bin/env bash
# Builds or reuses the nested-VM test's artefacts for one guest architecture in CACHE_DIR and prints their
# paths (key=value).
#
# Usage: build-artefacts.sh ARCH CACHE_DIR        ARCH: x86_64, aarch64, riscv64 or armv7
#
# The guest runs Debian's kernel and Debian's programs of its own architecture. They are fetched with an apt
# state of this script's own (CACHE_DIR/apt-DEBARCH-SUITE/, its lists refreshed after a day): the machine's
# apt configuration is not read (APT_CONFIG moves every Dir::Etc), nor its dpkg changed. Nothing of the
# guest's architecture runs on the host: readelf finds the libraries the programs load, modinfo the modules'
# dependencies, and the guest's busybox makes its applet links at boot (init.sh).
#
# Every artefact lives under a name that carries its key, so a cache made from other versions is rebuilt,
# never reused; entries of ARCH no longer current are pruned.
#   vhost-device-vsock-VERSION/bin/vhost-device-vsock   the vhost-user vsock backend (cargo install; a host program)
#   apt-DEBARCH-SUITE/                                  the apt state
#   kernel-ARCH-PACKAGE-VERSION/{vmlinuz,release,modules/,modules-order}
#                                                       the kernel image and its virtio and vsock modules, decompressed
#   userland-ARCH-KEY/root/                             busybox, sshd, ssh, scp and the libraries they load
#   initramfs-ARCH-KEY.cpio                             userland, modules and init.sh (uncompressed: faster under TCG)
# Both keys hash this script (and the initramfs's init.sh), so a cache from the days when the guest ran socat
# is not reused. ssh-sockproxy and ssh-sockserve, the binaries under test, come per run in the test's overlay.
# Needs: apt-get, dpkg-deb, tar, readelf (binutils), modinfo (kmod), xz (xz-utils), cpio, flock, sha256sum,
# debian-archive-keyring, and cargo once (vhost-device-vsock).
set -euo pipefail

VHOST_DEVICE_VSOCK_VERSION=0.3.0
MIRROR=http://deb.debian.org/debian
SECURITY_MIRROR=http://deb.debian.org/debian-security
KEYRING=/usr/share/keyrings/debian-archive-keyring.gpg
PACKAGES="busybox-static openssh-server openssh-client"
# What the guest runs; the ones with a `?` only where the package has them: OpenSSH 9.8 and later (trixie)
# split sshd, whose `sshd -i` executes sshd-session, which executes sshd-auth.
PROGRAMS="/usr/bin/busybox /usr/sbin/sshd /usr/lib/openssh/sshd-session? /usr/lib/openssh/sshd-auth? /usr/bin/ssh
/usr/bin/scp"
# The drivers of the vsock device (vhost-user-vsock-pci) and vsock_loopback, which serves CID 1
# (VMADDR_CID_LOCAL) inside the guest; what they depend on comes from modinfo.
MODULES="virtio_pci vmw_vsock_virtio_transport vsock_loopback"
LISTS_MAX_AGE_MINUTES=1440

here=$(cd "$(dirname "$0")" && pwd)
say() { echo "vm artefacts: $*" >&2; }
die() { say "$*"; exit 1; }

[ $# -eq 2 ] || die "usage: $0 x86_64|aarch64|riscv64|armv7 CACHE_DIR"
arch=$1
cache=$2
# Debian's name of the architecture, the suite, the kernel flavour and the multiarch library directory.
case $arch in
    x86_64) debarch=amd64 suite=bookworm kernel_meta=linux-image-cloud-amd64 multiarch=x86_64-linux-gnu ;;
    aarch64) debarch=arm64 suite=bookworm kernel_meta=linux-image-cloud-arm64 multiarch=aarch64-linux-gnu ;;
    # Bookworm has no riscv64 port, and trixie no riscv64 cloud kernel.
    riscv64) debarch=riscv64 suite=trixie kernel_meta=linux-image-riscv64 multiarch=riscv64-linux-gnu ;;
    # LPAE: QEMU's virt machine has its PCIe window above 4 GiB, which plain armmp cannot reach.
    armv7) debarch=armhf suite=bookworm kernel_meta=linux-image-armmp-lpae multiarch=arm-linux-gnueabihf ;;
    *) die "unknown ARCH $arch: x86_64, aarch64, riscv64 or armv7" ;;
esac

for tool in apt-get apt-cache apt-config dpkg-deb tar readelf modinfo xz cpio flock sha256sum realpath; do
    command -v "$tool" >/dev/null || die "missing $tool: apt-get install binutils kmod xz-utils cpio (see .ci/run)"
done
[ -r "$KEYRING" ] || die "missing $KEYRING: apt-get install debian-archive-keyring"

mkdir -p "$cache"
cache=$(cd "$cache" && pwd)
# One builder at a time; a second test run waits and then finds everything built.
exec 9>"$cache/.lock"
flock 9
# This run's work directories, removed however it ends; new_work sets $work to a new one.
work_dirs=()
trap 'rm -rf "${work_dirs[@]}"' EXIT
new_work() {
    work=$(mktemp -d "$cache/$1.XXXXXX")
    # apt-get download writes to the working directory, as _apt when it can.
    chmod 0755 "$work"
    work_dirs+=("$work")
}

# --- vhost-device-vsock -------------------------------------------------------
backend_dir=$cache/vhost-device-vsock-$VHOST_DEVICE_VSOCK_VERSION
backend=$backend_dir/bin/vhost-device-vsock
if [ ! -x "$backend" ]; then
    command -v cargo >/dev/null || die "missing cargo, which builds vhost-device-vsock"
    say "building vhost-device-vsock $VHOST_DEVICE_VSOCK_VERSION with cargo install (about a minute, once)"
    rm -rf "$backend_dir.tmp"
    log=$cache/vhost-device-vsock-build.log
    # Outside the repository, whose .cargo/config.toml is for the product.
    if ! (cd "$cache" && env -u CARGO_TARGET_DIR -u CARGO_BUILD_TARGET -u RUSTFLAGS -u CARGO_ENCODED_RUSTFLAGS \
        cargo install --locked --root "$backend_dir.tmp" --version "$VHOST_DEVICE_VSOCK_VERSION" vhost-device-vsock) >"$log" 2>&1; then
        tail -n 30 "$log" >&2
        die "cargo install vhost-device-vsock failed; full log: $log"
    fi
    rm -rf "$backend_dir"
    mv "$backend_dir.tmp" "$backend_dir"
fi

# --- the apt state ------------------------------------------------------------
apt_dir=$cache/apt-$debarch-$suite
mkdir -p "$apt_dir"/lists/partial "$apt_dir"/archives/partial "$apt_dir"/etc/apt.conf.d "$apt_dir"/etc/preferences.d \
    "$apt_dir"/etc/trusted.gpg.d
[ -f "$apt_dir/status" ] || : >"$apt_dir/status"
# Written only when it changes: a newer file makes apt rebuild its cache.
write_if_changed() {
    cat >"$1.new"
    if cmp -s "$1.new" "$1"; then rm "$1.new"; else mv "$1.new" "$1"; fi
}
write_if_changed "$apt_dir/etc/sources.list" <<EOF
deb [arch=$debarch signed-by=$KEYRING] $MIRROR $suite main
deb [arch=$debarch signed-by=$KEYRING] $MIRROR $suite-updates main
deb [arch=$debarch signed-by=$KEYRING] $SECURITY_MIRROR $suite-security main
EOF
# The machine's proxy, if it has one, is the one setting of its apt that applies here too.
proxies=$(apt-config dump 2>/dev/null | grep -E '^Acquire::https?::Proxy ' || true)
write_if_changed "$apt_dir/apt.conf" <<EOF
APT::Architecture "$debarch";
APT::Architectures { "$debarch"; };
Dir::Etc "$apt_dir/etc";
Dir::Etc::main "/dev/null";
Dir::Etc::parts "$apt_dir/etc/apt.conf.d";
Dir::Etc::sourcelist "$apt_dir/etc/sources.list";
Dir::Etc::sourceparts "/dev/null";
Dir::Etc::preferences "/dev/null";
Dir::Etc::preferencesparts "$apt_dir/etc/preferences.d";
Dir::Etc::trustedparts "$apt_dir/etc/trusted.gpg.d";
Dir::State "$apt_dir";
Dir::State::lists "$apt_dir/lists";
Dir::State::status "$apt_dir/status";
Dir::Cache "$apt_dir";
Dir::Cache::archives "$apt_dir/archives";
Dir::Cache::srcpkgcache "";
Acquire::Languages "none";
Acquire::GzipIndexes "true";
Acquire::IndexTargets::deb::Packages::KeepCompressedAs "xz";
APT::Sandbox::User "root";
Debug::NoLocking "true";
$proxies
EOF
export APT_CONFIG=$apt_dir/apt.conf
apt_update() {
    say "apt-get update ($debarch, $suite)"
    apt-get -q update >"$apt_dir/update.log" 2>&1 || { cat "$apt_dir/update.log" >&2; die "apt-get update failed"; }
    touch "$apt_dir/updated"
}
if [ ! -f "$apt_dir/updated" ] || [ -n "$(find "$apt_dir/updated" -mmin +$LISTS_MAX_AGE_MINUTES)" ]; then
    apt_update
fi
# `name version` a line for each package named that the lists know.
candidates() {
    apt-cache policy "$@" 2>/dev/null |
        awk '/^[^ ]/ { name = $1; sub(":$", "", name) } /^  Candidate: / && $2 != "(none)" { print name, $2 }'
}
# apt-get download of `name=version` arguments into directory $1; one update when the lists are stale
# (the mirror dropped a version).
download() {
    local dir=$1
    shift
    if ! (cd "$dir" && apt-get download -q "$@") >"$dir/download.log" 2>&1; then
        apt_update
        (cd "$dir" && apt-get download -q "$@") >"$dir/download.log" 2>&1 ||
            { cat "$dir/download.log" >&2; die "apt-get download failed"; }
    fi
}

# --- kernel ---------------------------------------------------------------------
kernel_package=$(apt-cache depends "$kernel_meta" 2>/dev/null | sed -n 's/^ *Depends: \(linux-image-[^ ]*\)$/\1/p' | head -n 1)
[ -n "$kernel_package" ] || die "the $debarch $suite lists know no $kernel_meta"
kernel_version=$(candidates "$kernel_package" | cut -d' ' -f2)
[ -n "$kernel_version" ] || die "no candidate version of $kernel_package"
kernel_dir=$cache/kernel-$arch-$kernel_package-$kernel_version
if [ ! -f "$kernel_dir/release" ]; then
    say "fetching $kernel_package $kernel_version ($debarch)"
    new_work "kernel-$arch"
    download "$work" "$kernel_package=$kernel_version"
    # Only the image, modules.builtin and the modules that may be wanted (/usr/lib/modules in trixie).
    dpkg-deb --fsys-tarfile "$work"/*.deb | tar -x -C "$work" --wildcards './boot/vmlinu*' \
        '*/modules/*/modules.builtin' '*/modules/*/kernel/drivers/virtio/*' '*/modules/*/kernel/net/vmw_vsock/*'
    modules_dir=$(find "$work" -path '*/modules/*' -name modules.builtin -printf '%h\n' | head -n 1)
    [ -n "$modules_dir" ] || die "$kernel_package has no modules.builtin"
    release=$(basename "$modules_dir")
    # vmlinuz (riscv64's is vmlinux, an uncompressed image with an EFI stub): QEMU boots each as it is.
    image=$(find "$work/boot" -name "vmlinu[xz]-$release" | head -n 1)
    [ -n "$image" ] || die "$kernel_package has no /boot/vmlinu[xz]-$release"
    mkdir -p "$work/out/modules"
    cp "$image" "$work/out/vmlinuz"
    # Each module after the ones it depends on; built-in ones are not loaded. Decompressed for busybox insmod.
    order=()
    declare -A placed=()
    place() {
        local name=$1 file dependency
        [ -z "${placed[$name]:-}" ] || return 0
        placed[$name]=1
        if grep -q "/$name\.ko" "$modules_dir/modules.builtin"; then return 0; fi
        file=$(find "$modules_dir/kernel" -name "$name.ko" -o -name "$name.ko.xz" | head -n 1)
        [ -n "$file" ] || die "$kernel_package has no module $name, neither built in nor as a file"
        for dependency in $(modinfo -F depends "$file" | tr ',' ' '); do place "$dependency"; done
        case $file in
            *.xz) xz -dc "$file" >"$work/out/modules/$name.ko" ;;
            *) cp "$file" "$work/out/modules/$name.ko" ;;
        esac
        order+=("$name")
    }
    for module in $MODULES; do place "$module"; done
    echo "${order[*]}" >"$work/out/modules-order"
    echo "$release" >"$work/out/release"
    rm -rf "$kernel_dir"
    mv "$work/out" "$kernel_dir"
fi
kernel_release=$(cat "$kernel_dir/release")

# --- userland -----------------------------------------------------------------
# The packages and every library package they depend on, however deep (Depends and Pre-Depends): more than the
# programs load, but found in one step; only the files the programs load go into the guest.
libraries=$(apt-cache depends --recurse --important $PACKAGES 2>/dev/null | grep -E '^(lib|zlib1g)' | grep -v -- '-dev$' || true)
versions=$(candidates $PACKAGES $libraries | sort -u)
[ "$(echo "$versions" | grep -c -E '^(busybox-static|openssh-server|openssh-client) ')" -eq 3 ] ||
    die "the $debarch $suite lists lack one of $PACKAGES"
userland_key=$({ cat "$here/build-artefacts.sh"; echo "$arch $suite"; echo "$versions"; } | sha256sum | cut -c1-16)
userland_dir=$cache/userland-$arch-$userland_key
if [ ! -d "$userland_dir/root" ]; then
    say "fetching the $debarch userland ($suite, $(echo "$versions" | wc -l) packages)"
    new_work "userland-$arch"
    # shellcheck disable=SC2046 # one argument per package
    download "$work" $(echo "$versions" | tr ' ' '=')
    # Every package unpacked into a merged /usr, as the guest's, so /lib/x and /usr/lib/x are one file.
    all=$work/all
    mkdir -p "$all"/usr/bin "$all"/usr/sbin "$all"/usr/lib "$all"/usr/lib64
    for dir in bin sbin lib lib64; do ln -s "usr/$dir" "$all/$dir"; done
    for deb in "$work"/*.deb; do
        dpkg-deb --fsys-tarfile "$deb" | tar -x --keep-directory-symlink -C "$all"
    done
    # The name of `path` in a merged /usr.
    merged() {
        case $1 in /bin/* | /sbin/* | /lib/* | /lib64/*) echo "/usr$1" ;; *) echo "$1" ;; esac
    }
    # Every name from `path` to the file it leads to, symlinks followed inside $all; the file is last.
    names_to_file() {
        local path hops=0 target
        path=$(merged "$1")
        while :; do
            echo "$path"
            [ -L "$all$path" ] || break
            target=$(readlink "$all$path")
            case $target in /*) ;; *) target=$(dirname "$path")/$target ;; esac
            path=$(merged "$(realpath -m -s "$target")")
            hops=$((hops + 1))
            [ $hops -lt 16 ] || return 1
        done
        [ -f "$all$path" ]
    }
    # Where the guest's dynamic loader finds `soname` (no ld.so.cache: Debian's built-in paths).
    library_path() {
        local dir
        for dir in "/usr/lib/$multiarch" /usr/lib /usr/lib64; do
            if [ -e "$all$dir/$1" ]; then echo "$dir/$1"; return 0; fi
        done
        return 1
    }
    queue=()
    for program in $PROGRAMS; do
        case $program in
            *\?) program=${program%\?}; [ -e "$all$program" ] || continue ;;
            *) [ -e "$all$program" ] || die "no $program in the $debarch packages" ;;
        esac
        queue+=("$program")
    done
    declare -A seen=()
    : >"$work/files"
    while [ ${#queue[@]} -gt 0 ]; do
        path=${queue[0]}
        queue=("${queue[@]:1}")
        [ -z "${seen[$path]:-}" ] || continue
        seen[$path]=1
        names=$(names_to_file "$path") || die "$path leads to no file in the $debarch packages"
        echo "$names" >>"$work/files"
        file=$(echo "$names" | tail -n 1)
        interpreter=$(readelf -lW "$all$file" | sed -n 's/.*\[Requesting program interpreter: \(.*\)\]$/\1/p')
        [ -z "$interpreter" ] || queue+=("$interpreter")
        for soname in $(readelf -dW "$all$file" | sed -n 's/.*(NEEDED).*\[\(.*\)\]$/\1/p'); do
            library=$(library_path "$soname") || die "$file needs $soname, which no $debarch package fetched has"
            queue+=("$library")
        done
    done
    root=$work/out/root
    mkdir -p "$root"/usr/bin "$root"/usr/sbin "$root"/usr/lib "$root"/usr/lib64
    for dir in bin sbin lib lib64; do ln -s "usr/$dir" "$root/$dir"; done
    sort -u "$work/files" | while read -r path; do
        mkdir -p "$root$(dirname "$path")"
        cp -P "$all$path" "$root$path"
    done
    echo "$versions" >"$work/out/packages"
    rm -rf "$userland_dir"
    mv "$work/out" "$userland_dir"
fi

# --- initramfs -------------------------------------------------------------------
key=$({
    cat "$here/build-artefacts.sh" "$here/init.sh"
    basename "$kernel_dir"
    basename "$userland_dir"
} | sha256sum | cut -c1-16)
initramfs=$cache/initramfs-$arch-$key.cpio
if [ ! -f "$initramfs" ]; then
    say "building the $arch guest initramfs"
    new_work "initramfs-$arch"
    stage=$work
    root=$stage/root
    cp -a "$userland_dir/root" "$root"
    mkdir -p "$root"/usr/lib/modules "$root"/etc/ssh "$root"/root/.ssh "$root"/proc "$root"/sys "$root"/dev "$root"/run \
        "$root"/tmp
    for module in $(cat "$kernel_dir/modules-order"); do cp "$kernel_dir/modules/$module.ko" "$root/usr/lib/modules/"; done
    cp "$kernel_dir/modules-order" "$root/etc/modules-order"
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
    (cd "$root" && find . -mindepth 1 | LC_ALL=C sort | cpio --quiet -o -H newc -R 0:0) >"$stage/initramfs.cpio" 2>"$stage/cpio.log" ||
        { cat "$stage/cpio.log" >&2; die "cpio failed"; }
    mv "$stage/initramfs.cpio" "$initramfs"
fi

# What of ARCH is not current any more, unless another checkout (other sources, so other keys) used it
# within the hour: it may be about to copy its initramfs.
touch "$backend_dir" "$kernel_dir" "$userland_dir" "$initramfs"
for entry in "$cache"/kernel-"$arch"[-.]* "$cache"/userland-"$arch"[-.]* "$cache"/initramfs-"$arch"[-.]*; do
    case $entry in
        "$kernel_dir" | "$userland_dir" | "$initramfs") ;;
        *) if [ -e "$entry" ] && [ -n "$(find "$entry" -maxdepth 0 -mmin +60)" ]; then rm -rf "$entry"; fi ;;
    esac
done

echo "vhost_device_vsock=$backend"
echo "kernel=$kernel_dir/vmlinuz"
echo "kernel_release=$kernel_release"
echo "initramfs=$initramfs"
