"""DNM network: closeness -> DAG forward -> prediction -> losses, as one differentiable function of the parameters.

    d, v, c  = closeness(params)                         minidsn.models.dnm.closeness (engine operations);
                                                         closeness_range: signed (code) or unsigned (seed l. 52)
    out      = DAG(d, w[:N-n_out], b[:N-n_out], x)       minidsn.models.dnm.dag_primitive (one primitive, or engine ref.);
                                                         activation: leaky_relu (code) or sigmoid (seed l. 68, 125)
    y_hat    = out**2 (square_outputs) or out            note, "Forward pass" / "Text versus code" 3
    L        = c_obj L_obj(y_hat, t) + c_flow L_flow(d) + c_sp S^2 + c_time dt^time_pow     minidsn.models.dnm.losses

dt is the measured process time of the previous training step (seed l. 106, 115; toy notebook cell 0 l. 553-554),
an input of the loss (`step_time`), constant for the gradient; the term is left out entirely when c_time = 0.

`dag_impl` picks how the DAG runs: "dense" / "sparse" compiled kernels (sparse over the live entries of d, the
structure read from the value of d at this step), or "engine" (mnp operations; slow, any-order gradients).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from minidsn.models.dnm import dag_kernels as dag
from minidsn.models.dnm import losses
from minidsn.models.dnm.closeness import CLOSENESS_RANGES, NUMPY_OPS, closeness, engine_ops, positions

__all__ = ["Layout", "LossSpec", "DAG_IMPLS", "CLOSENESS_IMPLS", "OBJECTIVES", "network_loss", "predict",
           "closeness_of", "process_time_term"]

DAG_IMPLS = ("dense", "sparse", "engine")
CLOSENESS_IMPLS = ("engine", "kernel")
OBJECTIVES = ("mse", "softmax_ce")


@dataclass(frozen=True)
class Layout:
    """Sizes of the net and the constant arrays derived from them (positions P, allowed mask, K).

    Source: none (sizes of the net and constants derived by closeness.positions and dag_kernels.allowed_mask /
        allowed_count, which cite their sources)
    """

    n_neurons: int
    n_in: int
    n_out: int
    period: float
    P: np.ndarray = field(init=False, repr=False, compare=False)
    mask: np.ndarray = field(init=False, repr=False, compare=False)
    K: int = field(init=False, compare=False)

    def __post_init__(self):
        if not (self.n_in >= 1 and self.n_out >= 1 and self.n_neurons >= self.n_in + self.n_out):
            raise ValueError(
                f"DNM sizes: need n_inputs >= 1, n_outputs >= 1 and n_neurons >= n_inputs + n_outputs, got "
                f"n_neurons={self.n_neurons}, n_inputs={self.n_in}, n_outputs={self.n_out}"
            )
        if not self.period > 0:
            raise ValueError(f"DNM period must be > 0, got {self.period}")
        object.__setattr__(self, "P", positions(self.n_neurons, self.n_in, self.n_out))
        object.__setattr__(self, "mask", dag.allowed_mask(self.n_neurons, self.n_in, self.n_out))
        object.__setattr__(self, "K", dag.allowed_count(self.n_neurons, self.n_in, self.n_out))

    @property
    def n_src(self) -> int:
        """Source: Miej/Dynamic_Neural_Manifold@873268a dynamic_neural_manifold-toy_dataset.ipynb cell 0 l. 285 (sources
            are neurons 0 .. N - n_out - 1).
        """
        return self.n_neurons - self.n_out


@dataclass(frozen=True)
class LossSpec:
    """Every switch of the loss (each one a config option of the dnm model).

    Source: none (settings of the loss; the loss is cited in network_loss and losses.py)
    """

    square_outputs: bool = True
    objective: str = "mse"
    sparsity: str = "count"
    sparsity_temperature: float = 0.01
    c_obj: float = 1e4
    c_flow: float = 1.0
    c_sp: float = 0.1
    dag_impl: str = "dense"
    slope: float = dag.DEFAULT_SLOPE
    closeness_impl: str = "engine"
    activation: str = dag.DEFAULT_ACTIVATION
    closeness_range: str = "signed"
    c_time: float = 0.0
    time_pow: float = 1.0

    def __post_init__(self):
        if self.objective not in OBJECTIVES:
            raise ValueError(f"objective must be one of {OBJECTIVES}, got {self.objective!r}")
        if self.sparsity not in losses.SPARSITY_SURROGATES:
            raise ValueError(f"sparsity must be one of {losses.SPARSITY_SURROGATES}, got {self.sparsity!r}")
        if self.dag_impl not in DAG_IMPLS:
            raise ValueError(f"dag_impl must be one of {DAG_IMPLS}, got {self.dag_impl!r}")
        if self.closeness_impl not in CLOSENESS_IMPLS:
            raise ValueError(f"closeness_impl must be one of {CLOSENESS_IMPLS}, got {self.closeness_impl!r}")
        if self.activation not in dag.ACTIVATIONS:
            raise ValueError(f"activation must be one of {dag.ACTIVATIONS}, got {self.activation!r}")
        if self.closeness_range not in CLOSENESS_RANGES:
            raise ValueError(f"closeness_range must be one of {CLOSENESS_RANGES}, got {self.closeness_range!r}")


def closeness_of(params, layout: Layout, ops=NUMPY_OPS, impl: str = "engine", need_v: bool = True,
                 closeness_range: str = "signed"):
    """(d, v, c) for these parameters: closeness.closeness ("engine", the reference) or the fused kernel
    minidsn.models.dnm.closeness_kernel ("kernel"; same equations, one compiled pass each way). need_v=False lets the
    kernel leave v at 0 on provably dead entries (d is unchanged): for callers that never read v. closeness_range:
    "signed" (the code's) or "unsigned" (the seed text's [0, 1]).

    Source: Miej/Dynamic_Neural_Manifold@873268a dynamic_neural_manifold-toy_dataset.ipynb cell 0 l. 72-183 (through
        closeness.closeness or its compiled kernel).
    """
    if impl == "engine":
        return closeness(params, layout.P, layout.mask, layout.n_in, layout.period, ops, closeness_range)
    if closeness_range not in CLOSENESS_RANGES:
        raise ValueError(f"closeness_range must be one of {CLOSENESS_RANGES}, got {closeness_range!r}")
    from minidsn.models.dnm.closeness_kernel import closeness_fused

    names = ("alpha", "beta", "gamma", "theta", "phi", "sigma", "mu", "kappa")
    dv = closeness_fused(*(params[k] for k in names), P=layout.P, n_in=layout.n_in, n_out=layout.n_out,
                         period=float(layout.period), exact_v=need_v, signed=closeness_range == "signed")
    return dv[0], dv[1], ops.sigmoid(params["kappa"])


def _dag_out(d, d_raw, w, b, x, layout: Layout, spec: LossSpec, structure=None):
    from minidsn.models.dnm.dag_primitive import dag_dense, dag_engine_reference, dag_sparse

    n_in, n_out, act = layout.n_in, layout.n_out, spec.activation
    if spec.dag_impl == "dense":
        return dag_dense(d, w, b, x, n_in=n_in, n_out=n_out, slope=spec.slope, activation=act)
    if spec.dag_impl == "sparse":
        ip, ix = structure if structure is not None else dag.live_structure(d_raw, n_in, n_out)
        return dag_sparse(d, w, b, x, n_in=n_in, n_out=n_out, indptr=ip, indices=ix, slope=spec.slope, activation=act)
    return dag_engine_reference(d, w, b, x, n_in, n_out, slope=spec.slope, activation=act)


def _objective(y_hat, target, spec: LossSpec):
    if spec.objective == "mse":
        return losses.mse(y_hat, target)
    from minidsn.scipy.special import log_softmax

    return losses.softmax_cross_entropy(y_hat, target, lambda z: log_softmax(z, axis=-1))


def network_loss(params, x, target, layout: Layout, spec: LossSpec, step_time: float = 0.0):
    """Total loss and its parts; differentiate with value_and_grad(..., has_aux=True).

    Returns (L, aux) with aux = {"objective", "flow", "F_in", "F_out", "pct", "sparsity", "cutoff"} as floats and
    "structure": the CSR (indptr, indices) of the live entries (for the guards and the sparse kernel); with
    spec.c_time > 0 also "time" = c_time step_time^time_pow (step_time: seconds of process time, a plain float, so
    the term has no gradient, as in the notebooks' time_diff).

    Source: seed 000 l. 110 (objective + flow + sparsity, weighted); Miej/Dynamic_Neural_Manifold@873268a
        dynamic_neural_manifold-toy_dataset.ipynb cell 0 l. 471 (y_hat = out^2), l. 555-560 (L = c_obj L_obj + c_flow
        L_flow + c_sp pct^2); seed 000 l. 106 (a process-time term), toy notebook cell 0 l. 553-554 (time_diff,
        time_pow = 1.0; built, never added to the loss there).
    """
    from minidsn.engine import stop_gradient

    ops = engine_ops()
    d, v, c = closeness_of(params, layout, ops, spec.closeness_impl, need_v=spec.sparsity == "smooth_count",
                           closeness_range=spec.closeness_range)
    d_raw = np.asarray(stop_gradient(d))
    structure = dag.live_structure(d_raw, layout.n_in, layout.n_out)
    n = layout.n_src
    out = _dag_out(d, d_raw, params["w"][:n], params["b"][:n], x, layout, spec, structure)
    y_hat = out**2 if spec.square_outputs else out
    obj = _objective(y_hat, target, spec)
    f_in, f_out = losses.flow_terms(d, layout.n_in, layout.n_out, ops)
    flow = (f_in - f_out) ** 2
    S = losses.sparsity_value(spec.sparsity, d, v, c, layout.mask, layout.K, spec.sparsity_temperature, ops)
    total = spec.c_obj * obj + spec.c_flow * flow + spec.c_sp * S**2
    time_term = None
    if spec.c_time > 0:  # left out at 0, so the other variants' loss is computed exactly as before
        time_term = process_time_term(step_time, spec.c_time, spec.time_pow)
        total = total + time_term
    aux = {
        "objective": float(stop_gradient(obj)),
        "flow": float(stop_gradient(flow)),
        "F_in": float(stop_gradient(f_in)),
        "F_out": float(stop_gradient(f_out)),
        "pct": losses.pct_live(d_raw, layout.mask, layout.K),
        "sparsity": float(stop_gradient(S)),
        "cutoff": float(stop_gradient(c)),
        "structure": structure,
    }
    if time_term is not None:
        aux["time"] = time_term
    return total, aux


def process_time_term(step_time: float, c_time: float, time_pow: float) -> float:
    """c_time * dt^time_pow, dt = the measured process time (s) of the previous training step: a plain float.

    The most literal reading of the seed: "measure the amount of time it takes to process a single training step (via
    time.process_time()), and use that to build another term in our loss function" (l. 106; l. 115, 123). The toy
    notebook builds the same difference (time_diff = this reading - the previous step's, cell 0 l. 553, and
    time_pow = 1.0, l. 554) and never adds it. A measured time is a constant for the derivative (as in TensorFlow):
    the term changes the loss value, never a gradient.

    Source: seed 000 l. 106, 115, 123; Miej/Dynamic_Neural_Manifold@873268a dynamic_neural_manifold-toy_dataset.ipynb
        cell 0 l. 553-554, cell 3 l. 62-63, 102 (last_time fed from the previous step's reading).
    """
    dt = float(step_time)
    if not (dt >= 0 and np.isfinite(dt)):
        raise ValueError(f"process time of a step must be a finite number >= 0, got {step_time!r}")
    return float(c_time) * dt ** float(time_pow)


def predict(params, x, layout: Layout, spec: LossSpec, chunk: int = 2000) -> np.ndarray:
    """y_hat for inputs x [B, n_in] with plain arrays (no gradient), in chunks of `chunk` rows.

    Source: Miej/Dynamic_Neural_Manifold@873268a dynamic_neural_manifold-toy_dataset.ipynb cell 0 l. 466-473
        (inference: squared outputs in the faithful variant); seed 000 l. 52, 68 (unsigned closeness, sigmoid).
    """
    d, _, _ = closeness_of(params, layout, NUMPY_OPS, closeness_range=spec.closeness_range)
    n = layout.n_src
    w = np.ascontiguousarray(params["w"][:n])
    b = np.ascontiguousarray(params["b"][:n])
    outs = []
    for s in range(0, x.shape[0], chunk):
        out, _ = dag.dense_forward(d, w, b, np.ascontiguousarray(x[s : s + chunk]), layout.n_in, layout.n_out,
                                   slope=spec.slope, activation=spec.activation)
        outs.append(out)
    out = np.concatenate(outs, axis=0)
    return out**2 if spec.square_outputs else out
