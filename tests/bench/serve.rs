//! Serving: ssh-sockserve against `socat UNIX-LISTEN:…,fork EXEC:…` (plain, and with `setsid` like
//! ssh-sockserve's children) and `systemd-socket-activate --inetd -a`, each an inetd for an AF_UNIX socket: time
//! from connect to the first byte of `sshd -i`'s banner, connections per second to a command that only exits,
//! and the listening process's memory. Interleaved, as the other sections.

use std::io::Read;
use std::os::unix::net::UnixStream;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use sockproxy_test_common::process_tree::kill_tree;
use sockproxy_test_common::sshd::SshdConfig;

use crate::stats::{self, Summary};
use crate::table::Table;
use crate::{Bench, cleanup, paths, tools};

/// How long one connection may take before the bench fails instead of stalling.
const LIMIT: Duration = Duration::from_secs(20);

/// The command line that starts a server on a socket for a command.
type Argv = Box<dyn Fn(&Path, &[String]) -> Vec<String>>;

/// One inetd-style server.
struct Peer {
    name: &'static str,
    argv: Argv,
}

/// A running server, killed with its children on drop.
struct Running {
    child: Child,
    socket: PathBuf,
}

impl Drop for Running {
    fn drop(&mut self) {
        kill_tree(&mut self.child);
        cleanup::unregister(self.child.id() as libc::pid_t);
        let _ = std::fs::remove_file(&self.socket);
    }
}

impl Running {
    /// Starts `argv` and waits (bounded) until its socket takes a connection
    /// that `command` serves (read to its end: the first session is untimed).
    fn start(argv: &[String], socket: &Path) -> Result<Running, String> {
        let _ = std::fs::remove_file(socket);
        let mut command = Command::new(&argv[0]);
        command.args(&argv[1..]).stdin(Stdio::null()).stdout(Stdio::null()).stderr(Stdio::null());
        // A group of its own, so that an interrupted bench kills what it runs.
        command.process_group(0);
        let child = command.spawn().map_err(|e| format!("{}: {e}", argv[0]))?;
        cleanup::register(child.id() as libc::pid_t, true);
        let running = Running { child, socket: socket.to_path_buf() };
        let deadline = Instant::now() + LIMIT;
        loop {
            if let Ok(mut stream) = UnixStream::connect(socket) {
                stream.set_read_timeout(Some(LIMIT)).map_err(|e| e.to_string())?;
                let _ = stream.read(&mut [0u8; 1]).map_err(|e| format!("{}: first read: {e}", argv[0]))?;
                return Ok(running);
            }
            if Instant::now() > deadline {
                return Err(format!("{} does not listen on {}", argv[0], socket.display()));
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// VmHWM and VmRSS of the listening process alone, in kB.
    fn memory(&self) -> (u64, u64) {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).unwrap_or_default();
        let field = |name: &str| {
            status
                .lines()
                .find_map(|l| l.strip_prefix(name))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
                .unwrap_or(0)
        };
        (field("VmHWM:"), field("VmRSS:"))
    }

    /// The size of the distinct files the listening process maps, and how many.
    fn mapped(&self) -> (u64, usize) {
        let maps = std::fs::read_to_string(format!("/proc/{}/maps", self.child.id())).unwrap_or_default();
        let files: std::collections::BTreeSet<&str> =
            maps.lines().filter_map(|l| l.split_whitespace().nth(5)).filter(|p| p.starts_with('/')).collect();
        (files.iter().filter_map(|f| std::fs::metadata(f).ok()).map(|m| m.len()).sum(), files.len())
    }
}

pub fn run(bench: &Bench) -> Result<(), String> {
    println!("\n### Serving: ssh-sockserve against socat and systemd-socket-activate\n");
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } != 0 {
        println!("- skipped: sshd -i needs root");
        return Ok(());
    }
    let serve = bench.serve.display().to_string();
    let mut peers = vec![Peer {
        name: "ssh-sockserve",
        argv: Box::new(move |socket, command| {
            [vec![serve.clone(), socket.display().to_string(), "--".into()], command.to_vec()].concat()
        }),
    }];
    let mut skipped = Vec::new();
    match tools::socat() {
        Ok(socat) => {
            // As the brief has it, and with the child in a session of its own as ssh-sockserve's is (each new
            // session is a scheduling group of its own where autogroup is on, which a busy machine shows).
            for (name, options) in [("socat", "nofork"), ("socat, setsid", "nofork,setsid")] {
                let socat = socat.display().to_string();
                peers.push(Peer {
                    name,
                    argv: Box::new(move |socket, command| {
                        vec![
                            socat.clone(),
                            format!("UNIX-LISTEN:{},fork", socket.display()),
                            format!("EXEC:{},{options}", command.join(" ")),
                        ]
                    }),
                });
            }
        }
        Err(why) => skipped.push(format!("socat: {why}")),
    }
    match tools::systemd_socket_activate() {
        Ok(activate) => {
            let activate = activate.display().to_string();
            peers.push(Peer {
                name: "systemd-socket-activate",
                argv: Box::new(move |socket, command| {
                    let head = vec![activate.clone(), "--inetd".into(), "-a".into(), "-l".into()];
                    [head, vec![socket.display().to_string()], command.to_vec()].concat()
                }),
            });
        }
        Err(why) => skipped.push(format!("systemd-socket-activate: {why}")),
    }
    for peer in &peers {
        let argv = (peer.argv)(Path::new("PATH"), &["COMMAND".to_string()]);
        let version = match peer.name {
            "socat" | "socat, setsid" => format!(" ({})", tools::version(Path::new(&argv[0]), &["-V"])),
            "systemd-socket-activate" => format!(" ({})", tools::version(Path::new(&argv[0]), &["--version"])),
            _ => String::new(),
        };
        println!("- {}: `{}`{version}", peer.name, argv.join(" "));
    }
    for line in &skipped {
        println!("- {line}");
    }

    let dir = bench.dir.join("serve");
    std::fs::create_dir_all(&dir).map_err(|e| format!("create {}: {e}", dir.display()))?;
    let sshd = SshdConfig::new(&dir.join("keys"));
    banner(bench, &peers, &sshd.inetd_command())?;
    rate(bench, &peers)
}

/// Connect to the first byte of sshd's banner: BENCH_RUNS per server, interleaved.
fn banner(bench: &Bench, peers: &[Peer], sshd: &[String]) -> Result<(), String> {
    let settings = &bench.settings;
    let runs = settings.runs;
    println!(
        "\n{runs} connections to each server running `sshd -i -e -f CONFIG` after {} untimed ones, interleaved; \
         time from just before connect(2) to the first byte of the banner, then the connection is closed.\n",
        settings.warmup
    );
    let running: Vec<Running> = peers
        .iter()
        .enumerate()
        .map(|(i, peer)| {
            let socket = paths::short(&bench.dir, char::from(b'a' + i as u8), 20);
            Running::start(&(peer.argv)(&socket, sshd), &socket)
        })
        .collect::<Result<_, _>>()?;
    let mut samples: Vec<Vec<Duration>> = vec![Vec::with_capacity(runs); peers.len()];
    for round in 0..settings.warmup + runs {
        if cleanup::interrupted() {
            return Err("interrupted".to_string());
        }
        for k in 0..peers.len() {
            let i = (round + k) % peers.len();
            let elapsed = first_byte(&running[i].socket).map_err(|e| format!("{}: {e}", peers[i].name))?;
            if round >= settings.warmup {
                samples[i].push(elapsed);
            }
        }
    }
    let summaries: Vec<Summary> = samples.iter().map(|s| Summary::of_durations(s)).collect();
    let mut headers = vec!["server".to_string(), "median".into(), "p10".into(), "p90".into()];
    headers.extend(peers.iter().map(|p| format!("÷ {}", p.name)));
    headers.extend(["listener peak RSS".to_string(), "listener files mapped".into()]);
    let mut table = Table::new(&headers.iter().map(String::as_str).collect::<Vec<_>>());
    for ((peer, summary), server) in peers.iter().zip(&summaries).zip(&running) {
        let mut row =
            vec![peer.name.to_string(), stats::ms(summary.median), stats::ms(summary.p10), stats::ms(summary.p90)];
        row.extend(summaries.iter().map(|reference| stats::ratio(summary.median / reference.median)));
        let ((peak, _), (bytes, files)) = (server.memory(), server.mapped());
        row.extend([format!("{} kB", stats::count(peak)), format!("{} in {files}", stats::bytes(bytes))]);
        table.row(row);
    }
    table.print();
    Ok(())
}

/// One connection: the time until the first byte arrives.
fn first_byte(socket: &Path) -> Result<Duration, String> {
    let start = Instant::now();
    let mut stream = UnixStream::connect(socket).map_err(|e| format!("connect: {e}"))?;
    stream.set_read_timeout(Some(LIMIT)).map_err(|e| e.to_string())?;
    let mut byte = [0u8; 1];
    match stream.read(&mut byte) {
        Ok(1) if byte == *b"S" => Ok(start.elapsed()),
        Ok(_) => Err(format!("not a banner: {byte:?}")),
        Err(e) => Err(format!("read: {e}")),
    }
}

/// Connections per second to the no-op, which exits at once: the server's own cost per connection.
fn rate(bench: &Bench, peers: &[Peer]) -> Result<(), String> {
    let settings = &bench.settings;
    let noop = vec![bench.noop.display().to_string()];
    println!(
        "\n{} connections per measurement to each server running the no-op (tests/bench/noop.rs, which exits at \
         once), shared out among 1 or 8 client threads that each connect and read to the end of the stream, {} \
         repetitions interleaved; plus the listening process's memory at the end.\n",
        settings.batch, settings.reps
    );
    let running: Vec<Running> = peers
        .iter()
        .enumerate()
        .map(|(i, peer)| {
            let socket = paths::short(&bench.dir, char::from(b'n' + i as u8), 20);
            Running::start(&(peer.argv)(&socket, &noop), &socket)
        })
        .collect::<Result<_, _>>()?;
    let cases: Vec<(usize, usize)> = [1, 8].iter().flat_map(|&c| (0..peers.len()).map(move |i| (i, c))).collect();
    let mut rates: Vec<Vec<f64>> = vec![Vec::new(); cases.len()];
    for &(i, clients) in &cases {
        connections(&running[i].socket, clients, clients).map_err(|e| format!("{}: {e}", peers[i].name))?;
    }
    for rep in 0..settings.reps {
        for k in 0..cases.len() {
            let at = (rep + k) % cases.len();
            let (i, clients) = cases[at];
            let per_second = connections(&running[i].socket, clients, settings.batch)
                .map_err(|e| format!("{}: {e}", peers[i].name))?;
            rates[at].push(per_second);
        }
    }
    let summaries: Vec<Summary> = rates.iter().map(|r| Summary::of(r)).collect();
    let mut table = Table::new(&["server", "clients", "connections/s", "min–max", "÷ ssh-sockserve", "listener RSS"]);
    for (at, &(i, clients)) in cases.iter().enumerate() {
        let reference = cases.iter().position(|&(j, c)| j == 0 && c == clients).unwrap_or(0);
        let summary = &summaries[at];
        let (_, rss) = running[i].memory();
        table.row(vec![
            peers[i].name.to_string(),
            clients.to_string(),
            stats::count(summary.median.round() as u64),
            format!("{}–{}", stats::count(summary.min.round() as u64), stats::count(summary.max.round() as u64)),
            stats::ratio(summary.median / summaries[reference].median),
            format!("{} kB", stats::count(rss)),
        ]);
    }
    table.print();
    Ok(())
}

/// `total` connections, shared out among `clients` threads, each read to
/// its end; connections per second from the first connect to the last end.
fn connections(socket: &Path, clients: usize, total: usize) -> Result<f64, String> {
    if cleanup::interrupted() {
        return Err("interrupted".to_string());
    }
    let per_client = total.div_ceil(clients);
    let start = Instant::now();
    std::thread::scope(|scope| {
        let threads: Vec<_> = (0..clients)
            .map(|_| {
                scope.spawn(move || -> Result<(), String> {
                    for _ in 0..per_client {
                        let mut stream = UnixStream::connect(socket).map_err(|e| format!("connect: {e}"))?;
                        stream.set_read_timeout(Some(LIMIT)).map_err(|e| e.to_string())?;
                        let mut rest = Vec::new();
                        stream.read_to_end(&mut rest).map_err(|e| format!("read to the end: {e}"))?;
                    }
                    Ok(())
                })
            })
            .collect();
        threads.into_iter().try_for_each(|t| t.join().map_err(|_| "a client thread panicked".to_string())?)
    })?;
    Ok((per_client * clients) as f64 / start.elapsed().as_secs_f64())
}
