//! ssh-sockproxy(1) and ssh-sockserve(1): lint-free roff that `man -l` renders, in step with --help
//! and --print-ssh-config.

use std::process::Command;

use super::{both, print_ssh_config, read, repo, require_tool, run, run_quietly};
use crate::serve::serve_bin;
use crate::support::bin;

const PAGE: &str = "src/dist/ssh-sockproxy.1";
const SERVE_PAGE: &str = "src/dist/ssh-sockserve.1";

/// The proxy's page as `man -l` shows it on an 80-column terminal, without formatting.
fn rendered() -> String {
    rendered_page(PAGE)
}

fn rendered_page(page: &str) -> String {
    require_tool("man", "man-db");
    let mut command = Command::new("man");
    command
        .arg("-l")
        .arg(repo().join(page))
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
    help_of(bin())
}

fn help_of(binary: &str) -> String {
    let mut command = Command::new(binary);
    command.arg("--help");
    run_quietly(command)
}

#[test]
fn groff_finds_nothing_to_warn_about() {
    require_tool("groff", "groff-base");
    for page in [PAGE, SERVE_PAGE] {
        let mut command = Command::new("groff");
        command.args(["-ww", "-z", "-man"]).arg(repo().join(page));
        let output = run(command);
        let quiet = output.status.success() && output.stderr.is_empty();
        assert!(quiet, "groff -ww -z -man {page}: {}\n{}", output.status, both(&output));
    }
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

/// The tags of section `name`: the start of each line indented by seven
/// spaces exactly, up to two spaces.
fn tags(page: &str, name: &str) -> Vec<String> {
    section(page, name)
        .iter()
        .filter_map(|line| line.strip_prefix("       "))
        .filter(|line| !line.starts_with(' '))
        .map(|line| line.split("  ").next().unwrap().to_owned())
        .collect()
}

/// The option's name: `--wait[=SECONDS]` and `--wait[=seconds]` are both `--wait`.
fn option_name(word: &str) -> String {
    word.split(['[', '=']).next().unwrap().to_owned()
}

/// Asserts that OPTIONS of `page` (rendered) has every option of `help`.
#[track_caller]
fn assert_options_covered(page_name: &str, page: &str, help: &str) {
    let options =
        help.split("\nOptions:\n").nth(1).and_then(|rest| rest.split("\n\n").next()).expect("Options in --help");
    let flags: Vec<String> = options
        .split(|c: char| c.is_whitespace() || c == ',')
        .filter(|word| word.starts_with('-'))
        .map(option_name)
        .collect();
    assert!(flags.len() >= 5, "{flags:?}");
    let option_tags = tags(page, "OPTIONS").join(", ");
    for flag in flags {
        assert!(
            option_tags.split(", ").any(|tag| option_name(tag) == flag),
            "OPTIONS of {page_name} lacks {flag} from --help: {option_tags}"
        );
    }
}

#[test]
fn man_covers_every_option_and_target_of_help() {
    let page = rendered();
    let help = help();
    assert_options_covered(PAGE, &page, &help);
    let targets =
        help.split("HOST is one of\n").nth(1).and_then(|rest| rest.split("\n'%'").next()).expect("targets in --help");
    let target_tags = tags(&page, "TARGETS");
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

#[test]
fn the_server_page_renders_every_section() {
    let page = rendered_page(SERVE_PAGE);
    let headings: Vec<&str> = page.lines().filter(|line| is_heading(line)).collect();
    assert!(headings[0].starts_with("SSH-SOCKSERVE(1)"), "{}", headings[0]);
    assert_eq!(
        headings[1..],
        [
            "NAME",
            "SYNOPSIS",
            "DESCRIPTION",
            "LISTEN ADDRESSES",
            "OPTIONS",
            "ENVIRONMENT",
            "SIGNALS",
            "EXIT STATUS",
            "EXAMPLES",
            "SEE ALSO"
        ]
    );
    let footer = page.lines().rev().find(|line| !line.is_empty()).unwrap();
    let version = format!("ssh-sockproxy {}", env!("CARGO_PKG_VERSION"));
    assert!(footer.starts_with(&version), "footer lacks {version}: {footer}");
}

#[test]
fn the_server_page_covers_every_option_and_address_of_help() {
    let page = rendered_page(SERVE_PAGE);
    let help = help_of(serve_bin());
    assert_options_covered(SERVE_PAGE, &page, &help);
    let listens = help
        .split("LISTEN is one of (systemd's ListenStream=)\n")
        .nth(1)
        .and_then(|rest| rest.split("\n\n").next())
        .expect("LISTEN forms in --help");
    let listen_tags = tags(&page, "LISTEN ADDRESSES");
    let forms: Vec<String> = listens
        .lines()
        .filter(|line| line.starts_with("  ") && !line.starts_with("   "))
        .map(|line| line.split_whitespace().next().unwrap().to_lowercase())
        .collect();
    assert_eq!(forms.len(), 4, "{listens}");
    // --help writes metavariables in capitals, the page in italics.
    for form in forms {
        assert!(listen_tags.contains(&form), "LISTEN ADDRESSES of {SERVE_PAGE} lacks {form}: {listen_tags:?}");
    }
}
