//! What the test crates and examples under tests/ share: the SCM_RIGHTS receiver and the sshd fixture.

pub mod scm_rights;
pub mod sshd;
