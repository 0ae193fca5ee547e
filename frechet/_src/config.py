"""frechet.config: process-wide switches."""

from __future__ import annotations


class _Config:
    """Settings read when they matter (assign to change them).

    patch_numpy_creation: while a transformation runs, `np.array`, `np.asarray` and
        `np.asanyarray` accept traced values and lists holding them (NumPy's own functions,
        which do not dispatch on list contents, would refuse them). Outside transformations
        NumPy's functions are NumPy's, untouched. Set to False to leave NumPy alone always.
    """

    __slots__ = ("patch_numpy_creation",)

    def __init__(self):
        self.patch_numpy_creation = True

    def __repr__(self):
        return f"frechet.config(patch_numpy_creation={self.patch_numpy_creation})"


config = _Config()
