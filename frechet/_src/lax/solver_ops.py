"""The vector operations of the linear solvers, for NumPy and for another array library.

The solvers (solvers.py, krylov.py) are written once against `ops`: `NUMPY`, whose entries are
the very NumPy functions the NumPy path has always called (its results are bitwise the same),
or `ArrayOps(xp, b)`, the same names on the Array API standard functions of b's namespace xp,
on b's device. An operator of another library is an `Operator` (SciPy's LinearOperator holds
NumPy arrays only).
"""

from __future__ import annotations

import numpy as np

from frechet._src.core import backend


class _NumpyOps:
    """NumPy's functions, as the NumPy path calls them."""

    asarray = staticmethod(np.asarray)
    norm = staticmethod(np.linalg.norm)
    vdot = staticmethod(np.vdot)          # conjugates its first argument
    real = staticmethod(np.real)
    zeros_like = staticmethod(np.zeros_like)
    all = staticmethod(np.all)
    isfinite = staticmethod(np.isfinite)
    solve = staticmethod(np.linalg.solve)


NUMPY = _NumpyOps()


class ArrayOps:
    """NumPy's names for the standard functions of namespace xp, on the device of `like`."""

    def __init__(self, xp, like):
        self.xp, self.device = xp, backend.device_of(like)
        self.complex = backend.dtype_of(like).kind == "c"
        self.eps = float(xp.finfo(like.dtype).eps)

    def asarray(self, x):
        return x

    def norm(self, x):
        return self.xp.linalg.vector_norm(x)

    def vdot(self, a, b):
        return self.xp.vecdot(a, b)           # the standard's vecdot conjugates a, as np.vdot

    def real(self, x):
        return self.xp.real(x) if self.complex else x

    def conj(self, x):
        return self.xp.conj(x) if self.complex else x

    def zeros_like(self, x):
        return self.xp.zeros_like(x)

    def all(self, x):
        return self.xp.all(x)

    def isfinite(self, x):
        return self.xp.isfinite(x)

    def solve(self, a, b):
        return self.xp.linalg.solve(a, b)

    def eye(self, n, dtype):
        return self.xp.eye(n, dtype=dtype, device=self.device)

    def stack_columns(self, columns):
        return self.xp.stack(columns, axis=1)

    def scalar(self, x):
        """A 0-d array's value as a Python number: read on the host, as a stopping test
        reads it (the small recurrences of GMRES and LSQR run on such numbers, as SciPy's)."""
        return complex(x) if self.complex else float(x)


class Operator:
    """A square linear operator on another library's vectors: v -> A v and w -> A^H w."""

    def __init__(self, n, matvec, rmatvec):
        self.shape = (n, n)
        self.matvec, self.rmatvec = matvec, rmatvec
