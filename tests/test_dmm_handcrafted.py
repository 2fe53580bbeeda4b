"""DMM-Lite neurons and the hand-crafted duplicate-character detector (notes/dmm.md)."""

import numpy as np
import pytest

from minidsn.models.dmm.handcrafted import (
    handcrafted_machine,
    handcrafted_matrix,
    handcrafted_traces,
    step_cycles,
)
from minidsn.models.dmm.lite import link_matrix
from minidsn.models.dmm.neurons import LIBRARY, make_input
from minidsn.vvalue import NUMBER, VValue


def test_cycle_timings_on_test_string():
    t = handcrafted_traces("test string.", 140)
    assert step_cycles(t[:, 0]) == [(35, 1.0), (65, 2.0)]
    assert step_cycles(t[:, 1]) == [(114, 1.0), (124, 2.0), (134, 3.0)]


def test_input_schedule_and_eos_repeat():
    m = handcrafted_machine("test string.")
    rec = []
    m.run(handcrafted_matrix(), 140, record=rec)
    seen = [(c, list(y["input"]["char"])[0]) for c, (_, y) in enumerate(rec, start=1) if "input" in y]
    assert [c for c, _ in seen] == list(range(1, 132, 10))
    assert "".join(ch for _, ch in seen) == "test string..."


def test_targets_match_definitions():
    # y1 = relu(max count - 1) and y2 = min(count of ".", 4), delayed by the chain lengths (4 and 3 cycles).
    s = "tets. str.ingtb str.ingtb"
    n = 250
    t = handcrafted_traces(s, n)
    chars = {c: s[min((c - 1) // 10, len(s) - 1)] for c in range(1, n + 1) if (c - 1) % 10 == 0}
    for c in range(1, n + 1):
        upto = [ch for cc, ch in chars.items() if cc <= c - 4]
        counts = {ch: upto.count(ch) for ch in upto}
        assert t[c - 1, 0] == max(max(counts.values(), default=0) - 1, 0)
        dots = [ch for cc, ch in chars.items() if cc <= c - 3].count(".")
        assert t[c - 1, 1] == min(dots, 4)


def test_neuron_library_definitions():
    acc = LIBRARY["accum"].fn(VValue({"dict-1": {"a": 1.0}, "dict-2": {"a": 2.0, "b": -1.0}}))
    assert acc == VValue({"dict": {"a": 3.0, "b": -1.0}})
    assert LIBRARY["norm"].fn(VValue({"dict": {"a": -3.0, "b": 2.0}})) == VValue({"norm": {NUMBER: 3.0}})
    assert LIBRARY["norm"].fn(VValue()) == VValue()
    big = VValue({"dict-1": {"a": 3.0}, "dict-2": {"a": 2.0}})
    assert LIBRARY["dot"].fn(big) == VValue({"dot": {NUMBER: 4.0}})  # clipped at 4
    c = LIBRARY["compare"].fn(VValue({"dict-1": {NUMBER: 2.5}, "dict-2": {NUMBER: 1.0}}))
    assert c == VValue({"true": {NUMBER: 1.5}})
    assert LIBRARY["timer"].fn(VValue({"timer": {NUMBER: 6.0}})) == VValue({"timer": {NUMBER: 7.0}})
    inp = make_input("ab.").fn
    assert inp(VValue({"timer": {NUMBER: 10.0}})) == VValue({"char": {"b": 1.0}})
    assert inp(VValue({"timer": {NUMBER: 90.0}})) == VValue({"char": {".": 1.0}})
    assert len(inp(VValue({"timer": {NUMBER: 11.0}}))) == 0


def test_bad_inputs():
    with pytest.raises(ValueError, match="non-empty"):
        make_input("")
    m = handcrafted_machine()
    with pytest.raises(ValueError, match="unknown neuron"):
        m.check_matrix(link_matrix([("nope", "dict", "accum", "dict", 1.0)]))
    with pytest.raises(ValueError, match="no input field"):
        m.check_matrix(link_matrix([("norm", "dict-9", "accum", "dict", 1.0)]))
    m.check_matrix(handcrafted_matrix())
