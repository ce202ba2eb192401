//! The pure, allocation-free logic of ssh-sockproxy: the host grammar, numbers,
//! socket addresses, the SCM_RIGHTS message and every diagnostic line.
//! `src/main.rs` does the syscalls.
#![cfg_attr(not(test), no_std)]
// No panic paths: every index, slice and arithmetic step is checked or proved
// in range (see `make no-panic` for the binary). The unit tests may panic.
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

pub mod array_buf;
pub mod case_match;
pub mod cli;
pub mod cmsg;
pub mod failure;
pub mod json;
pub mod line;
pub mod machined;
pub mod mux_reply;
pub mod notice;
pub mod number;
pub mod ssh_config;
pub mod target;
pub mod texts;
pub mod unix_address;
pub mod vsock_address;
