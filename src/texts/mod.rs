//! The long texts: `--help`, the ssh_config fragment, the errno texts and
//! ssh-sockserve's `--help`. They are written in `help.txt`,
//! `../dist/ssh-sockproxy.conf.in` (also the template `make install` fills),
//! `errno.rs` and `serve_help.txt`; how the binaries store them
//! is private to this module (see `pack`); a message's errno text comes
//! without the others.

mod errno;
mod pack;

use crate::array_buf::ArrayBuf;
use pack::{Compressed, compress, packed, unpack};

/// Where the fragment's template has the binary's path.
const BIN_PLACEHOLDER: &[u8] = b"@BIN_SSH@";
const SSH_CONFIG_TEMPLATE: &[u8] = include_bytes!("../dist/ssh-sockproxy.conf.in");
const SSH_CONFIG_TEXT: Template = Template::new(SSH_CONFIG_TEMPLATE);
const SSH_CONFIG_LEN: usize = SSH_CONFIG_TEXT.len;
const HELP_TEXT: &[u8] = include_bytes!("help.txt");
const HELP_LEN: usize = HELP_TEXT.len();

/// The fragment, then `--help`, packed as one: the help repeats much of the
/// fragment. Being first, the fragment unpacks without the help.
const BOTH_LEN: usize = SSH_CONFIG_LEN + HELP_LEN;
const BOTH: [u8; BOTH_LEN] = pack::concat(SSH_CONFIG_TEXT.text(), HELP_TEXT);
#[allow(long_running_const_eval)]
const BOTH_COMPRESSED: Compressed<BOTH_LEN> = compress(&BOTH);
static PACKED_BOTH: [u8; BOTH_COMPRESSED.1] = packed(&BOTH_COMPRESSED);

/// The `--help` text.
pub struct Help(ArrayBuf<BOTH_LEN>);

impl Help {
    pub fn as_bytes(&self) -> &[u8] {
        self.0.as_bytes().get(SSH_CONFIG_LEN..).unwrap_or_default()
    }
}

pub fn help() -> Help {
    let mut text = ArrayBuf::new();
    unpack(&PACKED_BOTH, &mut text);
    Help(text)
}

/// Where the binary's path goes; a constant of its own, so that the template
/// does not come along into the binary.
const BIN_AT: [usize; BIN_COUNT] = SSH_CONFIG_TEXT.bin_at;

/// How many times the fragment names the binary.
const BIN_COUNT: usize = 2;

/// The ssh_config fragment that routes our host names through this binary.
pub struct SshConfig(ArrayBuf<SSH_CONFIG_LEN>);

/// The fragment's text.
pub fn ssh_config() -> SshConfig {
    let mut text = ArrayBuf::new();
    unpack(&PACKED_BOTH, &mut text);
    SshConfig(text)
}

impl SshConfig {
    /// The fragment in the pieces that come before, between and after the
    /// places where it names the binary (by its path quoted for ssh_config).
    pub fn around_bin(&self) -> [&[u8]; BIN_COUNT + 1] {
        let mut pieces = [&[][..]; BIN_COUNT + 1];
        let mut rest = self.0.as_bytes();
        let mut start = 0;
        for (piece, &end) in pieces.iter_mut().zip(BIN_AT.iter().chain(&[SSH_CONFIG_LEN])) {
            // The ends come from the text itself, in order: the split never misses.
            let (head, tail) = rest.split_at_checked(end.saturating_sub(start)).unwrap_or((rest, &[]));
            (*piece, rest, start) = (head, tail, end);
        }
        pieces
    }
}

const SERVE_HELP_TEXT: &[u8] = include_bytes!("serve_help.txt");
const SERVE_HELP_LEN: usize = SERVE_HELP_TEXT.len();
#[allow(long_running_const_eval)]
const SERVE_HELP_COMPRESSED: Compressed<SERVE_HELP_LEN> = compress(SERVE_HELP_TEXT);
static PACKED_SERVE_HELP: [u8; SERVE_HELP_COMPRESSED.1] = packed(&SERVE_HELP_COMPRESSED);

/// ssh-sockserve's `--help` text (packed on its own: the proxy's binary
/// does not carry it).
pub fn serve_help() -> ArrayBuf<SERVE_HELP_LEN> {
    let mut text = ArrayBuf::new();
    unpack(&PACKED_SERVE_HELP, &mut text);
    text
}

const ERRNO_COMPRESSED: Compressed<{ errno::TABLE_LEN }> = compress(&errno::TABLE);
static ERRNO: [u8; ERRNO_COMPRESSED.1] = packed(&ERRNO_COMPRESSED);

/// The strerror() text for `errno` (glibc's wording, as upstream's
/// messages have it), or `None` for values without one here.
pub fn errno(errno: i32) -> Option<ErrnoText> {
    let mut table = ArrayBuf::<{ errno::TABLE_LEN }>::new();
    unpack(&ERRNO, &mut table);
    let (start, end) = errno::find(table.as_bytes(), errno)?;
    Some(ErrnoText { table, start, end })
}

/// One errno text, in the unpacked table.
pub struct ErrnoText {
    table: ArrayBuf<{ errno::TABLE_LEN }>,
    start: usize,
    end: usize,
}

impl ErrnoText {
    pub fn as_bytes(&self) -> &[u8] {
        self.table.as_bytes().get(self.start..self.end).unwrap_or_default()
    }
}

/// A template with its placeholders taken out, and where they were.
struct Template {
    bytes: [u8; SSH_CONFIG_TEMPLATE.len()],
    len: usize,
    bin_at: [usize; BIN_COUNT],
}

impl Template {
    /// Run by the compiler only: its asserts are build checks.
    #[expect(
        clippy::indexing_slicing,
        clippy::arithmetic_side_effects,
        reason = "run by the compiler: a bad index or an overflow fails the build"
    )]
    const fn new(template: &[u8]) -> Self {
        let mut out = Self { bytes: [0; SSH_CONFIG_TEMPLATE.len()], len: 0, bin_at: [0; BIN_COUNT] };
        let mut found = 0;
        let mut i = 0;
        while i < template.len() {
            let mut is_placeholder = i + BIN_PLACEHOLDER.len() <= template.len();
            let mut j = 0;
            while is_placeholder && j < BIN_PLACEHOLDER.len() {
                is_placeholder = template[i + j] == BIN_PLACEHOLDER[j];
                j += 1;
            }
            if is_placeholder {
                out.bin_at[found] = out.len;
                found += 1;
                i += BIN_PLACEHOLDER.len();
            } else {
                out.bytes[out.len] = template[i];
                out.len += 1;
                i += 1;
            }
        }
        assert!(found == BIN_COUNT, "the ssh_config template names the binary BIN_COUNT times");
        out
    }

    const fn text(&self) -> &[u8] {
        self.bytes.split_at(self.len).0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_text_unpacks_whole() {
        assert_eq!(help().as_bytes(), HELP_TEXT);
        assert!(PACKED_BOTH.len() < BOTH_LEN * 6 / 10, "{} of {BOTH_LEN}", PACKED_BOTH.len());
        let config = ssh_config();
        assert_eq!(config.around_bin().join(BIN_PLACEHOLDER), SSH_CONFIG_TEMPLATE);
        assert_eq!(errno(111).unwrap().as_bytes(), b"Connection refused");
        assert_eq!(errno(125).unwrap().as_bytes(), b"Operation canceled");
        assert!(errno(0).is_none() && errno(4095).is_none() && errno(-1).is_none());
    }

    #[test]
    fn matches_glibc_wording() {
        let cases: &[(i32, &str)] = &[
            (2, "No such file or directory"),
            (111, "Connection refused"),
            (91, "Protocol wrong type for socket"),
            (110, "Connection timed out"),
            (113, "No route to host"),
            (36, "File name too long"),
            (32, "Broken pipe"),
        ];
        for (number, text) in cases {
            assert_eq!(errno(*number).unwrap().as_bytes(), text.as_bytes(), "errno {number}");
        }
    }

    #[test]
    fn help_names_every_option() {
        let help = String::from_utf8(help().as_bytes().to_vec()).unwrap();
        for option in
            ["--wait", "--timeout=", "--fdpass", "--relay", "--verbose", "--help", "--version", "--print-ssh-config"]
        {
            assert!(help.contains(option), "{option}");
        }
    }

    #[test]
    fn serve_help_unpacks_whole_and_names_every_option() {
        assert_eq!(serve_help().as_bytes(), SERVE_HELP_TEXT);
        assert!(PACKED_SERVE_HELP.len() < SERVE_HELP_LEN * 7 / 10, "{} of {SERVE_HELP_LEN}", PACKED_SERVE_HELP.len());
        let help = String::from_utf8(serve_help().as_bytes().to_vec()).unwrap();
        for option in ["--max-connections=", "--mode=", "--verbose", "--help", "--version", "NOTIFY_SOCKET"] {
            assert!(help.contains(option), "{option}");
        }
    }
}
