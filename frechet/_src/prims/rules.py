"""Helpers that make the common rule one line.

`defjvp`/`defjvp_output` give a JVP from one derivative function per argument; `deflinear`
and `defbilinear` give the JVP and transpose of linear and bilinear primitives; `defzero`
marks a primitive whose outputs have zero derivative (comparisons, floor, argmax);
`defvectorized` gives the batching rule of an elementwise primitive.
"""

from __future__ import annotations

from frechet._src.core.registry import BUILTIN, front_end
from frechet._src.errors import NonDifferentiableError
from frechet._src.interpreters.ad import UndefinedPrimal, add_tangents, instantiate
from frechet._src.interpreters.batching import broadcast_batched


def traced_numpy():
    """frechet.numpy, for rules and front-end code written in NumPy's terms (the front end is
    built on the primitives, so it registers itself in the core registry at import)."""
    return front_end()


def _nondiff(prim, i):
    raise NonDifferentiableError(
        f"primitive '{prim.name}' is not differentiable in its argument {i}")


def defjvp(prim, *fns):
    """fns[i](t, *args, **params) is the tangent contribution of argument i (None: not
    differentiable in it)."""
    defjvp_output(prim, *[None if f is None else
                          (lambda t, ans, *args, _f=f, **params: _f(t, *args, **params))
                          for f in fns])


def defjvp_output(prim, *fns):
    """Like defjvp, but fns[i](t, ans, *args, **params) also sees the primal output."""
    if len(fns) == 1:        # unary: the hot path of eager code, kept short
        (f,) = fns

        def unary_rule(primals, tangents, **params):
            ans = prim.bind(*primals, **params)
            return ans, f(tangents[0], ans, *primals, **params)
        prim.jvp = unary_rule
        return

    def rule(primals, tangents, **params):
        ans = prim.bind(*primals, **params)
        out = None
        for i, (f, t) in enumerate(zip(fns, tangents)):
            if t is not None:
                if f is None:
                    _nondiff(prim, i)
                out = add_tangents(out, f(t, ans, *primals, **params))
        return ans, out
    prim.jvp = rule


def defjvp_scale(prim, d):
    """A unary primitive whose tangent is t * d(x, ans) (the derivative, elementwise). The JVP
    interpreter applies rules of this shape directly, without the generic rule call."""
    def scale(t, ans, x):
        return BUILTIN.multiply.bind(t, d(x, ans))
    defjvp_output(prim, scale)
    prim.jvp_scale = d


def deflinear(prim, transpose, nlinear: int | None = None):
    """The primitive is linear in its first `nlinear` arguments (all by default), jointly;
    any others are constants such as index arrays. Its JVP is itself."""
    def rule(primals, tangents, **params):
        if len(primals) == 1:          # the common case: one linear argument
            ans = prim.bind(primals[0], **params)
            t = tangents[0]
            return ans, (None if t is None else prim.bind(t, **params))
        n = len(primals) if nlinear is None else nlinear
        for i in range(n, len(primals)):
            if tangents[i] is not None:
                _nondiff(prim, i)
        ans = prim.bind(*primals, **params)
        if all(t is None for t in tangents[:n]):
            return ans, None
        ts = [instantiate(t, p) for t, p in zip(tangents[:n], primals[:n])]
        return ans, prim.bind(*ts, *primals[n:], **params)
    prim.jvp = rule
    prim.transpose = transpose
    prim.linear = True
    prim.taylor = _linear_taylor(prim, nlinear)


def _linear_taylor(prim, nlinear):
    """A linear primitive maps each Taylor coefficient by itself."""
    def rule(primals, series, **params):
        n = len(primals) if nlinear is None else nlinear
        if any(s is not None for s in series[n:]):
            _nondiff(prim, n)
        ans = prim.bind(*primals, **params)
        order = len(next(s for s in series if s is not None))
        zero = [traced_numpy().zeros_like(p) for p in primals[:n]]
        return ans, [prim.bind(*[z if s is None else s[k] for s, z in zip(series[:n], zero)],
                               *primals[n:], **params) for k in range(order)]
    return rule


def taylor_by_jvp(prim):
    """A primitive linear in its differentiable arguments (its JVP applies it to the
    tangents): each Taylor coefficient goes through the JVP's tangent map."""
    def rule(primals, series, **params):
        ans = prim.bind(*primals, **params)
        order = len(next(s for s in series if s is not None))
        return ans, [instantiate(prim.jvp(primals, [None if s is None else s[k]
                                                     for s in series], **params)[1], ans)
                     for k in range(order)]
    return rule


def cauchy(prim, a, sa, b, sb, order, **params):
    """Coefficients 1..order of prim(a(t), b(t)) for prim bilinear: sum_j f(a_j, b_{k-j})."""
    fa = [a] + (sa if sa is not None else [None] * order)
    fb = [b] + (sb if sb is not None else [None] * order)
    out = []
    for k in range(1, order + 1):
        acc = None
        for j in range(k + 1):
            if fa[j] is not None and fb[k - j] is not None:
                term = prim.bind(fa[j], fb[k - j], **params)
                acc = term if acc is None else acc + term
        out.append(acc if acc is not None else traced_numpy().zeros_like(
            prim.bind(a, b, **params)))
    return out


def defbilinear(prim, lhs_transpose, rhs_transpose):
    """A product-like primitive f(x, y), linear in each argument.

    lhs_transpose(ct, y, **params) is the cotangent of x; rhs_transpose(ct, x, **params) of y.
    """
    def rule(primals, tangents, **params):
        x, y = primals
        tx, ty = tangents
        ans = prim.bind(x, y, **params)
        out = None
        if tx is not None:
            out = prim.bind(tx, y, **params)
        if ty is not None:
            out = add_tangents(out, prim.bind(x, ty, **params))
        return ans, out

    def transpose(ct, x, y, **params):
        ux, uy = type(x) is UndefinedPrimal, type(y) is UndefinedPrimal
        if ux and uy:
            raise NonDifferentiableError(f"'{prim.name}' is not linear in both arguments at once")
        if ux:
            return lhs_transpose(ct, y, **params), None
        return None, rhs_transpose(ct, x, **params)

    def taylor(primals, series, **params):
        (x, y), (sx, sy) = primals, series
        order = len(sx if sx is not None else sy)
        return prim.bind(x, y, **params), cauchy(prim, x, sx, y, sy, order, **params)
    prim.jvp = rule
    prim.transpose = transpose
    prim.linear = True
    prim.taylor = taylor


def defzero(prim):
    """Every output has zero derivative."""
    def rule(primals, tangents, **params):
        ans = prim.bind(*primals, **params)
        return ans, ([None] * len(ans) if prim.multiple_results else None)
    prim.jvp = rule
    prim.taylor = lambda primals, series, **params: rule(primals, [None] * len(primals),
                                                         **params)


def defvectorized(prim):
    """Batching for elementwise primitives: broadcast the unbatched arguments, then apply."""
    prim.batch = lambda args, batched, **params: prim.bind(
        *broadcast_batched(args, batched), **params)
