"""frechet.optimize.minimize: scipy.optimize.minimize over pytrees, with exact derivatives.

The parameters (any pytree of arrays) are raveled into one float64 vector for SciPy;
`jac` comes from value_and_grad (one linearization per evaluation, value and gradient
together) and, for methods that use it, `hessp` from a Hessian-vector product (forward over
reverse). The result's `x` is returned in the pytree's structure.

Parameters of another library (PyTorch tensors) are copied to the host explicitly for SciPy,
which computes on NumPy arrays; `fun` and its derivatives run on that library (each point SciPy
asks for is copied to the first such parameter's device, the value and gradient copied back),
and `x` and `jac` come back as its arrays (float64, as the vector SciPy works on).
"""

from __future__ import annotations

import numpy as np
import scipy.optimize as so

from frechet._src import tree
from frechet._src.api.api import hvp, value_and_grad
from frechet._src.core import backend

_HESSP = {"newton-cg", "trust-ncg", "trust-krylov", "trust-constr"}


def _raveler(x0):
    leaves, treedef = tree.flatten(x0)
    arrays = [np.asarray(backend.to_host(x), dtype=np.float64) for x in leaves]
    shapes = [a.shape for a in arrays]
    sizes = [a.size for a in arrays]

    def unravel(v):
        out, i = [], 0
        for shape, n in zip(shapes, sizes):
            out.append(v[i:i + n].reshape(shape))
            i += n
        return tree.unflatten(treedef, out)

    v0 = np.concatenate([a.ravel() for a in arrays]) if arrays else np.zeros(0)
    return v0, unravel


def minimize(fun, x0, args=(), method="BFGS", hessp=None, **kwargs):
    """Minimise fun(x, *args) over the pytree x, as scipy.optimize.minimize (`jac` and, for
    Newton-type methods, `hessp` supplied exactly; `jac`/`hess` must not be given).

    Returns scipy's OptimizeResult with `x` in x0's structure (and `jac` too)."""
    if "jac" in kwargs or "hess" in kwargs:
        raise TypeError("frechet.optimize.minimize supplies jac (and hessp) itself")
    v0, unravel = _raveler(x0)
    like = next((x for x in tree.flatten(x0)[0] if backend.is_foreign(x)), None)
    lib, host = _copies(like)

    def f(v):
        return fun(unravel(v), *args)

    value_grad = value_and_grad(f)

    def fj(v):
        val, g = value_grad(lib(v))
        return float(val), np.asarray(host(g), dtype=np.float64)

    if method.lower() in _HESSP and hessp is None:
        def hessp(v, p):
            return np.asarray(host(hvp(f, (lib(v),), (lib(p),))[1]), dtype=np.float64)
    extra = {"hessp": hessp} if method.lower() in _HESSP else {}
    res = so.minimize(fj, v0, method=method, jac=True, **extra, **kwargs)
    res.x = unravel(lib(res.x))
    if getattr(res, "jac", None) is not None and np.ndim(res.jac) == 1:
        res.jac = unravel(lib(np.asarray(res.jac)))
    return res


def _copies(like):
    """(to the library, to the host): the explicit copies between SciPy's NumPy vectors and
    the arrays of `like`'s library (none: NumPy parameters)."""
    if like is None:
        return (lambda v: v), (lambda g: g)
    return (lambda v: backend.to_library(v, like)), backend.to_host
