//! The dracut module builds into a real initramfs that runs the binary; the mkinitcpio hook adds the same files.

use std::fs;
use std::os::unix::fs::symlink;
use std::path::Path;
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

#[test]
fn dracut_image_holds_the_binary_and_dropin() {
    require_tool("dracut", "dracut-core");
    require_tool("cpio", "cpio");
    let dir = TempDir::new();
    let base = dracut_base(dir.path());
    // Installed for real (no DESTDIR), so that dracut finds what the module names.
    let prefix = dir.join("usr");
    let dropin = dir.join("etc/ssh/ssh_config.d/20-ssh-sockproxy.conf");
    let installed = prefix.join("bin/ssh-sockproxy");
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
        .args(["--modules", "base ssh-sockproxy", "--conf", "/dev/null", "--confdir"])
        .arg(&empty)
        .arg("--tmpdir")
        .arg(dir.path())
        .arg(&image);
    run_quietly(dracut);

    // Uncompressed (--compress cat) and without an early part, the image is one cpio archive.
    let mut list = Command::new("cpio");
    list.args(["--quiet", "-i", "-t", "-F"]).arg(&image);
    let listing = run_quietly(list);
    for path in [&installed, &dropin] {
        let inside = path.strip_prefix("/").unwrap().display().to_string();
        assert!(listing.lines().any(|line| line == inside), "{inside} is not in the image:\n{listing}");
    }

    let root = dir.join("root");
    fs::create_dir(&root).unwrap();
    let mut unpack = Command::new("cpio");
    unpack.args(["--quiet", "-i", "-d", "-m", "-F"]).arg(&image).current_dir(&root);
    run_quietly(unpack);
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
}
