"""frechet.numpy.linalg: the linear algebra NumPy offers, differentiable (so far: inv, solve,
slogdet, det, eigh, eigvalsh; see frechet/_src/prims/linalg.py for the derivative formulas)."""

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


FUNCTIONS = {np.linalg.eigh: eigh, np.linalg.eigvalsh: eigvalsh, np.linalg.inv: inv, np.linalg.solve: solve, np.linalg.slogdet: slogdet,
             np.linalg.det: det}
