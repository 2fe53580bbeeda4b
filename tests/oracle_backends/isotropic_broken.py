"""Isotropic with a neurogenesis that forgets to rotate the second Adam moment: minidsn's own step
(Model.trajectory_step) with ops.neurogenesis run on an Editor whose rotations skip the second moment ``v``
(minidsn/models/isotropic/state.py: ``v <- (R o R) v`` is left out; the first moment still rotates)."""

from __future__ import annotations

import contextlib

from minidsn.models.isotropic import ops
from minidsn.models.isotropic.state import Editor
from minidsn.oracle.conformance import minidsn_backend


class _ForgetsV(Editor):
    def _rotated_slots(self, key):
        return [(slot, second) for slot, second in Editor._slots(self, key) if not second]

    def left(self, key, idx, M, value=None):
        self._with(self._rotated_slots, Editor.left, key, idx, M, value)

    def right(self, key, idx, M, value=None):
        self._with(self._rotated_slots, Editor.right, key, idx, M, value)

    def _with(self, slots, op, *args):
        self._slots = slots  # an instance attribute hides the method for this one operation
        try:
            op(self, *args)
        finally:
            del self._slots


@contextlib.contextmanager
def neurogenesis_forgets_v():
    original = ops.neurogenesis

    def forgetful(*args, **kwargs):
        ops.Editor = _ForgetsV
        try:
            return original(*args, **kwargs)
        finally:
            ops.Editor = Editor

    ops.neurogenesis = forgetful
    try:
        yield
    finally:
        ops.neurogenesis = original


class NeurogenesisForgetsV(minidsn_backend):
    def step(self, state, inputs, draws):
        with neurogenesis_forgets_v():
            return super().step(state, inputs, draws)
