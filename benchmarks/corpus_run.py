"""Run the scripts `usqlrw check --runnable` accepts on small generated inputs.

    .venv/bin/python benchmarks/corpus_run.py FOLDER [--show]

For each runnable script: a fresh store; whenever the job stops on a missing input file, a small
file is written for that EXTRACT (three rows of plain values of each column's type, the header
rows skipFirstNRows skips, the extractor's delimiter; file set braces filled with a value of
their format), and the job is run again (up to 20 times). Catalog tables a script reads must be
created by the script itself. Prints how many ran, and the reasons of the rest. Asserts nothing.
"""
from __future__ import annotations

import argparse
import collections
import os
import re
import sys
import tempfile

from usqlrw import ast as A
from usqlrw.engine import EngineError, run_file, runnable
from usqlrw.engine import job as job_mod
from usqlrw.engine.formats import extract_options
from usqlrw.engine.types import from_ast
from usqlrw.source import decode

SAMPLE = {"int": ["1", "2", "3"], "long": ["10", "20", "30"], "short": ["1", "2", "3"], "byte": ["1", "2", "3"],
          "double": ["1.5", "2.25", "3"], "float": ["1.5", "2.5", "3"], "decimal": ["1.50", "2", "3.25"],
          "bool": ["true", "false", "true"], "DateTime": ["2017-01-15T10:00:00", "2017-02-01T00:00:00",
                                                          "2018-03-04T05:06:07"],
          "string": ["alpha", "beta", "gamma"], "Guid": ["6f9619ff-8b86-d011-b42d-00c04fc964ff"] * 3,
          "char": ["65", "66", "67"]}
FILL = {"yyyy": "2017", "yy": "17", "MM": "01", "M": "1", "dd": "15", "d": "15", "HH": "10", "H": "10",
        "mm": "00", "ss": "00", "*": "part"}


def _fill(pattern: str, types: dict) -> str:
    def rep(m):
        spec = m.group(1)
        if spec == "*":
            return FILL["*"]
        name, _, fmt = spec.partition(":")
        if fmt:
            return FILL.get(fmt, "01")
        t = types.get(name)
        return "1" if t is not None and t.is_numeric else "sample"
    return re.sub(r"\{([^{}]*)\}", rep, pattern)


def _generate(node: A.Extract, pattern: str) -> None:
    o = extract_options(node.using)
    cols = [(c.name.name, from_ast(c.type)) for c in node.columns if isinstance(c, A.ColumnDefinition)]
    types = dict(cols)
    virtual = set(re.findall(r"\{([^{}:*]+)", pattern))
    data = [(n, t) for n, t in cols if n not in virtual]
    path = _fill(pattern, types)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    lines = ["header" + o.delimiter + "row"] * o.skip
    for i in range(3):
        lines.append(o.delimiter.join(SAMPLE.get(t.name, ["1"] * 3)[i] for _, t in data))
    enc = "utf-16" if o.encoding == "utf-16" else "utf-8"
    with open(path, "w", encoding=enc, newline="") as f:
        f.write("\n".join(lines) + "\n")


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("folder")
    ap.add_argument("--show", action="store_true", help="print each failure")
    a = ap.parse_args(argv)
    real = job_mod.Job.input_files

    def input_files(self, globs, node, patterns=None):
        try:
            return real(self, globs, node, patterns)
        except EngineError:
            for i, g in enumerate(globs):
                if not real.__wrapped_check__(g):
                    _generate(node, patterns[i] if patterns else g)
            raise
    real.__wrapped_check__ = lambda g: bool(__import__("glob").glob(g))
    job_mod.Job.input_files = input_files
    scripts = []
    for root, _, files in os.walk(a.folder):
        scripts += [os.path.join(root, f) for f in files if f.endswith(".usql")]
    ok = blocked = 0
    reasons = collections.Counter()
    stores: dict = {}
    with tempfile.TemporaryDirectory() as tmp:
        for path in sorted(scripts, key=lambda p: [int(x) if x.isdigit() else x for x in re.split(r"(\d+)", p)]):
            text = decode(open(path, "rb").read()).text
            if runnable(text, path):
                blocked += 1
                continue
            # the scripts of one folder share a store, run in natural name order (a later one reads the
            # tables an earlier one created)
            store = stores.setdefault(os.path.dirname(path), os.path.join(tmp, str(len(stores))))
            os.makedirs(store, exist_ok=True)
            err = None
            for _ in range(20):
                try:
                    run_file(path, store)
                    err = None
                    break
                except EngineError as e:
                    err = e
                    if "no input file" not in e.message:
                        break
            if err is None:
                ok += 1
            else:
                msg = re.sub(r"'[^']*'|\"[^\"]*\"|\b\d+\b", "…", err.message)
                reasons[msg[:110]] += 1
                if a.show:
                    print(err, file=sys.stderr)
    runnable_n = len(scripts) - blocked
    print(f"{len(scripts)} scripts, {runnable_n} accepted by check --runnable, {ok} ran on generated inputs")
    for r, c in reasons.most_common():
        print(f"  {c:3d}  {r}")


if __name__ == "__main__":
    main()
