//! Lines that `--verbose` adds where upstream stays silent.

use crate::failure::{Failure, ScopeProblem, describe_scope, write_unix_address};
use crate::line::Line;
use crate::unix_address::UnixAddress;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Notice<'a> {
    /// The multiplexer said nothing within 5 s; the stream goes to ssh as it is.
    MuxSilent { address: UnixAddress<'a>, port: u32 },
    /// The user's machined could not answer; the system one is asked next.
    UserScopeUnusable(ScopeProblem),
    /// `--wait`: the target is not there yet; trying again.
    Retrying(Failure<'a>),
}

impl Notice<'_> {
    pub fn describe(&self, line: &mut Line) {
        match *self {
            Self::MuxSilent { address, port } => {
                line.text(b"vsock multiplexer ");
                write_unix_address(line, address);
                line.text(b" sent no reply to CONNECT ").number(port);
                line.text(b" within 5 s; handing the connection to ssh as it is.");
            }
            // `ref`: no copies of the larger fields onto the stack.
            Self::UserScopeUnusable(ref problem) => {
                line.text(b"User scope systemd-machined: ");
                describe_scope(line, problem);
                line.text(b"; asking the system scope.");
            }
            Self::Retrying(ref failure) => {
                line.text(b"Not there yet, retrying: ");
                failure.describe(line);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::unix_address::UnixPath;

    #[test]
    fn mux_silence() {
        let address = UnixAddress::Path(UnixPath { add_root: false, written: b"/run/vm.sock" });
        let mut line = Line::new();
        Notice::MuxSilent { address, port: 22 }.describe(&mut line);
        assert_eq!(
            line.finish(),
            b"vsock multiplexer /run/vm.sock sent no reply to CONNECT 22 within 5 s; handing the connection to ssh as it is.\n"
        );
    }
}
