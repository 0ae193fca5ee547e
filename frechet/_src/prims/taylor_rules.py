"""Taylor rules (transforms/jet.py) of the elementwise primitives that are not linear or
bilinear: coefficient recurrences on normalised coefficients y_1..y_K.

Smooth unary functions use y' = d(x, y) x' with the derivative d from SMOOTH_UNARY: matching
coefficients of t^(k-1) gives y_k = (1/k) sum_{j=1..k} j x_j g_{k-j}, g the series of d(x, y).
When d reads x only, g comes from one Taylor-mode evaluation of d to order K-1; when it reads
y, g_{k-1} needs y up to k-1, so g is recomputed order by order (d is then cheap arithmetic).
"""

from __future__ import annotations

import numpy as np

from frechet._src.core.primitive import REGISTRY as P
from frechet._src.core.spec import is_complex
from frechet._src.prims.elementwise import SMOOTH_UNARY
from frechet._src.prims.rules import taylor_by_jvp
from frechet._src.transforms.jet import run_series, taylor_from_jvp

# derivatives that do not read the output
_X_ONLY = frozenset({"sin", "cos", "arcsin", "arccos", "arctan", "sinh", "cosh", "arcsinh",
                     "arccosh", "arctanh", "log", "log2", "log10", "log1p", "square", "fabs"})


def _ode_step(xs, gs, k):
    """y_k = (1/k) sum_{j=1..k} j x_j g_{k-j} (xs, gs: full coefficient lists)."""
    acc = xs[1] * gs[k - 1]
    for j in range(2, k + 1):
        acc = acc + (j * xs[j]) * gs[k - j]
    return acc * (1.0 / k) if k > 1 else acc


def _smooth(prim, d, x_only):
    def rule(primals, series):
        (x,), (sx,) = primals, series
        ans = prim.bind(x)
        order = len(sx)
        xs = [x] + list(sx)
        if x_only:
            gs = run_series(lambda v: d(v, None), [xs[:order]])
        ys = [ans]
        for k in range(1, order + 1):
            if not x_only:
                gs = run_series(d, [xs[:k], ys[:k]])
            ys.append(_ode_step(xs, gs, k))
        return ans, ys[1:]
    return rule


for _name, _d in SMOOTH_UNARY.items():
    P[_name].taylor = _smooth(P[_name], _d, _name in _X_ONLY)


def _divide(primals, series):
    """b y = a: y_k = (a_k - sum_{j=1..k} b_j y_{k-j}) / b_0."""
    (a, b), (sa, sb) = primals, series
    ans = P["divide"].bind(a, b)
    order = len(sa if sa is not None else sb)
    ys = [ans]
    for k in range(1, order + 1):
        num = sa[k - 1] if sa is not None else None
        if sb is not None:
            for j in range(1, k + 1):
                term = sb[j - 1] * ys[k - j]
                num = -term if num is None else num - term
        ys.append(P["divide"].bind(num, b))
    return ans, ys[1:]


def _power(primals, series):
    """x^p. A constant non-negative integer p (the common case): repeated products; any other
    p (or one with a series): the JVP rule's p x^(p-1) x' and x^p log(x) p', run in Taylor
    mode (taylor_from_jvp). Not the ODE y' = p (y / x) x' or exp(p log x): both divide by or
    take the log of x, so at x = 0 they gave NaN where x^2 (say) has derivatives 0, 2, 0."""
    (x, p), (sx, sp) = primals, series
    if sp is not None:
        return _POWER_BY_JVP(primals, series)
    concrete = p if isinstance(p, np.ndarray) else getattr(p, "concrete", lambda: None)()
    if concrete is not None:
        c = np.asarray(concrete)
        if c.size and np.all(c == c.flat[0]) and float(c.flat[0]).is_integer() \
                and 0 <= c.flat[0] <= 16:
            n, ans, order = int(c.flat[0]), P["power"].bind(x, p), len(sx)
            if n == 0:
                return ans, _zeros(x, order)

            def pw(v):
                out = v
                for _ in range(n - 1):
                    out = P["multiply"].bind(out, v)
                return out
            return ans, run_series(pw, [[x] + list(sx)])[1:]
    return _POWER_BY_JVP(primals, series)


def _zeros(x, order):
    return [x * 0.0] * order


P["divide"].taylor = _divide
_POWER_BY_JVP = taylor_from_jvp(P["power"])
P["power"].taylor = _power
# linear in the tangents with weights fixed by the primal: sums, selections, and the piecewise
# choices of maximum/minimum and absolute value (away from ties and zero, the chosen piece's
# series; at them, the JVP's convention)
for _name in ("add", "subtract", "select", "convert_element_type", "maximum",
              "minimum", "fmax", "fmin", "absolute"):
    P[_name].taylor = taylor_by_jvp(P[_name])
# a constant: no series at all (not a series of zeros, which would make every primitive after
# it run its Taylor rule, as det's JVP rule does on the condition it computes)
P["stop_gradient"].taylor = lambda primals, series: (P["stop_gradient"].bind(*primals), None)


def _complex_abs(real_rule, complex_rule):
    """|x| is piecewise linear for real x only: |z| of a complex z is smooth away from 0, and
    its series comes from its JVP rule run in Taylor mode."""
    def rule(primals, series, **params):
        pick = complex_rule if is_complex(primals[0].dtype) else real_rule
        return pick(primals, series, **params)
    return rule


P["absolute"].taylor = _complex_abs(P["absolute"].taylor, taylor_from_jvp(P["absolute"]))
