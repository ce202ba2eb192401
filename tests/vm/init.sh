#!/bin/busybox sh
# Guest PID 1: mounts, starts ssh-sockserve for sshd, loads the virtio and vsock modules after it (late vsock).

# The applets as commands; the host cannot run a busybox of the guest's architecture to list them. Files
# already there (ssh, scp) stay.
/bin/busybox --install -s /usr/bin

fail() {
    echo "ssh-sockproxy-vm: init failed: $*"
    poweroff -f
}

mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mkdir -p /dev/pts
mount -t devpts devpts /dev/pts
mount -t tmpfs tmpfs /run
mkdir -m 0755 /run/sshd
hostname vm-guest

# One sshd -i per connection, as systemd's socket units run it; the server's -v notes and sshd's log go to
# /run/sshd.log. READY=1 goes to the host (CID 2) on port 9000, where the host listens at VM.vsock_9000.
# It starts before AF_VSOCK exists: the unix socket is served at once, vsock::22 once the modules are in.
NOTIFY_SOCKET=vsock-stream:2:9000 /usr/sbin/ssh-sockserve -v vsock::22 /run/ssh-unix-local/socket -- \
    /usr/sbin/sshd -i -e -f /etc/ssh/sshd_config 2>>/run/sshd.log &

# wait_for WHAT COMMAND...: until COMMAND succeeds, for up to 30 s.
wait_for() {
    what=$1
    shift
    tries=0
    until "$@"; do
        tries=$((tries + 1))
        [ $tries -lt 600 ] || fail "$what"
        usleep 50000
    done
}
wait_for "ssh-sockserve does not listen on /run/ssh-unix-local/socket" test -S /run/ssh-unix-local/socket
wait_for "ssh-sockserve does not say that vsock::22 is late" grep -q "^Cannot listen on vsock::22 yet" /run/sshd.log
echo "ssh-sockproxy-vm: serving the unix socket; vsock::22 waits for the modules"
sleep 3

# The modules go in while the server runs. With vsock.ko alone a bind to VMADDR_CID_ANY already works, but
# the connect that sends READY=1 fails (ENODEV) until the virtio transport is there too: the server tries it
# again, as it tries vsock::22 until it binds.
# shellcheck disable=SC2013 # names separated by blanks and newlines, in load order
for module in $(cat /etc/modules-order); do
    insmod "/lib/modules/$module.ko" || fail "insmod $module"
done
[ -e /dev/vsock ] || fail "no /dev/vsock after loading the modules"
bound=$(ls /sys/bus/virtio/drivers/vmw_vsock_virtio_transport/)
case $bound in *virtio*) ;; *) fail "no virtio vsock device (is vhost-user-vsock-pci there?)" ;; esac
# The host starts its ssh --wait now; the server binds vsock::22 on its next try, and then sends READY=1.
echo "ssh-sockproxy-vm: vsock modules loaded"

while :; do sleep 3600; done
