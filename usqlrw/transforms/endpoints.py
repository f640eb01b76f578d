"""Endpoint swap: every location of the primary region becomes the secondary's.

Locations are folded through concatenation and DECLAREd constants (usqlrw.resolve), so the
literal that holds the account or prefix is the one edited, wherever it stands: in the EXTRACT
itself, in a DECLARE, or in one part of a concatenation. A location whose deciding part is built
at run time gets a warning (RW001) instead of a guess. Any other string literal that holds an
absolute location of a mapped store is rewritten too (UDO arguments, for instance); server names
in data source provider strings follow ``data_source_servers``. Comments are never touched.
"""
from __future__ import annotations

from .. import ast as A
from ..diagnostics import Diagnostic
from ..locations import Unsafe, change_for, is_absolute, server_changes
from ..resolve import locations
from .literals import literal_edit

NAME = "endpoints"
DESCRIPTION = "Swap input/output locations, assembly and resource files to the secondary stores."


def _warn(path, node, code, message) -> Diagnostic:
    return Diagnostic(path or "<string>", node.span.line, node.span.column, code, message, "warning")


def edits(script: A.Script, config, path=None):
    text = script.source.text
    out, warnings = [], []
    handled: set[int] = set()   # literals already treated as (part of) a location
    for loc in locations(script):
        folded = loc.folded
        for p in folded.pieces:
            if p.literal is not None:
                handled.add(id(p.literal))
        prefix = folded.known_prefix
        if not folded.pieces or folded.pieces[0].literal is None:
            # Nothing known at the start: the whole location is computed at run time.
            what = type(folded.pieces[0].node).__name__ if folded.pieces else "expression"
            if config.absolutize_relative or config.locations or config.all_stores or config.blob_accounts:
                warnings.append(_warn(path, loc.node, "RW001",
                                      f"{loc.role} location is computed at run time ({what}); "
                                      "check by hand that it points at the secondary"))
            continue
        try:
            ch = change_for(prefix, config, complete=folded.complete)
        except Unsafe as e:
            warnings.append(_warn(path, loc.node, "RW001", f"{loc.role} location {folded.display()!r}: {e}"))
            continue
        if ch is None:
            continue
        # Find the literal piece that holds [ch.start, ch.end) of the prefix.
        pos, target = 0, None
        for p in folded.pieces:
            if p.literal is None:
                break
            a, b = pos, pos + (p.end - p.start)
            if (a <= ch.start <= b) if ch.start == ch.end else (a <= ch.start and ch.end <= b):
                target = (p, ch.start - a + p.start, ch.end - a + p.start)
                break
            pos = b
        if target is None:
            warnings.append(_warn(path, loc.node, "RW002",
                                  f"{loc.role} location {folded.display()!r}: the part to change spans "
                                  "several strings; rewrite it by hand"))
            continue
        p, s, e = target
        reason = ch.reason + (f" (via {', '.join(folded.via)})" if folded.via else "")
        out.append(literal_edit(text, p.literal, s, e, ch.replacement, reason))
    # Absolute locations in any other string literal.
    for n in A.walk(script):
        if isinstance(n, A.StringLiteral) and id(n) not in handled and is_absolute(n.value):
            try:
                ch = change_for(n.value, config, complete=True)
            except Unsafe:
                ch = None
            if ch is not None and not ch.reason.startswith("relative"):
                out.append(literal_edit(text, n, ch.start, ch.end, ch.replacement, ch.reason))
        elif (isinstance(n, A.Construct) and n.kind == "DataSourceOption" and config.servers
              and n.items and isinstance(n.items[0], A.Identifier) and n.items[0].name == "PROVIDER_STRING"):
            for x in n.items[1:]:
                if isinstance(x, A.StringLiteral):
                    for ch in server_changes(x.value, config):
                        out.append(literal_edit(text, x, ch.start, ch.end, ch.replacement, ch.reason))
    return out, warnings
