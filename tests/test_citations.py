"""Every public function and method of the formula packages cites its primary source (docs/design.md, "Citations").

Covered: minidsn/models, minidsn/vvalue, minidsn/optim and minidsn/nn (COVERED below); in all four the docstring of
every public class is checked too (the optimisers write their update rule on the class; a model's network, machine or
state-editing class cites what it implements, its plumbing classes say `none (reason)`). The accepted
seeds, repository@commit prefixes and literature keys are read from the tables of docs/design.md, so the page and
the check cannot drift apart.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DESIGN = ROOT / "docs" / "design.md"

# package directory under minidsn/ -> whether the docstrings of its public classes are checked as well
COVERED = {"models": True, "vvalue": True, "optim": True, "nn": True}

_SEED_PLACE = r"(?:Sec\. ?\d+(?:\.\d+)*|eqs?\. ?\(\d+\)(?:-\(\d+\))?|Figs?\. ?\d+|l\. ?\d+(?:-\d+)?|abstract)"
_LINES = r"\d+(?:-\d+)?(?:,\d+(?:-\d+)?)*"
_LIT_PLACE = (r"(?:Sec\. ?\d+(?:\.\d+)*|eqs?\. ?\(\d+\)(?:-\(\d+\))?|Figs?\. ?\d+|Algorithm \d+|Table \d+"
              r"|lecture \d+[a-z]?|p\. ?\d+(?:-\d+)?)")


def known_sources(design_text: str) -> tuple[set[str], set[str], set[str]]:
    """(seed numbers, 'owner/repo@commit' prefixes, literature keys) from the three tables of the Citations section."""
    sec = design_text.split("## Citations", 1)[1].split("\n## ", 1)[0]
    seeds = set(re.findall(r"^\| (\d{3}) \| \d{3}_[0-9a-f]+\.txt \|", sec, flags=re.M))
    repos = set(re.findall(r"^\| [\w-]+ \| ([\w.-]+/[\w.-]+@[0-9a-f]{7,40}) \|", sec, flags=re.M))
    lits = set(re.findall(r"^\| `([a-z][a-z0-9]*(?:-[a-z0-9]+)*-\d{4}[a-z]?)` \|", sec, flags=re.M))
    return seeds, repos, lits


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


def primary_items(block: str, seeds: set[str], repos: set[str], lits: set[str]) -> tuple[list[str], list[str]]:
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
        for m in re.finditer(r"\blit ([\w.-]+)([^;]*)", item):
            if m.group(1) not in lits:
                bad.append(f"unknown literature key {m.group(1)!r} (not in the literature table of docs/design.md)")
            elif re.match(rf"\s*{_LIT_PLACE}", m.group(2)):
                good.append(m.group(0))
            else:
                bad.append(f"lit {m.group(1)} without a place (Sec./eq./Fig./Algorithm/Table/lecture/p.): {item!r}")
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


def public_functions(tree: ast.Module, classes: bool = False):
    """(qualified name, docstring, lineno) of public module functions and public methods of public classes, and with
    `classes` of the public classes themselves."""
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and not node.name.startswith("_"):
            yield node.name, ast.get_docstring(node), node.lineno
        elif isinstance(node, ast.ClassDef) and not node.name.startswith("_"):
            if classes:
                yield f"class {node.name}", ast.get_docstring(node), node.lineno
            for sub in node.body:
                if isinstance(sub, (ast.FunctionDef, ast.AsyncFunctionDef)) and not sub.name.startswith("_"):
                    yield f"{node.name}.{sub.name}", ast.get_docstring(sub), sub.lineno


def uncited(source_text: str, seeds: set[str], repos: set[str], lits: set[str], classes: bool = False) -> list[str]:
    """Problems of one module: every public function (and with `classes`, class) without a valid Source block."""
    problems = []
    for name, doc, line in public_functions(ast.parse(source_text), classes):
        block = source_block(doc)
        if block is None:
            problems.append(f"{name} (line {line}): no 'Source:' block in the docstring")
            continue
        good, bad = primary_items(block, seeds, repos, lits)
        for b in bad:
            problems.append(f"{name} (line {line}): {b}")
        if not good and not bad:
            problems.append(f"{name} (line {line}): no seed / code / lit / none(...) item in {block!r}")
    return problems


SEEDS, REPOS, LITS = known_sources(DESIGN.read_text())
MODULES = sorted(p for d in COVERED for p in (ROOT / "minidsn" / d).rglob("*.py") if p.name != "__init__.py")


def test_design_tables_are_read():
    assert SEEDS == {"000", "001", "002", "003", "004"}
    assert "ThomasMiconi/DiffRNN@8b2491f" in REPOS and len(REPOS) >= 6
    assert {"kingma-ba-2015", "tieleman-hinton-2012", "duchi-hazan-singer-2011"} <= LITS


def test_every_covered_package_is_found():
    for d in COVERED:
        assert any(p.parent.relative_to(ROOT / "minidsn").parts[0] == d for p in MODULES), d


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(ROOT / "minidsn")))
def test_every_public_function_cites_its_source(path):
    classes = COVERED[path.relative_to(ROOT / "minidsn").parts[0]]
    problems = uncited(path.read_text(), SEEDS, REPOS, LITS, classes)
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

def cited_lit(x):
    """Source: lit kingma-ba-2015 Algorithm 1; minidsn choice: eps as in the paper."""

def unknown_lit(x):
    """Source: lit someone-2020 Sec. 2"""

def lit_without_place(x):
    """Source: lit kingma-ba-2015, the Adam paper."""

class _Private:
    def method(self):
        pass

class Public:
    """A class whose docstring has no block."""

    def method(self):
        """Source: none (plumbing, no formula here)."""
'''
    problems = uncited(src, SEEDS, REPOS, LITS)
    names = sorted({p.split(" (line")[0] for p in problems})
    expected = ["code_without_line", "empty_none", "lit_without_place", "no_doc", "seed_without_place", "uncited",
                "unknown_lit", "unknown_repo"]
    assert names == expected
    problems = uncited(src, SEEDS, REPOS, LITS, classes=True)
    assert sorted({p.split(" (line")[0] for p in problems}) == sorted(expected + ["class Public"])


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
        "lit kingma-ba-2015 Algorithm 1",
        "lit kingma-ba-2015 Sec. 2",
        "lit tieleman-hinton-2012 lecture 6e",
        "lit duchi-hazan-singer-2011 Fig. 1",
    ]
    for item in ok:
        good, bad = primary_items(item, SEEDS, REPOS, LITS)
        assert good and not bad, (item, bad)
