"""Lint rules for U-SQL scripts: one module per family, one registry, one list of diagnostics.

Families: :mod:`usqlrw.lint.semantic` (what the U-SQL compiler rejects but a parse accepts) and
:mod:`usqlrw.lint.dr` (what makes a failover to the secondary region fail). Every rule has a stable
code, a short name, a one-line summary and a long explanation with a bad and a good example
(``usqlrw rules CODE``).

    >>> from usqlrw.lint import lint_text
    >>> [d.code for d in lint_text('OUTPUT @missing TO "/out.csv" USING Outputters.Csv();')]
    ['SEM005']

Findings can be silenced in the script with ``// usqlrw: ignore[CODE, ...]`` at the end of a line
(that line) or on a line of its own (the next statement); ``// usqlrw: ignore`` without codes
silences every rule there, and ``// usqlrw: ignore-file[CODE]`` the whole file. Suppressions that
name no rule (SUP001) or silence nothing (SUP002) are reported.
"""
from __future__ import annotations

from .registry import RULES, Rule, all_rules, get_rule, select_rules

__all__ = ["RULES", "Rule", "all_rules", "get_rule", "select_rules", "run_rules"]


def run_rules(script, path: str, rules=None, dr_config=None):
    """Diagnostics of ``rules`` (default: every rule) on a parsed script, suppressions applied."""
    from .context import Context
    from .suppress import Suppressions
    ctx = Context(script, path, dr_config)
    rules = all_rules() if rules is None else rules
    sup = Suppressions.of(ctx)
    out, ran = [], set()
    for rule in rules:
        if rule.check is None or (rule.needs_config and dr_config is None):
            continue
        ran.add(rule.code)
        for d in rule.check(ctx):
            if not sup.suppressed(d.code, d.line):
                out.append(d)
    out += sup.problems(ctx, {r.code for r in rules}, ran)
    return sorted(set(out), key=lambda d: (d.line, d.column, d.code, d.message))
