"""One U-SQL job on both engines: `usqlrw run` (DuckDB) against `usqlrw run --engine spark` on
`local[2]` and `local[1]`, over a generated CSV (10 million rows by default).

    .venv/bin/python benchmarks/bench_spark.py [--rows N] [--runs N] [--alternate]

Each engine runs in a fresh process per run: the job's time (run_file, after the SparkSession
is up; the session start is reported apart) and the peak memory: VmHWM of the Python process,
plus, on Spark, VmHWM of the JVM the session started (the driver and, in local mode, the
executors). ``--alternate`` runs the three in turn, run after run (fairer on a shared machine
whose load changes). The outputs of all runs must be the same bytes. Prints figures; asserts nothing
but that.
"""
from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time

SCRIPT = """
@sales =
    EXTRACT id long, region string, amount double, quantity int, at DateTime
    FROM "/in/sales.csv"
    USING Extractors.Csv();

@big =
    SELECT region, SUM(quantity) AS units, COUNT(*) AS n, MAX(amount) AS top, MIN(at) AS first
    FROM @sales
    WHERE amount > 10.0
    GROUP BY region;

OUTPUT @big TO "/out/by_region.csv" ORDER BY region USING Outputters.Csv(outputHeader: true);
"""

CHILD = r"""
import json, os, sys, time
engine, master, script, store = sys.argv[1:5]
def hwm(pid):
    for x in open(f"/proc/{pid}/status"):
        if x.startswith("VmHWM"):
            return int(x.split()[1]) / 1024
from usqlrw.engine import run_file
start = 0.0
jvm = None
if engine == "spark":
    t = time.perf_counter()
    from usqlrw.engine.spark_engine import session
    s = session(master)
    jvm = s._jvm.java.lang.ProcessHandle.current().pid()
    start = time.perf_counter() - t
t = time.perf_counter()
run_file(script, store, engine=engine, master=master if engine == "spark" else None)
job = time.perf_counter() - t
out = {"job": job, "start": start, "py_mb": hwm("self"), "jvm_mb": hwm(jvm) if jvm else 0.0}
print("RESULT " + json.dumps(out))
"""


def generate(path: str, rows: int) -> None:
    rnd = random.Random(42)
    regions = ["north", "south", "east", "west", "central", "Nord-Ost", "überall", "x,y"]
    with open(path, "w", encoding="utf-8", newline="") as f:
        buf = []
        for i in range(rows):
            r = regions[rnd.randrange(len(regions))]
            r = f'"{r}"' if "," in r else r
            buf.append(f"{i},{r},{rnd.random() * 100:.2f},{rnd.randrange(1, 50)},"
                       f"2024-{1 + i % 12:02d}-{1 + i % 28:02d} {i % 24:02d}:{i % 60:02d}:{(i * 7) % 60:02d}\n")
            if len(buf) == 100000:
                f.write("".join(buf))
                buf.clear()
        f.write("".join(buf))


def one(engine, master, script, store) -> dict:
    out = os.path.join(store, "out", "by_region.csv")
    if os.path.exists(out):
        os.remove(out)
    r = subprocess.run([sys.executable, "-c", CHILD, engine, master or "", script, store],
                       capture_output=True, text=True)
    if r.returncode:
        raise SystemExit(r.stderr[-3000:])
    at = r.stdout.rfind("RESULT ")       # after DuckDB's progress bar, on the same line
    if at < 0:
        raise SystemExit(f"{engine} {master or ''}: no result\n{r.stdout[-2000:]}\n{r.stderr[-2000:]}")
    res = json.loads(r.stdout[at + 7:].splitlines()[0])
    with open(out, "rb") as f:
        res["output"] = f.read()
    return res


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=10_000_000)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--alternate", action="store_true", help="interleave the engines run by run")
    a = ap.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        store = os.path.join(tmp, "store")
        os.makedirs(os.path.join(store, "in"))
        data = os.path.join(store, "in", "sales.csv")
        t = time.perf_counter()
        generate(data, a.rows)
        print(f"generated {a.rows:,} rows ({os.path.getsize(data) / 1e6:.0f} MB) in {time.perf_counter() - t:.0f}s",
              flush=True)
        script = os.path.join(tmp, "job.usql")
        with open(script, "w") as f:
            f.write(SCRIPT)
        outputs = set()
        setups = (("duckdb", None), ("spark", "local[2]"), ("spark", "local[1]"))
        results = {k: [] for k in setups}
        if a.alternate:
            for _ in range(a.runs):
                for k in setups:
                    results[k].append(one(*k, script, store))
        for engine, master in setups:
            runs = results[(engine, master)] or [one(engine, master, script, store) for _ in range(a.runs)]
            outputs.update(r["output"] for r in runs)
            jobs = [r["job"] for r in runs]
            name = engine + (f" {master}" if master else "")
            line = (f"{name:16} job: median {statistics.median(jobs):6.1f}s (best {min(jobs):.1f}s) over {a.runs}; "
                    f"peak python {max(r['py_mb'] for r in runs):.0f} MB")
            if engine == "spark":
                line += (f", JVM {max(r['jvm_mb'] for r in runs):.0f} MB; "
                         f"session start median {statistics.median(r['start'] for r in runs):.1f}s")
            print(line, flush=True)
        print("outputs identical on all engines and runs:", len(outputs) == 1)
        if len(outputs) != 1:
            raise SystemExit("the engines disagree")
        print(next(iter(outputs)).decode("utf-8"))


if __name__ == "__main__":
    main()
