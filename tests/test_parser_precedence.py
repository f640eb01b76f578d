"""Operator precedence and associativity: the builder's arrangement of flat operator lists."""
from __future__ import annotations

import pytest

import usqlrw
from usqlrw import ast as A


def shape(node) -> str:
    """A fully parenthesised rendering of an expression tree."""
    if isinstance(node, A.BinaryOp):
        return f"({shape(node.left)} {node.op} {shape(node.right)})"
    if isinstance(node, A.UnaryOp):
        return f"({node.op} {shape(node.operand)})"
    if isinstance(node, A.Cast):
        return f"(({node.type.text}) {shape(node.operand)})"
    if isinstance(node, A.Conditional):
        return f"({shape(node.condition)} ? {shape(node.then)} : {shape(node.otherwise)})"
    if isinstance(node, A.Name):
        return node.ident.name
    if isinstance(node, (A.NumberLiteral,)):
        return node.text
    if isinstance(node, A.StringLiteral):
        return repr(node.value)
    if isinstance(node, A.Paren):
        return shape(node.expr)
    if isinstance(node, A.Between):
        neg = "NOT " if node.negated else ""
        return f"Between[{neg}BETWEEN]({shape(node.operand)} {shape(node.low)} {shape(node.high)})"
    if isinstance(node, A.Like):
        neg = "NOT " if node.negated else ""
        esc = f" {shape(node.escape)}" if node.escape is not None else ""
        return f"Like[{neg}LIKE{' ESCAPE' if esc else ''}]({shape(node.operand)} {shape(node.pattern)}{esc})"
    if isinstance(node, A.IsNull):
        return f"IsNull[IS {'NOT ' if node.negated else ''}NULL]({shape(node.operand)})"
    if isinstance(node, A.InList):
        inner = " ".join(shape(x) for x in (node.operand,) + node.values)
        return f"InList[{'NOT ' if node.negated else ''}IN]({inner})"
    if isinstance(node, (A.TypeTest, A.TypeAs)):
        return f"{node.kind}[]({shape(node.operand)} {shape(node.type)})"
    if isinstance(node, A.Type):
        return node.text
    return node.kind


@pytest.mark.parametrize("expr, expected", [
    ("a + b * c", "(a + (b * c))"),
    ("a - b - c", "((a - b) - c)"),
    ("a * b % c / d", "(((a * b) % c) / d)"),
    ("a << 1 + b", "(a << (1 + b))"),
    ("a OR b AND c", "(a OR (b AND c))"),
    ("a || b && c == d", "(a || (b && (c == d)))"),
    ("NOT a AND b", "((NOT a) AND b)"),
    ("NOT a == b", "(NOT (a == b))"),
    ("!a && b", "((! a) && b)"),
    ("-a * b", "((- a) * b)"),
    ("- - a", "(- (- a))"),
    ("a ?? b ?? c", "(a ?? (b ?? c))"),
    ("a ?? b == c", "(a ?? (b == c))"),
    ("a | b & c", "(a | (b & c))"),
    ("a & b ^ c | d", "(((a & b) ^ c) | d)"),
    ("a == b < c", "(a == (b < c))"),
    ("a != b == c", "((a != b) == c)"),
    ("(int) a + b", "(((int) a) + b)"),
    ("(int?) -a", "((int?) (- a))"),
    ("a == b ? c + 1 : d ?? e", "((a == b) ? (c + 1) : (d ?? e))"),
    ("a ? b : c ? d : e", "(a ? b : (c ? d : e))"),
    ("a BETWEEN 1 + 1 AND 3 AND b", "(Between[BETWEEN](a (1 + 1) 3) AND b)"),
    ("a NOT BETWEEN b AND c OR d", "(Between[NOT BETWEEN](a b c) OR d)"),
    ('a LIKE "x%" ESCAPE "!" AND b', "(Like[LIKE ESCAPE](a 'x%' '!') AND b)"),
    ('a NOT LIKE "x" + y', "Like[NOT LIKE](a ('x' + y))"),
    ("a IS NOT NULL OR b IS NULL", "(IsNull[IS NOT NULL](a) OR IsNull[IS NULL](b))"),
    ("a + 1 IN (1, 2) AND b NOT IN (3)", "(InList[IN]((a + 1) 1 2) AND InList[NOT IN](b 3))"),
    ("NOT a IS NULL", "(NOT IsNull[IS NULL](a))"),
    ("o is string && p as string != null", "(TypeTest[](o string) && (TypeAs[](p string) != NullLiteral))"),
])
def test_precedence(expr, expected):
    script = usqlrw.parse(f"DECLARE @x = {expr};")
    assert shape(script.statements[0].value) == expected


def test_long_chains_are_left_nested_without_recursion():
    n = 3000
    script = usqlrw.parse("DECLARE @x = " + " + ".join(f"a{i}" for i in range(n)) + ";")
    node, depth = script.statements[0].value, 0
    while isinstance(node, A.BinaryOp):
        assert node.right.ident.name == f"a{n - 1 - depth}"
        node, depth = node.left, depth + 1
    assert depth == n - 1
