"""frechet.scipy.interpolate: piecewise-polynomial interpolants differentiable in the data values
y and in the evaluation points.

Every interpolant here is linear in its data: for fixed knots x, the polynomial coefficients are
C y for a constant tensor C. When y is traced, C is read off SciPy's own constructor applied to
the identity (one column per data point) and contracted with y, so the coefficients, and their
derivatives, are SciPy's. Evaluation locates each point's interval by counting the breakpoints
at or below it (a comparison and a sum: no concrete values needed, so it runs under jit and
vmap) and evaluates the local polynomial, whose derivative in the point is the piecewise
derivative. The knots stay concrete: a traced x raises NonDifferentiableError.

Costs: the coefficient tensor holds (order + 1) * (len(x) - 1) * len(x) numbers when y is
traced, and locating p points among m breakpoints compares p * m pairs.
"""

from __future__ import annotations

import math

import numpy as np
from frechet._src.core.trace import Tracer, concrete
from frechet._src.errors import NonDifferentiableError
from frechet._src.numpy.base import asarray, shape_of
from frechet._src.prims.rules import traced_numpy


def _knots(x, who: str) -> np.ndarray:
    if isinstance(x, Tracer):
        raise NonDifferentiableError(
            f"{who}: the knots x are traced values; frechet differentiates interpolants in the "
            f"data y and the evaluation points only. Pass x as a concrete array (close over it "
            f"rather than passing it through grad/jit/vmap), or stop its derivative outside.")
    return np.asarray(x)


def _inexact(y):
    y = asarray(y)
    return y if np.issubdtype(y.dtype, np.inexact) else y.astype(np.float64)


def _linear(build, y, basis=None):
    """The arrays build(Y) returns (each linear in Y, the data axis of Y first, then y's
    trailing axes last), for y itself: SciPy on y when y is concrete, else SciPy on the basis
    (default: the identity) contracted with y."""
    if not isinstance(y, Tracer):
        return build(np.asarray(y))
    fnp = traced_numpy()
    n = shape_of(y)[0]
    basis = np.eye(n) if basis is None else basis
    return [fnp.tensordot(np.asarray(a), y, axes=([a.ndim - 1], [0]))
            for a in build(basis)]


def _values_or_zeros(y) -> np.ndarray:
    """y's values where they are known (eager, jit), zeros of its shape where not (vmap)."""
    c = y.concrete() if isinstance(y, Tracer) else y
    return np.zeros(shape_of(y)) if c is None else np.asarray(c)


def _pp_coefficients(bs) -> tuple[np.ndarray, np.ndarray]:
    """(breakpoints, piecewise-polynomial coefficients) of a SciPy BSpline, as
    PPoly.from_spline: the right derivatives at each breakpoint, over factorials."""
    t, k = bs.t, bs.k
    breaks = np.unique(t[k:len(t) - k])
    if k == 0:
        # Note: degree 0 takes the last value on and beyond the last knot, a piece of its own
        # (its right end is nominal: the domain for extrapolate=False is kept apart).
        breaks = np.append(breaks, breaks[-1] + 1.0)
    rows = [bs(breaks[:-1], nu=k - i) / math.factorial(k - i) for i in range(k + 1)]
    return breaks, np.stack(rows)


def _derivative_coefficients(c, nu: int):
    fnp = traced_numpy()
    if nu < 0:
        raise NotImplementedError("antiderivatives (nu < 0) of interpolants are not supported "
                                  "by frechet.scipy.interpolate")
    for _ in range(nu):
        k = shape_of(c)[0] - 1
        if k == 0:
            return fnp.zeros_like(c)
        w = (k - np.arange(k)).reshape((k,) + (1,) * (len(shape_of(c)) - 1))
        c = c[:-1] * w
    return c


def _evaluate(breaks, c, xs, nu=0, extrapolate=True, side="right", domain=None):
    """The piecewise polynomial sum_i c[i, j] (x - breaks[j])^(K - i) on interval j, at xs:
    shape xs.shape + c.shape[2:]. side='left' puts a point on a breakpoint into the interval
    to its left (as interp1d's linear kind does)."""
    fnp = traced_numpy()
    xs = _inexact(xs)
    shape = shape_of(xs)
    flat = fnp.reshape(xs, (-1,))
    if extrapolate == "periodic":
        flat = breaks[0] + fnp.mod(flat - breaks[0], breaks[-1] - breaks[0])
    c = _derivative_coefficients(c, nu)
    inner = breaks[1:-1]
    below = flat[:, None] >= inner if side == "right" else flat[:, None] > inner
    j = fnp.sum(below, axis=-1)
    trailing = shape_of(c)[2:]
    t = fnp.reshape(flat - fnp.take(breaks, j), (-1,) + (1,) * len(trailing))
    cj = fnp.take(c, j, axis=1)
    val = cj[0]
    for i in range(1, shape_of(c)[0]):           # Horner's rule
        val = val * t + cj[i]
    if extrapolate is False:
        lo, hi = (breaks[0], breaks[-1]) if domain is None else domain
        out = fnp.reshape((flat < lo) | (flat > hi), shape_of(t))
        val = fnp.where(out, np.nan, val)
    return fnp.reshape(val, shape + trailing)


def _place(out, nx: int, axis: int):
    """Move the evaluation axes (first nx of out) to position `axis` of the data's axes."""
    if axis == 0:
        return out
    nd = len(shape_of(out))
    perm = list(range(nx, nx + axis)) + list(range(nx)) + list(range(nx + axis, nd))
    return traced_numpy().transpose(out, perm)


class PPoly:
    """A piecewise polynomial from its coefficients, as scipy.interpolate.PPoly (axis 0),
    differentiable in the coefficients c and the evaluation points.

    Args:
      c: coefficients, shape (k + 1, m - 1, ...): c[i, j] multiplies (x - x[j])^(k - i).
      x: m increasing breakpoints (concrete).
      extrapolate: True, False (NaN outside) or 'periodic'.

    Example:
      >>> import numpy as np
      >>> from frechet.scipy.interpolate import PPoly
      >>> float(PPoly(np.array([[1.0], [0.0]]), [0.0, 1.0])(0.5))
      0.5
    """

    def __init__(self, c, x, extrapolate=None):
        self.x = _knots(x, "PPoly")
        self.c = _inexact(c)
        if len(shape_of(self.c)) < 2 or shape_of(self.c)[1] != len(self.x) - 1:
            raise ValueError("Shapes of x and c are incompatible: c must have shape "
                             "(k + 1, len(x) - 1, ...)")
        self.extrapolate = True if extrapolate is None else extrapolate

    def __call__(self, x, nu: int = 0, extrapolate=None):
        ext = self.extrapolate if extrapolate is None else extrapolate
        return _evaluate(self.x, self.c, x, nu, ext)

    def derivative(self, nu: int = 1) -> PPoly:
        return PPoly(_derivative_coefficients(self.c, nu), self.x, self.extrapolate)


def _homogeneous(bc, n):
    """bc_type with every prescribed derivative value set to 0 (shape (n,), for the basis)."""
    if isinstance(bc, str):
        return bc
    return tuple(b if isinstance(b, str) else (b[0], np.zeros(n)) for b in bc)


class CubicSpline:
    """A cubic spline interpolant, as scipy.interpolate.CubicSpline, differentiable in y and in
    the evaluation points (the knots x are concrete).

    Args:
      x: increasing knots (concrete).
      y: data values, traced or not, with len(x) along `axis`.
      axis: the axis of y along x.
      bc_type: 'not-a-knot', 'natural', 'clamped', 'periodic', or a pair of (order, value)
        conditions as SciPy (the values concrete).
      extrapolate: True, False or 'periodic' (default: 'periodic' for periodic conditions).

    Example:
      >>> import numpy as np, frechet
      >>> from frechet.scipy.interpolate import CubicSpline
      >>> x = np.linspace(0, 1, 5)
      >>> g = frechet.grad(lambda y: CubicSpline(x, y)(0.3))(x ** 2)
    """

    def __init__(self, x, y, axis: int = 0, bc_type="not-a-knot", extrapolate=None):
        import scipy.interpolate as si
        x = _knots(x, "CubicSpline")
        y = _inexact(y)
        self.axis = axis % max(len(shape_of(y)), 1)
        yt = traced_numpy().moveaxis(y, self.axis, 0)
        periodic = bc_type == "periodic"
        # SciPy's own checks (and messages), on y's values where they are known.
        si.CubicSpline(x, _values_or_zeros(yt), 0, bc_type, extrapolate)
        n = len(x)
        self.x = x
        self.extrapolate = ("periodic" if periodic else True) if extrapolate is None \
            else extrapolate
        if not isinstance(yt, Tracer):
            self.c = si.CubicSpline(x, yt, 0, bc_type).c
        elif periodic:
            # Note: y[0] and y[-1] must agree (SciPy checks it where the values are known);
            # the spline takes their mean, so the derivative is shared between them.
            fnp = traced_numpy()
            free = fnp.concatenate([(yt[:1] + yt[-1:]) / 2, yt[1:-1]])
            basis = np.concatenate([np.eye(n - 1), np.eye(n - 1)[:1]])
            (self.c,) = _linear(lambda Y: [si.CubicSpline(x, Y, 0, "periodic").c], free,
                                basis=basis)
        else:
            hom = _homogeneous(bc_type, n)
            (self.c,) = _linear(lambda Y: [si.CubicSpline(x, Y, 0, hom).c], yt)
            if hom is not bc_type:                   # prescribed nonzero derivative values
                self.c = self.c + si.CubicSpline(x, np.zeros(shape_of(yt)), 0, bc_type).c

    def __call__(self, x, nu: int = 0, extrapolate=None):
        ext = self.extrapolate if extrapolate is None else extrapolate
        out = _evaluate(self.x, self.c, x, nu, ext)
        return _place(out, len(shape_of(x)), self.axis)

    def derivative(self, nu: int = 1) -> PPoly:
        """The nu-th derivative as a PPoly (along axis 0 of the data's trailing axes)."""
        return PPoly(_derivative_coefficients(self.c, nu), self.x, self.extrapolate)


class BSpline:
    """The interpolating B-spline make_interp_spline returns: t, k and the coefficients c
    (linear in the data, so traced with it); callable, differentiable in the data and the
    evaluation points."""

    def __init__(self, t, c, k, breaks, pp, axis, extrapolate=True):
        self.t, self.c, self.k = t, c, k
        self._breaks, self._pp, self.axis = breaks, pp, axis
        self.extrapolate = extrapolate

    def __call__(self, x, nu: int = 0, extrapolate=None):
        ext = self.extrapolate if extrapolate is None else extrapolate
        n = len(self.t) - self.k - 1
        out = _evaluate(self._breaks, self._pp, x, nu, ext, domain=(self.t[self.k], self.t[n]))
        return _place(out, len(shape_of(x)), self.axis)

    def derivative(self, nu: int = 1) -> PPoly:
        """The nu-th derivative as a PPoly."""
        # Note: SciPy returns a BSpline; the values are the same.
        return PPoly(_derivative_coefficients(self._pp, nu), self._breaks, self.extrapolate)


def make_interp_spline(x, y, k: int = 3, t=None, bc_type=None, axis: int = 0,
                       check_finite: bool = True) -> BSpline:
    """The interpolating B-spline of degree k, as scipy.interpolate.make_interp_spline,
    differentiable in y and in the evaluation points.

    Args:
      x: increasing abscissas (concrete).
      y: data values (traced or not), len(x) along axis.
      k: the degree.
      t, bc_type: as SciPy (concrete; derivative values in bc_type are not supported on traced
        y).

    Returns:
      A callable BSpline.

    Example:
      >>> import numpy as np, frechet
      >>> from frechet.scipy.interpolate import make_interp_spline
      >>> x = np.linspace(0, 1, 6)
      >>> d = frechet.grad(lambda s: make_interp_spline(x, np.sin(x))(s))(0.3)
    """
    import scipy.interpolate as si
    x = _knots(x, "make_interp_spline")
    if isinstance(t, Tracer):
        raise NonDifferentiableError("make_interp_spline: the knot vector t is traced; it must "
                                     "be concrete")
    y = _inexact(y)
    ax = axis % max(len(shape_of(y)), 1)
    yt = traced_numpy().moveaxis(y, ax, 0)
    bs0 = si.make_interp_spline(x, np.zeros(shape_of(yt)), k, t, bc_type, 0, check_finite)
    breaks, _ = _pp_coefficients(bs0)

    def build(Y):
        bs = si.make_interp_spline(x, Y, k, t, bc_type, 0, check_finite)
        return [bs.c, _pp_coefficients(bs)[1]]
    c, pp = _linear(build, yt)
    return BSpline(bs0.t, c, bs0.k, breaks, pp, ax)


_SPLINE_KINDS = {"zero": 0, "slinear": 1, "quadratic": 2, "cubic": 3}
_STEP_KINDS = ("nearest", "nearest-up", "previous", "next")


class interp1d:
    """Interpolate a 1-D function, as scipy.interpolate.interp1d, differentiable in y, in a
    traced fill_value and in the evaluation points.

    Args:
      x: abscissas (concrete; sorted here unless assume_sorted).
      y: data values (traced or not), len(x) along axis.
      kind: 'linear', 'nearest', 'nearest-up', 'previous', 'next', 'zero', 'slinear',
        'quadratic', 'cubic', or a spline order.
      axis: the axis of y along x.
      bounds_error: raise on points outside [x[0], x[-1]] (default: unless extrapolating);
        needs concrete points (not under vmap).
      fill_value: the value outside (NaN), a (below, above) pair, or 'extrapolate'.

    Example:
      >>> import numpy as np, frechet
      >>> from frechet.scipy.interpolate import interp1d
      >>> g = frechet.grad(lambda y: interp1d([0.0, 1.0, 2.0], y)(0.5))(np.ones(3))
    """

    def __init__(self, x, y, kind="linear", axis: int = -1, copy: bool = True,
                 bounds_error=None, fill_value=np.nan, assume_sorted: bool = False):
        fnp = traced_numpy()
        x = _knots(x, "interp1d")
        y = _inexact(y)
        if kind not in _SPLINE_KINDS and kind not in ("linear", *_STEP_KINDS) \
                and not isinstance(kind, int):
            raise NotImplementedError(f"{kind} is unsupported: Use fitpack routines for other "
                                      f"types.")
        if x.ndim != 1:
            raise ValueError("the x array must have exactly one dimension.")
        if not shape_of(y):
            raise ValueError("the y array must have at least one dimension.")
        self.axis = axis % len(shape_of(y))
        yt = fnp.moveaxis(y, self.axis, 0)
        if not assume_sorted:
            order = np.argsort(x, kind="mergesort")
            x, yt = x[order], fnp.take(yt, order, axis=0)
        extrapolate = isinstance(fill_value, str) and fill_value == "extrapolate"
        if extrapolate and bounds_error:
            raise ValueError("Cannot extrapolate and raise at the same time.")
        self.bounds_error = not extrapolate if bounds_error is None else bounds_error
        self.x, self.kind, self._extrapolate = x, kind, extrapolate
        order = _SPLINE_KINDS.get(kind, kind) if kind not in ("linear", *_STEP_KINDS) else None
        minval = 1 if order is None else order + 1
        if len(x) < minval:
            raise ValueError(f"x and y arrays must have at least {minval} entries")
        self._y = yt
        if kind == "previous" and extrapolate:     # SciPy: NaN below, the last value above
            fill_value, self._extrapolate = (np.nan, yt[-1]), False
        elif kind == "next" and extrapolate:
            fill_value, self._extrapolate = (yt[0], np.nan), False
        if not self._extrapolate:
            self._fill = fill_value if isinstance(fill_value, tuple) and len(fill_value) == 2 \
                else (fill_value, fill_value)
        if order is not None:
            self._spline = make_interp_spline(x, yt, order, axis=0, check_finite=False)
        elif kind == "linear":
            dx = np.diff(x).reshape((-1,) + (1,) * (len(shape_of(yt)) - 1))
            self._pp = fnp.stack([(yt[1:] - yt[:-1]) / dx, yt[:-1]])

    def _step(self, xs):
        """nearest / previous / next: the index of the chosen data point, by counting."""
        fnp = traced_numpy()
        x, n = self.x, len(self.x)
        if self.kind in ("nearest", "nearest-up"):
            bds = x / 2.0
            bds = bds[1:] + bds[:-1]
            cmp = xs[:, None] > bds if self.kind == "nearest" else xs[:, None] >= bds
            j = fnp.clip(fnp.sum(cmp, axis=-1), 0, n - 1)
        elif self.kind == "previous":
            j = fnp.clip(fnp.sum(xs[:, None] >= x, axis=-1), 1, n) - 1
        else:
            j = fnp.clip(fnp.sum(xs[:, None] > x, axis=-1), 0, n - 1)
        return fnp.take(self._y, j, axis=0)

    def __call__(self, x_new):
        fnp = traced_numpy()
        xs = _inexact(x_new)
        shape = shape_of(xs)
        flat = fnp.reshape(xs, (-1,))
        if self.kind in _STEP_KINDS:
            out = self._step(flat)
        elif self.kind == "linear":
            out = _evaluate(self.x, self._pp, flat, side="left")
        else:
            out = self._spline(flat)
        if not self._extrapolate:
            out = self._fill_outside(flat, out)
        out = fnp.reshape(out, shape + shape_of(self._y)[1:])
        return _place(out, len(shape), self.axis)

    def _fill_outside(self, flat, out):
        fnp = traced_numpy()
        x0, x1 = self.x[0], self.x[-1]
        if self.bounds_error:
            c = concrete(flat, "interp1d(bounds_error=True)",
                         "pass bounds_error=False (and a fill_value) to interpolate traced "
                         "points without concrete values")
            if np.any(c < x0):
                raise ValueError(f"A value ({c[np.argmax(c < x0)]}) in x_new is below the "
                                 f"interpolation range's minimum value ({x0}).")
            if np.any(c > x1):
                raise ValueError(f"A value ({c[np.argmax(c > x1)]}) in x_new is above the "
                                 f"interpolation range's maximum value ({x1}).")
        col = (-1,) + (1,) * (len(shape_of(out)) - 1)
        below, above = fnp.reshape(flat < x0, col), fnp.reshape(flat > x1, col)
        lo, hi = (asarray(v) for v in self._fill)
        return fnp.where(below, lo, fnp.where(above, hi, out))
