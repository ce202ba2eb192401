#!/bin/busybox sh
# Guest PID 1: mounts, loads the virtio and vsock modules, serves sshd on vsock port 22, reports ready on the console.

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

# shellcheck disable=SC2013 # names separated by blanks and newlines, in load order
for module in $(cat /etc/modules-order); do
    insmod "/lib/modules/$module.ko" || fail "insmod $module"
done
[ -e /dev/vsock ] || fail "no /dev/vsock after loading the modules"
bound=$(ls /sys/bus/virtio/drivers/vmw_vsock_virtio_transport/)
case $bound in *virtio*) ;; *) fail "no virtio vsock device (is vhost-user-vsock-pci there?)" ;; esac

# One sshd -i per connection, as inetd would run it; its log goes to /run/sshd.log.
socat VSOCK-LISTEN:22,fork,reuseaddr EXEC:"/usr/sbin/sshd -i -e -f /etc/ssh/sshd_config",nofork 2>>/run/sshd.log &

# Ready means listening: a loopback connection (CID 1) gets through.
tries=0
until socat -T 2 -u OPEN:/dev/null VSOCK-CONNECT:1:22 2>/dev/null; do
    tries=$((tries + 1))
    [ $tries -lt 100 ] || fail "sshd does not listen on vsock port 22"
    usleep 50000
done
echo "ssh-sockproxy-vm: ready"

while :; do sleep 3600; done
