"""usqlrw's LALR driver and fast contextual lexer give exactly what Lark's own parser gives.

usqlrw.parser drives Lark's tables itself and lexes with one regular expression (see the notes
in usqlrw/parser.py). Here a reference parser, plain Lark with the same grammar and options,
parses the same texts: every fixture, and deterministic mutations of them (truncations, deleted
and doubled characters, swapped neighbours), which exercise the error paths too.
"""
from __future__ import annotations

import random

import lark
import pytest

import usqlrw
from usqlrw import ast as A
from usqlrw import parser as P
from usqlrw.source import decode

from parse_helpers import fixture_scripts, outcome


def lark_parse(lk):
    """usqlrw.parse, but through ``Lark.parse`` of the Lark object ``lk``."""
    def parse(text):
        src = decode(text)
        P._local.comments = comments = []
        try:
            script = lk.parse(src.text)
        except lark.exceptions.UnexpectedInput as e:
            raise P._syntax_error(e, src.text, None) from None
        except lark.exceptions.VisitError as e:
            raise P._builder_error(e.orig_exc, src.text, None) from None
        except usqlrw.USqlSyntaxError as e:
            raise P._builder_error(e, src.text, None) from None
        finally:
            P._local.comments = None
        from dataclasses import replace
        from usqlrw.builder import tok_span
        return replace(script, comments=tuple(A.Comment(tok_span(t), t.value) for t in comments), source=src)
    return parse


@pytest.fixture(scope="module")
def reference():
    """Plain Lark: its own contextual lexer and parser loop."""
    return lark_parse(lark.Lark(P.grammar_path().read_text(encoding="utf-8"), **P.lark_options()))


def mutations(text: str, rng: random.Random, n: int = 6):
    yield text
    for _ in range(n):
        i = rng.randrange(len(text) + 1)
        j = min(len(text), i + rng.randrange(1, 4))
        yield text[:i]                                  # truncated
        yield text[:i] + text[j:]                       # characters deleted
        yield text[:i] + text[i:j] * 2 + text[j:]       # characters doubled
        if j < len(text):
            yield text[:i] + text[j] + text[i:j] + text[j + 1:]   # neighbours swapped


def test_same_results_as_lark(reference):
    rng = random.Random(2)
    n = 0
    for script in fixture_scripts():
        for text in mutations(script, rng):
            assert outcome(text) == outcome(text, reference), text
            n += 1
    assert n > 500


def test_same_results_as_lark_on_the_syntax_fixtures(reference):
    # the invalid scripts of tests/fixtures/syntax, and mutations: the error paths, worded alike
    from syntax_cases import load_cases
    rng = random.Random(3)
    n = 0
    for case in load_cases():
        for text in mutations(case.script, rng, n=2):
            assert outcome(text) == outcome(text, reference), text
            n += 1
    assert n > 1000


def test_fast_lexer_under_larks_own_loop(reference):
    # FastContextualLexer.lex is also what Lark.parse uses on usqlrw's parser object.
    ours = lark_parse(P.get_parser())
    for script in fixture_scripts():
        for text in (script, script[: len(script) // 2]):
            assert outcome(text, ours) == outcome(text, reference)


def test_tokens_lark_would_not_accept_here_fall_back_to_lark(reference):
    # `{` after `new T` is an initializer, not a statement block; `[x]` after a call is an index.
    for text in ['DECLARE @d = new Dictionary<string, int> { { "a", 1 } };',
                 '@r = SELECT F(x)[0] AS a FROM @t;', "@r = SELECT a FROM @t WHERE b <",
                 "@r = SELECT a FROM @t WHERE b £ c;", "USE DATABASE\u3000x;"]:
        assert outcome(text) == outcome(text, reference)
