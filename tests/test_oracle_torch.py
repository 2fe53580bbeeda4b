"""A real faster backend: the mlp written in PyTorch, exported in the oracle format, compared with minidsn's case.

Skips without PyTorch (`pip install torch` gets a CPU build).  The PyTorch model takes only params and inputs from
minidsn's case; outputs, losses and gradients are its own (autograd, float64).
"""

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from minidsn.oracle import compare_files, export_case, write_case  # noqa: E402

CFG = {"hidden": [16, 8], "activation": "tanh", "l2": 0.01, "oracle_batch": 8, "n_classes": 3}


def torch_case(ref: dict, perturb: tuple | None = None) -> dict:
    n_layers = len([k for k in ref if k.startswith("params/layers/") and k.endswith("/W")])
    params = {}
    for i in range(n_layers):
        for k in ("W", "b"):
            v = torch.tensor(ref[f"params/layers/{i}/{k}"], dtype=torch.float64)
            params[f"layers/{i}/{k}"] = v
    if perturb is not None:
        key, idx, rel = perturb
        with torch.no_grad():
            params[key][idx] *= 1 + rel
    for v in params.values():
        v.requires_grad_(True)
    x = torch.tensor(ref["inputs/x"], dtype=torch.float64)
    y = torch.tensor(ref["inputs/y"], dtype=torch.float64).long()
    h, hidden = x, []
    for i in range(n_layers - 1):
        h = torch.tanh(h @ params[f"layers/{i}/W"] + params[f"layers/{i}/b"])
        hidden.append(h)
    z = h @ params[f"layers/{n_layers - 1}/W"] + params[f"layers/{n_layers - 1}/b"]
    ce = torch.nn.functional.cross_entropy(z, y)
    l2 = 0.5 * CFG["l2"] * sum((params[f"layers/{i}/W"] ** 2).sum() for i in range(n_layers))
    total = ce + l2
    grads = torch.autograd.grad(total, list(params.values()))
    out = {f"params/{k}": v.detach().numpy() for k, v in params.items()}
    out.update({f"grads/{k}": g.numpy() for k, g in zip(params, grads)})
    out.update({"inputs/x": ref["inputs/x"], "inputs/y": ref["inputs/y"],
                "outputs/logits": z.detach().numpy(), "outputs/probs": torch.softmax(z, 1).detach().numpy(),
                "losses/total": np.float64(total.item()), "losses/cross_entropy": np.float64(ce.item()),
                "losses/l2": np.float64(l2.item())})
    out.update({f"outputs/hidden/{i}": h.detach().numpy() for i, h in enumerate(hidden)})
    return out


def test_torch_backend_matches_and_a_perturbation_fails(tmp_path):
    path, ref, _ = export_case("mlp", tmp_path / "ref.npz", seed=0, config=CFG)
    write_case(tmp_path / "torch.npz", torch_case(ref), {"model": "mlp", "backend": f"torch {torch.__version__}"})
    report = compare_files(path, tmp_path / "torch.npz")
    assert report.ok, report.format()

    bad = torch_case(ref, perturb=("layers/1/W", (3, 2), 1e-6))
    write_case(tmp_path / "bad.npz", bad, {"model": "mlp"})
    report = compare_files(path, tmp_path / "bad.npz")
    assert not report.ok
    assert "params/layers/1/W" in {r.key for r in report.failures}

    from minidsn.cli import main

    assert main(["oracle", "compare", str(path), str(tmp_path / "torch.npz")]) == 0
    assert main(["oracle", "compare", str(path), str(tmp_path / "bad.npz")]) == 1
