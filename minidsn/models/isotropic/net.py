"""The isotropic MLP of G. Bird (v1 seed 003_65f8765f7dcd8253; v2 algebra in note isotropic.md, "Network").

Sizes [d_in, n_0, ..., n_{H-1}, d_out]: H hidden layers, L = H + 1 weight matrices W_0..W_H (W_k has shape
(out, in), as in the author's code).  With a_{-1} = x and s_k = tanh(r_k)/r_k one scalar per sample and layer:

    h_0 = W_0 x + b_0,                              a_0 = s_0 h_0
    h_k = W_k a_{k-1} + b_k + psi_{k-1} s_{k-1},    a_k = s_k h_k          (1 <= k <= H-1)
    y   = W_H a_{H-1} + b_H + psi_{H-1} s_{H-1}                            (no activation on the output)

(note isotropic.md "Network"; Dependencies/IsotropicFunctions.py IsotropicTanhMLP.forward).  psi_k has the size of
layer k+1's output.  Modes (all config values):

* o_mode: "none" (o = 0), "constant" (o = o_init, not trained), "trainable" (o = exp(theta), theta trained, initial
  o = o_init = 1e-6; with o_positive=False o itself is trained).  One o per hidden layer.
* psi_mode: "none" (v1: no psi), "zeros" (psi held constant, starts 0; changed only by neurodegeneration),
  "trainable", "trainable_decay" (loss + psi_decay * sum |psi|^2, psi_decay = 0.1 in the experiments),
  "expectation" (no psi; degeneration corrections go into the next bias).
* activation: "isotropic" (isotropic tanh) or "elementwise" (the anisotropic tanh control: a_k = tanh(h_k), no o,
  no psi; psi_mode must be "none" and o_mode "none").

A network is ``{"params": trainable pytree, "buffers": constant pytree}``:
params = {"W": [...], "b": [...], ("psi": [...]), ("log_o" | "o": [...] 0-d arrays)}; buffers = {("o": [...]),
("psi": [...])}.  All arrays float64.
"""

from __future__ import annotations

import numpy as np

from minidsn.models.api import ConfigError

from .activation import DEFAULT_EPS, GUARDS, ISOTROPIC_FUNCTIONS, get_xp, isotropic_scale

__all__ = [
    "O_MODES",
    "PSI_MODES",
    "ACTIVATIONS",
    "net_config",
    "check_config",
    "orthogonal",
    "init_network",
    "sizes_of",
    "hidden_count",
    "intrinsic_lengths",
    "psi_location",
    "forward",
    "forward_with_scales",
    "cross_entropy",
    "loss_fn",
    "accuracy",
    "check_network",
]

O_MODES = ("none", "constant", "trainable")
PSI_MODES = ("none", "zeros", "trainable", "trainable_decay", "expectation")
ACTIVATIONS = ("isotropic", "elementwise")


def net_config(**kw) -> dict:
    """A complete, checked network config dict (defaults: the v2 experiments' trainable o, trainable+decay psi).

    Source: GeorgeBird1/Isotropic-Adaptive-MLPs@8f8ebd0 Dependencies/IsotropicFunctions.py::IsotropicTanhMLP.__init__
        (intrinsic_length_approach None / Constant / Trainable; linear_correction_approach None / Constant / Trainable
        / Trainable+Decay / Expectation; init o 1e-6, eps 1e-3).
    """
    cfg = {
        "activation": "isotropic",
        "o_mode": "trainable",
        "o_init": 1e-6,
        "o_positive": True,
        "psi_mode": "trainable_decay",
        "psi_decay": 0.1,
        "eps": DEFAULT_EPS,
        "guard": "series",
        "isotropic_fn": "tanh",
    }
    unknown = set(kw) - set(cfg)
    if unknown:
        raise ValueError(f"unknown network config keys {sorted(unknown)}; known: {sorted(cfg)}")
    cfg.update(kw)
    check_config(cfg)
    return cfg


def check_config(cfg: dict) -> None:
    """Raise ConfigError (a ValueError) naming the bad key for an impossible network config.

    Source: none (configuration checks; no formula)
    """
    for key, allowed in (("activation", ACTIVATIONS), ("o_mode", O_MODES), ("psi_mode", PSI_MODES),
                         ("guard", GUARDS), ("isotropic_fn", ISOTROPIC_FUNCTIONS)):
        if cfg.get(key, "tanh" if key == "isotropic_fn" else None) not in allowed:
            raise ConfigError(f"config key {key!r}: must be one of {allowed}, got {cfg.get(key)!r}")
    if cfg["activation"] == "elementwise" and (cfg["o_mode"] != "none" or cfg["psi_mode"] != "none"):
        raise ConfigError("config keys 'o_mode' / 'psi_mode': the elementwise-tanh control has no o and no psi: "
                          "set o_mode = 'none' and psi_mode = 'none'")
    if cfg["o_mode"] == "trainable" and cfg["o_positive"] and not cfg["o_init"] > 0:
        raise ConfigError(f"config key 'o_init': must be > 0 for a positive trainable o (o = exp(theta)), "
                          f"got {cfg['o_init']!r}")
    if not np.isfinite(cfg["o_init"]):
        raise ConfigError(f"config key 'o_init': must be finite, got {cfg['o_init']!r}")
    if not cfg["eps"] > 0:
        raise ConfigError(f"config key 'eps': must be > 0, got {cfg['eps']!r}")
    if not cfg["psi_decay"] >= 0:
        raise ConfigError(f"config key 'psi_decay': must be >= 0, got {cfg['psi_decay']!r}")


def orthogonal(rng: np.random.Generator, rows: int, cols: int, gain: float = 1.0) -> np.ndarray:
    """A (rows, cols) matrix with orthonormal rows or columns (QR of a Gaussian, sign-fixed: the Haar measure),
    like torch.nn.init.orthogonal_ used by the author's simple_initialiser(weight_init="orthogonal").

    Source: GeorgeBird1/Isotropic-Adaptive-MLPs@8f8ebd0
        Dependencies/IsotropicFunctions.py::IsotropicTanhMLP.simple_initialiser (weight_init='orthogonal':
        torch.nn.init.orthogonal_).
    """
    flat = rng.standard_normal((max(rows, cols), min(rows, cols)))
    q, r = np.linalg.qr(flat)
    q = q * np.sign(np.diag(r))  # makes the distribution uniform (Haar)
    if rows < cols:
        q = q.T
    return gain * np.ascontiguousarray(q, dtype=np.float64)


def init_network(sizes, cfg: dict, rng: np.random.Generator) -> dict:
    """Orthogonal W, b = 0, psi = 0, o = o_init (note isotropic.md "Network": Init).

    Source: GeorgeBird1/Isotropic-Adaptive-MLPs@8f8ebd0
        Dependencies/IsotropicFunctions.py::IsotropicTanhMLP.simple_initialiser (orthogonal W, b = 0, psi = 0);
        GeorgeBird1/Isotropic-Adaptive-MLPs@8f8ebd0
        Dependencies/IsotropicFunctions.py::IsotropicTanhIntrinsicLength.__init__ (o = init_intrinsic_length, stored
        as log o when trainable and positive).
    """
    check_config(cfg)
    sizes = [int(n) for n in sizes]
    if len(sizes) < 2 or any(n <= 0 for n in sizes):
        raise ValueError(f"sizes must list at least input and output width, all > 0; got {sizes}")
    n_hidden = len(sizes) - 2
    params = {
        "W": [orthogonal(rng, sizes[i + 1], sizes[i]) for i in range(len(sizes) - 1)],
        "b": [np.zeros(sizes[i + 1]) for i in range(len(sizes) - 1)],
    }
    buffers = {}
    if cfg["activation"] == "isotropic":
        if cfg["o_mode"] == "trainable":
            if cfg["o_positive"]:
                params["log_o"] = [np.array(np.log(cfg["o_init"])) for _ in range(n_hidden)]
            else:
                params["o"] = [np.array(float(cfg["o_init"])) for _ in range(n_hidden)]
        else:
            o0 = 0.0 if cfg["o_mode"] == "none" else float(cfg["o_init"])
            buffers["o"] = [np.array(o0) for _ in range(n_hidden)]
        psi = [np.zeros(sizes[k + 2]) for k in range(n_hidden)]
        if cfg["psi_mode"] in ("trainable", "trainable_decay"):
            params["psi"] = psi
        elif cfg["psi_mode"] == "zeros":
            buffers["psi"] = psi
    return {"params": params, "buffers": buffers}


def sizes_of(net: dict) -> list[int]:
    """Source: none (shape bookkeeping; no formula)"""
    W = net["params"]["W"]
    return [int(W[0].shape[1])] + [int(w.shape[0]) for w in W]


def hidden_count(net: dict) -> int:
    """Source: none (shape bookkeeping; no formula)"""
    return len(net["params"]["W"]) - 1


def intrinsic_lengths(params: dict, buffers: dict, cfg: dict, xp=None):
    """[o_0, ..., o_{H-1}] (traced when trainable).  Empty for the elementwise control.

    Source: GeorgeBird1/Isotropic-Adaptive-MLPs@8f8ebd0
        Dependencies/IsotropicFunctions.py::IsotropicTanhIntrinsicLength.o (o = exp(theta) trainable-positive, theta
        trainable-real, or a constant buffer).
    """
    if cfg["activation"] != "isotropic":
        return []
    xp = get_xp(xp)
    if "log_o" in params:
        return [xp.exp(t) for t in params["log_o"]]
    if "o" in params:
        return list(params["o"])
    return list(buffers["o"])


def psi_location(cfg: dict):
    """Where psi lives: ("params", "psi"), ("buffers", "psi") or None (no psi in this mode).

    Source: GeorgeBird1/Isotropic-Adaptive-MLPs@8f8ebd0 Dependencies/IsotropicFunctions.py::IsotropicTanhMLP.__init__
        (psi trained, or a constant buffer in 'Constant' mode).
    """
    if cfg["activation"] != "isotropic":
        return None
    if cfg["psi_mode"] in ("trainable", "trainable_decay"):
        return ("params", "psi")
    if cfg["psi_mode"] == "zeros":
        return ("buffers", "psi")
    return None


def forward_with_scales(params: dict, buffers: dict, x, cfg: dict, xp=None):
    """(y, [s_0, ..., s_{H-1}]): logits and the per-sample scales s_k, shape (B, 1).  Equations: module doc.

    Source: seed 003 abstract; GeorgeBird1/Isotropic-Adaptive-MLPs@8f8ebd0
        Dependencies/IsotropicFunctions.py::IsotropicTanhMLP.forward (h_0 = W_0 x + b_0; h_k = W_k a_{k-1} + b_k +
        psi_{k-1} s_{k-1}; output without activation, + psi s in the psi modes).
    """
    xp = get_xp(xp)
    W, b = params["W"], params["b"]
    n_hidden = len(W) - 1
    loc = psi_location(cfg)
    psi = (params if loc and loc[0] == "params" else buffers)["psi"] if loc else None
    os_ = intrinsic_lengths(params, buffers, cfg, xp)
    a = x
    s = None
    scales = []
    for k in range(n_hidden):
        h = a @ W[k].T + b[k]
        if psi is not None and k >= 1:
            h = h + s * psi[k - 1]
        if cfg["activation"] == "isotropic":
            s = isotropic_scale(h, os_[k], fn=cfg.get("isotropic_fn", "tanh"), eps=cfg["eps"], guard=cfg["guard"],
                                xp=xp)
            a = s * h
            scales.append(s)
        else:
            a = xp.tanh(h)
    y = a @ W[n_hidden].T + b[n_hidden]
    if psi is not None and n_hidden >= 1:
        y = y + s * psi[n_hidden - 1]
    return y, scales


def forward(params: dict, buffers: dict, x, cfg: dict, xp=None):
    """Logits y (B, d_out) of the isotropic MLP (or the elementwise control).

    Source: GeorgeBird1/Isotropic-Adaptive-MLPs@8f8ebd0 Dependencies/IsotropicFunctions.py::IsotropicTanhMLP.forward
        (logits).
    """
    return forward_with_scales(params, buffers, x, cfg, xp)[0]


def cross_entropy(logits, labels, xp=None):
    """Mean softmax cross-entropy, -mean_i log softmax(y_i)[label_i], max-shifted for stability.

    Source: none (softmax cross-entropy of the logits, the loss of the author's experiments; no model formula)
    """
    xp = get_xp(xp)
    labels = np.asarray(labels)
    z_max = np.max(_raw(logits), axis=1, keepdims=True)  # a constant shift: no gradient needed (cancels exactly)
    z = logits - z_max
    lse = xp.log(xp.sum(xp.exp(z), axis=1, keepdims=True))
    onehot = np.zeros((labels.shape[0], _raw(logits).shape[1]))
    onehot[np.arange(labels.shape[0]), labels] = 1.0
    return -xp.sum((z - lse) * onehot) / labels.shape[0]


def _raw(x):
    """The raw ndarray value of x (works on traced values through minidsn.engine.stop_gradient)."""
    if isinstance(x, np.ndarray):
        return x
    try:
        from minidsn.engine import stop_gradient
    except ImportError:
        return np.asarray(x)
    return stop_gradient(x)


def loss_fn(params: dict, buffers: dict, x, labels, cfg: dict, xp=None):
    """Cross-entropy + psi_decay * sum_k |psi_k|^2 in psi_mode "trainable_decay" (note "Network"; author's
    VariableTrainingModules: error + lambda_psi * sum psi^2).

    Source: GeorgeBird1/Isotropic-Adaptive-MLPs@8f8ebd0 Dependencies/IsotropicFunctions.py::IsotropicTanhMLP.__init__
        ('Trainable+Decay': psi regularised to decay to zero; minidsn weight 0.1 sum |psi|^2 as the author's
        experiments).
    """
    xp = get_xp(xp)
    loss = cross_entropy(forward(params, buffers, x, cfg, xp), labels, xp)
    if cfg["activation"] == "isotropic" and cfg["psi_mode"] == "trainable_decay" and cfg["psi_decay"] > 0:
        for p in params["psi"]:
            loss = loss + cfg["psi_decay"] * xp.sum(p * p)
    return loss


def accuracy(params, buffers, x, labels, cfg, batch=2000) -> float:
    """Fraction of argmax(logits) == label, evaluated with plain numpy in batches.

    Source: none (reporting; no formula)
    """
    hits = 0
    for i in range(0, x.shape[0], batch):
        y = forward(params, buffers, x[i:i + batch], cfg, xp=np)
        hits += int(np.sum(np.argmax(y, axis=1) == labels[i:i + batch]))
    return hits / max(1, x.shape[0])


def check_network(net: dict, cfg: dict) -> None:
    """Raise ValueError naming the problem if shapes are inconsistent or any value is not finite.

    Source: none (shape and finiteness checks; no formula)
    """
    p, bufs = net["params"], net["buffers"]
    W, b = p["W"], p["b"]
    if len(W) != len(b) or len(W) < 1:
        raise ValueError(f"network has {len(W)} weight matrices and {len(b)} biases")
    for k in range(len(W)):
        if W[k].ndim != 2 or b[k].shape != (W[k].shape[0],):
            raise ValueError(f"layer {k}: W shape {W[k].shape} and b shape {b[k].shape} do not match")
        if k and W[k].shape[1] != W[k - 1].shape[0]:
            raise ValueError(f"layer {k}: W takes {W[k].shape[1]} inputs but layer {k - 1} has {W[k - 1].shape[0]}")
    loc = psi_location(cfg)
    if loc:
        psi = net[loc[0]][loc[1]]
        for k, v in enumerate(psi):
            if v.shape != (W[k + 1].shape[0],):
                raise ValueError(f"psi_{k} has shape {v.shape}, expected ({W[k + 1].shape[0]},)")
    for group, tree in (("params", p), ("buffers", bufs)):
        for key, leaves in tree.items():
            for i, v in enumerate(leaves):
                if not np.all(np.isfinite(v)):
                    raise ValueError(f"{group}/{key}/{i} contains NaN or inf")
