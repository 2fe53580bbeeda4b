"""Oracle export / compare: format, validation, an independent NumPy backend that must match, and mismatches."""

import json

import numpy as np
import pytest

from minidsn.oracle import (OracleFormatError, build_arrays, compare_arrays, compare_files, conformance_notes,
                            export_case, make_case, read_case, write_case)

EXPECTED_MLP_KEYS = {
    "params/layers/0/W", "params/layers/0/b", "params/layers/1/W", "params/layers/1/b",
    "params/layers/2/W", "params/layers/2/b",
    "grads/layers/0/W", "grads/layers/0/b", "grads/layers/1/W", "grads/layers/1/b",
    "grads/layers/2/W", "grads/layers/2/b",
    "inputs/x", "inputs/y", "outputs/hidden/0", "outputs/hidden/1", "outputs/logits", "outputs/probs",
    "losses/total", "losses/cross_entropy", "losses/l2",
}


def numpy_backend_case(arrays, activation="tanh", l2=0.0):
    """An independent implementation (hand-written backprop, plain NumPy) producing the same oracle keys.

    It plays the role of a 'faster backend': it reads params and inputs from a minidsn case and computes outputs,
    losses and gradients on its own.
    """
    n_layers = len([k for k in arrays if k.startswith("params/layers/") and k.endswith("/W")])
    Ws = [arrays[f"params/layers/{i}/W"] for i in range(n_layers)]
    bs = [arrays[f"params/layers/{i}/b"] for i in range(n_layers)]
    x, y = arrays["inputs/x"], arrays["inputs/y"].astype(np.int64)
    hs, h = [x], x
    for W, b in zip(Ws[:-1], bs[:-1]):
        a = h @ W + b
        h = np.tanh(a) if activation == "tanh" else np.maximum(a, 0)
        hs.append(h)
    z = h @ Ws[-1] + bs[-1]
    zs = z - z.max(axis=1, keepdims=True)
    p = np.exp(zs) / np.exp(zs).sum(axis=1, keepdims=True)
    n = x.shape[0]
    ce = -np.mean(np.log(p[np.arange(n), y]))
    reg = 0.5 * l2 * sum(np.sum(W ** 2) for W in Ws)
    dz = p.copy()
    dz[np.arange(n), y] -= 1
    dz /= n
    gW, gb = [None] * n_layers, [None] * n_layers
    g = dz
    for i in reversed(range(n_layers)):
        gW[i] = hs[i].T @ g + l2 * Ws[i]
        gb[i] = g.sum(axis=0)
        if i:
            g = g @ Ws[i].T
            g = g * (1 - hs[i] ** 2) if activation == "tanh" else g * (hs[i] > 0)
    out = {f"params/layers/{i}/{k}": v for i in range(n_layers) for k, v in (("W", Ws[i]), ("b", bs[i]))}
    out.update({f"grads/layers/{i}/W": gW[i] for i in range(n_layers)})
    out.update({f"grads/layers/{i}/b": gb[i] for i in range(n_layers)})
    out.update({"inputs/x": x, "inputs/y": y.astype(np.float64), "outputs/logits": z, "outputs/probs": p,
                "losses/total": np.float64(ce + reg), "losses/cross_entropy": np.float64(ce),
                "losses/l2": np.float64(reg)})
    out.update({f"outputs/hidden/{i}": hs[i + 1] for i in range(n_layers - 1)})
    return out


def test_export_writes_documented_keys_and_meta(tmp_path):
    path, arrays, meta = export_case("mlp", tmp_path / "c.npz", seed=3, config={"l2": 0.01})
    got, meta2 = read_case(path)
    assert set(got) == EXPECTED_MLP_KEYS
    assert all(a.dtype == np.float64 for a in got.values())
    assert meta2["model"] == "mlp" and meta2["seed"] == 3 and meta2["config"]["l2"] == 0.01
    assert meta2["numpy_version"] == np.__version__ and "key_scheme" in meta2
    assert meta2["dtypes"] == {"inputs/y": "int64"} and meta2["conformance"] == []
    assert got["params/layers/0/W"].shape == (2, 32) and got["outputs/logits"].shape == (8, 3)
    with np.load(path, allow_pickle=False) as z:  # a plain numpy reader sees the same thing
        assert json.loads(str(z["meta"][()]))["model"] == "mlp"


def test_export_is_deterministic(tmp_path):
    a, _ = make_case("mlp", seed=1)
    b, _ = make_case("mlp", seed=1)
    c, _ = make_case("mlp", seed=2)
    assert all(np.array_equal(a[k], b[k]) for k in a)
    assert not np.array_equal(a["params/layers/0/W"], c["params/layers/0/W"])


@pytest.mark.parametrize("activation,l2", [("tanh", 0.0), ("relu", 0.05)])
def test_independent_numpy_backend_passes_compare(tmp_path, activation, l2):
    cfg = {"activation": activation, "l2": l2, "hidden": [5, 4], "oracle_batch": 6}
    path, ref, _ = export_case("mlp", tmp_path / "ref.npz", seed=0, config=cfg)
    other = numpy_backend_case(ref, activation, l2)
    write_case(tmp_path / "other.npz", other, {"model": "mlp", "backend": "numpy-by-hand"})
    report = compare_files(path, tmp_path / "other.npz")
    assert report.ok, report.format()
    # and a one-weight perturbation of 1e-6 relative fails
    ref2 = dict(ref)
    W = ref2["params/layers/1/W"].copy()
    W[1, 2] *= 1 + 1e-6
    ref2["params/layers/1/W"] = W
    bad = numpy_backend_case(ref2, activation, l2)
    report = compare_arrays(ref, bad)
    assert not report.ok
    assert "params/layers/1/W" in {r.key for r in report.failures}


def test_compare_reports_missing_shape_and_extra():
    ref = {"losses/total": np.float64(1.0), "params/a": np.ones(3), "grads/a": np.zeros(3)}
    other = {"losses/total": np.float64(1.0 + 1e-3), "params/a": np.ones(4), "outputs/extra": np.ones(1)}
    rep = compare_arrays(ref, other)
    rows = {r.key: r for r in rep.rows}
    assert not rows["losses/total"].ok and rows["losses/total"].max_rel == pytest.approx(1e-3)
    assert "shape" in rows["params/a"].note and "missing" in rows["grads/a"].note
    assert rep.extra == ["outputs/extra"] and not rep.ok
    text = rep.format()
    assert "FAIL" in text and "only in OTHER" in text and "0/3 keys pass" in text
    assert compare_arrays(ref, ref).ok
    loose = {r.key: r for r in compare_arrays(ref, other, rtol=0.0, atol=1.0).rows}
    assert loose["losses/total"].ok  # tolerances are honoured


def test_compare_nan_and_inf_handling():
    a = {"losses/total": np.array([1.0, np.nan, np.inf])}
    assert compare_arrays(a, {"losses/total": np.array([1.0, np.nan, np.inf])}).ok
    assert not compare_arrays(a, {"losses/total": np.array([1.0, 0.0, np.inf])}).ok


def test_format_validation():
    good = {"params": {"W": np.ones(2)}, "inputs": {}, "outputs": {}, "losses": {"total": 1.0},
            "grads": {"W": np.ones(2)}}
    build_arrays(good)
    with pytest.raises(OracleFormatError, match="missing.*'grads'"):
        build_arrays({k: v for k, v in good.items() if k != "grads"})
    assert conformance_notes(build_arrays(good)[0]) == []
    assert conformance_notes(build_arrays({**good, "grads": {}})[0]) == []  # params without gradient: allowed
    notes = conformance_notes(build_arrays({**good, "grads": {"W": np.ones(3), "V": np.ones(1)}})[0])
    assert any("grads/W has shape" in n for n in notes) and any("grads/V has no params/V" in n for n in notes)
    notes = conformance_notes(build_arrays({**good, "losses": {"ce": 1.0}})[0])
    assert any("losses/total is missing" in n for n in notes)
    with pytest.raises(OracleFormatError, match="float32.*float64"):
        build_arrays({**good, "outputs": {"z": np.ones(2, np.float32)}})
    with pytest.raises(OracleFormatError, match="contains '/'"):
        build_arrays({**good, "outputs": {"a/b": np.ones(2)}})


def test_read_case_rejects_garbage(tmp_path):
    p = tmp_path / "x.npz"
    p.write_bytes(b"not a zip")
    with pytest.raises(OracleFormatError, match="not a readable"):
        read_case(p)
    with pytest.raises(OracleFormatError, match="does not exist"):
        read_case(tmp_path / "none.npz")
    np.savez(p, **{"weird": np.ones(1)})
    with pytest.raises(OracleFormatError, match="not <group>/<path>"):
        read_case(p)


def test_urn_case_meta_records_the_config_it_was_computed_with():
    """The urn case turns the grid and every regulariser on: meta["config"] must say so (it used to echo the
    user's config, so another backend rebuilt the case with c_syn = 0 and no grid), and recomputing the case from
    meta["config"] gives the same arrays."""
    import numpy as np

    from minidsn.models.api import get_model
    from minidsn.oracle.export import make_case

    arrays, meta = make_case("urn", seed=3, config={"n_neurons": 40})
    cfg = meta["config"]
    assert cfg["geometry"] == "grid" and cfg["c_syn"] == 1e-3 and cfg["c_w"] == 5e-7 and cfg["c_n"] == 2e-5
    assert cfg["n_neurons"] == 40
    again, meta2 = make_case("urn", seed=3, config=cfg)
    assert meta2["config"] == cfg
    assert set(again) == set(arrays) and all(np.array_equal(again[k], arrays[k]) for k in arrays)
    off, meta3 = make_case("urn", seed=3, config={"n_neurons": 40, "c_w": 0.0, "c_syn": 0.0})
    assert meta3["config"]["c_w"] == 1e-3 and meta3["config"]["c_syn"] == 1e-3
    assert get_model("mlp")().oracle_config({"a": 1}) == {"a": 1}  # the default: the case uses the config as given
