"""The engine's error types (in their own module so that every engine module can raise them)."""

__all__ = ["EngineError", "TracedConversionError", "NotSupportedError"]


class EngineError(RuntimeError):
    """A rule of the engine was broken (a VJP of the wrong shape, a second derivative through a kernel, ...)."""


class TracedConversionError(TypeError):
    """A traced value was turned into a raw number/array inside a differentiated function (cutting the graph)."""


class NotSupportedError(TypeError):
    """A NumPy function without a minidsn version was applied to a traced value."""
