#!/usr/bin/env python3
"""Finds import circles between the modules inside each crate of the workspace (crates/*/src
and the root crate's src/), at two levels: top-level modules (`crate::run`, `crate::eval`) and
files (`run/mod.rs`, `eval/saved.rs`). Plain Python 3.11+: no cargo, no dependencies.

    scripts/check-module-cycles.py [--crate NAME] [--examples N]

Edges come from `use crate::..`, `use super::..`, `use self::..`, `use child::..` (a module
declared in the same file), grouped imports (`use crate::{a::X, b::{Y, Z}}`), `pub use`
re-exports, and qualified paths in code (`crate::a::f(..)`, `super::x::Y`). A path points to
the deepest module file it names: `crate::run::Event` is an edge to run/mod.rs even though
run/mod.rs only re-exports it from run/progress.rs. An edge to the crate root (`crate::Error`) goes
to the module the root's `pub use path::Name` names, or is dropped. A bare `mod x;` is not an
edge; `#[cfg(test)]` modules and `mod tests { .. }` are skipped.

Prints each strongly connected component of more than one module with up to N (default 3) of
the lines that make each edge inside it. Exit status 1 if there is any circle, 0 otherwise.
"""

import argparse
import bisect
import re
import sys
import tomllib
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# Comments (block comments unnested), strings (raw too) and char literals; not lifetimes.
LITERAL = re.compile(r"//[^\n]*|/\*.*?\*/|(?<!\w)b?r(#*)\".*?\"\1|\"(?:\\.|[^\"\\])*\""
                     r"|'(?:\\u\{[0-9a-fA-F]+\}|\\.|[^\\'\n])'", re.S)
USE = re.compile(r"\buse\s+([^;]*);")
PUB = re.compile(r"\bpub(\([^)]*\))?\s+$")
TEST_MOD = re.compile(r"(#\[cfg\(test\)\]\s*(#\[[^\]]*\]\s*)*(pub(\([^)]*\))?\s+)?mod\s+\w+"
                      r"|\bmod\s+tests)\s*\{")
INLINE_MOD = re.compile(r"\bmod\s+(\w+)\s*\{")


def blank(text, a=0, b=None):
    """`text` with its characters from a to b turned into spaces, newlines kept."""
    return text[:a] + re.sub(r"[^\n]", " ", text[a:b]) + (text[b:] if b is not None else "")


def block_end(text, brace):
    """The offset just past the `}` that closes the `{` at `brace`."""
    depth = 0
    for k in range(brace, len(text)):
        depth += {"{": 1, "}": -1}.get(text[k], 0)
        if depth == 0:
            return k + 1
    return len(text)


def use_paths(tree):
    """`crate::{a::X, b::{self, Y as Z}}` -> [crate,a,X], [crate,b,self], [crate,b,Y,=Z]."""
    toks, pos = [t for t in re.findall(r"::|[{},*]|\w+", tree) if t != "::"], 0

    def parse(prefix):
        nonlocal pos
        paths, cur = [], None  # cur: the path being read, None between paths
        while pos < len(toks):
            t, pos = toks[pos], pos + 1
            if t == "{":
                paths, cur = paths + parse(cur or prefix), None
            elif t in ",}":
                paths, cur = paths + ([cur] if cur else []), None
                if t == "}":
                    return paths
            elif t == "as" and pos < len(toks):
                cur, pos = cur + ["=" + toks[pos]], pos + 1
            else:
                cur = (cur or list(prefix)) + [t]
        return paths + ([cur] if cur else [])

    return [p for p in parse([]) if p]


class Crate:
    def __init__(self, src):
        root = src / "lib.rs" if (src / "lib.rs").exists() else src / "main.rs"
        self.files = {(): root}  # module path -> file
        for f in sorted(src.rglob("*.rs")):
            rel = f.relative_to(src).with_suffix("").parts
            if f != root and rel[0] != "bin" and rel not in (("lib",), ("main",)):
                self.files[rel[:-1] if rel[-1] == "mod" else rel] = f
        self.edges = defaultdict(dict)  # (from, to) -> {(file, line): source line}
        self.reexports = {}  # a name the root re-exports -> the module it comes from
        for mod in self.files:  # the root first: its re-exports resolve `crate::Name`
            self.scan(mod)

    def resolve(self, here, path):
        """The module file `path` leads to, seen from module `here`; None if none in this crate."""
        if path[0] == "crate":
            base, path = (), path[1:]
        elif path[0] in ("self", "super"):
            base = here
            while path and path[0] in ("self", "super"):
                base, path = (base[:-1] if path[0] == "super" else base), path[1:]
        elif here + (path[0],) in self.files:
            base = here
        else:
            return None  # another crate, or an item in scope
        while base and base not in self.files:
            base = base[:-1]  # inside an inline module: its file
        while path and base + (path[0],) in self.files:
            base, path = base + (path[0],), path[1:]
        if base == ():
            return self.reexports.get(path[0]) if path else None
        return base

    def scan(self, mod):
        file = self.files[mod]
        raw = file.read_text(encoding="utf-8")
        text, lines = LITERAL.sub(lambda m: blank(m.group(0)), raw), raw.splitlines()
        for m in TEST_MOD.finditer(text):  # offsets stay valid: blanking keeps the length
            text = blank(text, m.start(), block_end(text, m.end() - 1))
        starts = [0] + [i + 1 for i, c in enumerate(text) if c == "\n"]
        inline = [(m.start(), block_end(text, m.end() - 1), m.group(1))
                  for m in INLINE_MOD.finditer(text)]

        def add(pos, path, is_pub):
            alias = path.pop()[1:] if path[-1].startswith("=") else None
            while path and path[-1] in ("self", "*"):
                path.pop()
            here = mod + tuple(name for a, b, name in inline if a < pos < b)
            target = self.resolve(here, path) if path else None
            if target is not None and mod == () and is_pub:
                self.reexports.setdefault(alias or path[-1], target)
            if target is not None and target != mod and mod:
                line = bisect.bisect_right(starts, pos)
                self.edges[(mod, target)][(file, line)] = lines[line - 1].strip()

        code = text  # `text` without its `use` items, for the paths in code
        for m in USE.finditer(text):
            is_pub = bool(PUB.search(text, max(0, m.start() - 20), m.start()))
            for path in use_paths(m.group(1)):
                add(m.start(), path, is_pub)
            code = blank(code, m.start(), m.end())
        children = [c[-1] for c in self.files if len(c) == len(mod) + 1 and c[:-1] == mod]
        heads = "|".join(["crate", "self", "super"] + children)
        for m in re.finditer(rf"(?<![\w:])(?:{heads})(?:::\w+)+", code):
            add(m.start(), m.group(0).split("::"), False)


def components(edges):
    """Tarjan's strongly connected components of more than one node."""
    succ = defaultdict(set)
    for a, b in edges:
        succ[a].add(b)
    index, low, stack, out = {}, {}, [], []

    def visit(v):
        index[v] = low[v] = len(index)
        stack.append(v)
        for w in sorted(succ[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = stack[stack.index(v):]
            del stack[stack.index(v):]
            out.extend([sorted(comp)] if len(comp) > 1 else [])

    for v in sorted(set(succ) | {b for a, b in edges}):
        if v not in index:
            visit(v)
    return out


def report(level, edges, show, examples):
    circles = components(edges)
    for comp in circles:
        print(f"  {level} circle: {', '.join(show(m) for m in comp)}")
        for (a, b), uses in sorted(edges.items()):
            if a in comp and b in comp:
                print(f"    {show(a)} -> {show(b)}")
                for (file, line), text in list(uses.items())[:examples]:
                    print(f"      {file.relative_to(ROOT)}:{line}: {text}")
                if len(uses) > examples:
                    print(f"      (+{len(uses) - examples} more)")
    return len(circles)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--crate", help="check only this crate (its package name)")
    ap.add_argument("--examples", type=int, default=3, help="lines shown per edge (3)")
    args = ap.parse_args()
    crates = {}
    for src in sorted(ROOT.glob("crates/*/src")) + [ROOT / "src"]:
        manifest = tomllib.loads((src.parent / "Cargo.toml").read_text(encoding="utf-8"))
        crates[manifest["package"]["name"]] = src
    if args.crate and args.crate not in crates:
        ap.error(f"no crate {args.crate!r}; the crates: {', '.join(crates)}")
    found = 0
    for name, src in crates.items():
        if args.crate and name != args.crate:
            continue
        crate = Crate(src)
        print(f"{name} ({src.relative_to(ROOT)}, {len(crate.files)} files)")
        top = defaultdict(dict)
        for (a, b), uses in crate.edges.items():
            if a[0] != b[0]:
                top[(a[:1], b[:1])].update(uses)
        n = report("module", top, lambda m: "crate::" + "::".join(m), args.examples)
        n += report("file", crate.edges, lambda m: str(crate.files[m].relative_to(src)),
                    args.examples)
        print(f"  {n} circle(s)" if n else "  no circles")
        found += n
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
