"""SciPy's special functions that torch.special lacks, from the ones it has, with SciPy's values
at the edges (poles, signs, infinities, NaN): gamma and beta through lgamma, Riemann's zeta
where Hurwitz's is asked at q = 1, the relative entropies, and Bessel functions of orders 0
and +-1. special.py registers them (core/backend.py's defbackend); torch is imported only when
a tensor arrives. Checked against SciPy on grids of edge values in tests/test_special_torch.py.
"""

from __future__ import annotations

import math

from frechet._src.core.backend import to_host
from frechet._src.errors import BackendError

_ASYMPTOTIC = 1e6      # SciPy's lbeta: B(a, b) by its expansion for a > 1e6 and a > 1e6 |b|


def _unsupported(name, why):
    return BackendError(f"primitive '{name}' has no implementation for the torch back end "
                        f"{why}: compute it with NumPy arrays")


def _real(name, *args):
    """torch, once args are known real: torch's lgamma and Bessel functions take no complex
    numbers."""
    import torch  # lazy: only torch tensors come here
    if any(a.is_complex() for a in args):
        raise _unsupported(name, "for complex arguments (torch.special is real only)")
    return torch


def _gamma_sign(torch, x):
    """The sign of Gamma(x): -1 on (-2k-1, -2k) and at -0.0, +1 elsewhere (at its poles too,
    as SciPy's beta reads them)."""
    odd = (x < 0) & (x != torch.floor(x)) & (torch.remainder(torch.floor(x), 2) == 1)
    return torch.where(odd | ((x == 0) & torch.signbit(x)), -1.0, 1.0).to(x.dtype)


def gamma(x):
    """exp(lgamma(x)) with Gamma's sign: relative error about |lgamma(x)| ulp (up to 700 ulp
    near overflow, x ~ 171), where SciPy's is a few ulp. NaN at the negative integers and
    -inf, +-inf at +-0 (SciPy's)."""
    torch = _real("gamma", x)
    out = _gamma_sign(torch, x) * torch.exp(torch.lgamma(x))
    return torch.where((x < 0) & (x == torch.floor(x)), math.nan, out)


def loggamma(x):
    """SciPy's loggamma on real numbers: gammaln for x >= 0, NaN for x < 0 (its imaginary part
    would be a multiple of pi). Complex arguments raise BackendError."""
    torch = _real("loggamma", x)
    return torch.where(x < 0, math.nan, torch.lgamma(x))


def _at_nonpositive_integers(torch, a, b, sign, pole):
    """SciPy's rule where a is 0, -1, -2, ... or -inf: B(a, b) = (-1)^b B(1 - a - b, b) if b is
    an integer with 1 - a - b > 0 (the limit along integers), else B is infinite, with the
    sign gathered so far."""
    at = (a <= 0) & (a == torch.floor(a)) & ~pole
    finite = at & a.isfinite() & (b == torch.floor(b)) & (1 - a - b > 0)
    sign = torch.where(finite & (torch.remainder(b, 2) == 1), -sign, sign)
    return torch.where(finite, 1 - a - b, a), sign, pole | (at & ~finite)


def _log_beta(torch, a, b):
    """(log |B(a, b)|, the sign of B(a, b)) as SciPy's beta and betaln compute them: the rule
    at non-positive integers for a, then b; then, with |a| >= |b|, the asymptotic expansion
    of log B for a large against b, else lgamma(a) + (lgamma(b) - lgamma(a + b))."""
    a, b = torch.broadcast_tensors(a, b)
    sign = torch.ones_like(a)
    pole = torch.zeros_like(a, dtype=torch.bool)
    a, sign, pole = _at_nonpositive_integers(torch, a, b, sign, pole)
    b, sign, pole = _at_nonpositive_integers(torch, b, a, sign, pole)
    swap = a.abs() < b.abs()
    a, b = torch.where(swap, b, a), torch.where(swap, a, b)
    far = (a > _ASYMPTOTIC) & (a.abs() > _ASYMPTOTIC * b.abs())
    c = b * (1 - b)
    expansion = (torch.lgamma(b) - b * torch.log(a.abs()) + c / (2 * a)
                 + c * (1 - 2 * b) / (12 * a * a) - c * c / (12 * a * a * a))
    direct = torch.lgamma(a) + (torch.lgamma(b) - torch.lgamma(a + b))
    log_abs = torch.where(pole, math.inf, torch.where(far, expansion, direct))
    gamma_signs = torch.where(far, _gamma_sign(torch, b), _gamma_sign(torch, a)
                              * _gamma_sign(torch, b) * _gamma_sign(torch, a + b))
    return log_abs, torch.where(pole, sign, sign * gamma_signs)


def beta(a, b):
    """B(a, b) = sign exp(log |B|) (_log_beta): relative error about |log B| ulp where SciPy
    multiplies gamma functions (|a|, |b|, |a + b| < 171.6), SciPy's otherwise."""
    torch = _real("beta", a, b)
    log_abs, sign = _log_beta(torch, a, b)
    return sign * torch.exp(log_abs)


def betaln(a, b):
    """log |B(a, b)| (_log_beta)."""
    return _log_beta(_real("betaln", a, b), a, b)[0]


def _x_log_ratio(torch, x, y):
    """x log(x/y) as SciPy's rel_entr computes it (to 2 ulp): by log1p where x/y is near 1,
    by log x - log y where x/y under- or overflows."""
    r = x / y
    extreme = (r < torch.finfo(r.dtype).tiny) | r.isinf()
    return torch.where((r > 0.5) & (r < 2), x * torch.log1p((x - y) / y),
                       torch.where(extreme, x * (torch.log(x) - torch.log(y)), x * torch.log(r)))


def _entropy(name, x, y, shift):
    """SciPy's rel_entr (shift False) and kl_div (True): x log(x/y) (- x + y) for x, y > 0
    (kl_div: with log(x/y) as it is); at x = 0 and y >= 0 the limit (0, or y); +inf
    elsewhere; NaN if either is NaN."""
    torch = _real(name, x, y)
    pos = (x > 0) & (y > 0)
    inner = x * torch.log(x / y) - x + y if shift else _x_log_ratio(torch, x, y)
    out = torch.where(pos, inner, math.inf)
    out = torch.where((x == 0) & (y >= 0), y if shift else 0.0, out)
    return torch.where(torch.isnan(x) | torch.isnan(y), math.nan, out)


def rel_entr(x, y):
    return _entropy("rel_entr", x, y, shift=False)


def kl_div(x, y):
    return _entropy("kl_div", x, y, shift=True)


def zeta(x, q):
    """Hurwitz's zeta (torch.special.zeta, Cephes' as SciPy's), with Cephes' expansion for
    q > 1e8 written out (torch's gives NaN where q or x is +inf), and Riemann's at q == 1
    (frechet's zeta_p: Hurwitz's at q = 1 for x >= 1). Riemann's at x < 1 raises
    BackendError."""
    torch = _real("zeta", x, q)
    if bool(torch.any((q == 1) & (x < 1))):
        raise _unsupported("zeta", "for Riemann's zeta (q = 1) at x < 1 (torch has Hurwitz's "
                                   "only, NaN there)")
    far = (q > 1e8) & (x > 1)
    qf = torch.where(far, q, 2.0)
    expansion = (1 / (x - 1) + 1 / (2 * qf)) * qf ** (1 - x)
    return torch.where(far, expansion, torch.special.zeta(x, q))


def cupy_zeta(x, q):
    """CuPy: Hurwitz's zeta, and at q == 1 Riemann's as 1 + zetac (SciPy's own riemann_zeta,
    not bitwise: within 7e-11 relative, near its zeros at the negative even integers)."""
    import cupy  # lazy: only CuPy arrays come here
    import cupyx.scipy.special as sp
    return cupy.where(q == 1, 1 + sp.zetac(x), sp.zeta(x, q))


def bessel(name, order0, order1):
    """SciPy's `name`(v, x) through torch.special's functions of orders 0 and 1 (I_-1 = I_1
    and K_-1 = K_1): the orders v, read on the host, must all be 0 or +-1, else BackendError.
    Note: at subnormal x, torch's are the series' values where SciPy's (AMOS) give 0, inf or
    NaN; ive at +-inf is NaN as SciPy's (torch's: 0)."""
    def fn(v, x):
        torch = _real(name, v, x)
        orders = set(abs(to_host(v)).ravel().tolist())
        if not orders <= {0.0, 1.0}:
            raise _unsupported(name, f"at orders other than 0 and +-1 (torch.special has those "
                                     f"only; got {sorted(orders)[:4]})")
        at0, at1 = getattr(torch.special, order0), getattr(torch.special, order1)
        out = torch.where(v == 0, at0(x), at1(x))
        return torch.where(x.isinf(), math.nan, out) if name == "ive" else out
    fn.__name__ = f"torch_{name}"
    return fn
