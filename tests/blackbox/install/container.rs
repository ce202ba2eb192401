//! src/dist/Containerfile builds, with buildah, a scratch image of a `make install` tree where the binary runs.

use std::path::Path;
use std::process::Command;

use sockproxy_test_common::TempDir;

use super::{files, make, read, repo, require_tool, run_quietly};

/// buildah with its image store inside `dir`, not the machine's.
fn buildah(dir: &Path, args: &[&str]) -> String {
    let mut command = Command::new("buildah");
    command
        .arg("--root")
        .arg(dir.join("storage"))
        .arg("--runroot")
        .arg(dir.join("runroot"))
        .args(["--storage-driver", "vfs"])
        .args(args);
    run_quietly(command)
}

#[test]
fn containerfile_builds_a_scratch_image_that_runs() {
    require_tool("buildah", "buildah");
    let dir = TempDir::new();
    // The build context the Containerfile's comment asks for.
    let context = dir.join("image");
    make(&["install", &format!("DESTDIR={}", context.display()), "PREFIX=/usr"]);
    let containerfile = repo().join("src/dist/Containerfile");
    let (containerfile, context) = (containerfile.to_str().unwrap(), context.to_str().unwrap());
    buildah(
        dir.path(),
        &["build", "-q", "--isolation", "chroot", "-t", "sockproxy-test", "-f", containerfile, context],
    );
    let config = "{{.OCIv1.Config.Entrypoint}} {{.OCIv1.Config.Cmd}}";
    assert_eq!(
        buildah(dir.path(), &["inspect", "--type", "image", "--format", config, "sockproxy-test"]),
        "[/usr/bin/ssh-sockproxy] [--help]"
    );

    let container = buildah(dir.path(), &["from", "-q", "sockproxy-test"]);
    let container = container.trim();
    let root = buildah(dir.path(), &["mount", container]);
    let root = Path::new(root.trim());
    assert_eq!(
        files(root),
        ["etc/ssh/ssh_config.d/20-ssh-sockproxy.conf 644", "usr/bin/ssh-sockproxy 755", "usr/sbin/ssh-sockserve 755"]
    );
    let dropin = read(&root.join("etc/ssh/ssh_config.d/20-ssh-sockproxy.conf"));
    assert!(dropin.contains("    ProxyCommand /usr/bin/ssh-sockproxy %h %p\n"), "{dropin}");

    let in_image = |args: &[&str]| {
        let run = ["run", "--isolation", "chroot", container, "--", "/usr/bin/ssh-sockproxy"];
        buildah(dir.path(), &[&run, args].concat())
    };
    assert!(in_image(&["--help"]).starts_with("Usage: ssh-sockproxy [OPTIONS] HOST PORT\n"));
    assert_eq!(in_image(&["--version"]), format!("ssh-sockproxy {}\n", env!("CARGO_PKG_VERSION")));
    assert_eq!(in_image(&["--print-ssh-config"]), dropin);
    let run = ["run", "--isolation", "chroot", container, "--", "/usr/sbin/ssh-sockserve", "--version"];
    assert_eq!(buildah(dir.path(), &run), format!("ssh-sockserve {}\n", env!("CARGO_PKG_VERSION")));

    buildah(dir.path(), &["rm", container]);
    buildah(dir.path(), &["rmi", "sockproxy-test"]);
}
