"""Run a reference-run file through minidsn's harness with the JAX models:

    python -m minidsn_jax.run NAME|FILE.toml [--seed S] [--steps N] --out DIR
    python -m minidsn_jax.run --resume DIR

The run file is minidsn's own (reference_runs/NAME.toml); its ``model = "X"`` is replaced by ``"jax-X"``, the
minidsn_jax model registered under that name, so both implementations run the same configuration into the same
run-folder layout (config.json, metrics.jsonl, summary.json, checkpoints/).
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from pathlib import Path

from minidsn.runs.config import RunSpec, load_run_file, locate_run, read_run_record, resolve_run_spec
from minidsn.runs.loop import run

MODEL_MODULES = {"jax-diffrnn": "minidsn_jax.diffrnn.model", "jax-dmm": "minidsn_jax.dmm.model"}


def _register(name: str) -> None:
    module = MODEL_MODULES.get(name)
    if module is None:
        for other in ("mlp", "dnm", "urn", "isotropic"):  # models of other subpackages, when present
            if name == f"jax-{other}":
                module = f"minidsn_jax.{other}.model"
    if module is None:
        raise SystemExit(f"error: no minidsn_jax model named {name!r}")
    importlib.import_module(module)


def main(argv=None) -> int:
    """Exit code of the command; a problem with the run file, its config or the folder ends in one line
    ``error: <problem>`` on stderr, as with ``minidsn run`` (MINIDSN_DEBUG=1 shows the traceback instead)."""
    try:
        return _main(argv)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except Exception as exc:
        if os.environ.get("MINIDSN_DEBUG"):
            raise
        code, msg = error_line(exc)
        print(f"error: {msg}", file=sys.stderr)
        return code


def error_line(exc: BaseException) -> tuple[int, str]:
    """(exit code, one-line message) of an exception that reaches the command line: the harness's own errors (bad
    config keys or values, corrupt or locked run folders, non-finite values) and file problems are the user's to fix
    and say what is wrong; anything else is reported as unexpected."""
    from minidsn.runs import ConfigError
    from minidsn.runs.checkpoint import CheckpointError
    from minidsn.runs.lock import RunLockedError
    from minidsn.runs.loop import NonFiniteError

    if isinstance(exc, (ConfigError, CheckpointError, RunLockedError, NonFiniteError, NotImplementedError)):
        return 1, str(exc)
    if isinstance(exc, OSError):
        where = f": {exc.filename}" if exc.filename else ""
        return 1, f"{exc.strerror or exc}{where}"
    return 1, f"unexpected {type(exc).__name__}: {exc} (MINIDSN_DEBUG=1 shows the traceback)"


def _main(argv) -> int:
    ap = argparse.ArgumentParser(prog="python -m minidsn_jax.run", description=__doc__.split("\n\n")[0])
    ap.add_argument("target", nargs="?", help="reference-run name or .toml file")
    ap.add_argument("--seed", type=int)
    ap.add_argument("--steps", type=int)
    ap.add_argument("--out")
    ap.add_argument("--resume", metavar="DIR")
    ap.add_argument("--no-plots", action="store_true")
    args = ap.parse_args(argv)
    os.environ.setdefault("JAX_PLATFORMS", "cpu")
    if args.resume:
        out = Path(args.resume)
        raw = read_run_record(out / "config.json", warn=lambda m: print(m, file=sys.stderr))
        spec = RunSpec.from_json({k: v for k, v in raw.items() if k != "sha256"})  # the harness's seal
        _register(spec.model)
        if args.steps:
            spec.steps = args.steps
        return run(spec, out, resume=True, plots=not args.no_plots).exit_code
    if not args.target or not args.out:
        ap.error("give a run name or file and --out DIR, or --resume DIR")
    path = locate_run(args.target)
    raw = load_run_file(path)
    raw["model"] = "jax-" + raw["model"]
    _register(raw["model"])
    raw.pop("seeds", None)
    spec = resolve_run_spec(raw, path.stem, source=path, seed=args.seed, steps=args.steps)
    out = Path(args.out)
    if (out / "config.json").exists():
        print(f"error: {out} already holds a run; use --resume {out}", file=sys.stderr)
        return 1
    return run(spec, out, plots=not args.no_plots).exit_code


if __name__ == "__main__":
    sys.exit(main())
