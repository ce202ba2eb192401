//! The dracut modules (each added only on request) build into a real initramfs that runs the binaries; the
//! mkinitcpio hooks add the same files.

use std::fs;
use std::os::unix::fs::symlink;
use std::path::{Path, PathBuf};
use std::process::Command;

use sockproxy_test_common::TempDir;

use super::{make, read, require_tool, run_quietly};

/// dracut's own files; the test builds with them plus our module.
const DRACUT_BASE: &str = "/usr/lib/dracut";

/// A dracut base directory of symlinks to the system's, whose modules.d the
/// module can be installed into (dracut reads modules only from there).
fn dracut_base(dir: &Path) -> std::path::PathBuf {
    let base = dir.join("dracut");
    fs::create_dir_all(base.join("modules.d")).unwrap();
    for entry in
        fs::read_dir(DRACUT_BASE).unwrap_or_else(|e| panic!("{DRACUT_BASE}: {e} (apt-get install dracut-core)"))
    {
        let entry = entry.unwrap();
        if entry.file_name() != "modules.d" {
            symlink(entry.path(), base.join(entry.file_name())).unwrap();
        }
    }
    for module in fs::read_dir(Path::new(DRACUT_BASE).join("modules.d")).unwrap() {
        let module = module.unwrap();
        symlink(module.path(), base.join("modules.d").join(module.file_name())).unwrap();
    }
    base
}

/// `make install install-dracut` for real (no DESTDIR, so that dracut finds
/// what the modules name) under `dir`, then an initramfs of dracut's `base`
/// and `modules`, unpacked: (its root, its listing, the prefix installed to,
/// the drop-in).
fn dracut_image(dir: &Path, modules: &str) -> (PathBuf, String, PathBuf, PathBuf) {
    require_tool("dracut", "dracut-core");
    require_tool("cpio", "cpio");
    let base = dracut_base(dir);
    let prefix = dir.join("usr");
    let dropin = dir.join("etc/ssh/ssh_config.d/20-ssh-sockproxy.conf");
    make(&[
        "install",
        "install-dracut",
        &format!("PREFIX={}", prefix.display()),
        &format!("SSHCONF={}", dropin.display()),
        &format!("DRACUTDIR={}", base.join("modules.d").display()),
    ]);

    let image = dir.join("initrd.img");
    let empty = dir.join("empty");
    fs::create_dir(&empty).unwrap();
    let mut dracut = Command::new("dracut");
    dracut
        .env("dracutbasedir", &base)
        .args(["--quiet", "--no-kernel", "--no-hostonly", "--no-early-microcode", "--compress", "cat"])
        .args(["--modules", &format!("base {modules}"), "--conf", "/dev/null", "--confdir"])
        .arg(&empty)
        .arg("--tmpdir")
        .arg(dir)
        .arg(&image);
    run_quietly(dracut);

    // Uncompressed (--compress cat) and without an early part, the image is one cpio archive.
    let mut list = Command::new("cpio");
    list.args(["--quiet", "-i", "-t", "-F"]).arg(&image);
    let listing = run_quietly(list);
    let root = dir.join("root");
    fs::create_dir(&root).unwrap();
    let mut unpack = Command::new("cpio");
    unpack.args(["--quiet", "-i", "-d", "-m", "-F"]).arg(&image).current_dir(&root);
    run_quietly(unpack);
    (root, listing, prefix, dropin)
}

fn in_image(listing: &str, path: &Path) -> bool {
    let inside = path.strip_prefix("/").unwrap().display().to_string();
    listing.lines().any(|line| line == inside)
}

#[test]
fn dracut_image_holds_the_binary_and_dropin() {
    let dir = TempDir::new();
    let (root, listing, prefix, dropin) = dracut_image(dir.path(), "ssh-sockproxy");
    let installed = prefix.join("bin/ssh-sockproxy");
    for path in [&installed, &dropin] {
        assert!(in_image(&listing, path), "{} is not in the image:\n{listing}", path.display());
    }
    let modules = read(&root.join("usr/lib/dracut/modules.txt"));
    assert!(modules.lines().any(|line| line == "ssh-sockproxy"), "modules.txt lacks ssh-sockproxy:\n{modules}");
    let inside = |path: &Path| root.join(path.strip_prefix("/").unwrap());
    assert_eq!(fs::read(inside(&installed)).unwrap(), fs::read(&installed).unwrap(), "binary in the image");
    assert_eq!(read(&inside(&dropin)), read(&dropin), "drop-in in the image");

    // Run inside the image's tree, without /proc as in an early initrd.
    let chroot = |arg: &str| {
        let mut command = Command::new("chroot");
        command.arg(&root).arg(&installed).arg(arg);
        run_quietly(command)
    };
    assert_eq!(chroot("--version"), format!("ssh-sockproxy {}\n", env!("CARGO_PKG_VERSION")));
    assert_eq!(chroot("--print-ssh-config"), read(&dropin));
}

#[test]
fn dracut_adds_ssh_sockserve_on_request_and_it_runs_there() {
    let dir = TempDir::new();
    let (root, listing, prefix, _) = dracut_image(dir.path(), "ssh-sockserve");
    let installed = prefix.join("sbin/ssh-sockserve");
    assert!(in_image(&listing, &installed), "{} is not in the image:\n{listing}", installed.display());
    let inside = root.join(installed.strip_prefix("/").unwrap());
    assert_eq!(fs::read(inside).unwrap(), fs::read(&installed).unwrap(), "binary in the image");
    // Without /proc, as in an early initrd.
    let mut command = Command::new("chroot");
    command.arg(&root).arg(&installed).arg("--version");
    assert_eq!(run_quietly(command), format!("ssh-sockserve {}\n", env!("CARGO_PKG_VERSION")));
}

#[test]
fn mkinitcpio_hook_adds_the_binary_and_dropin() {
    let dir = TempDir::new();
    make(&["install-mkinitcpio", &format!("DESTDIR={}", dir.path().display()), "PREFIX=/usr"]);
    let hook = dir.join("usr/lib/initcpio/install/ssh-sockproxy");
    // mkinitcpio sources the hook and calls build(); these stand in for its helpers.
    let mut bash = Command::new("bash");
    bash.arg("-c")
        .arg(r#"add_binary() { echo "add_binary $*"; }; add_file() { echo "add_file $*"; }; . "$0" && build"#)
        .arg(&hook);
    assert_eq!(
        run_quietly(bash),
        "add_binary /usr/bin/ssh-sockproxy\nadd_file /etc/ssh/ssh_config.d/20-ssh-sockproxy.conf\n"
    );
    let mut bash = Command::new("bash");
    bash.arg("-c").arg(r#". "$0" && help"#).arg(&hook);
    let help = run_quietly(bash);
    assert!(help.contains(" /etc/ssh/ssh_config.d/20-ssh-sockproxy.conf."), "{help}");

    let hook = dir.join("usr/lib/initcpio/install/ssh-sockserve");
    let mut bash = Command::new("bash");
    bash.arg("-c").arg(r#"add_binary() { echo "add_binary $*"; }; . "$0" && build && help"#).arg(&hook);
    let output = run_quietly(bash);
    assert!(output.starts_with("add_binary /usr/sbin/ssh-sockserve\nAdds ssh-sockserve,"), "{output}");
}
