"""Every minidsn error survives pickling (sweeps run seeds in worker processes and send errors back)."""

import pickle

import pytest

from minidsn.runs.loop import NonFiniteError


@pytest.mark.parametrize("err", [NonFiniteError(7, "state['params']['W'] first at index (1, 2): inf")])
def test_error_roundtrips_through_pickle(err):
    back = pickle.loads(pickle.dumps(err))
    assert type(back) is type(err) and str(back) == str(err)
    assert back.step == err.step and back.quantity == err.quantity
