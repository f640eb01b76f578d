"""Transforms: pure functions from (typed AST, DR config) to a list of source edits and warnings.

Each transform module exposes ``NAME``, ``DESCRIPTION`` and ``edits(script, config) -> (edits, warnings)``.
:data:`TRANSFORMS` is the order the rewrite engine runs them in.
"""
from . import catalog, endpoints

TRANSFORMS = (endpoints, catalog)
