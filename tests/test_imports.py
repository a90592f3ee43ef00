"""The package's import graph: no cycles, and daemon/targets.py stays a leaf (the config needs no sound or image)."""

from __future__ import annotations

import ast
from pathlib import Path

from tests.conftest import REPO

PACKAGE = REPO / "daemon"


def module_name(path: Path) -> str:
    """daemon/sound/engine.py → daemon.sound.engine; daemon/config/__init__.py → daemon.config."""
    parts = list(path.relative_to(REPO).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


MODULES = {module_name(path): path for path in sorted(PACKAGE.rglob("*.py"))}


def imports_of(name: str) -> set[str]:
    """Every daemon.* module `name` imports, at module level, in functions or under TYPE_CHECKING alike.

    `from daemon.x import y` is daemon.x.y when that is a module, else daemon.x; a package is its
    __init__.py. Names that are no module of daemon/ (a file being renamed) are left out.
    """
    path = MODULES[name]
    package = name.split(".") if path.name == "__init__.py" else name.split(".")[:-1]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # relative: from .x import y, from .. import y
                base = ".".join(package[: len(package) - node.level + 1] + ([base] if base else []))
            for alias in node.names:
                found.add(f"{base}.{alias.name}" if f"{base}.{alias.name}" in MODULES else base)
    return {module for module in found if module in MODULES and module != name}


GRAPH = {name: sorted(imports_of(name)) for name in MODULES}


def cycles(graph: dict[str, list[str]]) -> list[tuple[str, ...]]:
    """Every elementary cycle, each once, starting at its alphabetically first module."""
    found: list[tuple[str, ...]] = []

    def walk(start: str, path: list[str]) -> None:
        for nxt in graph[path[-1]]:
            if nxt == start:
                found.append(tuple(path))
            elif nxt > start and nxt not in path:
                walk(start, [*path, nxt])

    for start in sorted(graph):
        walk(start, [start])
    return found


def test_the_graph_is_read_at_all():
    # Guards the test itself: a wrong folder or resolver would find no edges and so no cycles.
    assert "daemon.targets" in MODULES and "daemon.config.loader" in MODULES
    assert "daemon.config.schema" in GRAPH["daemon.config.loader"]
    assert "daemon.targets" in GRAPH["daemon.config.loader"]
    assert cycles({"a": ["b"], "b": ["c", "a"], "c": ["b"]}) == [("a", "b"), ("b", "c")]


def test_the_package_has_no_import_cycle():
    found = cycles(GRAPH)
    assert not found, "import cycles in daemon/:\n" + "\n".join(" → ".join((*c, c[0])) for c in found)


def test_targets_is_a_leaf_that_imports_nothing_from_daemon():
    tree = ast.parse(MODULES["daemon.targets"].read_text(encoding="utf-8"))
    named = [alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names]
    named += [node.module or "." for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)]
    assert not [n for n in named if n == "daemon" or n.startswith(("daemon.", "."))], named
    assert not any(isinstance(node, ast.ImportFrom) and node.level for node in ast.walk(tree))
