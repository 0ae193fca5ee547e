"""Taylor rules (interpreters/jet.py) of the elementwise primitives that are not linear or
bilinear: coefficient recurrences on normalised coefficients y_1..y_K.

Smooth unary functions use y' = d(x, y) x' with their derivative d (elementwise.py): matching
coefficients of t^(k-1) gives y_k = (1/k) sum_{j=1..k} j x_j g_{k-j}, g the series of d(x, y).
When d reads x only, g comes from one Taylor-mode evaluation of d to order K-1; when it reads
y, g_{k-1} needs y up to k-1, so g is recomputed order by order (d is then cheap arithmetic).

The rules are made here and registered by elementwise.py, next to each primitive's
derivative: `smooth(prim, d, x_only)`, `divide(divide_p)`, `power(power_p, multiply_p)`.
"""

from __future__ import annotations

import numpy as np

from frechet._src.core.spec import is_complex
from frechet._src.interpreters.jet import run_series, taylor_from_jvp


def _ode_step(xs, gs, k):
    """y_k = (1/k) sum_{j=1..k} j x_j g_{k-j} (xs, gs: full coefficient lists)."""
    acc = xs[1] * gs[k - 1]
    for j in range(2, k + 1):
        acc = acc + (j * xs[j]) * gs[k - j]
    return acc * (1.0 / k) if k > 1 else acc


def smooth(prim, d, x_only: bool):
    """The Taylor rule of a unary prim with y' = d(x, y) x' (x_only: d does not read y)."""
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


def divide(divide_p):
    """b y = a: y_k = (a_k - sum_{j=1..k} b_j y_{k-j}) / b_0."""
    def rule(primals, series):
        (a, b), (sa, sb) = primals, series
        ans = divide_p.bind(a, b)
        order = len(sa if sa is not None else sb)
        ys = [ans]
        for k in range(1, order + 1):
            num = sa[k - 1] if sa is not None else None
            if sb is not None:
                for j in range(1, k + 1):
                    term = sb[j - 1] * ys[k - j]
                    num = -term if num is None else num - term
            ys.append(divide_p.bind(num, b))
        return ans, ys[1:]
    return rule


def power(power_p, multiply_p):
    """x^p. A constant non-negative integer p (the common case): repeated products; any other
    p (or one with a series): the JVP rule's p x^(p-1) x' and x^p log(x) p', run in Taylor
    mode (taylor_from_jvp). Not the ODE y' = p (y / x) x' or exp(p log x): both divide by or
    take the log of x, so at x = 0 they gave NaN where x^2 (say) has derivatives 0, 2, 0."""
    by_jvp = taylor_from_jvp(power_p)

    def rule(primals, series):
        (x, p), (sx, sp) = primals, series
        if sp is not None:
            return by_jvp(primals, series)
        concrete = p if isinstance(p, np.ndarray) else getattr(p, "concrete", lambda: None)()
        if concrete is not None:
            c = np.asarray(concrete)
            if c.size and np.all(c == c.flat[0]) and float(c.flat[0]).is_integer() \
                    and 0 <= c.flat[0] <= 16:
                n, ans, order = int(c.flat[0]), power_p.bind(x, p), len(sx)
                if n == 0:
                    return ans, _zeros(x, order)

                def pw(v):
                    out = v
                    for _ in range(n - 1):
                        out = multiply_p.bind(out, v)
                    return out
                return ans, run_series(pw, [[x] + list(sx)])[1:]
        return by_jvp(primals, series)
    return rule


def _zeros(x, order):
    return [x * 0.0] * order


def complex_abs(real_rule, complex_rule):
    """|x| is piecewise linear for real x only: |z| of a complex z is smooth away from 0, and
    its series comes from its JVP rule run in Taylor mode."""
    def rule(primals, series, **params):
        pick = complex_rule if is_complex(primals[0].dtype) else real_rule
        return pick(primals, series, **params)
    return rule
