"""minidsn_jax is an independent implementation: it may import only minidsn.oracle and minidsn.runs from minidsn.

A static check over every module's syntax tree (no import executed), so a forbidden import fails here even inside a
function body or behind a condition. Dynamic imports through importlib / __import__ with a literal name are checked
too.
"""

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "minidsn_jax"
ALLOWED = ("minidsn.oracle", "minidsn.runs")


def _allowed(module: str) -> bool:
    return any(module == a or module.startswith(a + ".") for a in ALLOWED)


def _is_minidsn(module: str) -> bool:
    return module == "minidsn" or module.startswith("minidsn.")


def forbidden_imports(source: str, filename: str = "<string>") -> list[str]:
    """Every import of a minidsn module other than minidsn.oracle / minidsn.runs in ``source``, as 'line: module'."""
    bad = []
    for node in ast.walk(ast.parse(source, filename)):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if _is_minidsn(alias.name) and not _allowed(alias.name):
                    bad.append(f"{node.lineno}: import {alias.name}")
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module and _is_minidsn(node.module):
            if node.module == "minidsn":  # from minidsn import X: X must itself be oracle or runs
                for alias in node.names:
                    if not _allowed(f"minidsn.{alias.name}"):
                        bad.append(f"{node.lineno}: from minidsn import {alias.name}")
            elif not _allowed(node.module):
                bad.append(f"{node.lineno}: from {node.module} import ...")
        elif isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant):
            name = node.args[0].value
            func = node.func
            fname = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            if fname in ("import_module", "__import__") and isinstance(name, str):
                if _is_minidsn(name) and not _allowed(name):
                    bad.append(f"{node.lineno}: {fname}({name!r})")
    return bad


def test_package_modules_exist():
    assert (PACKAGE / "__init__.py").is_file()


@pytest.mark.parametrize("path", sorted(PACKAGE.rglob("*.py")), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_no_forbidden_minidsn_import(path):
    bad = forbidden_imports(path.read_text(), str(path))
    assert not bad, f"{path.relative_to(PACKAGE.parent)} imports minidsn beyond oracle/runs: {bad}"


@pytest.mark.parametrize("src", [
    "import minidsn",
    "import minidsn.models.dnm.model",
    "from minidsn.engine import grad",
    "from minidsn import numpy as mnp",
    "from minidsn.optim import adam",
    "def f():\n    from minidsn.models.api import Model",
    "import importlib\nimportlib.import_module('minidsn.kernels')",
    "__import__('minidsn.vvalue')",
])
def test_checker_catches_forbidden(src):
    assert forbidden_imports(src), src


@pytest.mark.parametrize("src", [
    "import minidsn.oracle",
    "from minidsn.oracle import read_case",
    "from minidsn.oracle.conformance import verify",
    "from minidsn.runs import Model, register_model",
    "from minidsn import oracle, runs",
    "import minidsn_jax.dnm",
    "from . import optim",
])
def test_checker_allows_permitted(src):
    assert not forbidden_imports(src), src
