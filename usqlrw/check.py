"""Checking scripts: parse errors first, then the lint rules (usqlrw.lint) on scripts that parse."""
from __future__ import annotations

from .diagnostics import Diagnostic, from_syntax_error
from .files import Input


def check_bytes(data: bytes | str, path: str = "<string>", rules=None) -> list[Diagnostic]:
    """Diagnostics for one script: a syntax error, or what ``rules(script, path)`` finds."""
    from .parser import USqlSyntaxError, parse
    try:
        script = parse(data, path=path)
    except USqlSyntaxError as e:
        return [from_syntax_error(e)]
    except Exception as e:  # a bug in usqlrw: say so on one line, and let the batch go on
        return [Diagnostic(path, 1, 1, "INT", f"internal error while parsing ({type(e).__name__}: {e}); please report it")]
    if rules is None:
        return []
    try:
        found = list(rules(script, path))
    except Exception as e:  # a bug in a rule: report it, keep the batch going
        return [Diagnostic(path, 1, 1, "INT", f"internal error in the lint rules ({type(e).__name__}: {e}); please report it")]
    return sorted(found, key=lambda d: (d.line, d.column, d.code))


def check_input(inp: Input, rules=None) -> list[Diagnostic]:
    if inp.data is None:
        return [Diagnostic(inp.path, 1, 1, "IO", f"cannot read: {inp.error}")]
    return check_bytes(inp.data, inp.path, rules)


def lint_rules(select=None, ignore=None, dr_config=None):
    """A ``rules`` callable for :func:`check_bytes` running the chosen lint rules."""
    from .lint import run_rules
    from .lint.registry import select_rules
    chosen = select_rules(select, ignore)
    return lambda script, path: run_rules(script, path, chosen, dr_config)


class RuleSet:
    """The rules for one group of files (codes and DR config): a picklable ``rules`` callable."""

    def __init__(self, rules, dr_config=None):
        self.codes = tuple(r.code for r in rules)
        self.dr_config = dr_config
        self._rules = list(rules)

    def __getstate__(self):
        return {"codes": self.codes, "dr_config": self.dr_config}

    def __setstate__(self, state):
        from .lint.registry import get_rule
        self.codes, self.dr_config = state["codes"], state["dr_config"]
        self._rules = [get_rule(c) for c in self.codes]

    def __call__(self, script, path):
        from .lint import run_rules
        return run_rules(script, path, self._rules, self.dr_config)


_worker_rules: list = []


def _init_worker(rulesets):
    global _worker_rules
    _worker_rules = rulesets


def _check_one(item):
    inp, k = item
    return check_input(inp, _worker_rules[k])


def check_many(items, jobs: int | None = None, on_result=None):
    """Check ``(Input, rules)`` pairs in order, in ``jobs`` processes (default: all cores, up to 8,
    for 64 files or more). Yields one diagnostics list per input, in input order; ``on_result(done,
    total)`` is called as each ends. A failure in one file is a diagnostic, never an exception."""
    import os
    items = list(items)
    total = len(items)
    if jobs is None:
        jobs = min(os.cpu_count() or 1, 8) if total >= 64 else 1
    if jobs <= 1 or total < 2:
        for i, (inp, rules) in enumerate(items, 1):
            d = check_input(inp, rules)
            if on_result:
                on_result(i, total)
            yield d
        return
    import multiprocessing as mp
    from concurrent.futures import ProcessPoolExecutor
    from .parser import prepare
    prepare()   # load the parse tables once, before the workers fork
    rulesets, index, work = [], {}, []
    for inp, rules in items:
        if id(rules) not in index:
            index[id(rules)] = len(rulesets)
            rulesets.append(rules)
        work.append((inp, index[id(rules)]))
    ctx = mp.get_context("fork") if hasattr(os, "fork") else None
    with ProcessPoolExecutor(max_workers=jobs, mp_context=ctx, initializer=_init_worker,
                             initargs=(rulesets,)) as ex:
        chunk = max(1, min(32, total // (jobs * 8) or 1))
        for i, d in enumerate(ex.map(_check_one, work, chunksize=chunk), 1):
            if on_result:
                on_result(i, total)
            yield d


def lint_text(text, path: str = "<string>", select=None, ignore=None, dr_config=None):
    """Parse ``text`` and run the selected rules on it; syntax errors come back as PRS diagnostics."""
    from .lint import run_rules
    from .lint.registry import select_rules
    rules = select_rules(select, ignore)
    return check_bytes(text, path, lambda script, p: run_rules(script, p, rules, dr_config))
