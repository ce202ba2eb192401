//! The ssh_config drop-in for the binary installed at BIN: `dropin BIN` prints
//! what that binary's `--print-ssh-config` will print. `make install` runs it
//! on the build host (it is a cargo example), so cross-builds need not run
//! the product; the fragment and the quoting rule are the library's.

use std::io::Write;
use std::os::unix::ffi::OsStrExt;
use std::process::ExitCode;

use sockproxy::line::Line;
use sockproxy::ssh_config::{QuotedPath, SshConfigProblem, fragment, quote_bin};

fn main() -> ExitCode {
    let args: Vec<_> = std::env::args_os().skip(1).collect();
    let [bin] = args.as_slice() else {
        eprintln!("usage: dropin BIN");
        return ExitCode::from(2);
    };
    let bin = bin.as_bytes();
    let mut quoted = QuotedPath::new();
    let Some(()) = quote_bin(bin, &mut quoted).filter(|_| bin.starts_with(b"/")) else {
        let mut line = Line::default();
        SshConfigProblem::UnquotablePath(bin).describe(&mut line);
        let _ = std::io::stderr().write_all(line.finish());
        return ExitCode::FAILURE;
    };
    let config = sockproxy::texts::ssh_config();
    let mut out = std::io::stdout().lock();
    for piece in fragment(&config, quoted.as_bytes()) {
        if out.write_all(piece).is_err() {
            return ExitCode::FAILURE;
        }
    }
    if out.flush().is_err() { ExitCode::FAILURE } else { ExitCode::SUCCESS }
}
