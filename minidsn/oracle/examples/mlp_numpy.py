"""An independent backend for minidsn's mlp trajectory case: hand-written forward, backward and Adam in plain
NumPy, using nothing of minidsn.  It is the worked example of docs/oracle.md:

    minidsn oracle export mlp --steps 5 --out mlp.npz
    minidsn oracle verify mlp.npz --backend minidsn.oracle.examples.mlp_numpy:Backend

The model (docs/oracle.md, "mlp trajectory"): layers l = 0..L-1, h_0 = x, h_{l+1} = phi(h_l W_l + b_l) for l < L-1,
z = h_{L-1} W_{L-1} + b_{L-1}; loss = mean_i -log softmax(z_i)[y_i] + (l2/2) sum_l ||W_l||^2; then one Adam step
(Kingma & Ba 2015, Algorithm 1; beta1 0.9, beta2 0.999, eps 1e-8) on every W and b.
"""

from __future__ import annotations

import numpy as np

BETA1, BETA2, EPS = 0.9, 0.999, 1e-8


class Backend:
    def setup(self, meta):
        """Called once with the case's meta: read the hyperparameters from its resolved config."""
        cfg = meta["config"]
        self.lr, self.l2, self.activation = cfg["lr"], cfg["l2"], cfg["activation"]

    def loss_and_grads(self, state, inputs):
        layers = state["params"]["layers"]
        x, y = inputs["x"], np.asarray(inputs["y"]).astype(np.int64)
        hs = [x]
        for layer in layers[:-1]:
            a = hs[-1] @ layer["W"] + layer["b"]
            hs.append(np.tanh(a) if self.activation == "tanh" else np.maximum(a, 0.0))
        z = hs[-1] @ layers[-1]["W"] + layers[-1]["b"]
        z = z - z.max(axis=1, keepdims=True)
        p = np.exp(z) / np.exp(z).sum(axis=1, keepdims=True)
        n = x.shape[0]
        ce = -np.mean(np.log(p[np.arange(n), y]))
        l2 = 0.5 * self.l2 * sum(np.sum(layer["W"] ** 2) for layer in layers)
        g = p.copy()
        g[np.arange(n), y] -= 1.0
        g /= n
        grads = [None] * len(layers)
        for i in reversed(range(len(layers))):
            grads[i] = {"W": hs[i].T @ g + self.l2 * layers[i]["W"], "b": g.sum(axis=0)}
            if i:
                g = g @ layers[i]["W"].T
                g = g * (1.0 - hs[i] ** 2) if self.activation == "tanh" else g * (hs[i] > 0)
        return {"total": ce + l2, "cross_entropy": ce, "l2": l2}, {"layers": grads}

    def train_step(self, state, inputs, draws):
        _, grads = self.loss_and_grads(state, inputs)
        t = int(state["opt"]["step"]) + 1
        params, m, v = state["params"], state["opt"]["m"], state["opt"]["v"]
        new = {"params": {"layers": []}, "opt": {"step": t, "m": {"layers": []}, "v": {"layers": []}}}
        for lp, lg, lm, lv in zip(params["layers"], grads["layers"], m["layers"], v["layers"]):
            out = {}
            for k in ("W", "b"):
                mk = BETA1 * lm[k] + (1 - BETA1) * lg[k]
                vk = BETA2 * lv[k] + (1 - BETA2) * lg[k] ** 2
                step = self.lr * (mk / (1 - BETA1 ** t)) / (np.sqrt(vk / (1 - BETA2 ** t)) + EPS)
                out[k] = (lp[k] - step, mk, vk)
            for j, part in enumerate(("params", "m", "v")):
                tree = new["params"] if part == "params" else new["opt"][part]
                tree["layers"].append({k: out[k][j] for k in ("W", "b")})
        return new, []  # the mlp has no structural events
