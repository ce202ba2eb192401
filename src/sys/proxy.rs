//! ssh-sockproxy's run: the command line, then the connected socket handed
//! to ssh or relayed, or one of the commands that print.

use core::ffi::{c_char, c_int};

use crate::cli::{Command, Print, VERSION, parse_command};
use crate::failure::Failure;
use crate::stdio::StdioProblem;
use crate::sys::buffers::Buffers;
use crate::sys::connect::connect;
use crate::sys::rt::PANIC_EXIT;
use crate::sys::rt::args::{Args, env_var};
use crate::sys::rt::process;
use crate::sys::rt::signal::{self, Action, SIGPIPE};
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
    // Nothing inherited past stderr is ours: libssh leaves its own end of
    // the socketpair open in us, and holding it, stdin would never see EOF.
    // SAFETY: nothing of ours is open yet besides fds 0-2.
    unsafe { process::close_from(3) };
    // Whatever the parent left: a reader of stdout or stderr that went away
    // is then EPIPE from write or splice, an error we report, not a death.
    // SAFETY: SIG_IGN installs no handler.
    unsafe { signal::set_action(SIGPIPE, Action::Ignore) };
    // SAFETY: the caller's contract.
    let (args, xdg_runtime_dir) = unsafe { (Args::new(argc, argv), env_var(envp, b"XDG_RUNTIME_DIR")) };
    // The first and only take of the process: never None.
    let Some(buffers) = Buffers::take() else {
        return PANIC_EXIT;
    };
    match run(args, xdg_runtime_dir, buffers) {
        Ok(()) => 0,
        Err(failure) => {
            report(&failure);
            1
        }
    }
}

fn run(
    mut args: Args,
    xdg_runtime_dir: Option<&'static [u8]>,
    buffers: &'static mut Buffers,
) -> Result<(), Failure<'static>> {
    let argv0 = args.next().unwrap_or_default();
    match parse_command(args)? {
        Command::Print(Print::Help) => Ok(print_help()?),
        Command::Print(Print::Version) => Ok(print(VERSION)?),
        Command::Print(Print::SshConfig) => {
            ssh_config::print_ssh_config(argv0, &mut buffers.exe_link, &mut buffers.exe_quoted)
        }
        Command::Connect { host, port, options } => {
            let target = parse_target(host, port)?;
            let delivery = choose_delivery(options.mode)?;
            let reply = &mut buffers.machine_reply;
            let socket =
                attempts::connect(&options, || connect(target, port, xdg_runtime_dir, options.verbose, reply))?;
            match delivery {
                Delivery::Relay { stdin, stdout } => Ok(relay::relay(socket, stdin, stdout, &mut buffers.relay, 0)?),
                Delivery::FdPass(stdout) => {
                    handoff::send_fd(stdout, &socket)?;
                    // ssh holds its own copy now; exiting closes ours without a close(2).
                    core::mem::forget(socket);
                    Ok(())
                }
                Delivery::Offer { stdin, stdout } => {
                    handoff::send_fd(stdout, &socket)?;
                    let [to_target, _] = &mut buffers.relay;
                    match handoff::await_client(stdin, to_target)? {
                        // It took the socket (see above).
                        0 => {
                            core::mem::forget(socket);
                            Ok(())
                        }
                        // It could not, and wrote instead: relay, its bytes first.
                        read => Ok(relay::relay(socket, stdin, stdout, &mut buffers.relay, read)?),
                    }
                }
            }
        }
    }
}

/// `--help` out of line: inlined, its unpacked text would sit in `main`'s
/// frame, whose pages stack probing touches on every run.
#[inline(never)]
fn print_help() -> Result<(), StdioProblem> {
    print(texts::help().as_bytes())
}
