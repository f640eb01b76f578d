"""`usqlrw run` against the same query written directly in DuckDB SQL, on a generated CSV.

    .venv/bin/python benchmarks/bench_run.py [--rows N] [--runs N]

Generates a CSV of N rows (default 1,000,000: id, region, amount, quantity, a timestamp), then,
in one process and alternating, runs
  - the U-SQL job (EXTRACT with Extractors.Csv, a WHERE, GROUP BY with SUM/COUNT/AVG/MAX, OUTPUT
    with ORDER BY) through usqlrw.engine.run_file (parse, lowering, DuckDB, the output writer);
  - the same query by hand in DuckDB SQL (read_csv with typed columns, COPY ... TO a CSV),
and prints the median times and their ratio (usqlrw / DuckDB; also the median of the paired
ratios and best/best, steadier on a shared machine), then the peak memory (peak RSS) of each in a
fresh process. Prints figures; asserts nothing.
"""
from __future__ import annotations

import argparse
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
    USING Extractors.Csv(skipFirstNRows: 1);

@big =
    SELECT region, SUM(quantity) AS units, COUNT(*) AS n, AVG(amount) AS mean, MAX(amount) AS top
    FROM @sales
    WHERE amount > 10.0
    GROUP BY region;

OUTPUT @big TO "/out/by_region.csv" ORDER BY region USING Outputters.Csv(outputHeader: true);
"""

DUCK = """
COPY (
    SELECT region, CAST(SUM(quantity) AS BIGINT) AS units, COUNT(*) AS n, AVG(amount) AS mean, MAX(amount) AS top
    FROM read_csv('{path}', header = true, auto_detect = false, delim = ',', quote = '"',
                  columns = {{'id': 'BIGINT', 'region': 'VARCHAR', 'amount': 'DOUBLE', 'quantity': 'INTEGER',
                             'at': 'TIMESTAMP'}})
    WHERE amount > 10.0
    GROUP BY region
    ORDER BY region
) TO '{out}' (HEADER, FORCE_QUOTE (region))
"""


def generate(path: str, rows: int) -> None:
    rnd = random.Random(42)
    regions = ["north", "south", "east", "west", "central", "Nord-Ost", "überall", "x,y"]
    with open(path, "w", encoding="utf-8", newline="") as f:
        f.write("id,region,amount,quantity,at\n")
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


def run_usql(store: str, script: str) -> float:
    from usqlrw.engine import run_file
    t = time.perf_counter()
    run_file(script, store)
    return time.perf_counter() - t


def run_duck(path: str, out: str) -> float:
    import duckdb
    t = time.perf_counter()
    con = duckdb.connect()
    con.execute(DUCK.format(path=path, out=out))
    con.close()
    return time.perf_counter() - t


def peak(code: str) -> float:
    """Peak RSS (MB) of a fresh process running ``code``: VmHWM, which exec resets (ru_maxrss of a
    child also counts the parent's memory at fork)."""
    code += ("\nprint([int(x.split()[1]) for x in open('/proc/self/status') if x.startswith('VmHWM')][0])")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    if r.returncode:
        raise SystemExit(r.stderr)
    return int(r.stdout.split()[-1]) / 1024


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--runs", type=int, default=9)
    a = ap.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        store = os.path.join(tmp, "store")
        os.makedirs(os.path.join(store, "in"))
        data = os.path.join(store, "in", "sales.csv")
        t = time.perf_counter()
        generate(data, a.rows)
        print(f"generated {a.rows:,} rows ({os.path.getsize(data) / 1e6:.1f} MB) in {time.perf_counter() - t:.1f}s")
        script = os.path.join(tmp, "job.usql")
        with open(script, "w") as f:
            f.write(SCRIPT)
        out = os.path.join(tmp, "duck.csv")
        run_usql(store, script)          # warm-up: imports, parser cache, file cache
        run_duck(data, out)
        us, dk = [], []
        for _ in range(a.runs):
            us.append(run_usql(store, script))
            dk.append(run_duck(data, out))
        mu, md = statistics.median(us), statistics.median(dk)
        print(f"usqlrw run: median {mu:.3f}s (best {min(us):.3f}s) over {a.runs} runs")
        print(f"DuckDB SQL: median {md:.3f}s (best {min(dk):.3f}s)")
        print(f"overhead ratio (median usqlrw / median DuckDB): {mu / md:.2f}; "
              f"median of the {a.runs} paired ratios: {statistics.median(u / d for u, d in zip(us, dk)):.2f}; "
              f"best / best: {min(us) / min(dk):.2f}")
        print(open(os.path.join(store, "out", "by_region.csv"), encoding="utf-8").read().splitlines()[1])
        mem_u = peak(f"from usqlrw.engine import run_file; run_file({script!r}, {store!r})")
        mem_d = peak("import duckdb; c = duckdb.connect(); c.execute(" + repr(DUCK.format(path=data, out=out)) + ")")
        print(f"peak memory (VmHWM of a fresh process): usqlrw run {mem_u:.0f} MB, DuckDB SQL {mem_d:.0f} MB")


if __name__ == "__main__":
    main()
