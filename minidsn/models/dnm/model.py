"""Dynamic Neural Manifold (M. Woods 2018), registered as the `dnm` model.

Seed 000_15970d877694e0b4; facts of the original notebooks: shared/notes/dnm.md. Equations and where they live:
  closeness matrix          minidsn/models/dnm/closeness.py
  DAG forward / backward    minidsn/models/dnm/dag_kernels.py (kernels + NumPy references), dag_primitive.py (engine)
  losses                    minidsn/models/dnm/losses.py;   loss assembly: minidsn/models/dnm/net.py
  guards                    minidsn/models/dnm/guards.py;   data: minidsn/models/dnm/data.py
Variants (docs/models/dnm.md lists every difference and its effect):
  faithful   the notebooks: squared outputs, sparsity counted (no gradient), leaky_relu, signed closeness
  text       the seed's description where the code's loss departs from it: outputs not squared, a differentiable
             sparsity term (smooth count of live connections); the code's neuron (leaky_relu) and signed closeness
  text_full  text, and the seed's neuron and closeness too: sigmoid(wx+b) activation (seed l. 68, 125) and unsigned
             closeness in [0, 1] (seed l. 52)
Each switch is also its own option (square_outputs, sparsity, activation, closeness_range); None means "as the
variant says". The seed's process-time term (l. 106) is an option of every variant (c_time, default 0: off).
"""

from __future__ import annotations

import time

import numpy as np

import minidsn.optim as optim
from minidsn.engine import tree_map, value_and_grad
from minidsn.models.dnm import dag_kernels as dag
from minidsn.models.dnm import guards
from minidsn.models.dnm.closeness import CLOSENESS_RANGES, INITS, init_params
from minidsn.models.dnm.data import load_mnist_split, toy_batch, toy_floor_mse
from minidsn.models.dnm.losses import SPARSITY_SURROGATES
from minidsn.models.dnm.net import (
    CLOSENESS_IMPLS,
    DAG_IMPLS,
    OBJECTIVES,
    Layout,
    LossSpec,
    closeness_of,
    network_loss,
    predict,
)
from minidsn.models.api import ConfigError, Model, Option, register_model
from minidsn.models.api import non_negative as _nonneg, positive as _pos

__all__ = ["DNMModel", "VARIANTS", "resolve", "DNMGuardError"]

DNMGuardError = guards.DNMGuardError

# what each variant sets when the individual option is None
VARIANTS = {
    "faithful": {"square_outputs": True, "sparsity": "count", "activation": "leaky_relu", "closeness_range": "signed"},
    "text": {"square_outputs": False, "sparsity": "smooth_count", "activation": "leaky_relu",
             "closeness_range": "signed"},
    "text_full": {"square_outputs": False, "sparsity": "smooth_count", "activation": "sigmoid",
                  "closeness_range": "unsigned"},
}
DATASETS = ("toy", "mnist")
# dataset -> (objective, init) when those options are None (note, "Losses" and "Trainable variables")
DATASET_DEFAULTS = {"toy": ("mse", "toy"), "mnist": ("softmax_ce", "mnist")}


def resolve(cfg: dict) -> dict:
    """cfg with every None filled from the variant / dataset, and sizes checked against the dataset.

    Source: seed 000 l. 151-173, l. 199-221 (sizes and coefficients of the two runs);
        Miej/Dynamic_Neural_Manifold@873268a dynamic_neural_manifold-toy_dataset.ipynb cell 0 l. 554-557, l. 569;
        Miej/Dynamic_Neural_Manifold@873268a dynamic_neural_manifold-mnist.ipynb cell 0 l. 554-557, l. 569
        (coefficients, learning rates).
    """
    out = dict(cfg)
    for key, val in VARIANTS[cfg["variant"]].items():
        if out[key] is None:
            out[key] = val
    objective, init = DATASET_DEFAULTS[cfg["dataset"]]
    if out["objective"] is None:
        out["objective"] = objective
    if out["init"] is None:
        out["init"] = init
    check_sizes(cfg)
    return out


def check_sizes(cfg: dict) -> None:
    """Raise ConfigError when the neuron counts do not fit the data set or each other.

    Source: seed 000 l. 151-173, l. 199-221 (toy: 5 inputs, 4 outputs; MNIST: 784 inputs, 10 outputs)
    """
    sizes = {"toy": (5, 4), "mnist": (784, 10)}[cfg["dataset"]]
    if (cfg["n_inputs"], cfg["n_outputs"]) != sizes:
        raise ConfigError(f"config keys 'n_inputs' / 'n_outputs': dataset {cfg['dataset']!r} has {sizes[0]} inputs "
                          f"and {sizes[1]} outputs; got n_inputs={cfg['n_inputs']}, n_outputs={cfg['n_outputs']}")
    if cfg["n_neurons"] < cfg["n_inputs"] + cfg["n_outputs"]:
        raise ConfigError(f"config key 'n_neurons': {cfg['n_neurons']} must be >= n_inputs + n_outputs "
                          f"= {cfg['n_inputs'] + cfg['n_outputs']}")


@register_model
class DNMModel(Model):
    """The ``dnm`` model: options, variants and the run-harness adapter around net.py.

    Source: none (registry glue of the dnm model; the formulas are cited in net.py, closeness.py, dag_kernels.py and
        losses.py)
    """

    name = "dnm"
    description = "Dynamic Neural Manifold: closeness DAG with trainable cutoff, flow and sparsity losses"
    options = {
        "variant": Option(str, "faithful", "faithful = the notebooks; text = the seed text's loss; text_full = text "
                          "with the seed's sigmoid neurons and unsigned closeness", choices=tuple(VARIANTS)),
        "dataset": Option(str, "toy", "toy add/subtract set or MNIST (from --data-dir)", choices=DATASETS),
        "n_neurons": Option(int, 25, "total neurons N (toy 25, MNIST 1000)", check=_pos),
        "n_inputs": Option(int, 5, "input neurons (toy 5, MNIST 784)", check=_pos),
        "n_outputs": Option(int, 4, "output neurons (toy 4, MNIST 10)", check=_pos),
        "period": Option(float, 5.0, "sine period T (toy 5 = number of inputs, MNIST 28 = image width)", check=_pos),
        "init": Option(str, None, "parameter initialisation table column; None = the dataset's",
                       choices=tuple(INITS)),
        "kappa_init": Option(float, -1.0, "initial cutoff parameter kappa (c = sigmoid(kappa))"),
        "batch_size": Option(int, 50, "batch size (train and test batches)", check=_pos),
        "lr": Option(float, 1e-3, "Adam learning rate (toy 0.001, MNIST 0.002)", check=_pos),
        "adam_eps_form": Option(str, "efficient", "Adam epsilon placement; 'efficient' = TensorFlow 1.x (original)",
                                choices=("efficient", "algorithm1")),
        "c_obj": Option(float, 1e4, "objective coefficient (toy 1e4, MNIST 1e3)", check=_nonneg),
        "c_flow": Option(float, 1.0, "flow coefficient (toy 1, MNIST 1e-4)", check=_nonneg),
        "c_sp": Option(float, 0.1, "sparsity coefficient (0.1 in both notebooks)", check=_nonneg),
        "square_outputs": Option(bool, None, "y_hat = out**2 (None = variant: faithful yes, text no)"),
        "sparsity": Option(str, None, "sparsity term: count (no gradient), mean_abs, smooth_count; None = variant",
                           choices=SPARSITY_SURROGATES),
        "sparsity_temperature": Option(float, 0.01, "tau of the smooth_count surrogate", check=_pos,
                                       only_when={"sparsity": ("smooth_count", None)}),
        "objective": Option(str, None, "mse or softmax_ce; None = the dataset's", choices=OBJECTIVES),
        "slope": Option(float, dag.DEFAULT_SLOPE, "leaky_relu slope of computational neurons", check=_nonneg),
        "activation": Option(str, None, "activation of the signal a source sends to computational neurons: "
                             "leaky_relu (code) or sigmoid (seed text); None = variant", choices=dag.ACTIVATIONS),
        "closeness_range": Option(str, None, "closeness d signed in (-1, 1) (code) or unsigned in [0, 1] (seed "
                                  "text); None = variant", choices=CLOSENESS_RANGES),
        "c_time": Option(float, 0.0, "coefficient of the process-time term c_time dt^time_pow (dt: measured process "
                         "time of the previous step; no gradient); 0 = off", check=_nonneg),
        "time_pow": Option(float, 1.0, "exponent of the process-time term (the notebooks' time_pow = 1.0)",
                           check=_pos),
        "dag_impl": Option(str, "sparse", "DAG evaluation: sparse / dense kernels or the engine reference",
                           choices=DAG_IMPLS),
        "closeness_impl": Option(str, "engine", "closeness matrix: engine operations (reference) or fused kernel",
                                 choices=CLOSENESS_IMPLS),
        "on_guard": Option(str, "raise", "when a guard fires: raise DNMGuardError, or record it in the metrics",
                           choices=("raise", "record")),
        "test_every": Option(int, 1, "single-batch test metric every N steps (the notebooks' curve)", check=_pos),
        "oracle_cutoff_tie": Option(bool, False, "trajectory cases: start with sigmoid(kappa) equal to |v| of one "
                                    "entry exactly (shows a cutoff compared with >= instead of >)"),
    }
    # oracle trajectory cases (minidsn/models/dnm/trajectory.py): a larger step so that entries switch within 8
    # steps, a smaller batch for a smaller file, the engine DAG (no Numba compilation: export in seconds)
    trajectory_steps = 8
    trajectory_defaults = {"lr": 0.01, "batch_size": 20, "dag_impl": "engine"}

    @classmethod
    def check_config(cls, cfg):
        """Source: none (configuration checks; the sizes are check_sizes')"""
        check_sizes(cfg)

    def __init__(self):
        self._layouts = {}
        self._clock = None  # time.process_time() at the start of the previous step (process-time term only)

    # -- helpers ------------------------------------------------------------------------------------------------
    def _layout(self, cfg) -> Layout:
        key = (cfg["n_neurons"], cfg["n_inputs"], cfg["n_outputs"], float(cfg["period"]))
        if key not in self._layouts:
            self._layouts[key] = Layout(*key)
        return self._layouts[key]

    @staticmethod
    def _spec(rc) -> LossSpec:
        return LossSpec(
            square_outputs=rc["square_outputs"], objective=rc["objective"], sparsity=rc["sparsity"],
            sparsity_temperature=rc["sparsity_temperature"], c_obj=rc["c_obj"], c_flow=rc["c_flow"],
            c_sp=rc["c_sp"], dag_impl=rc["dag_impl"], slope=rc["slope"],
            closeness_impl=rc["closeness_impl"], activation=rc["activation"], closeness_range=rc["closeness_range"],
            c_time=rc["c_time"], time_pow=rc["time_pow"],
        )

    def _step_time(self, rc) -> float:
        """Process time (s) since the previous step started: the dt of the process-time term; 0 at the first step of
        a process (no earlier reading; a resumed run starts again at 0, since process_time is per process).

        Source: Miej/Dynamic_Neural_Manifold@873268a dynamic_neural_manifold-toy_dataset.ipynb cell 3 l. 62-63 (a
            reading before the first step), l. 102 (last_time = this step's reading); seed 000 l. 106.
        """
        if not rc["c_time"] > 0:
            return 0.0
        now = time.process_time()
        dt = 0.0 if self._clock is None else now - self._clock
        self._clock = now
        return dt

    @staticmethod
    def _refuse_process_time(rc, what):
        if rc["c_time"] > 0:
            raise ConfigError(f"dnm {what}: the process-time term (c_time = {rc['c_time']}) uses a measured time, "
                              "which no seed reproduces; set c_time = 0 (the term has no gradient, so the "
                              "parameters and gradients a case holds are the same)")

    @staticmethod
    def _opt(rc):
        return optim.Adam(lr=rc["lr"], beta1=0.9, beta2=0.999, eps=1e-8, eps_form=rc["adam_eps_form"])

    @staticmethod
    def _train_batch(state, rc, rng):
        if rc["dataset"] == "toy":
            return toy_batch(rng, rc["batch_size"]), state["data"]
        data = load_mnist_split(state["data_dir"] or None)
        perm, cursor = state["data"]["perm"], int(state["data"]["cursor"])
        B = rc["batch_size"]
        if cursor + B > perm.shape[0]:  # new epoch: reshuffle (as TensorFlow's next_batch does)
            perm, cursor = rng.permutation(data.train_x.shape[0]), 0
        idx = perm[cursor : cursor + B]
        xb = data.to_float(data.train_x[idx])
        return (xb, data.one_hot(data.train_y[idx])), {"perm": perm, "cursor": cursor + B}

    @staticmethod
    def _test_batch(state, rc, rng):
        if rc["dataset"] == "toy":
            return toy_batch(rng, rc["batch_size"])
        data = load_mnist_split(state["data_dir"] or None)
        idx = rng.choice(data.test_x.shape[0], size=rc["batch_size"], replace=False)
        return data.to_float(data.test_x[idx]), data.one_hot(data.test_y[idx])

    def _guard(self, rc, message, step):
        if message is not None and rc["on_guard"] == "raise":
            raise DNMGuardError(f"dnm guard at step {step}: {message} (on_guard = \"record\" records it and goes on)")

    # -- Model interface ----------------------------------------------------------------------------------------
    def init(self, cfg, rng, data_dir):
        """Source: none (run-harness adapter; parameters from closeness.init_params)"""
        rc = resolve(cfg)
        layout = self._layout(rc)
        self._clock = None
        params = init_params(rng, layout.n_neurons, layout.n_in, layout.n_out, rc["init"], rc["kappa_init"])
        state = {"params": params, "opt": self._opt(rc).init(params), "data_dir": str(data_dir or ""),
                 "data": {"perm": np.zeros(0, dtype=np.int64), "cursor": 0}}
        if rc["dataset"] == "mnist":
            data = load_mnist_split(data_dir)  # fail now, with the loader's message, if the files are missing
            state["data"] = {"perm": rng.permutation(data.train_x.shape[0]), "cursor": 0}
        return state

    def step(self, state, cfg, rng, step):
        """Source: Miej/Dynamic_Neural_Manifold@873268a dynamic_neural_manifold-toy_dataset.ipynb cell 3 l. 68-92 (one
            Adam step on a fresh batch, as the training loop); Miej/Dynamic_Neural_Manifold@873268a
            dynamic_neural_manifold-toy_dataset.ipynb cell 0 l. 569-579 (Adam, lr 0.001).
        """
        rc = resolve(cfg)
        layout, spec = self._layout(rc), self._spec(rc)
        params = state["params"]
        step_time = self._step_time(rc)
        (x, t), data_state = self._train_batch(state, rc, rng)

        exp_msg = guards.check_exponent(params["beta"], layout.n_in)
        self._guard(rc, exp_msg, step)
        (loss, aux), grads = value_and_grad(network_loss, has_aux=True)(params, x, t, layout, spec, step_time)
        fin_msg = guards.check_finite({"loss": loss, **{f"grad {k}": v for k, v in grads.items()}})
        if fin_msg is not None:  # never hand NaN to the optimiser, whatever on_guard says
            raise DNMGuardError(f"dnm guard at step {step}: {fin_msg} (objective={aux['objective']:.4g}, "
                                f"flow={aux['flow']:.4g}, pct={aux['pct']:.4g}, cutoff={aux['cutoff']:.4g})")
        ip, ix = aux["structure"]
        reach = guards.reachable_outputs(ip, ix, layout.n_in, layout.n_src)
        cut_msg = guards.check_connected(reach)
        self._guard(rc, cut_msg, step)

        opt = self._opt(rc)
        new_params, new_opt = opt.update(grads, state["opt"], params)
        metrics = {
            "loss": float(loss),
            "objective": aux["objective"],
            "flow": aux["flow"],
            "F_in": aux["F_in"],
            "F_out": aux["F_out"],
            "pct": aux["pct"],
            "sparsity_term": aux["sparsity"],
            "cutoff": aux["cutoff"],
            "outputs_reachable": float(reach.mean()),
            "guard_exponent": 0.0 if exp_msg is None else 1.0,
            "guard_cut_off": 0.0 if cut_msg is None else 1.0,
        }
        if "time" in aux:  # only with c_time > 0: measured, so not reproducible
            metrics["process_time"] = step_time
            metrics["time_term"] = aux["time"]
        if (step + 1) % rc["test_every"] == 0:
            xt, tt = self._test_batch(state, rc, rng)
            y = predict(new_params, xt, layout, spec)
            if rc["dataset"] == "toy":
                metrics["test_mse"] = float(np.mean((tt - y) ** 2))
            else:
                metrics["test_acc_batch"] = float(np.mean(np.argmax(y, 1) == np.argmax(tt, 1)))
        new_state = {"params": new_params, "opt": new_opt, "data_dir": state["data_dir"], "data": data_state}
        return new_state, metrics

    def evaluate(self, state, cfg, rng, data_dir):
        """Source: Miej/Dynamic_Neural_Manifold@873268a dynamic_neural_manifold-mnist.ipynb cell 3 l. 113-127 (the
            original's accuracy on one test batch of 50; minidsn evaluates the full test set).
        """
        rc = resolve(cfg)
        layout, spec = self._layout(rc), self._spec(rc)
        params = state["params"]
        d, _, c = closeness_of(params, layout, closeness_range=rc["closeness_range"])
        from minidsn.models.dnm.losses import flow_loss, pct_live

        out = {"pct": pct_live(d, layout.mask, layout.K), "flow": float(flow_loss(d, layout.n_in, layout.n_out)),
               "cutoff": float(c)}
        ip, ix = dag.live_structure(d, layout.n_in, layout.n_out)
        out["outputs_reachable"] = float(guards.reachable_outputs(ip, ix, layout.n_in, layout.n_src).mean())
        if rc["dataset"] == "toy":
            xb, tb = toy_batch(rng, rc["batch_size"])  # the notebook's figure: one fresh batch
            out["test_mse_batch"] = float(np.mean((tb - predict(params, xb, layout, spec)) ** 2))
            xl, tl = toy_batch(rng, 100_000)  # the same quantity with a small standard error
            out["test_mse_100k"] = float(np.mean((tl - predict(params, xl, layout, spec)) ** 2))
            out["floor_mse_squared_outputs"] = toy_floor_mse()
        else:
            data = load_mnist_split(state["data_dir"] or data_dir or None)
            xs = data.to_float(data.test_x)
            y = predict(params, xs, layout, spec)
            out["test_accuracy_10k"] = float(np.mean(np.argmax(y, 1) == data.test_y))
            idx = rng.choice(xs.shape[0], size=rc["batch_size"], replace=False)
            out["test_accuracy_one_batch"] = float(np.mean(np.argmax(y[idx], 1) == data.test_y[idx]))
        return out

    def trajectory(self, cfg, rng, data_dir, steps):
        """Model.trajectory: minidsn/models/dnm/trajectory.py.

        Source: none (oracle trajectory adapter; the step's equations are cited in dnm/trajectory.py)
        """
        from minidsn.models.dnm import trajectory

        rc = resolve(cfg)
        self._refuse_process_time(rc, "trajectory case")
        return trajectory.trajectory(self, cfg, rc, rng, data_dir, steps)

    def trajectory_step(self, cfg, state_before, inputs, draws):
        """Model.trajectory_step: minidsn/models/dnm/trajectory.py.

        Source: none (oracle trajectory adapter; no formula)
        """
        from minidsn.models.dnm import trajectory

        return trajectory.trajectory_step(self, resolve(cfg), state_before, inputs, draws)

    def oracle_case(self, cfg, rng, data_dir):
        """Source: none (oracle export; formulas in net.py, closeness.py, losses.py)"""
        rc = resolve(cfg)
        self._refuse_process_time(rc, "oracle case")
        layout, spec = self._layout(rc), self._spec(rc)
        state = self.init(cfg, rng, data_dir)
        params = state["params"]
        (x, t), _ = self._train_batch(state, rc, rng)
        (loss, aux), grads = value_and_grad(network_loss, has_aux=True)(params, x, t, layout, spec)
        d, _, _ = closeness_of(params, layout, closeness_range=rc["closeness_range"])
        return {
            "params": tree_map(lambda a: np.asarray(a, dtype=np.float64), params),
            "inputs": {"x": x, "target": t},
            "outputs": {"y_hat": predict(params, x, layout, spec), "closeness": d},
            "losses": {k: np.float64(aux[k]) for k in ("objective", "flow", "pct", "sparsity")}
            | {"total": np.float64(loss)},
            "grads": tree_map(lambda a: np.asarray(a, dtype=np.float64), grads),
        }
