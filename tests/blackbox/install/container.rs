//! src/dist/Containerfile builds, with buildah, a multi-architecture scratch image of a `make dist` tree: each
//! platform's image holds that architecture's binary, and the build host's runs.

use std::path::Path;
use std::process::Command;

use sockproxy_test_common::TempDir;

use super::{files, make, read, repo, require_tool, run_quietly};
use crate::support::bin;

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

/// Each platform of the image and the architecture whose `make dist` binary it holds.
const PLATFORMS: [(&str, &str); 4] =
    [("linux/amd64", "x86_64"), ("linux/arm64", "aarch64"), ("linux/riscv64", "riscv64"), ("linux/arm/v7", "armv7")];

#[test]
fn containerfile_builds_a_multi_arch_scratch_image_from_dist() {
    require_tool("buildah", "buildah");
    let dir = TempDir::new();
    // The build context the Containerfile's comment asks for (make test has built every architecture).
    let context = dir.join("dist");
    make(&["dist", &format!("DIST={}", context.display())]);
    let binary =
        |arch: &str| std::fs::read(context.join(format!("ssh-sockproxy-{}-{arch}", env!("CARGO_PKG_VERSION"))));
    assert_eq!(binary("x86_64").unwrap(), std::fs::read(bin()).unwrap(), "dist's x86-64 binary is the one under test");

    let containerfile = repo().join("src/dist/Containerfile");
    let (containerfile, context) = (containerfile.to_str().unwrap(), context.to_str().unwrap());
    let platforms = PLATFORMS.map(|(platform, _)| platform).join(",");
    let build = ["build", "-q", "--isolation", "chroot", "--platform", &platforms, "--manifest", "sockproxy-test"];
    buildah(dir.path(), &[&build[..], &["-f", containerfile, context]].concat());

    let dropin = read(&Path::new(context).join("20-ssh-sockproxy.conf"));
    assert!(dropin.contains("    ProxyCommand /usr/bin/ssh-sockproxy %n %p\n"), "{dropin}");
    for (platform, arch) in PLATFORMS {
        let container = buildah(dir.path(), &["from", "-q", "--platform", platform, "sockproxy-test"]);
        let container = container.trim();
        let root = buildah(dir.path(), &["mount", container]);
        let root = Path::new(root.trim());
        let what = format!("the {platform} image");
        assert_eq!(
            files(root),
            [
                "etc/ssh/ssh_config.d/20-ssh-sockproxy.conf 644",
                "usr/bin/ssh-sockproxy 755",
                "usr/sbin/ssh-sockserve 755"
            ],
            "{what}"
        );
        assert!(std::fs::read(root.join("usr/bin/ssh-sockproxy")).unwrap() == binary(arch).unwrap(), "{what}'s binary");
        assert_eq!(read(&root.join("etc/ssh/ssh_config.d/20-ssh-sockproxy.conf")), dropin, "{what}'s drop-in");
        if arch == "x86_64" {
            let config = "{{.OCIv1.Config.Entrypoint}} {{.OCIv1.Config.Cmd}}";
            let image = buildah(dir.path(), &["inspect", "--type", "container", "--format", config, container]);
            assert_eq!(image, "[/usr/bin/ssh-sockproxy] [--help]");
            let in_image = |args: &[&str]| {
                let run = ["run", "--isolation", "chroot", container, "--", "/usr/bin/ssh-sockproxy"];
                buildah(dir.path(), &[&run, args].concat())
            };
            assert!(in_image(&["--help"]).starts_with("Usage: ssh-sockproxy [OPTIONS] HOST PORT\n"));
            assert_eq!(in_image(&["--version"]), format!("ssh-sockproxy {}\n", env!("CARGO_PKG_VERSION")));
            assert_eq!(in_image(&["--print-ssh-config"]), dropin);
            let run = ["run", "--isolation", "chroot", container, "--", "/usr/sbin/ssh-sockserve", "--version"];
            assert_eq!(buildah(dir.path(), &run), format!("ssh-sockserve {}\n", env!("CARGO_PKG_VERSION")));
        }
        buildah(dir.path(), &["rm", container]);
    }
    buildah(dir.path(), &["manifest", "rm", "sockproxy-test"]);
}
