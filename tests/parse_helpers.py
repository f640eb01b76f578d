"""Shared helpers for the parser tests: fixture scripts and the outcome of parsing a text."""
from __future__ import annotations

from pathlib import Path

import usqlrw
from usqlrw import ast as A

FIXTURES = Path(__file__).parent / "fixtures" / "parse"


def fixture_scripts() -> list[str]:
    """Every titled script of tests/fixtures/parse/valid, as text."""
    from test_parser_constructs import load_titled
    return [text.lstrip("\n") for p in sorted((FIXTURES / "valid").glob("*.usql"))
            for _, _, text in load_titled(p)]


def outcome(text, parse=usqlrw.parse):
    """('ok', AST as dict, comments) or ('error', line, column, message): comparable results."""
    try:
        script = parse(text)
    except usqlrw.USqlSyntaxError as e:
        return ("error", e.line, e.column, e.message)
    return ("ok", A.to_dict(script), [A.to_dict(c) for c in script.comments])


def check_spans(script) -> None:
    """Every node's span lies inside its parent's, and starts and ends on a token (no space)."""
    text = script.source.text
    for node in A.walk(script):
        sp = node.span
        assert 0 <= sp.start <= sp.end <= len(text)
        if node is not script:
            covered = text[sp.start:sp.end]
            assert covered == covered.strip(), (node, covered)
        for child in node.children():
            assert sp.start <= child.span.start <= child.span.end <= sp.end, (node, child)
