"""The error hierarchy. Messages name the primitive or NumPy function, and the fix."""


class FrechetError(Exception):
    """Base class of every error frechet raises on purpose."""


class ConcretizationError(FrechetError):
    """A traced value was needed as a concrete Python value where none exists."""


class TracerConversionError(FrechetError, TypeError):
    """A traced value reached a conversion (np.asarray, float, np.array([...])) that would
    drop its derivative."""


class NonDifferentiableError(FrechetError):
    """A derivative was asked of something that has none (integer inputs, a primitive with no
    differentiation rule)."""


class UnsupportedFunctionError(FrechetError, NotImplementedError):
    """A NumPy function that frechet cannot differentiate through."""


class BackendError(FrechetError, TypeError):
    """A primitive that cannot run on its inputs' array library: no function for it there,
    or arrays of two libraries in one operation."""


class ShapeError(FrechetError, ValueError):
    """Shapes that do not fit, phrased as NumPy would."""


class EscapedTracerError(FrechetError):
    """A traced value was used after the transformation that made it had finished."""


class RetracingWarning(RuntimeWarning):
    """A jitted function keeps tracing again (new shapes, new static values, or Python
    branches on traced values that keep changing): compilation is repeated instead of reused."""
