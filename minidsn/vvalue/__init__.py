"""V-values: tree-shaped sparse vectors (Bukatin and Anthony, arXiv 1712.07447; notes/dmm.md "V-values").

```python
from minidsn.vvalue import VValue, lincomb, max_norm, dot
a = VValue({"x": 1.0, "y": {"z": 2.0}})
b = 2.0 * a + VValue({"y": 3.0})        # the number 3 beside the map {z: 2} becomes {":number": 3}
```
VValue is registered with the engine as a pytree, so ``grad`` of a function of a V-value is a V-value.
"""

from .algebra import add, allclose, dot, lincomb, max_norm, scale, vsum
from .core import NUMBER, VValue, as_vvalue, is_zero_leaf
from .io import from_dense, from_dict, from_json, to_dense, to_dict, to_json
from .pytree import register_with_engine

register_with_engine()

__all__ = [
    "VValue",
    "NUMBER",
    "as_vvalue",
    "is_zero_leaf",
    "add",
    "scale",
    "vsum",
    "lincomb",
    "max_norm",
    "dot",
    "allclose",
    "to_dict",
    "from_dict",
    "to_json",
    "from_json",
    "to_dense",
    "from_dense",
    "register_with_engine",
]
