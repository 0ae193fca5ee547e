"""frechet.config: process-wide switches."""

from __future__ import annotations


def _positive_int(name: str, value) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"set frechet.config.{name} to a positive int, not {value!r}")
    return value


class _Config:
    """Settings read when they matter (assign to change them).

    patch_numpy_creation: while a transformation runs, `np.array`, `np.asarray` and
        `np.asanyarray` accept traced values and lists holding them (NumPy's own functions,
        which do not dispatch on list contents, would refuse them). Outside transformations
        NumPy's functions are NumPy's, untouched. Set to False to leave NumPy alone always.
    jit_cache_size: compiled traces each jitted function keeps, one per argument signature
        (pytree structure, shapes, dtypes, static values); the least recently used is dropped
        beyond it (default 256).
    jit_retrace_warning: a jitted function that has traced this many different argument
        signatures warns once (RetracingWarning) that its shapes keep changing (default 64).
    scalar_tape: under linearization (grad, vjp, linearize), float64 scalars record their
        arithmetic on a tape of Python floats, one entry per operation, instead of one staged
        equation each (interpreters/scalars.py); the same values and derivatives, several times
        faster on scalar code. Set to False to send every operation down the generic path.
    array_tape: the same for float64 arrays of at most 4096 elements: their arithmetic,
        matrix products and smooth unary functions are recorded on a tape of NumPy operations
        (interpreters/arrays.py). Set to False to send them down the generic path.
    """

    __slots__ = ("_jit_cache_size", "_jit_retrace_warning", "array_tape",
                 "patch_numpy_creation", "scalar_tape")

    def __init__(self):
        self.patch_numpy_creation = True
        self.scalar_tape = True
        self.array_tape = True
        self._jit_cache_size = 256
        self._jit_retrace_warning = 64

    @property
    def jit_cache_size(self) -> int:
        return self._jit_cache_size

    @jit_cache_size.setter
    def jit_cache_size(self, value: int):
        self._jit_cache_size = _positive_int("jit_cache_size", value)

    @property
    def jit_retrace_warning(self) -> int:
        return self._jit_retrace_warning

    @jit_retrace_warning.setter
    def jit_retrace_warning(self, value: int):
        self._jit_retrace_warning = _positive_int("jit_retrace_warning", value)

    def __repr__(self):
        return (f"frechet.config(patch_numpy_creation={self.patch_numpy_creation}, "
                f"jit_cache_size={self.jit_cache_size}, "
                f"jit_retrace_warning={self.jit_retrace_warning}, "
                f"scalar_tape={self.scalar_tape}, array_tape={self.array_tape})")


config = _Config()
