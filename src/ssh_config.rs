//! `--print-ssh-config`: the ssh_config fragment (its text is in texts/) with
//! this binary's path quoted for it, and what can go wrong (see sys/ssh_config.rs).

use crate::array_buf::ArrayBuf;
use crate::line::Line;
use crate::texts::SshConfig;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SshConfigProblem<'a> {
    /// Neither /proc/self/exe nor an absolute argv[0] names this binary.
    OwnPath(i32),
    /// /proc/self/exe names a file that is gone: the binary was deleted or
    /// replaced (an upgrade) while it ran.
    Deleted,
    UnquotablePath(&'a [u8]),
}

impl SshConfigProblem<'_> {
    pub fn describe(&self, line: &mut Line) {
        match *self {
            Self::OwnPath(errno) => {
                line.text(b"Failed to find the path of this binary (/proc/self/exe): ").errno(errno);
                line.text(b"; run it by its absolute path");
            }
            Self::Deleted => {
                line.text(b"Failed to find the path of this binary: its file was deleted or replaced while it ran; run it again");
            }
            Self::UnquotablePath(path) => {
                line.text(b"Cannot write this binary's path into ssh_config: ").quoted(path);
            }
        }
    }
}

/// What the kernel appends to /proc/self/exe when the file is unlinked.
pub const DELETED_SUFFIX: &[u8] = b" (deleted)";

/// Room for a quoted binary path: PATH_MAX with every `%` doubled, plus quotes.
pub const QUOTED_CAPACITY: usize = 2 * 4096 + 2;

/// A path quoted for ssh_config.
pub type QuotedPath = ArrayBuf<QUOTED_CAPACITY>;

/// Quotes the binary's path for a ProxyCommand line: ssh expands `%` tokens
/// (so `%` becomes `%%`) and hands the line to `sh -c` (so anything beyond
/// plain path characters goes in single quotes). `None` for a path that
/// cannot be written safely: a `'` or a control byte.
pub fn quote_bin(path: &[u8], out: &mut QuotedPath) -> Option<()> {
    let plain = |b: u8| b.is_ascii_alphanumeric() || b"/._+-,:@=%".contains(&b);
    if path.is_empty() || path.iter().any(|&b| b == b'\'' || b < 0x20 || b == 0x7f) {
        return None;
    }
    let quote = !path.iter().all(|&b| plain(b));
    if quote {
        out.push(b"'")?;
    }
    for &byte in path {
        out.push(&[byte])?;
        if byte == b'%' {
            out.push(b"%")?;
        }
    }
    if quote {
        out.push(b"'")?;
    }
    Some(())
}

/// The fragment, in pieces to write in order, for the quoted binary path.
pub fn fragment<'t>(config: &'t SshConfig, quoted_bin: &'t [u8]) -> [&'t [u8]; 5] {
    let [head, middle, tail] = config.around_bin();
    [head, quoted_bin, middle, quoted_bin, tail]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn quote(path: &[u8]) -> Option<Vec<u8>> {
        let mut out = QuotedPath::new();
        quote_bin(path, &mut out).map(|()| out.as_bytes().to_vec())
    }

    #[test]
    fn quoting() {
        let cases: &[(&[u8], Option<&[u8]>)] = &[
            (b"/usr/bin/ssh-sockproxy", Some(b"/usr/bin/ssh-sockproxy")),
            (b"/opt/tool-1.2_x/bin/ssh+proxy", Some(b"/opt/tool-1.2_x/bin/ssh+proxy")),
            (b"/tmp/100%/proxy", Some(b"/tmp/100%%/proxy")),
            (b"/My Tools/proxy", Some(b"'/My Tools/proxy'")),
            (b"/a;rm -rf ~/b", Some(b"'/a;rm -rf ~/b'")),
            (b"/a $HOME/%h", Some(b"'/a $HOME/%%h'")),
            (b"/\xc3\xa9/proxy", Some(b"'/\xc3\xa9/proxy'")),
            (b"/it's/proxy", None),
            (b"/a\nb", None),
            (b"", None),
        ];
        for (path, expected) in cases {
            assert_eq!(quote(path).as_deref(), *expected, "{:?}", String::from_utf8_lossy(path));
        }
    }

    #[test]
    fn longest_path_fits() {
        let path = vec![b'%'; 4095];
        assert_eq!(quote(&path).map(|q| q.len()), Some(8190));
        let path = [b"/ ".as_slice(), &[b'%'; 4093]].concat();
        assert_eq!(quote(&path).map(|q| q.len()), Some(2 + 2 + 2 * 4093));
    }

    #[test]
    fn fragment_text() {
        let text = fragment(&crate::texts::ssh_config(), b"/usr/bin/ssh-sockproxy").concat();
        let text = String::from_utf8(text).unwrap();
        assert!(text.contains(
            "Host .host machine/.host\n    ProxyCommand /usr/bin/ssh-sockproxy unix/run/ssh-unix-local/socket %p\n"
        ));
        assert!(text.contains(
            "Host unix/* unix%* vsock/* vsock%* vsock-mux/* vsock-mux%* machine/* machine%*\n    ProxyCommand /usr/bin/ssh-sockproxy %h %p\n"
        ));
        assert_eq!(text.matches("    ProxyUseFdpass yes\n").count(), 2);
        assert_eq!(text.matches("    StrictHostKeyChecking no\n").count(), 2);
        assert_eq!(text.matches("    UserKnownHostsFile /dev/null\n").count(), 2);
        assert_eq!(text.matches("    CheckHostIP no\n").count(), 2);
        assert!(text.ends_with('\n'));
    }

    #[test]
    fn messages() {
        let message = |problem: SshConfigProblem| crate::line::render(|line| problem.describe(line));
        assert_eq!(
            message(SshConfigProblem::OwnPath(2)),
            "Failed to find the path of this binary (/proc/self/exe): No such file or directory; run it by its absolute path\n"
        );
        assert_eq!(
            message(SshConfigProblem::Deleted),
            "Failed to find the path of this binary: its file was deleted or replaced while it ran; run it again\n"
        );
        assert_eq!(
            message(SshConfigProblem::UnquotablePath(b"/it's")),
            "Cannot write this binary's path into ssh_config: /it's\n"
        );
    }
}
