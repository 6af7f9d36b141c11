"""The domain is pure: every module under portfoliowise.domain imports only the standard
library or the domain itself, and never turns anything into a float."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

import portfoliowise.domain

DOMAIN_DIR = Path(portfoliowise.domain.__file__).parent
DOMAIN_PACKAGE = "portfoliowise.domain"
DOMAIN_MODULES = sorted(DOMAIN_DIR.rglob("*.py"))


def module_name(path: Path) -> str:
    parts = path.relative_to(DOMAIN_DIR).with_suffix("").parts
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join((DOMAIN_PACKAGE, *parts))


def package_of(path: Path) -> str:
    name = module_name(path)
    return name if path.name == "__init__.py" else name.rpartition(".")[0]


def imported_modules(source: str, package: str) -> list[tuple[int, str]]:
    """(line, absolute module name) of every import in `source`; relative imports are
    resolved against `package`."""
    found: list[tuple[int, str]] = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found.extend((node.lineno, alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.rsplit(".", node.level - 1)[0]
                base = f"{anchor}.{base}" if base else anchor
            found.append((node.lineno, base))
    return found


def float_calls(source: str) -> list[int]:
    """Lines calling `float(...)` (or `something.float(...)`)."""
    return [
        node.lineno
        for node in ast.walk(ast.parse(source))
        if isinstance(node, ast.Call)
        and (
            (isinstance(node.func, ast.Name) and node.func.id == "float")
            or (isinstance(node.func, ast.Attribute) and node.func.attr == "float")
        )
    ]


def allowed(module: str) -> bool:
    return (
        module.split(".")[0] in sys.stdlib_module_names
        or module == DOMAIN_PACKAGE
        or module.startswith(DOMAIN_PACKAGE + ".")
    )


def test_the_domain_has_modules_to_check() -> None:
    names = {module_name(path) for path in DOMAIN_MODULES}

    assert {"portfoliowise.domain.money", "portfoliowise.domain.portfolio"} <= names


@pytest.mark.parametrize("path", DOMAIN_MODULES, ids=module_name)
def test_domain_imports_only_the_standard_library_and_itself(path: Path) -> None:
    source = path.read_text(encoding="utf-8")

    offending = [
        f"{path.name}:{line} imports {module}"
        for line, module in imported_modules(source, package_of(path))
        if not allowed(module)
    ]

    assert offending == []


@pytest.mark.parametrize("path", DOMAIN_MODULES, ids=module_name)
def test_domain_never_calls_float(path: Path) -> None:
    lines = float_calls(path.read_text(encoding="utf-8"))

    assert lines == [], f"{path.name} calls float( on lines {lines}"


def test_the_checks_catch_what_they_are_meant_to() -> None:
    source = "\n".join(
        [
            "import decimal, boto3.session",
            "from portfoliowise.domain.money import Money",
            "from portfoliowise.adapters import memory",
            "from . import errors",
            "from ..adapters.clock import FixedClock",
            "def f(x):",
            "    return float(x) + numpy.float(x) + int(x)",
        ]
    )

    imports = imported_modules(source, DOMAIN_PACKAGE)

    assert [module for _, module in imports] == [
        "decimal",
        "boto3.session",
        "portfoliowise.domain.money",
        "portfoliowise.adapters",
        "portfoliowise.domain",
        "portfoliowise.adapters.clock",
    ]
    assert [allowed(module) for _, module in imports] == [True, False, True, False, True, False]
    assert float_calls(source) == [7, 7]
