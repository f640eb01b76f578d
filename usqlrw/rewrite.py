"""The rewrite engine: parse, run the transforms, apply their edits, verify the result.

``rewrite_text`` (text or bytes) and ``rewrite_script`` are the API; ``usqlrw rewrite`` is a thin shell over them.
Only the bytes the edits name change; the output keeps the input's encoding, BOM and line endings.
Every output is parsed again before it is returned and must be the input's tree apart from the
names and literals the edits target (:func:`changed_elsewhere`, the rewrite proof); a rewrite of a
rewrite changes nothing.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from .source import EditConflict, Source, apply_edits


class RewriteError(Exception):
    """The rewrite would produce something wrong (conflicting edits, output that does not parse)."""


@dataclass
class RewriteResult:
    path: str | None
    source: Source
    text: str
    edits: list = field(default_factory=list)
    warnings: list = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return self.text != self.source.text

    @property
    def data(self) -> bytes:
        """The rewritten script in the input's encoding, BOM included."""
        return self.source.encode(self.text)


def edits_for(script, config, path=None):
    """All edits and warnings of all transforms for a parsed script."""
    from .transforms import TRANSFORMS
    edits, warnings = [], []
    for t in TRANSFORMS:
        e, w = t.edits(script, config, path)
        edits += e
        warnings += w
    return edits, warnings


#: Node classes an edit may change: catalog names (renamed parts, a schema written in) and the
#: string literals that hold locations.
_EDITABLE = ("ObjectName", "Identifier", "StringLiteral")


def changed_elsewhere(before, after, edits):
    """The rewrite proof: None when ``after`` (the re-parsed output) is ``before`` apart from the
    names and literals the edits touch; else the first node of ``before`` where they differ."""
    from .ast import same_tree
    ranges = sorted((e.start, e.end) for e in edits)

    def targeted(x, _y):
        if x.kind not in _EDITABLE:
            return False
        a, b = x.span.start, x.span.end
        return any(s <= b and a <= e for s, e in ranges)
    return same_tree(before, after, ignore=targeted)


def rewrite_script(script, config, path=None, verify: bool = True) -> RewriteResult:
    from .parser import USqlSyntaxError, parse_source
    src = script.source
    edits, warnings = edits_for(script, config, path)
    try:
        text = apply_edits(src.text, edits)
    except EditConflict as e:
        raise RewriteError(f"{path or '<string>'}: conflicting edits: {e}") from None
    if verify and text != src.text:
        try:
            again = parse_source(Source(text, src.encoding, src.bom, src.newline), path)
        except USqlSyntaxError as e:
            raise RewriteError(f"the rewritten script would not parse ({e}); nothing written") from None
        where = changed_elsewhere(script, again, edits)
        if where is not None:
            raise RewriteError(f"{path or '<string>'}:{where.span.line}:{where.span.column}: the rewritten "
                               f"script would differ from the input at this {where.kind}, which no edit "
                               "targeted; nothing written")
    edits.sort(key=lambda e: e.start)
    warnings.sort(key=lambda d: (d.line, d.column))
    return RewriteResult(path, src, text, edits, warnings)


def rewrite_text(text, config, path=None, verify: bool = True) -> RewriteResult:
    """Rewrite a script given as text or bytes. Raises USqlSyntaxError if it does not parse."""
    from .parser import parse
    return rewrite_script(parse(text, path=path), config, path, verify)
