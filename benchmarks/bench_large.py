"""One large script: parse throughput (MB/s) and peak memory, in a new process per run.

    .venv/bin/python benchmarks/bench_large.py [--mb 5] [--runs 3]

Builds a script of about --mb megabytes from the hook benchmark's job (each copy with its own
rowset names), parses it with usqlrw.parse in a fresh process (the parser's tables loaded before
the clock starts) and reports wall and CPU time, MB/s and the process's peak resident memory
(the AST is many times the text). Also parses 1/4 and 1/2 of it, so a step that grows faster than
the text shows as falling MB/s. Prints figures; asserts nothing.
"""
from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from bench_hook import SCRIPT  # noqa: E402

CHILD = r"""
import json, resource, sys, time
import usqlrw
from usqlrw.parser import get_parser
text = open(sys.argv[1], encoding="utf-8").read()
get_parser(); usqlrw.parse("@x = SELECT * FROM @t;")
base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
t, c = time.perf_counter(), time.process_time()
script = usqlrw.parse(text)
wall, cpu = time.perf_counter() - t, time.process_time() - c
print(json.dumps({"wall": wall, "cpu": cpu, "statements": len(script.statements),
                  "peak": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, "before": base / 1024}))
"""


def make(size: int) -> str:
    parts, n, i = [], 0, 0
    while n < size:
        s = (SCRIPT.format(i=i, d=i % 28 + 1).replace("@events", f"@events{i}")
             .replace("@daily", f"@daily{i}").replace("@input", f"@input{i}"))
        parts.append(s)
        n += len(s)
        i += 1
    return "".join(parts)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--mb", type=float, default=5.0)
    ap.add_argument("--runs", type=int, default=3)
    a = ap.parse_args()
    import tempfile
    with tempfile.TemporaryDirectory() as d:
        for frac in (0.25, 0.5, 1.0):
            text = make(int(a.mb * frac * 1e6))
            f = Path(d) / "big.usql"
            f.write_text(text, encoding="utf-8")
            got = [json.loads(subprocess.run([sys.executable, "-c", CHILD, str(f)], capture_output=True,
                                             text=True, check=True).stdout) for _ in range(a.runs)]
            mb = len(text.encode()) / 1e6
            wall = statistics.median(g["wall"] for g in got)
            cpu = statistics.median(g["cpu"] for g in got)
            peak = max(g["peak"] for g in got)
            print(f"{mb:5.2f} MB, {got[0]['statements']} statements: {wall:.2f} s wall, {cpu:.2f} s CPU, "
                  f"{mb / wall:.2f} MB/s wall, {mb / cpu:.2f} MB/s CPU; peak RSS {peak:.0f} MiB "
                  f"({got[0]['before']:.0f} MiB before the parse)")


if __name__ == "__main__":
    main()
