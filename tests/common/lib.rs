//! What the tests and examples under tests/ share: TempDir, ChildGuard, random_bytes, the SCM_RIGHTS receiver, sshd,
//! and the process-tree kill for servers whose children leave the process group.

mod child_guard;
pub mod process_tree;
mod random;
pub mod scm_rights;
pub mod sshd;
mod temp_dir;

pub use child_guard::ChildGuard;
pub use random::random_bytes;
pub use temp_dir::TempDir;
