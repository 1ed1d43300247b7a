"""The layers of ``portal/``, read from the import statements (no import of the code itself).

From the bottom: the foundation (settings, the database engine, the tables, the key ring),
then ``kernel/`` (what every feature shares: phones, audit, sealing, tracking links, time),
then ``web/`` (the HTTP plumbing every page uses), then the features from lowest to highest,
then ``app.py``, which assembles them. Each layer imports only what is below it, so a feature
can be read (and changed) knowing nothing of the features above it. Imports under
``if TYPE_CHECKING:`` count too: a type a module names is a dependency of its reader.

A new feature goes into ``FEATURES`` at the height of what it needs (see docs/architecture.md).
"""

from __future__ import annotations

import ast
import importlib
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import pytest

PORTAL = Path(__file__).resolve().parent.parent / "portal"

FOUNDATION = frozenset(
    {
        "settings",
        "settings_parsing",
        "settings_catalogue",
        "envfile",
        "keyring",
        "db",
        "db_engines",
        "sqlite_engine",
        "piccolo_conf",
        "tables",
    }
)
"""Top-level names under ``portal`` that are foundation (modules or packages)."""
KERNEL = "kernel"
WEB = "web"
FEATURES = (
    "sms",
    "otp",
    "catalogue",
    "office",
    "casework",
    "attachments",
    "privacy",
    "citizen",
    "tracking",
    "receipt",
    "staff",
    "platform",
    "pwa",
    "ops",
    "cli",
)
"""Lowest first: a feature imports only the features before it."""
TOP = "app"
ROUTE_MODULES = ("routes", "router")
"""A module named so (or ``*_routes``) is a feature's HTTP surface: no other feature imports it."""


@dataclass(frozen=True)
class Import:
    module: str
    """The importing module, dotted (``portal.citizen.form_routes``)."""
    target: str
    """The imported module, dotted; for ``from a import b``, ``a.b`` when ``b`` is a module."""
    line: int

    def __str__(self) -> str:
        path = self.module.replace(".", "/")
        return f"{self.module} ({path}.py:{self.line}) imports {self.target}"


def _module_name(path: Path) -> str:
    relative = path.relative_to(PORTAL.parent).with_suffix("")
    parts = relative.parts[:-1] if relative.name == "__init__" else relative.parts
    return ".".join(parts)


def _is_module(dotted: str) -> bool:
    base = PORTAL.parent.joinpath(*dotted.split("."))
    return base.with_suffix(".py").is_file() or (base / "__init__.py").is_file()


def _resolve(module: str, node: ast.ImportFrom, is_package: bool) -> str:
    """The absolute module a ``from`` import names (relative imports resolved)."""
    if not node.level:
        return node.module or ""
    parts = module.split(".")
    keep = len(parts) - node.level + (1 if is_package else 0)
    base = ".".join(parts[:keep])
    return f"{base}.{node.module}" if node.module else base


def _imports_of(path: Path) -> Iterator[Import]:
    return imports_in(path.read_text(encoding="utf-8"), _module_name(path), path.name)


def imports_in(source: str, module: str, filename: str) -> Iterator[Import]:
    is_package = filename == "__init__.py"
    for node in ast.walk(ast.parse(source, filename=filename)):
        # Every import: module level, under ``if TYPE_CHECKING:`` and inside functions.
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield Import(module, alias.name, node.lineno)
        elif isinstance(node, ast.ImportFrom):
            base = _resolve(module, node, is_package)
            for alias in node.names:
                candidate = f"{base}.{alias.name}"
                yield Import(module, candidate if _is_module(candidate) else base, node.lineno)


def _product_files() -> list[Path]:
    return sorted(path for path in PORTAL.rglob("*.py") if "piccolo_migrations" not in path.parts)


@cache
def portal_imports() -> tuple[Import, ...]:
    found = dict.fromkeys(i for path in _product_files() for i in _imports_of(path))
    return tuple(i for i in found if i.target == "portal" or i.target.startswith("portal."))


def component(dotted: str) -> str:
    """``portal.citizen.form_routes`` -> ``citizen``; ``portal.app`` -> ``app``."""
    parts = dotted.split(".")
    return parts[1] if len(parts) > 1 else ""


def rank(name: str) -> int:
    """The height of a component: foundation 0, kernel 1, web 2, features 3.., app on top."""
    if name in FOUNDATION:
        return 0
    if name == KERNEL:
        return 1
    if name == WEB:
        return 2
    if name in FEATURES:
        return 3 + FEATURES.index(name)
    if name == TOP:
        return 3 + len(FEATURES)
    raise AssertionError(f"portal.{name} is in no layer: add it to tests/test_layers.py")


def _is_route_module(dotted: str) -> bool:
    last = dotted.rsplit(".", 1)[-1]
    return last in ROUTE_MODULES or last.endswith("_routes")


def _crossings() -> Iterator[Import]:
    for found in portal_imports():
        mine, theirs = component(found.module), component(found.target)
        if mine != theirs and theirs:
            yield found


def test_every_component_has_a_layer() -> None:
    names = {component(_module_name(path)) for path in _product_files()} - {""}
    unplaced = []
    for name in sorted(names):
        try:
            rank(name)
        except AssertionError as error:
            unplaced.append(str(error))
    assert not unplaced, "\n".join(unplaced)


def test_the_kernel_imports_only_the_foundation() -> None:
    wrong = [
        str(i)
        for i in _crossings()
        if component(i.module) == KERNEL and rank(component(i.target)) > 0
    ]
    assert not wrong, "the kernel imports web or a feature:\n" + "\n".join(wrong)


def test_web_imports_only_the_foundation_and_the_kernel() -> None:
    wrong = [
        str(i)
        for i in _crossings()
        if component(i.module) == WEB and rank(component(i.target)) > rank(KERNEL)
    ]
    assert not wrong, "web/ imports a feature:\n" + "\n".join(wrong)


def test_each_layer_imports_only_lower_layers() -> None:
    """Foundation modules may import each other (the cycle check still covers them)."""
    wrong = [
        f"{i}  ({component(i.module)} may not import {component(i.target)}: not lower)"
        for i in _crossings()
        if rank(component(i.target)) >= rank(component(i.module)) and rank(component(i.target)) > 0
    ]
    assert not wrong, "imports that run up or across the layers:\n" + "\n".join(wrong)


def test_no_feature_imports_another_features_routes() -> None:
    wrong = [
        str(i) for i in _crossings() if component(i.module) != TOP and _is_route_module(i.target)
    ]
    assert not wrong, "a feature imports another feature's routes:\n" + "\n".join(wrong)


def test_route_modules_leave_the_tables_to_services() -> None:
    """Services own persistence: a ``*_routes``/``routes``/``router`` module may name a table's
    enums (``RequestStatus``) but never a table itself, so no handler runs a query."""
    from piccolo.table import Table

    wrong = []
    for path in _product_files():
        module = _module_name(path)
        if not _is_route_module(module):
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("portal.tables"):
                source = importlib.import_module(node.module or "")
                for alias in node.names:
                    found = getattr(source, alias.name, None)
                    if isinstance(found, type) and issubclass(found, Table):
                        wrong.append(f"{module} ({path.name}:{node.lineno}) imports {alias.name}")
    assert not wrong, "route modules that query tables themselves:\n" + "\n".join(wrong)


def test_no_cycles_between_packages() -> None:
    edges: dict[str, set[str]] = {}
    for found in _crossings():
        edges.setdefault(component(found.module), set()).add(component(found.target))
    tangles = [
        "{"
        + ", ".join(group)
        + "}: "
        + "; ".join(f"{a} -> {b}" for a in group for b in sorted(edges.get(a, ())) if b in group)
        for group in _tangles(edges)
    ]
    assert not tangles, "packages that import each other in a cycle:\n" + "\n".join(tangles)


def _tangles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Groups of more than one package each reachable from the others (a cycle through them)."""

    def reach(start: str) -> set[str]:
        seen: set[str] = set()
        todo = [start]
        while todo:
            for following in edges.get(todo.pop(), ()):
                if following not in seen:
                    seen.add(following)
                    todo.append(following)
        return seen

    reachable = {name: reach(name) for name in edges}
    groups = {
        tuple(sorted({name} | {o for o in found if name in reachable.get(o, set())}))
        for name, found in reachable.items()
    }
    return sorted(list(group) for group in groups if len(group) > 1)


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("from portal.kernel.phone import parse_thai_mobile", "portal.kernel.phone"),
        ("from portal.citizen import form_routes", "portal.citizen.form_routes"),
        ("import portal.settings", "portal.settings"),
        ("from . import form_routes", "portal.citizen.form_routes"),
        ("from ..staff.guards import staff_guard", "portal.staff.guards"),
        ("if TYPE_CHECKING:\n    from portal.staff import deps", "portal.staff.deps"),
        ("def f():\n    from portal.web import errors", "portal.web.errors"),
    ],
)
def test_the_reader_sees_each_import(source: str, expected: str) -> None:
    """A reader that missed imports would pass every rule: it must see what they name."""
    (found,) = imports_in(source, "portal.citizen.example", "example.py")
    assert found.target == expected
