//! ssh-sockserve's command line: `[OPTIONS] LISTEN... -- COMMAND [ARG...]`.

use crate::line::Line;
use crate::number::{parse_octal, parse_u32};
use crate::serve::connection::MAX_CONNECTIONS_LIMIT;
use crate::serve::listen::{Listen, ListenProblem, parse_listen};

/// The most LISTEN addresses one server takes.
pub const MAX_LISTEN: usize = 16;

/// `--max-connections` without the option, systemd's MaxConnections=.
pub const DEFAULT_MAX_CONNECTIONS: u32 = 64;

/// `--mode` without the option, systemd's SocketMode=: sshd authenticates.
pub const DEFAULT_MODE: u32 = 0o666;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Options {
    /// A line per connection, and the notes of late listeners.
    pub verbose: bool,
    pub max_connections: u32,
    /// Permissions of the AF_UNIX socket files created.
    pub mode: u32,
}

impl Default for Options {
    fn default() -> Self {
        Self { verbose: false, max_connections: DEFAULT_MAX_CONNECTIONS, mode: DEFAULT_MODE }
    }
}

/// The commands that print a text and exit.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Print {
    Help,
    Version,
}

/// What to serve: the listeners and the command each connection runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Serve<'a> {
    pub options: Options,
    /// The first `listen_count` are the LISTEN values, in order.
    pub listens: [Option<Listen<'a>>; MAX_LISTEN],
    /// COMMAND, and its index among the arguments parsed (ARGs follow it).
    pub command: &'a [u8],
    pub command_at: usize,
}

impl<'a> Serve<'a> {
    pub fn listens(&self) -> impl Iterator<Item = &Listen<'a>> {
        self.listens.iter().map_while(Option::as_ref)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[expect(clippy::large_enum_variant, reason = "no allocator to box Serve into (see clippy.toml)")]
pub enum Command<'a> {
    Print(Print),
    Serve(Serve<'a>),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UsageProblem<'a> {
    UnknownOption(&'a [u8]),
    BadMaxConnections(&'a [u8]),
    BadMode(&'a [u8]),
    NoListen,
    NoSeparator,
    NoCommand,
    Listen(ListenProblem<'a>),
}

impl UsageProblem<'_> {
    pub fn describe(&self, line: &mut Line) {
        match *self {
            Self::UnknownOption(option) => {
                line.text(b"Unknown option: ").quoted(option).text(b" (see --help)");
            }
            Self::BadMaxConnections(option) => {
                line.text(b"Invalid value in option: ").quoted(option);
                line.text(b" (a number of connections, 1 to ").number(MAX_CONNECTIONS_LIMIT).text(b")");
            }
            Self::BadMode(option) => {
                line.text(b"Invalid value in option: ").quoted(option).text(b" (an octal mode, 0 to 0777)");
            }
            Self::NoListen => {
                line.text(b"Expected at least one LISTEN address before -- (see --help).");
            }
            Self::NoSeparator => {
                line.text(b"Expected -- and the command to run after the LISTEN addresses (see --help).");
            }
            Self::NoCommand => {
                line.text(b"Expected the command to run after -- (see --help).");
            }
            Self::Listen(ref problem) => problem.describe(line),
        }
    }
}

impl<'a> From<ListenProblem<'a>> for UsageProblem<'a> {
    fn from(problem: ListenProblem<'a>) -> Self {
        Self::Listen(problem)
    }
}

/// The value of `--name=VALUE`.
fn value<'a>(arg: &'a [u8], name: &[u8]) -> Option<&'a [u8]> {
    arg.strip_prefix(name)?.strip_prefix(b"=")
}

/// Parses the arguments after argv[0]. Before `--`, an argument that starts
/// with `-` is an option (no LISTEN value does) and any other a LISTEN
/// value; COMMAND and its arguments follow `--`. `--help` and `--version`
/// need neither.
pub fn parse_command<'a>(args: impl IntoIterator<Item = &'a [u8]>) -> Result<Command<'a>, UsageProblem<'a>> {
    let mut args = args.into_iter().enumerate();
    let mut options = Options::default();
    let mut listens = [None; MAX_LISTEN];
    let mut count = 0;
    let mut wanted = None;
    let mut separated = false;
    for (_, arg) in args.by_ref() {
        if arg == b"--" {
            separated = true;
            break;
        } else if !arg.starts_with(b"-") {
            let listen = parse_listen(arg)?;
            if listens.iter().flatten().any(|seen: &Listen| seen.address == listen.address) {
                return Err(ListenProblem::Duplicate(arg).into());
            }
            *listens.get_mut(count).ok_or(ListenProblem::TooMany(MAX_LISTEN))? = Some(listen);
            // Below MAX_LISTEN: no wrap.
            count = count.wrapping_add(1);
        } else if arg == b"-h" || arg == b"--help" {
            wanted = Some(Print::Help);
        } else if arg == b"--version" {
            wanted = wanted.or(Some(Print::Version));
        } else if arg == b"-v" || arg == b"--verbose" {
            options.verbose = true;
        } else if let Some(text) = value(arg, b"--max-connections") {
            options.max_connections = parse_u32(text)
                .filter(|&n| (1..=MAX_CONNECTIONS_LIMIT).contains(&n))
                .ok_or(UsageProblem::BadMaxConnections(arg))?;
        } else if let Some(text) = value(arg, b"--mode") {
            options.mode = parse_octal(text).filter(|&mode| mode <= 0o777).ok_or(UsageProblem::BadMode(arg))?;
        } else {
            return Err(UsageProblem::UnknownOption(arg));
        }
    }
    if let Some(print) = wanted {
        return Ok(Command::Print(print));
    }
    if count == 0 {
        return Err(UsageProblem::NoListen);
    }
    if !separated {
        return Err(UsageProblem::NoSeparator);
    }
    let (command_at, command) = args.next().ok_or(UsageProblem::NoCommand)?;
    Ok(Command::Serve(Serve { options, listens, command, command_at }))
}

/// `--version` text.
pub const VERSION: &[u8] = concat!("ssh-sockserve ", env!("CARGO_PKG_VERSION"), "\n").as_bytes();

#[cfg(test)]
mod tests {
    use super::*;
    use crate::serve::listen::ListenAddress;

    fn parse<'a>(args: &[&'a [u8]]) -> Result<Command<'a>, UsageProblem<'a>> {
        parse_command(args.iter().copied())
    }

    fn serve<'a>(args: &[&'a [u8]]) -> Serve<'a> {
        match parse(args) {
            Ok(Command::Serve(serve)) => serve,
            other => panic!("{args:?}: {other:?}"),
        }
    }

    #[test]
    fn serves_listens_then_command() {
        let args: &[&[u8]] = &[b"vsock::22", b"/run/ssh", b"--", b"/usr/sbin/sshd", b"-i", b"--", b"-e"];
        let parsed = serve(args);
        assert_eq!(parsed.options, Options::default());
        let texts: Vec<&[u8]> = parsed.listens().map(|l| l.text).collect();
        assert_eq!(texts, [&b"vsock::22"[..], b"/run/ssh"]);
        assert_eq!((parsed.command, parsed.command_at), (&b"/usr/sbin/sshd"[..], 3));
        assert_eq!(parsed.listens().nth(1).map(|l| l.address), Some(ListenAddress::Path(b"/run/ssh")));
    }

    #[test]
    fn options_anywhere_before_the_separator() {
        let parsed = serve(&[b"-v", b"@a", b"--max-connections=3", b"@b", b"--mode=0600", b"--", b"cat"]);
        assert_eq!(parsed.options, Options { verbose: true, max_connections: 3, mode: 0o600 });
        assert_eq!(parsed.listens().count(), 2);
        assert_eq!(parsed.command_at, 6);
        let parsed = serve(&[b"--verbose", b"--mode=666", b"--max-connections=4096", b"@a", b"--", b"-x"]);
        assert_eq!(parsed.options, Options { verbose: true, max_connections: 4096, mode: 0o666 });
        assert_eq!(parsed.command, b"-x");
        assert_eq!(serve(&[b"--mode=0", b"@a", b"--", b"x"]).options.mode, 0);
    }

    #[test]
    fn usage_problems() {
        let seventeen: Vec<Vec<u8>> = (0..17).map(|n| format!("@{n}").into_bytes()).collect();
        let mut too_many: Vec<&[u8]> = seventeen.iter().map(Vec::as_slice).collect();
        too_many.extend([&b"--"[..], b"x"]);
        let cases: &[(&[&[u8]], UsageProblem)] = &[
            (&[], UsageProblem::NoListen),
            (&[b"--"], UsageProblem::NoListen),
            (&[b"--", b"sshd"], UsageProblem::NoListen),
            (&[b"-v", b"--", b"@a", b"--", b"sshd"], UsageProblem::NoListen),
            (&[b"@a"], UsageProblem::NoSeparator),
            (&[b"@a", b"sshd"], UsageProblem::Listen(ListenProblem::Unsupported(b"sshd"))),
            (&[b"@a", b"--"], UsageProblem::NoCommand),
            (&[b"-x", b"@a", b"--", b"y"], UsageProblem::UnknownOption(b"-x")),
            (&[b"-vv", b"@a", b"--", b"y"], UsageProblem::UnknownOption(b"-vv")),
            (&[b"-", b"@a", b"--", b"y"], UsageProblem::UnknownOption(b"-")),
            (&[b"--max-connections", b"@a", b"--", b"y"], UsageProblem::UnknownOption(b"--max-connections")),
            (&[b"--mode", b"@a", b"--", b"y"], UsageProblem::UnknownOption(b"--mode")),
            (&[b"--help=1"], UsageProblem::UnknownOption(b"--help=1")),
            (&[b"--max-connections=0", b"@a"], UsageProblem::BadMaxConnections(b"--max-connections=0")),
            (&[b"--max-connections=4097", b"@a"], UsageProblem::BadMaxConnections(b"--max-connections=4097")),
            (&[b"--max-connections=", b"@a"], UsageProblem::BadMaxConnections(b"--max-connections=")),
            (&[b"--max-connections=-1", b"@a"], UsageProblem::BadMaxConnections(b"--max-connections=-1")),
            (&[b"--mode=0800"], UsageProblem::BadMode(b"--mode=0800")),
            (&[b"--mode=1777"], UsageProblem::BadMode(b"--mode=1777")),
            (&[b"--mode=rw"], UsageProblem::BadMode(b"--mode=rw")),
            (&[b"--mode="], UsageProblem::BadMode(b"--mode=")),
            (&[b"@a", b"@a", b"--", b"x"], UsageProblem::Listen(ListenProblem::Duplicate(b"@a"))),
            (
                &[b"vsock::22", b"vsock:any:22", b"--", b"x"],
                UsageProblem::Listen(ListenProblem::Duplicate(b"vsock:any:22")),
            ),
            (&too_many, UsageProblem::Listen(ListenProblem::TooMany(16))),
        ];
        for (args, expected) in cases {
            assert_eq!(parse(args), Err(*expected), "{args:?}");
        }
    }

    #[test]
    fn print_commands() {
        assert_eq!(parse(&[b"--help"]), Ok(Command::Print(Print::Help)));
        assert_eq!(parse(&[b"-h"]), Ok(Command::Print(Print::Help)));
        assert_eq!(parse(&[b"--version"]), Ok(Command::Print(Print::Version)));
        assert_eq!(parse(&[b"--version", b"--help"]), Ok(Command::Print(Print::Help)));
        assert_eq!(parse(&[b"@a", b"--help", b"--", b"x"]), Ok(Command::Print(Print::Help)));
        // After --, --help belongs to COMMAND.
        assert!(matches!(parse(&[b"@a", b"--", b"x", b"--help"]), Ok(Command::Serve(_))));
    }

    #[test]
    fn messages() {
        let message = |problem: UsageProblem| crate::line::render(|line| problem.describe(line));
        let cases: &[(UsageProblem, &str)] = &[
            (UsageProblem::UnknownOption(b"--frob"), "Unknown option: --frob (see --help)\n"),
            (
                UsageProblem::BadMaxConnections(b"--max-connections=0"),
                "Invalid value in option: --max-connections=0 (a number of connections, 1 to 4096)\n",
            ),
            (UsageProblem::BadMode(b"--mode=9"), "Invalid value in option: --mode=9 (an octal mode, 0 to 0777)\n"),
            (UsageProblem::NoListen, "Expected at least one LISTEN address before -- (see --help).\n"),
            (
                UsageProblem::NoSeparator,
                "Expected -- and the command to run after the LISTEN addresses (see --help).\n",
            ),
            (UsageProblem::NoCommand, "Expected the command to run after -- (see --help).\n"),
            (UsageProblem::Listen(ListenProblem::NameEmpty), "Abstract AF_UNIX socket name is empty.\n"),
        ];
        for (problem, expected) in cases {
            assert_eq!(message(*problem), *expected);
        }
        assert_eq!(VERSION, format!("ssh-sockserve {}\n", env!("CARGO_PKG_VERSION")).as_bytes());
    }
}
