"""Special functions from scipy.special (they are ufuncs, so they run on any float dtype)."""

from __future__ import annotations

import math

import numpy as np
import scipy.special as _scipy_special

from frechet._src.core.primitive import primitive
from frechet._src.prims.elementwise import bind, const, div, mul, neg, square, sub, ufunc_primitive
from frechet._src.prims.rules import defjvp_output, defjvp_scale, defvectorized


class _Ufuncs:
    """scipy.special's ufuncs themselves. With SCIPY_ARRAY_API=1 SciPy exports Python wrappers
    that dispatch on the array type instead; each keeps its ufunc as `__wrapped__`."""

    def __getattr__(self, name):
        f = getattr(_scipy_special, name)
        while not isinstance(f, np.ufunc) and hasattr(f, "__wrapped__"):
            f = f.__wrapped__
        return f


sp = _Ufuncs()

erf_p = ufunc_primitive(sp.erf, "erf")
erfc_p = ufunc_primitive(sp.erfc, "erfc")
erfinv_p = ufunc_primitive(sp.erfinv, "erfinv")
gammaln_p = ufunc_primitive(sp.gammaln, "gammaln")
digamma_p = ufunc_primitive(sp.psi, "digamma")
expit_p = ufunc_primitive(sp.expit, "expit")
logit_p = ufunc_primitive(sp.logit, "logit")
polygamma_p = primitive("polygamma", lambda x, *, n: sp.polygamma(n, x), lambda x, *, n: x)
defvectorized(polygamma_p)

_TWO_OVER_SQRT_PI = 2 / math.sqrt(math.pi)


def _gauss(x):
    return mul(const(x, _TWO_OVER_SQRT_PI), bind("exp", neg(square(x))))


defjvp_scale(erf_p, lambda x, ans: _gauss(x))
defjvp_scale(erfc_p, lambda x, ans: neg(_gauss(x)))
defjvp_output(erfinv_p, lambda t, ans, x: mul(t, mul(const(x, 1 / _TWO_OVER_SQRT_PI),
                                                     bind("exp", square(ans)))))
defjvp_scale(gammaln_p, lambda x, ans: digamma_p.bind(x))
defjvp_scale(digamma_p, lambda x, ans: polygamma_p.bind(x, n=1))
defjvp_output(polygamma_p, lambda t, ans, x, *, n: mul(t, polygamma_p.bind(x, n=n + 1)))
defjvp_scale(expit_p, lambda x, ans: mul(ans, sub(const(ans, 1), ans)))
defjvp_output(logit_p, lambda t, ans, x: div(t, mul(x, sub(const(x, 1), x))))

SPECIAL_UFUNCS = {sp.erf: erf_p, sp.erfc: erfc_p, sp.erfinv: erfinv_p, sp.gammaln: gammaln_p,
                  sp.psi: digamma_p, sp.expit: expit_p, sp.logit: logit_p}


i0_p = ufunc_primitive(sp.i0, "i0")
i1_p = ufunc_primitive(sp.i1, "i1")
defjvp_scale(i0_p, lambda x, ans: i1_p.bind(x))


def _i1_deriv(x, ans):
    # i1'(x) = i0(x) - i1(x)/x, with the limit 1/2 at x = 0.
    from frechet._src.prims.elementwise import select
    zero = bind("equal", x, const(x, 0))
    safe = select(zero, const(x, 1), x)
    return select(zero, const(x, 0.5), sub(i0_p.bind(x), div(ans, safe)))


defjvp_scale(i1_p, _i1_deriv)
SPECIAL_UFUNCS.update({sp.i0: i0_p, sp.i1: i1_p})
