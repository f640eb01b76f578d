"""Parser benchmark: throughput, peak memory, and `usqlrw check` start-up in a new process.

    .venv/bin/python benchmarks/bench_parse.py [FOLDER ...] [--rounds N] [--runs N] [--peer FILE.sql]

FOLDER: folders of U-SQL scripts (*.usql, *.sql; default: examples/ and the parser's fixtures).
Prints, for the scripts that parse:
  - throughput of usqlrw.parse (bytes in, typed AST out), MB/s of CPU time, best of --rounds
    passes, one core;
  - peak traced memory (tracemalloc) while parsing the folder one script at a time;
  - wall time of `python -m usqlrw check ONE.usql` in a new process, median and best of --runs,
    with a cold parse-table cache (an empty USQLRW_CACHE_DIR) and a warm one.
With --peer, also sqlglot's throughput on that file's ;-separated statements, in the same run, for
a ratio that does not depend on the machine. Prints figures; asserts nothing.
"""
from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import usqlrw  # noqa: E402


def scripts(folders) -> list[tuple[Path, bytes]]:
    out = []
    for folder in folders:
        for p in sorted(Path(folder).rglob("*")):
            if p.suffix.lower() in (".usql", ".sql") and p.is_file():
                data = p.read_bytes()
                try:
                    usqlrw.parse(data)
                except usqlrw.USqlSyntaxError:
                    continue
                out.append((p, data))
    return out


def throughput(fn, items, size, rounds) -> float:
    """MB/s in CPU time (process_time): steadier than wall time on a shared machine."""
    best = float("inf")
    for _ in range(rounds):
        t = time.process_time()
        for x in items:
            fn(x)
        best = min(best, time.process_time() - t)
    return size / best / 1e6


def peak_memory(datas) -> int:
    tracemalloc.start()
    for d in datas:
        usqlrw.parse(d)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return peak


def check_wall(path: Path, runs: int, cache_dir: str) -> list[float]:
    env = dict(os.environ, USQLRW_CACHE_DIR=cache_dir)
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        subprocess.run([sys.executable, "-m", "usqlrw", "check", str(path)], env=env, cwd=ROOT,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
        times.append(time.perf_counter() - t)
    return times


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("folders", nargs="*", default=[ROOT / "examples", ROOT / "tests" / "fixtures" / "parse"])
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--peer", help="a .sql file of ;-separated statements for sqlglot, for a ratio")
    a = ap.parse_args()

    items = scripts(a.folders)
    if not items:
        sys.exit("no script parses in " + ", ".join(map(str, a.folders)))
    datas = [d for _, d in items]
    size = sum(map(len, datas))
    usqlrw.parse(datas[0])  # load the parser before timing
    ours = throughput(usqlrw.parse, datas, size, a.rounds)
    print(f"scripts: {len(items)} ({size / 1e3:.1f} kB), largest {max(map(len, datas)) / 1e3:.1f} kB")
    print(f"throughput: {ours:.2f} MB/s (usqlrw.parse, bytes to typed AST, CPU time, best of {a.rounds})")

    if a.peer:
        import re

        import sqlglot
        sql = Path(a.peer).read_text(encoding="utf-8")
        stmts = []
        for s in re.split(r";\s*\n", sql):
            s = s.strip()
            if s:
                try:
                    sqlglot.parse_one(s)
                    stmts.append(s)
                except Exception:
                    pass
        theirs = throughput(sqlglot.parse_one, stmts, sum(len(s.encode()) for s in stmts), a.rounds)
        print(f"sqlglot: {theirs:.2f} MB/s on {len(stmts)} statements of {a.peer}; ratio {ours / theirs:.2f}")

    print(f"peak memory: {peak_memory(datas) / 1e6:.1f} MB (tracemalloc, parsing one script at a time)")

    one = min((p for p, d in items if len(d) < 4000), key=lambda p: len(p.read_bytes()), default=items[0][0])
    with tempfile.TemporaryDirectory() as cache:
        cold = []
        for _ in range(a.runs):
            for f in Path(cache).iterdir():
                f.unlink()
            cold += check_wall(one, 1, cache)
        warm = check_wall(one, a.runs, cache)
    print(f"`usqlrw check {one.name}` in a new process: cold cache median {statistics.median(cold):.3f} s "
          f"(best {min(cold):.3f}), warm cache median {statistics.median(warm):.3f} s (best {min(warm):.3f})")


if __name__ == "__main__":
    main()
