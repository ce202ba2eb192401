//! `make demo`: a throwaway sshd behind an AF_UNIX socket, and a real ssh login through the proxy.

use std::process::ExitCode;

use sockproxy_test_common::sshd;

fn main() -> ExitCode {
    let Some(proxy) = std::env::args().nth(1) else {
        eprintln!("usage: demo PATH-TO-ssh-sockproxy");
        return ExitCode::FAILURE;
    };
    let dir = std::env::temp_dir().join(format!("ssh-sockproxy-demo-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("create demo dir");
    let ok = run(&proxy, &dir);
    // The fixture is gone by now: sshd children killed and reaped.
    let _ = std::fs::remove_dir_all(&dir);
    println!("cleaned up {}", dir.display());
    if ok { ExitCode::SUCCESS } else { ExitCode::FAILURE }
}

fn run(proxy: &str, dir: &std::path::Path) -> bool {
    let server = sshd::Sshd::start(dir);
    let socket = server.socket_path().display().to_string();
    println!("sshd -i runs for each connection to the AF_UNIX socket {socket}");
    let proxy_command = format!("{proxy} %h %p");
    let mut all_ok = true;
    let runs = [(format!("unix/{socket}"), true), (format!("unix%{socket}"), true), (format!("unix/{socket}"), false)];
    for (host, fdpass) in runs {
        let destination = format!("{}@{host}", sshd::user());
        let mut command = if fdpass {
            server.ssh(&proxy_command, &destination)
        } else {
            server.ssh_without_fdpass(&proxy_command, &destination)
        };
        command.arg("echo \"logged in as $(id -un) on $(uname -n), through $SSH_CONNECTION\"");
        let fdpass_option = if fdpass { "yes" } else { "no" };
        println!(
            "\n$ ssh -o ProxyCommand='{proxy_command}' -o ProxyUseFdpass={fdpass_option} ... {destination} echo ..."
        );
        let out = sshd::output_with_timeout(command, 30);
        print!("{}", String::from_utf8_lossy(&out.stdout));
        eprint!("{}", String::from_utf8_lossy(&out.stderr));
        if out.status.success() && fdpass {
            println!("ssh exited 0: the proxy handed ssh a connected socket and exited");
        } else if out.status.success() {
            println!("ssh exited 0: without fd passing, the proxy relayed the session's bytes");
        } else {
            println!("ssh failed ({}); sshd log:\n{}", out.status, server.log());
            all_ok = false;
        }
    }
    all_ok
}
