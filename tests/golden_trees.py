"""Golden trees: the readable dump (usqlrw.ast.dump) of every titled script of
tests/fixtures/parse/valid/*.usql, kept next to it as STEM.trees and reviewed in diffs.

Regenerate them all after a deliberate change to the tree with one command:

    python tests/golden_trees.py
"""
from __future__ import annotations

import sys
from pathlib import Path

HERE = Path(__file__).parent
VALID = HERE / "fixtures" / "parse" / "valid"
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))

import usqlrw  # noqa: E402
from usqlrw import ast as A  # noqa: E402
from test_parser_constructs import load_titled  # noqa: E402


def render(path: Path) -> str:
    """The golden text of one fixture file: each titled script's tree under its title."""
    out = []
    for title, _expect, text in load_titled(path):
        out.append(f"== {title} ==\n")
        out.append(A.dump(usqlrw.parse(text)))
        out.append("\n")
    return "".join(out)


def golden_path(path: Path) -> Path:
    return path.with_suffix(".trees")


def main() -> int:
    for p in sorted(VALID.glob("*.usql")):
        golden_path(p).write_text(render(p), encoding="utf-8")
        print(f"wrote {golden_path(p).relative_to(HERE.parent)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
