"""An independent plain-NumPy backend for minidsn's diffrnn trajectory case, written from docs/oracle.md ("diffrnn
trajectory case") alone: forward, BPTT, clip + Adagrad (or G3's RMSProp), floor, deletion and addition from the
recorded draws. ``mistake`` breaks it in one named way, for the kit's tests:

- "delete_off_by_one": deletes neuron j + 1 (mod H) where the rule says j (and reports j + 1);
- "forget_memory_slot": forgets to delete the deleted neurons' entries from the Adagrad memory of ``bh``;
- "draw_order": reads the new neuron's Wxh row and Wiy column from each other's draws (same size, V = 4).
"""

from __future__ import annotations

import numpy as np

MISTAKES = ("delete_off_by_one", "forget_memory_slot", "draw_order")


class Backend:
    def __init__(self, mistake=None):
        if mistake is not None and mistake not in MISTAKES:
            raise ValueError(f"unknown mistake {mistake!r}")
        self.mistake = mistake

    def setup(self, meta):
        self.c = meta["config"]
        self.variant = self.c["variant"]

    # ---- the window ------------------------------------------------------------------------------------------
    def _window(self, params, carried, inputs, targets):
        """(ce, s_last, grads) of total = ce + l1 T sum|m| (docs/oracle.md, steps 2-3)."""
        Wxh, Whh, Wiy, bh, by = (params[k] for k in ("Wxh", "Whh", "Wiy", "bh", "by"))
        H = bh.shape[0]
        m = params.get("m", np.ones(H))
        gate = self.variant == "altern"
        T = len(inputs)
        s, ce, cache = carried, 0.0, []
        for t in range(T):
            h = np.tanh(Wxh[:, inputs[t]] + Whh @ s + bh)
            q = m * h
            y = Wiy @ q + by
            e = np.exp(y - y.max())
            p = e / e.sum()
            ce -= np.log(p[targets[t]])
            cache.append((s, h, q, p))
            s = q if gate else h
        g = {k: np.zeros_like(v) for k, v in params.items()}
        gm = np.zeros(H)
        ds = np.zeros(H)
        for t in reversed(range(T)):
            s_prev, h, q, p = cache[t]
            dy = p.copy()
            dy[targets[t]] -= 1.0
            g["Wiy"] += np.outer(dy, q)
            g["by"] += dy
            dq = Wiy.T @ dy + (ds if gate else 0.0)
            gm += dq * h
            dh = dq * m + (0.0 if gate else ds)
            dr = (1.0 - h * h) * dh
            g["bh"] += dr
            g["Wxh"][:, inputs[t]] += dr
            g["Whh"] += np.outer(dr, s_prev)
            ds = Whh.T @ dr
        total = ce
        if "m" in params:
            l1 = self.c["l1"] * T
            g["m"] = gm + l1 * np.sign(m)
            total = ce + l1 * np.sum(np.abs(m))
        return ce, total, s, g

    def _read(self, state, inputs):
        carried = np.zeros_like(state["carried"]) if inputs["reset"] else state["carried"]
        return carried, np.asarray(inputs["inputs"]).astype(int), np.asarray(inputs["targets"]).astype(int)

    def loss_and_grads(self, state, inputs):
        carried, x, y = self._read(state, inputs)
        ce, total, _, g = self._window(state["params"], carried, x, y)
        losses = {"ce": ce, "total": total}
        if "m" in state["params"]:
            losses["l1_term"] = total - ce
        return losses, g

    # ---- the step --------------------------------------------------------------------------------------------
    def train_step(self, state, inputs, draws):
        c, v3 = self.c, self.variant == "g3"
        carried, x, y = self._read(state, inputs)
        params = {k: a.copy() for k, a in state["params"].items()}
        slot = "mean_sq" if v3 else "sum_sq"
        M = {k: a.copy() for k, a in state["opt"][slot].items()}
        _, _, carried, g = self._window(params, carried, x, y)
        for k in params:
            if v3:
                M[k] = M[k] + c["g3_rho"] * (g[k] ** 2 - M[k])
                params[k] = params[k] + np.clip(-c["g3_lr"] * g[k] / np.sqrt(M[k] + 1e-8), -c["g3_max_step"],
                                                c["g3_max_step"])
            else:
                d = np.clip(g[k], -c["clip"], c["clip"]) if c["clip"] > 0 else g[k]
                M[k] = M[k] + d * d
                params[k] = params[k] - c["lr"] * d / np.sqrt(M[k] + 1e-8)
        if v3:
            for k in ("Wiy", "Whh"):
                params[k] = params[k] - c["g3_weight_penalty"] * np.sign(params[k])
        if "m" in params:
            params["m"] = np.maximum(params["m"], c["m_min"])
        events = []
        if self.variant != "fixed" and c["structure"]:
            draws = list(draws)
            H = carried.shape[0]
            score = self._score(params) if v3 else params["m"]
            if np.sum(score > c["t_d"]) < H - c["k"]:
                order = np.asarray(draws.pop(0).value).astype(int)
                u = np.asarray(draws.pop(0).value)
                idx = np.sort(order[c["k"]:][u <= c["p_del"]])
                if self.mistake == "delete_off_by_one":
                    idx = np.sort((idx + 1) % H)
                if idx.size:
                    params, M, carried = self._delete(params, M, carried, idx)
                    score = np.delete(score, idx)
                    events.append({"kind": "delete", "indices": idx, "size": carried.shape[0]})
            H = carried.shape[0]
            if H < c["max_hidden"]:
                r1, r2 = float(draws.pop(0).value), float(draws.pop(0).value)
                if (np.sum(score > c["t_d"]) > H - c["k"] and r1 < c["p_add"]) or r2 < c["p_spontaneous"]:
                    params, M, carried, ev = self._add(params, M, carried, [d.value for d in draws])
                    events.append(ev)
        p = (0 if inputs["reset"] else state["p"]) + len(x)
        return {"params": params, "opt": {"step": state["opt"]["step"] + 1, slot: M}, "carried": carried,
                "p": 0 if inputs["task_switch"] else p}, events

    @staticmethod
    def _score(params):
        H = params["Whh"].shape[0]
        return 0.5 * (np.abs(params["Wiy"]).sum(axis=0) + 4.0 * np.abs(params["Whh"]).sum(axis=0) / H)

    AXES = {"Wxh": (0,), "Whh": (0, 1), "Wiy": (1,), "bh": (0,), "by": (), "m": (0,)}

    def _delete(self, params, M, carried, idx):
        for k in params:
            for ax in self.AXES[k]:
                params[k] = np.delete(params[k], idx, axis=ax)
                if not (self.mistake == "forget_memory_slot" and k == "bh"):
                    M[k] = np.delete(M[k], idx, axis=ax)
        return params, M, np.delete(carried, idx)

    def _add(self, params, M, carried, vals):
        H, V = carried.shape[0], params["Wxh"].shape[1]
        td = self.c["t_d"]
        if self.variant == "g3":
            whh_row, wxh_row = 0.01 * vals[0].reshape(H), 0.01 * vals[1].reshape(V)
            w = vals[2].reshape(V)
            wiy_col = 0.5 * td * w / (1e-8 + np.abs(w).sum())
            cc = vals[3].reshape(H + 1)
            whh_col = 0.5 * H * td * cc / (1e-8 + 4.0 * np.abs(cc).sum())
            mem = 0.01
        else:
            whh_row, whh_col = 0.01 * vals[0].reshape(H), 0.01 * vals[1].reshape(H + 1)
            wxh_row, wiy_col = 0.01 * vals[2].reshape(V), 0.01 * vals[3].reshape(V)
            if self.mistake == "draw_order":
                wxh_row, wiy_col = wiy_col, wxh_row
            mem = 0.0
        P = params
        P["Whh"] = np.concatenate([np.vstack([P["Whh"], whh_row[None, :]]), whh_col[:, None]], axis=1)
        P["Wxh"] = np.vstack([P["Wxh"], wxh_row[None, :]])
        P["Wiy"] = np.hstack([P["Wiy"], wiy_col[:, None]])
        P["bh"] = np.append(P["bh"], 0.0)
        if "m" in P:
            P["m"] = np.append(P["m"], td)
        for k in M:  # one new entry along each neuron axis of the memory, value ``mem``
            for ax in self.AXES[k]:
                shape = list(M[k].shape)
                shape[ax] = 1
                M[k] = np.concatenate([M[k], np.full(shape, mem)], axis=ax)
        ev = {"kind": "add", "index": H, "Whh_row": whh_row, "Whh_col": whh_col, "Wxh_row": wxh_row,
              "Wiy_col": wiy_col, "bh": 0.0, "carried": 0.0, "memory": mem, "size": H + 1}
        if "m" in P:
            ev["m"] = td
        return P, M, np.append(carried, 0.0), ev
