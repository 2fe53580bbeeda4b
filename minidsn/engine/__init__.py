"""minidsn's reverse-mode automatic differentiation engine (see docs/engine.md).

    import minidsn.numpy as mnp
    from minidsn.engine import grad, value_and_grad

    def loss(params, x, y):
        h = mnp.tanh(x @ params["W"] + params["b"])
        return mnp.mean((h - y) ** 2)

    value, grads = value_and_grad(loss)(params, x, y)   # grads has the structure of params
"""

from minidsn.engine.core import (
    ComplexNotSupportedError,
    EngineError,
    NotSupportedError,
    Primitive,
    Traced,
    TracedConversionError,
    defvjp,
    defvjp_joint,
    defvjp_stacked,
    is_traced,
    nondifferentiable,
    primitive,
    stacked_rules_off,
    stop_gradient,
)
from minidsn.engine.pytree import (
    PyTreeDef,
    register_pytree_node,
    tree_flatten,
    tree_leaves,
    tree_map,
    tree_paths,
    tree_structure,
    tree_unflatten,
)
from minidsn.engine.transforms import (
    elementwise_grad,
    grad,
    hessian,
    hvp,
    jacfwd,
    jacobian,
    jacrev,
    jvp,
    linearize,
    value_and_grad,
    vjp,
)

__all__ = [
    "ComplexNotSupportedError",
    "EngineError",
    "NotSupportedError",
    "Primitive",
    "PyTreeDef",
    "Traced",
    "TracedConversionError",
    "defvjp",
    "defvjp_joint",
    "defvjp_stacked",
    "elementwise_grad",
    "grad",
    "hessian",
    "hvp",
    "jacfwd",
    "jacobian",
    "jacrev",
    "linearize",
    "is_traced",
    "jvp",
    "nondifferentiable",
    "primitive",
    "stacked_rules_off",
    "register_pytree_node",
    "stop_gradient",
    "tree_flatten",
    "tree_leaves",
    "tree_map",
    "tree_paths",
    "tree_structure",
    "tree_unflatten",
    "value_and_grad",
    "vjp",
]

