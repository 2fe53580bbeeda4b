"""Turn a minidsn_jax model into the backend minidsn's conformance kit replays (minidsn.oracle.conformance).

Trajectory cases (format version 2): the kit (docs/oracle.md, "The conformance kit") calls ``setup(meta)`` once,
then per recorded step ``loss_and_grads(state, inputs) -> (losses, grads)`` and
``train_step(state, inputs, draws) -> (new_state, events)`` on NumPy pytrees. ``KitBackend`` is the base of every
model's backend (``minidsn_jax.<model>.kit.Backend``): it keeps the case's config and converts NumPy -> JAX on the
way in and JAX -> NumPy on the way out, so a model's kit module only maps the recorded state layout to its own
functions:

    minidsn oracle verify case.npz --backend minidsn_jax.dnm.kit:Backend

Single-state cases (format version 1): ``replay_single_state_case`` feeds a case's params and inputs to a model's
``loss_and_grads(params, inputs, config) -> {"losses", "grads", "outputs"}``.
"""

from __future__ import annotations

from typing import Callable

from minidsn_jax.trees import flatten, to_device, to_host, unflatten


class KitBackend:
    """Base of the models' conformance-kit backends. Subclasses implement ``_loss_and_grads(state, inputs)`` and
    ``_train_step(state, inputs, draws)`` on JAX pytrees (``self.cfg`` is the case's resolved config)."""

    cfg: dict = {}

    def setup(self, meta):
        self.meta = meta
        self.cfg = dict(meta["config"])

    def loss_and_grads(self, state, inputs):
        losses, grads = self._loss_and_grads(to_device(state), to_device(inputs))
        return to_host(losses), to_host(grads)

    def train_step(self, state, inputs, draws):
        new_state, events = self._train_step(to_device(state), to_device(inputs), draws)
        return to_host(new_state), to_host(events)

    def _loss_and_grads(self, state, inputs):
        raise NotImplementedError(f"{type(self).__name__}._loss_and_grads")

    def _train_step(self, state, inputs, draws):
        raise NotImplementedError(f"{type(self).__name__}._train_step")


def replay_single_state_case(arrays: dict, meta: dict, loss_and_grads: Callable[..., dict]) -> dict:
    """A version-1 (single-state) case: feed its params and inputs to ``loss_and_grads(params, inputs, config)``
    and return the backend's answer as flat case keys (params/ and inputs/ copied), ready for
    ``minidsn.oracle.compare_arrays(arrays, answer)``."""
    params, inputs = unflatten(arrays, "params"), unflatten(arrays, "inputs")
    out = to_host(loss_and_grads(to_device(params), to_device(inputs), meta["config"]))
    answer = {k: v for k, v in arrays.items() if k.startswith(("params/", "inputs/"))}
    for group in ("losses", "grads", "outputs"):
        answer |= flatten(out.get(group, {}), group)
    return answer
