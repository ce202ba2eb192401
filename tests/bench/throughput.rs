//! Throughput: BENCH_MIB MiB through real ssh into the sshd fixture, by fd passing, by our relay and by socat, interleaved.

use std::io::{Read, Write};
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use sockproxy_test_common::sshd;

use crate::stats::{self, Summary};
use crate::table::Table;
use crate::{Bench, cleanup, tools};

const CIPHER: &str = "aes128-gcm@openssh.com";
/// The remote command: counts what arrived, so a short transfer cannot pass for a fast one.
const SINK: &str = "wc -c";
const CHUNK: usize = 1 << 20;

struct Mode {
    name: String,
    proxy_command: String,
    fdpass: bool,
}

pub fn run(bench: &Bench) -> Result<(), String> {
    let settings = &bench.settings;
    println!("\n### Throughput: {} MiB through ssh\n", settings.mib);
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } != 0 {
        println!("- skipped: sshd -i needs root");
        return Ok(());
    }
    for tool in ["ssh", "/usr/sbin/sshd"] {
        if let Err(why) = tools::find(None, tool, &[tool]) {
            println!("- {tool}: {why}; `apt-get install openssh-client openssh-server`");
            return Ok(());
        }
    }
    let dir = bench.dir.join("sshd");
    std::fs::create_dir_all(&dir).map_err(|e| format!("create {}: {e}", dir.display()))?;
    let server = sshd::Sshd::start(&dir);
    let socket = server.socket_path().display().to_string();
    let destination = format!("{}@unix{socket}", sshd::user());
    let proxy = bench.proxy.display();

    let mut modes = vec![
        Mode { name: "ssh-sockproxy, fd passing".into(), proxy_command: format!("{proxy} %h %p"), fdpass: true },
        Mode { name: "ssh-sockproxy, relay".into(), proxy_command: format!("{proxy} %h %p"), fdpass: false },
    ];
    let mut skipped = Vec::new();
    match tools::socat() {
        Ok(socat) => modes.push(Mode {
            name: "socat".into(),
            proxy_command: format!("{} - UNIX-CONNECT:{socket}", socat.display()),
            fdpass: false,
        }),
        Err(why) => skipped.push(format!("socat: {why}")),
    }
    match tools::systemd_ssh_proxy() {
        Ok(upstream) => modes.push(Mode {
            name: "systemd-ssh-proxy".into(),
            proxy_command: format!("{} %h %p", upstream.display()),
            fdpass: true,
        }),
        Err(why) => skipped.push(format!("systemd-ssh-proxy: {why}")),
    }

    println!(
        "`ssh -c {CIPHER} -o Compression=no {} '{SINK}'` into `sshd -i` behind `{socket}`, {} MiB of zeros on ssh's \
         stdin (checked by the count that comes back); {} runs of each ProxyCommand, interleaved; MB/s = 10^6 bytes \
         per second of the whole ssh run, key exchange and login included. {}\n",
        destination,
        settings.mib,
        settings.reps,
        ssh_version(),
    );
    for line in &skipped {
        println!("- {line}");
    }
    if !skipped.is_empty() {
        println!();
    }

    let bytes = settings.mib << 20;
    // One small untimed run each: the fixture and every ProxyCommand work before the long runs start.
    for mode in &modes {
        transfer(&server, mode, &destination, 1 << 20, &dir)?;
    }
    let mut rates: Vec<Vec<f64>> = vec![Vec::new(); modes.len()];
    let mut seconds: Vec<Vec<f64>> = vec![Vec::new(); modes.len()];
    for rep in 0..settings.reps {
        for k in 0..modes.len() {
            let i = (rep + k) % modes.len();
            let elapsed = transfer(&server, &modes[i], &destination, bytes, &dir)?.as_secs_f64();
            rates[i].push(bytes as f64 / elapsed / 1e6);
            seconds[i].push(elapsed);
        }
    }
    let summaries: Vec<Summary> = rates.iter().map(|r| Summary::of(r)).collect();
    let times: Vec<Summary> = seconds.iter().map(|s| Summary::of(s)).collect();
    let references: Vec<usize> = (0..modes.len()).filter(|&i| modes[i].name != "ssh-sockproxy, relay").collect();
    let mut headers = vec![
        "ProxyCommand".to_string(),
        "ProxyUseFdpass".into(),
        "median MB/s".into(),
        "min–max".into(),
        "median s".into(),
    ];
    headers.extend(references.iter().map(|&r| format!("÷ {}", modes[r].name)));
    let mut table = Table::new(&headers.iter().map(String::as_str).collect::<Vec<_>>());
    for ((mode, summary), time) in modes.iter().zip(&summaries).zip(&times) {
        let mut row = vec![
            mode.name.clone(),
            if mode.fdpass { "yes" } else { "no" }.to_string(),
            format!("{:.0}", summary.median),
            format!("{:.0}–{:.0}", summary.min, summary.max),
            format!("{:.2} s", time.median),
        ];
        row.extend(references.iter().map(|&r| stats::ratio(summary.median / summaries[r].median)));
        table.row(row);
    }
    table.print();
    Ok(())
}

fn ssh_version() -> String {
    let version = tools::version(Path::new("ssh"), &["-V"]);
    format!("Client and server: {}.", version.split(',').next().unwrap_or("?"))
}

/// ssh in a process group of its own (with its ProxyCommand), killed by PID on drop.
struct Ssh {
    child: Child,
    reaped: bool,
}

impl Drop for Ssh {
    fn drop(&mut self) {
        let pid = self.child.id() as libc::pid_t;
        if !self.reaped {
            // SAFETY: kill has no memory-safety preconditions; the leader is unreaped, so the group is ours.
            unsafe { libc::kill(-pid, libc::SIGKILL) };
            let _ = cleanup::wait_exited(pid);
            cleanup::unregister(pid);
            let _ = self.child.wait();
        }
    }
}

/// One ssh run sending `bytes`; returns its wall time from spawn to exit.
fn transfer(server: &sshd::Sshd, mode: &Mode, destination: &str, bytes: u64, dir: &Path) -> Result<Duration, String> {
    if cleanup::interrupted() {
        return Err("interrupted".to_string());
    }
    let log_path = dir.join("ssh.log");
    let log = std::fs::File::create(&log_path).map_err(|e| format!("create {}: {e}", log_path.display()))?;
    let mut command = Command::new("ssh");
    command
        .args(server.options_with_fdpass(&mode.proxy_command, mode.fdpass))
        .args(["-c", CIPHER, "-o", "Compression=no", destination, SINK])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(log)
        .process_group(0);
    let fail = |what: String| {
        if cleanup::interrupted() {
            return "interrupted".to_string();
        }
        let log = std::fs::read_to_string(&log_path).unwrap_or_default();
        let server_log = server.log();
        let tail: Vec<&str> = server_log.lines().rev().take(15).collect::<Vec<_>>().into_iter().rev().collect();
        format!("{}: {what}\n--- ssh stderr ---\n{log}--- sshd log (last lines) ---\n{}", mode.name, tail.join("\n"))
    };

    let start = Instant::now();
    let child = command.spawn().map_err(|e| format!("spawn ssh: {e}"))?;
    let pid = child.id() as libc::pid_t;
    cleanup::register(pid, true);
    let mut ssh = Ssh { child, reaped: false };
    let mut stdin = ssh.child.stdin.take().expect("piped stdin");
    let mut stdout = ssh.child.stdout.take().expect("piped stdout");
    // A generous bound (5 MB/s and a minute): a stuck run fails, it does not stall.
    let limit = Duration::from_secs(60 + bytes / 5_000_000);
    let (done, finished) = mpsc::channel::<()>();
    let (fed, exited) = std::thread::scope(|scope| {
        let feeder = scope.spawn(move || {
            let zeros = vec![0u8; CHUNK];
            let mut sent = 0u64;
            while sent < bytes {
                let n = (bytes - sent).min(CHUNK as u64) as usize;
                if stdin.write_all(&zeros[..n]).is_err() {
                    break;
                }
                sent += n as u64;
            }
            sent // stdin drops here: EOF for the remote `wc -c`
        });
        let watchdog = scope.spawn(move || {
            if finished.recv_timeout(limit).is_err() {
                // SAFETY: the leader is unreaped until `exited` below returns, so the group is ours.
                unsafe { libc::kill(-pid, libc::SIGKILL) };
            }
        });
        let exited = cleanup::wait_exited(pid);
        let _ = done.send(());
        let _ = watchdog.join();
        (feeder.join().unwrap_or(0), exited)
    });
    let elapsed = start.elapsed();
    exited.map_err(|e| format!("wait for ssh: {e}"))?;
    cleanup::unregister(pid);
    let status = ssh.child.wait().map_err(|e| format!("wait for ssh: {e}"))?;
    ssh.reaped = true;
    // Whatever ssh left in its group (a relay that outlived it) goes too.
    // SAFETY: kill has no memory-safety preconditions; a group with no members left is ESRCH.
    unsafe { libc::kill(-pid, libc::SIGKILL) };
    let mut out = String::new();
    let _ = stdout.read_to_string(&mut out);
    if !status.success() {
        return Err(fail(format!("ssh {status} after {elapsed:?}")));
    }
    if fed != bytes || out.trim() != bytes.to_string() {
        return Err(fail(format!("sent {fed} of {bytes} bytes, the remote counted {:?}", out.trim())));
    }
    Ok(elapsed)
}
