//! `--print-ssh-config`: the fragment for the path this binary runs from.

use core::mem::MaybeUninit;

use rustix::fs::{CWD, readlinkat_raw};

use crate::failure::Failure;
use crate::ssh_config::{DELETED_SUFFIX, QuotedPath, SshConfigProblem, fragment, quote_bin};
use crate::sys::stdio::print;
use crate::targets::unix::PATH_CAPACITY;
use crate::texts;

/// `link` and `quoted` are the room for the path and its quoted form. Out
/// of line, like `--help`: the unpacked fragment stays out of `main`'s frame.
pub fn print_ssh_config(
    argv0: &'static [u8],
    link: &mut [MaybeUninit<u8>; PATH_CAPACITY],
    quoted: &mut QuotedPath,
) -> Result<(), Failure<'static>> {
    let path: &[u8] = match readlinkat_raw(CWD, c"/proc/self/exe", link) {
        Ok((path, _)) => path,
        // No /proc (an early initrd): an absolute argv[0] is as good.
        Err(_) if argv0.starts_with(b"/") => argv0,
        Err(errno) => return Err(SshConfigProblem::OwnPath(errno.raw_os_error()).into()),
    };
    // A path that really ends so is taken for a deleted file too: refused
    // rather than written into a drop-in that names no binary.
    if path.ends_with(DELETED_SUFFIX) {
        return Err(SshConfigProblem::Deleted.into());
    }
    let Some(()) = quote_bin(path, quoted) else {
        // `path` may live in `link`, which the failure cannot borrow: report argv[0].
        return Err(SshConfigProblem::UnquotablePath(argv0).into());
    };
    for piece in fragment(&texts::ssh_config(), quoted.as_bytes()) {
        print(piece)?;
    }
    Ok(())
}
