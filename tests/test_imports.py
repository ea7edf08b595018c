"""Data flows one way: no import circle in src/, between modules or between the packages of livemeta.

Every import counts, also one inside a function (it runs when the function does, and ties the two
modules together just the same); only imports under ``if TYPE_CHECKING:`` (annotations, never run)
do not. ``from package import name`` depends on the submodule ``package.name`` when there is one,
else on the package's ``__init__``.
"""

from __future__ import annotations

import ast
from pathlib import Path

from tests.conftest import REPO

SRC = REPO / "src"


def modules(src: Path) -> dict[str, tuple[Path, bool]]:
    """Every module under ``src``: dotted name -> (file, is a package's __init__)."""
    out = {}
    for path in sorted(src.rglob("*.py")):
        parts = list(path.relative_to(src).with_suffix("").parts)
        package = parts[-1] == "__init__"
        out[".".join(parts[:-1] if package else parts)] = (path, package)
    return out


def _targets(name: str, package: bool, node: ast.AST, known: dict) -> list[str]:
    if isinstance(node, ast.Import):
        return [a.name for a in node.names]
    base = name.split(".") if package else name.split(".")[:-1]
    if node.level:
        base = base[: len(base) - (node.level - 1)]
        target = ".".join(base + ([node.module] if node.module else []))
    else:
        target = node.module
    return [f"{target}.{a.name}" if f"{target}.{a.name}" in known else target for a in node.names]


def import_graph(src: Path) -> dict[str, set[str]]:
    """module -> the modules of ``src`` it imports (anywhere in it but under TYPE_CHECKING)."""
    known = modules(src)
    graph: dict[str, set[str]] = {}
    for name, (path, package) in known.items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        typing_only = {id(n) for block in ast.walk(tree)
                       if isinstance(block, ast.If) and "TYPE_CHECKING" in ast.unparse(block.test)
                       for n in ast.walk(block)}
        graph[name] = {t for node in ast.walk(tree)
                       if isinstance(node, (ast.Import, ast.ImportFrom)) and id(node) not in typing_only
                       for t in _targets(name, package, node, known) if t in known and t != name}
    return graph


def circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one node (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return sorted(found)


def package_graph(graph: dict[str, set[str]]) -> dict[str, set[str]]:
    """The same edges between livemeta's subpackages and top-level modules (livemeta.X)."""
    def floor(m: str) -> str:
        parts = m.split(".")
        return ".".join(parts[:2])

    out: dict[str, set[str]] = {}
    for a, deps in graph.items():
        for b in deps:
            if floor(a) != floor(b) and floor(b) != "livemeta":  # the root package imports nothing eagerly
                out.setdefault(floor(a), set()).add(floor(b))
    return out


def _explain(graph: dict[str, set[str]], component: list[str]) -> str:
    return "; ".join(f"{a} -> {b}" for a in component for b in sorted(graph[a]) if b in component)


def test_no_module_imports_itself_round_a_circle():
    graph = import_graph(SRC)
    assert len(graph) > 75 and "livemeta.analysis.run" in graph  # the whole tree was read
    found = circles(graph)
    assert found == [], "import circles: " + " | ".join(_explain(graph, c) for c in found)


def test_no_package_imports_a_package_above_it():
    """analysis must not import living or reports, db not analysis, pooling nothing of livemeta..."""
    graph = package_graph(import_graph(SRC))
    found = circles(graph)
    assert found == [], "package circles: " + " | ".join(_explain(graph, c) for c in found)
    assert graph.get("livemeta.pooling", set()) <= {"livemeta.errors"}  # pure numpy/scipy
    assert "livemeta.reports" not in graph["livemeta.analysis"] and "livemeta.living" not in graph["livemeta.analysis"]


def test_the_finder_finds_a_circle_through_a_function_level_import(tmp_path):
    """The four circles of issue 20 went through imports inside functions: the finder sees those,
    and leaves annotations under TYPE_CHECKING out."""
    pkg = tmp_path / "demo"
    (pkg / "analysis").mkdir(parents=True)
    (pkg / "reports").mkdir()
    for init in (pkg, pkg / "analysis", pkg / "reports"):
        (init / "__init__.py").write_text("")
    (pkg / "analysis" / "run.py").write_text(
        "class Result:\n    def forest_plot(self):\n        from ..reports.plots import forest_plot\n        return forest_plot(self)\n")
    (pkg / "reports" / "plots.py").write_text("from ..analysis.run import Result\n\ndef forest_plot(r):\n    return r\n")
    (pkg / "reports" / "doc.py").write_text(
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from .plots import forest_plot\n")
    (pkg / "reports" / "table.py").write_text("from . import doc\n")
    graph = import_graph(tmp_path)
    assert graph["demo.reports.table"] == {"demo.reports.doc"} and graph["demo.reports.doc"] == set()
    assert circles(graph) == [["demo.analysis.run", "demo.reports.plots"]]
    assert circles(package_graph(graph)) == [["demo.analysis", "demo.reports"]]
    (pkg / "analysis" / "run.py").write_text("class Result:\n    pass\n")
    assert circles(import_graph(tmp_path)) == []
