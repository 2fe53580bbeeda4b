"""`minidsn selfcheck`: on this machine, check every primitive's gradient and every compiled kernel's agreement with
its plain reference, and print a table (name, max relative error, pass/fail). Exit code 1 if anything fails.

Kernel checks come from the kernel modules themselves: every module in minidsn.kernels may define
`SELF_CHECKS = [(name, fn), ...]` where fn() returns the largest relative error between the compiled kernel and its
reference on a seeded random problem, and raises (or returns a value > its tolerance) on failure. A module may also
define `SELF_CHECK_TOL` (default 1e-10).
"""

from __future__ import annotations

import argparse
import importlib
import pkgutil
import sys
import time

import numpy as np

from minidsn.testing.gradcheck import check_grads
from minidsn.testing.primitive_cases import CASES

__all__ = ["run_checks", "main"]


def _primitive_rows(seed: int):
    rows = []
    for case in CASES:
        rng = np.random.default_rng(seed)
        from minidsn.testing.primitive_cases import values

        if case.kind == "unary":
            args = [values(rng, (3, 2), case.domains[0])]
            fn = case.fn
        elif case.kind == "binary":
            args = [values(rng, (3, 2), case.domains[0]), values(rng, (1, 2), case.domains[1])]
            fn = case.fn
        elif case.kind == "reduce":
            args = [values(rng, (3, 4), case.domains[0])]
            fn = lambda x, c=case: c.fn(x, 1, False)  # noqa: E731
        else:
            args = case.make(rng)
            fn = case.fn
        t0 = time.perf_counter()
        try:
            err = check_grads(fn, args, order=2 if case.second_order else 1, modes=("rev", "fwd"), seed=seed)
            rows.append(("primitive", case.name, err, True, ""))
        except Exception as exc:  # report every failure, keep going
            rows.append(("primitive", case.name, float("nan"), False, f"{type(exc).__name__}: {exc}"))
        del t0
    return rows


def _kernel_rows():
    rows = []
    try:
        import minidsn.kernels as kpkg
    except ImportError:
        return rows
    for mod_info in sorted(pkgutil.iter_modules(kpkg.__path__), key=lambda m: m.name):
        name = f"minidsn.kernels.{mod_info.name}"
        try:
            mod = importlib.import_module(name)
        except Exception as exc:
            rows.append(("kernel", name, float("nan"), False, f"import failed: {type(exc).__name__}: {exc}"))
            continue
        tol = getattr(mod, "SELF_CHECK_TOL", 1e-10)
        for check_name, fn in getattr(mod, "SELF_CHECKS", []):
            try:
                err = float(fn())
                rows.append(("kernel", check_name, err, bool(err <= tol), "" if err <= tol else f"tolerance {tol}"))
            except Exception as exc:
                rows.append(("kernel", check_name, float("nan"), False, f"{type(exc).__name__}: {exc}"))
    return rows


def run_checks(seed: int = 0, kernels: bool = True):
    """All rows: (kind, name, max relative error, passed, message)."""
    rows = _primitive_rows(seed)
    if kernels:
        rows += _kernel_rows()
    return rows


def format_table(rows) -> str:
    width = max([len(r[1]) for r in rows] + [9])
    lines = [f"{'kind':<9} {'name':<{width}} {'max rel err':>12}  result", "-" * (width + 32)]
    for kind, name, err, ok, msg in rows:
        e = "n/a" if err != err else f"{err:.2e}"
        lines.append(f"{kind:<9} {name:<{width}} {e:>12}  {'pass' if ok else 'FAIL'}{('  ' + msg) if msg else ''}")
    n_fail = sum(not r[3] for r in rows)
    lines.append("-" * (width + 32))
    lines.append(f"{len(rows) - n_fail} passed, {n_fail} failed")
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="minidsn selfcheck", description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=0, help="seed of the random test points (default 0)")
    parser.add_argument("--no-kernels", action="store_true", help="skip the compiled-kernel checks")
    args = parser.parse_args(argv)
    print(f"minidsn selfcheck: numpy {np.__version__}, python {sys.version.split()[0]}, seed {args.seed}", flush=True)
    t0 = time.perf_counter()
    rows = run_checks(seed=args.seed, kernels=not args.no_kernels)
    print(format_table(rows))
    print(f"({time.perf_counter() - t0:.1f} s)")
    return 0 if all(r[3] for r in rows) else 1


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
