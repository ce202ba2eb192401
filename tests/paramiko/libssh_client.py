"""libssh through ssh-sockproxy: usage libssh_client.py PROXYCOMMAND USER KEYFILE COMMAND COUNT.

ansible-pylibssh (libssh, Ansible's network_cli transport) runs the proxy
with one socketpair end as stdin and stdout, cannot receive a descriptor,
and writes its banner first. Logs in COUNT times in a row, prints each
command's stdout, and exits 0 only if every login worked and no
descriptor of ours was left open after them.
"""
import os
import sys

from pylibsshext.session import Session


def open_fds():
    return set(os.listdir("/proc/self/fd"))


def login(proxy_command, user, key, command):
    session = Session()
    try:
        session.connect(
            host="sockproxy-target",
            user=user,
            private_key=key,
            proxycommand=proxy_command,
            host_key_checking=False,
            look_for_keys=False,
            timeout=30,
        )
        channel = session.new_channel()
        result = channel.exec_command(command)
        # Closed before the session: pylibssh 1.4.0 crashes at exit otherwise.
        channel.close()
    finally:
        session.close()
    if result.returncode != 0:
        raise RuntimeError(f"exit status {result.returncode}, stderr {result.stderr!r}")
    return result.stdout.decode()


def main():
    proxy_command, user, key_file, command, count = sys.argv[1:6]
    with open(key_file, "rb") as f:
        key = f.read()
    before = open_fds()
    for n in range(1, int(count) + 1):
        try:
            sys.stdout.write(login(proxy_command, user, key, command))
            sys.stdout.flush()
        except Exception as error:
            sys.stderr.write(f"libssh failed: login {n}: {type(error).__name__}: {error}\n")
            sys.exit(2)
    left = open_fds() - before
    if left:
        sys.stderr.write(f"libssh failed: descriptors left open: {sorted(left)}\n")
        sys.exit(3)


if __name__ == "__main__":
    main()
