"""DMM 1.0 self-modifying form: the matrix is the output of the `self` accumulator."""

import numpy as np

from minidsn.engine import grad
from minidsn.models.dmm.handcrafted import handcrafted_matrix, handcrafted_traces
from minidsn.models.dmm.neurons import LIBRARY, NeuronType, make_input
from minidsn.models.dmm.self_modifying import DMMSelf, rank6_from_lite, self_link
from minidsn.vvalue import NUMBER, VValue

# The weight the machine rewrites: output.o.dict-1 <- const_1.c.const_1 (0 -> 0.5) and it deletes
# output.o.dict-2 <- const_1.c.const_1 (1 -> 0).
UPDATE = VValue({"output": {"o": {"dict-1": {"const_1": {"c": {"const_1": 0.5}}},
                                  "dict-2": {"const_1": {"c": {"const_1": -1.0}}}}}})


def _pulse(x):
    t = x.get("timer")
    n = t.number_at() if isinstance(t, VValue) else 0.0
    return VValue({"delta": UPDATE}) if n == 3.0 else VValue()


TYPES = {"timer": LIBRARY["timer"], "const_1": LIBRARY["const_1"], "output": LIBRARY["output"],
         "pulse": NeuronType("pulse", _pulse, ("timer",), ("delta",))}
INSTANCES = [("timer", "t"), ("pulse", "p"), ("const_1", "c"), ("output", "o")]


def _matrix(gate=1.0):
    links = {
        "timer": {"t": {"timer": {"timer": {"t": {"timer": 1.0}}}}},
        "pulse": {"p": {"timer": {"timer": {"t": {"timer": 1.0}}}}},
        "output": {"o": {"dict-2": {"const_1": {"c": {"const_1": 1.0}}}}},
        "self": {"self": {"accum": {"self": {"self": {"single": 1.0}}},
                          "delta": {"pulse": {"p": {"delta": gate}}}}},
    }
    return VValue(links)


def _reads(trace, field):
    out = []
    for x in trace:
        sub = x[("output", "o")].get(field)
        out.append(0.0 if sub is None else sub.number_at())
    return np.array(out)


def test_machine_rewrites_its_own_weight():
    m = DMMSelf(TYPES)
    rec = []
    trace = m.run(_matrix(), INSTANCES, 10, record=rec)
    # pulse fires at cycle 4 (timer 3), self adds it at cycle 5, the down movement of cycle 6 uses the new matrix
    np.testing.assert_array_equal(_reads(trace, "dict-1"), [0, 0, 0, 0, 0, 0.5, 0.5, 0.5, 0.5, 0.5])
    np.testing.assert_array_equal(_reads(trace, "dict-2"), [0, 1, 1, 1, 1, 0, 0, 0, 0, 0])
    w_after = rec[4].get(("self", "self", "single"))
    assert w_after.get(("output", "o", "dict-1", "const_1", "c", "const_1")) == 0.5
    assert w_after.get(("output", "o", "dict-2")) is None  # 1 - 1 = 0: the link is gone (sparse)
    assert rec[3].get(("self", "self", "single")) == _matrix()  # unchanged before the write lands


def test_gradient_flows_through_self_modification():
    # d/d gate of sum_t output.dict-1: the write is scaled by the gate, so reads are 0.5 * gate from cycle 6 on.
    m = DMMSelf(TYPES)
    n = 10

    def f(w0):
        return sum(x[("output", "o")].get("dict-1", ).number_at() if x[("output", "o")].get("dict-1") is not None
                   else 0.0 for x in m.run(w0, INSTANCES, n))

    g = grad(f)(_matrix(gate=0.8))
    assert isinstance(g, VValue)
    assert float(g.get(("self", "self", "delta", "pulse", "p", "delta"))) == 0.5 * (n - 5)


def test_static_self_reproduces_dmm_lite():
    types = dict(LIBRARY)
    types["input"] = make_input("test string.")
    names = ["timer", "input", "accum", "norm", "const_1", "compare", "eos", "dot", "output"]
    w = rank6_from_lite(handcrafted_matrix(), {n: n for n in names})
    assert w.get(self_link()) == 1.0
    trace = DMMSelf(types).run(w, [(n, n) for n in names], 140)
    got = np.stack([
        [(x[("output", "output")].get(f) or VValue()).number_at() for f in ("dict-1", "dict-2")] for x in trace
    ])
    np.testing.assert_array_equal(got, handcrafted_traces("test string.", 140))
