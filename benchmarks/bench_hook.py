"""Latency of `usqlrw check` as a pre-commit hook runs it: a new process on 1 and on 50 small files.

    .venv/bin/python benchmarks/bench_hook.py [--runs N] [--compile]

Measures wall time of whole processes (interpreter start-up, imports, grammar load from the
parse-table cache, parsing, every lint rule, output), median and best of N runs, with a warm parse
cache (the normal case) and once with an empty cache (the first run on a machine). Prints figures;
asserts nothing. `--compile` writes the .pyc files first (an installed package has them).
"""
from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

SCRIPT = '''// Job {i}: daily aggregate
DECLARE EXTERNAL @day DateTime = new DateTime(2024, 1, {d});
DECLARE @input string = "/telemetry/raw/{{date:yyyy}}/{{date:MM}}/{{date:dd}}/events_{i}.csv";

@events =
    EXTRACT DeviceId string, Reading double?, date DateTime
    FROM @input
    USING Extractors.Csv(skipFirstNRows: 1);

@daily =
    SELECT DeviceId, AVG(Reading) AS Mean, COUNT(*) AS N
    FROM @events
    WHERE date == @day AND Reading != null
    GROUP BY DeviceId;

OUTPUT @daily TO "/telemetry/daily/{i}.csv" ORDER BY N DESC USING Outputters.Csv(outputHeader: true);
'''


def usqlrw_cmd() -> list[str]:
    exe = Path(sys.executable).with_name("usqlrw")
    return [str(exe)] if exe.exists() else [sys.executable, "-m", "usqlrw"]


def timed(cmd, env, runs):
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        p = subprocess.run(cmd, env=env, capture_output=True)
        times.append(time.perf_counter() - t)
        if p.returncode not in (0, 1):
            raise SystemExit(f"{cmd} failed: {p.stderr.decode()}")
    return times


def _bytecode_present() -> bool:
    import importlib.util
    import usqlrw
    src = Path(usqlrw.__file__).with_name("ast_generated.py")
    return Path(importlib.util.cache_from_source(str(src))).exists()


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=10)
    ap.add_argument("--compile", action="store_true",
                    help="write usqlrw's .pyc files first, as an installed package has them "
                         "(this environment may set PYTHONDONTWRITEBYTECODE)")
    args = ap.parse_args()
    if args.compile:
        import compileall
        import usqlrw
        compileall.compile_dir(str(Path(usqlrw.__file__).parent), quiet=1)
    tmp = Path(tempfile.mkdtemp(prefix="usqlrw-bench-hook-"))
    try:
        files = []
        for i in range(50):
            f = tmp / f"job_{i:02}.usql"
            f.write_text(SCRIPT.format(i=i, d=1 + i % 28), encoding="utf-8")
            files.append(str(f))
        cache = tmp / "cache"
        env = {**os.environ, "USQLRW_CACHE_DIR": str(cache), "NO_COLOR": "1"}
        base = usqlrw_cmd() + ["check", "-q"]
        # the empty-cache case: the first run on a machine builds the parse tables
        cold = timed(base + files[:1], env, 1)[0]
        bare, one, fifty = [], [], []
        for _ in range(args.runs):   # interleaved, so the machine's load falls on all alike
            bare += timed([sys.executable, "-c", "pass"], env, 1)
            one += timed(base + files[:1], env, 1)
            fifty += timed(base + files, env, 1)
        size = sum(os.path.getsize(f) for f in files)
        print(f"python {sys.version.split()[0]}, {os.cpu_count()} cores, {args.runs} runs each, median (best)")
        print(f"  bare interpreter start-up      {statistics.median(bare) * 1000:7.0f} ms ({min(bare) * 1000:.0f})")
        print(f"  usqlrw check, 1 file           {statistics.median(one) * 1000:7.0f} ms ({min(one) * 1000:.0f})")
        print(f"  usqlrw check, 50 files         {statistics.median(fifty) * 1000:7.0f} ms ({min(fifty) * 1000:.0f})"
              f"  [{size / 1024:.0f} KiB]")
        per = (statistics.median(fifty) - statistics.median(one)) / 49
        print(f"  each further file              {per * 1000:7.1f} ms")
        print(f"  1 file, empty parse cache      {cold * 1000:7.0f} ms (first run on a machine)")
        print(f"  1 file / bare interpreter      {statistics.median(one) / statistics.median(bare):7.1f} x")
        print(f"  usqlrw's .pyc files            {'present' if _bytecode_present() else 'absent (sources compiled on each run)'}")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
