//! A minimal `newc` cpio writer for the per-run initramfs overlay (keys and the binary under test).

/// One regular file: path inside the guest (no leading `/`), permission bits, contents.
pub struct Entry<'a> {
    pub path: &'a str,
    pub mode: u32,
    pub data: &'a [u8],
}

/// An archive of regular files owned by root. Directories are not written: the
/// base initramfs has them, and the kernel would replace a symlinked one such
/// as `bin` with a real directory.
pub fn archive(entries: &[Entry]) -> Vec<u8> {
    let mut out = Vec::new();
    for (ino, entry) in (1..).zip(entries) {
        push(&mut out, ino, 0o100000 | entry.mode, entry.path, entry.data);
    }
    push(&mut out, 0, 0, "TRAILER!!!", &[]);
    out
}

fn push(out: &mut Vec<u8>, ino: u32, mode: u32, name: &str, data: &[u8]) {
    let name_size = name.len() + 1;
    let nlink = 1;
    let fields = [ino, mode, 0, 0, nlink, 0, data.len() as u32, 0, 0, 0, 0, name_size as u32, 0];
    out.extend_from_slice(b"070701");
    for field in fields {
        out.extend_from_slice(format!("{field:08x}").as_bytes());
    }
    out.extend_from_slice(name.as_bytes());
    out.push(0);
    pad(out);
    out.extend_from_slice(data);
    pad(out);
}

/// newc aligns every header and every file body to 4 bytes.
fn pad(out: &mut Vec<u8>) {
    while out.len() % 4 != 0 {
        out.push(0);
    }
}

#[test]
fn busybox_cpio_reads_it_back() {
    use std::os::unix::fs::PermissionsExt;
    let dir = sockproxy_test_common::TempDir::new();
    let archive = archive(&[
        Entry { path: "key", mode: 0o600, data: b"secret\n" },
        Entry { path: "bin", mode: 0o755, data: b"\x7fELF and an odd length" },
    ]);
    let extract = std::process::Command::new("busybox")
        .args(["cpio", "-i"])
        .current_dir(dir.path())
        .stdin(std::process::Stdio::piped())
        .spawn()
        .and_then(|mut child| {
            std::io::Write::write_all(child.stdin.as_mut().unwrap(), &archive)?;
            drop(child.stdin.take());
            child.wait()
        })
        .expect("run busybox cpio -i (apt-get install busybox-static)");
    assert!(extract.success(), "busybox cpio -i: {extract}");
    for (name, mode, data) in [("key", 0o600, &b"secret\n"[..]), ("bin", 0o755, b"\x7fELF and an odd length")] {
        let path = dir.join(name);
        assert_eq!(std::fs::read(&path).expect("extracted file"), data, "{name}");
        assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o7777, mode, "{name}");
    }
}
