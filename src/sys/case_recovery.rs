//! Finds the real case of a path that ssh lowercased, component by component.

use core::ffi::CStr;
use core::mem::MaybeUninit;

use rustix::fd::{AsFd, OwnedFd};
use rustix::fs::{AtFlags, CWD, Mode, OFlags, RawDir, openat, statat};
use sockproxy::case_match::CaseSearch;
use sockproxy::fill::copy;

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
    let mut components = path.split_mut(|&b| b == b'/').peekable();
    while let Some(component) = components.next() {
        if component.is_empty() {
            continue;
        }
        // Shorter than NAME_CAPACITY, so that a NUL follows it in `name`.
        let mut name = [0u8; NAME_CAPACITY];
        let Some(written) = name.get_mut(..component.len()).filter(|_| component.len() < NAME_CAPACITY) else {
            return false;
        };
        copy(written, component);
        if statat(&dir, cstr_until_nul(&name).unwrap_or(c""), AtFlags::SYMLINK_NOFOLLOW).is_err() {
            let Some(written) = name.get_mut(..component.len()) else {
                return false;
            };
            if !find_unique(&dir, written) {
                return false;
            }
            copy(component, written);
            changed = true;
        }
        if components.peek().is_some() {
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
            // A match has the length of `name`, which is below NAME_CAPACITY.
            if let Some(kept) = found.get_mut(..entry_name.len()) {
                copy(kept, entry_name);
            }
        }
    }
    match found.get(..name.len()) {
        Some(found) if search.is_unique() => {
            copy(name, found);
            true
        }
        _ => false,
    }
}
