"""Every public function of minidsn/models/ cites its primary source (docs/design.md, "Citations").

The accepted seeds and repository@commit prefixes are read from the tables of docs/design.md, so the page and the
check cannot drift apart.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
MODELS = ROOT / "minidsn" / "models"
DESIGN = ROOT / "docs" / "design.md"

_SEED_PLACE = r"(?:Sec\. ?\d+(?:\.\d+)*|eqs?\. ?\(\d+\)(?:-\(\d+\))?|Figs?\. ?\d+|l\. ?\d+(?:-\d+)?|abstract)"
_LINES = r"\d+(?:-\d+)?(?:,\d+(?:-\d+)?)*"


def known_sources(design_text: str) -> tuple[set[str], set[str]]:
    """(seed numbers, 'owner/repo@commit' prefixes) from the two tables of the Citations section."""
    sec = design_text.split("## Citations", 1)[1].split("\n## ", 1)[0]
    seeds = set(re.findall(r"^\| (\d{3}) \| \d{3}_[0-9a-f]+\.txt \|", sec, flags=re.M))
    repos = set(re.findall(r"^\| [\w-]+ \| ([\w.-]+/[\w.-]+@[0-9a-f]{7,40}) \|", sec, flags=re.M))
    return seeds, repos


def source_block(doc: str | None) -> str | None:
    """The text of the 'Source:' block (from 'Source:' to the next blank line), or None."""
    if not doc:
        return None
    lines = doc.splitlines()
    for i, line in enumerate(lines):
        m = re.match(r"\s*Sources?:\s*(.*)", line)
        if m:
            out = [m.group(1)]
            for nxt in lines[i + 1:]:
                if not nxt.strip():
                    break
                out.append(nxt.strip())
            return " ".join(out)
    return None


def primary_items(block: str, seeds: set[str], repos: set[str]) -> tuple[list[str], list[str]]:
    """(valid primary items, problems) of one Source block."""
    good, bad = [], []
    if re.match(r"none \(.{8,}\)", block.strip()):
        return ["none"], []
    for item in (x.strip() for x in block.split(";")):
        for m in re.finditer(r"\bseed (\d{3})\b([^;]*)", item):
            if m.group(1) not in seeds:
                bad.append(f"unknown seed {m.group(1)!r}")
            elif re.search(_SEED_PLACE, m.group(2)):
                good.append(m.group(0))
            else:
                bad.append(f"seed {m.group(1)} without a place (Sec./eq./Fig./l./abstract): {item!r}")
        for m in re.finditer(r"([\w.-]+/[\w.-]+)@([0-9a-f]{7,40})\s+(\"[^\"]+\"|\S+)", item):
            prefix = f"{m.group(1)}@{m.group(2)}"
            if not any(prefix.startswith(r) or r.startswith(prefix) for r in repos):
                bad.append(f"repository@commit not in docs/design.md: {prefix}")
                continue
            rest = item[m.start(3):]
            path = r'(?:"[^"]+"|\S+?)'
            if re.match(rf"{path}:{_LINES}\b", rest) or re.match(rf"{path} cell \d+ l\. ?{_LINES}", rest) \
                    or re.match(rf"{path}::[A-Za-z_][\w.]*", rest):
                good.append(item[m.start():])
            else:
                bad.append(f"code reference without :line, cell/l. or ::name: {item!r}")
    return good, bad


def public_functions(tree: ast.Module):
    """(qualified name, docstring, lineno) of public module functions and public methods of public classes."""
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and not node.name.startswith("_"):
            yield node.name, ast.get_docstring(node), node.lineno
        elif isinstance(node, ast.ClassDef) and not node.name.startswith("_"):
            for sub in node.body:
                if isinstance(sub, (ast.FunctionDef, ast.AsyncFunctionDef)) and not sub.name.startswith("_"):
                    yield f"{node.name}.{sub.name}", ast.get_docstring(sub), sub.lineno


def uncited(source_text: str, seeds: set[str], repos: set[str]) -> list[str]:
    """Problems of one module: every public function without a valid Source block."""
    problems = []
    for name, doc, line in public_functions(ast.parse(source_text)):
        block = source_block(doc)
        if block is None:
            problems.append(f"{name} (line {line}): no 'Source:' block in the docstring")
            continue
        good, bad = primary_items(block, seeds, repos)
        for b in bad:
            problems.append(f"{name} (line {line}): {b}")
        if not good and not bad:
            problems.append(f"{name} (line {line}): no seed / code / none(...) item in {block!r}")
    return problems


SEEDS, REPOS = known_sources(DESIGN.read_text())
MODULES = sorted(p for p in MODELS.rglob("*.py") if p.name != "__init__.py")


def test_design_tables_are_read():
    assert SEEDS == {"000", "001", "002", "003", "004"}
    assert "ThomasMiconi/DiffRNN@8b2491f" in REPOS and len(REPOS) >= 6


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(MODELS)))
def test_every_public_function_cites_its_source(path):
    problems = uncited(path.read_text(), SEEDS, REPOS)
    assert not problems, (f"{path.relative_to(ROOT)}:\n  " + "\n  ".join(problems)
                          + "\n(the Source: forms are in docs/design.md, 'Citations')")


def test_check_fails_on_uncited_and_malformed_functions():
    src = '''
def cited(x):
    """y = x + 1.

    Source: seed 001 Sec. 2.1; ThomasMiconi/DiffRNN@8b2491f rnn.py:92
    """

def uncited(x):
    """y = 2 x (no source given)."""

def no_doc(x):
    pass

def seed_without_place(x):
    """Source: seed 001, somewhere."""

def unknown_repo(x):
    """Source: someone/else@abcdef0 file.py:3"""

def code_without_line(x):
    """Source: ThomasMiconi/DiffRNN@8b2491f rnn.py"""

def empty_none(x):
    """Source: none ()"""

class _Private:
    def method(self):
        pass
'''
    problems = uncited(src, SEEDS, REPOS)
    names = sorted({p.split(" ")[0] for p in problems})
    assert names == ["code_without_line", "empty_none", "no_doc", "seed_without_place", "uncited", "unknown_repo"]


def test_accepted_forms():
    ok = [
        "seed 000 l. 151-161",
        "seed 002 eq. (6)",
        "seed 003 abstract",
        "Miej/Dynamic_Neural_Manifold@873268a dynamic_neural_manifold-toy_dataset.ipynb cell 0 l. 72-78",
        "GeorgeBird1/Isotropic-Adaptive-MLPs@8f8ebd0 Dependencies/IsotropicFunctions.py::IsotropicTanhMLP.forward",
        "ThomasMiconi/DiffRNN@8b2491f rnn.py:110-111,114",
        'GeorgeBird1/Isotropic-Adaptive-MLPs@8f8ebd0 "Experiment 5 - Sparsification.ipynb"::count_nonzero_parameters',
        'GeorgeBird1/Isotropic-Adaptive-MLPs@8f8ebd0 "Experiment 5 - Sparsification.ipynb" cell 3 l. 2-4',
        "none (plumbing: reads a file, no formula)",
    ]
    for item in ok:
        good, bad = primary_items(item, SEEDS, REPOS)
        assert good and not bad, (item, bad)
