"""Sharp one-dimensional Taylor enclosures of elementary functions.

For sigma, centre y0, trust region Y = [lo, hi] and degree d, the result (s_0..s_{d-1}, S_d)
satisfies sigma(y) in sum_{i<d} s_i (y - y0)^i + S_d (y - y0)^d for every y in Y. The s_i are
sigma^(i)(y0)/i!. The smallest valid S_d is the range over Y of
rho(y) = (sigma(y) - sum_{i<d} s_i (y - y0)^i) / (y - y0)^d, and when sigma^(d) is monotone on
Y that range is [rho(lo), rho(hi)] in some order (Streeter and Dillon, "Sharp Taylor Polynomial
Enclosures in One Dimension"). Otherwise, and wherever rho's evaluation loses too much to
cancellation, the remainder is Lagrange's: the range of sigma^(d) over Y, divided by d!. Both
are valid, so where both are computed their intersection is used.

Values come from NumPy's functions (accurate to about an ulp) and are padded by PAD relative
error; each function's derivatives are closed forms.
"""

from __future__ import annotations

import math

import numpy as np

from frechet._src.interpreters.enclosure import interval as iv

_EPS = np.finfo(np.float64).eps
PAD = 64 * _EPS


# Functions whose derivatives are polynomials in their own value v: v' = G(v), so
# sigma^(k) = P_k(v) with P_0(v) = v, P_(k+1) = G P_k'. (G, the value function, the inverse)
_POLYNOMIAL = {
    "tanh": (np.polynomial.Polynomial([1.0, 0.0, -1.0]), np.tanh, np.arctanh),
    "expit": (np.polynomial.Polynomial([0.0, 1.0, -1.0]),
              lambda y: 0.5 * (1.0 + np.tanh(0.5 * y)), lambda v: np.log(v / (1.0 - v))),
}

# softplus(y) = log(1 + e^y): its derivatives are the logistic function's, one order lower.
# erf^(k)(y) = (2 / sqrt(pi)) (-1)^(k-1) H_(k-1)(y) exp(-y^2), H the physicists' Hermite
# polynomials. erf itself in long double (SciPy's is float64 only) comes from _erf, whose
# relative error this bounds.
_VALUE_EPS = {"erf": 256 * np.finfo(np.longdouble).eps}


def _erf(y):
    """erf in y's precision. For |y| <= 3 the series of positive terms
    erf(y) = 2/sqrt(pi) exp(-y^2) sum_n 2^n y^(2n+1) / (1 3 5 ... (2n+1)) (no cancellation:
    each term's recurrence and the sum round at most ~3 eps per term, 70 terms); beyond, 1 -
    erfc(|y|) with SciPy's erfc, whose float64 relative error is below 2.3e-5 * 4 eps
    absolute there."""
    import scipy.special as sp
    if y.dtype != np.longdouble:
        return sp.erf(y)
    a = np.abs(y)
    small = np.minimum(a, 3.0)
    term, total = small.copy(), small.copy()
    for n in range(70):
        term = term * (2 * small * small) / (2 * n + 3)
        total = total + term
    c = 2 / np.sqrt(4 * np.arctan(np.ones((), y.dtype)))
    series = c * np.exp(-small * small) * total
    far = 1 - np.asarray(sp.erfc(a.astype(np.float64)), y.dtype)
    return np.sign(y) * np.where(a <= 3.0, series, far)


def _hermite(n):
    return np.polynomial.Hermite.basis(n).convert(kind=np.polynomial.Polynomial)


def _polynomials(name, n):
    g = _POLYNOMIAL[name][0]
    out = [np.polynomial.Polynomial([0.0, 1.0])]
    for _ in range(n):
        out.append(g * out[-1].deriv())
    return out


def _derivatives(name, y, n, p=None):
    """[sigma(y), sigma'(y), ..., sigma^(n)(y)] in closed form, elementwise (in y's precision:
    float64, or long double for the remainder's quotients)."""
    y = np.asarray(y)
    y = y if y.dtype == np.longdouble else y.astype(np.float64)
    with np.errstate(all="ignore"):
        if name == "exp":
            e = np.exp(y)
            return [e] * (n + 1)
        if name == "log":
            return [np.log(y)] + [(-1.0) ** (k - 1) * math.factorial(k - 1) / y ** k
                                  for k in range(1, n + 1)]
        if name == "power":
            out, c = [], 1.0
            for k in range(n + 1):
                out.append(c * y ** (p - k))
                c *= p - k
            return out
        if name in ("sin", "cos"):
            s, c = np.sin(y), np.cos(y)
            cycle = [s, c, -s, -c] if name == "sin" else [c, -s, -c, s]
            return [cycle[k % 4] for k in range(n + 1)]
        if name in _POLYNOMIAL:
            v = _POLYNOMIAL[name][1](y)
            return [q(v) for q in _polynomials(name, n)]
        if name == "softplus":
            v = _POLYNOMIAL["expit"][1](y)
            return [np.logaddexp(np.zeros_like(y), y)] + [q(v) for q in
                                                         _polynomials("expit", n - 1)]
        if name == "erf":
            # 2 / sqrt(pi) in y's precision (pi as 4 atan(1), exact to it)
            c = 2 / np.sqrt(4 * np.arctan(np.ones((), y.dtype)))
            g = c * np.exp(-y * y)
            return [_erf(y)] + [
                (-1.0) ** (k - 1) * _hermite(k - 1)(y) * g for k in range(1, n + 1)]
    raise KeyError(name)


def _outside(name, y0, lo, hi, p=None):
    """Where y0 is outside the function's domain, and where Y leaves it (the remainder is then
    unbounded)."""
    if name == "log" or (name == "power" and not float(p).is_integer()):
        bad, out = y0 <= 0, lo <= 0
    elif name == "power" and p < 0:
        bad, out = y0 == 0, (lo <= 0) & (hi >= 0)
    else:
        return np.zeros(np.shape(y0), bool), np.zeros(np.shape(lo), bool)
    return bad, out


def _monotone(name, lo, hi, d, p=None):
    """Where sigma^(d) is monotone on [lo, hi] (elementwise), and for sin/cos the extreme values
    it reaches inside (as a hull to add), else None."""
    if name in ("exp", "log", "power") or (name == "softplus" and d == 0):
        return np.ones(np.shape(lo), bool), None
    if name == "softplus":
        return _monotone("expit", lo, hi, d - 1)
    if name == "erf":
        # erf^(d)'s critical points: the roots of H_d; its values there in closed form
        inside = np.zeros(np.shape(lo), bool)
        bottom, top = np.full(np.shape(lo), np.inf), np.full(np.shape(lo), -np.inf)
        for r in (_hermite(d).roots().real if d > 0 else []):
            hit = (lo - 1e-9 * (1 + np.abs(lo)) <= r) & (r <= hi + 1e-9 * (1 + np.abs(hi)))
            value = _derivatives("erf", np.float64(r), d)[d]
            inside |= hit
            bottom = np.where(hit, np.minimum(bottom, value), bottom)
            top = np.where(hit, np.maximum(top, value), top)
        return ~inside, (bottom, top)
    if name in _POLYNOMIAL:
        # sigma^(d)'s critical points: the roots of P_(d+1) inside the value's range, mapped
        # back; its extreme values there are P_d at those roots
        ps = _polynomials(name, d + 1)
        inverse = _POLYNOMIAL[name][2]
        v_lo, v_hi = (0.0, 1.0) if name == "expit" else (-1.0, 1.0)
        roots = [r.real for r in ps[d + 1].roots() if abs(r.imag) < 1e-12 and v_lo < r.real < v_hi]
        inside = np.zeros(np.shape(lo), bool)
        bottom, top = np.full(np.shape(lo), np.inf), np.full(np.shape(lo), -np.inf)
        for r in roots:
            with np.errstate(all="ignore"):
                c = inverse(r)
            hit = (lo - 1e-9 * (1 + np.abs(lo)) <= c) & (c <= hi + 1e-9 * (1 + np.abs(hi)))
            inside |= hit
            bottom = np.where(hit, np.minimum(bottom, ps[d](r)), bottom)
            top = np.where(hit, np.maximum(top, ps[d](r)), top)
        return ~inside, (bottom, top)
    # sin^(d)(y) = sin(y + d pi/2); its critical points: y + (d+1) pi/2 = m pi, where it is
    # -cos(m pi) = -(-1)^m. cos^(d) = sin^(d+1).
    shift = (d + 1 + (name == "cos")) * np.pi / 2
    m_lo = np.ceil((lo + shift) / np.pi - 1e-12)
    m_hi = np.floor((hi + shift) / np.pi + 1e-12)
    inside = m_hi >= m_lo
    top = np.where(inside & ((m_hi > m_lo) | (np.mod(m_lo, 2) == 1)), 1.0, -np.inf)
    bottom = np.where(inside & ((m_hi > m_lo) | (np.mod(m_lo, 2) == 0)), -1.0, np.inf)
    return ~inside, (bottom, top)


def abs_enclosure(y0, y_range, d):
    """|y| at y0 over Y. On a one-signed Y it is linear (+-y). Across 0, with y0 > 0 (y0 < 0 by
    symmetry): s_0 = |y0|, s_1 = 1, higher s_i = 0, and rho(y) is 0 for y >= 0 and
    g(y) = -2y / (y - y0)^d for y < 0, whose range over [lo, 0] is its values at lo and 0 and,
    for d >= 2, at its critical point -y0 / (d - 1). At y0 = 0 (not differentiable) degree 1
    gets rho = sign(y) in [-1, 1], higher degrees an unbounded remainder."""
    lo, hi = (np.asarray(v, dtype=np.float64) for v in y_range)
    y0 = np.asarray(y0, dtype=np.float64)
    if d == 0:                                  # the range of |y| over Y
        top = np.maximum(np.abs(lo), np.abs(hi))
        return [(np.where((lo <= 0) & (hi >= 0), 0.0, np.minimum(np.abs(lo), np.abs(hi))),
                 top)], y0
    sign = np.where(y0 < 0, -1.0, 1.0)
    # reflect so that y0 >= 0: Y -> sign * Y, whose left end a is all rho depends on
    c, a = sign * y0, np.where(sign > 0, lo, -hi)
    zero = np.zeros_like(c)
    coefficients = [iv.point(np.abs(y0))]
    if d >= 2:
        coefficients.append(iv.point(sign))
    coefficients += [iv.point(zero)] * (d - len(coefficients))
    if d == 1:
        with np.errstate(all="ignore"):
            r_lo = np.where(a < 0, -(a + c) / (a - c), 1.0)        # rho at the left end
        r_lo = np.where(c == 0, -1.0, r_lo)
        rem = (iv.down(np.where(a < 0, r_lo, 1.0)), np.ones_like(c))
        rem = (rem[0] * sign, rem[1] * sign)                     # back from the reflection
        rem = (np.minimum(rem[0], rem[1]), np.maximum(rem[0], rem[1]))
    else:
        with np.errstate(all="ignore"):
            def g(y):
                return np.where(y < 0, -2 * y / (y - c) ** d, 0.0)
            star = -c / (d - 1)
            vals = [g(np.minimum(a, 0.0)), zero, np.where((star >= a) & (star <= 0), g(star), 0.0)]
        rem = iv.widen(iv.hull(*vals), PAD, 1e-300)
        # the degree-d term's sign follows (y - y0)^d: reflected back, odd d flips it
        if d % 2:
            rem = (np.where(sign < 0, -rem[1], rem[0]), np.where(sign < 0, -rem[0], rem[1]))
        unbounded = c == 0
        rem = (np.where(unbounded, -np.inf, rem[0]), np.where(unbounded, np.inf, rem[1]))
        linear = (a >= 0) & (c > 0)            # one-signed: |y| is +-y, nothing remains
        rem = (np.where(linear, 0.0, rem[0]), np.where(linear, 0.0, rem[1]))
    return coefficients + [rem], y0


def enclosure(name, y0, y_range, d, p=None):
    """([s_0, ..., s_{d-1}, S_d] as intervals, y0) for sigma at y0 over y_range."""
    lo, hi = (np.asarray(v, dtype=np.float64) for v in y_range)
    y0 = np.asarray(y0, dtype=np.float64)
    bad, outside = _outside(name, y0, lo, hi, p)
    if np.any(bad):
        if d > 0:
            raise ValueError(f"{name} is evaluated outside its domain at the reference point")
        # a range (d = 0) needs no reference point: any inside the domain will do, and the
        # range is unbounded where Y leaves the domain
        y0, outside = np.where(bad, 1.0, y0), outside | bad
    at0 = _derivatives(name, y0, d, p)
    coefficients = [iv.widen(iv.point(at0[i] / math.factorial(i)), PAD) for i in range(d)]
    safe_lo, safe_hi = np.where(outside, y0, lo), np.where(outside, y0, hi)
    ends = [_derivatives(name, v, d, p) for v in (safe_lo, safe_hi)]
    # Lagrange: the range of sigma^(d) over Y, from its ends (and extremes inside for sin/cos)
    monotone, extremes = _monotone(name, safe_lo, safe_hi, d, p)
    lag = iv.hull(ends[0][d], ends[1][d])
    if extremes is not None:
        lag = (np.minimum(lag[0], extremes[0]), np.maximum(lag[1], extremes[1]))
    lag = iv.widen((lag[0] / math.factorial(d), lag[1] / math.factorial(d)), PAD)
    if d == 0:              # a range: Lagrange's is the function's range over Y, already sharp
        lag = (np.where(outside, -np.inf, lag[0]), np.where(outside, np.inf, lag[1]))
        return [lag], y0
    # sharp: rho at the ends where sigma^(d) is monotone and rho is well conditioned, computed in
    # long double (80-bit on x86; where it is plain double the padding grows accordingly)
    eps = max(np.finfo(np.longdouble).eps, _VALUE_EPS.get(name, 0.0))
    y0l = y0.astype(np.longdouble)
    at0l = _derivatives(name, y0l, d, p)
    (r_lo, e_lo), (r_hi, e_hi) = (_rho(name, y, y0l, at0l, d, p, eps) for y in (safe_lo, safe_hi))
    err = np.maximum(e_lo, e_hi)
    sharp = iv.widen(iv.hull(r_lo, r_hi), 0.0, err)
    use = monotone & np.isfinite(err) & (err < 1e-3 * (1 + np.abs(r_lo) + np.abs(r_hi)))
    if name == "softplus" and d == 2:
        # softplus'' is even and decreasing away from 0: rho is largest at the mirror point
        # clip(-y0, Y) and smallest at an end (Streeter and Dillon's rule for such functions)
        r_m, e_m = _rho(name, np.clip(-y0, safe_lo, safe_hi), y0l, at0l, d, p, eps)
        err = np.maximum(err, e_m)
        mirror = (iv.down(np.minimum(r_lo, r_hi) - err), iv.up(r_m + err))
        ok = ~monotone & np.isfinite(err) & (err < 1e-3 * (1 + np.abs(r_m)))
        sharp = (np.where(ok, mirror[0], sharp[0]), np.where(ok, mirror[1], sharp[1]))
        use = use | ok
    remainder = (np.where(use, np.maximum(sharp[0], lag[0]), lag[0]),
                 np.where(use, np.minimum(sharp[1], lag[1]), lag[1]))
    remainder = (np.where(outside, -np.inf, remainder[0]), np.where(outside, np.inf, remainder[1]))
    return coefficients + [remainder], y0


def _rho(name, y, y0l, at0l, d, p, eps):
    """rho(y) = (sigma(y) - sum_{i<d} s_i h^i) / h^d, h = y - y0, in long double, and a bound
    on its error (cancellation in the numerator, over h^d)."""
    yl = y.astype(np.longdouble)
    h = yl - y0l
    terms = [at0l[i] / math.factorial(i) * h ** i for i in range(d)]
    value = _derivatives(name, yl, 0, p)[0]
    scale = np.abs(value) + sum(np.abs(t) for t in terms)
    with np.errstate(all="ignore"):
        safe_h = np.where(h != 0, h, 1)
        rho = np.where(h != 0, (value - sum(terms)) / safe_h ** d,
                       at0l[d] / math.factorial(d)).astype(np.float64)
        err = np.where(h != 0, 16 * (d + 2) * eps * scale / np.abs(safe_h) ** d,
                       0.0).astype(np.float64) + PAD * np.abs(rho)
    return rho, err
