//! ssh-sockproxy's run: the command line, then the connected socket handed
//! to ssh or relayed, or one of the commands that print.

use core::ffi::{c_char, c_int};

use crate::cli::{Command, Print, VERSION, parse_command};
use crate::failure::Failure;
use crate::sys::connect::connect;
use crate::sys::rt::args::{Args, env_var};
use crate::sys::stdio::{Delivery, choose_delivery, print, report};
use crate::sys::{attempts, handoff, relay, ssh_config};
use crate::targets::parse_target;
use crate::texts;

/// The program: the exit status for argc, argv and the environment.
///
/// # Safety
/// As the kernel passes them: argc NUL-terminated strings and the
/// null-terminated environment, which live, unchanged, until the process exits.
pub unsafe fn main(argc: c_int, argv: *const *const c_char, envp: *const *const c_char) -> c_int {
    // SAFETY: the caller's contract.
    let (args, xdg_runtime_dir) = unsafe { (Args::new(argc, argv), env_var(envp, b"XDG_RUNTIME_DIR")) };
    match run(args, xdg_runtime_dir) {
        Ok(()) => 0,
        Err(failure) => {
            report(&failure);
            1
        }
    }
}

fn run(mut args: Args, xdg_runtime_dir: Option<&'static [u8]>) -> Result<(), Failure<'static>> {
    let argv0 = args.next().unwrap_or_default();
    match parse_command(args)? {
        Command::Print(Print::Help) => Ok(print(texts::help().as_bytes())?),
        Command::Print(Print::Version) => Ok(print(VERSION)?),
        Command::Print(Print::SshConfig) => ssh_config::print_ssh_config(argv0),
        Command::Connect { host, port, options } => {
            let target = parse_target(host, port)?;
            let delivery = choose_delivery(options.mode)?;
            let socket = attempts::connect(&options, || connect(target, port, xdg_runtime_dir, options.verbose))?;
            match delivery {
                Delivery::FdPass(stdout) => {
                    handoff::send_fd(stdout, &socket)?;
                    // ssh holds its own copy now; exiting closes ours without a close(2).
                    core::mem::forget(socket);
                    Ok(())
                }
                Delivery::Relay { stdin, stdout } => Ok(relay::relay(socket, stdin, stdout)?),
            }
        }
    }
}
