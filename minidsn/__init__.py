"""minidsn: a NumPy-only reference implementation of neural networks that change their own structure.

Five systems on one small engine: Dynamic Neural Manifold, DiffRNN, URN, isotropic networks, Dataflow Matrix Machines.
See README.md and docs/.

The transforms are exported here as in JAX and autograd (`from minidsn import grad, value_and_grad, vjp, jvp,
jacobian, hessian`). They load on first use (module __getattr__), so `import minidsn` and `import minidsn.cli` do
not import NumPy: the command line sets the BLAS thread variables before NumPy loads.
"""

__version__ = "0.1.0"

# name -> module that defines it (loaded lazily)
_LAZY_EXPORTS = {
    name: "minidsn.engine"
    for name in (
        "grad",
        "value_and_grad",
        "vjp",
        "jvp",
        "linearize",
        "hvp",
        "jacobian",
        "jacrev",
        "jacfwd",
        "hessian",
        "elementwise_grad",
        "stop_gradient",
        "primitive",
        "defvjp",
        "tree_map",
        "tree_flatten",
        "tree_unflatten",
    )
}

__all__ = ["__version__", *_LAZY_EXPORTS]


def __getattr__(name):
    module = _LAZY_EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'minidsn' has no attribute '{name}'")
    import importlib

    value = getattr(importlib.import_module(module), name)
    globals()[name] = value  # later look-ups skip this function
    return value


def __dir__():
    return sorted(set(globals()) | set(_LAZY_EXPORTS))
