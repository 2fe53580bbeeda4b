"""The ``minidsn`` command (also ``python -m minidsn``).

    minidsn selfcheck [...]                       engine/model self-check table (minidsn.testing.selfcheck)
    minidsn list [-v]                             registered models and reference runs
    minidsn run NAME|FILE.toml [--seed S | --seeds 0-19] [--steps N | --epochs E] [--out DIR] [--data-dir DIR]
                [--jobs N] [--executor local|dask|dask://HOST:PORT] [--return-files]
    minidsn run --resume DIR [--steps N]          continue a run (or a sweep) from its newest good checkpoint
    minidsn oracle export MODEL [--steps [K]] --seed S [--config FILE] [--set KEY=VALUE ...] --out CASE.npz
    minidsn oracle compare REF.npz OTHER.npz [--rtol R] [--atol A]
    minidsn oracle verify CASE.npz --backend MODULE:OBJECT [--rtol R] [--atol A] [--all]
    minidsn data fetch mnist|fashion-mnist|cifar10 --dir DIR
    minidsn report urn RUN_DIR [--thresholds T ...] [--samples N]   activity profile of a URN run's newest checkpoint

Exit codes: 0 success; 1 error (bad config, missing file, failed comparison); 2 usage; 3 a step produced NaN/inf;
130 interrupted (a checkpoint was written).

Every anticipated fault (bad values, bad or unreadable files, I/O, permissions, full disk, a locked run folder)
ends in one line ``error: <problem>; <what to do>`` on stderr; ``--debug`` (anywhere on the line, or
MINIDSN_DEBUG=1) shows the Python traceback instead. A config key that has no effect under the chosen variant (a
ConfigWarning) is one line ``warning: <message>`` on stderr, once per key, and the command goes on.
"""

from __future__ import annotations

import argparse
import contextlib
import errno
import json
import os
import sys
import time
import tomllib
import warnings
from pathlib import Path

__all__ = ["main", "build_parser"]


BLAS_THREAD_VARS = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")


def blas_thread_env(threads: int | None, environ) -> dict:
    """The BLAS thread variables to set before NumPy loads: ``--threads N`` sets all three to N (0: leave the
    library defaults); without it they default to 1 unless the user set any of them.

    Why 1: the models' matrices are small and this is a CPU-only, few-core tool; on the shared 2-core machine a
    multi-threaded OpenBLAS made a 206x784 @ 784x50 product 27x slower (22 ms vs 0.8 ms, docs/requests/dnm.md) and
    the URN's S = 120 step 20x slower. Large products (URN at S = 5000) may gain from --threads 2 on a quiet machine.
    """
    if threads is not None:
        if threads < 0:
            raise ValueError(f"--threads must be >= 0, got {threads}")
        return {} if threads == 0 else {v: str(threads) for v in BLAS_THREAD_VARS}
    if any(v in environ for v in BLAS_THREAD_VARS):
        return {}
    return {v: "1" for v in BLAS_THREAD_VARS}


def _threads_from_argv(argv) -> int | None:
    """The value of ``--threads N`` / ``--threads=N`` (None when absent or not an integer: argparse reports it)."""
    for i, a in enumerate(argv):
        val = argv[i + 1] if a == "--threads" and i + 1 < len(argv) else a[10:] if a.startswith("--threads=") else None
        if val is not None:
            try:
                return int(val)
            except ValueError:
                return None
    return None


def _apply_blas_threads(threads: int | None) -> None:
    env = blas_thread_env(threads, os.environ)
    if env and "numpy" in sys.modules:  # main() called from Python after NumPy was loaded: too late to take effect
        return
    os.environ.update(env)


class UsageError(ValueError):
    """A command-line mistake (exit code 2)."""


def _err(msg: str, code: int = 1) -> int:
    print(f"error: {msg}", file=sys.stderr)
    return code


_OS_HINTS = {
    errno.ENOSPC: "free some disk space or write elsewhere",
    errno.EDQUOT: "free some disk space or write elsewhere",
    errno.EACCES: "check the permissions, or choose another location",
    errno.EPERM: "check the permissions, or choose another location",
    errno.EROFS: "the file system is read-only; choose another location",
    errno.ENOTDIR: "a path component is a regular file, not a directory; choose another path",
    errno.EEXIST: "a file of that name is in the way; choose another path",
    errno.EISDIR: "that path is a directory; give a file",
    errno.ENOENT: "check the path",
}


def os_error_message(exc: OSError) -> str:
    """One line for an OSError: what failed on which path, and what to do."""
    what = exc.strerror or str(exc)
    where = exc.filename if exc.filename is not None else ""
    if getattr(exc, "filename2", None):
        where = f"{where} -> {exc.filename2}"
    hint = _OS_HINTS.get(exc.errno, "")
    return f"{what}" + (f": {where}" if where else "") + (f"; {hint}" if hint else "")


@contextlib.contextmanager
def config_warnings(stream=None):
    """Within: each ConfigWarning (a config key without effect) is one line ``warning: <message>`` on ``stream``
    (stderr), each distinct message once (a sweep resumed seed by seed validates the same config once per seed);
    other warnings are shown as Python shows them.

    Source: none (command line; no formula)
    """
    from minidsn.models.api import ConfigWarning

    seen = set()
    with warnings.catch_warnings():
        warnings.simplefilter("always", ConfigWarning)  # "default" would also drop repeats, but per code line
        shown = warnings.showwarning

        def show(message, category, filename, lineno, file=None, line=None):
            if not issubclass(category, ConfigWarning):
                return shown(message, category, filename, lineno, file, line)
            if str(message) not in seen:
                seen.add(str(message))
                print(f"warning: {message}", file=stream or sys.stderr)

        warnings.showwarning = show
        yield


@contextlib.contextmanager
def _no_config_warnings():
    """Within: ConfigWarnings are dropped (the command already checked the user's config itself, or reads a
    recorded one the user cannot act on)."""
    from minidsn.models.api import ConfigWarning

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConfigWarning)
        yield


# ---------------------------------------------------------------- list
def cmd_list(args) -> int:
    from minidsn.models.api import get_model, list_models
    from minidsn.runs.config import find_reference_runs, load_run_file

    print("models:")
    infos = list_models()
    w = max(len(m.name) for m in infos)
    for m in infos:
        print(f"  {m.name:<{w}}  {m.description}")
        if args.verbose and m.available:
            for key, opt in get_model(m.name).options.items():
                print(f"  {'':<{w}}    {key}: {opt.describe()}")
    runs = find_reference_runs(args.reference_dir)
    print("reference runs:")
    if not runs:
        print("  (none)")
    w = max([len(n) for n in runs] + [1])
    for name, path in runs.items():
        try:
            raw = load_run_file(path)
            desc = f"[{raw.get('model', '?')}] {raw.get('description', '')}"
        except Exception as exc:  # one bad file must not hide the others
            desc = f"(unreadable: {exc})"
        print(f"  {name:<{w}}  {desc}")
    return 0


# ---------------------------------------------------------------- run
def cmd_run(args) -> int:
    from minidsn.runs.config import RunSpec, load_run_file, locate_run, resolve_run_spec
    from minidsn.runs.loop import run
    from minidsn.runs.executors import ExecutorError
    from minidsn.runs.sweep import run_sweep, sweep_dirs, sweep_seeds

    sweep_opts = dict(jobs=args.jobs, executor=args.executor, return_files=args.return_files,
                      progress=args.progress)
    if args.jobs < 1:
        raise UsageError(f"--jobs must be >= 1, got {args.jobs}")
    if args.steps is not None and args.steps <= 0:
        raise UsageError(f"--steps must be > 0, got {args.steps}")
    if args.epochs is not None and args.epochs <= 0:
        raise UsageError(f"--epochs must be > 0, got {args.epochs}")
    if args.seed is not None and args.seed < 0:
        raise UsageError(f"--seed must be >= 0, got {args.seed}")
    if args.resume:
        if args.target or args.seed is not None or args.seeds is not None or args.epochs is not None or args.out:
            raise UsageError("--resume DIR takes only --steps, --jobs, --executor, --return-files and --data-dir")
        out = Path(args.resume)
        if not out.is_dir():
            return _err(f"--resume {out}: no such run folder")
        if (out / "config.json").exists():
            spec = _resumed_spec(out, args)
            return _finish(run(spec, out, resume=True, progress=args.progress, plots=not args.no_plots))
        seeds = sweep_dirs(out)
        if not seeds:
            return _err(f"{out} holds no run (no config.json) and no sweep (no seed-*/config.json)")
        specs = [_resumed_spec(d, args) for d in seeds]
        # seeds a stopped sweep never reached (listed in its sweep.json) start fresh, with the same settings
        order = sweep_seeds(out) or []
        started = {sp.seed for sp in specs}
        specs += [specs[0].with_seed(x) for x in order if x not in started]
        specs.sort(key=lambda sp: order.index(sp.seed) if sp.seed in order else len(order) + sp.seed)
        try:
            sweep = run_sweep(specs[0], out, resume=True, specs=specs, **sweep_opts)
        except ExecutorError as exc:
            return _err(str(exc))
        return _sweep_exit(sweep)

    if not args.target:
        raise UsageError("give a reference-run name or a .toml file (see `minidsn list`), or --resume DIR")
    path = locate_run(args.target)
    name = path.stem
    if args.seed is not None and args.seeds is not None:
        return _err("give --seed S (one run) or --seeds LIST (a sweep), not both")
    spec = resolve_run_spec(load_run_file(path), name, source=path, seed=args.seed, steps=args.steps,
                            epochs=args.epochs, data_dir=args.data_dir)
    if args.seeds is not None:
        from minidsn.runs.seeds import parse_seeds

        seeds = parse_seeds(args.seeds)
        spec.seeds, spec.seed = seeds, seeds[0]
    out = Path(args.out) if args.out else Path("runs") / f"{name}-{time.strftime('%Y%m%d-%H%M%S')}"
    if out.exists() and not out.is_dir():
        raise UsageError(f"--out {out} is an existing file; give a new or empty directory")
    if (out / "config.json").exists() or any(out.glob("seed-*")):
        return _err(f"{out} already holds a run; use --resume {out} or another --out")
    print(f"run {name} ({spec.model}) -> {out}", file=sys.stderr)
    if len(spec.seeds) > 1 or args.seeds is not None or args.executor != "local":
        try:
            sweep = run_sweep(spec, out, **sweep_opts)
        except ExecutorError as exc:
            return _err(str(exc))
        return _sweep_exit(sweep)
    return _finish(run(spec, out, progress=args.progress, plots=not args.no_plots))


def _resumed_spec(run_dir: Path, args):
    from minidsn.models.api import get_model
    from minidsn.runs.config import RunSpec, check_finite_config, check_memory, read_run_record

    where = str(run_dir / "config.json")
    raw = read_run_record(run_dir / "config.json", warn=lambda m: print(m, file=sys.stderr))
    spec = RunSpec.from_json(raw, where)
    model_cls = get_model(spec.model)
    spec.config = model_cls.validate_config(spec.config)
    check_finite_config(spec.config, where)
    check_memory(model_cls, spec.config, where)
    if args.steps is not None:
        spec.steps = args.steps
    if args.data_dir:
        spec.data_dir = args.data_dir
    return spec


def _finish(res) -> int:
    s = res.summary
    if res.status == "completed":
        figs = "  ".join(f"{k}={v:.4g}" for k, v in s["final"].items())
        print(f"done: {s['steps_done']} steps in {s['wall_time_s']:.1f}s  {figs}", file=sys.stderr)
    return res.exit_code


def _sweep_exit(sweep: dict) -> int:
    for seed, r in sweep["seeds"].items():
        err = f"  ({r['error']})" if r.get("error") else ""
        print(f"seed {seed}: {r['status']}{err}", file=sys.stderr)
    for k, st in sweep["final_stats"].items():
        print(f"  {k}: mean {st['mean']:.4g}  std {st['std']:.3g}  (n={st['n']})", file=sys.stderr)
    statuses = {r["status"] for r in sweep["seeds"].values()}
    if "nonfinite" in statuses:
        return 3
    if "failed" in statuses:
        return 1
    if "interrupted" in statuses or "not started" in statuses:
        return 130
    return 0


# ---------------------------------------------------------------- oracle
def _parse_set(items) -> dict:
    from minidsn.models.api import ConfigError

    out = {}
    for item in items or []:
        if "=" not in item:
            raise ConfigError(f"--set {item!r}: expected KEY=VALUE")
        k, v = item.split("=", 1)
        try:
            out[k.strip()] = tomllib.loads(f"v = {v}")["v"]
        except tomllib.TOMLDecodeError:
            out[k.strip()] = v  # a bare word is a string
    return out


def cmd_oracle_export(args) -> int:
    from minidsn.oracle.export import export_case
    from minidsn.models.api import ConfigError
    from minidsn.runs.config import load_run_file

    config = {}
    if args.config:
        raw = load_run_file(args.config)
        if "config" in raw:  # a run file: take its [config], and check the model agrees
            if raw.get("model", args.model) != args.model:
                raise ConfigError(f"{args.config} is a run of model {raw['model']!r}, not {args.model!r}")
            config = dict(raw["config"])
        else:
            config = dict(raw)
    config.update(_parse_set(args.set))
    if args.steps is not None:
        return _oracle_export_trajectory(args, config)
    _check_export_config(args.model, config)
    # export_case validates the same config again: its warnings repeat the ones above, shown once (config_warnings)
    path, arrays, meta = export_case(args.model, args.out, seed=args.seed, config=config, data_dir=args.data_dir)
    print(f"wrote {path}: {len(arrays)} arrays ({args.model}, seed {args.seed})", file=sys.stderr)
    for note in meta["conformance"]:
        print(f"note: {note}", file=sys.stderr)
    return 0


def _check_export_config(model: str, config: dict, explicit=None) -> None:
    from minidsn.models.api import get_model
    from minidsn.runs.config import check_finite_config, check_memory

    model_cls = get_model(model)
    checked = model_cls.validate_config(config, explicit=explicit)
    check_finite_config(checked)
    check_memory(model_cls, checked)


def _oracle_export_trajectory(args, config) -> int:
    from minidsn.oracle.export import export_trajectory, trajectory_config

    if args.steps == 0:  # --steps without a number: the model's default
        from minidsn.models.api import get_model

        args.steps = get_model(args.model).trajectory_steps or 1
    if args.steps < 1:
        return _err(f"--steps must be >= 1, got {args.steps}")
    # warnings only for the keys the user set, not for the trajectory defaults applied around them (explicit=)
    _, applied = trajectory_config(args.model, config)
    _check_export_config(args.model, {**applied, **config}, explicit=config)
    t0 = time.perf_counter()
    path, arrays, meta = export_trajectory(args.model, args.out, args.steps, seed=args.seed, config=config,
                                           data_dir=args.data_dir)
    kinds = meta["event_kinds_seen"]
    print(f"wrote {path}: trajectory of {args.steps} steps, {len(arrays)} arrays, {path.stat().st_size:,} bytes, "
          f"{time.perf_counter() - t0:.1f} s ({args.model}, seed {args.seed}; events: "
          f"{', '.join(kinds) if kinds else 'none'})", file=sys.stderr)
    for key, why in meta["trajectory"].get("forced", {}).items():
        print(f"note: forced {key}: {why}", file=sys.stderr)
    if meta["event_kinds_missing"]:
        print(f"note: event kinds {', '.join(meta['event_kinds_missing'])} did not occur in these {args.steps} "
              "steps (docs/oracle.md gives each model's step count that shows every kind)", file=sys.stderr)
    return 0


def cmd_oracle_verify(args) -> int:
    from minidsn.models.draws import DrawReplayError
    from minidsn.oracle.conformance import BackendError, verify

    try:
        # the case's recorded config is replayed without 'no effect' warnings (minidsn_backend.setup, explicit=())
        report = verify(args.case, args.backend, rtol=args.rtol, atol=args.atol, stop_at_first=not args.all)
    except (BackendError, DrawReplayError) as exc:
        return _err(str(exc))
    print(report.format(all_keys=args.verbose))
    return 0 if report.ok else 1


def cmd_oracle_compare(args) -> int:
    from minidsn.oracle.compare import compare_files

    for flag, v in (("--rtol", args.rtol), ("--atol", args.atol)):
        if not v >= 0 or v == float("inf"):
            raise UsageError(f"{flag} must be a finite number >= 0, got {v}")
    report = compare_files(args.ref, args.other, rtol=args.rtol, atol=args.atol)
    print(report.format())
    return 0 if report.ok else 1


# ---------------------------------------------------------------- data
def cmd_data_fetch(args) -> int:
    from minidsn.data.fetch import fetch_dataset

    paths = fetch_dataset(args.dataset, args.dir, base_url=args.base_url, log=lambda m: print(m, file=sys.stderr))
    for p in paths:
        print(p)
    return 0


# ---------------------------------------------------------------- selfcheck
def cmd_selfcheck(args) -> int:
    from minidsn.testing.selfcheck import main as selfcheck_main

    def discover():
        """Import every registered model package: each registers its kernel checks when imported."""
        from minidsn.models.api import MODEL_MODULES, ModelNotAvailable, get_model

        failed = []
        for name in MODEL_MODULES:
            try:
                get_model(name)
            except ModelNotAvailable as exc:
                failed.append((MODEL_MODULES[name], exc))
        return failed

    return int(selfcheck_main(list(args.rest), discover=discover) or 0)


# ---------------------------------------------------------------- report
def urn_activity_profile(run_dir, thresholds=(0.0, 1e-3, 1e-2, 1e-1), samples=0) -> dict:
    """Read a URN run folder (config.json and its newest good checkpoint) and return the activity profile of
    minidsn.models.urn.report, with the run folder and the checkpoint's step."""
    from minidsn.models.urn.report import activity_profile
    from minidsn.runs.checkpoint import load_latest_checkpoint

    run_dir = Path(run_dir)
    if not (run_dir / "config.json").is_file():
        raise FileNotFoundError(f"{run_dir} is not a run folder (it has no config.json)")
    raw = json.loads((run_dir / "config.json").read_text())
    if raw.get("model") != "urn":
        raise ValueError(f"{run_dir} is a run of model {raw.get('model')!r}, not 'urn'")
    ck = load_latest_checkpoint(run_dir / "checkpoints")
    if ck is None:
        raise FileNotFoundError(f"{run_dir} has no checkpoint to read")
    rep = activity_profile(ck.state, raw["config"], thresholds, samples)
    return {"run": str(run_dir), "step": ck.step, **rep}


def cmd_report(args) -> int:
    from minidsn.models.urn.report import format_profile

    try:
        with _no_config_warnings():  # the run's recorded config, warned about when the run started
            rep = urn_activity_profile(args.run_dir, args.thresholds, args.samples)
    except (ValueError, FileNotFoundError) as exc:
        return _err(str(exc))
    print(format_profile(rep))
    out = Path(args.run_dir) / "activity_profile.json"
    from minidsn.runs.atomic import atomic_write_text

    atomic_write_text(out, json.dumps(rep, indent=2))
    print(f"written {out}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    from minidsn.oracle.compare import DEFAULT_ATOL, DEFAULT_RTOL

    p = argparse.ArgumentParser(prog="minidsn", description="minidsn: networks that change their own structure")
    sub = p.add_subparsers(dest="command", metavar="COMMAND", required=True)

    s = sub.add_parser("selfcheck", help="run the self-check table", add_help=False)
    s.add_argument("rest", nargs=argparse.REMAINDER)
    s.set_defaults(func=cmd_selfcheck)

    s = sub.add_parser("list", help="registered models and reference runs")
    s.add_argument("-v", "--verbose", action="store_true", help="also list every model option")
    s.add_argument("--reference-dir", default=None, help=argparse.SUPPRESS)
    s.set_defaults(func=cmd_list)

    s = sub.add_parser("run", help="run a reference run or a TOML run file")
    s.add_argument("target", nargs="?", help="reference-run name (reference_runs/NAME.toml) or path to a .toml")
    s.add_argument("--seed", type=int, help="override the seed (a single run, no sweep)")
    g = s.add_mutually_exclusive_group()
    g.add_argument("--steps", type=int, help="override the number of steps")
    g.add_argument("--epochs", type=int, help="override the number of epochs")
    s.add_argument("--out", help="output directory (default runs/NAME-<timestamp>/)")
    s.add_argument("--data-dir", help="data directory (default: $MINIDSN_DATA, then the run file's data_dir)")
    s.add_argument("--threads", type=int, default=None,
                   help="BLAS threads (default 1 unless OPENBLAS/OMP/MKL_NUM_THREADS is set; 0 = library default)")
    s.add_argument("--seeds", metavar="LIST", help="a sweep over these seeds: 0-19, 0,3,7 or 0-4,10 (into OUT/seed-S/)")
    s.add_argument("--jobs", type=int, default=1,
                   help="parallel processes for a sweep (with --executor dask: workers of the local cluster, >= 2)")
    s.add_argument("--executor", default="local", metavar="WHERE",
                   help="where the seeds of a sweep run: local (default), dask (a local Dask cluster started for "
                        "the sweep) or dask://HOST:PORT (an existing scheduler); needs pip install -e \".[dask]\"")
    s.add_argument("--return-files", action="store_true",
                   help="Dask workers without a shared filesystem: send each finished seed's files back to this "
                        "process (checkpoints stay on the workers)")
    s.add_argument("--resume", metavar="DIR", help="continue the run in DIR from its newest good checkpoint")
    s.add_argument("--no-progress", dest="progress", action="store_const", const=False, default=None,
                   help="no live progress line (it is shown only on a terminal anyway)")
    s.add_argument("--no-plots", action="store_true", help="do not write PNG plots")
    s.set_defaults(func=cmd_run)

    s = sub.add_parser("oracle", help="export, compare or verify oracle cases")
    osub = s.add_subparsers(dest="oracle_command", metavar="ACTION", required=True)
    e = osub.add_parser("export", help="write one oracle case of a model")
    e.add_argument("model")
    e.add_argument("--seed", type=int, default=0)
    e.add_argument("--config", help="TOML with the model's options (a run file's [config] or bare keys)")
    e.add_argument("--set", action="append", metavar="KEY=VALUE", help="one option (TOML value); repeatable")
    e.add_argument("--out", required=True, help="output .npz")
    e.add_argument("--data-dir")
    e.add_argument("--steps", type=int, nargs="?", const=0, metavar="K",
                   help="a trajectory case (format version 2) of K training steps; without K the model's default")
    e.set_defaults(func=cmd_oracle_export)
    c = osub.add_parser("compare", help="compare two oracle cases key by key")
    c.add_argument("ref")
    c.add_argument("other")
    c.add_argument("--rtol", type=float, default=DEFAULT_RTOL)
    c.add_argument("--atol", type=float, default=DEFAULT_ATOL)
    c.set_defaults(func=cmd_oracle_compare)
    v = osub.add_parser("verify", help="replay a trajectory case through another backend (conformance kit)")
    v.add_argument("case")
    v.add_argument("--backend", required=True, metavar="MODULE:OBJECT",
                   help="object with loss_and_grads + train_step (or step); a class is instantiated")
    v.add_argument("--rtol", type=float, default=DEFAULT_RTOL)
    v.add_argument("--atol", type=float, default=DEFAULT_ATOL)
    v.add_argument("--all", action="store_true", help="go on after the first differing step")
    v.add_argument("-v", "--verbose", action="store_true", help="print every key, not only the failing ones")
    v.set_defaults(func=cmd_oracle_verify)

    s = sub.add_parser("data", help="data sets")
    dsub = s.add_subparsers(dest="data_command", metavar="ACTION", required=True)
    f = dsub.add_parser("fetch", help="download a data set and verify its checksums")
    f.add_argument("dataset", choices=("mnist", "fashion-mnist", "cifar10"))
    f.add_argument("--dir", required=True, help="target directory (files go to DIR/<dataset>/)")
    f.add_argument("--base-url", help="mirror to use instead of the canonical URL (same file names)")
    f.set_defaults(func=cmd_data_fetch)

    s = sub.add_parser("report", help="read-outs of finished runs")
    rsub = s.add_subparsers(dest="report_command", metavar="MODEL", required=True)
    r = rsub.add_parser("urn", help="activity profile of a URN run (active counts and layers by threshold)")
    r.add_argument("run_dir", help="a URN run folder (config.json, checkpoints/)")
    r.add_argument("--thresholds", type=float, nargs="+", default=[0.0, 1e-3, 1e-2, 1e-1])
    r.add_argument("--samples", type=int, default=0, help="first N training samples only (0 = all)")
    r.set_defaults(func=cmd_report)
    return p


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    debug = bool(os.environ.get("MINIDSN_DEBUG"))
    if argv[:1] != ["selfcheck"] and "--debug" in argv:
        argv = [a for a in argv if a != "--debug"]
        debug = True
    try:  # before anything imports NumPy (building the parser already does)
        _apply_blas_threads(_threads_from_argv(argv) if argv[:1] == ["run"] else None)
    except ValueError as exc:
        return _err(str(exc), 2)
    if argv[:1] == ["selfcheck"]:  # everything after the verb belongs to selfcheck (argparse would eat options)
        return cmd_selfcheck(argparse.Namespace(rest=argv[1:]))
    args = build_parser().parse_args(argv)
    try:
        with config_warnings():
            return args.func(args)
    except KeyboardInterrupt:  # outside a run's step loop (which handles it itself)
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # `minidsn list | head`: the reader left; not an error
        try:
            sys.stdout = open(os.devnull, "w")
        except OSError:
            pass
        return 0
    except Exception as exc:
        if debug:
            raise
        code, msg = error_line(exc)
        return _err(msg, code)


def error_line(exc: BaseException) -> tuple[int, str]:
    """(exit code, one-line message) of an exception that reaches the command line."""
    from minidsn.data.errors import DataError
    from minidsn.models.api import ConfigError, ModelGuardError, ModelNotAvailable
    from minidsn.oracle.format import OracleFormatError
    from minidsn.runs.checkpoint import CheckpointError
    from minidsn.runs.lock import RunLockedError
    from minidsn.runs.loop import NonFiniteError

    if isinstance(exc, UsageError):
        return 2, str(exc)
    if isinstance(exc, (ConfigError, ModelNotAvailable, CheckpointError, OracleFormatError, DataError,
                        RunLockedError, NonFiniteError)):
        return 1, str(exc)
    if isinstance(exc, ModelGuardError):
        return 1, f"{exc} (a guard of the model fired: see its page in docs/models/ for what it means and its options)"
    if isinstance(exc, OSError):
        return 1, os_error_message(exc)
    if isinstance(exc, MemoryError):
        return 1, "out of memory; reduce the sizes in the config (or free memory) and retry"
    return 1, (f"unexpected {type(exc).__name__}: {exc} (run again with --debug for the traceback, and please "
               f"report it)")
