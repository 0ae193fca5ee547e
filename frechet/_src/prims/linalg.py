"""Linear algebra primitives: inv, solve, slogdet, det, on stacks of square matrices.

Derivatives are the coordinate-free (Frechet) formulas, not differentiation through LAPACK:

  inv:      dY = -Y dA Y                      (Y = A^-1)
  solve:    dX = A^-1 (dB - dA X)             (X = A^-1 B; linear in B, transpose A^-T)
  slogdet:  d log|det A| = Re tr(A^-1 dA),    d sign = i Im tr(A^-1 dA) sign
  det:      d det A = det A tr(A^-1 dA)

Each tangent is written with frechet's own contractions, so its linear program transposes
rule by rule. At a singular matrix the derivative does not exist: NumPy's LinAlgError is
raised when the inverse is formed.
"""

from __future__ import annotations

import numpy as np

from frechet._src.core.primitive import primitive
from frechet._src.core.spec import ArraySpec, is_complex, real_dtype
from frechet._src.transforms.ad import add_tangents, is_undefined


def _square(a, what):
    if len(a.shape) < 2 or a.shape[-1] != a.shape[-2]:
        raise np.linalg.LinAlgError(
            f"{what}: last 2 dimensions of the array must be square, got shape {a.shape}")
    return a


def _fnp():
    """frechet.numpy, whose traced operations the tangents are written in (imported late: the
    front end is built on these primitives)."""
    import frechet.numpy as fnp
    return fnp


def _trace_of_product(y, t):
    """tr(Y dA) for each matrix of the stacks: sum(Y^T * dA) over the last two axes."""
    fnp = _fnp()
    return fnp.sum(fnp.swapaxes(y, -1, -2) * t, axis=(-2, -1))


# inv ------------------------------------------------------------------------------------------

inv_p = primitive("inv", np.linalg.inv, lambda a: _square(a, "inv"))


def _inv_jvp(primals, tangents):
    fnp = _fnp()
    (a,), (t,) = primals, tangents
    y = inv_p.bind(a)
    return y, -fnp.matmul(fnp.matmul(y, t), y)


inv_p.jvp = _inv_jvp
inv_p.batch = lambda args, batched: inv_p.bind(args[0])


# solve(a, b): b a stack of matrices (..., M, K) with a's stack shape (the front end broadcasts)

def _solve_abstract(a, b):
    _square(a, "solve")
    if len(b.shape) != len(a.shape) or b.shape[:-1] != a.shape[:-1] or b.dtype != a.dtype:
        raise ValueError(f"solve: {b} does not fit the matrices {a}")
    return b


solve_p = primitive("solve", np.linalg.solve, _solve_abstract)


def _solve_jvp(primals, tangents):
    fnp = _fnp()
    (a, b), (ta, tb) = primals, tangents
    x = solve_p.bind(a, b)
    rhs = tb
    if ta is not None:
        rhs = add_tangents(rhs, -fnp.matmul(ta, x))
    return x, None if rhs is None else solve_p.bind(a, rhs)


def _solve_transpose(ct, a, b):
    fnp = _fnp()
    if is_undefined(a):
        raise TypeError("solve is linear in its right-hand side only")
    return None, solve_p.bind(fnp.swapaxes(a, -1, -2), ct)


def _solve_batch(args, batched):
    from frechet._src.transforms.batching import broadcast_batched
    return solve_p.bind(*broadcast_batched(args, batched))


solve_p.jvp = _solve_jvp
solve_p.transpose = _solve_transpose
solve_p.linear = True
solve_p.batch = _solve_batch


# slogdet and det ------------------------------------------------------------------------------

def _slogdet_abstract(a):
    _square(a, "slogdet")
    return [ArraySpec(a.shape[:-2], a.dtype), ArraySpec(a.shape[:-2], real_dtype(a.dtype))]


slogdet_p = primitive("slogdet", lambda a: list(np.linalg.slogdet(a)), _slogdet_abstract,
                      multiple_results=True)


def _slogdet_jvp(primals, tangents):
    fnp = _fnp()
    (a,), (t,) = primals, tangents
    sign, logabsdet = slogdet_p.bind(a)
    tr = _trace_of_product(inv_p.bind(a), t)
    if not is_complex(a.dtype):
        return [sign, logabsdet], [None, tr]
    return [sign, logabsdet], [sign * 1j * fnp.imag(tr), fnp.real(tr)]


slogdet_p.jvp = _slogdet_jvp
slogdet_p.batch = lambda args, batched: slogdet_p.bind(args[0])

det_p = primitive("det", np.linalg.det,
                  lambda a: ArraySpec(_square(a, "det").shape[:-2], a.dtype))


def _det_jvp(primals, tangents):
    (a,), (t,) = primals, tangents
    d = det_p.bind(a)
    return d, d * _trace_of_product(inv_p.bind(a), t)


det_p.jvp = _det_jvp
det_p.batch = lambda args, batched: det_p.bind(args[0])
