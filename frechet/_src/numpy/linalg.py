"""frechet.numpy.linalg: the linear algebra NumPy offers, differentiable (so far: inv, solve,
slogdet, det, eigh, eigvalsh, svd, svdvals, norm; see frechet/_src/prims/linalg.py for the derivative formulas)."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from frechet._src.numpy.base import asarray, float_dtype, result_dtype, shape_of
from frechet._src.numpy.manipulation import broadcast_to, reshape
from frechet._src.prims import linalg as L
from frechet._src.prims.shape import convert


def _inexact(a):
    a = asarray(a)
    dt = float_dtype(a)
    return convert(a, dt) if a.dtype != dt else a


def inv(a):
    return L.inv_p.bind(_inexact(a))


def solve(a, b):
    """np.linalg.solve: b is a vector only when it is one-dimensional (NumPy 2)."""
    a, b = asarray(a), asarray(b)
    dt = np.dtype(result_dtype(a, b, 1.0))
    a = convert(a, dt) if a.dtype != dt else a
    b = convert(b, dt) if b.dtype != dt else b
    sa, sb = shape_of(a), shape_of(b)
    if len(sa) < 2:
        raise np.linalg.LinAlgError(
            f"{len(sa)}-dimensional array given. Array must be at least two-dimensional")
    vector = len(sb) == 1
    if vector:
        b = reshape(b, (sb[0], 1))
    sb = shape_of(b)
    batch = np.broadcast_shapes(sa[:-2], sb[:-2])
    a = broadcast_to(a, batch + sa[-2:])
    b = broadcast_to(b, batch + sb[-2:])
    x = L.solve_p.bind(a, b)
    return reshape(x, shape_of(x)[:-1]) if vector else x


class SlogdetResult(NamedTuple):
    sign: object
    logabsdet: object


def slogdet(a):
    sign, logabsdet = L.slogdet_p.bind(_inexact(a))
    return SlogdetResult(sign, logabsdet)


def det(a):
    return L.det_p.bind(_inexact(a))


class EighResult(NamedTuple):
    eigenvalues: object
    eigenvectors: object


def eigh(a, UPLO="L"):
    """np.linalg.eigh. Values from the UPLO triangle as NumPy computes them; the derivative
    takes the input to be Hermitian (the Hermitian part of a tangent counts), as JAX and
    PyTorch do. Repeated eigenvalues: see frechet/_src/prims/linalg.py."""
    if UPLO not in ("L", "U"):
        raise ValueError("UPLO argument must be 'L' or 'U'")
    w, v = L.eigh_p.bind(_inexact(a), UPLO=UPLO)
    return EighResult(w, v)


def eigvalsh(a, UPLO="L"):
    if UPLO not in ("L", "U"):
        raise ValueError("UPLO argument must be 'L' or 'U'")
    return L.eigvalsh_p.bind(_inexact(a), UPLO=UPLO)


class SVDResult(NamedTuple):
    U: object
    S: object
    Vh: object


def svd(a, full_matrices=True, compute_uv=True, hermitian=False):
    """np.linalg.svd. Singular values in any case; singular vectors of real matrices, reduced
    (full_matrices=False, or square matrices). See frechet/_src/prims/linalg.py."""
    a = _inexact(a)
    if not compute_uv:
        return L.svdvals_p.bind(a)
    m, n = shape_of(a)[-2:]
    if full_matrices and m != n:
        raise NotImplementedError(
            "np.linalg.svd(full_matrices=True) of a non-square matrix on traced values: the "
            "derivative of the extra singular vectors is not unique; pass full_matrices=False")
    if hermitian:
        raise NotImplementedError("np.linalg.svd(hermitian=True) on traced values; use eigh")
    u, s, vh = L.svd_p.bind(a)
    return SVDResult(u, s, vh)


def svdvals(x, /):
    return L.svdvals_p.bind(_inexact(x))


def norm(x, ord=None, axis=None, keepdims=False):
    """np.linalg.norm: vector norms of every order and the matrix norms 'fro', 'nuc', 1, -1, 2,
    -2, inf, -inf, composed of differentiable operations (2 and 'nuc' through svdvals)."""
    import frechet.numpy as fnp

    x = _inexact(x)
    nd = len(shape_of(x))
    if axis is None and ord is None:
        out = fnp.sqrt(fnp.sum(fnp.square(fnp.abs(x))))
        return fnp.reshape(out, (1,) * nd) if keepdims else out
    if axis is None:
        axis = tuple(range(nd))
    axis = (axis,) if isinstance(axis, (int, np.integer)) else tuple(axis)
    axis = tuple(int(a) % nd for a in axis)
    if len(axis) == 1:
        out = _vector_norm(fnp, fnp.abs(x), ord, axis[0])
    elif len(axis) == 2 and axis[0] != axis[1]:
        out = _matrix_norm(fnp, fnp.moveaxis(x, axis, (-2, -1)), ord)
    else:
        raise ValueError("Improper number of dimensions to norm.")
    return fnp.expand_dims(out, axis) if keepdims else out


def _vector_norm(fnp, a, ord, axis):
    if ord is None or ord == 2:
        return fnp.sqrt(fnp.sum(fnp.square(a), axis=axis))
    if isinstance(ord, str):
        raise ValueError(f"Invalid norm order '{ord}' for vectors")  # noqa: TRY004 (NumPy's)
    if ord == np.inf:
        return fnp.max(a, axis=axis)
    if ord == -np.inf:
        return fnp.min(a, axis=axis)
    if ord == 0:
        return fnp.sum((a != 0).astype(a.dtype), axis=axis)
    if ord == 1:
        return fnp.sum(a, axis=axis)
    return fnp.sum(a ** ord, axis=axis) ** (1.0 / ord)


def _matrix_norm(fnp, m, ord):
    if ord is None or ord == "fro":
        return fnp.sqrt(fnp.sum(fnp.square(fnp.abs(m)), axis=(-2, -1)))
    if ord == "nuc":
        return fnp.sum(L.svdvals_p.bind(m), axis=-1)
    if ord in (2, -2):
        s = L.svdvals_p.bind(m)
        return fnp.max(s, axis=-1) if ord == 2 else fnp.min(s, axis=-1)
    if ord in (1, -1, np.inf, -np.inf):
        sums = fnp.sum(fnp.abs(m), axis=-2 if ord in (1, -1) else -1)
        return fnp.max(sums, axis=-1) if ord in (1, np.inf) else fnp.min(sums, axis=-1)
    raise ValueError("Invalid norm order for matrices.")


FUNCTIONS = {np.linalg.svd: svd, np.linalg.svdvals: svdvals, np.linalg.norm: norm,
             np.linalg.eigh: eigh, np.linalg.eigvalsh: eigvalsh, np.linalg.inv: inv, np.linalg.solve: solve, np.linalg.slogdet: slogdet,
             np.linalg.det: det}
