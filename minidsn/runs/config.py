"""Run configuration: reading a reference-run TOML file, validating its run-level keys and the model's [config].

Every problem is reported before any work starts, each message naming the key and what is allowed.  A run file:

    model = "mlp"                 # registered model name (required)
    description = "..."           # one line, shown by `minidsn list`
    seed = 0                      # seed of the run's numpy Generator
    steps = 500                   # calls to Model.step (or `epochs`, when the model defines steps_per_epoch)
    log_every = 10                # a metrics.jsonl line every N steps (and at the last step)
    eval_every = 0                # Model.evaluate every N steps; 0 = only at the end
    checkpoint_every = 100        # 0 = only at the start and the end (and on Ctrl-C)
    keep_checkpoints = 2          # newest checkpoints kept on disk
    seeds = [0, 1, 2]             # seeds of a sweep (`minidsn run NAME --jobs N`); default [seed]
    data_dir = "../../shared/data"  # optional; relative to the TOML file; --data-dir / MINIDSN_DATA take precedence
    [config]                      # the model's options (Model.options)
    [reference]                   # free-form: the published figures this run is compared with (recorded only)
"""

from __future__ import annotations

import math
import os
import re
import tomllib
from dataclasses import dataclass, field, replace
from pathlib import Path

from minidsn.models.api import MODEL_MODULES, ConfigError, Option, get_model, validate_config
from minidsn.runs.sealed import SEAL_KEY, SealError, unseal
from minidsn.models.api import non_negative as _non_negative, positive as _positive

__all__ = ["RunSpec", "RUN_OPTIONS", "load_run_file", "resolve_run_spec", "find_reference_runs", "REFERENCE_DIR",
           "check_finite_config", "check_memory", "estimate_memory", "memory_limit"]

# reference_runs/ at the repository root (two levels above this file's package).
REFERENCE_DIR = Path(__file__).resolve().parents[2] / "reference_runs"


def _seed_list(v):
    if not v:
        return "must list at least one seed"
    if not all(isinstance(s, int) and not isinstance(s, bool) and s >= 0 for s in v):
        return "must be a list of non-negative integers"
    if len(set(v)) != len(v):
        return "must not repeat a seed"
    return None


RUN_OPTIONS: dict[str, Option] = {
    "model": Option(str, "", "registered model name", check=lambda v: None if v else "is required"),
    "description": Option(str, "", "one-line description"),
    "seed": Option(int, 0, "seed of the run's numpy Generator", check=_non_negative),
    "steps": Option(int, None, "number of Model.step calls", check=_positive),
    "epochs": Option(int, None, "epochs (steps = epochs * Model.steps_per_epoch(cfg))", check=_positive),
    "log_every": Option(int, 10, "metrics.jsonl line every N steps", check=_positive),
    "eval_every": Option(int, 0, "Model.evaluate every N steps; 0 = only at the end", check=_non_negative),
    "checkpoint_every": Option(int, 0, "checkpoint every N steps; 0 = start, end and Ctrl-C only",
                               check=_non_negative),
    "keep_checkpoints": Option(int, 2, "newest checkpoints kept", check=_positive),
    "seeds": Option(list, None, "seeds of a sweep", check=_seed_list),
    "data_dir": Option(str, None, "data directory, relative to the TOML file"),
    "config": Option(dict, {}, "the model's options"),
    "reference": Option(dict, {}, "published figures this run is compared with (recorded, not checked)"),
}


@dataclass
class RunSpec:
    """A fully validated run: run-level values plus the model's validated config (defaults filled in)."""

    name: str
    model: str
    description: str
    seed: int
    steps: int
    log_every: int
    eval_every: int
    checkpoint_every: int
    keep_checkpoints: int
    seeds: list[int]
    config: dict
    data_dir: str | None = None
    epochs: int | None = None
    reference: dict = field(default_factory=dict)
    source: str | None = None

    def to_json(self) -> dict:
        return {k: getattr(self, k) for k in self.__dataclass_fields__}

    @classmethod
    def from_json(cls, d: dict, where: str = "run config") -> "RunSpec":
        """A RunSpec from its config.json record, its run-level values validated as a run file's are (a hand-edited
        ``log_every = 0`` or ``steps = "100"`` is a ConfigError naming the key, not a crash later)."""
        if not isinstance(d, dict):
            raise ConfigError(f"{where} is not a JSON object")
        d = {k: v for k, v in d.items() if k != SEAL_KEY}  # the record's checksum (see read_run_record)
        unknown = set(d) - set(cls.__dataclass_fields__)
        if unknown:
            raise ConfigError(f"{where} has unknown keys {sorted(unknown)}")
        missing = [k for k in ("name", "model", "steps", "seeds", "config") if k not in d]
        if missing:
            raise ConfigError(f"{where} is missing keys {missing}")
        checked = {k: d[k] for k in RUN_OPTIONS if k in d}
        try:
            v = validate_config(RUN_OPTIONS, checked, where, where=f"in {where}")
        except ConfigError as exc:
            raise ConfigError(f"{where}: {exc} (fix the file, or start a new run)") from None
        if not isinstance(d["name"], str) or not isinstance(d.get("source") or "", str):
            raise ConfigError(f"{where}: 'name' and 'source' must be strings")
        if v["steps"] is None:
            raise ConfigError(f"{where}: key 'steps' must be a positive integer")
        fields = {k: v[k] for k in checked}
        return cls(**{**d, **fields})

    def with_seed(self, seed: int) -> "RunSpec":
        return replace(self, seed=seed, seeds=[seed])


def load_run_file(path) -> dict:
    """Parse a TOML run file into a raw dict (ConfigError naming the file on a syntax error)."""
    path = Path(path)
    try:
        with open(path, "rb") as f:
            return tomllib.load(f)
    except FileNotFoundError:
        raise ConfigError(f"run file {path} does not exist") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"run file {path}: TOML syntax error: {exc}") from None
    except UnicodeDecodeError as exc:
        raise ConfigError(f"run file {path} is not UTF-8 text ({exc.reason} at byte {exc.start}); save it as "
                          f"UTF-8") from None
    except IsADirectoryError:
        raise ConfigError(f"run file {path} is a directory; give a .toml file") from None
    except OSError as exc:
        raise ConfigError(f"run file {path} cannot be read ({exc.strerror}); check its permissions") from None


def find_reference_runs(directory=None) -> dict[str, Path]:
    """name -> path of every reference_runs/*.toml."""
    directory = Path(directory) if directory is not None else REFERENCE_DIR
    if not directory.is_dir():
        return {}
    return {p.stem: p for p in sorted(directory.glob("*.toml"))}


def locate_run(name_or_path, reference_dir=None) -> Path:
    """A reference-run name (reference_runs/NAME.toml) or a path to a TOML file."""
    p = Path(name_or_path)
    if p.suffix == ".toml" or p.exists():
        if not p.is_file():
            raise ConfigError(f"run file {p} does not exist")
        return p
    runs = find_reference_runs(reference_dir)
    if name_or_path not in runs:
        known = ", ".join(runs) or "(none)"
        raise ConfigError(f"no reference run named {name_or_path!r}; known reference runs: {known}")
    return runs[name_or_path]


def resolve_run_spec(raw: dict, name: str, source: Path | None = None, *, seed: int | None = None,
                     steps: int | None = None, epochs: int | None = None, data_dir: str | None = None) -> RunSpec:
    """Validate a raw run dict (plus command-line overrides) into a RunSpec, or raise ConfigError listing problems.

    Precedence for the data directory: ``data_dir`` argument (--data-dir) > MINIDSN_DATA > the file's data_dir.
    """
    # run-level keys: unknown ones are errors; a model option put above [config] is the usual slip
    v = validate_config(RUN_OPTIONS, raw, "run file",
                        where="at the top level of the run file (model options go under [config])")
    if not v["model"]:
        raise ConfigError(f"run file: key 'model' is required (one of: {', '.join(MODEL_MODULES)})")
    model_cls = get_model(v["model"])
    cfg = model_cls.validate_config(v["config"])
    check_finite_config(cfg)
    check_memory(model_cls, cfg)

    if steps is not None and epochs is not None:
        raise ConfigError("give --steps or --epochs, not both")
    if steps is not None or epochs is not None:  # a command-line override replaces both file keys
        v["steps"], v["epochs"] = steps, epochs
    if v["epochs"] is not None:
        if v["steps"] is not None:
            raise ConfigError("run file: give 'steps' or 'epochs', not both")
        per_epoch = model_cls().steps_per_epoch(cfg)
        if per_epoch is None:
            raise ConfigError(f"model {v['model']!r} does not define epochs (steps_per_epoch); give 'steps'")
        v["steps"] = int(v["epochs"]) * int(per_epoch)
    if v["steps"] is None or v["steps"] <= 0:
        raise ConfigError("run file: key 'steps' (> 0) or 'epochs' is required")

    if seed is not None:
        if seed < 0:
            raise ConfigError(f"--seed: {seed} must be >= 0")
        v["seed"], v["seeds"] = seed, [seed]
    elif v["seeds"] is None:
        v["seeds"] = [v["seed"]]

    dd = data_dir or os.environ.get("MINIDSN_DATA") or None
    if dd is None and v["data_dir"] is not None:
        base = source.parent if source is not None else Path.cwd()
        dd = str((base / v["data_dir"]).resolve())
    return RunSpec(
        name=name, model=v["model"], description=v["description"], seed=v["seed"], steps=v["steps"],
        log_every=v["log_every"], eval_every=v["eval_every"], checkpoint_every=v["checkpoint_every"],
        keep_checkpoints=v["keep_checkpoints"], seeds=list(v["seeds"]), config=cfg, data_dir=dd,
        epochs=v["epochs"], reference=v["reference"], source=str(source) if source is not None else None,
    )


def read_run_record(path, warn=None) -> dict:
    """A run folder's config.json as a dict; when it no longer matches the checksum the run sealed into it (edited
    by hand, or damaged), ``warn`` is told so: its values are then validated (RunSpec.from_json) and used as they
    are, since editing a run's config by hand is allowed."""
    import json

    path = Path(path)
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path} is not valid JSON ({exc}); restore it or start a new run") from None
    if isinstance(raw, dict) and SEAL_KEY in raw:
        try:
            unseal(raw, str(path))
        except SealError:
            if warn is not None:
                warn(f"note: {path} changed since the run wrote it (edited by hand, or damaged); its values are "
                     f"checked and used as they are now")
    return raw


def check_finite_config(cfg: dict, where: str = "config") -> None:
    """ConfigError naming every float option (or list entry) that is inf or NaN (``lr = inf`` passes "> 0")."""
    bad = []

    def visit(key, v):
        if isinstance(v, float) and not math.isfinite(v):
            bad.append(f"{where} key {key!r} = {v}: must be a finite number")
        elif isinstance(v, (list, tuple)):
            for x in v:
                visit(key, x)
        elif isinstance(v, dict):
            for k, x in v.items():
                visit(f"{key}.{k}", x)

    for k, v in cfg.items():
        visit(k, v)
    if bad:
        raise ConfigError("\n".join(bad))


# Config keys read as array sizes by the memory estimate (ints, or lists of ints such as hidden widths), and keys
# that look alike but count time, not memory.
_SIZE_KEY = re.compile(r"(^n_|hidden|size|dim|neuron|width|train|test|batch|limit|per_layer)")
_NOT_SIZE_KEY = re.compile(r"(every|steps|epochs|seed|cycles|tries|rounds|iter|eval)")
MEMORY_ENV = "MINIDSN_MAX_MEMORY_GB"


def estimate_memory(cfg: dict) -> tuple[int, list[str]]:
    """A lower estimate (bytes) of what a config allocates: one float64 matrix between its two largest sizes
    (weights between the two widest layers, or the data: samples x features), and the keys it used.

    The size keys are the int options (and int lists) whose names look like sizes (n_*, hidden, *size*, *dim*,
    *neurons*, *width*, n_train / n_test, *limit*, batch); a model may give its own ``estimate_memory(cfg)``.
    """
    sizes = []

    def visit(key, v):
        if isinstance(v, bool):
            return
        if isinstance(v, int) and v > 0:
            sizes.append((v, key))
        elif isinstance(v, (list, tuple)):
            for x in v:
                visit(key, x)

    for k, v in cfg.items():
        if _SIZE_KEY.search(k) and not _NOT_SIZE_KEY.search(k):
            visit(k, v)
    sizes.sort(reverse=True)
    top = sizes[:2] + [(1, "")] * (2 - len(sizes[:2]))
    return 8 * top[0][0] * top[1][0], [k for _, k in top if k]


def memory_limit() -> int | None:
    """The refusal threshold in bytes: $MINIDSN_MAX_MEMORY_GB if set (0 = no check), else the machine's RAM."""
    env = os.environ.get(MEMORY_ENV)
    if env:
        try:
            gb = float(env)
        except ValueError:
            raise ConfigError(f"${MEMORY_ENV}={env!r} is not a number of GB") from None
        return None if gb <= 0 else int(gb * 2**30)
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        return None


def check_memory(model_cls, cfg: dict, where: str = "config") -> None:
    """ConfigError when the config's estimated memory exceeds memory_limit(), with the estimate and the override."""
    limit = memory_limit()
    if limit is None:
        return
    own = getattr(model_cls, "estimate_memory", None)
    est, keys = (own(cfg), ["the model's estimate"]) if callable(own) else estimate_memory(cfg)
    if est > limit:
        raise ConfigError(
            f"{where}: {', '.join(f'{k} = {cfg.get(k)}' for k in dict.fromkeys(keys) if k in cfg) or 'sizes'} "
            f"would need at least ~{est / 2**30:.3g} GiB (a float64 matrix of the two largest sizes), more than the "
            f"{limit / 2**30:.3g} GiB limit; reduce the sizes, or set {MEMORY_ENV}=N (0 = no check) to override")
