"""DNM closeness matrix: positions, parameter transforms, initialisations, strict cutoff.

Source: seed 000 l. 38-84 ("Network Structure": sine-to-a-power times gaussian, cutoff, rescale);
Miej/Dynamic_Neural_Manifold@873268a dynamic_neural_manifold-toy_dataset.ipynb cell 0 l. 72-183 (closeness),
l. 276-380 (cutoff, positions, initialisation).

For non-input neuron i (row r = i - n_in) and source j (column, j < N - n_out):

    P[r, j]  = j - i + D_r,       D = linspace(n_in, n_out, N - n_in)          (toy notebook cell 0 l. 285-307)
    gauss    = exp(-(P - mu_i)^2 / (2 softplus(sigma_i)^2))
    s        = (0.501 + 0.5 sin(2 pi P / (T softplus(theta_i)/ln 2) + phi_i)) ** (beta_i + 1)
    v        = (2 sigmoid(alpha_i) - 1) * gauss * (s - sigmoid(gamma_i))
    c        = sigmoid(kappa)                                                              (trainable cutoff)
    d[r, j]  = sign(v) (|v| - c) / (1 - c)   if |v| > c (strict)   else 0;   0 outside the allowed entries.
               ("signed", the code's: d in (-1, 1))
    d[r, j]  =         (|v| - c) / (1 - c)   if |v| > c (strict)   else 0     ("unsigned", the seed text's
               closeness "within the range [0,1]", l. 52: the magnitude of the signed value; d <= 1 while |v| <= 1)

The same code runs on plain NumPy arrays (the reference, `NUMPY_OPS`) and inside the engine (`engine_ops()`), so the
gradient of d reaches every parameter and kappa: inside the cutoff dd/dv = 1/(1-c) and dd/dc = sign(v)(|v|-1)/(1-c)^2
(sign(v) carries no gradient, as tf.sign); unsigned: dd/dv = sign(v)/(1-c), dd/dc = (|v|-1)/(1-c)^2; outside it
everything is 0.
"""

from __future__ import annotations

import math
import types

import numpy as np
import scipy.special

from minidsn.models.dnm.dag_kernels import allowed_mask

__all__ = [
    "CLOSENESS_PARAMS",
    "CLOSENESS_RANGES",
    "INITS",
    "NUMPY_OPS",
    "engine_ops",
    "positions",
    "init_params",
    "closeness",
    "cutoff_value",
]

# the seven per-neuron closeness parameters (note, "Trainable variables"); each has shape [N]
CLOSENESS_PARAMS = ("alpha", "beta", "gamma", "theta", "phi", "sigma", "mu")
# the range of d: "signed" (the code, note "Text versus code" 2) or "unsigned" (the seed text, l. 52: [0, 1])
CLOSENESS_RANGES = ("signed", "unsigned")


def _toy_init(n_neurons, n_in):
    # note table, "toy init N(mean, sd)" column (= the toy notebook's tf.random_normal calls)
    return {
        "alpha": (5.0, 0.1),
        "beta": (0.0, 0.01),
        "gamma": (0.0, 0.1),
        "theta": (0.0, 0.1),
        "phi": (0.5 * math.pi, 0.001 * math.pi),
        "sigma": (n_in**0.75, n_neurons**0.133),
        "mu": (0.0, 2.0),
    }


def _mnist_init(n_neurons, n_in):
    # note table, "MNIST init" column (= the MNIST notebook)
    return {
        "alpha": (5.0, 1.0),
        "beta": (0.0, 0.01),
        "gamma": (0.0, 1.0),
        "theta": (0.0, 1.0),
        "phi": (0.5 * math.pi, 0.01 * math.pi),
        "sigma": (n_in**0.66, n_neurons**0.33),
        "mu": (0.0, 14.0),
    }


INITS = {"toy": _toy_init, "mnist": _mnist_init}


def positions(n_neurons: int, n_in: int, n_out: int) -> np.ndarray:
    """P[r, j] = j - i + D_r with i = n_in + r, D = linspace(n_in, n_out, N - n_in) (toy notebook cell 0 l. 285-307).

    Shape [N - n_in, N - n_out]. The displacement puts the zero of the position axis at the first input's output for
    the first computational neuron and at the last computational neuron's output for the last output neuron.

    Source: seed 000 l. 68 (closeness functions applied row-wise to the adjacency matrix);
        Miej/Dynamic_Neural_Manifold@873268a dynamic_neural_manifold-toy_dataset.ipynb cell 0 l. 285-307 (x, y
        meshgrid; displacement linspace(n_in, n_out, N - n_in); positions = Y - X + D).
    """
    if not (n_in >= 1 and n_out >= 1 and n_neurons >= n_in + n_out):
        raise ValueError(f"positions: need n_in, n_out >= 1 and N >= n_in + n_out, got N={n_neurons}, {n_in}, {n_out}")
    i = np.arange(n_in, n_neurons, dtype=np.float64)[:, None]
    j = np.arange(n_neurons - n_out, dtype=np.float64)[None, :]
    disp = np.linspace(n_in, n_out, n_neurons - n_in)[:, None]
    return j - i + disp


def init_params(rng: np.random.Generator, n_neurons: int, n_in: int, n_out: int, init: str = "toy",
                kappa0: float = -1.0) -> dict:
    """Initial trainable parameters (note, "Trainable variables" table).

    Returns {"alpha".."mu": [N], "w": [N], "b": [N], "kappa": [] (0-d)}. Each parameter has one entry per neuron, as
    in the notebooks ([N,1] and [1,N] there); the rows of input neurons and the w, b of output neurons exist but are
    never used (their gradient is 0). w, b ~ N(0, 1). Draw order: the seven closeness parameters in CLOSENESS_PARAMS
    order, then w, then b.

    Source: Miej/Dynamic_Neural_Manifold@873268a dynamic_neural_manifold-toy_dataset.ipynb cell 0 l. 313-369 (toy
        inits), l. 372-380 (variables); Miej/Dynamic_Neural_Manifold@873268a dynamic_neural_manifold-mnist.ipynb cell
        0 l. 313-369 (MNIST inits: sd 1.0, 0.01 pi, n_in^0.66, N^0.33, 14.0); minidsn choice: draw order as listed.
    """
    if init not in INITS:
        raise ValueError(f"init must be one of {sorted(INITS)}, got {init!r}")
    spec = INITS[init](n_neurons, n_in)
    params = {}
    for name in CLOSENESS_PARAMS:
        mean, sd = spec[name]
        params[name] = rng.normal(mean, sd, size=n_neurons)
    params["w"] = rng.normal(0.0, 1.0, size=n_neurons)
    params["b"] = rng.normal(0.0, 1.0, size=n_neurons)
    params["kappa"] = np.array(float(kappa0))
    return params


def _np_softplus(x):
    return np.logaddexp(0.0, x)


NUMPY_OPS = types.SimpleNamespace(
    exp=np.exp,
    sin=np.sin,
    abs=np.abs,
    where=np.where,
    sigmoid=scipy.special.expit,
    softplus=_np_softplus,
    stop_gradient=lambda a: a,
    reshape=np.reshape,
)


def engine_ops():
    """The same operations from the differentiable namespace (imported lazily: the engine may be absent).

    Source: none (the operation namespace the same closeness code runs on; no formula)
    """
    import minidsn.numpy as mnp
    from minidsn.engine import stop_gradient
    from minidsn.nn.activations import softplus
    from minidsn.scipy.special import expit

    return types.SimpleNamespace(
        exp=mnp.exp,
        sin=mnp.sin,
        abs=mnp.abs,
        where=mnp.where,
        sigmoid=expit,
        softplus=softplus,
        stop_gradient=stop_gradient,
        reshape=mnp.reshape,
    )


def cutoff_value(kappa, ops=NUMPY_OPS):
    """c = sigmoid(kappa) (note, "Trainable variables": scalar cutoff, init -1.0, trained).

    Source: seed 000 l. 84, l. 165 (cutoff sigmoid(-1.0) = 0.268); Miej/Dynamic_Neural_Manifold@873268a
        dynamic_neural_manifold-toy_dataset.ipynb cell 0 l. 276-277 (_cutoff = -1.0, trainable; cutoff =
        sigmoid(_cutoff)).
    """
    return ops.sigmoid(kappa)


def closeness(params: dict, P: np.ndarray, mask: np.ndarray, n_in: int, period: float, ops=NUMPY_OPS,
              closeness_range: str = "signed"):
    """Closeness values (module docstring equations). Returns (d, v, c).

    params: the dict of init_params (arrays, or traced values under the engine). P: positions(); mask:
    allowed_mask(); period: T (5 toy, 28 MNIST). v is the pre-cutoff value (used by the smooth sparsity surrogate).
    closeness_range: "signed" (the code's d = sign(v)(|v| - c)/(1 - c)) or "unsigned" (the seed text's
    closeness in [0, 1]: d = (|v| - c)/(1 - c)); the live set |v| > c is the same for both.

    Source: seed 000 l. 68-84 (sine-to-a-power times gaussian, cutoff, rescale); Miej/Dynamic_Neural_Manifold@873268a
        dynamic_neural_manifold-toy_dataset.ipynb cell 0 l. 72-78 (parameter transforms), l. 97-117 (gaussian), l.
        120-146 (powered sine, 0.501 offset), l. 149-158 (v = a gauss (s - g)), l. 161-183 (d = sign(v)(|v| - c)/(1 -
        c) where |v| > c, else 0); seed 000 l. 52 (unsigned: "the absolute value of the elements ... within the
        range [0,1] ... a measure of 'closeness'"), l. 84 (cutoff, rescale to start at zero).
    """
    if closeness_range not in CLOSENESS_RANGES:
        raise ValueError(f"closeness_range must be one of {CLOSENESS_RANGES}, got {closeness_range!r}")

    def row(name):  # per-neuron parameter of the non-input neurons as a column [N - n_in, 1]
        return ops.reshape(params[name][n_in:], (-1, 1))

    a = 2.0 * ops.sigmoid(row("alpha")) - 1.0
    expo = row("beta") + 1.0
    g = ops.sigmoid(row("gamma"))
    th = ops.softplus(row("theta")) / math.log(2.0)
    ph = row("phi")
    sg = ops.softplus(row("sigma"))
    mu = row("mu")

    gauss = ops.exp(-((P - mu) ** 2) / (2.0 * sg**2))
    base = 0.501 + 0.5 * ops.sin((2.0 * math.pi) / (period * th) * P + ph)
    s = base**expo
    v = a * (gauss * (s - g))
    c = cutoff_value(params["kappa"], ops)
    absv = ops.abs(v)
    sign = np.sign(ops.stop_gradient(v))  # tf.sign: no gradient
    keep = np.asarray(ops.stop_gradient(absv) > ops.stop_gradient(c)) & mask
    if closeness_range == "unsigned":
        d = ops.where(keep, (absv - c) / (1.0 - c), 0.0)
    else:
        d = ops.where(keep, sign * (absv - c) / (1.0 - c), 0.0)
    return d, v, c
