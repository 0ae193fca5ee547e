"""Elementwise primitives: one per NumPy ufunc loop family, strict (equal shapes, the dtypes
NumPy's loop selection gives). The front end inserts the broadcasts and conversions.

Derivatives are data: each smooth function names its derivative in terms of its input `x`
and output `ans` (reusing `ans` where it is cheaper: exp, tanh, sqrt). Functions that are
piecewise constant (floor, sign, comparisons) have zero derivative.
"""

from __future__ import annotations

import functools
import math

import numpy as np

from frechet._src.core import backend
from frechet._src.core.backend import defbackend
from frechet._src.core.chunked import full_like as chunked_full_like
from frechet._src.core.chunked import is_chunked
from frechet._src.core.primitive import primitive
from frechet._src.core.registry import Role, declare
from frechet._src.core.spec import ArraySpec, is_complex
from frechet._src.interpreters import arrays, scalars
from frechet._src.interpreters.ad import is_undefined
from frechet._src.interpreters.enclosure import arithmetic as E
from frechet._src.interpreters.enclosure import interval as iv
from frechet._src.interpreters.enclosure import rules as enc
from frechet._src.interpreters.jet import taylor_from_jvp
from frechet._src.ir import codegen, fusion, native_rules
from frechet._src.prims import taylor_rules
from frechet._src.prims.rules import (
    defbilinear,
    defjvp,
    defjvp_output,
    defjvp_scale,
    deflinear,
    defvectorized,
    defzero,
    taylor_by_jvp,
)
from frechet._src.prims.shape import convert, select_p


@functools.cache
def out_dtypes(ufunc, in_dtypes: tuple) -> tuple:
    """The input and output dtypes NumPy's loop selection gives for `in_dtypes`."""
    return ufunc.resolve_dtypes(in_dtypes + (None,) * ufunc.nout)


def _abstract(ufunc):
    @functools.lru_cache(maxsize=4096)
    def rule(*xs):
        shape = xs[0].shape
        for x in xs[1:]:
            if x.shape != shape:
                raise TypeError(f"{ufunc.__name__}: shapes {[x.shape for x in xs]} differ "
                                "(primitives do not broadcast)")
        dts = out_dtypes(ufunc, tuple(x.dtype for x in xs))
        outs = [ArraySpec(shape, d) for d in dts[ufunc.nin:]]
        return outs if ufunc.nout > 1 else outs[0]
    return rule


def _impl(ufunc):
    if ufunc.nout > 1:
        return lambda *xs: list(ufunc(*xs))
    return ufunc


UFUNC_PRIMS: dict = {}   # ufunc -> primitive


def ufunc_primitive(ufunc, name=None):
    p = primitive(name or ufunc.__name__, _impl(ufunc), _abstract(ufunc),
                  multiple_results=ufunc.nout > 1)
    defvectorized(p)
    UFUNC_PRIMS[ufunc] = p
    return p


_SMALL = 4096
_CONSTS: dict = {}


def full(shape, value, dtype):
    """A read-only constant array. Small ones are cached (eager code rebuilds the same constants
    every operation); large ones are zero-copy broadcast views."""
    if isinstance(value, np.ndarray) and value.ndim:     # an array broadcast to the shape
        return np.broadcast_to(np.asarray(value, dtype=dtype), shape)
    key = (shape, value, dtype)
    if not value:       # -0.0 == 0.0 (and hash alike): the sign of a zero is part of the key
        key += (str(value),)
    try:
        return _CONSTS[key]
    except KeyError:
        pass
    n = 1
    for d in shape:
        n *= d
    if n > _SMALL:
        return np.broadcast_to(np.asarray(value, dtype=dtype), shape)
    a = np.empty(shape, dtype)
    a.fill(value)
    a.flags.writeable = False
    if len(_CONSTS) > 1024:
        _CONSTS.clear()
    _CONSTS[key] = a
    return a


def const(x, value):
    """A constant array of x's shape and dtype: lazy and chunked like x for a Dask array x
    (core/chunked.py), in x's library for another library's array (core/backend.py)."""
    if type(x) is not np.ndarray and is_chunked(x):
        return chunked_full_like(x, value)
    dt = x.dtype
    if isinstance(dt, np.dtype):
        return full(x.shape, value, dt)
    return backend.full_like(x, value)


# Every ufunc NumPy has (except matmul and its kin, which are contractions) is a primitive.
_CONTRACTIONS = {"matmul", "vecdot", "matvec", "vecmat"}
_ALIASES = {"conj": "conjugate", "true_divide": "divide", "mod": "remainder", "abs": "absolute",
            "bitwise_not": "invert", "acos": "arccos", "acosh": "arccosh", "asin": "arcsin",
            "asinh": "arcsinh", "atan": "arctan", "atanh": "arctanh", "atan2": "arctan2",
            "pow": "power", "bitwise_left_shift": "left_shift", "bitwise_right_shift": "right_shift",
            "bitwise_invert": "invert", "degrees": "rad2deg", "radians": "deg2rad"}
ALL_UFUNCS = sorted({getattr(np, n) for n in dir(np) if isinstance(getattr(np, n), np.ufunc)},
                    key=lambda u: u.__name__)
P = {}
for _u in ALL_UFUNCS:
    if _u.__name__ not in _CONTRACTIONS and _u not in UFUNC_PRIMS:
        P[_u.__name__] = ufunc_primitive(_u)


def bind(name, *args):
    return P[name].bind(*args)


# The rules' arithmetic: the primitives' own bind methods (no wrapper frame on the hot path).
add = P["add"].bind
sub = P["subtract"].bind
mul = P["multiply"].bind
div = P["divide"].bind
neg = P["negative"].bind


def square(x):
    return mul(x, x)


def select(pred, a, b):
    return select_p.bind(pred, a, b)


def real(x):
    return real_p.bind(x) if is_complex(x.dtype) else x


# real, imag: not ufuncs in NumPy, but elementwise and R-linear ----------------------------------

def _real_spec(x):
    return ArraySpec(x.shape, np.finfo(x.dtype).dtype)


real_p = primitive("real", np.real, _real_spec)
imag_p = primitive("imag", np.imag, _real_spec)


def _to_complex(ct, spec):
    return convert(ct, spec.dtype)


# With the bilinear pairing Re(a*b): real^T(c) = c + 0j and imag^T(c) = -1j*c.
deflinear(real_p, lambda ct, x: (_to_complex(ct, x),))
deflinear(imag_p, lambda ct, x: (mul(_to_complex(ct, x), const(x, -1j)),))
defvectorized(real_p)
defvectorized(imag_p)

# Linear ufuncs -------------------------------------------------------------------------------------

deflinear(P["negative"], lambda ct, x: (neg(ct),))
deflinear(P["positive"], lambda ct, x: (ct,))
deflinear(P["conjugate"], lambda ct, x: (bind("conjugate", ct),))
deflinear(P["deg2rad"], lambda ct, x: (bind("deg2rad", ct),))
deflinear(P["rad2deg"], lambda ct, x: (bind("rad2deg", ct),))
deflinear(P["degrees"], lambda ct, x: (bind("degrees", ct),))
deflinear(P["radians"], lambda ct, x: (bind("radians", ct),))


def _add_jvp(primals, tangents):
    x, y = primals
    tx, ty = tangents
    ans = add(x, y)
    if tx is None:
        return ans, ty
    return ans, tx if ty is None else add(tx, ty)


def _sub_jvp(primals, tangents):
    x, y = primals
    tx, ty = tangents
    ans = sub(x, y)
    if ty is None:
        return ans, tx
    return ans, neg(ty) if tx is None else sub(tx, ty)


P["add"].jvp = _add_jvp
P["add"].transpose = lambda ct, x, y: (ct, ct)
P["subtract"].jvp = _sub_jvp
P["subtract"].transpose = lambda ct, x, y: (ct, neg(ct))
P["add"].linear = P["subtract"].linear = True

defbilinear(P["multiply"], P["multiply"].bind, P["multiply"].bind)
# With one argument constant, the tangent of the other is scaled by a factor (None: one); the
# JVP trace uses this to fold chains of scalings (see JVPTracer).
P["add"].jvp_by_constant = lambda i, c: None
# Both arguments scalings of one tangent: the JVP trace adds the factors (fan-out code, where
# every term comes from the same value, keeps one pending scaling instead of recording three).
P["add"].jvp_sum_sign, P["subtract"].jvp_sum_sign = 1, -1
P["subtract"].jvp_by_constant = lambda i, c: None if i == 0 else const(c, -1)
P["multiply"].jvp_by_constant = lambda i, c: c


def _div_jvp(primals, tangents):
    (x, y), (tx, ty) = primals, tangents
    ans = div(x, y)
    out = None if tx is None else div(tx, y)
    if ty is not None:
        dy = neg(mul(ty, div(ans, y)))
        out = dy if out is None else add(out, dy)
    return ans, out


def _div_transpose(ct, x, y):
    if is_undefined(y):
        raise TypeError("divide is linear in its numerator only")
    return div(ct, y), None


P["divide"].jvp = _div_jvp
P["divide"].transpose = _div_transpose
P["divide"].linear = True
P["divide"].jvp_by_constant = lambda i, c: P["reciprocal"].impl(c) if i == 0 else NotImplemented

# Smooth unary ufuncs: derivative in terms of x and ans -------------------------------------------

_LN2, _LN10 = math.log(2.0), math.log(10.0)


def _sqrt(x):
    return bind("sqrt", x)


# Derivatives that read x only (Taylor mode then evaluates them once, to order K-1) ...
_OF_X = {
    "sin": lambda x, ans: P["cos"].bind(x),
    "cos": lambda x, ans: neg(P["sin"].bind(x)),
    "arcsin": lambda x, ans: div(const(x, 1), _sqrt(sub(const(x, 1), square(x)))),
    "arccos": lambda x, ans: div(const(x, -1), _sqrt(sub(const(x, 1), square(x)))),
    "arctan": lambda x, ans: div(const(x, 1), add(const(x, 1), square(x))),
    "sinh": lambda x, ans: P["cosh"].bind(x),
    "cosh": lambda x, ans: P["sinh"].bind(x),
    "arcsinh": lambda x, ans: div(const(x, 1), _sqrt(add(square(x), const(x, 1)))),
    "arccosh": lambda x, ans: div(const(x, 1), mul(_sqrt(sub(x, const(x, 1))),
                                                   _sqrt(add(x, const(x, 1))))),
    "arctanh": lambda x, ans: div(const(x, 1), sub(const(x, 1), square(x))),
    "log": lambda x, ans: div(const(x, 1), x),
    "log2": lambda x, ans: div(const(x, 1 / _LN2), x),
    "log10": lambda x, ans: div(const(x, 1 / _LN10), x),
    "log1p": lambda x, ans: div(const(x, 1), add(x, const(x, 1))),
    "square": lambda x, ans: mul(x, const(x, 2)),
    "fabs": lambda x, ans: P["sign"].bind(x),
}
# ... and those that reuse the output (cheaper; Taylor mode recomputes them order by order).
_OF_ANS = {
    "tan": lambda x, ans: add(const(ans, 1), square(ans)),
    "tanh": lambda x, ans: sub(const(ans, 1), square(ans)),
    "exp": lambda x, ans: ans,
    "exp2": lambda x, ans: mul(ans, const(ans, _LN2)),
    "expm1": lambda x, ans: add(ans, const(ans, 1)),
    "sqrt": lambda x, ans: div(const(ans, 0.5), ans),
    "cbrt": lambda x, ans: div(const(ans, 1 / 3), square(ans)),
    "reciprocal": lambda x, ans: neg(square(ans)),
}
SMOOTH_UNARY = {**_OF_X, **_OF_ANS}     # name -> derivative d(x, ans)


# The same on Python floats, for the scalar tape (interpreters/scalars.py) where scalar code
# calls them often: NumPy's value (sqrt: correctly rounded, as math's), the derivative above,
# and, outside the domain where NumPy computes without a warning, a ValueError (the tape then
# hands the operation to the generic path, which warns as NumPy does).
def _floats(value, derivative, domain=None):
    def rule(x):
        if domain is not None and not domain(x):
            raise ValueError
        v = float(value(x))
        return v, derivative(x, v)
    return rule


_EXP_MAX = 709.78      # np.exp overflows (and warns) from 709.7827...


_FLOAT_FORMS = {
    "sqrt": _floats(math.sqrt, lambda x, v: 0.5 / v),
    "exp": _floats(np.exp, lambda x, v: v, lambda x: x <= _EXP_MAX),
    "log": _floats(np.log, lambda x, v: 1.0 / x, lambda x: 0.0 < x < math.inf),
    "sin": _floats(np.sin, lambda x, v: math.cos(x), math.isfinite),
    "cos": _floats(np.cos, lambda x, v: -math.sin(x), math.isfinite),
    "tanh": _floats(np.tanh, lambda x, v: 1.0 - v * v),
}
# ... and on small arrays, for the array tape (interpreters/arrays.py): the same NumPy
# operations as the derivatives above (so the same warnings), without binding primitives.
_ARRAY_FORMS = {
    "sin": lambda x, ans: np.cos(x),
    "cos": lambda x, ans: np.negative(np.sin(x)),
    "sinh": lambda x, ans: np.cosh(x),
    "cosh": lambda x, ans: np.sinh(x),
    "arctan": lambda x, ans: np.divide(1.0, np.add(1.0, np.square(x))),
    "log": lambda x, ans: np.divide(1.0, x),
    "log1p": lambda x, ans: np.divide(1.0, np.add(x, 1.0)),
    "square": lambda x, ans: np.multiply(x, 2.0),
    "tan": lambda x, ans: np.add(1.0, np.square(ans)),
    "tanh": lambda x, ans: np.subtract(1.0, np.square(ans)),
    "exp": lambda x, ans: ans,
    "expm1": lambda x, ans: np.add(ans, 1.0),
    "sqrt": lambda x, ans: np.divide(0.5, ans),
    "reciprocal": lambda x, ans: np.negative(np.square(ans)),
}
for _name, _d in SMOOTH_UNARY.items():
    defjvp_scale(P[_name], _d)
    P[_name].taylor = taylor_rules.smooth(P[_name], _d, x_only=_name in _OF_X)
    scalars.defunary(P[_name], _d, _FLOAT_FORMS.get(_name))
    arrays.defunary(P[_name], _d, _ARRAY_FORMS.get(_name))


def _abs_jvp(t, ans, x):
    if not is_complex(x.dtype):
        return mul(t, bind("sign", x))
    # d|z| = Re(conj(z) dz) / |z|, taken as 0 at z = 0.
    zero = bind("equal", ans, const(ans, 0))
    safe = select(zero, const(ans, 1), ans)
    r = select(zero, const(x, 0), div(bind("conjugate", x), convert(safe, x.dtype)))
    return real(mul(t, r))


defjvp_output(P["absolute"], _abs_jvp)

ZERO_DERIVATIVE = ["ceil", "floor", "rint", "trunc", "sign", "signbit", "isfinite", "isinf",
                   "isnan", "isnat", "logical_not", "invert", "spacing", "bitwise_count",
                   "equal", "not_equal", "less", "less_equal", "greater", "greater_equal",
                   "logical_and", "logical_or", "logical_xor", "bitwise_and", "bitwise_or",
                   "bitwise_xor", "left_shift", "right_shift", "gcd", "lcm", "floor_divide"]
for _name in ZERO_DERIVATIVE:
    defzero(P[_name])


def _frexp_jvp(primals, tangents):
    (x,), (t,) = primals, tangents
    m, e = P["frexp"].bind(x)
    return [m, e], [None if t is None else div(mul(t, m), x), None]


def _modf_jvp(primals, tangents):
    (x,), (t,) = primals, tangents
    frac, whole = P["modf"].bind(x)
    return [frac, whole], [t, None]


def _divmod_jvp(primals, tangents):
    (x, y), (tx, ty) = primals, tangents
    q, r = P["divmod"].bind(x, y)
    tr = tx
    if ty is not None:
        d = neg(mul(ty, q))
        tr = d if tr is None else add(tr, d)
    return [q, r], [None, tr]


P["frexp"].jvp = _frexp_jvp
P["modf"].jvp = _modf_jvp
P["divmod"].jvp = _divmod_jvp

# Smooth binary ufuncs --------------------------------------------------------------------------


def _log_safe(x):
    """log(x) where x != 0, 0 where x == 0 (the y-derivative of x**y at x = 0 with y > 0)."""
    zero = bind("equal", x, const(x, 0))
    return select(zero, const(x, 0), bind("log", select(zero, const(x, 1), x)))


def _pow_dx(t, ans, x, y):
    # y * x**(y-1), with the y = 0 case exactly 0 (not 0 * inf at x = 0).
    yzero = bind("equal", y, const(y, 0))
    d = mul(y, bind("power", x, select(yzero, const(y, 1), sub(y, const(y, 1)))))
    return mul(t, select(yzero, const(d, 0), d))


def _hypot_safe(ans, v):
    zero = bind("equal", ans, const(ans, 0))
    return select(zero, const(ans, 0), div(v, select(zero, const(ans, 1), ans)))


def _minmax(name, pick):
    """maximum/minimum and fmax/fmin: the tangent of the chosen argument; ties split 50/50."""
    def dx(t, ans, x, y, mine=True):
        a, b = (x, y) if mine else (y, x)
        win = bind("equal", a, ans)
        tie = bind("logical_and", win, bind("equal", b, ans))
        w = select(win, select(tie, const(a, 0.5), const(a, 1)), const(a, 0))
        return mul(t, w)
    defjvp_output(P[name], dx, lambda t, ans, x, y: dx(t, ans, x, y, mine=False))


for _n in ("maximum", "minimum", "fmax", "fmin"):
    _minmax(_n, None)

defjvp_output(P["power"], _pow_dx,
              lambda t, ans, x, y: mul(t, mul(ans, _log_safe(x))))
defjvp(P["float_power"], lambda t, x, y: _pow_dx(t, bind("float_power", x, y), x, y),
       lambda t, x, y: mul(t, mul(bind("float_power", x, y), _log_safe(x))))
defjvp(P["arctan2"],
       lambda t, y, x: mul(t, div(x, add(square(x), square(y)))),
       lambda t, y, x: mul(t, div(neg(y), add(square(x), square(y)))))
defjvp_output(P["hypot"], lambda t, ans, x, y: mul(t, _hypot_safe(ans, x)),
              lambda t, ans, x, y: mul(t, _hypot_safe(ans, y)))
defjvp_output(P["logaddexp"], lambda t, ans, x, y: mul(t, bind("exp", sub(x, ans))),
              lambda t, ans, x, y: mul(t, bind("exp", sub(y, ans))))
defjvp_output(P["logaddexp2"], lambda t, ans, x, y: mul(t, bind("exp2", sub(x, ans))),
              lambda t, ans, x, y: mul(t, bind("exp2", sub(y, ans))))
defjvp(P["copysign"],
       lambda t, x, y: mul(t, select(bind("equal", bind("signbit", x), bind("signbit", y)),
                                     const(x, 1), const(x, -1))),
       lambda t, x, y: None)
defjvp(P["fmod"], lambda t, x, y: t,
       lambda t, x, y: mul(t, neg(bind("trunc", div(x, y)))))
defjvp(P["remainder"], lambda t, x, y: t,
       lambda t, x, y: mul(t, neg(bind("floor", div(x, y)))))
defjvp(P["nextafter"], lambda t, x, y: t, lambda t, x, y: None)
defjvp(P["ldexp"], lambda t, x, n: mul(t, bind("ldexp", const(x, 1), n)), None)
defjvp(P["heaviside"], lambda t, x, h: None,
       lambda t, x, h: mul(t, select(bind("equal", x, const(x, 0)), const(h, 1), const(h, 0))))


# Taylor rules beyond the smooth unary ones (taylor_rules.py): recurrences for divide and
# power; linear in the tangents with weights fixed by the primal for sums, selections, and
# the piecewise choices of maximum/minimum and absolute value (away from ties and zero, the
# chosen piece's series; at them, the JVP's convention); |z| of a complex z is smooth.
P["divide"].taylor = taylor_rules.divide(P["divide"])
P["power"].taylor = taylor_rules.power(P["power"], P["multiply"])
for _name in ("add", "subtract", "maximum", "minimum", "fmax", "fmin", "absolute"):
    P[_name].taylor = taylor_by_jvp(P[_name])
P["absolute"].taylor = taylor_rules.complex_abs(P["absolute"].taylor,
                                                taylor_from_jvp(P["absolute"]))

# Enclosure rules (frechet.bounds; interpreters/enclosure/rules.py): sums and products by the
# interval polynomials' arithmetic, smooth functions composed with their sharp one-dimensional
# enclosures, max and min through |a - b|, comparisons constant where the compared intervals do
# not overlap over the region (else they raise).
def _div_enclosure(args, reg):
    a, b = args
    if not isinstance(b, enc.Enc):
        b = np.asarray(b, dtype=np.float64)
        with np.errstate(divide="ignore"):
            inv = (iv.down(1.0 / b), iv.up(1.0 / b))
        return E.scale(enc.terms_of(a, reg), inv)
    return E.mul(enc.terms_of(a, reg), enc.reciprocal(b, reg), reg)


def _pow_enclosure(args, reg):
    x, p = args
    if isinstance(p, enc.Enc):             # x^p = exp(p log x)
        log_x = enc.compose("log", enc.terms_of(x, reg), reg)
        return enc.compose("exp", E.mul(p.terms, log_x, reg), reg)
    p = np.asarray(p, dtype=np.float64)
    if p.size == 0 or np.any(p != p.flat[0]):
        raise NotImplementedError("taylor_bound: power with exponents that differ by element")
    p = float(p.flat[0])
    if p.is_integer() and p >= 0:
        return E.power(x.terms, int(p), reg) if p > 0 else E.constant(
            np.ones(E.value_shape(x.terms)), reg)
    return enc.compose("power", x, reg, p)


def _logaddexp_enclosure(args, reg):
    """log(e^a + e^b); with a constant c on one side, c + softplus(x - c) (sharp)."""
    if not all(isinstance(x, enc.Enc) for x in args):
        x, c = args if isinstance(args[0], enc.Enc) else args[::-1]
        c = np.asarray(c, dtype=np.float64)
        shifted = enc.Enc(enc.sub([x, c], reg), None if x.range is None else
                          iv.sub(x.range, iv.point(c)))
        return enc.add([enc.Enc(enc.compose("softplus", shifted, reg)), c], reg)
    a, b = args
    ea, eb = enc.exp_of(a, reg), enc.exp_of(b, reg)
    rng = None if ea.range is None or eb.range is None else iv.add(ea.range, eb.range)
    return enc.compose("log", enc.Enc(E.add(*enc.lifted([ea, eb], reg)), rng), reg)


def _equal_intervals(a, b):
    """(always equal: both the same point, never: the intervals apart)."""
    return ((a[0] == a[1]) & (b[0] == b[1]) & (a[0] == b[0]), (a[0] > b[1]) | (a[1] < b[0]))


P["add"].enclosure, P["subtract"].enclosure = enc.add, enc.sub
P["negative"].enclosure = lambda args, reg: E.neg(args[0].terms)
P["multiply"].enclosure = lambda args, reg: enc.mul(*args, reg)
P["divide"].enclosure = _div_enclosure
P["square"].enclosure = lambda args, reg: E.mul(args[0].terms, args[0].terms, reg)
P["power"].enclosure = _pow_enclosure
P["reciprocal"].enclosure = lambda args, reg: enc.reciprocal(args[0], reg)
P["sqrt"].enclosure = enc.unary("power", 0.5)
P["cbrt"].enclosure = enc.unary("power", 1.0 / 3.0)
for _name in ("exp", "log", "sin", "cos", "tanh"):
    P[_name].enclosure = enc.unary(_name)
P["expm1"].enclosure = lambda args, reg: enc.one_plus(enc.compose("exp", args[0].terms, reg),
                                                      reg, -1.0)
P["log1p"].enclosure = lambda args, reg: enc.compose("log", enc.shifted(args[0], reg), reg)
P["logaddexp"].enclosure = _logaddexp_enclosure
P["absolute"].enclosure = P["fabs"].enclosure = lambda args, reg: enc.absolute(args[0], reg)
P["maximum"].enclosure = P["fmax"].enclosure = enc.minmax(1)
P["minimum"].enclosure = P["fmin"].enclosure = enc.minmax(-1)
# on the intervals a, b of the compared values: (always true, always false)
for _name, _test in {
    "greater": lambda a, b: (a[0] > b[1], a[1] <= b[0]),
    "greater_equal": lambda a, b: (a[0] >= b[1], a[1] < b[0]),
    "less": lambda a, b: (a[1] < b[0], a[0] >= b[1]),
    "less_equal": lambda a, b: (a[1] <= b[0], a[0] > b[1]),
    "not_equal": lambda a, b: _equal_intervals(a, b)[::-1],
    "equal": _equal_intervals,
}.items():
    P[_name].enclosure = enc.comparison(_test)

# Passes and back ends (ir/): what peephole and the JVP trace emit as a scaling, codegen's
# operator forms, fused-loop templates (vecmath: vectorised float64 versions).
declare(P["multiply"], Role.MULTIPLY)
for _name, _form in (("add", "{} + {}"), ("subtract", "{} - {}"), ("multiply", "{} * {}"),
                     ("divide", "{} / {}"), ("negative", "-{}")):
    codegen.INLINE[P[_name]] = codegen.operator(_form)
for _name, _expr in {
    "add": "({0} + {1})", "subtract": "({0} - {1})", "multiply": "({0} * {1})",
    "divide": "({0} / {1})", "negative": "(-{0})", "positive": "(+{0})",
    "square": "({0} * {0})", "reciprocal": "(_T(1.0) / {0})", "power": "({0} ** {1})",
    "absolute": "abs({0})", "fabs": "abs({0})", "sign": "_sign({0})",
    "maximum": "_maximum({0}, {1})", "minimum": "_minimum({0}, {1})",
    "fmax": "_fmax({0}, {1})", "fmin": "_fmin({0}, {1})",
    "equal": "({0} == {1})", "not_equal": "({0} != {1})", "less": "({0} < {1})",
    "less_equal": "({0} <= {1})", "greater": "({0} > {1})", "greater_equal": "({0} >= {1})",
    "logical_and": "({0} and {1})", "logical_or": "({0} or {1})", "logical_not": "(not {0})",
    "arctan2": "np.arctan2({0}, {1})", "hypot": "np.hypot({0}, {1})",
}.items():
    fusion.deftemplate(P[_name], _expr)
for _name in ("tan", "arcsin", "arccos", "arctan", "sinh", "cosh", "arcsinh", "arccosh",
              "arctanh", "exp2", "log2", "log10", "sqrt", "cbrt"):
    fusion.deftemplate(P[_name], f"np.{_name}({{0}})")
fusion.deftemplate(P["exp"], "np.exp({0})", vecmath="exp", numpy_first_float32=True)
fusion.deftemplate(P["log"], "np.log({0})", vecmath="log", numpy_first_float32=True)
fusion.deftemplate(P["tanh"], "np.tanh({0})", vecmath="tanh", numpy_first_float32=True)
fusion.deftemplate(P["sin"], "np.sin({0})", vecmath="sin", numpy_first_float32=True, far=True)
fusion.deftemplate(P["cos"], "np.cos({0})", vecmath="cos", numpy_first_float32=True, far=True)
fusion.deftemplate(P["expm1"], "np.expm1({0})", vecmath="expm1")
fusion.deftemplate(P["log1p"], "np.log1p({0})", vecmath="log1p")

# Other array libraries (core/backend.py): the standard's function where it has one (under its
# standard name: acos for arccos), else the library's own, named per back end.
_STANDARD = frozenset((
    "abs", "acos", "acosh", "add", "asin", "asinh", "atan", "atan2", "atanh", "bitwise_and",
    "bitwise_left_shift", "bitwise_invert", "bitwise_or", "bitwise_right_shift", "bitwise_xor",
    "ceil", "conj", "copysign", "cos", "cosh", "divide", "equal", "exp", "expm1", "floor",
    "floor_divide", "greater", "greater_equal", "hypot", "isfinite", "isinf", "isnan", "less",
    "less_equal", "log", "log1p", "log2", "log10", "logaddexp", "logical_and", "logical_not",
    "logical_or", "logical_xor", "maximum", "minimum", "multiply", "negative", "nextafter",
    "not_equal", "positive", "pow", "reciprocal", "remainder", "round", "sign", "signbit", "sin",
    "sinh", "square", "sqrt", "subtract", "tan", "tanh", "trunc", "real", "imag"))
_STANDARD_NAME = {numpy_name: name for name, numpy_name in _ALIASES.items()
                  if name in _STANDARD} | {"rint": "round"}


def _standard(name):
    return lambda xp: getattr(xp, name)


for _name, _p in [*P.items(), ("real", real_p), ("imag", imag_p)]:
    if _STANDARD_NAME.get(_name, _name) in _STANDARD:
        _p.array_api = _standard(_STANDARD_NAME.get(_name, _name))
def _torch_cbrt(x):
    """np.cbrt where torch has none: |x|^(1/3) (up to 117 ulp off: 1/3 is rounded) and one
    Newton step, which brings it within 1 ulp of np.cbrt; x's sign kept (-0.0, -inf)."""
    import torch  # lazy: only torch tensors come here
    # Note: integers become float64 (NumPy's cbrt of small integer types gives float16/32)
    a = (x if x.is_floating_point() else x.to(torch.float64)).abs()
    r = a ** (1 / 3)
    r = torch.where((a > 0) & a.isfinite(), r + (a / r / r - r) / 3, r)
    return torch.copysign(r, x)


_OWN = {  # NumPy name: {back end: its function}, for functions outside the standard
    "exp2": ("torch.exp2", "cupy.exp2", "dask.array.exp2"),
    "cbrt": (_torch_cbrt, "cupy.cbrt", "dask.array.cbrt"),
    "deg2rad": ("torch.deg2rad", "cupy.deg2rad", "dask.array.deg2rad"),
    "rad2deg": ("torch.rad2deg", "cupy.rad2deg", "dask.array.rad2deg"),
    "radians": ("torch.deg2rad", "cupy.radians", "dask.array.radians"),
    "degrees": ("torch.rad2deg", "cupy.degrees", "dask.array.degrees"),
    "fmax": ("torch.fmax", "cupy.fmax", "dask.array.fmax"),
    "fmin": ("torch.fmin", "cupy.fmin", "dask.array.fmin"),
    "fmod": ("torch.fmod", "cupy.fmod", "dask.array.fmod"),
    "float_power": ("torch.float_power", "cupy.float_power", "dask.array.float_power"),
    "logaddexp2": ("torch.logaddexp2", "cupy.logaddexp2", "dask.array.logaddexp2"),
    "ldexp": ("torch.ldexp", "cupy.ldexp", "dask.array.ldexp"),
    "fabs": ("torch.abs", "cupy.fabs", "dask.array.fabs"),
    "heaviside": ("torch.heaviside", "cupy.heaviside", None),
    "gcd": ("torch.gcd", "cupy.gcd", None),
    "lcm": ("torch.lcm", "cupy.lcm", None),
}
for _name, _fns in _OWN.items():
    defbackend(P[_name], **{b: f for b, f in zip(("torch", "cupy", "dask"), _fns) if f})


def _modf_xp(xp):
    def modf(x):     # NumPy's: the fractional part keeps x's sign, and is +-0 at +-inf
        whole = xp.trunc(x)
        return [xp.where(xp.isinf(x), xp.copysign(xp.zeros_like(x), x), x - whole), whole]
    return modf


def _torch_frexp(x):
    import torch  # lazy: only torch tensors come here
    return list(torch.frexp(x))


P["divmod"].array_api = lambda xp: lambda x, y: [xp.floor_divide(x, y), xp.remainder(x, y)]
P["modf"].array_api = _modf_xp
defbackend(P["frexp"], torch=_torch_frexp)

for _name, _expr in native_rules.EXTRA_TEMPLATES.items():       # whole-program native code
    native_rules.defrule(P[_name], native_rules.Elementwise(_expr))
