"""Derivative checks: finite differences, VJP/JVP inner products, dot-product tests.

Inner products use the bilinear pairing <a, b> = Re(sum(a * b)), under which the VJP is the
transpose of the (real-linear) JVP, also for complex numbers.
"""

from __future__ import annotations

import numpy as np

from frechet._src import tree
from frechet._src.api import api


def _rand_like(x, rng):
    x = np.asarray(x)
    r = rng.standard_normal(x.shape)
    if x.dtype.kind == "c":
        r = r + 1j * rng.standard_normal(x.shape)
    return r.astype(x.dtype)


def inner(a, b) -> float:
    la, lb = tree.flatten(a)[0], tree.flatten(b)[0]
    return float(sum(np.real(np.sum(np.asarray(x) * np.asarray(y))) for x, y in zip(la, lb)))


def _axpy(a, x, y):
    return tree.tree_map(lambda xi, yi: yi + a * xi, x, y)


def numerical_jvp(f, args, tangents, eps):
    fp = f(*_axpy(eps, tangents, args))
    fm = f(*_axpy(-eps, tangents, args))
    return tree.tree_map(lambda p, m: (np.asarray(p) - np.asarray(m)) / (2 * eps), fp, fm)


def _close(a, b, rtol, atol, what):
    la, lb = tree.flatten(a)[0], tree.flatten(b)[0]
    for x, y in zip(la, lb):
        np.testing.assert_allclose(np.asarray(x), np.asarray(y), rtol=rtol, atol=atol,
                                   err_msg=what)


def check_jvp(f, args, rng, eps=1e-6, rtol=1e-5, atol=1e-6):
    """jvp against central differences in a random direction."""
    t = tree.tree_map(lambda x: _rand_like(x, rng), args)
    _, ans = api.jvp(f, args, t)
    _close(ans, numerical_jvp(f, args, t, eps), rtol, atol, "jvp vs finite differences")


def check_vjp(f, args, rng, rtol=1e-6, atol=1e-8):
    """<u, J v> == <J^T u, v> for random u, v."""
    out, vjp_fn = api.vjp(f, *args)
    u = tree.tree_map(lambda y: _rand_like(y, rng), out)
    v = tree.tree_map(lambda x: _rand_like(x, rng), args)
    _, jv = api.jvp(f, args, v)
    lhs = inner(u, jv)
    rhs = inner(vjp_fn(u), v)
    np.testing.assert_allclose(lhs, rhs, rtol=rtol, atol=atol, err_msg="vjp vs jvp")


def check_grads(f, args, order=2, modes=("fwd", "rev"), rng=None, eps=1e-6, rtol=1e-5,
                atol=1e-6):
    """Check derivatives of f at args up to `order` (recursively, as autograd's check_grads)."""
    rng = np.random.default_rng(0) if rng is None else rng
    args = tuple(args)
    if "fwd" in modes:
        check_jvp(f, args, rng, eps, rtol, atol)
    if "rev" in modes:
        check_vjp(f, args, rng, rtol=max(rtol, 1e-6), atol=atol)
    if order > 1:
        v = tree.tree_map(lambda x: _rand_like(x, rng), args)
        if "fwd" in modes:
            check_grads(lambda *a: api.jvp(f, a, v)[1], args, order - 1, modes, rng, eps,
                        rtol * 10, atol * 10)
        if "rev" in modes:
            out = f(*args)
            u = tree.tree_map(lambda y: _rand_like(y, rng), out)
            check_grads(lambda *a: api.vjp(f, *a)[1](u), args, order - 1, modes, rng, eps,
                        rtol * 10, atol * 10)


def check_transpose(L, rng=None, rtol=1e-10, atol=1e-10):
    """The dot-product test <L v, w> == <v, L^T w> for a LinearMap (both L.T and the direct
    backward pass)."""
    rng = np.random.default_rng(0) if rng is None else rng
    v = tree.tree_map(lambda s: _rand_like(np.zeros(s.shape, s.dtype), rng), L.in_specs,
                      )
    w = tree.tree_map(lambda s: _rand_like(np.zeros(s.shape, s.dtype), rng), L.out_specs)
    lhs = inner(L(v), w)
    np.testing.assert_allclose(lhs, inner(v, L.apply_transpose(w)), rtol=rtol, atol=atol)
    np.testing.assert_allclose(lhs, inner(v, L.T(w)), rtol=rtol, atol=atol)
