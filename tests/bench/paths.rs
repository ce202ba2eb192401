//! The bench's temp dir and socket paths of an exact length in it.

use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

use crate::cleanup;

/// `$TMPDIR/sspb.PID`: short, so that 20-byte socket paths fit in it, and lowercase (ssh lowercases `%h`).
pub struct TempDir(PathBuf);

impl TempDir {
    pub fn new() -> Result<TempDir, String> {
        let path = std::env::temp_dir().join(format!("sspb.{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&path);
        std::fs::create_dir_all(&path).map_err(|e| format!("create {}: {e}", path.display()))?;
        cleanup::register_dir(&path);
        Ok(TempDir(path))
    }

    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
        cleanup::unregister_dir(&self.0);
    }
}

pub fn len(path: &Path) -> usize {
    path.as_os_str().as_bytes().len()
}

/// `dir/` and a name starting with `tag`, padded so that the whole path is
/// `length` bytes when the directory leaves room (else as short as it can be).
pub fn short(dir: &Path, tag: char, length: usize) -> PathBuf {
    let room = length.saturating_sub(len(dir) + 1).max(1);
    dir.join(format!("{tag}{}", "x".repeat(room - 1)))
}

/// A socket path of exactly `length` bytes (more than sun_path's 108) under
/// `dir`: two directories, created here, and a short file name. Returns it
/// with the short path to bind first (bind cannot take the long one).
pub fn long(dir: &Path, tag: char, length: usize) -> Result<(PathBuf, PathBuf), String> {
    let name = format!("{tag}.sock");
    let fixed = len(dir) + 1 + 150 + 1 + 1 + name.len();
    if length < fixed + 1 || length - fixed > 255 {
        return Err(format!("cannot make a {length}-byte path under {}", dir.display()));
    }
    let parent = dir.join("a".repeat(150)).join("b".repeat(length - fixed));
    std::fs::create_dir_all(&parent).map_err(|e| format!("create {}: {e}", parent.display()))?;
    Ok((parent.join(name), dir.join(format!("{tag}.tmp"))))
}
