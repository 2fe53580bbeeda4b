"""The DNM as a harness model ``jax-dnm``: the same config keys as minidsn's ``dnm`` (docs/models/dnm.md), so a
reference-run TOML of model dnm runs unchanged. Only the toy data set is implemented (MNIST needs a data loader,
which this package does not have: it stops with a clear message). ``dag_impl`` and ``closeness_impl`` choose
minidsn's kernels; they are accepted and have no effect here (one JAX path). Guards: the non-finite guard is the
harness's; minidsn's exponent / cut-off guards are not reproduced (``on_guard`` accepted, no effect).
"""

from __future__ import annotations

import jax.numpy as jnp

from minidsn.runs import Model, Option, register_model
from minidsn_jax.dnm import train
from minidsn_jax.dnm.net import loss_terms
from minidsn_jax.trees import to_device, to_host

_pos = lambda v: None if v > 0 else "must be > 0"  # noqa: E731


@register_model
class JaxDNM(Model):
    name = "jax-dnm"
    description = "minidsn_jax: Dynamic Neural Manifold in JAX (toy data set)"
    options = {
        "variant": Option(str, "faithful", "faithful (notebooks) or text (seed text)", choices=("faithful", "text")),
        "dataset": Option(str, "toy", "toy only in minidsn_jax", choices=("toy", "mnist")),
        "n_neurons": Option(int, 25, "N", check=_pos),
        "n_inputs": Option(int, 5, "input neurons", check=_pos),
        "n_outputs": Option(int, 4, "output neurons", check=_pos),
        "period": Option(float, 5.0, "sine period T"),
        "init": Option(str, None, "init table column", choices=("toy", "mnist")),
        "kappa_init": Option(float, -1.0, "initial kappa"),
        "batch_size": Option(int, 50, "batch size", check=_pos),
        "lr": Option(float, 0.001, "Adam learning rate", check=_pos),
        "adam_eps_form": Option(str, "efficient", "Adam eps placement", choices=("efficient", "algorithm1")),
        "c_obj": Option(float, 1e4, "objective coefficient"),
        "c_flow": Option(float, 1.0, "flow coefficient"),
        "c_sp": Option(float, 0.1, "sparsity coefficient"),
        "square_outputs": Option(bool, None, "y_hat = out**2 (None = variant)"),
        "sparsity": Option(str, None, "sparsity term", choices=("count", "mean_abs", "smooth_count")),
        "sparsity_temperature": Option(float, 0.01, "tau of smooth_count", check=_pos),
        "objective": Option(str, None, "mse or softmax_ce (None = dataset's)", choices=("mse", "softmax_ce")),
        "slope": Option(float, 0.2, "leaky_relu slope"),
        "dag_impl": Option(str, "sparse", "minidsn's DAG kernels: no effect here", choices=("dense", "sparse", "engine")),
        "closeness_impl": Option(str, "engine", "minidsn's closeness kernel: no effect here",
                                 choices=("engine", "kernel")),
        "on_guard": Option(str, "raise", "minidsn's guards: no effect here", choices=("raise", "record")),
        "test_every": Option(int, 1, "single-batch test metric every N steps", check=_pos),
    }

    def _check(self, cfg):
        if cfg["dataset"] != "toy":
            raise NotImplementedError("minidsn_jax dnm: only dataset 'toy' is implemented (no MNIST loader here)")
        if cfg["n_inputs"] != 5 or cfg["n_outputs"] != 4:
            raise ValueError("the toy data set has 5 inputs and 4 outputs")

    def init(self, cfg, rng, data_dir):
        self._check(cfg)
        params = train.init_params(cfg, rng)
        return {"params": params, "opt": to_host(train.new_optimiser(to_device(params)))}

    def step(self, state, cfg, rng, step):
        x, target = train.toy_batch(rng, cfg["batch_size"])
        params, opt = to_device(state["params"]), to_device(state["opt"])
        params, opt, losses, cutoff, _ = train.train_step(params, opt, jnp.asarray(x), jnp.asarray(target), cfg)
        losses = {k: float(v) for k, v in losses.items()}
        metrics = {"loss": losses["total"], "objective": losses["objective"], "flow": losses["flow"],
                   "F_in": losses["F_in"], "F_out": losses["F_out"], "pct": losses["pct"],
                   "sparsity_term": losses["sparsity"], "cutoff": float(cutoff)}
        if (step + 1) % cfg["test_every"] == 0:
            xt, tt = train.toy_batch(rng, cfg["batch_size"])
            metrics["test_mse"] = float(train.objective(params, jnp.asarray(xt), jnp.asarray(tt), cfg))
        # pct, flow, cutoff are those of the parameters the step started from (the loss the gradient is of)
        return {"params": to_host(params), "opt": to_host(opt)}, metrics

    def evaluate(self, state, cfg, rng, data_dir):
        params = to_device(state["params"])
        x, t = train.toy_batch(rng, cfg["batch_size"])
        batch = float(train.objective(params, jnp.asarray(x), jnp.asarray(t), cfg))
        total, n = 0.0, 0
        for _ in range(100_000 // 1000):
            x, t = train.toy_batch(rng, 1000)
            total += float(train.objective(params, jnp.asarray(x), jnp.asarray(t), cfg)) * 1000
            n += 1000
        _, losses, out = loss_terms(params, jnp.asarray(x[:1]), jnp.asarray(t[:1]), cfg)
        return {"pct": float(losses["pct"]), "flow": float(losses["flow"]), "cutoff": float(out["cutoff"]),
                "test_mse_batch": batch, "test_mse_100k": total / n, "floor_mse_squared_outputs": 1.25}


__all__ = ["JaxDNM"]
