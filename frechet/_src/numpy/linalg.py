"""frechet.numpy.linalg: the linear algebra NumPy offers, differentiable (so far: inv, solve,
slogdet, det, eigh, eigvalsh, svd, svdvals, norm; see frechet/_src/prims/linalg.py for the derivative formulas)."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from frechet._src.core.backend import dtype_of
from frechet._src.core.trace import concrete
from frechet._src.numpy.base import asarray, float_dtype, result_dtype, shape_of
from frechet._src.numpy.manipulation import broadcast_to, reshape
from frechet._src.numpy.reductions import _sqrt_zero_subgradient
from frechet._src.prims import linalg as L
from frechet._src.prims.rules import traced_numpy
from frechet._src.prims.shape import convert


def _inexact(a):
    a = asarray(a)
    dt = float_dtype(a)
    return convert(a, dt) if a.dtype != dt else a


def common_inexact(*xs):
    """The arrays in the floating-point dtype they compute in together (NumPy's promotion;
    integers and booleans in float64)."""
    xs = [asarray(x) for x in xs]
    dt = np.dtype(result_dtype(*xs, 1.0))
    return [convert(x, dt) if x.dtype != dt else x for x in xs]


def inv(a):
    return L.inv_p.bind(_inexact(a))


def solve(a, b):
    """np.linalg.solve: b is a vector only when it is one-dimensional (NumPy 2)."""
    a, b = common_inexact(a, b)
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
    """np.linalg.svd. Singular values in any case; singular vectors reduced
    (full_matrices=False, or square matrices), their phases a gauge: only losses independent
    of each (u_i, v_i) pair's common phase or sign have well-defined derivatives."""
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
    -2, inf, -inf, composed of differentiable operations (2 and 'nuc' through svdvals).

    Example:
      >>> import frechet, numpy as np
      >>> frechet.grad(np.linalg.norm)(np.array([3.0, 4.0]))
      array([0.6, 0.8])
    """
    # Note: at 0 (a kink) the 2-norm, the Frobenius norm and the p-norms (p >= 1) have the
    # zero subgradient as derivative, as abs has at 0 (JAX gives NaN there).
    fnp = traced_numpy()

    x = _inexact(x)
    nd = len(shape_of(x))
    if axis is None and ord is None:
        out = _root_of_sum(fnp.sum(_abs_squared(fnp, x)))
        return fnp.reshape(out, (1,) * nd) if keepdims else out
    if axis is None:
        axis = tuple(range(nd))
    axis = (axis,) if isinstance(axis, (int, np.integer)) else tuple(axis)
    axis = tuple(int(a) % nd for a in axis)
    if len(axis) == 1:
        out = _vector_norm(fnp, x, ord, axis[0])
    elif len(axis) == 2 and axis[0] != axis[1]:
        out = _matrix_norm(fnp, fnp.moveaxis(x, axis, (-2, -1)), ord)
    else:
        raise ValueError("Improper number of dimensions to norm.")
    return fnp.expand_dims(out, axis) if keepdims else out


def _abs_squared(fnp, x):
    """|x|^2 as x x* (not abs(x)^2: abs' derivative is sign(x), whose own is 0, so abs(x)^2
    would have second derivative 0 at x = 0 instead of 2)."""
    if np.dtype(x.dtype).kind == "c":
        return fnp.square(fnp.real(x)) + fnp.square(fnp.imag(x))
    return fnp.square(x)


def _root_of_sum(s, p=2):
    """s ** (1/p) of a sum of p-th powers of absolute values, with derivative 0 where s is 0:
    the chain rule there is 0 * inf (see reductions._sqrt_zero_subgradient)."""
    if p == 2:
        return _sqrt_zero_subgradient(s)
    fnp = traced_numpy()
    zero = s == 0
    return fnp.where(zero, np.zeros((), s.dtype), fnp.where(zero, 1.0, s) ** (1.0 / p))


def _vector_norm(fnp, x, ord, axis):
    if ord is None or ord == 2:
        return _root_of_sum(fnp.sum(_abs_squared(fnp, x), axis=axis))
    if isinstance(ord, str):
        raise ValueError(f"Invalid norm order '{ord}' for vectors")  # noqa: TRY004 (NumPy's)
    a = fnp.abs(x)
    if ord == np.inf:
        return fnp.max(a, axis=axis)
    if ord == -np.inf:
        return fnp.min(a, axis=axis)
    if ord == 0:
        return fnp.sum((a != 0).astype(a.dtype), axis=axis)
    if ord == 1:
        return fnp.sum(a, axis=axis)
    if ord > 1:
        return _root_of_sum(fnp.sum(a ** ord, axis=axis), ord)
    return fnp.sum(a ** ord, axis=axis) ** (1.0 / ord)


def _matrix_norm(fnp, m, ord):
    if ord is None or ord == "fro":
        return _root_of_sum(fnp.sum(_abs_squared(fnp, m), axis=(-2, -1)))
    if ord == "nuc":
        return fnp.sum(L.svdvals_p.bind(m), axis=-1)
    if ord in (2, -2):
        s = L.svdvals_p.bind(m)
        return fnp.max(s, axis=-1) if ord == 2 else fnp.min(s, axis=-1)
    if ord in (1, -1, np.inf, -np.inf):
        sums = fnp.sum(fnp.abs(m), axis=-2 if ord in (1, -1) else -1)
        return fnp.max(sums, axis=-1) if ord in (1, np.inf) else fnp.min(sums, axis=-1)
    raise ValueError("Invalid norm order for matrices.")


def cholesky(a, /, *, upper=False):
    """np.linalg.cholesky; the derivative takes the input to be Hermitian (its Hermitian part
    counts), as JAX and PyTorch do."""
    low = L.cholesky_p.bind(_inexact(a))
    if upper:
        fnp = traced_numpy()
        return fnp.conjugate(fnp.swapaxes(low, -1, -2))
    return low


class QRResult(NamedTuple):
    Q: object
    R: object


def qr(a, mode="reduced"):
    """np.linalg.qr, modes 'reduced' and 'r', and 'complete' for m <= n (where it is the same).
    A tall matrix's complete Q has m - n extra columns that are any orthonormal basis of the
    complement: their derivative is not unique (JAX and PyTorch raise too)."""
    a = _inexact(a)
    m, n = shape_of(a)[-2:]
    if mode == "complete" and m > n:
        raise NotImplementedError("np.linalg.qr(mode='complete') of a tall matrix on traced "
                                  "values: the extra columns' derivative is not unique")
    if mode not in ("reduced", "complete", "r"):
        raise NotImplementedError(f"np.linalg.qr(mode={mode!r}) on traced values")
    q, r = L.qr_p.bind(a)
    return r if mode == "r" else QRResult(q, r)


class EigResult(NamedTuple):
    eigenvalues: object
    eigenvectors: object


def eig(a):
    """np.linalg.eig. Unlike NumPy, the results are always complex (NumPy returns real arrays
    when every eigenvalue happens to be real: a dtype that depends on the values, as in JAX).
    Eigenvectors are unit columns whose phase is LAPACK's: only losses independent of each
    column's phase (|v|, projectors) have well-defined derivatives."""
    w, v = L.eig_p.bind(_inexact(a))
    return EigResult(w, v)


def eigvals(a):
    """np.linalg.eigvals (always complex; see eig)."""
    return eig(a).eigenvalues


# compositions of differentiable operations -------------------------------------------------


def matrix_transpose(x, /):
    return traced_numpy().swapaxes(x, -1, -2)


def diagonal(x, /, *, offset=0):
    return traced_numpy().diagonal(x, offset=offset, axis1=-2, axis2=-1)


def trace(x, /, *, offset=0, dtype=None):
    return traced_numpy().trace(x, offset=offset, axis1=-2, axis2=-1, dtype=dtype)


def outer(x1, x2, /):
    fnp = traced_numpy()
    if len(shape_of(x1)) != 1 or len(shape_of(x2)) != 1:
        raise ValueError("Input arrays must be one-dimensional")
    return fnp.outer(x1, x2)


def cross(x1, x2, /, *, axis=-1):
    fnp = traced_numpy()
    if shape_of(x1)[axis] != 3 or shape_of(x2)[axis] != 3:
        raise ValueError("Both input arrays must be (arrays of) 3-dimensional vectors")
    return fnp.cross(x1, x2, axis=axis)


def matmul(x1, x2, /):
    return traced_numpy().matmul(x1, x2)


def tensordot(x1, x2, /, *, axes=2):
    return traced_numpy().tensordot(x1, x2, axes=axes)


def vecdot(x1, x2, /, *, axis=-1):
    fnp = traced_numpy()
    return fnp.sum(fnp.conjugate(x1) * x2, axis=axis)


def matrix_norm(x, /, *, keepdims=False, ord="fro"):
    return norm(x, ord=ord, axis=(-2, -1), keepdims=keepdims)


def vector_norm(x, /, *, axis=None, keepdims=False, ord=2):
    fnp = traced_numpy()
    x = _inexact(x)
    if axis is None:
        shape = shape_of(x)
        out = norm(fnp.reshape(x, (-1,)), ord=ord)
        return fnp.reshape(out, (1,) * len(shape)) if keepdims else out
    if isinstance(axis, tuple) and len(axis) > 1:
        nd = len(shape_of(x))
        axes = tuple(a % nd for a in axis)
        rest = [i for i in range(nd) if i not in axes]
        moved = fnp.transpose(x, rest + list(axes))
        flat = fnp.reshape(moved, tuple(shape_of(x)[i] for i in rest) + (-1,))
        out = norm(flat, ord=ord, axis=-1)
        return fnp.expand_dims(out, axes) if keepdims else out
    return norm(x, ord=ord, axis=axis, keepdims=keepdims)


def multi_dot(arrays, *, out=None):
    """np.linalg.multi_dot: the product, in the order of fewest multiplications."""
    fnp = traced_numpy()
    arrays = [asarray(a) for a in arrays]
    if len(arrays) < 2:
        raise ValueError("Expecting at least two arrays.")
    first_vec, last_vec = len(shape_of(arrays[0])) == 1, len(shape_of(arrays[-1])) == 1
    if first_vec:
        arrays[0] = fnp.reshape(arrays[0], (1, -1))
    if last_vec:
        arrays[-1] = fnp.reshape(arrays[-1], (-1, 1))
    dims = [shape_of(a)[0] for a in arrays] + [shape_of(arrays[-1])[1]]
    n = len(arrays)
    cost = [[0] * n for _ in range(n)]
    split = [[0] * n for _ in range(n)]
    for length in range(1, n):
        for i in range(n - length):
            j = i + length
            cost[i][j] = None
            for k in range(i, j):
                c = cost[i][k] + cost[k + 1][j] + dims[i] * dims[k + 1] * dims[j + 1]
                if cost[i][j] is None or c < cost[i][j]:
                    cost[i][j], split[i][j] = c, k

    def product(i, j):
        if i == j:
            return arrays[i]
        k = split[i][j]
        return fnp.matmul(product(i, k), product(k + 1, j))
    result = product(0, n - 1)
    if first_vec and last_vec:
        return fnp.reshape(result, ())
    if first_vec or last_vec:
        return fnp.reshape(result, (-1,))
    return result


def matrix_power(a, n):
    """np.linalg.matrix_power: repeated squaring (n < 0 through inv)."""
    fnp = traced_numpy()
    a = asarray(a)
    if not isinstance(n, (int, np.integer)):
        raise TypeError("exponent must be an integer")
    sa = shape_of(a)
    if len(sa) < 2 or sa[-1] != sa[-2]:
        raise np.linalg.LinAlgError(
            f"{len(sa)}-dimensional array given. Array must be at least two-dimensional"
            if len(sa) < 2 else "Last 2 dimensions of the array must be square")
    if n == 0:
        # the identity selected over a: an array of a's library, shape and dtype (on NumPy
        # arrays the same values as eye broadcast), with a zero derivative
        return fnp.where(True, fnp.eye(sa[-1], dtype=dtype_of(a)), a)
    if n < 0:
        a, n = inv(a), -n
    result, base = None, a
    while n:
        if n & 1:
            result = base if result is None else fnp.matmul(result, base)
        n >>= 1
        if n:
            base = fnp.matmul(base, base)
    return result


def _hashable(x):
    """A param value from a concrete number or array (nested tuples of Python floats)."""
    x = np.asarray(x, dtype=float)
    return float(x) if x.ndim == 0 else tuple(_hashable(r) for r in x)


def pinv(a, rcond=None, hermitian=False, *, rtol=np._NoValue):
    """np.linalg.pinv, with the cutoff NumPy uses (rcond, else rtol, relative to the largest
    singular value). Its derivative is the Golub-Pereyra formula (see
    frechet/_src/prims/linalg.py), which needs no gaps between singular values; it is the
    derivative wherever the rank is locally constant. With hermitian=True the value is NumPy's
    (from one triangle) and the derivative takes the input to be Hermitian (its Hermitian part
    counts), as for eigh.

    Example:
      >>> import frechet, numpy as np
      >>> frechet.grad(lambda x: np.sum(np.linalg.pinv(np.eye(3, 2) + x)))(np.zeros((3, 2)))
      array([[-1., -1.],
             [-1., -1.],
             [ 1.,  1.]])
    """
    a = _inexact(a)
    if rcond is None:
        m, n = shape_of(a)[-2:]
        rcond = (1e-15 if rtol is np._NoValue else
                 max(m, n) * np.finfo(a.dtype).eps if rtol is None else rtol)
    elif rtol is not np._NoValue:
        raise ValueError("`rtol` and `rcond` can't be both set.")
    rcond = _hashable(concrete(rcond, "np.linalg.pinv's rcond"))
    return L.pinv_p.bind(a, rcond=rcond, hermitian=bool(hermitian))


def lstsq(a, b, rcond=None):
    """np.linalg.lstsq: x = pinv(a) b (its derivative through pinv's, gap-free), with NumPy's
    residuals, rank and singular values."""
    fnp = traced_numpy()
    a, b = common_inexact(a, b)
    m, n = shape_of(a)
    if rcond is None:
        rcond = max(m, n) * np.finfo(a.dtype).eps
    x = fnp.matmul(pinv(a, rcond), b)
    s = svdvals(a)
    s_c = concrete(s, "np.linalg.lstsq's rank (and the shape of its residuals)")
    rank = int(np.sum(s_c > rcond * np.max(s_c)))
    if rank == n and m > n:
        r = fnp.matmul(a, x) - b
        residuals = fnp.sum(fnp.square(fnp.abs(r)), axis=0)
        if len(shape_of(b)) == 1:
            residuals = fnp.reshape(residuals, (1,))
    else:
        residuals = np.empty((0,), dtype=np.dtype(a.dtype).type(0).real.dtype)
    return x, residuals, rank, s


def matrix_rank(A, tol=None, hermitian=False, *, rtol=None):
    """np.linalg.matrix_rank: an integer (zero derivative), from the singular values."""
    fnp = traced_numpy()
    A = _inexact(A)
    if len(shape_of(A)) < 2:
        return fnp.astype(fnp.any(A != 0), np.int64) * 1
    s = svdvals(A)
    if tol is None:
        m, n = shape_of(A)[-2:]
        r = rtol if rtol is not None else max(m, n) * np.finfo(A.dtype).eps
        tol = fnp.max(s, axis=-1, keepdims=True) * r
    else:
        tol = fnp.expand_dims(asarray(tol), -1)
    return fnp.count_nonzero(s > tol, axis=-1)


def cond(x, p=None):
    """np.linalg.cond: ratio of extreme singular values (p None, 2, -2), else
    norm(x, p) * norm(inv(x), p)."""
    fnp = traced_numpy()
    x = _inexact(x)
    if p is None or p in (2, -2):
        s = svdvals(x)
        big, small = fnp.max(s, axis=-1), fnp.min(s, axis=-1)
        return big / small if p != -2 else small / big
    return norm(x, p, axis=(-2, -1)) * norm(inv(x), p, axis=(-2, -1))


def tensorsolve(a, b, axes=None):
    fnp = traced_numpy()
    a, b = asarray(a), asarray(b)
    nd = len(shape_of(a))
    if axes is not None:
        allaxes = list(range(nd))
        for k in axes:
            allaxes.remove(k)
            allaxes.insert(nd, k)
        a = fnp.transpose(a, allaxes)
    sb = shape_of(b)
    oldshape = shape_of(a)[len(sb):]
    prod = int(np.prod(oldshape))
    a = fnp.reshape(a, (prod, prod))
    return fnp.reshape(solve(a, fnp.reshape(b, (-1,))), oldshape)


def tensorinv(a, ind=2):
    fnp = traced_numpy()
    a = asarray(a)
    if ind <= 0:
        raise ValueError("Invalid ind argument.")
    sa = shape_of(a)
    invshape = sa[ind:] + sa[:ind]
    prod = int(np.prod(sa[ind:]))
    return fnp.reshape(inv(fnp.reshape(a, (int(np.prod(sa[:ind])), prod))), invshape)


FUNCTIONS = {getattr(np.linalg, name): globals()[name] for name in (
    "matrix_transpose", "diagonal", "trace", "outer", "cross", "matmul", "tensordot", "vecdot",
    "matrix_norm", "vector_norm", "multi_dot", "matrix_power", "pinv", "lstsq", "matrix_rank",
    "cond", "tensorsolve", "tensorinv")}
FUNCTIONS |= {np.linalg.cholesky: cholesky, np.linalg.qr: qr, np.linalg.eig: eig,
              np.linalg.eigvals: eigvals, np.linalg.svd: svd, np.linalg.svdvals: svdvals, np.linalg.norm: norm,
             np.linalg.eigh: eigh, np.linalg.eigvalsh: eigvalsh, np.linalg.inv: inv, np.linalg.solve: solve, np.linalg.slogdet: slogdet,
             np.linalg.det: det}
