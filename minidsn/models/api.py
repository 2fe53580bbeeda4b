"""The model interface every minidsn model implements, its option schema, and the model registry.

Contract (docs/design.md, "Models and runs"):

```python
from minidsn.models.api import Model, Option, register_model

@register_model
class MyModel(Model):
    name = "mlp"
    description = "one line"
    options = {"hidden": Option(int, 16, "hidden width", check=lambda v: None if v > 0 else "must be > 0")}
    def init(self, cfg, rng, data_dir): ...            -> state
    def step(self, state, cfg, rng, step): ...         -> (state, {metric: float})
    def evaluate(self, state, cfg, rng, data_dir): ... -> {figure: float}
    def oracle_case(self, cfg, rng, data_dir): ...     -> {"params", "inputs", "outputs", "losses", "grads"}
    def trajectory(self, cfg, rng, data_dir, steps): ...             -> {"meta", "steps"} (optional)
    def trajectory_step(self, cfg, state_before, inputs, draws): ... -> (state_after, losses, grads, events)
    def plot(self, state, metrics, out_dir): ...       -> None (optional)
```

The registry maps the short names below to modules ``minidsn.models.<name>`` and imports a module only when its model
is asked for, so a model whose module does not exist yet is reported as "not available yet" instead of breaking
``minidsn list`` or the other models.
"""

from __future__ import annotations

import importlib
import warnings
from dataclasses import dataclass
from typing import Any, Callable

__all__ = [
    "Model",
    "Option",
    "ConfigError",
    "ConfigWarning",
    "ModelNotAvailable",
    "ModelInfo",
    "MODEL_MODULES",
    "register_model",
    "get_model",
    "list_models",
    "validate_config",
    "inapplicable",
    "warn_inapplicable",
]

# Short name -> module that registers it (imported lazily by get_model / list_models).
MODEL_MODULES: dict[str, str] = {
    "mlp": "minidsn.models.mlp.model",
    "dnm": "minidsn.models.dnm.model",
    "diffrnn": "minidsn.models.diffrnn.model",
    "diffrnn-ff": "minidsn.models.diffrnn.ff_model",  # DiffRNN's rule on a feed-forward net (seed 001 Sec. 5)
    "urn": "minidsn.models.urn.model",
    "isotropic": "minidsn.models.isotropic.model",
    "dmm": "minidsn.models.dmm.model",
}

_REGISTRY: dict[str, type] = {}


class ConfigError(ValueError):
    """A configuration value is unknown, of the wrong type, or impossible. The message names the key.

    Source: none (error class of the model interface; no formula)
    """


class ConfigWarning(UserWarning):
    """A config key the user set has no effect under the values of the other keys (e.g. a synthesis-only option with
    ``variant = "handcrafted"``). A warning, not an error: a sweep or a shared config may set an option across
    variants on purpose. The message names the key, its value and the condition.

    Source: none (warning class of the model interface; no formula)
    """


class ModelNotAvailable(LookupError):
    """The model name is unknown, or its module does not exist yet / failed to import.

    Source: none (error class of the model registry; no formula)
    """


class ModelGuardError(RuntimeError):
    """A guard the model documents fired (e.g. a DNM exponent crossing 0): the run cannot go on meaningfully. An
    expected outcome of some configurations, not a bug; the message names the guard, the step and what to change.

    Source: none (error class of the model interface; no formula)
    """


def positive(v):
    """Option check: the value must be > 0.

    Source: none (model interface and registry; no formula)
    """
    return None if v > 0 else "must be > 0"


def non_negative(v):
    """Option check: the value must be >= 0.

    Source: none (model interface and registry; no formula)
    """
    return None if v >= 0 else "must be >= 0"


def probability(v):
    """Option check: the value must lie in [0, 1].

    Source: none (model interface and registry; no formula)
    """
    return None if 0.0 <= v <= 1.0 else "must be a probability in [0, 1]"


def _type_name(t) -> str:
    if isinstance(t, tuple):
        return " or ".join(x.__name__ for x in t)
    return t.__name__


@dataclass(frozen=True)
class Option:
    """One config key: its type, default, one-line help, and optionally allowed values or a check.

    ``type`` is one of int, float, str, bool, list, tuple (or a tuple of those).  Coercions are the lossless ones a
    TOML file needs: an int is accepted for a float option, a list for a tuple option and a tuple for a list option.
    A bool is never accepted as an int or float (TOML ``true`` for a size is a mistake).  When ``default`` is None the
    option may also be set to None (absent).  ``check(value)`` returns None when the value is fine, or a string saying
    what is wrong (it may also raise ValueError).

    ``only_when`` says when the option has an effect: ``{"variant": ("synthesis",)}`` = only when the option
    ``variant`` is one of those values; several keys must all match. None: always. It is a promise that the model's
    code never reads the option (init, step, evaluate, oracle and trajectory cases) under any other values;
    tests/test_option_applies.py checks it. Model.validate_config warns (ConfigWarning) about an option the user set
    whose condition the config does not meet.

    Source: none (settings record of the model interface: one config key; no formula)
    """

    type: Any
    default: Any
    help: str = ""
    choices: tuple | None = None
    check: Callable[[Any], str | None] | None = None
    only_when: dict | None = None

    def __post_init__(self):
        if self.only_when is not None:  # values as tuples, so the condition prints and compares one way
            if not isinstance(self.only_when, dict) or not self.only_when:
                raise TypeError(f"Option.only_when must be a non-empty dict of key -> allowed values, got "
                                f"{self.only_when!r}")
            object.__setattr__(self, "only_when", {k: tuple(v) for k, v in self.only_when.items()})

    def applies(self, cfg: dict) -> bool:
        """True when this option has an effect under the (validated) config ``cfg``: every key of ``only_when``
        holds one of its listed values.

        Source: none (model interface and registry; no formula)
        """
        return self.only_when is None or all(cfg.get(k) in vals for k, vals in self.only_when.items())

    def condition(self) -> str:
        """``only_when`` in words, e.g. "variant is 'g2' or 'g3' and structure is True" ("" when always).

        Source: none (model interface and registry; no formula)
        """
        if self.only_when is None:
            return ""
        return " and ".join(f"{k} is {_either(vals)}" for k, vals in self.only_when.items())

    def validate(self, key: str, value: Any) -> Any:
        """Return ``value`` coerced to this option's type, or raise ConfigError naming ``key``.

        Source: none (model interface and registry; no formula)
        """
        if value is None:
            if self.default is None:
                return None
            raise ConfigError(f"config key {key!r}: None is not allowed (expected {_type_name(self.type)})")
        types = self.type if isinstance(self.type, tuple) else (self.type,)
        coerced = _MISSING
        for t in types:
            coerced = _coerce(value, t)
            if coerced is not _MISSING:
                break
        if coerced is _MISSING:
            raise ConfigError(
                f"config key {key!r}: expected {_type_name(self.type)}, got {type(value).__name__} {value!r}"
            )
        if self.choices is not None and coerced not in self.choices:
            allowed = ", ".join(repr(c) for c in self.choices)
            raise ConfigError(f"config key {key!r}: {coerced!r} is not allowed; allowed values: {allowed}")
        if self.check is not None:
            try:
                problem = self.check(coerced)
            except (ValueError, TypeError) as exc:
                problem = str(exc)
            if problem:
                raise ConfigError(f"config key {key!r}: {coerced!r} {problem}")
        return coerced

    def describe(self) -> str:
        """One line for `minidsn list -v` and error messages.

        Source: none (model interface and registry; no formula)
        """
        s = f"{_type_name(self.type)}, default {self.default!r}"
        if self.choices is not None:
            s += f", one of {', '.join(repr(c) for c in self.choices)}"
        s = f"{s}: {self.help}" if self.help else s
        return f"{s} [only when {self.condition()}]" if self.only_when is not None else s


def _either(vals) -> str:
    vals = [repr(v) for v in vals]
    return vals[0] if len(vals) == 1 else f"{', '.join(vals[:-1])} or {vals[-1]}"


class _Missing:
    def __repr__(self):
        return "<missing>"


_MISSING = _Missing()


def _coerce(value, t):
    if t is bool:
        return value if isinstance(value, bool) else _MISSING
    if isinstance(value, bool):
        return _MISSING
    if t is int:
        return value if isinstance(value, int) else _MISSING
    if t is float:
        if isinstance(value, (int, float)):
            return float(value)
        return _MISSING
    if t is str:
        return value if isinstance(value, str) else _MISSING
    if t is tuple:
        return tuple(value) if isinstance(value, (list, tuple)) else _MISSING
    if t is list:
        return list(value) if isinstance(value, (list, tuple)) else _MISSING
    if t is dict:
        return dict(value) if isinstance(value, dict) else _MISSING
    return value if isinstance(value, t) else _MISSING


def validate_config(options: dict[str, Option], cfg: dict | None, model_name: str = "model", *,
                    where: str | None = None, warn: bool = True, explicit=None) -> dict:
    """Fill defaults and validate every key of ``cfg`` against ``options``; unknown keys are errors.

    All problems are collected and reported together, each naming its key, so one edit fixes a config. An unknown key
    is said to be unknown "for model <model_name>", or ``where`` (e.g. "at the top level of the run file") when the
    options are not a model's. With ``warn``, a ConfigWarning for each key set in ``cfg`` that has no effect under
    the result (see warn_inapplicable, which also says what ``explicit`` does).

    Source: none (model interface and registry; no formula)
    """
    cfg = dict(cfg or {})
    problems = []
    unknown = sorted(set(cfg) - set(options))
    scope = where or f"for model {model_name!r}"
    for key in unknown:
        known = ", ".join(sorted(options))
        problems.append(f"unknown config key {key!r} {scope}; known keys: {known}")
    out = {}
    for key, opt in options.items():
        try:
            out[key] = opt.validate(key, cfg[key]) if key in cfg else opt.default
        except ConfigError as exc:
            problems.append(str(exc))
    if problems:
        raise ConfigError("\n".join(problems))
    if warn:
        warn_inapplicable(options, cfg, out, explicit=explicit)
    return out


def inapplicable(options: dict[str, Option], cfg: dict | None, out: dict, explicit=None) -> list[str]:
    """One message per key the user set that has no effect under the validated config ``out`` (its option's
    ``only_when`` is not met), in the options' order.

    The keys the user set are ``explicit`` when given, else the keys of ``cfg``, except that a ``cfg`` naming every
    option is a resolved record (a run's config.json, a case's meta, validate_config's own result fed back): there a key
    at its default cannot be told from one filled in, so only keys away from their default count. A key written at
    its default in a partial config does count: the user wrote it, perhaps believing it matters.

    Source: none (model interface and registry; no formula)
    """
    cfg = cfg or {}
    if explicit is None:
        complete = all(k in cfg for k in options)
        explicit = [k for k in cfg if not complete or (k in out and out[k] != options[k].default)]
    explicit = set(explicit)
    msgs = []
    for key, opt in options.items():
        if key in explicit and key in out and not opt.applies(out):
            now = " and ".join(f"{k} = {out.get(k)!r}" for k, vals in opt.only_when.items() if out.get(k) not in vals)
            msgs.append(f"config key {key!r} = {out[key]!r} has no effect when {now} (it applies when "
                        f"{opt.condition()})")
    return msgs


def warn_inapplicable(options: dict[str, Option], cfg: dict | None, out: dict, explicit=None) -> None:
    """warnings.warn(ConfigWarning) for each message of ``inapplicable``: a warning, not an error, since a sweep or a
    shared config may set an option across variants on purpose. The command line prints each as one ``warning:``
    line.

    Source: none (model interface and registry; no formula)
    """
    for msg in inapplicable(options, cfg, out, explicit):
        warnings.warn(msg, ConfigWarning, stacklevel=3)


class Model:
    """Base class of every model. Subclasses set ``name``, ``description``, ``options`` and implement the methods.

    ``cfg`` is the validated dict of option values (defaults filled in).  Every random draw uses the ``rng``
    (numpy.random.Generator) the harness passes; the harness checkpoints its state.  ``state`` is a nested
    dict/list/tuple of ndarrays, ints, floats, bools and strings (network sizes that change during training live in
    it), so the harness can checkpoint and restore it exactly.

    Source: none (model interface base class; each subclass's methods cite their formulas)
    """

    name: str = ""
    description: str = ""
    options: dict[str, Option] = {}

    @classmethod
    def validate_config(cls, cfg: dict | None, *, explicit=None) -> dict:
        """Every key checked on its own (``options``), then the checks between keys (``check_config``), then a
        ConfigWarning for each key set in ``cfg`` that has no effect under the result (Option.only_when; which keys
        count as set: ``inapplicable``; ``explicit`` names them when ``cfg`` also holds keys the user did not set).

        Every path that starts work from a config (run, resume, sweep, oracle export and verify) goes through here, so
        an impossible combination stops before a run folder is made or data are loaded, not at the first step or, worse,
        at the final evaluation.

        Source: none (model interface and registry; no formula)
        """
        out = validate_config(cls.options, cfg, cls.name, warn=False)
        cls.check_config(out)  # an error first: no warning about a config that is refused anyway
        warn_inapplicable(cls.options, cfg, out, explicit)
        return out

    @classmethod
    def check_config(cls, cfg: dict) -> None:
        """Raise ConfigError, naming the keys, for a combination of values no single option can rule out (a size that
        does not fit the data set, an option that needs another one). ``cfg`` has passed its per-key checks. The
        default has none.

        Source: none (model interface and registry; no formula)
        """

    def init(self, cfg, rng, data_dir):
        """Return the initial state (parameters, optimiser state, structure, data handles as arrays).

        Source: none (model interface and registry; no formula)
        """
        raise NotImplementedError(f"{type(self).__name__}.init")

    def step(self, state, cfg, rng, step):
        """One training step: return (new_state, metrics) with metrics a dict of python floats.

        Must not modify ``state`` in place (return new arrays): on Ctrl-C the harness checkpoints the state of the
        last completed step, and the NaN guard keeps the previous state as the last good one.

        Source: none (model interface and registry; no formula)
        """
        raise NotImplementedError(f"{type(self).__name__}.step")

    def evaluate(self, state, cfg, rng, data_dir):
        """Final figures (dict of floats) for summary.json.

        Source: none (model interface and registry; no formula)
        """
        raise NotImplementedError(f"{type(self).__name__}.evaluate")

    def oracle_case(self, cfg, rng, data_dir):
        """One oracle case: dict with keys params, inputs, outputs, losses, grads (pytrees of float64 arrays).

        Source: none (model interface and registry; no formula)
        """
        raise NotImplementedError(f"{type(self).__name__}.oracle_case")

    def oracle_config(self, cfg):
        """The config the single-state oracle case is computed with, as the case's meta records it: ``cfg`` unless the
        model adjusts it for the case (e.g. turning every regulariser on); ``oracle_case`` must use this same config.

        Source: none (model interface and registry; no formula)
        """
        return cfg

    # Optional: trajectory cases for the oracle (docs/oracle.md, "Trajectory cases"). A model that has them
    # implements both methods; minidsn.models.draws.record_step / replay_step do the recording and replaying.
    trajectory_defaults: dict = {}
    """Config values a trajectory case uses unless the user sets them (``--set``): sizes that keep the file small
    and settings that make every event kind occur. Recorded in the case's meta."""
    trajectory_steps: int = 0
    """The default step count K of a trajectory case (``--steps`` without a number): enough steps that every event
    kind of the model occurs with the trajectory defaults. 0: the model has no trajectory cases."""

    def trajectory(self, cfg, rng, data_dir, steps):
        """K = ``steps`` consecutive training steps from a seeded start, for the oracle's trajectory case.

        Returns ``{"meta": {...}, "steps": [step_0, ..., step_{K-1}]}``. ``meta`` is JSON-able: at least
        ``variant``, ``forced`` (option -> why the case forces it), ``event_kinds`` (every kind the step can
        emit; the export notes the ones that did not occur), and anything a backend author must know (sizes,
        which draws happen where). Each step is a dict:

        - ``state_before``: pytree (nested dicts/lists of float64 / int64 / bool arrays, Python ints / floats) of
          everything the step reads: parameters, optimiser state, carried state (a hidden state, a data pointer);
        - ``inputs``: pytree, the step's data (the batch x, y; a text window; ...);
        - ``draws``: list of minidsn.models.draws.Draw, every random number the step consumed, in order (the step
          runs on a RecordingGenerator, so a recorded run is bit-identical to an unrecorded one);
        - ``losses``: {"total": float, <term>: float, ...}, the loss the gradient is of, and its terms;
        - ``grads``: pytree shaped like the parameters the update used (the gradient of losses["total"]);
        - ``state_after``: pytree like ``state_before`` (shapes may differ after a structural event);
        - ``events``: list of dicts ``{"kind": str, <field>: int | float | array, ...}``, the structural events of
          the step in the order they happened (added / deleted / pruned / rotated: indices, the new values
          written, the new shapes).

        Pytree rules (the case format's): dict keys are strings without "/", never digits only (a component of
        digits only reads back as a list index); tuples read back as lists; every leaf has a fixed dtype.
        Step k+1's state_before equals step k's state_after.

        Source: none (model interface and registry; no formula)
        """
        raise NotImplementedError(f"{type(self).__name__}.trajectory")

    def trajectory_step(self, cfg, state_before, inputs, draws):
        """The same training step as a pure function of its recorded inputs: ``(state_after, losses, grads,
        events)`` from ``state_before``, ``inputs`` and the recorded ``draws`` (replayed through
        minidsn.models.draws.ReplayGenerator, which raises if the step asks for any other draw).

        ``cfg`` is the case's resolved config (meta["config"]). ``state_before`` may come back from a file: 0-d
        arrays where the model stored Python scalars are restored as Python scalars, lists as lists. Replaying
        minidsn's own case through this method must reproduce it bit for bit (the oracle checks it).

        Source: none (model interface and registry; no formula)
        """
        raise NotImplementedError(f"{type(self).__name__}.trajectory_step")

    def has_trajectory(self) -> bool:
        """True when the model implements trajectory cases (both methods above).

        Source: none (model interface and registry; no formula)
        """
        cls = type(self)
        return cls.trajectory is not Model.trajectory and cls.trajectory_step is not Model.trajectory_step

    def plot(self, state, metrics, out_dir):
        """Optional extra figures; matplotlib may be absent. Default: nothing.

        Source: none (model interface and registry; no formula)
        """
        return None

    def steps_per_epoch(self, cfg):
        """Optional: steps in one pass over the training data, so a run may say ``epochs`` instead of ``steps``.
        Default None (the model has no epochs).

        Source: none (model interface and registry; no formula)
        """
        return None


def register_model(cls=None, *, replace: bool = False):
    """Class decorator: register a Model subclass under ``cls.name``.

    Registering a second, different class under a name already taken is an error unless ``replace=True`` (tests).
    Re-registering the same class (module reloaded) is allowed.

    Source: none (model interface and registry; no formula)
    """

    def _register(c):
        if not (isinstance(c, type) and issubclass(c, Model)):
            raise TypeError(f"register_model expects a subclass of minidsn.models.api.Model, got {c!r}")
        if not isinstance(c.name, str) or not c.name:
            raise TypeError(f"{c.__name__}.name must be a non-empty string")
        if not isinstance(c.options, dict) or not all(isinstance(o, Option) for o in c.options.values()):
            raise TypeError(f"{c.__name__}.options must be a dict of str -> Option")
        for key, opt in c.options.items():  # a default that fails its own check is a bug in the model
            if opt.default is not None:
                opt.validate(key, opt.default)
            for k, vals in (opt.only_when or {}).items():  # so is a condition on a key or value that cannot occur
                if k not in c.options or k == key:
                    raise TypeError(f"{c.__name__}.options[{key!r}].only_when names {k!r}, not another option")
                for v in vals:
                    c.options[k].validate(k, v)
        old = _REGISTRY.get(c.name)
        if old is not None and not replace and (old.__module__, old.__qualname__) != (c.__module__, c.__qualname__):
            raise ValueError(f"model name {c.name!r} is already registered by {old.__module__}.{old.__qualname__}")
        _REGISTRY[c.name] = c
        return c

    return _register(cls) if cls is not None else _register


def _import_model_module(name: str) -> None:
    module = MODEL_MODULES.get(name)
    if module is None:
        return
    try:
        importlib.import_module(module)
    except ModuleNotFoundError as exc:
        if exc.name is not None and (module == exc.name or module.startswith(exc.name + ".")):
            # the module (or its package) does not exist yet
            raise ModelNotAvailable(f"model {name!r} is not available yet ({module} does not exist)") from None
        raise ModelNotAvailable(f"model {name!r}: importing {module} failed: {exc}") from exc
    except Exception as exc:  # a broken model module must not break the others
        raise ModelNotAvailable(f"model {name!r}: importing {module} failed: {type(exc).__name__}: {exc}") from exc


def get_model(name: str) -> type:
    """Return the registered Model subclass for ``name`` (importing its module on first use).

    Source: none (model interface and registry; no formula)
    """
    if name not in _REGISTRY:
        if name not in MODEL_MODULES:
            known = ", ".join(sorted(set(MODEL_MODULES) | set(_REGISTRY)))
            raise ModelNotAvailable(f"unknown model {name!r}; known models: {known}")
        _import_model_module(name)
        if name not in _REGISTRY:
            raise ModelNotAvailable(
                f"model {name!r}: {MODEL_MODULES[name]} was imported but registered no model named {name!r}"
            )
    return _REGISTRY[name]


@dataclass(frozen=True)
class ModelInfo:
    """One row of ``list_models``: a model's name, description and whether its module imports.

    Source: none (model registry listing; no formula)
    """

    name: str
    description: str
    available: bool


def list_models() -> list[ModelInfo]:
    """Every known model, available or not, in a stable order (the six short names first, then extras).

    Source: none (model interface and registry; no formula)
    """
    out = []
    names = list(MODEL_MODULES) + sorted(set(_REGISTRY) - set(MODEL_MODULES))
    for name in names:
        try:
            cls = get_model(name)
        except ModelNotAvailable as exc:
            msg = str(exc)
            desc = "not available yet" if "not available yet" in msg else msg
            out.append(ModelInfo(name, desc, False))
        else:
            out.append(ModelInfo(name, cls.description, True))
    return out
