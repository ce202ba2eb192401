//! Start-up cost: each command from spawn to the greeting read and its exit, interleaved round by round; then syscalls, peak RSS and size.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::handoff::{self, Style};
use crate::listener::{Listener, Reply};
use crate::spawn::{self, Argv};
use crate::stats::{self, Summary};
use crate::table::Table;
use crate::{Bench, cleanup, paths, probe, tools};

/// One command the harness starts as OpenSSH would.
pub struct Subject {
    pub name: String,
    pub binary: PathBuf,
    pub argv: Vec<OsString>,
    pub style: Style,
}

impl Subject {
    fn new(name: &str, binary: &Path, args: &[&str], style: Style) -> Subject {
        let mut argv: Vec<OsString> = vec![binary.into()];
        argv.extend(args.iter().map(OsString::from));
        Subject { name: name.to_string(), binary: binary.to_path_buf(), argv, style }
    }

    /// One untimed or timed start-up.
    pub fn once(&self, argv: &Argv) -> Result<Duration, String> {
        handoff::play(self.style, |stdin, stdout| spawn::spawn(argv, stdin, stdout))
            .map(|(elapsed, _)| elapsed)
            .map_err(|e| format!("{}: {e}", self.name))
    }
}

/// The `unix/` host for an absolute path: `unix/tmp/x` is /tmp/x for us and for upstream.
pub fn unix_host(path: &Path) -> String {
    format!("unix{}", path.display())
}

pub fn run(bench: &Bench) -> Result<(), String> {
    let socket = paths::short(&bench.dir, 's', 20);
    let listener = Listener::bind(&socket, Reply::Greeting)?;
    let host = unix_host(&socket);
    let socket_text = socket.display().to_string();

    let mut subjects = vec![
        Subject::new("no-op (floor)", &bench.noop, &[], Style::Exit),
        Subject::new("/bin/true", Path::new("/bin/true"), &[], Style::Exit),
        Subject::new("ssh-sockproxy, fd passing", &bench.proxy, &[&host, "22"], Style::FdPass),
        Subject::new("ssh-sockproxy, relay", &bench.proxy, &[&host, "22"], Style::Relay),
    ];
    let mut skipped = Vec::new();
    match tools::socat() {
        Ok(socat) => {
            subjects.push(Subject::new("socat", &socat, &["-", &format!("UNIX-CONNECT:{socket_text}")], Style::Relay))
        }
        Err(why) => skipped.push(format!("socat: {why}")),
    }
    match tools::systemd_ssh_proxy() {
        Ok(upstream) => subjects.push(Subject::new("systemd-ssh-proxy", &upstream, &[&host, "22"], Style::FdPass)),
        Err(why) => skipped.push(format!("systemd-ssh-proxy: {why}")),
    }

    let settings = &bench.settings;
    println!("\n### Start-up: one hand-off to `{host}`\n");
    println!(
        "{} timed runs of each command after {} untimed rounds, interleaved (each round runs every command once, \
         starting one further along); time from just before posix_spawn to the greeting read and the exit reaped.\n",
        settings.runs, settings.warmup
    );
    for subject in &subjects {
        match subject.name.as_str() {
            "socat" => println!("- socat: `{}`", tools::version(&subject.binary, &["-V"])),
            // It takes exactly HOST and PORT; nothing to ask it for a version.
            "systemd-ssh-proxy" => println!("- systemd-ssh-proxy: `{}`", subject.binary.display()),
            _ => {}
        }
    }
    for line in &skipped {
        println!("- {line}");
    }
    println!();

    let argvs: Vec<Argv> = subjects.iter().map(|s| Argv::new(&s.argv)).collect();
    let mut samples: Vec<Vec<Duration>> = vec![Vec::with_capacity(settings.runs); subjects.len()];
    for round in 0..settings.warmup + settings.runs {
        if cleanup::interrupted() {
            return Err("interrupted".to_string());
        }
        for k in 0..subjects.len() {
            let i = (round + k) % subjects.len();
            let elapsed = subjects[i].once(&argvs[i])?;
            if round >= settings.warmup {
                samples[i].push(elapsed);
            }
        }
    }
    listener.check()?;
    let summaries: Vec<Summary> = samples.iter().map(|s| Summary::of_durations(s)).collect();
    timing_table(&subjects, &summaries);
    resources_table(bench, &subjects)
}

fn timing_table(subjects: &[Subject], summaries: &[Summary]) {
    // Ratios to the floor, /bin/true and each peer that ran.
    let references: Vec<usize> =
        (0..subjects.len()).filter(|&i| !subjects[i].name.starts_with("ssh-sockproxy")).collect();
    let mut headers = vec!["command".to_string(), "median".into(), "p10".into(), "p90".into()];
    headers.extend(references.iter().map(|&r| format!("÷ {}", subjects[r].name)));
    let mut table = Table::new(&headers.iter().map(String::as_str).collect::<Vec<_>>());
    for (subject, summary) in subjects.iter().zip(summaries) {
        let mut row =
            vec![subject.name.clone(), stats::ms(summary.median), stats::ms(summary.p10), stats::ms(summary.p90)];
        row.extend(references.iter().map(|&r| stats::ratio(summary.median / summaries[r].median)));
        table.row(row);
    }
    table.print();
}

fn resources_table(bench: &Bench, subjects: &[Subject]) -> Result<(), String> {
    let strace = tools::strace();
    println!();
    if let Err(why) = &strace {
        println!("- syscalls: strace {why}\n");
    }
    let mut table = Table::new(&["command", "syscalls", "peak RSS", "stripped size", "files mapped"]);
    let mut sequence = None;
    for subject in subjects {
        let syscalls = match &strace {
            Ok(strace) => {
                let trace = bench.dir.join("strace.out");
                let calls = probe::syscalls(strace, subject.style, &subject.argv, &trace)
                    .map_err(|e| format!("{}: {e}", subject.name))?;
                if subject.style == Style::FdPass && subject.binary == bench.proxy {
                    sequence = Some(calls.sequence());
                }
                calls.count().to_string()
            }
            Err(_) => "n/a".to_string(),
        };
        let memory = probe::memory(subject.style, &subject.argv).map_err(|e| format!("{}: {e}", subject.name))?;
        table.row(vec![
            subject.name.clone(),
            syscalls,
            format!("{} kB", stats::count(memory.peak_rss_kb)),
            stats::bytes(stripped_size(&subject.binary, &bench.dir)?),
            format!("{} in {}", stats::bytes(memory.mapped_bytes), memory.mapped_files),
        ]);
    }
    table.print();
    if let Some(sequence) = sequence {
        println!("\nssh-sockproxy's syscalls for one hand-off: `{sequence}`");
    }
    Ok(())
}

/// The size of `binary` after `strip` (of a copy), or as it is when there is no strip.
pub fn stripped_size(binary: &Path, dir: &Path) -> Result<u64, String> {
    let binary = std::fs::canonicalize(binary).map_err(|e| format!("{}: {e}", binary.display()))?;
    let copy = dir.join("stripped");
    let stripped = std::process::Command::new("strip")
        .arg("-o")
        .arg(&copy)
        .arg(&binary)
        .stderr(std::process::Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    let path = if stripped { &copy } else { &binary };
    let size = std::fs::metadata(path).map_err(|e| format!("{}: {e}", path.display()))?.len();
    let _ = std::fs::remove_file(&copy);
    Ok(size)
}
