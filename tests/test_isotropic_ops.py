"""Structural operations on isotropic networks: invariance, degeneration error, optimiser state (note isotropic.md)."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from minidsn.models.isotropic.net import (
    O_MODES,
    PSI_MODES,
    forward,
    init_network,
    loss_fn,
    net_config,
    sizes_of,
)
from minidsn.models.isotropic.ops import (
    alternating_diagonalisation,
    auto_neuroadapt,
    count_parameters,
    full_diagonalise,
    left_partial_diagonalise,
    neurodegeneration,
    neurogenesis,
    neuron_singular_values,
    resize_hidden,
)

TOL = 1e-12  # "unchanged to within 1e-12 relative" (issue 7)


def _random_net(rng, sizes, cfg, b_scale=0.5, psi_scale=0.5):
    net = init_network(sizes, cfg, rng)
    P, B = net["params"], net["buffers"]
    P["W"] = [w * rng.uniform(0.5, 2.0) for w in P["W"]]
    P["b"] = [b_scale * rng.standard_normal(b.shape) for b in P["b"]]
    for tree in (P, B):
        if "psi" in tree:
            tree["psi"] = [psi_scale * rng.standard_normal(v.shape) for v in tree["psi"]]
    if "log_o" in P:
        P["log_o"] = [np.array(rng.uniform(np.log(1e-6), 0.0)) for _ in P["log_o"]]
    if "o" in P:
        P["o"] = [np.array(rng.uniform(1e-6, 1.0)) for _ in P["o"]]
    return net


def _out(net, cfg, x):
    return forward(net["params"], net["buffers"], x, cfg, xp=np)


def _rel(y, y0):
    return float(np.max(np.abs(y - y0)) / max(np.max(np.abs(y0)), 1e-300))


net_cases = st.fixed_dictionaries({
    "o_mode": st.sampled_from(O_MODES),
    "psi_mode": st.sampled_from(PSI_MODES),
    "o_positive": st.booleans(),
    "d_in": st.integers(1, 7),
    "hidden": st.lists(st.integers(1, 7), min_size=2, max_size=4),
    "d_out": st.integers(1, 4),
    "batch": st.integers(1, 6),
    "seed": st.integers(0, 2**31),
})


def _make(case):
    rng = np.random.default_rng(case["seed"])
    cfg = net_config(o_mode=case["o_mode"], psi_mode=case["psi_mode"], o_positive=case["o_positive"])
    sizes = [case["d_in"]] + case["hidden"] + [case["d_out"]]
    net = _random_net(rng, sizes, cfg)
    x = rng.standard_normal((case["batch"], case["d_in"]))
    return rng, cfg, net, x


# ---------------------------------------------------------------- exact invariances
@settings(max_examples=40)
@given(case=net_cases, data=st.data())
def test_diagonalisation_leaves_outputs_unchanged(case, data):
    rng, cfg, net, x = _make(case)
    y0 = _out(net, cfg, x)
    H = len(case["hidden"])
    k = data.draw(st.integers(0, H - 1), label="left-partial layer")
    left, _, info = left_partial_diagonalise(net, cfg, k)
    assert _rel(_out(left, cfg, x), y0) <= TOL
    Wk = left["params"]["W"][k]
    assert np.allclose(Wk, info["L"] @ info["QT"], atol=0)
    j = data.draw(st.integers(1, H - 1), label="full layer")
    full, _, info = full_diagonalise(net, cfg, j)
    assert _rel(_out(full, cfg, x), y0) <= TOL
    Wj = full["params"]["W"][j]
    assert np.count_nonzero(Wj - np.diag(np.diag(Wj)) if Wj.shape[0] == Wj.shape[1] else
                            Wj[~np.eye(*Wj.shape, dtype=bool)]) == 0  # diagonal: one-to-one connections
    assert np.allclose(np.diag(Wj), np.linalg.svd(net["params"]["W"][j], compute_uv=False), rtol=1e-13, atol=1e-14)


@settings(max_examples=40)
@given(case=net_cases, data=st.data())
def test_neurogenesis_leaves_outputs_unchanged(case, data):
    rng, cfg, net, x = _make(case)
    y0 = _out(net, cfg, x)
    H = len(case["hidden"])
    for _ in range(data.draw(st.integers(1, 4), label="steps")):
        k = data.draw(st.integers(0, H - 1), label="layer")
        n = data.draw(st.integers(1, 3), label="new neurons")
        diag = data.draw(st.booleans(), label="diagonalise first")
        before = sizes_of(net)
        net, _, info = neurogenesis(net, cfg, k, n, rng, diagonalise=diag)
        assert sizes_of(net)[k + 1] == before[k + 1] + n
        assert np.all(info["new_column"] != 0)  # nonzero outgoing column: the new neuron can learn
    assert _rel(_out(net, cfg, x), y0) <= TOL


def test_alternating_diagonalisation_sparsity_and_invariance():
    rng = np.random.default_rng(5)
    cfg = net_config()
    for H in (2, 3, 4, 5, 6):
        net = _random_net(rng, [6] + [8] * H + [3], cfg)
        x = rng.standard_normal((5, 6))
        y0 = _out(net, cfg, x)
        nz0, total = count_parameters(net)
        new, _, info = alternating_diagonalisation(net, cfg)
        assert info["layers"] == list(range(1, H, 2))
        assert _rel(_out(new, cfg, x), y0) <= TOL
        nz1, total1 = count_parameters(new)
        assert total1 == total
        # each odd hidden-to-hidden 8x8 matrix keeps its 8 diagonal entries: 56 fewer nonzeros per layer
        assert nz0 - nz1 == 56 * len(info["layers"])


# ---------------------------------------------------------------- neurodegeneration
def _set_smallest_sigma(W, sigma):
    """W with its smallest singular value set to sigma, and the left singular vector of the neuron that
    neurodegeneration removes (the last column of the full R; with more neurons than inputs that neuron already
    has singular value 0)."""
    R, S, QT = np.linalg.svd(W, full_matrices=False)
    S = S.copy()
    if W.shape[0] <= W.shape[1]:
        S[-1] = sigma
    W = (R * S) @ QT
    return W, np.linalg.svd(W, full_matrices=True)[0][:, -1]


def _degeneration_case(seed, sigma, o_mode="constant", psi_mode="trainable", k=1):
    rng = np.random.default_rng(seed)
    cfg = net_config(o_mode=o_mode, psi_mode=psi_mode)
    net = _random_net(rng, [5, 6, 4, 5, 3], cfg)
    W, u = _set_smallest_sigma(net["params"]["W"][k], sigma)
    net["params"]["W"][k] = W
    # the removed direction must carry no psi_{k-1} component for exactness (it is a per-sample term, which a
    # constant o cannot absorb); project it out
    for tree in (net["params"], net["buffers"]):
        if "psi" in tree and k >= 1:
            p = tree["psi"][k - 1]
            tree["psi"][k - 1] = p - u * (u @ p)
    x = rng.standard_normal((20, 5))
    return cfg, net, x


@settings(max_examples=25)
@given(seed=st.integers(0, 2**31), o_mode=st.sampled_from(["constant", "trainable"]),
       psi_mode=st.sampled_from(["zeros", "trainable", "trainable_decay"]), k=st.integers(0, 2))
def test_neurodegeneration_exact_when_sigma_min_is_zero(seed, o_mode, psi_mode, k):
    cfg, net, x = _degeneration_case(seed, 0.0, o_mode, psi_mode, k)
    y0 = _out(net, cfg, x)
    new, _, info = neurodegeneration(net, cfg, k, 1)
    assert abs(info["sigma"][0]) < 1e-14
    assert abs(info["b_star"][0]) > 0  # a nonzero constant was removed and compensated through o and psi
    assert _rel(_out(new, cfg, x), y0) <= TOL


@pytest.mark.parametrize("o_mode,psi_mode", [("constant", "trainable"), ("trainable", "zeros"),
                                             ("constant", "expectation"), ("none", "none")])
def test_neurodegeneration_error_is_linear_in_sigma_min(o_mode, psi_mode):
    sigmas = np.array([1e-1, 1e-2, 1e-3, 1e-4])
    for seed in (0, 1, 2):
        errs = []
        for s in sigmas:
            cfg, net, x = _degeneration_case(seed, s, o_mode, psi_mode)
            # expectation / none / psi-free modes cannot compensate a per-sample term: remove b* first so only
            # the sigma_min term remains (for those modes the b* error is a separate, sigma-independent offset)
            if psi_mode in ("expectation", "none") or o_mode == "none":
                R = np.linalg.svd(net["params"]["W"][1])[0]
                b = net["params"]["b"][1]
                net["params"]["b"][1] = b - R[:, -1] * (R[:, -1] @ b)
            y0 = _out(net, cfg, x)
            new, _, _ = neurodegeneration(net, cfg, 1, 1, x_ref=x)
            errs.append(np.mean(np.abs(_out(new, cfg, x) - y0)))
        slope = np.polyfit(np.log(sigmas), np.log(errs), 1)[0]
        assert 0.95 < slope < 1.05, (o_mode, psi_mode, seed, slope, errs)


def test_deeper_first_order_matters():
    """Degenerating layer k-1 first adds W_k[:, last] b* to psi_{k-1}; degenerating layer k afterwards deletes the
    component of psi_{k-1} along its weakest direction, throwing part of that compensation away.  Deeper-first
    keeps it.  Both orders are exact at sigma_min = 0; for sigma_min > 0 the orders give different networks and
    deeper-first has the smaller error on average (note: "Adjust deeper layers before shallower ones")."""
    x = 0.1 * np.random.default_rng(9).standard_normal((50, 5))
    deep, shallow = [], []
    for seed in range(40):
        rng = np.random.default_rng(seed)
        cfg = net_config(o_mode="constant", o_init=0.1, psi_mode="zeros")
        net = _random_net(rng, [5, 5, 5, 5, 3], cfg, b_scale=1.0, psi_scale=0.0)
        for k in (1, 2):
            net["params"]["W"][k] = _set_smallest_sigma(net["params"]["W"][k], 1e-3)[0]
        y0 = _out(net, cfg, x)
        a = neurodegeneration(neurodegeneration(net, cfg, 2)[0], cfg, 1)[0]
        b = neurodegeneration(neurodegeneration(net, cfg, 1)[0], cfg, 2)[0]
        ya, yb = _out(a, cfg, x), _out(b, cfg, x)
        assert np.max(np.abs(ya - yb)) > 1e-7  # the order changes the result
        deep.append(np.mean(np.abs(ya - y0)))
        shallow.append(np.mean(np.abs(yb - y0)))
    deep, shallow = np.array(deep), np.array(shallow)
    assert np.mean(deep) < 0.75 * np.mean(shallow), (np.mean(deep), np.mean(shallow))
    assert np.mean(deep < shallow) > 0.6


# ---------------------------------------------------------------- optimiser state
def _grads(net, cfg, x, y):
    from minidsn.engine import grad
    import minidsn.numpy as mnp
    return grad(loss_fn)(net["params"], net["buffers"], x, y, cfg, mnp)


@settings(max_examples=20)
@given(case=net_cases, data=st.data())
def test_first_moments_rotate_like_gradients_second_moments_by_squares(case, data):
    pytest.importorskip("minidsn.engine")
    rng, cfg, net, x = _make(case)
    y = rng.integers(0, case["d_out"], case["batch"])
    g = _grads(net, cfg, x, y)
    sq = {k: [v * v for v in leaves] for k, leaves in g.items()}
    state = {"step": 3, "m": g, "v": sq}
    H = len(case["hidden"])
    op = data.draw(st.sampled_from(["left", "full"]), label="op")
    if op == "left":
        k = data.draw(st.integers(0, H - 1), label="layer")
        new, st_new, info = left_partial_diagonalise(net, cfg, k, state)
    else:
        k = data.draw(st.integers(1, H - 1), label="layer")
        new, st_new, info = full_diagonalise(net, cfg, k, state)
    assert st_new["step"] == 3
    g_new = _grads(new, cfg, x, y)
    # an orthogonal change of basis maps the gradient exactly: the transformed first moment IS the new gradient
    for key in g:
        for a, b in zip(st_new["m"][key], g_new[key]):
            assert np.allclose(a, b, rtol=1e-9, atol=1e-12)
    # second moments: elementwise-square rule on W_k, e.g. left-partial v <- (R^T)^2 v
    R = info["R"]
    vk = state["v"]["W"][k]
    expect = (R.T ** 2) @ vk if op == "left" else (R.T ** 2) @ vk @ (info["QT"].T ** 2)
    assert np.allclose(st_new["v"]["W"][k], expect, rtol=1e-12, atol=1e-300)
    # the inputs are untouched (pure functions)
    assert st_new["m"]["W"][k] is not state["m"]["W"][k]


def test_structure_edits_resize_every_slot_and_zero_new_entries():
    rng = np.random.default_rng(2)
    cfg = net_config()
    net = _random_net(rng, [4, 5, 5, 2], cfg)
    state = {"step": 7, "m": {k: [np.ones_like(v) for v in vs] for k, vs in net["params"].items()},
             "v": {k: [np.ones_like(v) for v in vs] for k, vs in net["params"].items()}}
    grown, st1, _ = neurogenesis(net, cfg, 1, 2, rng, state)
    for slot in ("m", "v"):
        for key, leaves in grown["params"].items():
            for a, b in zip(leaves, st1[slot][key]):
                assert a.shape == b.shape
        assert np.all(st1[slot]["W"][1][-2:] == 0) and np.all(st1[slot]["W"][2][:, -2:] == 0)
        assert np.all(st1[slot]["psi"][0][-2:] == 0)
    shrunk, st2, _ = neurodegeneration(grown, cfg, 1, 3, st1)
    assert sizes_of(shrunk) == [4, 5, 4, 2]
    for slot in ("m", "v"):
        for key, leaves in shrunk["params"].items():
            for a, b in zip(leaves, st2[slot][key]):
                assert a.shape == b.shape


# ---------------------------------------------------------------- adaptation and errors
def test_auto_neuroadapt_keeps_K_scaffold_neurons_and_is_invariant_when_only_adding():
    rng = np.random.default_rng(4)
    cfg = net_config()
    net = _random_net(rng, [6, 5, 5, 3], cfg)
    x = rng.standard_normal((4, 6))
    y0 = _out(net, cfg, x)
    # the random layers' singular values are >= 0.5; new outgoing columns are 0.01 N(0,1), so the new neurons stay
    # far below tau = 0.1 even after the shallower layer's new columns land in the deeper layer's scaffold rows
    tau, K = 0.1, 3
    assert all(np.sum(neuron_singular_values(w) <= tau) == 0 for w in net["params"]["W"][:2])
    new, _, info = auto_neuroadapt(net, cfg, tau, K, rng)
    assert info["changes"] == [(1, 3), (0, 3)]
    assert _rel(_out(new, cfg, x), y0) <= TOL
    for w in new["params"]["W"][:2]:
        assert np.sum(neuron_singular_values(w) <= tau) == K
    again, _, info = auto_neuroadapt(new, cfg, tau, K, rng)
    assert info["changes"] == [(1, 0), (0, 0)]
    small, _, info = auto_neuroadapt(new, cfg, tau, 1, rng)  # too many scaffold neurons: remove 2 per layer
    assert info["changes"] == [(1, -2), (0, -2)]
    assert sizes_of(small) == [6, 6, 6, 3]
    # scaffold neurons carry (almost) nothing: the change is of the order of the removed singular values
    assert _rel(_out(small, cfg, x), y0) <= 0.1


def test_resize_hidden_elementwise_control():
    rng = np.random.default_rng(1)
    cfg = net_config(activation="elementwise", o_mode="none", psi_mode="none")
    net = _random_net(rng, [4, 5, 5, 2], cfg)
    x = rng.standard_normal((3, 4))
    y0 = _out(net, cfg, x)
    grown, _, info = resize_hidden(net, cfg, 0, 8, rng)
    assert info == {"added": 3, "removed": 0} and _rel(_out(grown, cfg, x), y0) <= TOL
    shrunk, _, info = resize_hidden(grown, cfg, 1, 2, rng)
    assert sizes_of(shrunk) == [4, 8, 2, 2]
    with pytest.raises(ValueError, match="elementwise"):
        full_diagonalise(net, cfg, 1)


def test_bad_arguments_name_the_problem():
    rng = np.random.default_rng(0)
    cfg = net_config(psi_mode="expectation")
    net = _random_net(rng, [3, 4, 4, 2], cfg)
    with pytest.raises(ValueError, match="layer must be in"):
        full_diagonalise(net, cfg, 0)
    with pytest.raises(ValueError, match="x_ref"):
        neurodegeneration(net, cfg, 1, 1)
    with pytest.raises(ValueError, match="cannot remove"):
        neurodegeneration(net, cfg, 1, 4, x_ref=np.zeros((1, 3)))
    with pytest.raises(ValueError, match="rng"):
        neurogenesis(net, cfg, 0, 1, None)
    bad = _random_net(rng, [3, 4, 4, 2], cfg)
    bad["params"]["W"][1] = bad["params"]["W"][1] * np.nan
    with pytest.raises(ValueError, match="NaN"):
        left_partial_diagonalise(bad, cfg, 1)


@settings(max_examples=30, deadline=None)
@given(st.integers(1, 6), st.integers(1, 6), st.integers(0, 2**31 - 1))
def test_svd_layer_sign_convention(m, n, seed):
    """W = R L Q^T exactly as numpy's SVD, with each column of R's largest-magnitude entry positive and Q^T's row
    flipped with it; the same for -W and for W with its rows' signs flipped (any SVD routine gives the same R up to
    rounding where the singular values are distinct)."""
    from minidsn.models.isotropic.ops import svd_layer

    W = np.random.default_rng(seed).standard_normal((m, n))
    R, L, QT = svd_layer(W)
    np.testing.assert_allclose(R @ L @ QT, W, atol=1e-12)
    np.testing.assert_allclose(R.T @ R, np.eye(m), atol=1e-12)
    k = min(m, n)
    top = R[np.argmax(np.abs(R), axis=0), np.arange(m)]
    assert np.all(top > 0)
    D = np.diag(np.where(np.arange(m) % 2 == 0, 1.0, -1.0))
    R2, L2, QT2 = svd_layer(D @ W)
    np.testing.assert_allclose(L2, L, atol=1e-12)
    # the SVD of D W is (D R) L Q^T: after the convention, R2 = D R S and Q2^T = S Q^T with S the convention's signs
    DR = D @ R[:, :k]
    S = np.sign(DR[np.argmax(np.abs(DR), axis=0), np.arange(k)])
    np.testing.assert_allclose(R2[:, :k], DR * S, atol=1e-9)
    np.testing.assert_allclose(QT2[:k], S[:, None] * QT[:k], atol=1e-9)
