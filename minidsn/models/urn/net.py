"""The URN as a differentiable function: parameters, the unrolled update rule as one engine primitive, the loss.

Source: seed 002 (Golkar 2019), eqs. 2-9; the assumptions are listed in docs/models/urn.md and are fields of
`UrnSpec` (built from the model's config options).

  eq. 2   N^(0): the input in the first d_in neurons (the z = 0 plane of the grid when there is one)
  eq. 3   N^(l+1) = phi(W N^(l) + b), I times, W dense He-normal (std sqrt(2 / S), ASSUMPTION: fan-in = S)
  eq. 4   yhat = the output nodes of N^(I): the last d_out neurons, yhat_k = N_{S-1-k} (0-based reading of
          N_{S-i}), or, on a grid, the d_out neurons of the top plane nearest its centre (seed Sec. 3)
  eq. 6/7 residual output / input nodes (options)
  eq. 5/9 L = mean cross-entropy(softmax(yhat), y) + c_W |W|_1 + c_N sum_{l=1..I} |N^(l)|_1
              + c_syn sum |W_ij| d_ij^gamma  (d under eq. 8)

Two interchangeable paths compute the iteration: `path="kernel"` is one engine primitive whose reverse pass is the
NumPy code of core.py (BLAS products, activation sparsity; first order only); `path="reference"` is written with
minidsn.numpy operations (every derivative order; used to check the kernel).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

import minidsn.numpy as mnp
from minidsn.engine import defvjp_joint, primitive, stop_gradient
from minidsn.nn import activations as act
from minidsn.nn.regularizers import (
    grid_positions,
    l1_activations,
    l1_weights,
    synaptic_length,
    synaptic_length_weights,
    uplifted_distance_matrix,
)
from minidsn.scipy.special import log_softmax

from .core import embed_input, urn_iterate_forward, urn_iterate_vjp

PATHS = ("kernel", "reference")
LOGITS = ("after_phi", "before_phi")
INIT_DISTS = ("normal", "truncated_normal")
# Keras' truncated he_normal divides the std by the std of a unit normal truncated to [-2, 2] (TF 2 / Keras >= 2.3,
# keras/initializers VarianceScaling), so the drawn values have variance 2 / fan_in.
TRUNCATED_STD_CORRECTION = 0.87962566103423978


@dataclass
class UrnSpec:
    """Everything fixed about one URN (sizes, update-rule variant, loss coefficients, geometry constants).

    Source: none (settings of one URN built from the config; the equations are cited in this module and core.py, the
        assumptions in docs/models/urn.md)
    """

    n_neurons: int
    n_iter: int
    d_in: int
    output_idx: np.ndarray
    phi: str = "relu"
    slope: float = 0.01
    residual_out: bool = False
    residual_in: bool = False
    c_w: float = 0.0
    c_n: float = 0.0
    c_syn: float = 0.0
    activity_reduction: str = "mean"
    length_weights: np.ndarray | None = None
    sparse: bool = True
    logits: str = "after_phi"
    masks: dict = field(default_factory=dict, repr=False)
    # where the reverse pass writes gW (core.urn_iterate_vjp `gw_out`); set only around one training step
    gw_out: np.ndarray | None = field(default=None, repr=False, compare=False)

    def __post_init__(self):
        S = self.n_neurons
        self.output_idx = np.asarray(self.output_idx, dtype=np.int64)
        if not (0 < self.d_in <= S):
            raise ValueError(f"URN: d_in must be in 1..S={S}, got {self.d_in}")
        if self.output_idx.ndim != 1 or self.output_idx.size == 0 or np.any(self.output_idx < 0) or np.any(
                self.output_idx >= S) or np.unique(self.output_idx).size != self.output_idx.size:
            raise ValueError("URN: output_idx must be distinct neuron indices in 0..S-1")
        if self.c_syn > 0 and self.length_weights is None:
            raise ValueError("URN: c_syn > 0 needs neuron positions (geometry = 'grid')")
        if self.length_weights is not None and self.length_weights.shape != (S, S):
            raise ValueError(f"URN: length_weights must be (S, S) = ({S}, {S})")
        if self.logits not in LOGITS:
            raise ValueError(f"URN: logits must be one of {LOGITS}, got {self.logits!r}")
        for name in ("c_w", "c_n", "c_syn"):
            v = getattr(self, name)
            if not (np.isfinite(v) and v >= 0):
                raise ValueError(f"URN: {name} must be finite and >= 0, got {v}")
        self.res_out_idx = self.output_idx if self.residual_out else None
        self.res_in_idx = np.arange(self.d_in) if self.residual_in else None
        m_out = np.zeros(S)
        m_in = np.zeros(S)
        if self.residual_out:
            m_out[self.output_idx] = 1.0
        if self.residual_in:
            m_in[: self.d_in] = 1.0
        self.masks = {"out": m_out, "in": m_in}

    def kernel_kwargs(self):
        """Source: none (arguments for core.urn_iterate_forward; no formula)"""
        kw = dict(n_iter=self.n_iter, phi=self.phi, slope=self.slope, res_out_idx=self.res_out_idx,
                  res_in_idx=self.res_in_idx, sparse=self.sparse)
        if self.gw_out is not None:
            kw["gw_out"] = self.gw_out
        return kw


# ----------------------------------------------------------------------------------------------------------------
# geometry and output nodes
# ----------------------------------------------------------------------------------------------------------------


def last_output_nodes(n_neurons, d_out):
    """eq. 4 read 0-based: yhat_k = N_{S-1-k}, k = 0..d_out-1 (the final d_out neurons).

    Source: seed 002 eq. (4) (yhat_i = N_{S-i}^(I), i <= d_out), read 0-based.
    """
    return n_neurons - 1 - np.arange(d_out)


def top_centre_output_nodes(plane_shape, depth, d_out):
    """Seed Sec. 3: "the center 10 neurons at z = 6" -> the d_out neurons of the top plane nearest the plane's
    centre (ASSUMPTION: Euclidean distance to the centre, ties broken by index).

    Source: seed 002 Sec. 3 (the centre 10 neurons at z = 6 are the outputs); assumption: Euclidean distance to the
        centre, ties by index.
    """
    pos = grid_positions(plane_shape, depth)
    n_plane = int(np.prod(plane_shape))
    top = np.arange((depth - 1) * n_plane, depth * n_plane)
    centre = (np.asarray(plane_shape, dtype=np.float64) - 1) / 2
    dist = np.linalg.norm(pos[top, :-1] - centre, axis=1)
    order = np.lexsort((top, np.round(dist, 12)))
    if d_out > n_plane:
        raise ValueError(f"URN: d_out = {d_out} does not fit in a plane of {n_plane} neurons")
    return np.sort(top[order[:d_out]])


def grid_length_weights(plane_shape, depth, beta, gamma, pairs="all"):
    """d_ij^gamma on the uplifted grid (eq. 8, 9).

    Source: seed 002 Sec. 3 eq. (8) (ds^2 = ds_input^2 + beta dz^2), eq. (9) (d_ij^gamma); assumption: grid positions,
        beta, gamma (config).
    """
    D = uplifted_distance_matrix(grid_positions(plane_shape, depth), beta)
    return synaptic_length_weights(D, gamma, pairs)


# ----------------------------------------------------------------------------------------------------------------
# parameters
# ----------------------------------------------------------------------------------------------------------------


def init_params(spec: UrnSpec, rng: np.random.Generator, init_std=None, bias_init=0.0, dist="normal"):
    """W ~ N(0, std^2) with He std = sqrt(2 / S) unless `init_std` is given (seed eq. 3: "He normal"; fan-in S is
    the ASSUMPTION for a dense S x S matrix); b = bias_init (ASSUMPTION: 0).

    dist "normal" (default): plain normal. "truncated_normal": Keras' he_normal (VarianceScaling, scale 2, fan_in,
    truncated_normal): a unit normal truncated to [-2, 2] (entries outside redrawn, in order, from `rng`), times
    std / 0.8796..., so the variance is still std^2.

    Source: seed 002 l. 56 (W initialised He normal, dense S x S); assumption: fan-in S, b = 0; assumption: plain or
        truncated normal (`dist`).
    """
    S = spec.n_neurons
    std = np.sqrt(2.0 / S) if init_std is None else float(init_std)
    if dist == "normal":
        W = rng.normal(0.0, std, (S, S))
    elif dist == "truncated_normal":
        z = rng.standard_normal((S, S))
        bad = np.flatnonzero(np.abs(z) > 2.0)
        while bad.size:
            z.flat[bad] = rng.standard_normal(bad.size)
            bad = bad[np.abs(z.flat[bad]) > 2.0]
        W = z * (std / TRUNCATED_STD_CORRECTION)
    else:
        raise ValueError(f"URN: init dist must be one of {INIT_DISTS}, got {dist!r}")
    return {"W": W, "b": np.full(S, float(bias_init))}


# ----------------------------------------------------------------------------------------------------------------
# the iteration: kernel primitive and engine reference
# ----------------------------------------------------------------------------------------------------------------


@primitive
def urn_iterate(W, b, h0, *, n_iter, phi, slope, res_out_idx, res_in_idx, sparse, gw_out=None):
    """P (I, B, S), P_l = phi(H_l W^T + b) (seed 002 eqs. 3, 6, 7); see core.urn_iterate_forward.
    `gw_out` is only for the reverse pass (core.urn_iterate_vjp).

    Source: seed 002 eq. (3), eq. (6), eq. (7) (one engine primitive over core.urn_iterate_forward / urn_iterate_vjp).
    """
    return urn_iterate_forward(W, b, h0, n_iter=n_iter, phi=phi, slope=slope, res_out_idx=res_out_idx,
                               res_in_idx=res_in_idx, sparse=sparse)


def _urn_iterate_joint_vjp(g, ans, W, b, h0, wanted, **kw):
    # N^(0) (argument 2) is data in training: then the reverse pass skips dH_0, a full S x S product
    return urn_iterate_vjp(g, ans, W, b, h0, need_h0=2 in wanted, **kw)


defvjp_joint(urn_iterate, _urn_iterate_joint_vjp, wants=True)


def _phi_mnp(name, a, slope):
    if name == "relu":
        return act.relu(a)
    if name == "leaky_relu":
        return act.leaky_relu(a, slope)
    if name == "softplus":
        return act.softplus(a)
    if name == "tanh":
        return mnp.tanh(a)
    raise ValueError(f"unknown activation phi={name!r}")


def urn_iterate_reference(W, b, h0, spec: UrnSpec):
    """Same as `urn_iterate` written with minidsn.numpy (differentiable to any order).

    Source: seed 002 eq. (3), eq. (6), eq. (7) (the same iterations in minidsn.numpy).
    """
    ps = []
    h = h0
    for _ in range(spec.n_iter):
        p = _phi_mnp(spec.phi, mnp.matmul(h, mnp.transpose(W)) + b, spec.slope)
        ps.append(p)
        h = _next_state(p, h, h0, spec)
    return mnp.stack(ps)


def _next_state(p, h, h0, spec):
    if spec.residual_out:
        p = p + h * spec.masks["out"]
    if spec.residual_in:
        p = p + h0 * spec.masks["in"]
    return p


def states(params, x, spec: UrnSpec, path="kernel"):
    """[N^(0), ..., N^(I)] for inputs x (B, d_in).

    Source: seed 002 eq. (2), eq. (3) ([N^(0), ..., N^(I)]).
    """
    if path not in PATHS:
        raise ValueError(f"URN: path must be one of {PATHS}, got {path!r}")
    if np.ndim(x) != 2 or np.shape(x)[1] != spec.d_in:
        raise ValueError(f"URN: inputs must be (batch, d_in={spec.d_in}), got {np.shape(x)}")
    h0 = embed_input(x, spec.n_neurons)
    if path == "kernel":
        P = urn_iterate(params["W"], params["b"], h0, **spec.kernel_kwargs())
    else:
        P = urn_iterate_reference(params["W"], params["b"], h0, spec)
    hs = [h0]
    for l in range(spec.n_iter):
        hs.append(_next_state(P[l], hs[-1], h0, spec))
    return hs


def output_logits(params, hs, spec: UrnSpec):
    """The logits given to softmax cross-entropy (eq. 4 leaves open whether phi is applied to them).

    "after_phi" (default, ASSUMPTION): the output neurons of N^(I) as they are, phi included (>= 0 for relu).
    "before_phi": the output neurons' pre-activation at the last iteration, A = W_out N^(I-1) + b_out (plus
    N^(I-1)_out with residual output nodes, eq. 6): a linear output layer, as a Keras Dense(d_out) before softmax.
    Only the logits change; the states and the activity penalty keep phi.

    Source: seed 002 eq. (4) (yhat_i = N_{S-i}^(I)), eq. (6) (residual output nodes); assumption: phi applied to the
        logits or not (`logits`).
    """
    out = spec.output_idx
    if spec.logits == "after_phi":
        return hs[-1][:, out]
    # "W_out" (optional) is a copy of W[out] given as its own leaf by the fused step, whose gradient it adds into
    # gW's rows in place; indexing W here would make the engine build and add a second (S, S) gradient per step
    w_out = params["W_out"] if "W_out" in params else params["W"][out]
    a = mnp.matmul(hs[-2], mnp.transpose(w_out)) + params["b"][out]
    return a + hs[-2][:, out] if spec.residual_out else a


def loss_terms(params, x, y_onehot, spec: UrnSpec, path="kernel"):
    """(total, terms): eq. 9 (eq. 5 when c_syn = 0); terms holds each term (traced) and the logits.

    Source: seed 002 eq. (5) (CE + c_W |W| + c_N sum_l |N^(l)|), eq. (9) (+ c_syn sum_{i<j} |W_ij| d_ij^gamma); eq.
        (4) (logits = the output neurons).
    """
    if np.shape(y_onehot) != (np.shape(x)[0], spec.output_idx.size):
        raise ValueError(f"URN: targets must be one-hot (batch, d_out={spec.output_idx.size}), "
                         f"got {np.shape(y_onehot)}")
    hs = states(params, x, spec, path)
    logits = output_logits(params, hs, spec)
    ce = -mnp.sum(y_onehot * log_softmax(logits, axis=1)) / x.shape[0]
    total = ce
    terms = {"ce": ce, "logits": logits, "states": hs}
    if spec.c_w > 0:
        terms["l1_w"] = l1_weights(params["W"])
        total = total + spec.c_w * terms["l1_w"]
    if spec.c_n > 0:
        terms["l1_n"] = l1_activations(hs[1:], spec.activity_reduction)
        total = total + spec.c_n * terms["l1_n"]
    if spec.c_syn > 0:
        terms["syn"] = synaptic_length(params["W"], spec.length_weights)
        total = total + spec.c_syn * terms["syn"]
    return total, terms


def loss_with_aux(params, x, y_onehot, spec: UrnSpec, path="kernel"):
    """For value_and_grad(..., has_aux=True): aux holds raw (untraced) terms, logits and states.

    Source: seed 002 eq. (5), eq. (9) (loss_terms with its parts as auxiliary output).
    """
    total, terms = loss_terms(params, x, y_onehot, spec, path)
    aux = {k: (stop_gradient(v) if k != "states" else [stop_gradient(h) for h in v]) for k, v in terms.items()}
    return total, aux


def forward_logits(params, x, spec: UrnSpec, batch_size=1000, threshold=0.0):
    """Logits and the activity map (I+1, S) of a data set, in batches, without gradients.

    Source: seed 002 eq. (3), eq. (4) (forward pass without gradient, in batches).
    """
    from .structure import activity_map, merge_activity

    outs, amap = [], None
    for s in range(0, x.shape[0], batch_size):
        hs = states(params, x[s:s + batch_size], spec)
        outs.append(output_logits(params, hs, spec))
        amap = merge_activity(amap, activity_map(hs, threshold))
    return np.concatenate(outs), amap
