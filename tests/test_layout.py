"""The layout shows the flow: no module of usqlrw imports another that imports it back, directly
or through others, whether at the top of the file or lazily inside a function (a lazy import only
hides a cycle). Imports under ``if TYPE_CHECKING:`` are for annotations and do not count."""
from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).parent.parent / "usqlrw"


def _modules() -> dict:
    mods = {}
    for p in ROOT.rglob("*.py"):
        parts = p.relative_to(ROOT.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        mods[name] = p
    return mods


def _imports(tree: ast.AST):
    """Import nodes, leaving out those under ``if TYPE_CHECKING:``."""
    stack = [tree]
    while stack:
        n = stack.pop()
        if isinstance(n, ast.If) and isinstance(n.test, ast.Name) and n.test.id == "TYPE_CHECKING":
            stack.extend(n.orelse)
            continue
        if isinstance(n, (ast.Import, ast.ImportFrom)):
            yield n
        stack.extend(ast.iter_child_nodes(n))


def _graph() -> dict:
    mods = _modules()
    edges = {m: set() for m in mods}
    for m, p in mods.items():
        pkg = m if p.name == "__init__.py" else m.rsplit(".", 1)[0]
        for n in _imports(ast.parse(p.read_text(encoding="utf-8"))):
            if isinstance(n, ast.ImportFrom):
                base = pkg
                for _ in range(max(n.level - 1, 0)):
                    base = base.rsplit(".", 1)[0]
                src = (base + ("." + n.module if n.module else "")) if n.level else n.module
                targets = [src + "." + a.name if src + "." + a.name in mods else src for a in n.names]
            else:
                targets = [a.name for a in n.names]
            for t in targets:
                # a package's own __init__ is not a dependency of its submodules' flow
                if t in mods and t != m and not m.startswith(t + "."):
                    edges[m].add(t)
    return edges


def _cycles(edges: dict) -> list:
    index, low, stack, on, out, counter = {}, {}, [], set(), [], [0]

    def visit(v):   # Tarjan's strongly connected components, iteratively
        work = [(v, iter(sorted(edges[v])))]
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        while work:
            node, it = work[-1]
            w = next(it, None)
            if w is not None:
                if w not in index:
                    index[w] = low[w] = counter[0]
                    counter[0] += 1
                    stack.append(w)
                    on.add(w)
                    work.append((w, iter(sorted(edges[w]))))
                elif w in on:
                    low[node] = min(low[node], index[w])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                comp = []
                while True:
                    x = stack.pop()
                    on.discard(x)
                    comp.append(x)
                    if x == node:
                        break
                if len(comp) > 1:
                    out.append(sorted(comp))

    for v in sorted(edges):
        if v not in index:
            visit(v)
    return out


def test_no_import_cycles():
    assert _cycles(_graph()) == []


def test_the_detector_finds_a_cycle():
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
