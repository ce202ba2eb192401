//! A cost-growth client: the harness run again as `bench client COUNT STYLE ARGV...`, a single-threaded process of its own like each ssh.

use std::io::{Read, Write};

use crate::handoff::{self, Style};
use crate::spawn::{self, Argv};

/// The worker's side: say "ready" on stdout, wait for stdin to close ("go"),
/// then run COUNT start-ups one after another. Exit status 1 on the first failure.
pub fn main(args: &[String]) -> std::process::ExitCode {
    let result = (|| -> Result<(), String> {
        let [count, style, command @ ..] = args else {
            return Err("usage: bench client COUNT fdpass|exit ARGV...".into());
        };
        let count: usize = count.parse().map_err(|_| format!("bad count {count}"))?;
        let style = match style.as_str() {
            "fdpass" => Style::FdPass,
            "exit" => Style::Exit,
            _ => return Err(format!("bad style {style}")),
        };
        let argv = Argv::new(command);
        std::io::stdout()
            .write_all(b"r")
            .and_then(|()| std::io::stdout().flush())
            .map_err(|e| format!("ready: {e}"))?;
        let _ = std::io::stdin().read_to_end(&mut Vec::new());
        for _ in 0..count {
            handoff::play(style, |stdin, stdout| spawn::spawn(&argv, stdin, stdout))?;
        }
        Ok(())
    })();
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("bench client: {message}");
            std::process::ExitCode::FAILURE
        }
    }
}

/// The argv that runs one client of `count` start-ups of `command`.
pub fn argv(count: usize, style: Style, command: &[std::ffi::OsString]) -> Result<Vec<std::ffi::OsString>, String> {
    let me = std::env::current_exe().map_err(|e| format!("own path: {e}"))?;
    let style = match style {
        Style::FdPass => "fdpass",
        Style::Exit => "exit",
        Style::Relay => return Err("relay clients are not measured".into()),
    };
    let mut argv = vec![me.into_os_string(), "client".into(), count.to_string().into(), style.into()];
    argv.extend(command.iter().cloned());
    Ok(argv)
}
