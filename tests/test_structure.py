"""The package's shape, as issue 10 set it: one package per stage, no import cycles
(function-level and ``TYPE_CHECKING`` imports included), no dynamic imports, at most a
dozen top-level modules, no module over 600 lines."""

from __future__ import annotations

import ast
from pathlib import Path

import headerparse

PACKAGE = Path(headerparse.__file__).parent
MODULES = sorted(PACKAGE.rglob("*.py"))


def _name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


NAMES = {_name(p): p for p in MODULES}


def _imports(path: Path) -> set[str]:
    """Every headerparse module ``path`` imports, wherever the import statement is."""
    out: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            out.update(a.name for a in node.names if a.name in NAMES)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            for a in node.names:
                sub = f"{node.module}.{a.name}"
                out.add(sub if sub in NAMES else node.module)
    return {m for m in out if m in NAMES}


def _graph() -> dict[str, set[str]]:
    return {name: _imports(path) - {name} for name, path in NAMES.items()}


def test_no_import_cycles() -> None:
    graph = _graph()
    # A package's __init__ re-exporting its own modules is not a cycle of theirs.
    for name in graph:
        graph[name] = {m for m in graph[name] if not (name.startswith(m + ".")
                                                     and NAMES[m].name == "__init__.py")}
    state: dict[str, int] = {}
    cycles: list[list[str]] = []

    def visit(node: str, stack: list[str]) -> None:
        state[node] = 1
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                cycles.append(stack[stack.index(nxt):] + [nxt])
            elif nxt not in state:
                visit(nxt, [*stack, nxt])
        state[node] = 2

    for name in sorted(graph):
        if name not in state:
            visit(name, [name])
    assert not cycles, cycles


def test_the_graph_is_read() -> None:
    # The cycle test above would pass on an empty graph: make sure it is not one.
    graph = _graph()
    assert "headerparse.model" in graph["headerparse.extract.merge"]
    assert "headerparse.annotations.bind" in graph["headerparse.annotations.load"]


def test_no_dynamic_imports() -> None:
    for path in MODULES:
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Call):
                f = node.func
                called = f.attr if isinstance(f, ast.Attribute) else getattr(f, "id", "")
                assert called not in ("import_module", "__import__"), f"{path}:{node.lineno}"


def test_top_level_and_module_sizes() -> None:
    top = [p for p in PACKAGE.glob("*.py")]
    assert len(top) <= 12, sorted(p.name for p in top)
    long = {str(p.relative_to(PACKAGE)): n for p in MODULES
            if (n := len(p.read_text(encoding="utf-8").splitlines())) > 600}
    assert not long, long


def test_one_module_imports_libclang() -> None:
    users = [str(p.relative_to(PACKAGE)) for p in MODULES
             if "clang.cindex" in p.read_text(encoding="utf-8")
             and "import clang.cindex" in p.read_text(encoding="utf-8")]
    assert users == ["extract/clangparse.py"]
