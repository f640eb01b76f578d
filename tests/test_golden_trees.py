"""Whole trees are pinned, not just statement kinds: every titled fixture script's tree is compared
with its golden dump (tests/golden_trees.py regenerates them), and together the golden trees use
every node class and every field, so a builder that drops a field fails here."""
from __future__ import annotations

import re
from dataclasses import fields

import pytest

from usqlrw import ast as A

from golden_trees import VALID, golden_path, render

FILES = sorted(VALID.glob("*.usql"))


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.stem)
def test_tree_matches_golden(path):
    want = golden_path(path).read_text(encoding="utf-8")
    assert render(path) == want, f"tree of {path.name} changed: run python tests/golden_trees.py and review the diff"


#: Classes the parser never builds for valid scripts on their own line (bases and helpers).
NOT_BUILT = {"Keyword", "Comment"}


def test_golden_trees_cover_every_class_and_field():
    seen_classes: set = set()
    seen_fields: set = set()
    line = re.compile(r"^\s*(?:(\w+)(?:\[\d+\])?: )?(\w+) @\S+(.*)$")
    for p in FILES:
        parent_stack: list = []
        for text in golden_path(p).read_text(encoding="utf-8").splitlines():
            m = line.match(text)
            if not m:
                continue
            depth = (len(text) - len(text.lstrip())) // 2
            field_name, kind, rest = m.groups()
            del parent_stack[depth:]
            if field_name and parent_stack:
                seen_fields.add((parent_stack[-1], field_name))
            seen_classes.add(kind)
            for f in re.findall(r"(\w+)(?:\[\d+\])?=", rest):
                seen_fields.add((kind, f))
            parent_stack.append(kind)
    missing_classes = sorted(c.__name__ for c in A.all_node_classes()
                             if c.__name__ not in seen_classes and c.__name__ not in NOT_BUILT)
    assert missing_classes == []
    missing_fields = sorted(f"{c.__name__}.{f.name}" for c in A.all_node_classes()
                            if c.__name__ not in NOT_BUILT for f in fields(c)
                            if f.name not in ("span", "source", "comments", "parts")
                            and (c.__name__, f.name) not in seen_fields)
    assert missing_fields == []


def _strip(node, cls, field_name):
    """The tree with ``field_name`` of every ``cls`` node at its default: what a builder that
    dropped the field would give."""
    from dataclasses import MISSING, replace
    f = next(f for f in fields(cls) if f.name == field_name)
    default = f.default if f.default is not MISSING else None
    out = {}
    for n in reversed(list(A.walk(node))):
        changes = {}
        for g in fields(n):
            v = getattr(n, g.name)
            if isinstance(v, A.Node) and id(v) in out:
                changes[g.name] = out[id(v)]
            elif type(v) is tuple and any(isinstance(x, A.Node) and id(x) in out for x in v):
                changes[g.name] = tuple(out.get(id(x), x) if isinstance(x, A.Node) else x for x in v)
        if isinstance(n, cls):
            changes[field_name] = default
        if changes:
            out[id(n)] = replace(n, **changes)
    return out.get(id(node), node)


@pytest.mark.parametrize("cls, field_name", [
    (A.Case, "otherwise"), (A.Index, "args"), (A.Select, "where"), (A.Join, "condition"),
    (A.ObjectName, "empty_schema"), (A.Type, "args"), (A.CreateTable, "distributed_by"),
    (A.Call, "over"), (A.Insert, "integrity"), (A.SortItem, "direction"), (A.Extract, "using"),
    (A.IfBranch, "condition"),
])
def test_a_builder_that_drops_a_field_fails_the_golden_trees(cls, field_name, monkeypatch):
    import usqlrw
    import golden_trees
    real = usqlrw.parse
    monkeypatch.setattr(golden_trees.usqlrw, "parse", lambda text: _strip(real(text), cls, field_name))
    changed = [p.name for p in FILES if render(p) != golden_path(p).read_text(encoding="utf-8")]
    assert changed, f"no golden tree pins {cls.__name__}.{field_name}"
