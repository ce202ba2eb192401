//! ssh-sockproxy: wires argv to the library and its result to an exit code.
#![no_std]
#![no_main]
// The library's rule for the syscall layer too: no panic paths of our own.
// The handler below remains for rustix's few, which cannot be reached (see
// `make no-panic` and tests/no-panic/allowed).
#![deny(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::arithmetic_side_effects,
    clippy::panic,
    clippy::unreachable,
    clippy::todo,
    clippy::unimplemented
)]

mod sys;

use core::ffi::{c_char, c_int};

use sockproxy::cli::{Command, VERSION, parse_command};
use sockproxy::failure::Failure;
use sockproxy::target::{Target, parse_target};
use sys::stdio::Delivery;

// No libc: sys::start takes over from the C runtime objects rustc links,
// sys::mem supplies memcpy & co., sys::syscall the syscalls rustix lacks.

// Without LTO (the dev profile) the prebuilt core still refers to the unwinder's
// personality routine, although panic = "abort" never unwinds; this stands in.
#[cfg(debug_assertions)]
#[unsafe(no_mangle)]
extern "C" fn rust_eh_personality() {}

/// Exit status of a panic; the tests assert that no run ever ends with it.
const PANIC_EXIT: c_int = 70;

#[panic_handler]
fn panic(_: &core::panic::PanicInfo) -> ! {
    sys::exit_now(PANIC_EXIT)
}

/// Called by sys::start; crt1.o refers to it by this name too.
#[unsafe(no_mangle)]
extern "C" fn main(argc: c_int, argv: *const *const c_char, envp: *const *const c_char) -> c_int {
    // SAFETY: the kernel passes argc NUL-terminated strings and the
    // environment, which live, unchanged, until the process exits.
    let args = unsafe { sys::args::Args::new(argc, argv) };
    // SAFETY: as above.
    let xdg_runtime_dir = unsafe { sys::args::env_var(envp, b"XDG_RUNTIME_DIR") };
    match run(args, xdg_runtime_dir) {
        Ok(()) => 0,
        Err(failure) => {
            sys::stdio::report(&failure);
            1
        }
    }
}

fn run(mut args: sys::args::Args, xdg_runtime_dir: Option<&'static [u8]>) -> Result<(), Failure<'static>> {
    let argv0 = args.next().unwrap_or_default();
    match parse_command(args)? {
        Command::Help => sys::stdio::print(sockproxy::texts::help().as_bytes()),
        Command::Version => sys::stdio::print(VERSION),
        Command::PrintSshConfig => sys::own_path::print_ssh_config(argv0),
        Command::Connect { host, port, options } => {
            let target = parse_target(host, port)?;
            let delivery = sys::stdio::choose_delivery(options.mode)?;
            let socket = sys::attempts::connect(&options, || match target {
                Target::Unix(address) => sys::unix_connect::connect_unix(address),
                Target::Vsock(address) => sys::vsock_connect::connect_vsock(address),
                Target::VsockMux { address, port } => sys::vsock_mux::connect_vsock_mux(address, port, options.verbose),
                Target::Machine(name) => sys::machine::connect_machine(name, port, xdg_runtime_dir, options.verbose),
            })?;
            match delivery {
                Delivery::FdPass(stdout) => {
                    sys::handoff::send_fd(stdout, &socket)?;
                    // ssh holds its own copy now; exiting closes ours without a close(2).
                    core::mem::forget(socket);
                    Ok(())
                }
                Delivery::Relay { stdin, stdout } => sys::relay::relay(socket, stdin, stdout),
            }
        }
    }
}
