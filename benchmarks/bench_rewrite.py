"""Failover rewrite of a folder of generated scripts: files per second on N cores, and peak memory.

usage: python benchmarks/bench_rewrite.py [--files 10000] [--jobs 2] [--keep DIR]

Generates scripts from a few templates (ingest, aggregation, DDL, export, each with its own
locations and catalog names), then runs the same code path as `usqlrw rewrite --out`, in a new
process, and reports wall time, files/s and the peak resident memory of the parent and of the
worker processes. Figures vary run to run; compare within one run.
"""
from __future__ import annotations

import argparse
import os
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

CONFIG = """
[primary]
analytics_account = "benchprod-adla"
store_account = "benchprod"
[secondary]
analytics_account = "benchdr-adla"
store_account = "benchdr"
[blob_accounts]
benchblob = "benchblobdr"
[catalog.databases]
Sales = "SalesDR"
"""

TEMPLATES = [
    """// ingest {i}
DECLARE EXTERNAL @day DateTime = DateTime.Parse("2024-01-{d:02}");
DECLARE @root string = "adl://benchprod.azuredatalakestore.net/raw/{i}/";
@rows =
    EXTRACT Id int, Name string, Amount decimal?, date DateTime
    FROM @root + "{{date:yyyy}}/{{date:MM}}/{{date:dd}}/{{*}}.csv"
    USING Extractors.Csv(skipFirstNRows: 1);
@clean = SELECT Id, Name.Trim() AS Name, Amount ?? 0m AS Amount, date FROM @rows WHERE date == @day;
INSERT INTO Sales.dbo.Facts{i} (Id, Name, Amount, Day) PARTITION (@day)
SELECT Id, Name, Amount, date FROM @clean;
""",
    """USE DATABASE Sales;
@agg =
    SELECT Name, SUM(Amount) AS Total, COUNT(*) AS N
    FROM dbo.Facts{i} AS f INNER JOIN dbo.Dim AS d ON f.Id == d.Id
    GROUP BY Name HAVING SUM(Amount) > {d};
OUTPUT @agg TO "/reports/{i}/totals.csv" ORDER BY Total DESC USING Outputters.Csv(outputHeader: true);
""",
    """CREATE TABLE IF NOT EXISTS Sales.dbo.Facts{i}
(
    Id int, Name string, Amount decimal?, Day DateTime,
    INDEX ix CLUSTERED (Id ASC) PARTITIONED BY (Day) DISTRIBUTED BY HASH (Id) INTO {d}
);
""",
    """@x = SELECT * FROM Sales.dbo.Facts{i};
OUTPUT @x TO "wasbs://out@benchblob.blob.core.windows.net/{i}/x.tsv" USING Outputters.Tsv();
""",
]


def generate(root: Path, n: int) -> int:
    rnd = random.Random(42)
    size = 0
    for i in range(n):
        text = TEMPLATES[i % len(TEMPLATES)].format(i=i, d=rnd.randint(1, 28))
        sub = root / f"team{i % 20:02}"
        sub.mkdir(exist_ok=True)
        (sub / f"job{i:05}.usql").write_text(text)
        size += len(text)
    return size


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--files", type=int, default=10000)
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--keep")
    a = ap.parse_args()
    tmp = Path(a.keep or tempfile.mkdtemp(prefix="usqlrw-bench-"))
    src, out = tmp / "src", tmp / "out"
    shutil.rmtree(src, ignore_errors=True)
    shutil.rmtree(out, ignore_errors=True)
    src.mkdir(parents=True)
    size = generate(src, a.files)
    (tmp / "dr.toml").write_text(CONFIG)
    t = time.perf_counter()
    p = subprocess.run([sys.executable, "-m", "usqlrw", "rewrite", "-c", str(tmp / "dr.toml"), "-j", str(a.jobs),
                        "--out", str(out), str(src)], capture_output=True, text=True)
    wall = time.perf_counter() - t
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    written = sum(1 for _ in out.rglob("*.usql"))
    print(p.stderr.strip().splitlines()[-1] if p.stderr.strip() else "(no summary)")
    print(f"{a.files} scripts ({size / 1e6:.1f} MB), {a.jobs} process(es): {wall:.2f} s wall, "
          f"{a.files / wall:.0f} files/s, {size / wall / 1e6:.2f} MB/s, {written} written")
    cpu = ru.ru_utime + ru.ru_stime
    print(f"CPU time of all processes: {cpu:.2f} s ({a.files / cpu:.0f} files per CPU second; the load "
          f"average was {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores)")
    print(f"peak RSS of the largest child process: {ru.ru_maxrss / 1024:.0f} MiB")
    if not a.keep:
        shutil.rmtree(tmp, ignore_errors=True)
    return 0 if p.returncode == 0 and written == a.files else 1


if __name__ == "__main__":
    raise SystemExit(main())
