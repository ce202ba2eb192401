//! ssh-sockproxy's library: the allocation-free logic (the host grammar,
//! each target kind, the messages, the texts), unit-tested on the host, and
//! `sys`, the syscall layer the binaries run on. Each feature has one name on
//! both sides: targets/unix.rs and sys/connect/unix.rs, handoff.rs and
//! sys/handoff.rs. No module imports one that imports it back (`make lint`
//! checks).
#![cfg_attr(not(test), no_std)]
// The lints of the whole product (the binaries are only their entry points):
// no panic paths, every index, slice and arithmetic step checked or proved in
// range (see `make no-panic` for the binary). The unit tests may panic.
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
#![cfg_attr(
    test,
    allow(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::indexing_slicing,
        clippy::arithmetic_side_effects,
        clippy::panic
    )
)]

/// `impl From<PROBLEM> for WRAPPER` for each `VARIANT(PROBLEM)`: the wrapper
/// holds the problem in that variant, converted with `into()` (a kind's
/// problem goes into Failure through TargetProblem).
macro_rules! wrap_problems {
    ($wrapper:ident: $($variant:ident($problem:ty)),* $(,)?) => {$(
        impl<'a> From<$problem> for $wrapper<'a> {
            fn from(problem: $problem) -> Self {
                Self::$variant(problem.into())
            }
        }
    )*};
}

pub mod array_buf;
pub mod attempts;
pub mod cli;
pub mod failure;
pub mod handoff;
pub mod json;
pub mod line;
pub mod notice;
pub mod number;
pub mod relay;
pub mod serve;
pub mod ssh_config;
pub mod stdio;
pub mod sys;
pub mod targets;
pub mod texts;
