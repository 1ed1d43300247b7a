"""Small modules and short functions, so each can be read in one sitting.

A product module (``portal/**/*.py``, except the generated database migrations) stays
under ``MAX_MODULE_LINES``; a function or method under ``MAX_FUNCTION_LINES`` (its decorators,
signature and docstring included). ``create_app`` is the one exception: it only mounts what
the features build, and reads best as one call.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

PORTAL = Path(__file__).resolve().parent.parent / "portal"
MAX_MODULE_LINES = 400
MAX_FUNCTION_LINES = 60
EXEMPT_FUNCTIONS = frozenset({"portal/app.py:create_app"})
"""``path:qualified name`` of functions allowed to be longer."""


def product_modules() -> list[Path]:
    return sorted(path for path in PORTAL.rglob("*.py") if "piccolo_migrations" not in path.parts)


def _relative(path: Path) -> str:
    return path.relative_to(PORTAL.parent).as_posix()


def functions(tree: ast.AST, prefix: str = "") -> Iterator[tuple[str, ast.AST]]:
    """Every function and method with its qualified name (``Class.method``, ``outer.inner``)."""
    for node in ast.iter_child_nodes(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            yield prefix + node.name, node
            yield from functions(node, f"{prefix}{node.name}.")
        elif isinstance(node, ast.ClassDef):
            yield from functions(node, f"{prefix}{node.name}.")
        else:
            yield from functions(node, prefix)


def length(node: ast.AST) -> int:
    decorators = getattr(node, "decorator_list", [])
    first = min([node.lineno, *(d.lineno for d in decorators)])  # type: ignore[attr-defined]
    end = node.end_lineno or node.lineno  # type: ignore[attr-defined]
    return int(end) - int(first) + 1


def test_no_product_module_is_over_the_limit() -> None:
    long = []
    for path in product_modules():
        lines = len(path.read_text(encoding="utf-8").splitlines())
        if lines > MAX_MODULE_LINES:
            long.append(f"{_relative(path)}: {lines} lines (at most {MAX_MODULE_LINES})")
    assert not long, "modules to split:\n" + "\n".join(long)


def test_no_function_is_over_the_limit() -> None:
    long = []
    for path in product_modules():
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for name, node in functions(tree):
            key = f"{_relative(path)}:{name}"
            if key not in EXEMPT_FUNCTIONS and length(node) > MAX_FUNCTION_LINES:
                long.append(f"{key}: {length(node)} lines (at most {MAX_FUNCTION_LINES})")
    assert not long, "functions to split:\n" + "\n".join(long)


def test_the_measure_counts_decorators_and_nested_functions() -> None:
    source = "class A:\n    @staticmethod\n    def f():\n        def g():\n            pass\n"
    found = {name: length(node) for name, node in functions(ast.parse(source))}
    assert found == {"A.f": 4, "A.f.g": 2}
