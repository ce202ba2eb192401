//! ssh-sockproxy(1): lint-free roff that `man -l` renders, in step with --help and --print-ssh-config.

use std::process::Command;

use super::{both, print_ssh_config, read, repo, require_tool, run, run_quietly};
use crate::support::bin;

const PAGE: &str = "src/dist/ssh-sockproxy.1";

/// The page as `man -l` shows it on an 80-column terminal, without formatting.
fn rendered() -> String {
    require_tool("man", "man-db");
    let mut command = Command::new("man");
    command
        .arg("-l")
        .arg(repo().join(PAGE))
        .env("MANWIDTH", "80")
        .env("MANPAGER", "cat")
        .env("PAGER", "cat")
        .env_remove("MAN_KEEP_FORMATTING")
        .env("LC_ALL", "C.UTF-8");
    run_quietly(command)
}

/// The lines of section `name` in the rendered page, up to the next heading.
fn section(page: &str, name: &str) -> Vec<String> {
    let mut lines = page.lines().skip_while(|line| *line != name);
    assert!(lines.next().is_some(), "no section {name}:\n{page}");
    lines.take_while(|line| !is_heading(line)).map(str::to_owned).collect()
}

fn is_heading(line: &str) -> bool {
    line.starts_with(|c: char| c.is_ascii_uppercase())
}

fn help() -> String {
    let mut command = Command::new(bin());
    command.arg("--help");
    run_quietly(command)
}

#[test]
fn groff_finds_nothing_to_warn_about() {
    require_tool("groff", "groff-base");
    let mut command = Command::new("groff");
    command.args(["-ww", "-z", "-man"]).arg(repo().join(PAGE));
    let output = run(command);
    let quiet = output.status.success() && output.stderr.is_empty();
    assert!(quiet, "groff -ww -z -man {PAGE}: {}\n{}", output.status, both(&output));
}

#[test]
fn man_renders_every_section() {
    let page = rendered();
    let headings: Vec<&str> = page.lines().filter(|line| is_heading(line)).collect();
    assert!(headings[0].starts_with("SSH-SOCKPROXY(1)"), "{}", headings[0]);
    assert_eq!(
        headings[1..],
        [
            "NAME",
            "SYNOPSIS",
            "DESCRIPTION",
            "TARGETS",
            "OPTIONS",
            "ENVIRONMENT",
            "SSH_CONFIG",
            "EXIT STATUS",
            "EXAMPLES",
            "FILES",
            "DIFFERENCES FROM UPSTREAM",
            "SEE ALSO"
        ]
    );
    let footer = page.lines().rev().find(|line| !line.is_empty()).unwrap();
    let version = format!("ssh-sockproxy {}", env!("CARGO_PKG_VERSION"));
    assert!(footer.starts_with(&version), "footer lacks {version}: {footer}");
}

#[test]
fn man_covers_every_option_and_target_of_help() {
    let page = rendered();
    let help = help();
    let options =
        help.split("\nOptions:\n").nth(1).and_then(|rest| rest.split("\n\n").next()).expect("Options in --help");
    // The option's name: `--wait[=SECONDS]` and `--wait[=seconds]` are both `--wait`.
    let name = |word: &str| word.split(['[', '=']).next().unwrap().to_owned();
    let flags: Vec<String> =
        options.split(|c: char| c.is_whitespace() || c == ',').filter(|word| word.starts_with('-')).map(name).collect();
    assert!(flags.len() >= 5, "{flags:?}");
    let tags = |name: &str| -> Vec<String> {
        section(&page, name)
            .iter()
            .filter_map(|line| line.strip_prefix("       "))
            .filter(|line| !line.starts_with(' '))
            .map(|line| line.split("  ").next().unwrap().to_owned())
            .collect()
    };
    let option_tags = tags("OPTIONS").join(", ");
    for flag in flags {
        assert!(
            option_tags.split(", ").any(|tag| name(tag) == flag),
            "OPTIONS of {PAGE} lacks {flag} from --help: {option_tags}"
        );
    }
    let targets =
        help.split("HOST is one of\n").nth(1).and_then(|rest| rest.split("\n'%'").next()).expect("targets in --help");
    let target_tags = tags("TARGETS");
    for line in targets.lines().filter(|line| line.starts_with("  ") && !line.starts_with("   ")) {
        // --help writes metavariables in capitals, the page in italics.
        let target = line.split_whitespace().next().unwrap().to_lowercase();
        assert!(target_tags.contains(&target), "TARGETS of {PAGE} lacks {target} from --help: {target_tags:?}");
    }
}

#[test]
fn man_shows_the_fragment_that_is_installed() {
    let source = read(&repo().join(PAGE));
    let after = source.split("\n.SH SSH_CONFIG\n").nth(1).expect("SSH_CONFIG section");
    let example = after.split("\n.EX\n").nth(1).and_then(|rest| rest.split("\n.EE\n").next()).expect(".EX block");
    let fragment = print_ssh_config(bin().as_ref()).replace(bin(), "/usr/local/bin/ssh-sockproxy");
    let without_comment = fragment.split_once('\n').unwrap().1;
    assert_eq!(format!("{}\n", example.replace("\\-", "-")), without_comment);
}
