//! Finds the real case of a path that ssh lowercased, component by component.

use core::ffi::CStr;
use core::mem::MaybeUninit;

use rustix::fd::{AsFd, OwnedFd};
use rustix::fs::{AtFlags, CWD, Mode, OFlags, RawDir, openat, statat};
use sockproxy::case_match::CaseSearch;

use super::cstr_until_nul;

/// NAME_MAX plus the NUL.
const NAME_CAPACITY: usize = 256;

fn open_dir(dir: impl AsFd, name: &CStr) -> Option<OwnedFd> {
    openat(dir, name, OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC, Mode::empty()).ok()
}

/// Rewrites `path` in place with the real case of each component that does
/// not exist as written but has exactly one case-insensitive match. Returns
/// true when it changed something and every component was found.
pub fn recover_case(path: &mut [u8]) -> bool {
    let Some(mut dir) = open_dir(CWD, if path.starts_with(b"/") { c"/" } else { c"." }) else {
        return false;
    };
    let mut changed = false;
    let mut offset = 0;
    while offset < path.len() {
        let end = path[offset..].iter().position(|&b| b == b'/').map_or(path.len(), |i| offset + i);
        let component = &mut path[offset..end];
        offset = end + 1;
        if component.is_empty() {
            continue;
        }
        if component.len() >= NAME_CAPACITY {
            return false;
        }
        let mut name = [0u8; NAME_CAPACITY];
        name[..component.len()].copy_from_slice(component);
        if statat(&dir, cstr_until_nul(&name).unwrap_or(c""), AtFlags::SYMLINK_NOFOLLOW).is_err() {
            if !find_unique(&dir, &mut name[..component.len()]) {
                return false;
            }
            component.copy_from_slice(&name[..component.len()]);
            changed = true;
        }
        if end < path.len() {
            match open_dir(&dir, cstr_until_nul(&name).unwrap_or(c"")) {
                Some(next) => dir = next,
                None => return false,
            }
        }
    }
    changed
}

/// Replaces `name` with the one entry of `dir` that equals it ignoring ASCII
/// case; false when there is none or more than one.
fn find_unique(dir: &OwnedFd, name: &mut [u8]) -> bool {
    let mut found = [0u8; NAME_CAPACITY];
    let mut search = CaseSearch::new(name);
    let mut buf = [MaybeUninit::<u8>::uninit(); 4096];
    let mut entries = RawDir::new(dir, &mut buf);
    while let Some(entry) = entries.next() {
        let Ok(entry) = entry else {
            return false;
        };
        let entry_name = entry.file_name().to_bytes();
        if search.offer(entry_name) {
            found[..entry_name.len()].copy_from_slice(entry_name);
        }
    }
    if !search.is_unique() {
        return false;
    }
    let len = name.len();
    name.copy_from_slice(&found[..len]);
    true
}
