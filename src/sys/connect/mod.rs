//! Connecting to a target: the syscall half of each target kind, under the
//! name of its library half in targets/.

pub mod case;
pub mod machine;
pub mod mux;
pub mod unix;
pub mod vsock;

use rustix::fd::OwnedFd;

use crate::failure::Failure;
use crate::targets::Target;
use crate::targets::machine::ReplyBuffer;

/// One attempt at connecting to `target`. `port` is PORT as given (machine/
/// parses it only for a VM); `xdg_runtime_dir` locates the user's machined,
/// whose reply goes into `machine_reply`.
#[inline(never)]
pub fn connect(
    target: Target<'static>,
    port: &'static [u8],
    xdg_runtime_dir: Option<&'static [u8]>,
    verbose: bool,
    machine_reply: &mut ReplyBuffer,
) -> Result<OwnedFd, Failure<'static>> {
    match target {
        Target::Unix(address) => Ok(unix::connect_unix(address)?),
        Target::Vsock(address) => Ok(vsock::connect_vsock(address)?),
        Target::VsockMux { address, port } => mux::connect_mux(address, port, verbose),
        Target::Machine(name) => machine::connect_machine(name, port, xdg_runtime_dir, verbose, machine_reply),
    }
}
