"""`minidsn selfcheck`: on this machine, check every primitive's gradient and every compiled kernel's agreement with
its plain reference, and print a table (name, max relative error, pass/fail). Exit code 1 if anything fails.

Kernel checks are registered by the packages that own the kernels: `register_kernel_check(name, fn, tol)`, where
fn() returns the largest relative error between the compiled kernel and its reference on a seeded random problem, and
raises (or returns a value > tol) on failure. Each model package registers its checks in its own `selfchecks` module,
imported with the package; the command line imports every registered model before the table is built (this module
never imports a model).
Each check builds a seeded random problem and compares every output and gradient, scaled by the reference's
magnitude as the kernel tests do; the hypothesis tests in tests/ compare the same pairs over many random sizes, and
these are the one-shot versions a user runs on a new machine, where a different CPU or LLVM could change what the
compiled code does.
"""

from __future__ import annotations

import argparse
import sys
import time

import numpy as np

from minidsn.testing.compare import worst_error
from minidsn.testing.gradcheck import check_grads
from minidsn.testing.primitive_cases import CASES

__all__ = ["run_checks", "main", "register_kernel_check", "KERNEL_CHECKS"]


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
        elif case.kind == "axis":
            args = [values(rng, (3, 4), case.domains[0])]
            fn = lambda x, c=case: c.fn(x, 0)  # noqa: E731
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


# Compiled-kernel checks, registered by the packages that own the kernels (each model package registers its own
# when it is imported), so this module never imports a model: name, check function, tolerance.
KERNEL_CHECKS: list[tuple[str, object, float]] = []


def register_kernel_check(name: str, fn, tol: float = 1e-11) -> None:
    """Register a kernel-versus-reference check for `minidsn selfcheck`: fn() returns the largest scaled relative
    difference between the compiled kernel and its plain reference; the row passes when it is <= tol. Registering
    the same name again replaces the entry (a module re-imported in a test does not add a second row)."""
    for i, (n, _, _) in enumerate(KERNEL_CHECKS):
        if n == name:
            KERNEL_CHECKS[i] = (name, fn, float(tol))
            return
    KERNEL_CHECKS.append((name, fn, float(tol)))


def check_stacked_rules() -> float:
    """Engine: gradients of a 12-step tanh RNN (weights and bias used at every step) with the stacked first-order
    rules (core.defvjp_stacked) against the ordinary rules."""
    import minidsn.numpy as mnp
    from minidsn.engine import stacked_rules_off, value_and_grad

    rng = np.random.default_rng(7)
    p = {"U": rng.standard_normal((3, 6)), "W": 0.5 * rng.standard_normal((6, 6)), "b": rng.standard_normal(6)}
    xs = [rng.standard_normal((2, 3)) for _ in range(12)]

    def loss(p):
        h, total = mnp.zeros((2, 6)), 0.0
        for x in xs:
            h = mnp.tanh(x @ p["U"] + h @ p["W"] + p["b"])
            total = total + mnp.sum(h * h)
        return total

    v1, g1 = value_and_grad(loss)(p)
    with stacked_rules_off():
        v0, g0 = value_and_grad(loss)(p)
    return worst_error([(v1, v0)] + [(g1[k], g0[k]) for k in p])


register_kernel_check("engine stacked rules (unrolled RNN)", check_stacked_rules, 1e-11)


def _kernel_rows(discover=None):
    rows = []
    if discover is not None:
        for name, exc in discover() or []:
            rows.append(("kernel", name, float("nan"), False, f"import failed: {type(exc).__name__}: {exc}"))
    for check_name, fn, tol in list(KERNEL_CHECKS):
        try:
            err = float(fn())
            rows.append(("kernel", check_name, err, bool(err <= tol), "" if err <= tol else f"tolerance {tol}"))
        except Exception as exc:
            rows.append(("kernel", check_name, float("nan"), False, f"{type(exc).__name__}: {exc}"))
    return rows


def run_checks(seed: int = 0, kernels: bool = True, discover=None):
    """All rows: (kind, name, max relative error, passed, message). `discover()` (given by the command line)
    imports the packages that register kernel checks and returns [(module, exception)] for those that failed."""
    rows = _primitive_rows(seed)
    if kernels:
        rows += _kernel_rows(discover)
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


def main(argv=None, discover=None) -> int:
    parser = argparse.ArgumentParser(prog="minidsn selfcheck", description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=0, help="seed of the random test points (default 0)")
    parser.add_argument("--no-kernels", action="store_true", help="skip the compiled-kernel checks")
    args = parser.parse_args(argv)
    print(f"minidsn selfcheck: numpy {np.__version__}, python {sys.version.split()[0]}, seed {args.seed}", flush=True)
    t0 = time.perf_counter()
    rows = run_checks(seed=args.seed, kernels=not args.no_kernels, discover=discover)
    print(format_table(rows))
    print(f"({time.perf_counter() - t0:.1f} s)")
    return 0 if all(r[3] for r in rows) else 1


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
