//! Finds the real case of a path that ssh lowercased, component by component.

use core::ffi::CStr;
use core::mem::MaybeUninit;

use rustix::fd::{AsFd, OwnedFd};
use rustix::fs::{AtFlags, CWD, Mode, OFlags, RawDir, openat, statat};

use crate::array_buf::ArrayBuf;
use crate::sys::cstr_until_nul;
use crate::targets::case::CaseSearch;

/// NAME_MAX plus the NUL.
const NAME_CAPACITY: usize = 256;

fn open_dir(dir: impl AsFd, name: &CStr) -> Option<OwnedFd> {
    openat(dir, name, OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC, Mode::empty()).ok()
}

/// A file name and its NUL.
type Name = ArrayBuf<NAME_CAPACITY>;

fn as_cstr(name: &Name) -> &CStr {
    cstr_until_nul(name.as_bytes()).unwrap_or(c"")
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
        let mut name = Name::new();
        if name.push_parts(&[component, b"\0"]).is_none() {
            return false;
        }
        if statat(&dir, as_cstr(&name), AtFlags::SYMLINK_NOFOLLOW).is_err() {
            if !find_unique(&dir, component) {
                return false;
            }
            name.clear();
            let _ = name.push_parts(&[component, b"\0"]);
            changed = true;
        }
        if components.peek().is_some() {
            match open_dir(&dir, as_cstr(&name)) {
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
    let mut found = Name::new();
    let mut search = CaseSearch::new(name);
    let mut buf = [MaybeUninit::<u8>::uninit(); 4096];
    let mut entries = RawDir::new(dir, &mut buf);
    while let Some(entry) = entries.next() {
        let Ok(entry) = entry else {
            return false;
        };
        let entry_name = entry.file_name().to_bytes();
        if search.offer(entry_name) {
            found.clear();
            let _ = found.push(entry_name);
        }
    }
    if !search.is_unique() {
        return false;
    }
    // A match has the length of `name`.
    for (to, &from) in name.iter_mut().zip(found.as_bytes()) {
        *to = from;
    }
    true
}
