//! Command line: options first, then exactly HOST and PORT.

use crate::failure::Failure;

/// What the command line asks for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Command<'a> {
    Help,
    Version,
    PrintSshConfig,
    Connect { host: &'a [u8], port: &'a [u8], options: Options },
}

/// Options that change how a connection is made; all off by default, so
/// that `%h %p` alone behaves like upstream.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Options {
    /// Say on stderr what happened where upstream stays silent.
    pub verbose: bool,
}

/// Parses the arguments after argv[0]. Options end at the first argument that
/// does not start with `-`, or after `--`.
pub fn parse_command<'a>(args: impl IntoIterator<Item = &'a [u8]>) -> Result<Command<'a>, Failure<'a>> {
    let mut args = args.into_iter().peekable();
    let mut wanted = None;
    let mut options = Options::default();
    while let Some(&arg) = args.peek() {
        if !arg.starts_with(b"-") {
            break;
        }
        args.next();
        match arg {
            b"--" => break,
            b"-h" | b"--help" => wanted = Some(Command::Help),
            b"--version" => wanted = wanted.or(Some(Command::Version)),
            b"--print-ssh-config" => wanted = wanted.or(Some(Command::PrintSshConfig)),
            b"-v" | b"--verbose" => options.verbose = true,
            _ => return Err(Failure::UnknownOption(arg)),
        }
    }
    if let Some(command) = wanted {
        return Ok(command);
    }
    match (args.next(), args.next(), args.next()) {
        (Some(host), Some(port), None) => Ok(Command::Connect { host, port, options }),
        _ => Err(Failure::ArgumentCount),
    }
}

/// `--help` text.
pub const HELP: &[u8] = b"\
Usage: ssh-sockproxy [OPTIONS] HOST PORT

OpenSSH ProxyCommand plugin: connects to HOST and hands the connected socket
to ssh (ProxyUseFdpass). HOST is one of
  unix/PATH       AF_UNIX stream socket (PATH without a leading / or ./ gets one)
  unix/@NAME      abstract AF_UNIX socket
  vsock/CID       AF_VSOCK, CID a number or hypervisor, local, host; PORT used
  vsock-mux/PATH  hybrid vsock (Firecracker, cloud-hypervisor): AF_UNIX PATH,
                  then CONNECT PORT
  .host           the local sshd at /run/ssh-unix-local/socket
'%' may stand for the first '/' (unix%PATH), for scp and rsync.

Options:
  -v, --verbose   say on stderr what upstream does silently
  -h, --help      show this help
      --version   show the version
      --print-ssh-config
                  print the ssh_config fragment for this binary's path

ssh_config:
  Host unix/* unix%* vsock/* vsock%* vsock-mux/* vsock-mux%*
      ProxyCommand /usr/local/bin/ssh-sockproxy %h %p
      ProxyUseFdpass yes
      CheckHostIP no
  Host .host
      ProxyCommand /usr/local/bin/ssh-sockproxy unix/run/ssh-unix-local/socket %p
      ProxyUseFdpass yes
      CheckHostIP no
";

/// `--version` text.
pub const VERSION: &[u8] = concat!("ssh-sockproxy ", env!("CARGO_PKG_VERSION"), "\n").as_bytes();

#[cfg(test)]
mod tests {
    use super::*;

    fn parse<'a>(args: &[&'a [u8]]) -> Result<Command<'a>, Failure<'a>> {
        parse_command(args.iter().copied())
    }

    #[test]
    fn command_lines() {
        let connect = Command::Connect { host: b"unix/x", port: b"22", options: Options::default() };
        let verbose = Command::Connect { host: b"unix/x", port: b"22", options: Options { verbose: true } };
        let cases: &[(&[&[u8]], Result<Command, Failure>)] = &[
            (&[b"unix/x", b"22"], Ok(connect)),
            (&[b"--", b"unix/x", b"22"], Ok(connect)),
            (&[b"-v", b"unix/x", b"22"], Ok(verbose)),
            (&[b"--verbose", b"--", b"unix/x", b"22"], Ok(verbose)),
            (&[b"-v", b"-v", b"unix/x", b"22"], Ok(verbose)),
            (&[b"-vv", b"unix/x", b"22"], Err(Failure::UnknownOption(b"-vv"))),
            (&[b"--help"], Ok(Command::Help)),
            (&[b"-h"], Ok(Command::Help)),
            (&[b"--version"], Ok(Command::Version)),
            (&[b"--version", b"--help"], Ok(Command::Help)),
            (&[b"--help", b"--version"], Ok(Command::Help)),
            (&[b"--print-ssh-config"], Ok(Command::PrintSshConfig)),
            (&[b"--print-ssh-config", b"--help"], Ok(Command::Help)),
            (&[b"--help", b"unix/x", b"22"], Ok(Command::Help)),
            (&[b"--version", b"a", b"b", b"c"], Ok(Command::Version)),
            (&[], Err(Failure::ArgumentCount)),
            (&[b"unix/x"], Err(Failure::ArgumentCount)),
            (&[b"unix/x", b"22", b"extra"], Err(Failure::ArgumentCount)),
            (&[b"--"], Err(Failure::ArgumentCount)),
            (&[b"--frob", b"unix/x", b"22"], Err(Failure::UnknownOption(b"--frob"))),
            (&[b"-", b"22"], Err(Failure::UnknownOption(b"-"))),
            (&[b"--help=yes"], Err(Failure::UnknownOption(b"--help=yes"))),
            // Arguments after HOST are positional even when they look like options.
            (&[b"vsock/3", b"-1"], Ok(Command::Connect { host: b"vsock/3", port: b"-1", options: Options::default() })),
            (&[b"unix/x", b"--help"], Ok(Command::Connect { host: b"unix/x", port: b"--help", options: Options::default() })),
            (&[b"--", b"--help", b"22"], Ok(Command::Connect { host: b"--help", port: b"22", options: Options::default() })),
        ];
        for (args, expected) in cases {
            assert_eq!(&parse(args), expected, "args {args:?}");
        }
    }

    #[test]
    fn version_names_the_package() {
        assert_eq!(VERSION, format!("ssh-sockproxy {}\n", env!("CARGO_PKG_VERSION")).as_bytes());
    }
}
