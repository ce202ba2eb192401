#!/usr/bin/env python3
"""Fails when modules of a Rust source tree import each other in a circle.

Usage: import_cycles.py SRC_DIR [CRATE_NAME]   check the tree (make lint)
       import_cycles.py --self-test            check this checker on trees it builds

A module is a file (a `mod.rs` is its folder's module). Every path that starts
with `crate::`, `super::`, `self::` or CRATE_NAME`::`, in a `use` or in code,
is an arrow from the file it stands in to the deepest module file it names.
Declaring a child (`mod x;`) draws no arrow; using its items does, so a
child that imports its parent back closes a circle. Any strongly connected set of two or more
files is a circle, printed with the names that tie it.
"""

import os
import re
import sys
import tempfile

PATH = re.compile(r"(?<![\w:])(\$?crate|super|self|{name})((?:::\w+)+)")
USE_GROUP = re.compile(r"\buse\s+([^;]*);", re.S)


def module_of(root, file):
    rel = os.path.relpath(file, root)[: -len(".rs")].split(os.sep)
    if rel[-1] in ("mod", "lib", "main"):
        rel = rel[:-1]
    return rel


def file_of(root, parts):
    """The file of module `parts`, or None."""
    if not parts:
        return os.path.join(root, "lib.rs")
    base = os.path.join(root, *parts)
    for candidate in (base + ".rs", os.path.join(base, "mod.rs")):
        if os.path.isfile(candidate):
            return candidate
    return None


def expand_use(body):
    """`a::{b, c::{d}}` as the flat paths a::b, a::c::d."""
    body = re.sub(r"\s+as\s+\w+", "", body)
    body = re.sub(r"\s+", "", body)
    out = []

    def walk(prefix, text):
        depth, start, items = 0, 0, []
        for i, ch in enumerate(text):
            if ch == "{":
                depth += 1
            elif ch == "}":
                depth -= 1
            elif ch == "," and depth == 0:
                items.append(text[start:i])
                start = i + 1
        items.append(text[start:])
        for item in filter(None, items):
            if "{" in item:
                head, rest = item.split("{", 1)
                walk(prefix + head, rest[: rest.rindex("}")])
            else:
                out.append(prefix + item)

    walk("", body)
    return out


INLINE_MOD = re.compile(r"\bmod\s+(\w+)\s*\{")


def split_inline_modules(text):
    """The text outside inline `mod x { ... }` blocks, and each block's (name, text)."""
    outside, blocks, at = [], [], 0
    while (m := INLINE_MOD.search(text, at)) is not None:
        depth, i = 1, m.end()
        while depth and i < len(text):
            depth += {"{": 1, "}": -1}.get(text[i], 0)
            i += 1
        outside.append(text[at : m.start()])
        blocks.append((m.group(1), text[m.end() : i - 1]))
        at = i
    outside.append(text[at:])
    return "".join(outside), blocks


def paths_in(root, text, here, crate_name, pattern):
    """(module path the text stands in, path named) for every path in `text`."""
    text, blocks = split_inline_modules(text)
    found = []
    for body in USE_GROUP.findall(text):
        for path in expand_use(body):
            # `use child::x` inside a folder's module: relative to it.
            first = path.split("::")[0]
            if first not in ("crate", "$crate", "super", "self", crate_name) and file_of(root, here + [first]):
                path = "self::" + path
            found.append((here, path))
    found.extend((here, m.group(1) + m.group(2)) for m in pattern.finditer(USE_GROUP.sub("", text)))
    for name, block in blocks:
        found.extend(paths_in(root, block, here + [name], crate_name, pattern))
    return found


def arrows(root, crate_name):
    files = [os.path.join(d, f) for d, _, fs in os.walk(root) for f in fs if f.endswith(".rs")]
    pattern = re.compile(PATH.pattern.format(name=re.escape(crate_name)))
    edges = {}
    for file in files:
        text = re.sub(r"//[^\n]*", "", open(file, encoding="utf-8").read())
        for here, path in paths_in(root, text, module_of(root, file), crate_name, pattern):
            parts = [p for p in path.split("::") if p]
            head, rest = parts[0], parts[1:]
            if head in ("crate", "$crate", crate_name):
                base = []
            elif head == "self":
                base = here
            elif head == "super":
                base = here[:-1]
                while rest and rest[0] == "super":
                    base, rest = base[:-1], rest[1:]
            else:
                continue
            # The deepest module the path names; an inline module stands in its file.
            target, walked = file_of(root, base), list(base)
            for part in rest:
                walked.append(part)
                candidate = file_of(root, walked)
                if candidate is None:
                    break
                target = candidate
            if target and os.path.abspath(target) != os.path.abspath(file) and os.path.basename(target) != "lib.rs":
                edges.setdefault(file, {}).setdefault(target, set()).add(path)
    return files, edges


def circles(files, edges):
    """Tarjan's strongly connected components of two or more files."""
    index, low, stack, on, out, counter = {}, {}, [], set(), [], [0]
    sys.setrecursionlimit(10000)

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in edges.get(v, {}):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                out.append(sorted(component))

    for f in sorted(files):
        if f not in index:
            visit(f)
    return out


def check(root, crate_name, report=True):
    files, edges = arrows(root, crate_name)
    found = circles(files, edges)
    for component in found if report else []:
        print(f"import cycle among {len(component)} modules of {root}:")
        for a in component:
            for b, names in sorted(edges.get(a, {}).items()):
                if b in component:
                    print(f"  {os.path.relpath(a, root)} -> {os.path.relpath(b, root)}: {', '.join(sorted(names))}")
    return found, sum(len(t) for t in edges.values())


def self_test():
    with tempfile.TemporaryDirectory() as root:
        def write(path, text):
            os.makedirs(os.path.dirname(os.path.join(root, path)), exist_ok=True)
            open(os.path.join(root, path), "w").write(text)

        write("lib.rs", "pub mod a;\npub mod b;\npub mod t;\n")
        write("a.rs", "use crate::b::B;\n")
        write("b.rs", "pub struct B;\nfn f() { crate::t::leaf::g(); }\n")
        write("t/mod.rs", "pub mod leaf;\nuse leaf::g;\nuse self::leaf::h;\n")
        write("t/leaf.rs", "pub fn g() {}\npub fn h() {}\n#[cfg(test)]\nmod tests {\n    use super::*;\n}\n")
        found, count = check(root, "x", report=False)
        assert not found and count == 3, (found, count)
        write("t/leaf.rs", "use super::{Other, nested::{Deep}};\npub fn g() {}\n")
        found, _ = check(root, "x", report=False)
        assert [[os.path.join(root, "t/leaf.rs"), os.path.join(root, "t/mod.rs")]] == found, found
        write("t/leaf.rs", "pub fn g() {}\n")
        write("b.rs", "use crate::{a::A};\n")
        found, _ = check(root, "x", report=False)
        assert len(found) == 1 and len(found[0]) == 2, found
    print("import-cycles: self-test passed")


def main():
    if sys.argv[1:] == ["--self-test"]:
        self_test()
        return 0
    if len(sys.argv) not in (2, 3):
        print(__doc__.strip().splitlines()[2], file=sys.stderr)
        return 2
    root = sys.argv[1]
    crate_name = sys.argv[2] if len(sys.argv) == 3 else "sockproxy"
    found, count = check(root, crate_name)
    if found:
        return 1
    print(f"import-cycles: {count} imports among the modules of {root}, no cycle")
    return 0


if __name__ == "__main__":
    sys.exit(main())
