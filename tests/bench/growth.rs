//! Cost growth: hand-offs per second with 1, 8 and 64 concurrent clients, with a 300-byte path, and through a vsock-mux handshake.

use std::ffi::OsString;
use std::sync::Barrier;
use std::time::Instant;

use crate::handoff::{self, Style};
use crate::listener::{Listener, Reply};
use crate::spawn::{self, Argv};
use crate::stats::{self, Summary};
use crate::startup::unix_host;
use crate::table::Table;
use crate::{Bench, cleanup, paths, probe, tools};

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
        cases.push(Case { what: short_what.clone(), clients, argv: proxy(unix_host(&short)), style: Style::FdPass, floor: false });
        cases.push(Case { what: "no-op (floor)".into(), clients, argv: vec![bench.noop.clone().into()], style: Style::Exit, floor: true });
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
        "{} hand-offs per measurement, shared out among the clients (each client starts the next when its last one \
         has exited), {} repetitions interleaved; the vsock-mux listener reads `CONNECT 22` and answers \
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
    let mut table = Table::new(&["what", "clients", "hand-offs/s", "min–max", "÷ 1 client, short path", "÷ floor, same clients", "syscalls"]);
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

/// Hand-offs per second: `batch` of them by `case.clients` threads at once.
fn rate(case: &Case, batch: usize) -> Result<f64, String> {
    if cleanup::interrupted() {
        return Err("interrupted".to_string());
    }
    let per_client = batch.div_ceil(case.clients);
    let barrier = Barrier::new(case.clients + 1);
    std::thread::scope(|scope| {
        let workers: Vec<_> = (0..case.clients)
            .map(|_| {
                scope.spawn(|| {
                    let argv = Argv::new(&case.argv);
                    barrier.wait();
                    for _ in 0..per_client {
                        if cleanup::interrupted() {
                            return Err("interrupted".to_string());
                        }
                        handoff::play(case.style, |stdin, stdout| spawn::spawn(&argv, stdin, stdout))
                            .map_err(|e| format!("{}: {e}", case.what))?;
                    }
                    Ok(())
                })
            })
            .collect();
        barrier.wait();
        let start = Instant::now();
        let results: Vec<Result<(), String>> = workers
            .into_iter()
            .map(|w| w.join().unwrap_or_else(|_| Err("a client thread panicked".to_string())))
            .collect();
        let elapsed = start.elapsed();
        results.into_iter().collect::<Result<(), String>>()?;
        Ok((per_client * case.clients) as f64 / elapsed.as_secs_f64())
    })
}
