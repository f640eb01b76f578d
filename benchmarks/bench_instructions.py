"""Parse cost in machine instructions (valgrind's callgrind), usqlrw against sqlglot, on the inputs of
/work/shared/tools/bench_vs_sqlglot.py: Azure/usql's scripts and sqlglot's TPC-DS queries.

    .venv/bin/python benchmarks/bench_instructions.py [--corpus DIR] [--python PY ...]

Instruction counts do not depend on the machine's load, so they compare runs on a shared machine
where wall times do not. Each parser runs in its own process under callgrind twice: once loading
the inputs and parsing them all once (warm-up: imports, tables, caches), once doing that and then
parsing them all again; the difference is the cost of one pass. Prints instructions per input byte
and the ratio (sqlglot's per byte / usqlrw's per byte: above 1, usqlrw parses a byte with fewer
instructions). ``--python`` adds other interpreters (a venv with ``sqlglot[c]`` or a compiled
usqlrw) as further columns. Asserts nothing.
"""
from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys

CHILD = r'''
import glob, os, re, sys
which, corpus, again = sys.argv[1], sys.argv[2], sys.argv[3] == "1"
if which == "usqlrw":
    import usqlrw
    fn = usqlrw.parse
    items = []
    for f in sorted(glob.glob(os.path.join(corpus, "azure_usql", "**", "*"), recursive=True)):
        if f.lower().endswith(".usql"):
            t = open(f, encoding="utf-8-sig").read()
            try:
                fn(t)
                items.append(t)
            except Exception:
                pass
else:
    import sqlglot
    fn = sqlglot.parse_one
    items = []
    for s in re.split(r";\s*\n", open(os.path.join(corpus, "peer", "tpcds.sql")).read()):
        s = s.strip()
        if s:
            try:
                fn(s)
                items.append(s)
            except Exception:
                pass
if again:
    for x in items:
        fn(x)
print("BYTES", sum(len(x.encode()) for x in items))
'''


def instructions(python: str, which: str, corpus: str, again: bool) -> tuple[int, int]:
    out = subprocess.run(["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null", python,
                          "-c", CHILD, which, corpus, "1" if again else "0"],
                         capture_output=True, text=True, timeout=7200)
    m = re.search(r"Collected\s*:\s*(\d+)", out.stderr)
    b = re.search(r"BYTES (\d+)", out.stdout)
    if not m or not b:
        raise SystemExit(f"{python} {which}: no count\n{out.stdout[-800:]}\n{out.stderr[-800:]}")
    return int(m.group(1)), int(b.group(1))


def per_byte(python: str, which: str, corpus: str) -> float:
    base, n = instructions(python, which, corpus, False)
    full, _ = instructions(python, which, corpus, True)
    return (full - base) / n


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--corpus", default=os.environ.get("CORPUS") or "/tmp/usqlrw-corpus")
    ap.add_argument("--python", action="append", default=[],
                    help="another interpreter to measure (its usqlrw and sqlglot)")
    args = ap.parse_args()
    if not shutil.which("valgrind"):
        raise SystemExit("valgrind is not installed")
    for py in [sys.executable, *args.python]:
        u = per_byte(py, "usqlrw", args.corpus)
        s = per_byte(py, "sqlglot", args.corpus)
        print(f"{py}: usqlrw {u:,.0f} instructions/byte, sqlglot {s:,.0f} instructions/byte, "
              f"ratio {s / u:.2f}", flush=True)


if __name__ == "__main__":
    main()
