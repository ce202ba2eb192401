//! `make install` and `uninstall` never overwrite or remove a drop-in the admin changed, unless FORCE=1.

use std::fs;
use std::path::Path;

use sockproxy_test_common::TempDir;

use super::{DROPIN, files, make, read};

const PRISTINE: &str = "usr/local/share/ssh-sockproxy/20-ssh-sockproxy.conf";

struct Tree {
    dir: TempDir,
    destdir: String,
}

impl Tree {
    fn new() -> Tree {
        let dir = TempDir::new();
        let destdir = format!("DESTDIR={}", dir.path().display());
        Tree { dir, destdir }
    }

    fn make(&self, args: &[&str]) -> String {
        make(&[args, &[self.destdir.as_str()]].concat())
    }

    fn path(&self, relative: &str) -> std::path::PathBuf {
        self.dir.join(relative)
    }

    fn dropin(&self) -> String {
        read(&self.path(DROPIN))
    }

    fn new_file(&self) -> std::path::PathBuf {
        self.path(&format!("{DROPIN}.new"))
    }

    fn kept_on_install(&self) -> String {
        let dropin = self.path(DROPIN);
        format!(
            "Kept {}: changed since it was installed. The new version is {}.new; FORCE=1 overwrites.\n",
            dropin.display(),
            dropin.display()
        )
    }

    fn kept_on_uninstall(&self) -> String {
        format!("Kept {}: changed since it was installed; FORCE=1 removes it.\n", self.path(DROPIN).display())
    }
}

fn edit(path: &Path, text: &str) {
    fs::write(path, text).unwrap_or_else(|e| panic!("write {}: {e}", path.display()));
}

#[test]
fn admin_edits_survive_install_and_uninstall() {
    let tree = Tree::new();
    let out = tree.make(&["install"]);
    assert!(!out.contains("Kept"), "{out}");
    let ours = tree.dropin();
    assert!(ours.contains("ProxyCommand /usr/local/bin/ssh-sockproxy %n %p\n"), "{ours}");

    // Reinstalling over our own file replaces it silently.
    let out = tree.make(&["install"]);
    assert!(!out.contains("Kept"), "{out}");
    assert!(!tree.new_file().exists());

    let admins = format!("{ours}    ServerAliveInterval 5\n");
    edit(&tree.path(DROPIN), &admins);
    for _ in 0..2 {
        let out = tree.make(&["install"]);
        assert!(out.ends_with(&tree.kept_on_install()), "{out}");
        assert_eq!(tree.dropin(), admins);
        assert_eq!(read(&tree.new_file()), ours);
        assert_eq!(read(&tree.path(PRISTINE)), ours);
    }

    let out = tree.make(&["uninstall"]);
    assert!(out.contains(&tree.kept_on_uninstall()), "{out}");
    assert_eq!(files(tree.dir.path()), ["etc/ssh/ssh_config.d/20-ssh-sockproxy.conf 644"]);
    assert_eq!(tree.dropin(), admins);

    // Without a pristine copy a differing file is still the admin's.
    let out = tree.make(&["install"]);
    assert!(out.ends_with(&tree.kept_on_install()), "{out}");
    assert_eq!(tree.dropin(), admins);

    let out = tree.make(&["install", "FORCE=1"]);
    assert!(!out.contains("Kept"), "{out}");
    assert_eq!(tree.dropin(), ours);
    assert!(!tree.new_file().exists(), ".new left behind by FORCE=1");

    edit(&tree.path(DROPIN), &admins);
    let out = tree.make(&["uninstall", "FORCE=1"]);
    assert!(!out.contains("Kept"), "{out}");
    assert_eq!(files(tree.dir.path()), Vec::<String>::new());
}

#[test]
fn unchanged_dropin_follows_upgrades() {
    let tree = Tree::new();
    tree.make(&["install"]);
    // A later version with other text: here, the binary moved.
    let out = tree.make(&["install", "BINDIR=/opt/sockproxy/bin"]);
    assert!(!out.contains("Kept"), "{out}");
    let moved = tree.dropin();
    assert!(moved.contains("ProxyCommand /opt/sockproxy/bin/ssh-sockproxy %n %p\n"), "{moved}");
    assert!(!tree.new_file().exists());

    // A file equal to what install would write is ours even without a pristine copy,
    // such as one the admin made with `--print-ssh-config`.
    fs::remove_file(tree.path(PRISTINE)).unwrap();
    let out = tree.make(&["install", "BINDIR=/opt/sockproxy/bin"]);
    assert!(!out.contains("Kept"), "{out}");
    assert_eq!(tree.dropin(), moved);

    let out = tree.make(&["uninstall", "BINDIR=/opt/sockproxy/bin"]);
    assert!(!out.contains("Kept"), "{out}");
    assert!(!tree.path(DROPIN).exists());
}
