"""A lowered query: the unit the lowering, the file formats and the engines pass around."""
from __future__ import annotations

from dataclasses import dataclass

from .sqlbuild import exp

__all__ = ["Rowset"]


@dataclass
class Rowset:
    """A query lowered: a sqlglot query whose output columns are ``columns`` (name, type), in order."""
    expr: exp.Expression
    columns: list

    def names(self) -> list:
        return [c for c, _ in self.columns]
