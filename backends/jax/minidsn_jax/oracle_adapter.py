"""Turn a minidsn_jax model into the backend functions minidsn's conformance kit replays (minidsn.oracle.conformance).

A model module provides two pure functions on nested dicts of arrays (the case's groups read with trees.unflatten):

    loss_and_grads(params, inputs, config) -> {"losses": {...}, "grads": {...}, "outputs": {...}}
    train_step(state, step_inputs, draws, config) -> (new_state, events)

``JaxBackend`` wraps them: it converts the kit's NumPy arrays to JAX arrays, calls the model, and hands NumPy
float64 arrays back, so the kit never sees a JAX type. The exact signature the kit expects is documented in
docs/oracle.md ("Conformance kit"); this module is the one place that follows it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

from minidsn_jax.trees import to_device, to_host


@dataclass
class JaxBackend:
    """The kit's backend object for one model (and variant): name, and the two functions on host arrays."""

    name: str
    loss_and_grads_fn: Callable[..., dict]
    train_step_fn: Callable[..., tuple] | None = None
    config: dict = field(default_factory=dict)

    def loss_and_grads(self, params, inputs, config=None) -> dict:
        cfg = {**self.config, **(config or {})}
        return to_host(self.loss_and_grads_fn(to_device(params), to_device(inputs), cfg))

    def train_step(self, state, step_inputs, draws, config=None) -> tuple[Any, Any]:
        if self.train_step_fn is None:
            raise NotImplementedError(f"{self.name}: no training step")
        cfg = {**self.config, **(config or {})}
        new_state, events = self.train_step_fn(to_device(state), to_device(step_inputs), draws, cfg)
        return to_host(new_state), to_host(events)


def replay_single_state_case(arrays: dict, meta: dict, loss_and_grads: Callable[..., dict]) -> dict:
    """A version-1 (single-state) case: feed its params and inputs to ``loss_and_grads(params, inputs, config)``
    and return the backend's answer as flat case keys (params/ and inputs/ copied), ready for
    ``minidsn.oracle.compare_arrays(arrays, answer)``."""
    from minidsn_jax.trees import flatten, unflatten

    params, inputs = unflatten(arrays, "params"), unflatten(arrays, "inputs")
    out = to_host(loss_and_grads(to_device(params), to_device(inputs), meta["config"]))
    answer = {k: v for k, v in arrays.items() if k.startswith(("params/", "inputs/"))}
    for group in ("losses", "grads", "outputs"):
        answer |= flatten(out.get(group, {}), group)
    return answer
