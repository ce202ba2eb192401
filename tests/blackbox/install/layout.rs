//! Where `make install` puts what under DESTDIR, what ssh makes of the drop-in, and `make uninstall`.

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::{Command, Stdio};

use sockproxy_test_common::TempDir;

use super::{DROPIN, files, make, print_ssh_config, read, repo, run_quietly};
use crate::serve::serve_bin;
use crate::support::bin;

/// The options the drop-in sets, as `ssh -G -F config host` resolves them, sorted.
fn resolved(config: &Path, host: &str) -> Vec<String> {
    let mut command = Command::new("ssh");
    command.args(["-G", "-T", "-F"]).arg(config).arg(host).stdin(Stdio::null());
    let keys = ["proxycommand ", "proxyusefdpass ", "checkhostip ", "stricthostkeychecking ", "userknownhostsfile "];
    let mut lines: Vec<String> = run_quietly(command)
        .lines()
        .filter(|line| keys.iter().any(|key| line.starts_with(key)))
        .map(str::to_owned)
        .collect();
    lines.sort();
    lines
}

fn proxied(proxy_command: &str) -> Vec<String> {
    vec![
        "checkhostip no".to_owned(),
        format!("proxycommand {proxy_command}"),
        "proxyusefdpass yes".to_owned(),
        "stricthostkeychecking false".to_owned(),
        "userknownhostsfile /dev/null".to_owned(),
    ]
}

#[test]
fn default_layout_under_destdir() {
    let dir = TempDir::new();
    let destdir = dir.path().to_str().unwrap();
    make(&["install", &format!("DESTDIR={destdir}")]);
    assert_eq!(
        files(dir.path()),
        [
            "etc/ssh/ssh_config.d/20-ssh-sockproxy.conf 644",
            "usr/local/bin/ssh-sockproxy 755",
            "usr/local/sbin/ssh-sockserve 755",
            "usr/local/share/man/man1/ssh-sockproxy.1 644",
            "usr/local/share/man/man1/ssh-sockserve.1 644",
            "usr/local/share/ssh-sockproxy/20-ssh-sockproxy.conf 644",
        ]
    );
    let installed = dir.join("usr/local/bin/ssh-sockproxy");
    assert_eq!(fs::read(&installed).unwrap(), fs::read(bin()).unwrap(), "installed binary");
    assert_eq!(fs::read(dir.join("usr/local/sbin/ssh-sockserve")).unwrap(), fs::read(serve_bin()).unwrap());
    for page in ["ssh-sockproxy.1", "ssh-sockserve.1"] {
        assert_eq!(read(&dir.join("usr/local/share/man/man1").join(page)), read(&repo().join("src/dist").join(page)));
    }
    // The drop-in is what the installed binary prints, once at its final path.
    let dropin = read(&dir.join(DROPIN));
    let printed = print_ssh_config(&installed).replace(installed.to_str().unwrap(), "/usr/local/bin/ssh-sockproxy");
    assert_eq!(dropin, printed);
    assert_eq!(read(&dir.join("usr/local/share/ssh-sockproxy/20-ssh-sockproxy.conf")), dropin);

    let config = dir.join(DROPIN);
    for host in [
        "vsock/7",
        "vsock%7",
        "unix/run/x.sock",
        "unix%run/x.sock",
        "vsock-mux/run/vm.vsock",
        "vsock-mux%run/vm.vsock",
        "machine/foo",
        "machine%foo",
    ] {
        assert_eq!(resolved(&config, host), proxied("/usr/local/bin/ssh-sockproxy %n %p"), "ssh -G {host}");
    }
    for host in [".host", "machine/.host", "machine%.host"] {
        assert_eq!(
            resolved(&config, host),
            proxied("/usr/local/bin/ssh-sockproxy unix/run/ssh-unix-local/socket %p"),
            "ssh -G {host}"
        );
    }
    for host in ["example.com", "vsockx/7", "host"] {
        let lines = resolved(&config, host);
        assert!(lines.contains(&"proxyusefdpass no".to_owned()), "ssh -G {host}: {lines:?}");
        assert!(!lines.iter().any(|line| line.starts_with("proxycommand")), "ssh -G {host}: {lines:?}");
    }

    make(&["uninstall", &format!("DESTDIR={destdir}")]);
    assert_eq!(files(dir.path()), Vec::<String>::new());
}

#[test]
fn packager_layout_in_libexec_with_initrd_hooks() {
    let dir = TempDir::new();
    let vars = [
        format!("DESTDIR={}", dir.path().display()),
        "PREFIX=/usr".to_owned(),
        // Expanded by make: the binary goes out of PATH.
        "BINDIR=$(LIBEXECDIR)".to_owned(),
        "SSHCONF=/etc/ssh/ssh_config.d/50-sockproxy.conf".to_owned(),
    ];
    let vars: Vec<&str> = vars.iter().map(String::as_str).collect();
    make(&[&["install", "install-dracut", "install-mkinitcpio"], &vars[..]].concat());
    assert_eq!(
        files(dir.path()),
        [
            "etc/ssh/ssh_config.d/50-sockproxy.conf 644",
            "usr/lib/dracut/modules.d/90ssh-sockproxy/module-setup.sh 755",
            "usr/lib/dracut/modules.d/90ssh-sockserve/module-setup.sh 755",
            "usr/lib/initcpio/install/ssh-sockproxy 644",
            "usr/lib/initcpio/install/ssh-sockserve 644",
            "usr/libexec/ssh-sockproxy 755",
            // A daemon: in sbin, wherever BINDIR puts the proxy.
            "usr/sbin/ssh-sockserve 755",
            "usr/share/man/man1/ssh-sockproxy.1 644",
            "usr/share/man/man1/ssh-sockserve.1 644",
            "usr/share/ssh-sockproxy/20-ssh-sockproxy.conf 644",
        ]
    );
    let installed = dir.join("usr/libexec/ssh-sockproxy");
    let printed = print_ssh_config(&installed).replace(installed.to_str().unwrap(), "/usr/libexec/ssh-sockproxy");
    assert_eq!(read(&dir.join("etc/ssh/ssh_config.d/50-sockproxy.conf")), printed);
    let module = read(&dir.join("usr/lib/dracut/modules.d/90ssh-sockproxy/module-setup.sh"));
    assert!(
        module.contains(
            "\nsockproxy_bin='/usr/libexec/ssh-sockproxy'\nsockproxy_conf='/etc/ssh/ssh_config.d/50-sockproxy.conf'\n"
        ),
        "{module}"
    );
    let hook = read(&dir.join("usr/lib/initcpio/install/ssh-sockproxy"));
    assert!(
        hook.contains(
            "\n    add_binary '/usr/libexec/ssh-sockproxy'\n    add_file '/etc/ssh/ssh_config.d/50-sockproxy.conf'\n"
        ),
        "{hook}"
    );
    assert!(!module.contains('@') && !hook.contains('@'), "a placeholder is left:\n{module}\n{hook}");
    let module = read(&dir.join("usr/lib/dracut/modules.d/90ssh-sockserve/module-setup.sh"));
    assert!(module.contains("\nsockserve_bin='/usr/sbin/ssh-sockserve'\n"), "{module}");
    let hook = read(&dir.join("usr/lib/initcpio/install/ssh-sockserve"));
    assert!(hook.contains("\n    add_binary '/usr/sbin/ssh-sockserve'\n"), "{hook}");
    assert!(!module.contains('@') && !hook.contains('@'), "a placeholder is left:\n{module}\n{hook}");

    make(&[&["uninstall"], &vars[..]].concat());
    assert_eq!(files(dir.path()), Vec::<String>::new());
}

/// The user `ssh -G` settles on for `host`, run as `nobody` so that a default
/// of root is told apart from the caller's own name.
fn user_for(config: &Path, args: &[&str], host: &str) -> String {
    let mut command = Command::new("setpriv");
    command
        .args(["--reuid=nobody", "--regid=nogroup", "--clear-groups", "--", "ssh", "-G", "-T", "-F"])
        .arg(config)
        .args(args)
        .arg(host)
        .stdin(Stdio::null());
    let settings = run_quietly(command);
    let user = settings.lines().find_map(|line| line.strip_prefix("user ")).map(str::to_owned);
    user.unwrap_or_else(|| panic!("ssh -G {host} names no user:\n{settings}"))
}

#[test]
fn vms_and_containers_log_in_as_root_unless_a_user_is_given() {
    let dir = TempDir::new();
    make(&["install", &format!("DESTDIR={}", dir.path().display())]);
    let dropin = dir.join(DROPIN);
    fs::set_permissions(dir.path(), fs::Permissions::from_mode(0o755)).unwrap();
    for host in ["vsock/7", "vsock%7", "unix/run/x.sock", "vsock-mux%run/vm.vsock", "machine/foo", "machine%foo"] {
        assert_eq!(user_for(&dropin, &[], host), "root", "ssh -G {host}");
        assert_eq!(user_for(&dropin, &[], &format!("alice@{host}")), "alice", "ssh -G alice@{host}");
        assert_eq!(user_for(&dropin, &["-l", "bob"], host), "bob", "ssh -G -l bob {host}");
    }
    // `.host` is this machine: there one logs in as oneself.
    for host in [".host", "machine/.host", "machine%.host"] {
        assert_eq!(user_for(&dropin, &[], host), "nobody", "ssh -G {host}");
    }
    // A user set before the drop-in is read wins, as ssh's first value always does.
    let config = dir.join("config");
    fs::write(&config, format!("Host *\n    User carol\n\nInclude {}\n", dropin.display())).unwrap();
    assert_eq!(user_for(&config, &[], "vsock/7"), "carol");
}
