"""The layers' import direction: no circle in the package, and the core never reads configuration.

Imports are read from the source with ``ast`` (every ``import``, at the top, inside a function or
under ``TYPE_CHECKING``: a type-only import is still an arrow a reader follows), so a circle fails
here before anyone has to find it by hand.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = "sfn_callback_urls"
SOURCE = Path(__file__).resolve().parent.parent / "src" / PACKAGE
# The top: configuration, the features it enables, and the entry points that hand them down.
CONFIGURATION_AND_ENTRY_POINTS = frozenset(
    f"{PACKAGE}.{name}"
    for name in ("_config", "_features", "aws_lambda", "_cli", "_server", "_demo")
)
# Above the core as well: the package's face and ``python -m``.
TOP = CONFIGURATION_AND_ENTRY_POINTS | {PACKAGE, f"{PACKAGE}.__main__"}


def _module_names() -> dict[str, Path]:
    modules = {}
    for path in sorted(SOURCE.rglob("*.py")):
        parts = [PACKAGE, *path.relative_to(SOURCE).with_suffix("").parts]
        if parts[-1] == "__init__":
            parts.pop()
        modules[".".join(parts)] = path
    return modules


MODULES = _module_names()


def _imports(module: str, path: Path) -> set[str]:
    """The package's modules that ``module`` imports anywhere in its source."""
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - node.level + 1]
                source = ".".join([*base, node.module] if node.module else base)
            else:
                source = node.module or ""
            found.add(source)
            # ``from . import errors`` imports a module, not a name of the package.
            found.update(f"{source}.{alias.name}" for alias in node.names)
    return {name for name in found if name in MODULES and name != module}


GRAPH = {module: _imports(module, path) for module, path in MODULES.items()}


def _circles() -> list[list[str]]:
    """Every strongly connected group of more than one module (Tarjan's algorithm)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[list[str]] = []

    def visit(module: str) -> None:
        index[module] = low[module] = len(index)
        stack.append(module)
        on_stack.add(module)
        for target in sorted(GRAPH[module]):
            if target not in index:
                visit(target)
                low[module] = min(low[module], low[target])
            elif target in on_stack:
                low[module] = min(low[module], index[target])
        if low[module] == index[module]:
            group = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == module:
                    break
            if len(group) > 1:
                groups.append(sorted(group))

    for module in sorted(GRAPH):
        if module not in index:
            visit(module)
    return groups


def test_the_reader_sees_the_package() -> None:
    """The graph is read from the real tree: its known arrows are there (the test can fail)."""
    assert f"{PACKAGE}._codec" in GRAPH[f"{PACKAGE}._urls"]
    assert f"{PACKAGE}.errors" in GRAPH[f"{PACKAGE}._claims"]
    assert f"{PACKAGE}._config" in GRAPH[f"{PACKAGE}.aws_lambda"]


def test_no_import_circle() -> None:
    """No two modules of the package import each other, directly or round a loop."""
    assert _circles() == []


@pytest.mark.parametrize("module", sorted(set(MODULES) - TOP))
def test_the_core_never_imports_configuration_or_an_entry_point(module: str) -> None:
    """Configuration is read at the top and handed down: no core module imports the top."""
    assert GRAPH[module] & CONFIGURATION_AND_ENTRY_POINTS == set()
