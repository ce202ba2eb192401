//! Cost growth: hand-offs per second with 1, 8 and 64 concurrent clients, with a 300-byte path, and through a vsock-mux handshake.

use std::ffi::OsString;
use std::io::Read;
use std::os::fd::AsRawFd;
use std::time::Instant;

use crate::handoff::{self, Style};
use crate::listener::{Listener, Reply};
use crate::spawn::{self, Argv};
use crate::startup::unix_host;
use crate::stats::{self, Summary};
use crate::table::Table;
use crate::{Bench, cleanup, client, paths, probe, tools};

struct Case {
    what: String,
    clients: usize,
    argv: Vec<OsString>,
    style: Style,
    /// Whether this is the floor (its rate is the ceiling for the same clients).
    floor: bool,
}

pub fn run(bench: &Bench) -> Result<(), String> {
    let short = paths::short(&bench.dir, 'u', 20);
    let (long, long_bind) = paths::long(&bench.dir, 'l', 300)?;
    let mux = paths::short(&bench.dir, 'm', 20);
    let listeners = [
        Listener::bind(&short, Reply::Greeting)?,
        Listener::bind_renamed(&long_bind, &long, Reply::Greeting)?,
        Listener::bind(&mux, Reply::Mux)?,
    ];
    let proxy = |host: String| vec![OsString::from(&bench.proxy), host.into(), "22".into()];
    let short_what = format!("ssh-sockproxy unix/, {}-byte path", paths::len(&short));
    let mut cases = Vec::new();
    for clients in [1, 8, 64] {
        cases.push(Case {
            what: short_what.clone(),
            clients,
            argv: proxy(unix_host(&short)),
            style: Style::FdPass,
            floor: false,
        });
        cases.push(Case {
            what: "no-op (floor)".into(),
            clients,
            argv: vec![bench.noop.clone().into()],
            style: Style::Exit,
            floor: true,
        });
    }
    cases.push(Case {
        what: format!("ssh-sockproxy unix/, {}-byte path", paths::len(&long)),
        clients: 1,
        argv: proxy(unix_host(&long)),
        style: Style::FdPass,
        floor: false,
    });
    cases.push(Case {
        what: format!("ssh-sockproxy vsock-mux/, {}-byte path", paths::len(&mux)),
        clients: 1,
        argv: proxy(format!("vsock-mux{}", mux.display())),
        style: Style::FdPass,
        floor: false,
    });

    let settings = &bench.settings;
    println!("\n### Cost growth: hand-offs per second\n");
    println!(
        "{} hand-offs per measurement, shared out among the clients (each client is a process of its own that starts \
         the next when its last one has exited), {} repetitions interleaved; the vsock-mux listener reads `CONNECT 22` and answers \
         `OK 1073741824` before the greeting.\n",
        settings.batch, settings.reps
    );
    // Untimed: one hand-off per client of every case, so that the first measured case starts as warm as the rest.
    for case in &cases {
        rate(case, case.clients)?;
    }
    let mut rates: Vec<Vec<f64>> = vec![Vec::new(); cases.len()];
    for rep in 0..settings.reps {
        for k in 0..cases.len() {
            let i = (rep + k) % cases.len();
            rates[i].push(rate(&cases[i], settings.batch)?);
        }
    }
    for listener in &listeners {
        listener.check()?;
    }
    let summaries: Vec<Summary> = rates.iter().map(|r| Summary::of(r)).collect();

    let strace = tools::strace();
    let baseline = summaries[0].median;
    let mut table = Table::new(&[
        "what",
        "clients",
        "hand-offs/s",
        "min–max",
        "÷ 1 client, short path",
        "÷ floor, same clients",
        "syscalls",
    ]);
    for (case, summary) in cases.iter().zip(&summaries) {
        let floor = cases.iter().zip(&summaries).find(|(c, _)| c.floor && c.clients == case.clients);
        let syscalls = match (&strace, case.clients) {
            (Ok(strace), 1) => {
                let trace = bench.dir.join("strace.out");
                probe::syscalls(strace, case.style, &case.argv, &trace)?.count().to_string()
            }
            _ => String::new(),
        };
        table.row(vec![
            case.what.clone(),
            case.clients.to_string(),
            stats::count(summary.median.round() as u64),
            format!("{}–{}", stats::count(summary.min.round() as u64), stats::count(summary.max.round() as u64)),
            if case.floor { String::new() } else { stats::ratio(summary.median / baseline) },
            match floor {
                Some((_, f)) if !case.floor => stats::ratio(summary.median / f.median),
                _ => String::new(),
            },
            syscalls,
        ]);
    }
    table.print();
    Ok(())
}

/// Hand-offs per second: `batch` of them by `case.clients` client processes
/// at once, timed from the moment all are ready until the last is reaped.
fn rate(case: &Case, batch: usize) -> Result<f64, String> {
    if cleanup::interrupted() {
        return Err("interrupted".to_string());
    }
    let per_client = batch.div_ceil(case.clients);
    let argv = Argv::new(&client::argv(per_client, case.style, &case.argv)?);
    let (go_read, go_write) = handoff::pipe()?;
    let (ready_read, ready_write) = handoff::pipe()?;
    let mut clients = Vec::with_capacity(case.clients);
    for _ in 0..case.clients {
        // Each in a process group of its own, so that a kill takes its proxy too.
        let child = spawn::spawn_in(&argv, go_read.as_raw_fd(), ready_write.as_raw_fd(), true)
            .map_err(|e| format!("spawn a client: {e}"))?;
        clients.push(child);
    }
    drop((go_read, ready_write));
    let mut ready = std::fs::File::from(ready_read);
    let mut byte = [0u8; 1];
    for _ in 0..case.clients {
        handoff::wait_readable(ready.as_raw_fd()).map_err(|e| format!("a client did not start: {e}"))?;
        ready.read_exact(&mut byte).map_err(|e| format!("a client did not start: {e}"))?;
    }
    let start = Instant::now();
    drop(go_write);
    for client in &mut clients {
        let status = client.wait().map_err(|e| format!("wait for a client: {e}"))?;
        spawn::check(status, &format!("a client of {}", case.what))?;
    }
    let elapsed = start.elapsed();
    Ok((per_client * case.clients) as f64 / elapsed.as_secs_f64())
}
