#!/usr/bin/env python3
"""The top of a `cargo build --timings` report as a Markdown table: the crates that took longest
to compile, when each started, and the whole build's wall time and summed compile time.

    scripts/timings-top.py target/cargo-timings/cargo-timing.html [N]
"""
import json
import re
import sys


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    html = open(sys.argv[1], encoding="utf-8").read()
    units = json.loads(re.search(r"const UNIT_DATA = (\[.*?\]);\n", html, re.S).group(1))
    n = int(sys.argv[2]) if len(sys.argv) > 2 else 12
    wall = max(u["start"] + u["duration"] for u in units)
    total = sum(u["duration"] for u in units)
    print(f"{len(units)} units, wall {wall:.0f} s, summed compile time {total:.0f} s (2 cores)\n")
    print("| crate | target | starts at s | takes s |")
    print("| --- | --- | ---: | ---: |")
    for u in sorted(units, key=lambda u: -u["duration"])[:n]:
        target = u.get("target", "").strip() or "lib"
        print(f"| {u['name']} {u['version']} | {target} | {u['start']:.0f} | {u['duration']:.1f} |")


main()
