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
from ..resolve import argument_nodes, fold, iter_scoped, locations
from .literals import literal_edit

NAME = "endpoints"
DESCRIPTION = "Swap input/output locations, assembly and resource files to the secondary stores."


def _warn(path, node, code, message) -> Diagnostic:
    return Diagnostic(path or "<string>", node.span.line, node.span.column, code, message, "warning")


def _piece_edit(text, folded, ch):
    """The edit that makes change ``ch`` of the folded prefix in the one literal that holds it."""
    pos = 0
    for p in folded.pieces:
        if p.literal is None:
            break
        a, b = pos, pos + (p.end - p.start)
        if (a <= ch.start <= b) if ch.start == ch.end else (a <= ch.start and ch.end <= b):
            return p, ch.start - a + p.start, ch.end - a + p.start
        pos = b
    return None


def edits(script: A.Script, config, path=None):
    text = script.source.text
    out, warnings = [], []
    handled: set[int] = set()   # literals already treated as (part of) a location
    edited: set[tuple] = set()

    def apply(loc_node, role, folded, absolute_only=False):
        prefix = folded.known_prefix
        if not folded.pieces or folded.pieces[0].literal is None:
            if absolute_only:
                return
            # Nothing known at the start: the whole location is computed at run time.
            what = "an expression" if not folded.pieces else _describe(folded.pieces[0].node)
            if config.absolutize_relative or config.locations or config.all_stores or config.blob_accounts:
                warnings.append(_warn(path, loc_node, "RW001",
                                      f"{role} location is computed at run time ({what}); "
                                      "check by hand that it points at the secondary"))
            return
        if absolute_only and not is_absolute(prefix):
            return
        try:
            ch = change_for(prefix, config, complete=folded.complete)
        except Unsafe as e:
            warnings.append(_warn(path, loc_node, "RW001", f"{role} location {folded.display()!r}: {e}"))
            return
        if ch is None or (absolute_only and ch.reason.startswith("relative")):
            return
        target = _piece_edit(text, folded, ch)
        if target is None:
            warnings.append(_warn(path, loc_node, "RW002",
                                  f"{role} location {folded.display()!r}: the part to change spans "
                                  "several strings; rewrite it by hand"))
            return
        p, s, e = target
        key = (p.literal.span.start, s, e)
        if key in edited:    # a DECLARE used in two places is edited once
            return
        edited.add(key)
        reason = ch.reason + (f" (via {', '.join(folded.via)})" if folded.via else "")
        out.append(literal_edit(text, p.literal, s, e, ch.replacement, reason))

    for loc in locations(script):
        for p in loc.folded.pieces:
            if p.literal is not None:
                handled.add(id(p.literal))
        apply(loc.node, loc.role, loc.folded)
    for stmt, sc in iter_scoped(script.statements):
        for arg in argument_nodes(stmt):
            folded = fold(arg, sc.env)
            if folded.pieces and folded.pieces[0].literal is not None and is_absolute(folded.known_prefix):
                for p in folded.pieces:
                    if p.literal is not None:
                        handled.add(id(p.literal))
                apply(arg, "argument", folded, absolute_only=True)
    for n in A.walk(script):
        if isinstance(n, A.DataSourceOption) and config.servers and n.name.name.upper() == "PROVIDER_STRING":
            if isinstance(n.value, A.StringLiteral):
                handled.add(id(n.value))
                for ch in server_changes(n.value.value, config):
                    out.append(literal_edit(text, n.value, ch.start, ch.end, ch.replacement, ch.reason))
        elif isinstance(n, A.StringLiteral) and id(n) not in handled and is_absolute(n.value):
            # A string that only meets row data (compared, projected) is data: it stays as written.
            try:
                ch = change_for(n.value, config, complete=True)
            except Unsafe:
                ch = None
            if ch is not None and not ch.reason.startswith("relative"):
                warnings.append(_warn(path, n, "RW003", f"{n.value!r} looks like a primary location but "
                                      "is row data here, not a place the job reads or writes: left as written"))
    return out, warnings


def _describe(node) -> str:
    """What a run-time part of a location is, in words an author knows."""
    if isinstance(node, A.Variable):
        return f"{node.name} is not a constant" if not node.system else f"system variable {node.name}"
    if isinstance(node, A.Call):
        return "a function call"
    if isinstance(node, A.MemberAccess):
        return "a member access"
    if isinstance(node, A.Conditional):
        return "a ?: expression"
    return "an expression"
