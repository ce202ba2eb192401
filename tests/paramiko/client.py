"""Paramiko through ssh-sockproxy's relay: usage client.py PROXYCOMMAND USER KEYFILE COMMAND.

Paramiko's ProxyCommand gives the proxy pipes and cannot receive a
descriptor, like Ansible's and Fabric's transport. Prints the command's
stdout and exits with its status.
"""
import sys

import paramiko


def main():
    proxy_command, user, key_file, command = sys.argv[1:5]
    client = paramiko.SSHClient()
    # The test sshd's host key is fresh for every run.
    client.set_missing_host_key_policy(paramiko.AutoAddPolicy())
    client.connect(
        "sockproxy-target",
        username=user,
        key_filename=key_file,
        sock=paramiko.ProxyCommand(proxy_command),
        look_for_keys=False,
        allow_agent=False,
        timeout=30,
        banner_timeout=30,
        auth_timeout=30,
    )
    try:
        _, stdout, _ = client.exec_command(command, timeout=30)
        sys.stdout.write(stdout.read().decode())
        status = stdout.channel.recv_exit_status()
    finally:
        client.close()
    sys.exit(status)


if __name__ == "__main__":
    main()
