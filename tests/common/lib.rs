//! What the tests and examples under tests/ share: TempDir, ChildGuard, the SCM_RIGHTS receiver, the sshd fixture.

mod child_guard;
pub mod scm_rights;
pub mod sshd;
mod temp_dir;

pub use child_guard::ChildGuard;
pub use temp_dir::TempDir;
