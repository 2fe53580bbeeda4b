"""docs/oracle.md spells out the DMM link order for backends that do not use minidsn; this enumerates it from the
page's description, independently of minidsn.models.dmm.trainable, and compares."""

from minidsn.models.dmm.trainable import hard_links, soft_links


def _documented(n_layers=5, n=2):
    ins = {l: [(f"{t}-{l}-{k}", f) for k in range(1, n + 1)
               for t, f in (("accum", "dict-2"), ("norm", "dict"), ("dot", "dict-1"), ("dot", "dict-2"),
                            ("compare", "dict-1"), ("compare", "dict-2"))] for l in range(1, n_layers + 1)}
    outs = {0: [("input", "char"), ("eos", "char"), ("const_1", "const_1")]}
    for s in range(1, n_layers + 1):
        outs[s] = [(f"{t}-{s}-{k}", f) for k in range(1, n + 1)
                   for t, f in (("accum", "dict"), ("norm", "norm"), ("dot", "dot"), ("compare", "true"),
                                ("compare", "false"))]
    final = [("output", "dict-1"), ("output", "dict-2")]
    dests = [(l, ins[l]) for l in range(1, n_layers + 1)] + [(n_layers + 1, final)]
    return [(tn, tf, fn, ff) for layer, fields in dests for tn, tf in fields
            for s in range(layer) for fn, ff in outs[s]]


def test_link_order_is_the_documented_one():
    assert soft_links() == _documented()
    assert len(soft_links()) == 1486
    assert soft_links(3, 1) == _documented(3, 1)


def test_hard_links_are_the_documented_ones():
    acc = [(f"accum-{l}-{k}", "dict-1", f"accum-{l}-{k}", "dict", 1.0) for l in range(1, 6) for k in (1, 2)]
    assert hard_links() == [("timer", "timer", "timer", "timer", 1.0), ("input", "timer", "timer", "timer", 1.0)] + acc
