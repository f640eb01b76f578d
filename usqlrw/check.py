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
