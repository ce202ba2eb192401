//! `make bench`: start-up cost, cost growth and ssh throughput of ssh-sockproxy against a no-op floor and its peers,
//! and ssh-sockserve against the inetd-style servers it replaces.

mod cleanup;
mod client;
mod growth;
mod handoff;
mod listener;
mod machine;
mod paths;
mod probe;
mod serve;
mod settings;
mod spawn;
mod startup;
mod stats;
mod table;
mod throughput;
mod tools;

use std::path::PathBuf;
use std::process::ExitCode;

/// What every section needs.
pub struct Bench {
    /// The release binary under test.
    pub proxy: PathBuf,
    /// The no-op floor (tests/bench/noop.rs), built by the same build.
    pub noop: PathBuf,
    /// The release ssh-sockserve.
    pub serve: PathBuf,
    /// A fresh temp dir with a short name (the 20-byte socket paths live in it).
    pub dir: PathBuf,
    pub settings: settings::Settings,
}

const USAGE: &str =
    "usage: bench all|startup|throughput|serve PATH-TO-ssh-sockproxy PATH-TO-bench-noop PATH-TO-ssh-sockserve";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some("client") {
        return client::main(&args[1..]);
    }
    cleanup::install();
    let [section, proxy, noop, serve] = args.as_slice() else {
        eprintln!("{USAGE}");
        return ExitCode::from(2);
    };
    let sections = match section.as_str() {
        "all" => Sections { startup: true, throughput: true, serve: true },
        "startup" => Sections { startup: true, throughput: false, serve: false },
        "throughput" => Sections { startup: false, throughput: true, serve: false },
        "serve" => Sections { startup: false, throughput: false, serve: true },
        _ => {
            eprintln!("{USAGE}");
            return ExitCode::from(2);
        }
    };
    let result = paths::TempDir::new().and_then(|dir| {
        let bench = Bench {
            proxy: std::path::absolute(proxy).map_err(|e| format!("{proxy}: {e}"))?,
            noop: std::path::absolute(noop).map_err(|e| format!("{noop}: {e}"))?,
            serve: std::path::absolute(serve).map_err(|e| format!("{serve}: {e}"))?,
            dir: dir.path().to_path_buf(),
            settings: settings::Settings::from_env()?,
        };
        check_floor(&bench.noop)?;
        run(&bench, &sections)
        // dir is removed here, after every section's children are reaped.
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("bench: {message}");
            if cleanup::interrupted() { ExitCode::from(130) } else { ExitCode::FAILURE }
        }
    }
}

/// Which sections run.
struct Sections {
    startup: bool,
    throughput: bool,
    serve: bool,
}

fn run(bench: &Bench, sections: &Sections) -> Result<(), String> {
    println!("Measured by `make bench`:\n");
    println!("- machine: {}", machine::description());
    println!("- ssh-sockproxy: {}", machine::commit());
    println!("- started: {}", machine::now_and_load());
    if sections.startup {
        startup::run(bench)?;
        growth::run(bench)?;
    }
    if sections.throughput {
        throughput::run(bench)?;
    }
    if sections.serve {
        serve::run(bench)?;
    }
    println!("\n- finished: {}", machine::now_and_load());
    Ok(())
}

/// `cargo test` builds every example with unwinding, and leaves a std build
/// of the floor (hundreds of KB) where the no_std one (a few KB) belongs.
fn check_floor(noop: &std::path::Path) -> Result<(), String> {
    let size = std::fs::metadata(noop).map_err(|e| format!("{}: {e}", noop.display()))?.len();
    if size > 64 * 1024 {
        return Err(format!(
            "{} is {size} bytes, not the no_std floor: `cargo build --release --example bench-noop` (as make bench does) rebuilds it",
            noop.display()
        ));
    }
    Ok(())
}
