"""Checking scripts: parse errors first, then the lint rules (usqlrw.lint) on scripts that parse."""
from __future__ import annotations

from .diagnostics import Diagnostic, from_syntax_error
from .files import Input


def check_bytes(data: bytes | str, path: str = "<string>", rules=None) -> list[Diagnostic]:
    """Diagnostics for one script: a syntax error, or what the selected rules find."""
    from .parser import USqlSyntaxError, parse
    try:
        script = parse(data, path=path)
    except USqlSyntaxError as e:
        return [from_syntax_error(e)]
    except Exception as e:  # a bug in usqlrw: say so on one line, and let the batch go on
        return [Diagnostic(path, 1, 1, "INT", f"internal error while parsing ({type(e).__name__}: {e}); please report it")]
    if rules is None:
        return []
    return sorted(rules(script, path), key=lambda d: (d.line, d.column, d.code))


def check_input(inp: Input, rules=None) -> list[Diagnostic]:
    if inp.data is None:
        return [Diagnostic(inp.path, 1, 1, "IO", f"cannot read: {inp.error}")]
    return check_bytes(inp.data, inp.path, rules)
