"""The package's layering: no import cycle between modules, and no module imports from a layer above its own.

Layers, lowest first (docs/design.md): engine < numpy < scipy < nn < vvalue < optim < kernels < testing < data <
models < runs < oracle < cli. A module's layer is the first dotted component after `minidsn`. Every import counts,
including imports inside functions. Also: one folder per model, and no model module left at the top of models/.
"""

from __future__ import annotations

import ast
from pathlib import Path

PKG = Path(__file__).resolve().parents[1] / "minidsn"
LAYERS = ["engine", "numpy", "scipy", "nn", "vvalue", "optim", "kernels", "testing", "data", "models", "runs",
          "oracle", "cli"]
MODELS = ["dnm", "diffrnn", "urn", "isotropic", "dmm", "mlp"]


def _modules() -> dict:
    mods = {}
    for f in PKG.rglob("*.py"):
        parts = f.relative_to(PKG.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        mods[name] = f
    return mods


def _edges(mods: dict) -> dict:
    edges = {m: set() for m in mods}
    for m, f in mods.items():
        is_pkg = f.name == "__init__.py"
        for node in ast.walk(ast.parse(f.read_text(), str(f))):
            targets = []
            if isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    parts = m.split(".") if is_pkg else m.split(".")[:-1]
                    parts = parts[: len(parts) - (node.level - 1)]
                    base = ".".join(parts + ([base] if base else []))
                targets = [f"{base}.{a.name}" if f"{base}.{a.name}" in mods else base for a in node.names]
            for t in targets:
                while t and t not in mods:
                    t = t.rpartition(".")[0]
                if t and t != m and t.startswith("minidsn") and not m.startswith(t + "."):
                    edges[m].add(t)
    return edges


def _layer(mod: str):
    parts = mod.split(".")
    return parts[1] if len(parts) > 1 else None


def test_no_module_imports_from_a_higher_layer():
    mods = _modules()
    bad = []
    for m, targets in _edges(mods).items():
        lm = _layer(m)
        if lm not in LAYERS:
            continue
        for t in targets:
            lt = _layer(t)
            if lt in LAYERS and LAYERS.index(lt) > LAYERS.index(lm):
                bad.append(f"{m} ({lm}) imports {t} ({lt})")
    assert not bad, "upward imports:\n" + "\n".join(sorted(bad))


def test_no_import_cycles():
    edges = _edges(_modules())
    index, low, on, stack, cycles, counter = {}, {}, set(), [], [], [0]

    def visit(v):  # Tarjan, iterative enough for this size (depth = longest import chain)
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in edges[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                cycles.append(sorted(comp))

    for v in edges:
        if v not in index:
            visit(v)
    assert not cycles, f"import cycles: {cycles}"


def test_one_folder_per_model():
    top = sorted(p.name for p in (PKG / "models").glob("*.py"))
    assert top == ["__init__.py", "api.py", "draws.py"], f"model modules outside a model folder: {top}"
    for m in MODELS:
        assert (PKG / "models" / m / "__init__.py").is_file(), m
        assert (PKG / "models" / m / "model.py").is_file(), m


def test_the_checker_sees_an_upward_import(tmp_path, monkeypatch):
    """The test above can fail: a lower module importing a model is reported."""
    import shutil

    fake = tmp_path / "minidsn"
    shutil.copytree(PKG, fake, ignore=shutil.ignore_patterns("__pycache__"))
    (fake / "engine" / "bad.py").write_text("from minidsn.models.dnm import net\n")
    monkeypatch.setattr(__import__(__name__), "PKG", fake)
    import pytest

    with pytest.raises(AssertionError, match="minidsn.engine.bad"):
        test_no_module_imports_from_a_higher_layer()
