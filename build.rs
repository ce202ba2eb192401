//! Link arguments for the product binaries alone (every [[bin]]). The test
//! harnesses, the bench and the demo are std programs that need the C
//! runtime objects and libc, so what is here cannot go into
//! .cargo/config.toml, whose rustflags apply to every target of a triple.
//! The examples get them too when built for another triple than the
//! host's: only the bench's no-op floor is, to start up like the product.
//!
//! Each argument is spelt for the linker that cargo resolved: rustc calls
//! `cc` (which passes `-Wl,` arguments on to ld) unless .cargo/config.toml
//! names a linker itself, as it names rust-lld for the foreign
//! architectures.

use std::path::Path;

fn main() {
    let dir = std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR");
    let cross = std::env::var("TARGET").ok() != std::env::var("HOST").ok();
    let link_arg = |arg: &str| {
        println!("cargo::rustc-link-arg-bins={arg}");
        if cross {
            println!("cargo::rustc-link-arg-examples={arg}");
        }
    };
    let linker = std::env::var("RUSTC_LINKER").unwrap_or_else(|_| "cc".into());
    let stem = Path::new(&linker).file_stem().and_then(|s| s.to_str()).unwrap_or("");
    let driver = !(stem == "rust-lld" || stem == "ld.lld" || stem == "ld" || stem.ends_with("-ld"));

    // The binaries bring their own `_start` (sys/rt/arch/): no crt1.o & co.
    // Static and non-PIE on every triple, also the build host's, for which
    // `cargo test` builds them too (position-independent code links as a
    // fixed-address executable just as well).
    if driver {
        for arg in ["-nostartfiles", "-static", "-no-pie"] {
            link_arg(arg);
        }
    }
    let linker_args = [
        // One read-only segment for headers, rodata and code instead of three
        // page-aligned ones: about 4 KB less padding in the file.
        "-z,noseparate-code",
        // No RELRO: it would page-align the start of the writable data so
        // that the part made read-only after start-up ends on a page
        // boundary, about 2 KB of padding in the file. A static non-PIE
        // binary has no run-time relocations, and its writable segment holds
        // no function pointers that are ever called.
        "-z,norelro",
        // Let the writable data follow the code in the file. With the default
        // common page size the linker may instead start it at a page boundary
        // of the file (to save a page of memory when it can), padding the file
        // by up to 4 KB; here both layouts map the same pages.
        "-z,common-page-size=16",
        // No .note.gnu.build-id (88 bytes with its program header): the binary
        // is shipped stripped, with no separate debug file for an id to match.
        "--build-id=none",
    ];
    if !driver {
        // rust-lld's own word for the same: rodata in the code's segment.
        link_arg("--no-rosegment");
    }
    for arg in linker_args {
        if driver {
            link_arg(&format!("-Wl,{arg}"));
        } else {
            for word in arg.split(',') {
                link_arg(word);
            }
        }
    }
    // Drops the unwind tables and what else nothing reads (see the script).
    // rust-lld takes it as -T<path>, not -Wl,-T,<path>.
    let script = format!("{dir}/src/sys/rt/discard.ld");
    if driver {
        link_arg(&format!("-Wl,-T,{script}"));
    } else {
        link_arg(&format!("-T{script}"));
    }
    println!("cargo::rerun-if-changed=src/sys/rt/discard.ld");
    println!("cargo::rerun-if-env-changed=RUSTC_LINKER");
}
