"""Sparse matrices with traced values: the diagonal (DIA) format.

SciPy's sparse classes hold concrete arrays, so a matrix whose entries depend on traced values
cannot be one of them. `diags`, `diags_array`, `spdiags` and `eye` here return a `DiagonalMatrix`:
concrete offsets and shape, diagonals traced or not. Its product with a vector is a sum of
shifted elementwise products, differentiable in the diagonals and the vector for free; its
transpose negates the offsets. It is callable (v -> A @ v), so frechet.linalg.solve takes it
with any Krylov solver, and `BandedDirect` solves it directly: the solver recovers the band
from 2w + 1 products with probing vectors (w the half-bandwidth) and calls SciPy's spsolve.

Supported: A @ x, A.dot(x), x @ A, A.T, A.toarray(), A.diagonal(k), scalar products, sums and
negation of DiagonalMatrix values, and solves. Not supported: indexing, products of two sparse
matrices, conversion to SciPy's classes (tocsr and friends) of traced values.
"""

from __future__ import annotations

import numpy as np
from frechet._src.core.trace import Tracer
from frechet._src.numpy.base import asarray, result_dtype, shape_of
from frechet._src.prims.rules import traced_numpy


def _diag_len(shape, k: int) -> int:
    m, n = shape
    return max(0, min(m + min(k, 0), n - max(k, 0)))


class DiagonalMatrix:
    """An m x n matrix given by diagonals (traced or not) at concrete offsets: d[i] sits at
    A[i, i + k] for k >= 0 and at A[i - k, i] for k < 0, as scipy.sparse.diags."""

    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        """x @ A for a NumPy x (np.matmul asks A); a traced x defers to A.__rmatmul__ because
        this method exists. Other ufuncs are not defined on a DiagonalMatrix."""
        if ufunc is np.matmul and method == "__call__" and not kwargs and len(inputs) == 2:
            a, b = inputs
            return self._matvec(b) if a is self else self.__rmatmul__(a)
        return NotImplemented

    def __init__(self, diagonals, offsets, shape):
        self.offsets = tuple(int(k) for k in offsets)
        self.shape = tuple(int(s) for s in shape)
        self.diagonals = list(diagonals)
        self.dtype = result_dtype(*self.diagonals) if self.diagonals else np.dtype(np.float64)
        self.ndim = 2

    # ---- products -------------------------------------------------------------------------------
    def _matvec(self, x):
        fnp = traced_numpy()
        x = asarray(x)
        if not shape_of(x) or shape_of(x)[0] != self.shape[1]:
            raise ValueError(f"dimension mismatch: a {self.shape[0]}x{self.shape[1]} sparse "
                             f"matrix and an operand of shape {shape_of(x)}")
        m, rest = self.shape[0], shape_of(x)[1:]
        out = fnp.zeros((m, *rest), result_dtype(x, *self.diagonals))
        for d, k in zip(self.diagonals, self.offsets):
            n = _diag_len(self.shape, k)
            if n == 0:
                continue
            d = fnp.reshape(d, (n,) + (1,) * len(rest))
            row = max(0, -k)
            term = d * x[max(0, k):max(0, k) + n]
            out = out + fnp.pad(term, [(row, m - row - n)] + [(0, 0)] * len(rest))
        return out

    def __matmul__(self, x):
        if isinstance(x, DiagonalMatrix):
            raise NotImplementedError("products of two DiagonalMatrix values are not supported")
        return self._matvec(x)

    def __rmatmul__(self, x):
        fnp = traced_numpy()
        x = asarray(x)
        if len(shape_of(x)) == 1:
            return self.T._matvec(x)
        return fnp.swapaxes(self.T._matvec(fnp.swapaxes(x, -1, -2)), -1, -2)

    def dot(self, x):
        return self @ x

    def __call__(self, x):
        """The matrix's action, so frechet.linalg.solve accepts it as a linear function."""
        return self._matvec(x)

    # ---- algebra ---------------------------------------------------------------------------------
    @property
    def T(self) -> DiagonalMatrix:
        return DiagonalMatrix(self.diagonals, [-k for k in self.offsets], self.shape[::-1])

    def transpose(self) -> DiagonalMatrix:
        return self.T

    def __mul__(self, c):
        if shape_of(c):
            raise NotImplementedError("DiagonalMatrix * array: only scalars scale a "
                                      "DiagonalMatrix (use A @ x for products)")
        return DiagonalMatrix([d * c for d in self.diagonals], self.offsets, self.shape)

    __rmul__ = __mul__

    def __neg__(self):
        return self * -1.0

    def __add__(self, other):
        if not isinstance(other, DiagonalMatrix) or other.shape != self.shape:
            raise NotImplementedError("only DiagonalMatrix values of the same shape add")
        return DiagonalMatrix(self.diagonals + other.diagonals, self.offsets + other.offsets,
                              self.shape)

    def __sub__(self, other):
        return self + (-other)

    def diagonal(self, k: int = 0):
        """The k-th diagonal (summed over repeated offsets; zeros where none is stored)."""
        fnp = traced_numpy()
        out = fnp.zeros(_diag_len(self.shape, k), self.dtype)
        for d, o in zip(self.diagonals, self.offsets):
            if o == k:
                out = out + d
        return out

    def toarray(self):
        """The dense matrix (traced when the diagonals are)."""
        fnp = traced_numpy()
        out = fnp.zeros(self.shape, self.dtype)
        for d, k in zip(self.diagonals, self.offsets):
            ln = _diag_len(self.shape, k)
            if ln == 0:
                continue
            rows = np.arange(ln) + max(0, -k)
            idx = np.full(self.shape, ln)
            idx[rows, rows + k] = np.arange(ln)
            out = out + fnp.concatenate([asarray(d).astype(self.dtype), fnp.zeros(1, self.dtype)])[idx]
        return out

    todense = toarray

    @property
    def bandwidth(self) -> int:
        return max((abs(k) for k in self.offsets), default=0)

    def __repr__(self):
        traced = any(isinstance(d, Tracer) for d in self.diagonals)
        return (f"<{self.shape[0]}x{self.shape[1]} DiagonalMatrix, offsets {self.offsets}"
                f"{', traced' if traced else ''}>")


def _as_diagonals(diagonals, offsets, shape):
    if np.ndim(offsets) == 0:
        offsets, diagonals = [int(offsets)], [diagonals]
    offsets = [int(k) for k in offsets]
    if len(diagonals) != len(offsets):
        raise ValueError("Different number of diagonals and offsets.")
    if len(set(offsets)) != len(offsets):
        raise ValueError("Offset array contains duplicate values")
    diagonals = [asarray(d) for d in diagonals]
    if shape is None:
        if not shape_of(diagonals[0]):
            raise ValueError("a shape is needed when the first diagonal is a scalar")
        m = shape_of(diagonals[0])[0] + abs(offsets[0])
        shape = (m, m)
    out = []
    for j, (d, k) in enumerate(zip(diagonals, offsets)):
        n = _diag_len(shape, k)
        if not shape_of(d):
            d = traced_numpy().broadcast_to(d, (n,))
        elif shape_of(d)[0] < n or len(shape_of(d)) != 1:
            raise ValueError(f"Diagonal length (index {j}: {shape_of(d)[0]} at offset {k}) "
                             f"does not agree with array size ({shape[0]}, {shape[1]}).")
        out.append(d[:n])
    return out, offsets, shape


def diags_array(diagonals, /, *, offsets=0, shape=None, format=None, dtype=None):
    """A sparse matrix from diagonals, as scipy.sparse.diags_array, whose diagonals may be
    traced: a DiagonalMatrix (any `format` is accepted and ignored).

    Args:
      diagonals: one diagonal, or a sequence of them (arrays or scalars, traced or not).
      offsets: the diagonals' offsets (concrete): 0 main, k > 0 above, k < 0 below.
      shape: (m, n); default square, from the first diagonal.
      dtype: the dtype of the stored diagonals.

    Returns:
      A DiagonalMatrix, differentiable in its diagonals through A @ x, A.T, toarray and solves.

    Example:
      >>> import numpy as np, frechet
      >>> from frechet.scipy.sparse import diags
      >>> g = frechet.grad(lambda d: np.sum(diags([d, -np.ones(3)], [0, 1]) @ np.ones(4)))(
      ...     np.ones(4))
    """
    diagonals, offsets, shape = _as_diagonals(diagonals, offsets, shape)
    if dtype is not None:
        diagonals = [asarray(d).astype(dtype) for d in diagonals]
    return DiagonalMatrix(diagonals, offsets, shape)


def diags(diagonals, offsets=0, shape=None, format=None, dtype=None):
    """scipy.sparse.diags with traced diagonals allowed: see diags_array."""
    return diags_array(diagonals, offsets=offsets, shape=shape, format=format, dtype=dtype)


def spdiags(data, diags, m=None, n=None, format=None):
    """scipy.sparse.spdiags with traced data: row k of data holds diagonal diags[k], aligned
    by column (A[j - k, j] = data[k, j])."""
    data = asarray(data)
    if m is None and n is None:
        m = n = shape_of(data)[1]
    elif n is None:
        m, n = m
    offsets = [int(k) for k in np.atleast_1d(diags)]
    if len(shape_of(data)) == 1:
        data = traced_numpy().reshape(data, (1, -1))
    if shape_of(data)[0] != len(offsets):
        raise ValueError("number of diagonals does not match the number of offsets")
    fnp = traced_numpy()
    width = shape_of(data)[1]
    cols = []
    for r, k in enumerate(offsets):
        ln = _diag_len((m, n), k)
        lo = max(0, k)
        row = fnp.pad(data[r], (0, max(0, lo + ln - width)))
        cols.append(row[lo:lo + ln])
    return DiagonalMatrix(cols, offsets, (m, n))


def eye(m, n=None, k=0, dtype=float, format=None):
    """The identity (ones on diagonal k) as a DiagonalMatrix, to combine with traced ones."""
    shape = (m, m if n is None else n)
    return DiagonalMatrix([np.ones(_diag_len(shape, k), dtype)], [k], shape)


def eye_array(m, n=None, *, k=0, dtype=float, format=None):
    return eye(m, n, k, dtype, format)


def identity(n, dtype="d", format=None):
    return eye(n, dtype=dtype)


class BandedDirect:
    """A direct solver for frechet.linalg.solve on a banded matrix given by its action: it
    recovers the band (half-bandwidth w) from 2w + 1 products with probing vectors, then calls
    scipy.sparse.linalg.spsolve. The transposed solve (reverse mode) has the same bandwidth."""

    columns = False

    def __init__(self, bandwidth: int):
        self.bandwidth = int(bandwidth)

    def __call__(self, op, b, matrix):
        import scipy.sparse as sp
        import scipy.sparse.linalg as spla
        n, w = op.shape[0], 2 * self.bandwidth + 1
        rows, cols, vals = [], [], []
        i = np.arange(n)
        for c in range(w):
            col = op.matvec((i % w == c).astype(op.dtype))
            j = i - self.bandwidth + (c - (i - self.bandwidth)) % w   # the probed column
            ok = (j >= 0) & (j < n)
            rows.append(i[ok])
            cols.append(j[ok])
            vals.append(np.asarray(col)[ok])
        a = sp.csc_array((np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))),
                         shape=(n, n))
        return spla.spsolve(a, b)

    def __repr__(self):
        return f"BandedDirect(bandwidth={self.bandwidth})"
