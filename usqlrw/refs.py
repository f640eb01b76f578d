"""What a failover touches in a script: resolved catalog references and locations, as rows."""
from __future__ import annotations

from .files import Input


def _q(parts) -> str:
    return ".".join(p for p in parts if p is not None)


def collect(inp: Input, config=None):
    """(rows, error): one row per reference and location; error is a Diagnostic if it failed."""
    from .diagnostics import Diagnostic, from_syntax_error
    from .locations import Unsafe, change_for
    from .parser import USqlSyntaxError, parse
    from .resolve import locations, references
    from .ast import ObjectKind
    from .transforms.catalog import _mapped, _new_account

    if inp.data is None:
        return [], Diagnostic(inp.path, 1, 1, "IO", f"cannot read: {inp.error}")
    try:
        script = parse(inp.data, path=inp.path)
    except USqlSyntaxError as e:
        return [], from_syntax_error(e)
    except Exception as e:  # a bug: one line, and the batch goes on
        return [], Diagnostic(inp.path, 1, 1, "INT", f"internal error ({type(e).__name__}: {e}); please report it")
    rows = []
    acct = config.primary_analytics if config else None
    for r in references(script):
        written = r.node.written
        row = {"path": inp.path, "line": r.node.span.line, "column": r.node.span.column,
               "what": "reference", "role": f"{r.kind} {r.action}", "written": written,
               "primary": _q((r.account or acct, *r.qualified)) if r.database else written}
        if config and r.database:
            db, schema, name = _mapped(r, config)
            account = _new_account(r.account, config) if r.account else config.secondary_analytics
            parts = [account, db]
            if r.kind is ObjectKind.SCHEMA:
                parts += [schema]
            elif r.schema is not None:
                parts += [schema, name]
            elif r.kind is not ObjectKind.DATABASE:
                parts += [name]
            row["secondary"] = _q(parts)
        rows.append(row)
    for loc in locations(script):
        f = loc.folded
        row = {"path": inp.path, "line": loc.node.span.line, "column": loc.node.span.column,
               "what": "location", "role": loc.role, "primary": f.display(), "static": f.complete}
        if config:
            try:
                ch = change_for(f.known_prefix, config, complete=f.complete) if f.pieces and f.pieces[0].literal else None
                if ch is None:
                    row["secondary"] = row["primary"]
                else:
                    pre = f.known_prefix
                    row["secondary"] = pre[:ch.start] + ch.replacement + row["primary"][ch.end:]
            except Unsafe as e:
                row["secondary"] = f"(check by hand: {e})"
        rows.append(row)
    rows.sort(key=lambda r: (r["line"], r["column"]))
    return rows, None
