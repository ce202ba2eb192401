//! `--print-ssh-config`: the fragment for the path this binary runs from.

use core::mem::MaybeUninit;

use rustix::fs::{CWD, readlinkat_raw};

use crate::failure::Failure;
use crate::ssh_config::{QuotedPath, SshConfigProblem, fragment, quote_bin};
use crate::sys::stdio::print;
use crate::targets::unix::PATH_CAPACITY;
use crate::texts;

pub fn print_ssh_config(argv0: &'static [u8]) -> Result<(), Failure<'static>> {
    let mut link = [MaybeUninit::<u8>::uninit(); PATH_CAPACITY];
    let path: &[u8] = match readlinkat_raw(CWD, c"/proc/self/exe", &mut link) {
        Ok((path, _)) => path,
        // No /proc (an early initrd): an absolute argv[0] is as good.
        Err(_) if argv0.starts_with(b"/") => argv0,
        Err(errno) => return Err(SshConfigProblem::OwnPath(errno.raw_os_error()).into()),
    };
    let mut quoted = QuotedPath::new();
    let Some(()) = quote_bin(path, &mut quoted) else {
        // `path` may live in `link`, on this stack frame: report argv[0].
        return Err(SshConfigProblem::UnquotablePath(argv0).into());
    };
    for piece in fragment(&texts::ssh_config(), quoted.as_bytes()) {
        print(piece)?;
    }
    Ok(())
}
