//! Lines that `--verbose` adds where upstream stays silent; each feature
//! words its own.

use crate::failure::Failure;
use crate::line::Line;
use crate::targets::machine::ScopeProblem;
use crate::targets::mux::MuxSilence;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Notice<'a> {
    /// The multiplexer said nothing within 5 s; the stream goes to ssh as it is.
    MuxSilent(MuxSilence<'a>),
    /// The user's machined could not answer; the system one is asked next.
    UserScopeUnusable(ScopeProblem),
    /// `--wait`: the target is not there yet; trying again.
    Retrying(Failure<'a>),
}

impl Notice<'_> {
    pub fn describe(&self, line: &mut Line) {
        match *self {
            Self::MuxSilent(ref silence) => silence.describe(line),
            Self::UserScopeUnusable(ref problem) => problem.describe_user_scope(line),
            Self::Retrying(ref failure) => {
                line.text(b"Not there yet, retrying: ");
                failure.describe(line);
            }
        }
    }
}
