"""Paramiko through ssh-sockproxy's relay: usage client.py PROXYCOMMAND USER KEYFILE COMMAND [SECONDS].

Paramiko's ProxyCommand gives the proxy pipes and cannot receive a
descriptor, like Ansible's and Fabric's transport. Prints the command's
stdout and exits with its status.
"""
import sys

import paramiko


def main():
    proxy_command, user, key_file, command = sys.argv[1:5]
    # Paramiko's ProxyCommand reads on after the proxy's EOF until a timeout.
    seconds = float(sys.argv[5]) if len(sys.argv) > 5 else 30
    client = paramiko.SSHClient()
    try:
        run(client, proxy_command, user, key_file, command, seconds)
    except Exception as error:  # whichever step saw the proxy fail
        sys.stderr.write(f"paramiko failed: {type(error).__name__}: {error}\n")
        sys.exit(2)


def run(client, proxy_command, user, key_file, command, seconds):
    # The test sshd's host key is fresh for every run.
    client.set_missing_host_key_policy(paramiko.AutoAddPolicy())
    client.connect(
        "sockproxy-target",
        username=user,
        key_filename=key_file,
        sock=paramiko.ProxyCommand(proxy_command),
        look_for_keys=False,
        allow_agent=False,
        timeout=seconds,
        banner_timeout=seconds,
        auth_timeout=seconds,
    )
    try:
        _, stdout, _ = client.exec_command(command, timeout=seconds)
        sys.stdout.write(stdout.read().decode())
        status = stdout.channel.recv_exit_status()
    finally:
        client.close()
    sys.exit(status)


if __name__ == "__main__":
    main()
