//! Command line: options first, then exactly HOST and PORT.

use crate::line::Line;
use crate::number::parse_u32;

/// What the command line asks for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Command<'a> {
    Print(Print),
    Connect { host: &'a [u8], port: &'a [u8], options: Options },
}

/// The commands that print a text and exit: `--help`, `--version` and
/// `--print-ssh-config`. They need no HOST and PORT.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Print {
    Help,
    Version,
    SshConfig,
}

/// Options that change how a connection is made; all off by default, so
/// that `%h %p` alone behaves like upstream.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Options {
    /// Say on stderr what happened where upstream stays silent.
    pub verbose: bool,
    pub mode: Mode,
    /// Keep trying for this many seconds while the target is not there yet.
    pub wait: Option<u32>,
    /// Give up on connect plus handshake after this many seconds.
    pub timeout: Option<u32>,
}

/// How the connection reaches ssh.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Mode {
    /// Pass the socket when stdout is an AF_UNIX socket, then relay if the
    /// client writes instead of taking it; relay when stdout is no socket.
    #[default]
    Auto,
    FdPass,
    Relay,
}

/// What is wrong with the command line.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CliProblem<'a> {
    ArgumentCount,
    UnknownOption(&'a [u8]),
    BadOptionValue(&'a [u8]),
}

impl CliProblem<'_> {
    pub fn describe(&self, line: &mut Line) {
        match *self {
            Self::ArgumentCount => line.text(b"Expected two arguments: host and port."),
            Self::UnknownOption(option) => line.text(b"Unknown option: ").quoted(option).text(b" (see --help)"),
            Self::BadOptionValue(option) => {
                line.text(b"Invalid value in option: ").quoted(option).text(b" (a number of seconds)")
            }
        };
    }
}

/// `--wait` without a value.
pub const DEFAULT_WAIT: u32 = 60;

/// The seconds in `--name=SECONDS`; zero only where `zero_ok`.
fn seconds(arg: &[u8], name: &[u8], zero_ok: bool) -> Option<u32> {
    let value = arg.strip_prefix(name)?.strip_prefix(b"=")?;
    parse_u32(value).filter(|&n| zero_ok || n > 0)
}

/// Parses the arguments after argv[0]. Options end at the first argument that
/// does not start with `-`, or after `--`.
pub fn parse_command<'a>(args: impl IntoIterator<Item = &'a [u8]>) -> Result<Command<'a>, CliProblem<'a>> {
    let mut args = args.into_iter().peekable();
    // --help, --version or --print-ssh-config: the first wins, but --help always.
    let mut wanted = None;
    let mut options = Options::default();
    while let Some(&arg) = args.peek() {
        if !arg.starts_with(b"-") {
            break;
        }
        args.next();
        if arg == b"--" {
            break;
        } else if arg == b"-h" || arg == b"--help" {
            wanted = Some(Print::Help);
        } else if arg == b"--version" {
            wanted = wanted.or(Some(Print::Version));
        } else if arg == b"--print-ssh-config" {
            wanted = wanted.or(Some(Print::SshConfig));
        } else if arg == b"-v" || arg == b"--verbose" {
            options.verbose = true;
        } else if arg == b"--fdpass" {
            options.mode = Mode::FdPass;
        } else if arg == b"--relay" {
            options.mode = Mode::Relay;
        } else if arg == b"--wait" {
            options.wait = Some(DEFAULT_WAIT);
        } else if arg.starts_with(b"--wait=") {
            options.wait = Some(seconds(arg, b"--wait", true).ok_or(CliProblem::BadOptionValue(arg))?);
        } else if arg.starts_with(b"--timeout=") {
            options.timeout = Some(seconds(arg, b"--timeout", false).ok_or(CliProblem::BadOptionValue(arg))?);
        } else {
            return Err(CliProblem::UnknownOption(arg));
        }
    }
    if let Some(print) = wanted {
        return Ok(Command::Print(print));
    }
    match (args.next(), args.next(), args.next()) {
        (Some(host), Some(port), None) => Ok(Command::Connect { host, port, options }),
        _ => Err(CliProblem::ArgumentCount),
    }
}

/// `--version` text.
pub const VERSION: &[u8] = concat!("ssh-sockproxy ", env!("CARGO_PKG_VERSION"), "\n").as_bytes();

#[cfg(test)]
mod tests {
    use super::*;

    fn parse<'a>(args: &[&'a [u8]]) -> Result<Command<'a>, CliProblem<'a>> {
        parse_command(args.iter().copied())
    }

    /// Arguments and what they parse to.
    type Case<'a> = (&'a [&'a [u8]], Result<Command<'a>, CliProblem<'a>>);

    #[test]
    fn command_lines() {
        let connect = Command::Connect { host: b"unix/x", port: b"22", options: Options::default() };
        let with = |options| Command::Connect { host: b"unix/x", port: b"22", options };
        let verbose = with(Options { verbose: true, ..Options::default() });
        let cases: &[Case] = &[
            (&[b"unix/x", b"22"], Ok(connect)),
            (&[b"--", b"unix/x", b"22"], Ok(connect)),
            (&[b"-v", b"unix/x", b"22"], Ok(verbose)),
            (&[b"--verbose", b"--", b"unix/x", b"22"], Ok(verbose)),
            (&[b"-v", b"-v", b"unix/x", b"22"], Ok(verbose)),
            (&[b"-vv", b"unix/x", b"22"], Err(CliProblem::UnknownOption(b"-vv"))),
            (&[b"--relay", b"unix/x", b"22"], Ok(with(Options { mode: Mode::Relay, ..Options::default() }))),
            (
                &[b"--relay", b"--fdpass", b"unix/x", b"22"],
                Ok(with(Options { mode: Mode::FdPass, ..Options::default() })),
            ),
            (&[b"--wait", b"unix/x", b"22"], Ok(with(Options { wait: Some(60), ..Options::default() }))),
            (&[b"--wait=5", b"unix/x", b"22"], Ok(with(Options { wait: Some(5), ..Options::default() }))),
            (&[b"--wait=0", b"unix/x", b"22"], Ok(with(Options { wait: Some(0), ..Options::default() }))),
            (&[b"--wait=", b"unix/x", b"22"], Err(CliProblem::BadOptionValue(b"--wait="))),
            (&[b"--wait=5s", b"unix/x", b"22"], Err(CliProblem::BadOptionValue(b"--wait=5s"))),
            (&[b"--wait=-1", b"unix/x", b"22"], Err(CliProblem::BadOptionValue(b"--wait=-1"))),
            (
                &[b"--wait", b"5", b"unix/x"],
                Ok(Command::Connect {
                    host: b"5",
                    port: b"unix/x",
                    options: Options { wait: Some(60), ..Options::default() },
                }),
            ),
            (&[b"--timeout=3", b"unix/x", b"22"], Ok(with(Options { timeout: Some(3), ..Options::default() }))),
            (&[b"--timeout=0", b"unix/x", b"22"], Err(CliProblem::BadOptionValue(b"--timeout=0"))),
            (&[b"--timeout", b"unix/x", b"22"], Err(CliProblem::UnknownOption(b"--timeout"))),
            (&[b"--timeout=4294967296", b"unix/x", b"22"], Err(CliProblem::BadOptionValue(b"--timeout=4294967296"))),
            (&[b"--waitx", b"unix/x", b"22"], Err(CliProblem::UnknownOption(b"--waitx"))),
            (&[b"--help"], Ok(Command::Print(Print::Help))),
            (&[b"-h"], Ok(Command::Print(Print::Help))),
            (&[b"--version"], Ok(Command::Print(Print::Version))),
            (&[b"--version", b"--help"], Ok(Command::Print(Print::Help))),
            (&[b"--help", b"--version"], Ok(Command::Print(Print::Help))),
            (&[b"--print-ssh-config"], Ok(Command::Print(Print::SshConfig))),
            (&[b"--print-ssh-config", b"--help"], Ok(Command::Print(Print::Help))),
            (&[b"--help", b"unix/x", b"22"], Ok(Command::Print(Print::Help))),
            (&[b"--version", b"a", b"b", b"c"], Ok(Command::Print(Print::Version))),
            (&[], Err(CliProblem::ArgumentCount)),
            (&[b"unix/x"], Err(CliProblem::ArgumentCount)),
            (&[b"unix/x", b"22", b"extra"], Err(CliProblem::ArgumentCount)),
            (&[b"--"], Err(CliProblem::ArgumentCount)),
            (&[b"--frob", b"unix/x", b"22"], Err(CliProblem::UnknownOption(b"--frob"))),
            (&[b"-", b"22"], Err(CliProblem::UnknownOption(b"-"))),
            (&[b"--help=yes"], Err(CliProblem::UnknownOption(b"--help=yes"))),
            // Arguments after HOST are positional even when they look like options.
            (&[b"vsock/3", b"-1"], Ok(Command::Connect { host: b"vsock/3", port: b"-1", options: Options::default() })),
            (
                &[b"unix/x", b"--help"],
                Ok(Command::Connect { host: b"unix/x", port: b"--help", options: Options::default() }),
            ),
            (
                &[b"--", b"--help", b"22"],
                Ok(Command::Connect { host: b"--help", port: b"22", options: Options::default() }),
            ),
        ];
        for (args, expected) in cases {
            assert_eq!(&parse(args), expected, "args {args:?}");
        }
    }

    #[test]
    fn messages() {
        let message = |problem: CliProblem| crate::line::render(|line| problem.describe(line));
        assert_eq!(message(CliProblem::ArgumentCount), "Expected two arguments: host and port.\n");
        assert_eq!(message(CliProblem::UnknownOption(b"--frob")), "Unknown option: --frob (see --help)\n");
        assert_eq!(
            message(CliProblem::BadOptionValue(b"--wait=x")),
            "Invalid value in option: --wait=x (a number of seconds)\n"
        );
    }

    #[test]
    fn version_names_the_package() {
        assert_eq!(VERSION, format!("ssh-sockproxy {}\n", env!("CARGO_PKG_VERSION")).as_bytes());
    }
}
