"""The engine's error types (in their own module so that every engine module can raise them)."""

__all__ = ["EngineError", "TracedConversionError", "NotSupportedError", "ComplexNotSupportedError"]


class EngineError(RuntimeError):
    """A rule of the engine was broken (a VJP of the wrong shape, a second derivative through a kernel, ...)."""


class TracedConversionError(TypeError):
    """A traced value was turned into a raw number/array inside a differentiated function (cutting the graph)."""


class NotSupportedError(TypeError):
    """A NumPy function without a minidsn version was applied to a traced value."""


class ComplexNotSupportedError(TypeError):
    """A complex value met a differentiation: minidsn differentiates real floating values only (docs/engine.md)."""


def complex_refusal(where: str, dtype) -> ComplexNotSupportedError:
    """The one message for every place that refuses a complex value (inputs, tangents, cotangents, outputs, nodes)."""
    return ComplexNotSupportedError(
        f"{where} has dtype {dtype}: minidsn differentiates real floating values only (complex numbers are not "
        "supported: their derivatives need conjugation conventions the engine does not implement). Split the value "
        "into real and imaginary parts (two float arrays) and differentiate those"
    )
