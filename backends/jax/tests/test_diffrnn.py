"""DiffRNN in JAX: gradients against finite differences, padding invariance, minidsn's version-1 oracle case,
the structural step's rules, draw order and edits, the task texts, and a short run through minidsn's harness."""

import json

import jax
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from minidsn.oracle import export_case
from minidsn_jax.diffrnn.cycle import (CycleConfig, capacity_for, device_cycle, init_memories, pad_params,
                                       unpad_params)
from minidsn_jax.diffrnn.structure import (Decision, StructureConfig, apply_decision, decide, decide_addition,
                                           decide_deletions)
from minidsn_jax.diffrnn.task import ALPHABET, decode, easy_task, hard_task, lowest_loss_per_window
from minidsn_jax.diffrnn.trainer import init_params
from minidsn_jax.diffrnn.window import VARIANTS, has_multipliers, l1_term, window_loss

V = 4


def _net(H, variant, seed, scale=0.4):
    rng = np.random.default_rng(seed)
    p = init_params(H, variant, rng, scale)
    p["bh"] = 0.1 * rng.standard_normal(H)
    p["by"] = 0.1 * rng.standard_normal(V)
    if has_multipliers(variant):
        p["m"] = rng.uniform(0.03, 1.2, H)
    T = 9
    x = rng.integers(0, V, T).astype(np.int32)
    y = rng.integers(0, V, T).astype(np.int32)
    return p, 0.5 * rng.standard_normal(H), x, y


def _cycle(p, s0, x, y, variant, cap=None, l1=3e-5):
    H = s0.shape[0]
    cap = cap or H
    out = device_cycle(pad_params(p, cap), pad_params(init_memories(p, variant), cap), pad_params({"s": s0}, cap)["s"],
                       np.int32(H), x, y, CycleConfig(variant=variant, seq_length=x.shape[0], l1=l1))
    return out


_loss = jax.jit(window_loss, static_argnames="variant")


def _objective(p, s0, x, y, variant, l1):
    ce, _ = _loss(p, s0, x, y, variant)
    return float(ce) + (float(l1_term(p["m"], l1, x.shape[0])) if has_multipliers(variant) else 0.0)


@pytest.mark.parametrize("variant", VARIANTS)
def test_gradients_match_central_differences(variant):
    """Every gradient entry of the objective (CE + A T sum|m|) against central differences (eps 1e-6)."""
    p, s0, x, y = _net(3, variant, seed=1)
    l1 = 0.01  # large enough that the L1 part is visible in dm
    out = _cycle(p, s0, x, y, variant, l1=l1)
    eps = 1e-6
    for k, v in p.items():
        g = np.asarray(out["grads"][k])
        num = np.zeros_like(v)
        for idx in np.ndindex(v.shape):
            hi = {**p, k: v.copy()}
            hi[k][idx] += eps
            lo = {**p, k: v.copy()}
            lo[k][idx] -= eps
            num[idx] = (_objective(hi, s0, x, y, variant, l1) - _objective(lo, s0, x, y, variant, l1)) / (2 * eps)
        np.testing.assert_allclose(g, num, rtol=1e-6, atol=1e-8, err_msg=f"{variant} d/d{k}")


@settings(max_examples=4, deadline=None)
@given(H=st.sampled_from([1, 6]), variant=st.sampled_from(VARIANTS), seed=st.integers(0, 1000))
def test_padding_changes_nothing(H, variant, seed):
    """The cycle on a network padded to capacity 16 equals the unpadded cycle on the live entries; dead slots
    stay exactly zero (parameters, memories except G3's, carried state, score)."""
    p, s0, x, y = _net(H, variant, seed)
    a = _cycle(p, s0, x, y, variant)
    b = _cycle(p, s0, x, y, variant, cap=16)
    for grp in ("params", "mem", "grads"):
        ua = unpad_params({k: np.asarray(v) for k, v in a[grp].items()}, H)
        ub = unpad_params({k: np.asarray(v) for k, v in b[grp].items()}, H)
        for k in ua:
            np.testing.assert_allclose(ub[k], ua[k], rtol=1e-12, atol=1e-15, err_msg=f"{grp}/{k}")
    np.testing.assert_allclose(np.asarray(b["s_last"])[:H], np.asarray(a["s_last"]), rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(float(b["ce"]), float(a["ce"]), rtol=1e-13)
    assert np.all(np.asarray(b["s_last"])[H:] == 0) and np.all(np.asarray(b["score"])[H:] == 0)
    for k, v in b["params"].items():
        v = np.asarray(v)
        dead = v[:, H:] if k == "Wiy" else (v[H:] if k != "by" else np.zeros(0))
        assert np.all(dead == 0), k
        if k == "Whh":
            assert np.all(v[:, H:] == 0)


@pytest.mark.parametrize("variant,H", [("g2", 5), ("altern", 7), ("g2", 1)])
def test_version1_oracle_case(tmp_path, variant, H):
    """minidsn's version-1 case (one window at a drawn state) at the oracle's default tolerances."""
    path, arrays, meta = export_case("diffrnn", tmp_path / "c.npz", seed=3,
                                     config={"variant": variant, "hidden_size": H})
    z = dict(np.load(path, allow_pickle=False))
    P = {k[len("params/"):]: v for k, v in z.items() if k.startswith("params/")}
    x = z["inputs/inputs"].astype(np.int32)
    y = z["inputs/targets"].astype(np.int32)
    out = _cycle(P, z["inputs/s0"], x, y, variant, cap=capacity_for(H), l1=meta["config"]["l1"])
    got = {f"grads/{k}": v for k, v in unpad_params({k: np.asarray(v) for k, v in out["grads"].items()}, H).items()}
    got |= {"losses/ce": float(out["ce"]), "losses/l1_term": float(out["l1_term"]),
            "losses/total": float(out["ce"] + out["l1_term"]), "outputs/probs": np.asarray(out["probs"]),
            "outputs/s_last": np.asarray(out["s_last"])[:H], "outputs/grad_s0": np.asarray(out["grad_s0"])[:H]}
    for k, v in got.items():
        np.testing.assert_allclose(v, z[k], rtol=1e-7, atol=1e-12, err_msg=k)


class _Recorder:
    """A Generator stand-in that records the order and shape of every draw."""

    def __init__(self, seed=0):
        self.rng, self.calls = np.random.default_rng(seed), []

    def permutation(self, x):
        self.calls.append(("permutation", len(x)))
        return self.rng.permutation(x)

    def random(self, size=None):
        self.calls.append(("random", size))
        return self.rng.random(size)

    def standard_normal(self, size):
        self.calls.append(("standard_normal", size))
        return self.rng.standard_normal(size)


def test_deletion_rule_and_draws():
    cfg = StructureConfig(p_del=1.0)  # every candidate beyond the k kept is deleted
    score = np.array([0.3, 0.05, 0.025, 0.9, 0.04, 0.2])  # 0.05 is not above T_D (strict)
    rec = _Recorder()
    deleted = decide_deletions(score, rec, cfg)
    assert rec.calls == [("permutation", 3), ("random", 2)]
    assert len(deleted) == 2 and set(deleted) <= {1, 2, 4}
    # exactly H - k above threshold: nothing drawn, nothing deleted
    rec = _Recorder()
    assert decide_deletions(np.array([0.3, 0.04, 0.9]), rec, cfg).size == 0 and rec.calls == []


def test_deletion_coin_is_a_preservation_test():
    """The original keeps a candidate when rand() > P_DEL: u = P_DEL exactly deletes."""

    class Fixed:
        def permutation(self, x):
            return np.asarray(x)

        def random(self, n):
            return np.full(n, 0.25)

    assert list(decide_deletions(np.array([0.01, 0.01, 0.01]), Fixed(), StructureConfig())) == [1, 2]


def test_addition_rule_and_draw_order():
    cfg = StructureConfig()

    class Seq:
        def __init__(self, vals):
            self.vals = list(vals)

        def random(self):
            return self.vals.pop(0)

    assert decide_addition(np.array([0.3, 0.2]), Seq([0.01, 0.9]), cfg)        # no reserve, r1 < P_add
    assert not decide_addition(np.array([0.3, 0.04]), Seq([0.01, 0.9]), cfg)   # reserve of k = 1 present
    assert decide_addition(np.array([0.3, 0.04]), Seq([0.9, 0.5e-4]), cfg)     # spontaneous
    seq = Seq([0.9, 0.9])
    decide_addition(np.array([0.3, 0.2]), seq, cfg)
    assert seq.vals == []  # both coins drawn
    full = Seq([0.0, 0.0])
    assert not decide_addition(np.full(99, 0.3), full, cfg) and full.vals == [0.0, 0.0]  # H = 99: no draw


@pytest.mark.parametrize("variant", ["g2", "g3"])
def test_new_neuron_draw_order(variant):
    cfg = StructureConfig(variant=variant, p_add=1.0)
    rec = _Recorder()
    d = decide(np.array([0.3, 0.2, 0.4]), rec, cfg)
    assert d.new is not None
    normals = [c for c in rec.calls if c[0] == "standard_normal"]
    expect = [3, 4, 4, 4] if variant == "g2" else [3, 4, 4, 4]
    order = ["Whh_row", "Whh_col", "Wxh_row", "Wiy_col"] if variant == "g2" else \
        ["Whh_row", "Wxh_row", "Wiy_col", "Whh_col"]
    assert [int(np.prod(c[1])) for c in normals] == expect
    ref = np.random.default_rng(0)
    ref.random(), ref.random()
    for name in order:
        raw = ref.standard_normal(d.new[name].shape[0])
        if variant == "g3" and name == "Wiy_col":
            raw = 0.5 * 0.05 * raw / (1e-8 + np.abs(raw).sum())
        elif variant == "g3" and name == "Whh_col":
            raw = 0.5 * 3 * 0.05 * raw / (1e-8 + 4 * np.abs(raw).sum())
        else:
            raw = 0.01 * raw
        np.testing.assert_array_equal(d.new[name], raw, err_msg=name)
    if variant == "g3":  # the rescaled columns have the L1 norms the threshold asks for
        assert abs(np.abs(d.new["Wiy_col"]).sum() - 0.025) < 1e-9


@pytest.mark.parametrize("variant", ["g2", "altern"])
def test_deleting_a_neuron_removes_exactly_its_contribution(variant):
    """The network after deleting neuron j computes what the old network computes with j's outgoing weights
    (Whh column, Wiy column) and its state zeroed; memories are edited with their parameters."""
    p, s0, x, y = _net(5, variant, seed=4)
    mem = {k: np.abs(v) + 1.0 for k, v in p.items()}
    j = 2
    d = Decision(np.array([j]), None, np.delete(np.ones(5), j))
    p2, m2, s2, ev = apply_decision(p, mem, s0, d, StructureConfig(variant=variant))
    assert ev.deleted == [j] and ev.h_after == 4 and p2["Whh"].shape == (4, 4) and m2["Wiy"].shape == (V, 4)
    zeroed = {k: v.copy() for k, v in p.items()}
    zeroed["Whh"][:, j] = 0
    zeroed["Wiy"][:, j] = 0
    s_z = s0.copy()
    s_z[j] = 0
    ce_a, (probs_a, _) = window_loss(p2, s2, x, y, variant)
    ce_b, (probs_b, _) = window_loss(zeroed, s_z, x, y, variant)
    np.testing.assert_allclose(np.asarray(probs_a), np.asarray(probs_b), rtol=1e-12)
    keep = [0, 1, 3, 4]
    np.testing.assert_array_equal(m2["Whh"], mem["Whh"][np.ix_(keep, keep)])
    np.testing.assert_array_equal(m2["Wxh"], mem["Wxh"][keep])


@pytest.mark.parametrize("variant", ["g2", "g3"])
def test_added_neuron_with_zero_outgoing_weights_changes_nothing(variant):
    p, s0, x, y = _net(4, variant, seed=5)
    cfg = StructureConfig(variant=variant)
    mem = init_memories(p, variant)
    new = {"Whh_row": np.full(4, 0.3), "Whh_col": np.zeros(5), "Wxh_row": np.full(V, 0.2), "Wiy_col": np.zeros(V)}
    p2, m2, s2, ev = apply_decision(p, mem, s0, Decision(np.zeros(0, int), new, np.ones(4)), cfg)
    assert ev.added and ev.added_index == 4 and s2[4] == 0
    if has_multipliers(variant):
        assert p2["m"][4] == cfg.t_d and m2["m"][4] == 0
    else:
        assert m2["Whh"][4, 0] == 0.01 and m2["Wiy"][0, 4] == 0.01 and m2["bh"][4] == 0.01
    _, (pa, _) = window_loss(p, s0, x, y, variant)
    _, (pb, _) = window_loss(p2, s2, x, y, variant)
    np.testing.assert_allclose(np.asarray(pb), np.asarray(pa), rtol=1e-13)


def test_tasks():
    h = hard_task(np.random.default_rng(0), n_chars=8000)
    text = decode(h)
    groups = text.strip("()").split(")(")
    assert all(len(g) == 6 for g in groups)
    for a, b in zip(groups, groups[1:]):  # b = reverse(a) with exactly one letter flipped
        assert sum(c1 != c2 for c1, c2 in zip(a[::-1], b)) == 1
    e = decode(easy_task(np.random.default_rng(0), n_groups=20000))
    eg = e.strip("()").split(")(")
    assert all(g == "ab" * (len(g) // 2) and len(g) >= 2 for g in eg)
    assert abs(np.mean([len(g) // 2 for g in eg]) - 2.5) < 0.05
    assert set(text) <= set(ALPHABET)
    assert abs(lowest_loss_per_window("easy") - 9.61) < 0.01 and abs(lowest_loss_per_window("hard") - 8.96) < 0.01


def test_short_run_through_minidsn_harness(tmp_path):
    """jax-diffrnn through minidsn's run loop: run folder layout, events happen, a resumed run equals an
    uninterrupted one."""
    from minidsn.runs.config import resolve_run_spec
    from minidsn.runs.loop import run

    import minidsn_jax.diffrnn.model  # noqa: F401  (registers jax-diffrnn)

    raw = {"model": "jax-diffrnn", "seed": 1, "steps": 160, "log_every": 40, "checkpoint_every": 80,
           "config": {"task": "hard", "p_add": 0.5, "eval_cycles": 5}}
    spec = resolve_run_spec(raw, "t")
    res = run(spec, tmp_path / "a", progress=False, plots=False)
    assert res.status == "completed"
    summ = json.loads((tmp_path / "a" / "summary.json").read_text())
    assert summ["final"]["n_added"] > 0 and summ["final"]["hidden_size"] > 1
    lines = [json.loads(s) for s in (tmp_path / "a" / "metrics.jsonl").read_text().splitlines()]
    assert [d["step"] for d in lines[:4]] == [40, 80, 120, 160]
    half = resolve_run_spec({**raw, "steps": 80}, "t")
    run(half, tmp_path / "b", progress=False, plots=False)
    res_b = run(spec, tmp_path / "b", resume=True, progress=False, plots=False)
    assert res_b.summary["last_metrics"] == summ["last_metrics"]
