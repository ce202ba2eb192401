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
        let Some(mut name) = Name::from_parts(&[component, b"\0"]) else {
            return false;
        };
        if statat(&dir, as_cstr(&name), AtFlags::SYMLINK_NOFOLLOW).is_err() {
            let Some(found) = find_unique(&dir, component) else {
                return false;
            };
            // A match has the length of the component.
            for (to, &from) in component.iter_mut().zip(found.as_bytes()) {
                *to = from;
            }
            name = found;
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

/// The one entry of `dir` that equals `wanted` ignoring ASCII case, with its
/// NUL; `None` when there is none or more than one.
fn find_unique(dir: &OwnedFd, wanted: &[u8]) -> Option<Name> {
    let mut found = None;
    let mut search = CaseSearch::new(wanted);
    let mut buf = [MaybeUninit::<u8>::uninit(); 4096];
    let mut entries = RawDir::new(dir, &mut buf);
    while let Some(entry) = entries.next() {
        let entry = entry.ok()?;
        let entry_name = entry.file_name().to_bytes();
        if search.offer(entry_name) {
            found = Name::from_parts(&[entry_name, b"\0"]);
        }
    }
    found.filter(|_| search.is_unique())
}
