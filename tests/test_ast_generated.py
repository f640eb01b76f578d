"""The node classes made from their generated parts (usqlrw/ast_generated.py) are what
``dataclasses`` makes from the declarations in usqlrw/ast.py: the module is current, and every
class has the same fields, slots, signature, doc, frozenness and pickling as its dataclass twin
(usqlrw/ast.py loaded a second time with every class made by ``dataclasses``)."""
from __future__ import annotations

import copy
import dataclasses
import inspect
import os
import pickle
import subprocess
import sys
from pathlib import Path

import pytest

from usqlrw import ast as A
from usqlrw import ast_codegen
from usqlrw.source import Span

ROOT = Path(__file__).parent.parent


@pytest.fixture(scope="module")
def reference():
    return ast_codegen.reference_module()


def _pairs(reference):
    made = ast_codegen.node_classes(reference)
    assert len(made) > 150
    return [(getattr(A, c.__name__), c) for c in made]


def test_the_generated_module_is_current():
    assert ast_codegen.generate() == ast_codegen.TARGET.read_text(encoding="utf-8"), \
        "run: python -m usqlrw.ast_codegen"


def test_every_class_is_made_from_its_generated_parts(reference):
    for ours, _ in _pairs(reference):
        assert ours.__init__.__code__.co_filename.endswith("ast_generated.py"), ours
        assert type(ours) is A._NodeMeta


def _field_facts(cls):
    return [(f.name, f.type, f.default, f.default_factory, f.init, f.repr, f.hash, f.compare,
             dict(f.metadata), f.kw_only, f._field_type) for f in cls.__dataclass_fields__.values()]


def test_classes_are_what_dataclasses_makes(reference):
    for ours, theirs in _pairs(reference):
        name = ours.__name__
        assert set(ours.__dict__) == set(theirs.__dict__), name
        for attr in ("__slots__", "__match_args__", "__doc__", "__annotations__", "__qualname__"):
            assert getattr(ours, attr) == getattr(theirs, attr), (name, attr)
        assert _field_facts(ours) == _field_facts(theirs), name
        assert [f.name for f in dataclasses.fields(ours)] == [f.name for f in dataclasses.fields(theirs)]
        assert repr(ours.__dataclass_params__) == repr(theirs.__dataclass_params__)
        assert dataclasses.is_dataclass(ours)
        assert str(inspect.signature(ours)) == str(inspect.signature(theirs)), name
        for part in ("__init__", "__setattr__", "__delattr__"):
            a, b = getattr(ours, part), getattr(theirs, part)
            assert (a.__qualname__, a.__module__, a.__annotations__) == \
                (b.__qualname__, b.__module__.replace("usqlrw._ast_reference", "usqlrw.ast"),
                 b.__annotations__), (name, part)
        assert [c.__name__ for c in ours.__mro__] == [c.__name__ for c in theirs.__mro__]


def _instance(cls, n: int):
    span = Span(n, n + 1, 1, n + 1, 1, n + 2)
    args = {f.name: (span if f.name == "span" else f"v{n}{f.name}")
            for f in dataclasses.fields(cls) if f.default is dataclasses.MISSING}
    return cls(**args)


def test_instances_behave_alike(reference):
    for ours, theirs in _pairs(reference):
        a, b = _instance(ours, 3), _instance(theirs, 3)
        values = [getattr(a, f.name) for f in dataclasses.fields(ours)]
        assert values == [getattr(b, f.name) for f in dataclasses.fields(theirs)]
        for obj in (a, b):
            for f in dataclasses.fields(obj):
                with pytest.raises(dataclasses.FrozenInstanceError):
                    setattr(obj, f.name, 1)
                with pytest.raises(dataclasses.FrozenInstanceError):
                    delattr(obj, f.name)
            assert not hasattr(obj, "__dict__")
            assert obj == obj and obj != copy.copy(obj)   # eq=False: identity
        assert a.__getstate__() == b.__getstate__()
        back = pickle.loads(pickle.dumps(a))
        assert type(back) is ours and [getattr(back, f.name) for f in dataclasses.fields(ours)] == values
        other = dataclasses.replace(a, span=Span(0, 0, 1, 1, 1, 1))
        assert type(other) is ours and other.span.start == 0 and other is not a
        assert a.__match_args__ == b.__match_args__


def test_a_declaration_that_changed_is_made_by_dataclasses():
    # The generated parts of a class named Identifier do not fit this declaration: dataclasses
    # makes it (slower, same behaviour), nothing breaks.
    ns = {"__module__": __name__, "__qualname__": "Identifier",
          "__annotations__": {"name": "str", "extra": "int"}, "name": "", "extra": 0}
    cls = A._nd(A._NodeMeta("Identifier", (A.Node,), ns))
    assert [f.name for f in dataclasses.fields(cls)] == ["span", "name", "extra"]
    assert not cls.__init__.__code__.co_filename.endswith("ast_generated.py")
    x = cls(Span(0, 1, 1, 1, 1, 2), "a", 2)
    assert (x.name, x.extra) == ("a", 2)
    with pytest.raises(dataclasses.FrozenInstanceError):
        x.extra = 3


def test_trees_are_the_same_with_classes_made_by_dataclasses():
    # The valid fixtures parsed in a process whose node classes dataclasses makes
    # (USQLRW_DATACLASS_NODES) and in one that uses the generated parts: the same trees.
    code = ("import sys, glob, usqlrw, usqlrw.ast as A\n"
            "out = []\n"
            "for p in sorted(glob.glob('tests/fixtures/parse/valid/*.usql')):\n"
            "    out.append(A.to_json(usqlrw.parse(open(p, 'rb').read())))\n"
            "print(A.Node.__init__.__code__.co_filename.endswith('ast_generated.py'), len(out))\n"
            "print(hash(tuple(out)))\n")
    env = dict(os.environ, PYTHONHASHSEED="0")
    plain = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT,
                           env=env, timeout=300)
    slow = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT,
                          env=dict(env, USQLRW_DATACLASS_NODES="1"), timeout=300)
    assert plain.returncode == 0 and slow.returncode == 0, plain.stderr + slow.stderr
    p, s = plain.stdout.split("\n"), slow.stdout.split("\n")
    assert p[0].startswith("True") and s[0].startswith("False")
    assert p[0].split()[1] == s[0].split()[1] != "0"
    assert p[1] == s[1]


def test_the_builders_reading_of_annotations_is_typings():
    # builder._simple_hint reads `A | None` and `tuple[A, ...]` without typing.get_type_hints;
    # the plan of every class is the one typing's evaluation gives.
    from usqlrw import builder as B
    classes = [v for v in vars(A).values() if isinstance(v, type) and issubclass(v, A.Node)]
    assert len(classes) > 150
    read = 0
    for cls in classes:
        assert B._make_plan(cls) == B._make_plan(cls, simple=False), cls
        read += sum(B._simple_hint(f.type) is not None for f in dataclasses.fields(cls))
    assert read > 400
    assert B._simple_hint("tuple[Expr | AliasedItem, ...]") == (True, (A.Expr, A.AliasedItem))
    assert B._simple_hint("dict[int, Node]") is None and B._simple_hint("tuple[Expr]") is None
