"""The trainable DMM-Lite episode compiled to dense arrays, with a hand-written backward pass (BPTT).

Why: the V-value reference (minidsn.models.dmm.trainable.vvalue_loss) builds ~200k small V-values per episode; the
original paid 4-40 s per Zygote step for the same computation.  Here every V-value stream is a row over a fixed key
set K (the characters the exogenous neurons can emit, plus ":number"), so one cycle is

    down:  X_c = A Y_{c-1}                     A[input slot, output slot] = gate (soft) or 1 (hard)
    up:    accum  Y[dict]  = X[dict-1] + X[dict-2]
           norm   Y[norm]  = max_k |X[dict]_k|          (at the ":number" column; >= 0, so max(0, .) is implied)
           dot    Y[dot]   = clip(sum_k X[d1]_k X[d2]_k, -4, 4)
           compare Y[true] = relu(X[d1]_num - X[d2]_num),  Y[false] = relu(X[d2]_num - X[d1]_num)
           timer, input, eos, const_1: exogenous (their inputs are hard-wired), precomputed with the V-value neurons
    read:  y_c = X_c[output.dict-1 / dict-2, ":number"]
    loss:  sum_c |y_c - T_c|^2

The backward pass follows the engine's kink rules so both paths give the same gradients: max splits the gradient
evenly among tied entries, |x| has slope 0 at 0, clip passes on the closed interval, relu has slope 0 at 0.
dL/dA = sum_c dX_c Y_{c-1}^T is one matrix product after the time loop; dgates = dL/dA at the link positions.

``episode_loss(gates, plan=...)`` is one engine primitive (value and gradient), so value_and_grad of a loss that
adds lambda * sum |gates| costs about one forward plus one backward.
"""

from __future__ import annotations

import numpy as np

from minidsn.engine import defvjp_joint, primitive
from minidsn.vvalue import NUMBER, VValue
from minidsn.vvalue.core import label_sort_key

from .lite import DMMLite
from .neurons import DOT_CLIP, LIBRARY, make_input
from .trainable import INTER_TYPES, neuron_type_of

__all__ = ["EpisodePlan", "episode_loss", "forward_numpy", "backward_numpy"]

EXOGENOUS = ("timer", "input", "eos", "const_1")
_EXO_HARD = {("timer", "timer", "timer", "timer"), ("input", "timer", "timer", "timer")}


class EpisodePlan:
    """Static layout of one episode: slots, key set, index arrays, exogenous streams, targets.

    links: list of soft (to_neuron, to_field, from_neuron, from_field); hard: list of (..., weight) fixed links;
    neuron names: every interneuron named ``<type>-<layer>-<k>`` that appears in any link, plus the exogenous ones and
    ``output``.

    Source: none (the static plan of one compiled episode: slots, index arrays, exogenous streams, targets; the
        formulas are cited on its methods matrix, forward, loss and grad)
    """

    def __init__(self, s: str, links, hard, targets: np.ndarray, n_cycles: int | None = None, period: int = 10,
                 interneurons=None):
        targets = np.asarray(targets, dtype=np.float64)
        if targets.ndim != 2 or targets.shape[1] != 2:
            raise ValueError(f"targets must have shape (n_cycles, 2), got {targets.shape}")
        if not np.all(np.isfinite(targets)):
            raise ValueError("targets contain NaN or inf")
        self.n_cycles = int(n_cycles if n_cycles is not None else len(targets))
        if self.n_cycles != len(targets):
            raise ValueError(f"{len(targets)} target rows for {self.n_cycles} cycles")
        self.links = [tuple(l) for l in links]
        self.targets = targets
        inter = set(interneurons or ())
        for l in self.links + [tuple(h[:4]) for h in hard]:
            for n in (l[0], l[2]):
                if neuron_type_of(n) in INTER_TYPES:
                    inter.add(n)
        self.interneurons = sorted(inter)
        self._exogenous_streams(s, period)
        # slots
        out_slots = [(n, f) for n in EXOGENOUS for f in LIBRARY.get(n, make_input(s)).outputs]
        in_slots = []
        for n in self.interneurons:
            t = LIBRARY[neuron_type_of(n)]
            out_slots += [(n, f) for f in t.outputs]
            in_slots += [(n, f) for f in t.inputs]
        in_slots += [("output", "dict-1"), ("output", "dict-2")]
        self.out_slots, self.in_slots = out_slots, in_slots
        oi = {s_: i for i, s_ in enumerate(out_slots)}
        ii = {s_: i for i, s_ in enumerate(in_slots)}
        self.n_out, self.n_in = len(out_slots), len(in_slots)
        # links -> index arrays
        try:
            self.to_idx = np.array([ii[(l[0], l[1])] for l in self.links], dtype=np.int64)
            self.from_idx = np.array([oi[(l[2], l[3])] for l in self.links], dtype=np.int64)
        except KeyError as e:
            raise ValueError(f"link names an unknown slot {e}") from None
        if len(set(zip(self.to_idx.tolist(), self.from_idx.tolist()))) != len(self.links):
            raise ValueError("repeated soft link")
        self.A_hard = np.zeros((self.n_in, self.n_out))
        for to_n, to_f, from_n, from_f, w in hard:
            if (to_n, to_f, from_n, from_f) in _EXO_HARD:
                continue  # consumed by the exogenous simulation
            if (to_n, to_f) not in ii or (from_n, from_f) not in oi:
                raise ValueError(f"hard link {(to_n, to_f, from_n, from_f)} names an unknown slot")
            self.A_hard[ii[(to_n, to_f)], oi[(from_n, from_f)]] += w
        # up-movement index arrays
        def rows(t, f, slots, idx):
            return np.array([idx[(n, f)] for n in self.interneurons if neuron_type_of(n) == t], dtype=np.int64)

        self.exo_rows = np.array([oi[s_] for s_ in out_slots if s_[0] in EXOGENOUS], dtype=np.int64)
        self.acc_out, self.acc_in1, self.acc_in2 = (rows("accum", "dict", 0, oi), rows("accum", "dict-1", 0, ii),
                                                    rows("accum", "dict-2", 0, ii))
        self.norm_out, self.norm_in = rows("norm", "norm", 0, oi), rows("norm", "dict", 0, ii)
        self.dot_out, self.dot_in1, self.dot_in2 = (rows("dot", "dot", 0, oi), rows("dot", "dict-1", 0, ii),
                                                    rows("dot", "dict-2", 0, ii))
        self.cmp_true, self.cmp_false = rows("compare", "true", 0, oi), rows("compare", "false", 0, oi)
        self.cmp_in1, self.cmp_in2 = rows("compare", "dict-1", 0, ii), rows("compare", "dict-2", 0, ii)
        self.read_rows = np.array([ii[("output", "dict-1")], ii[("output", "dict-2")]], dtype=np.int64)
        exo_slot_rows = [i for i, s_ in enumerate(out_slots) if s_[0] in EXOGENOUS]
        self.E = np.zeros((self.n_cycles + 1, len(exo_slot_rows), self.n_keys))
        for c, y in enumerate(self._exo_outputs):
            for j, r in enumerate(exo_slot_rows):
                n, f = out_slots[r]
                sub = y.get((n, f))
                if sub is None:
                    continue
                sub = sub if isinstance(sub, VValue) else VValue.number(sub)
                for (k,), v in sub.paths():
                    self.E[c, j, self.key_index[k]] += v
        hard_nz = np.argwhere(self.A_hard != 0.0)
        self.lt = np.concatenate([self.to_idx, hard_nz[:, 0]]).astype(np.int64)
        self.lf = np.concatenate([self.from_idx, hard_nz[:, 1]]).astype(np.int64)
        self.hard_w = self.A_hard[hard_nz[:, 0], hard_nz[:, 1]]
        self.use_jit = True
        self._cache_gates = None
        self._cache = None

    def _exogenous_streams(self, s, period):
        neurons = {n: LIBRARY[n] for n in ("timer", "eos", "const_1")}
        neurons["input"] = make_input(s, period)
        m = DMMLite(neurons)
        mat = VValue({"timer": {"timer": {"timer": {"timer": 1.0}}}, "input": {"timer": {"timer": {"timer": 1.0}}}})
        ys = [m.reset()]
        for _ in range(self.n_cycles):
            _, y = m.cycle(mat, ys[-1])
            ys.append(y)
        self._exo_outputs = ys
        keys = {NUMBER}
        for y in ys:
            for p, _ in y.paths():
                if len(p) == 3:
                    keys.add(p[2])
        self.keys = sorted(keys, key=label_sort_key)
        self.key_index = {k: i for i, k in enumerate(self.keys)}
        self.n_keys = len(self.keys)
        self.num = self.key_index[NUMBER]

    def matrix(self, gates) -> np.ndarray:
        """Source: anhinga/julia-flux-drafts@6527aa0
            arxiv-1606-09470-section3/May-August-2022/v0-1/feedforward-run-3/dmm-lite.jl:265-276 (the dense form A of
            the network matrix: gate at soft links, 1 at hard).
        """
        gates = np.asarray(gates, dtype=np.float64)
        if gates.shape != (len(self.links),):
            raise ValueError(f"gates must have shape ({len(self.links)},), got {gates.shape}")
        if not np.all(np.isfinite(gates)):
            raise ValueError("gates contain NaN or inf")
        A = self.A_hard.copy()
        A[self.to_idx, self.from_idx] += gates
        return A

    def subset(self, keep) -> "EpisodePlan":
        """The same episode with only the soft links at positions ``keep`` (pruning); shares the static arrays.

        Source: anhinga/julia-flux-drafts@6527aa0
            arxiv-1606-09470-section3/May-August-2022/v0-1/compare-free/sparsify/utilities.jl:92-102 (sparsecopy: keep
            the links with |w| >= cutoff).
        """
        import copy

        keep = np.asarray(keep, dtype=np.int64)
        new = copy.copy(self)
        new.links = [self.links[i] for i in keep]
        new.to_idx, new.from_idx = self.to_idx[keep], self.from_idx[keep]
        hard_nz = np.argwhere(self.A_hard != 0.0)
        new.lt = np.concatenate([new.to_idx, hard_nz[:, 0]]).astype(np.int64)
        new.lf = np.concatenate([new.from_idx, hard_nz[:, 1]]).astype(np.int64)
        new._cache_gates, new._cache = None, None
        return new

    def _kernel_args(self):
        return (self.acc_out, self.acc_in1, self.acc_in2, self.norm_out, self.norm_in, self.dot_out, self.dot_in1,
                self.dot_in2, self.cmp_true, self.cmp_false, self.cmp_in1, self.cmp_in2)

    def _forward_kernel(self, gates):
        from .kernels import episode_forward, episode_forward_jit

        f = episode_forward_jit if self.use_jit else episode_forward
        lw = np.concatenate([gates, self.hard_w])
        X = np.zeros((self.n_cycles + 1, self.n_in, self.n_keys))
        Y = np.zeros((self.n_cycles + 1, self.n_out, self.n_keys))
        f(self.lt, self.lf, lw, self.E, self.exo_rows, *self._kernel_args(), self.num, DOT_CLIP, X, Y)
        y = X[1:, self.read_rows, self.num]
        return float(np.sum((y - self.targets) ** 2)), X, Y, y

    # cached forward so the VJP does not recompute it
    def forward(self, gates):
        """Source: anhinga/julia-flux-drafts@6527aa0
            arxiv-1606-09470-section3/May-August-2022/v0-1/feedforward-run-3/dmm-lite.jl:65-105 (the two-stroke cycle
            on dense rows); anhinga/julia-flux-drafts@6527aa0
            arxiv-1606-09470-section3/May-August-2022/v0-1/feedforward-run-3/loss.jl:34-42.
        """
        gates = np.asarray(gates, dtype=np.float64)
        if self._cache_gates is not None and np.array_equal(gates, self._cache_gates):
            return self._cache
        self.matrix(gates)  # validates shape and finiteness
        out = self._forward_kernel(gates)
        self._cache_gates, self._cache = gates.copy(), out
        return out

    def loss(self, gates) -> float:
        """Source: anhinga/julia-flux-drafts@6527aa0
            arxiv-1606-09470-section3/May-August-2022/v0-1/feedforward-run-3/loss.jl:34-42 (data loss of one episode).
        """
        return self.forward(gates)[0]

    def outputs(self, gates) -> np.ndarray:
        """(n_cycles, 2) read-outs y1, y2.

        Source: anhinga/julia-flux-drafts@6527aa0
            arxiv-1606-09470-section3/May-August-2022/v0-1/feedforward-run-3/loss.jl:38-41 (read-outs).
        """
        return self.forward(gates)[3]

    def grad(self, gates) -> np.ndarray:
        """dL/dgates of the data loss (Numba kernel; backward_numpy is the reference).

        Source: anhinga/julia-flux-drafts@6527aa0
            arxiv-1606-09470-section3/May-August-2022/v0-1/feedforward-run-3/prepare.jl:57-62 (Zygote
            gradient of loss; here the compiled BPTT of kernels.episode_backward, held equal to backward_numpy by
            tests/test_dmm_trainable.py and the selfcheck 'dmm_episode'); anhinga/julia-flux-drafts@6527aa0
            arxiv-1606-09470-section3/May-August-2022/v0-1/feedforward-run-3/loss.jl:32-42.
        """
        from .kernels import episode_backward, episode_backward_jit

        gates = np.asarray(gates, dtype=np.float64)
        loss, X, Y, y = self.forward(gates)
        f = episode_backward_jit if self.use_jit else episode_backward
        lw = np.concatenate([gates, self.hard_w])
        dg = np.zeros(len(self.links))
        f(self.lt, self.lf, lw, len(self.links), *self._kernel_args(), self.read_rows, self.num, DOT_CLIP, X, Y,
          2.0 * (y - self.targets), dg)
        return dg

    def grad_numpy(self, gates) -> np.ndarray:
        """Reference: dense NumPy forward and backward.

        Source: anhinga/julia-flux-drafts@6527aa0
            arxiv-1606-09470-section3/May-August-2022/v0-1/feedforward-run-3/loss.jl:32-42 (reference gradient by
            hand-written BPTT).
        """
        A = self.matrix(gates)
        loss, X, Y, y = forward_numpy(self, A)
        return backward_numpy(self, A, X, Y, y)[self.to_idx, self.from_idx]


def forward_numpy(plan: EpisodePlan, A: np.ndarray):
    """Run the episode; returns (loss, X (T+1, n_in, K), Y (T+1, n_out, K), y (T, 2)).

    Source: anhinga/julia-flux-drafts@6527aa0
        arxiv-1606-09470-section3/May-August-2022/v0-1/feedforward-run-3/dmm-lite.jl:65-105, 112-205 (cycle and neuron
        functions on dense rows); anhinga/julia-flux-drafts@6527aa0
        arxiv-1606-09470-section3/May-August-2022/v0-1/feedforward-run-3/loss.jl:34-42.
    """
    T, K, num = plan.n_cycles, plan.n_keys, plan.num
    X = np.zeros((T + 1, plan.n_in, K))
    Y = np.zeros((T + 1, plan.n_out, K))
    for c in range(1, T + 1):
        Xc = A @ Y[c - 1]
        X[c] = Xc
        Yc = Y[c]
        Yc[plan.exo_rows] = plan.E[c]
        Yc[plan.acc_out] = Xc[plan.acc_in1] + Xc[plan.acc_in2]
        Yc[plan.norm_out, num] = np.max(np.abs(Xc[plan.norm_in]), axis=1)
        s = np.sum(Xc[plan.dot_in1] * Xc[plan.dot_in2], axis=1)
        Yc[plan.dot_out, num] = np.clip(s, -DOT_CLIP, DOT_CLIP)
        d = Xc[plan.cmp_in1, num] - Xc[plan.cmp_in2, num]
        Yc[plan.cmp_true, num] = np.maximum(d, 0.0)
        Yc[plan.cmp_false, num] = np.maximum(-d, 0.0)
    y = X[1:, plan.read_rows, num]
    loss = float(np.sum((y - plan.targets) ** 2))
    return loss, X, Y, y


def backward_numpy(plan: EpisodePlan, A, X, Y, y) -> np.ndarray:
    """dL/dA for L = sum (y - T)^2 (BPTT through the cycles, engine kink rules).

    Source: anhinga/julia-flux-drafts@6527aa0
        arxiv-1606-09470-section3/May-August-2022/v0-1/feedforward-run-3/loss.jl:32-42 (the gradient Zygote took of
        it, written out: BPTT through the cycles).
    """
    T, num = plan.n_cycles, plan.num
    dX = np.zeros_like(X)
    dY = np.zeros_like(Y[0])  # dL/dY_c, filled from X_{c+1} = A Y_c
    dy = 2.0 * (y - plan.targets)
    for c in range(T, 0, -1):
        Xc = X[c]
        dXc = dX[c]
        dXc[plan.read_rows, num] += dy[c - 1]
        # accum
        g = dY[plan.acc_out]
        dXc[plan.acc_in1] += g
        dXc[plan.acc_in2] += g
        # norm: gradient split evenly among tied maxima, times sign (0 at 0)
        xn = Xc[plan.norm_in]
        a = np.abs(xn)
        m = a.max(axis=1, keepdims=True)
        tie = a == m
        dXc[plan.norm_in] += (dY[plan.norm_out, num][:, None] / tie.sum(axis=1, keepdims=True)) * tie * np.sign(xn)
        # dot with closed-interval clip
        x1, x2 = Xc[plan.dot_in1], Xc[plan.dot_in2]
        s = np.sum(x1 * x2, axis=1)
        gs = dY[plan.dot_out, num] * ((s >= -DOT_CLIP) & (s <= DOT_CLIP))
        # index arrays within one field never repeat a row, so fancy-index += is exact here
        dXc[plan.dot_in1] += gs[:, None] * x2
        dXc[plan.dot_in2] += gs[:, None] * x1
        # compare
        d = Xc[plan.cmp_in1, num] - Xc[plan.cmp_in2, num]
        gd = dY[plan.cmp_true, num] * (d > 0) - dY[plan.cmp_false, num] * (d < 0)
        dXc[plan.cmp_in1, num] += gd
        dXc[plan.cmp_in2, num] -= gd
        dY = A.T @ dXc
    # dA = sum_c dX_c Y_{c-1}^T in one product
    n_in, n_out, K = plan.n_in, plan.n_out, plan.n_keys
    dXs = dX[1:].transpose(1, 0, 2).reshape(n_in, T * K)
    Ys = Y[:-1].transpose(1, 0, 2).reshape(n_out, T * K)
    return dXs @ Ys.T


@primitive
def episode_loss(gates, *, plan: EpisodePlan):
    """Data loss sum_c |y_c - T_c|^2 of one episode as a single differentiable operation of the gates.

    Source: anhinga/julia-flux-drafts@6527aa0
        arxiv-1606-09470-section3/May-August-2022/v0-1/feedforward-run-3/loss.jl:32-42 (the data loss as one engine
        primitive).
    """
    return np.asarray(plan.loss(gates), dtype=np.float64)


defvjp_joint(episode_loss, lambda g, ans, gates, plan: (g * plan.grad(gates),))
