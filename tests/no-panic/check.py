#!/usr/bin/env python3
"""Lists every panic call site in the release binary and compares them with
the ones tests/no-panic/allowed accepts (`make no-panic`).

usage: check.py ANALYSED SHIPPED ALLOWED

ANALYSED is the release binary built again with symbols and line tables, and
SHIPPED the stripped one; their code must be byte for byte the same, so that
what is found in the one holds for the other. A site is an instruction that
calls, jumps to or takes the address of a panic function (core's panic
machinery, and any core function that reaches it, such as an out-of-line
slice index), made outside those functions; the line tables name the source
line it comes from, the first one outside core. The check fails on a site
that the allowed list does not name, and on a listed one that is gone, so
that the list says exactly what the binary holds."""

import re
import subprocess
import sys
import tempfile

# core's panic entry points, by demangled name: core::panicking::*,
# core::panic::*, core::cell::panic_already_borrowed, slice_index_fail,
# len_mismatch_fail, expect_failed, unwrap_failed, ...
PANIC_NAME = re.compile(r"^core::(.*::)?(panic|[a-z_]*_fail(ed)?\b|do_panic)")
CORE_NAME = re.compile(r"^<?core::")
FUNCTION = re.compile(r"^[0-9a-f]+ <(.*)>:$")
# An instruction naming a symbol: `call 4000f0 <core::panicking::panic_fmt>`,
# `jb 400139 <...>`, `lea 0x..(%rip),%rax  # 406304 <...+0x8>`.
REFERENCE = re.compile(r"^\s*([0-9a-f]+):\s.*?<(.*)>\s*$")
OFFSET = re.compile(r"\+0x[0-9a-f]+$")


def run(*args):
    return subprocess.run(args, check=True, capture_output=True, text=True).stdout


def text_section(binary, directory):
    out = f"{directory}/text"
    run("objcopy", "-O", "binary", "--only-section=.text", binary, out)
    with open(out, "rb") as f:
        return f.read()


def references(binary):
    """{function: [(address, referenced function)]} from the disassembly."""
    refs, current = {}, None
    for line in run("objdump", "-d", "--no-show-raw-insn", "-C", binary).splitlines():
        m = FUNCTION.match(line)
        if m:
            current = m.group(1)
            refs.setdefault(current, [])
            continue
        m = REFERENCE.match(line)
        if m and current is not None:
            refs[current].append((m.group(1), OFFSET.sub("", m.group(2))))
    return refs


def panic_functions(refs):
    """The panic entry points, and the core functions that reach them."""
    panics = {f for f in refs if PANIC_NAME.match(f)}
    grown = True
    while grown:
        grown = False
        for function, targets in refs.items():
            if function not in panics and CORE_NAME.match(function) and any(t in panics for _, t in targets):
                panics.add(function)
                grown = True
    return panics


def short_path(path):
    """A crate's file as `rustix-1.1.6/src/...`, ours as `src/...`."""
    if "/registry/src/" in path:
        return re.sub(r"^.*/registry/src/[^/]+/", "", path)
    return re.sub(r"^.*?/(src/|tests/)", r"\1", path)


def location(binary, address, function):
    """The innermost source line outside core that the instruction comes from."""
    frames = run("addr2line", "-i", "-e", binary, f"0x{address}").splitlines()
    for frame in frames:
        if "/library/core/" not in frame and not frame.startswith("??"):
            return short_path(re.sub(r" \(discriminator \d+\)$", "", frame))
    return f"(in {function})"


def base_name(function):
    return re.sub(r"::<.*>$", "", function)


def main():
    analysed, shipped, allowed_file = sys.argv[1:]
    with tempfile.TemporaryDirectory() as a, tempfile.TemporaryDirectory() as b:
        if text_section(analysed, a) != text_section(shipped, b):
            sys.exit(f"no-panic: {analysed} does not have the code of {shipped}; the analysis would not hold for it")
    refs = references(analysed)
    panics = panic_functions(refs)
    sites = {}
    for function, targets in refs.items():
        if function in panics:
            continue
        for address, target in targets:
            if target in panics:
                site = f"{location(analysed, address, function)} {base_name(target)}"
                sites.setdefault(site, []).append(f"{function}+{address}")
    allowed = set()
    with open(allowed_file) as f:
        for line in f:
            line = line.split("#", 1)[0].strip()
            if line:
                allowed.add(" ".join(line.split()))
    for site in sorted(sites):
        mark = "allowed" if site in allowed else "NOT ALLOWED"
        print(f"no-panic: {mark}: {site} ({len(sites[site])} in the binary)")
    unknown = sorted(set(sites) - allowed)
    gone = sorted(allowed - set(sites))
    for site in gone:
        print(f"no-panic: listed but gone (remove it from {allowed_file}): {site}")
    if unknown or gone:
        sys.stdout.flush()
        sys.exit(f"no-panic: FAILED: {len(unknown)} panic site(s) not allowed, {len(gone)} listed site(s) gone")
    calls = sum(len(v) for v in sites.values())
    print(f"no-panic: {len(sites)} source site(s), {calls} call(s), all listed in {allowed_file}")


if __name__ == "__main__":
    main()
