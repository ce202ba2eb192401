//! Commands in the guest over ssh through the proxy's vsock-mux target, and the ssh command lines run there.

use std::process::Output;

use sockproxy_test_common::sshd::{Sshd, output_with_timeout};

use crate::machine::Vm;

/// Where the run's overlay puts the client key in the guest (ssh-sockproxy goes to /bin, ssh-sockserve to /sbin).
pub const GUEST_KEY: &str = "/root/.ssh/id_ed25519";
/// The guest's hostname, set by init.sh.
pub const GUEST_HOSTNAME: &str = "vm-guest";
/// The ProxyCommand a user writes in the guest's ssh_config.
pub const PROXY_COMMAND: &str = "/bin/ssh-sockproxy %h %p";
/// The same, with the proxy's exit status appended to stderr: ssh itself exits 255
/// whatever the proxy's status was.
pub const PROXY_COMMAND_WITH_STATUS: &str =
    r#"sh -c '/bin/ssh-sockproxy "$@"; echo "ssh-sockproxy exited $?" >&2' - %h %p"#;
/// Time limit of one ssh session (TCG is slow, but a session takes about a second).
pub const SESSION_SECS: u64 = 120;

/// ssh from the host into the guest: `root@vsock-mux/<VM.vsock>` with the binary under test.
pub struct Guest<'a> {
    pub vm: &'a Vm,
    /// The host fixture: its client key is authorized in the guest too.
    pub sshd: &'a Sshd,
}

impl Guest<'_> {
    /// The host's ProxyCommand, as in ssh_config: the x86-64 binary.
    pub fn proxy_command(&self) -> String {
        format!("'{}' %h %p", crate::arch::X86_64.binary(crate::arch::PROXY).display())
    }

    /// `root@vsock-mux/PATH` or `root@vsock-mux%PATH`.
    pub fn destination(&self, separator: char) -> String {
        format!("root@vsock-mux{separator}{}", self.vm.mux_path().display())
    }

    /// Runs the shell command line `command` in the guest through `vsock-mux/`.
    pub fn run(&self, command: &str) -> Output {
        self.run_via('/', command)
    }

    pub fn run_via(&self, separator: char, command: &str) -> Output {
        let mut ssh = self.sshd.ssh(&self.proxy_command(), &self.destination(separator));
        ssh.arg(command);
        output_with_timeout(ssh, SESSION_SECS)
    }

    /// scp with `args` (the guest named by an alias whose HostName is `vsock-mux%PATH`).
    pub fn scp(&self, args: &[&str]) -> Output {
        // ssh expands `%` in HostName, so `%%` is one `%`; scp would take a `/` in the host for a local path.
        let hostname = format!("HostName=vsock-mux%%{}", self.vm.mux_path().display());
        let mut all = vec!["-q", "-o", &hostname, "-o", "User=root"];
        all.extend(args);
        let scp = self.sshd.scp(&self.proxy_command(), &all);
        output_with_timeout(scp, SESSION_SECS)
    }
}

/// One ssh invocation inside the guest, with the binary under test as ProxyCommand.
pub struct GuestSsh<'a> {
    pub proxy_command: &'a str,
    pub fdpass: bool,
    /// `QUIET` leaves on stderr only what the ProxyCommand and the remote command print.
    pub log_level: &'a str,
    pub destination: &'a str,
    pub port: u32,
    pub remote_command: &'a str,
}

impl<'a> GuestSsh<'a> {
    /// `ssh DESTINATION REMOTE_COMMAND` through the plain ProxyCommand with fd passing, port 22.
    pub fn new(destination: &'a str, remote_command: &'a str) -> Self {
        let (proxy_command, log_level) = (PROXY_COMMAND, "ERROR");
        GuestSsh { proxy_command, fdpass: true, log_level, destination, port: 22, remote_command }
    }

    /// The shell command line for `Guest::run`.
    pub fn command_line(&self) -> String {
        let options = [
            "-F".to_string(),
            "none".into(),
            "-o".into(),
            format!("ProxyCommand={}", self.proxy_command),
            "-o".into(),
            format!("ProxyUseFdpass={}", if self.fdpass { "yes" } else { "no" }),
            "-o".into(),
            format!("LogLevel={}", self.log_level),
        ];
        let fixed = [
            "-o",
            "StrictHostKeyChecking=no",
            "-o",
            "UserKnownHostsFile=/dev/null",
            "-o",
            "IdentitiesOnly=yes",
            "-o",
            "BatchMode=yes",
            "-o",
            "ConnectTimeout=20",
            "-i",
            GUEST_KEY,
            "-p",
        ];
        let port = self.port.to_string();
        let words = ["ssh"].into_iter().chain(options.iter().map(String::as_str)).chain(fixed).chain([
            port.as_str(),
            self.destination,
            self.remote_command,
        ]);
        words.map(shell_quote).collect::<Vec<_>>().join(" ")
    }
}

/// Quotes `word` for a POSIX shell.
pub fn shell_quote(word: &str) -> String {
    format!("'{}'", word.replace('\'', r"'\''"))
}
