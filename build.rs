//! Link arguments for the product binary alone. The test harnesses and the
//! demo are std programs that unwind, so what is here cannot go into
//! .cargo/config.toml, whose rustflags apply to every target.

fn main() {
    let dir = std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR");
    // Drops the unwind tables and the unused init/fini arrays (see the script).
    println!("cargo::rustc-link-arg-bins=-Wl,-T,{dir}/src/sys/rt/discard.ld");
    println!("cargo::rerun-if-changed=src/sys/rt/discard.ld");
}
