"""The op-record table: every differentiable NumPy operation with arguments in its domain.

Each record is checked by finite differences (forward), the VJP/JVP inner product (reverse), to
second order, against NumPy's own value, and (through its linearization) by the dot-product test
of every linear primitive it uses.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import numpy as np
import scipy.special as sps

import frechet.scipy.linalg as fsl


class Rec(NamedTuple):
    name: str
    fn: Callable
    args: Callable          # rng -> tuple of arrays
    order: int = 2
    tol: float = 1e-5


def U(lo, hi, *shape, dtype=float):
    def make(rng):
        x = rng.uniform(lo, hi, shape)
        if np.dtype(dtype).kind == "c":
            x = x + 1j * rng.uniform(lo, hi, shape)
        return x.astype(dtype)
    return make


def args(*makers):
    return lambda rng: tuple(m(rng) for m in makers)


R = []


def rec(name, fn, *makers, **kw):
    R.append(Rec(name, fn, args(*makers), **kw))


# unary ufuncs: (name, domain) -------------------------------------------------------------
UNARY = {
    "sin": (-2, 2), "cos": (-2, 2), "tan": (-1, 1), "arcsin": (-.9, .9), "arccos": (-.9, .9),
    "arctan": (-2, 2), "sinh": (-2, 2), "cosh": (-2, 2), "tanh": (-2, 2), "arcsinh": (-2, 2),
    "arccosh": (1.2, 3), "arctanh": (-.9, .9), "exp": (-2, 2), "exp2": (-2, 2), "expm1": (-2, 2),
    "log": (.5, 2), "log2": (.5, 2), "log10": (.5, 2), "log1p": (-.5, 2), "sqrt": (.5, 2),
    "cbrt": (.5, 2), "square": (-2, 2), "reciprocal": (.5, 2), "absolute": (.5, 2),
    "fabs": (.5, 2), "negative": (-2, 2), "positive": (-2, 2), "conjugate": (-2, 2),
    "deg2rad": (-2, 2), "rad2deg": (-2, 2), "degrees": (-2, 2), "radians": (-2, 2),
}
for _n, (_lo, _hi) in UNARY.items():
    _f = getattr(np, _n)
    rec(_n, _f, U(_lo, _hi, 3, 4))
    rec(_n + "_scalar", _f, U(_lo, _hi))

COMPLEX_UNARY = {"sin": (-1, 1), "cos": (-1, 1), "tan": (-.5, .5), "sinh": (-1, 1),
                 "cosh": (-1, 1), "tanh": (-.5, .5), "exp": (-1, 1), "log": (.5, 2),
                 "sqrt": (.5, 2), "square": (-1, 1), "reciprocal": (.5, 2), "negative": (-1, 1),
                 "conjugate": (-1, 1), "absolute": (.5, 2), "arctan": (-.5, .5),
                 "arcsinh": (-.5, .5), "expm1": (-1, 1), "log1p": (-.3, .5), "log10": (.5, 2),
                 "log2": (.5, 2), "exp2": (-1, 1), "arcsin": (-.5, .5), "arccos": (-.5, .5),
                 "arctanh": (-.5, .5), "arccosh": (1.5, 2), "positive": (-1, 1)}
for _n, (_lo, _hi) in COMPLEX_UNARY.items():
    rec(_n + "_c128", getattr(np, _n), U(_lo, _hi, 5, dtype=complex))
rec("real_c128", np.real, U(-1, 1, 4, dtype=complex))
for _n in ("sum", "prod", "mean", "cumsum", "cumprod", "trace", "diagonal", "ravel", "flip",
           "transpose", "var"):
    rec(_n + "_c128", getattr(np, _n), U(.5, 1, 3, 3, dtype=complex))
rec("einsum_c128", lambda x, y: np.einsum("ij,jk->ik", x, y), U(-1, 1, 2, 3, dtype=complex),
    U(-1, 1, 3, 2, dtype=complex))
rec("tensordot_c128", lambda x, y: np.tensordot(x, y, 1), U(-1, 1, 2, 3, dtype=complex),
    U(-1, 1, 3, 2, dtype=complex))
rec("outer_c128", np.outer, U(-1, 1, 3, dtype=complex), U(-1, 1, 2, dtype=complex))
rec("kron_c128", np.kron, U(-1, 1, 2, dtype=complex), U(-1, 1, 2, dtype=complex))
rec("inner_c128", np.inner, U(-1, 1, 3, dtype=complex), U(-1, 1, 3, dtype=complex))
rec("convolve_c128", np.convolve, U(-1, 1, 4, dtype=complex), U(-1, 1, 2, dtype=complex))
rec("where_c128", lambda x, y: np.where(np.array([True, False, True]), x, y),
    U(-1, 1, 3, dtype=complex), U(-1, 1, 3, dtype=complex))
rec("getitem_c128", lambda x: x[[2, 0]] * x[1], U(-1, 1, 3, dtype=complex))
rec("mixed_real_complex", lambda x, z: x * z + np.exp(1j * x), U(-1, 1, 3),
    U(-1, 1, 3, dtype=complex))
rec("imag_c128", np.imag, U(-1, 1, 4, dtype=complex))
rec("abs2_c128", lambda z: np.abs(z) ** 2, U(-1, 1, 4, dtype=complex))
rec("angle_c128", np.angle, U(.5, 1, 4, dtype=complex))

# binary ufuncs ------------------------------------------------------------------------------
BINARY = {
    "add": ((-2, 2), (-2, 2)), "subtract": ((-2, 2), (-2, 2)), "multiply": ((-2, 2), (-2, 2)),
    "divide": ((-2, 2), (.5, 2)), "power": ((.5, 2), (-2, 2)), "float_power": ((.5, 2), (-2, 2)),
    "arctan2": ((-2, 2), (.5, 2)), "hypot": ((.5, 2), (.5, 2)), "logaddexp": ((-2, 2), (-2, 2)),
    "logaddexp2": ((-2, 2), (-2, 2)), "maximum": ((-2, 2), (-2, 2)), "minimum": ((-2, 2), (-2, 2)),
    "fmax": ((-2, 2), (-2, 2)), "fmin": ((-2, 2), (-2, 2)), "copysign": ((.5, 2), (-2, 2)),
    "fmod": ((2.1, 2.9), (.7, .9)), "remainder": ((2.1, 2.9), (.7, .9)),
}
for _n, ((_a, _b), (_c, _d)) in BINARY.items():
    _f = getattr(np, _n)
    rec(_n, _f, U(_a, _b, 3, 4), U(_c, _d, 3, 4))
    rec(_n + "_bcast", _f, U(_a, _b, 3, 1), U(_c, _d, 4))
    rec(_n + "_scalar", _f, U(_a, _b, 3), U(_c, _d))
for _n in ("add", "subtract", "multiply", "divide", "power"):
    rec(_n + "_c128", getattr(np, _n), U(.5, 1, 4, dtype=complex), U(.5, 1, 4, dtype=complex))
rec("ldexp", lambda x: np.ldexp(x, np.array([1, -2, 3])), U(-2, 2, 3))
rec("heaviside", lambda h: np.heaviside(np.array([-1.0, 0.0, 2.0]), h), U(.2, .8, 3))
rec("frexp", lambda x: np.frexp(x)[0], U(.5, 9, 4))
rec("modf", lambda x: np.modf(x)[0], U(.1, .9, 4))
rec("divmod", lambda x, y: np.divmod(x, y)[1], U(2.1, 2.9, 4), U(.7, .9, 4))
rec("nextafter", lambda x: np.nextafter(x, 10.0), U(-2, 2, 3))
rec("pow_const", lambda x: x ** 3 + x ** 2 + x ** 0.5 + x ** -1, U(.5, 2, 4))
rec("matmul", np.matmul, U(-1, 1, 3, 4), U(-1, 1, 4, 2))
rec("matmul_batch", np.matmul, U(-1, 1, 2, 3, 4), U(-1, 1, 4, 2))
rec("matmul_vec", np.matmul, U(-1, 1, 3, 4), U(-1, 1, 4))
rec("matmul_c128", np.matmul, U(-1, 1, 3, 4, dtype=complex), U(-1, 1, 4, 2, dtype=complex))
rec("vecdot", np.vecdot, U(-1, 1, 3, 4), U(-1, 1, 4))
rec("matvec", np.matvec, U(-1, 1, 3, 4), U(-1, 1, 4))
rec("vecmat", np.vecmat, U(-1, 1, 4), U(-1, 1, 4, 3))
rec("operators", lambda x, y: (x + y) * (x - y) / (y ** 2) - (-x) @ y.T + abs(x),
    U(.5, 2, 3, 3), U(.5, 2, 3, 3))

# reductions ---------------------------------------------------------------------------------
M34 = U(-2, 2, 3, 4)
P34 = U(.5, 2, 3, 4)
for _n in ("sum", "prod", "mean", "var", "std", "max", "min", "amax", "amin", "ptp", "nansum",
           "nanprod", "nanmean", "nanvar", "nanstd", "nanmax", "nanmin", "median", "average"):
    _f = getattr(np, _n)
    rec(_n, _f, P34 if _n in ("prod", "nanprod") else M34)
    rec(_n + "_axis0", lambda x, _f=_f: _f(x, axis=0), P34 if "prod" in _n else M34)
    if _n not in ("median", "average", "ptp"):
        rec(_n + "_keepdims", lambda x, _f=_f: _f(x, axis=1, keepdims=True), M34)
rec("prod_zeros", lambda x: np.prod(x * np.array([1.0, 0.0, 1.0, 1.0]), axis=1), M34)
rec("prod_two_zeros", lambda x: np.prod(x * np.array([1.0, 0.0, 0.0, 1.0]), axis=1), M34)
rec("var_ddof", lambda x: np.var(x, ddof=1, axis=0), M34)
rec("std_c128", np.std, U(-1, 1, 5, dtype=complex))
rec("average_w", lambda x, w: np.average(x, axis=1, weights=w), M34, U(.5, 1, 4))
rec("percentile", lambda x: np.percentile(x, [10, 50, 90], axis=1), M34)
rec("quantile", lambda x: np.quantile(x, 0.3), M34)
rec("nanquantile", lambda x: np.nanquantile(x, 0.7), M34)
rec("nanmedian", np.nanmedian, M34)
rec("nanpercentile", lambda x: np.nanpercentile(x, 25), M34)
rec("cumsum", lambda x: np.cumsum(x, axis=1), M34)
rec("cumprod", lambda x: np.cumprod(x, axis=0), M34)
rec("cumprod_zero", lambda x: np.cumprod(x * np.array([1.0, 0.0, 1.0, 1.0])), U(-2, 2, 4))
rec("cumulative_sum", lambda x: np.cumulative_sum(x, axis=1, include_initial=True), M34)
rec("cumulative_prod", lambda x: np.cumulative_prod(x, axis=1), M34)
rec("nancumsum", np.nancumsum, M34)
rec("nancumprod", np.nancumprod, P34)
rec("maximum_accumulate", lambda x: np.maximum.accumulate(x), U(-2, 2, 6))
rec("minimum_accumulate", lambda x: np.minimum.accumulate(x, axis=1), M34)
rec("around", lambda x: np.around(x, 1) * x, M34)
rec("fix", lambda x: np.fix(x) * x, M34)
rec("add_reduce", lambda x: np.add.reduce(x, axis=1), M34)
rec("subtract_reduce", lambda x: np.subtract.reduce(x, axis=1), M34)
rec("multiply_outer", np.multiply.outer, U(-1, 1, 3), U(-1, 1, 2))
rec("logsumexp_like", lambda x: np.log(np.sum(np.exp(x - np.max(x)))) + np.max(x), M34)

# shape manipulation ---------------------------------------------------------------------------
rec("reshape", lambda x: np.reshape(x, (2, 6)), M34)
rec("ravel", np.ravel, M34)
rec("transpose", np.transpose, U(-1, 1, 2, 3, 4))
rec("permute_dims", lambda x: np.permute_dims(x, (1, 2, 0)), U(-1, 1, 2, 3, 4))
rec("matrix_transpose", np.matrix_transpose, U(-1, 1, 2, 3, 4))
rec("moveaxis", lambda x: np.moveaxis(x, 0, -1), U(-1, 1, 2, 3, 4))
rec("rollaxis", lambda x: np.rollaxis(x, 2), U(-1, 1, 2, 3, 4))
rec("swapaxes", lambda x: np.swapaxes(x, 0, 2), U(-1, 1, 2, 3, 4))
rec("squeeze", np.squeeze, U(-1, 1, 3, 1, 4))
rec("expand_dims", lambda x: np.expand_dims(x, (0, 2)), M34)
rec("atleast_1d", np.atleast_1d, U(-1, 1))
rec("atleast_2d", np.atleast_2d, U(-1, 1, 3))
rec("atleast_3d", np.atleast_3d, U(-1, 1, 3))
rec("broadcast_to", lambda x: np.broadcast_to(x, (2, 3, 4)), U(-1, 1, 3, 1))
rec("broadcast_arrays", lambda x, y: np.broadcast_arrays(x, y)[0] * np.broadcast_arrays(x, y)[1],
    U(-1, 1, 3, 1), U(-1, 1, 4))
rec("concatenate", lambda x, y: np.concatenate([x, y, x], axis=1), M34, U(-1, 1, 3, 2))
rec("concat", lambda x, y: np.concat([x, y]), U(-1, 1, 2), U(-1, 1, 3))
rec("stack", lambda x, y: np.stack([x, y], axis=-1), M34, M34)
rec("vstack", lambda x, y: np.vstack([x, y]), U(-1, 1, 4), M34)
rec("hstack", lambda x, y: np.hstack([x, y]), U(-1, 1, 4), U(-1, 1, 2))
rec("dstack", lambda x, y: np.dstack([x, y]), M34, M34)
rec("column_stack", lambda x, y: np.column_stack([x, y]), U(-1, 1, 3), U(-1, 1, 3, 2))
rec("block", lambda x, y: np.block([[x, y], [y, x]]), U(-1, 1, 2, 2), U(-1, 1, 2, 2))
rec("split", lambda x: np.split(x, 2, axis=1)[1] * 2, M34)
rec("array_split", lambda x: np.array_split(x, 3, axis=1)[0], M34)
rec("hsplit", lambda x: np.hsplit(x, [1])[1], M34)
rec("vsplit", lambda x: np.vsplit(x, [1])[1], M34)
rec("dsplit", lambda x: np.dsplit(x, 2)[0], U(-1, 1, 2, 2, 4))
rec("unstack", lambda x: np.unstack(x)[1], M34)
rec("flip", np.flip, M34)
rec("fliplr", np.fliplr, M34)
rec("flipud", np.flipud, M34)
rec("rot90", lambda x: np.rot90(x, 1), M34)
rec("rot90_3", lambda x: np.rot90(x, 3), M34)
rec("roll", lambda x: np.roll(x, 2, axis=1), M34)
rec("roll_flat", lambda x: np.roll(x, -3), M34)
rec("tile", lambda x: np.tile(x, (2, 1, 2)), U(-1, 1, 2, 3))
rec("repeat", lambda x: np.repeat(x, [1, 2, 0], axis=0), M34)
rec("resize", lambda x: np.resize(x, (5, 3)), M34)
rec("append", lambda x, y: np.append(x, y), M34, U(-1, 1, 2))
rec("insert", lambda x: np.insert(x, 1, 5.0, axis=1), M34)
rec("insert_tracer", lambda x, y: np.insert(x, [0, 2], y), U(-1, 1, 4), U(-1, 1, 2))
rec("insert_negative", lambda x, y: np.insert(x, [-1, -4], y), U(-1, 1, 4), U(-1, 1, 2))
rec("insert_scalar_seq", lambda x, y: np.insert(x, -1, y), U(-1, 1, 4), U(-1, 1, 3))
rec("insert_column", lambda x, y: np.insert(x, 2, y, axis=1), M34, U(-1, 1, 3))
rec("insert_slice", lambda x: np.insert(x, slice(0, 3, 2), 7.0), U(-1, 1, 4))
rec("delete", lambda x: np.delete(x, [0, 2], axis=1), M34)
rec("pad_constant", lambda x: np.pad(x, ((1, 2), (0, 1)), constant_values=3.0), M34)
rec("pad_reflect", lambda x: np.pad(x, 2, mode="reflect"), U(-1, 1, 4))
rec("pad_symmetric", lambda x: np.pad(x, 2, mode="symmetric"), U(-1, 1, 4))
rec("pad_edge_wrap", lambda x: np.pad(x, 1, mode="edge") + np.pad(x, 1, mode="wrap"), M34)
rec("tril", np.tril, U(-1, 1, 4, 4))
rec("triu", lambda x: np.triu(x, 1), U(-1, 1, 2, 4, 4))
rec("diag", np.diag, U(-1, 1, 4))
rec("diag_k", lambda x: np.diag(x, -1), U(-1, 1, 3))
rec("diag_2d", np.diag, M34)
rec("diagflat", np.diagflat, U(-1, 1, 2, 2))
rec("diagonal", lambda x: np.diagonal(x, 1), M34)
rec("trace", np.trace, M34)
rec("astype", lambda x: np.astype(x, np.complex128) * 1j, M34)
rec("copy", np.copy, M34)

# indexing -----------------------------------------------------------------------------------
rec("getitem_basic", lambda x: x[1, 1:3] + x[..., -1].sum() + x[None, ::2, 1].sum(), M34)
rec("getitem_advanced", lambda x: x[[0, 2, 2], [1, 1, 3]], M34)
rec("getitem_mixed", lambda x: x[[0, 2], :, [1, 0]], U(-1, 1, 3, 2, 4))
rec("getitem_mask", lambda x: x[x > 0], M34)
rec("setitem", lambda x, y: _setitem(x, y), M34, U(-1, 1, 4))
rec("iadd", lambda x: _iadd(x), M34)
rec("take", lambda x: np.take(x, [3, 0, 3], axis=1), M34)
rec("take_flat", lambda x: np.take(x, [5, 1]), M34)
rec("take_along_axis", lambda x: np.take_along_axis(x, np.argsort(x, axis=1), axis=1), M34)
rec("put_along_axis", lambda x, v: _put_along(x, v), M34, U(-1, 1, 3, 1))
rec("choose", lambda a, b: np.choose(np.array([0, 1, 1, 0]), [a, b]), U(-1, 1, 4), U(-1, 1, 4))
rec("compress", lambda x: np.compress([True, False, True], x, axis=0), M34)
rec("extract", lambda x: np.extract(np.arange(12).reshape(3, 4) % 3 == 0, x), M34)
rec("where", lambda x, y: np.where(x > y, x, y * 2), M34, M34)
rec("select", lambda x: np.select([x < -1, x > 1], [x ** 2, -x], x), M34)
rec("clip", lambda x: np.clip(x, -1, 1), M34)
rec("piecewise", lambda x: np.piecewise(x, [x < 0, x >= 0], [lambda v: v ** 2, lambda v: 3 * v]),
    M34)
rec("nan_to_num", np.nan_to_num, M34)

# contractions --------------------------------------------------------------------------------
rec("dot", np.dot, M34, U(-1, 1, 4, 2))
rec("dot_vec", np.dot, U(-1, 1, 4), U(-1, 1, 4))
rec("dot_nd", np.dot, U(-1, 1, 2, 3, 4), U(-1, 1, 5, 4, 2))
rec("vdot", np.vdot, U(-1, 1, 4, dtype=complex), U(-1, 1, 4, dtype=complex))
rec("inner", np.inner, M34, U(-1, 1, 2, 4))
rec("outer", np.outer, U(-1, 1, 3), U(-1, 1, 4))
rec("tensordot", lambda x, y: np.tensordot(x, y, axes=([1, 2], [0, 1])), U(-1, 1, 2, 3, 4),
    U(-1, 1, 3, 4, 2))
rec("kron", np.kron, U(-1, 1, 2, 2), U(-1, 1, 3, 2))
rec("einsum", lambda x, y: np.einsum("ij,jk->ik", x, y), M34, U(-1, 1, 4, 2))
rec("einsum_trace", lambda x: np.einsum("ii", x), U(-1, 1, 3, 3))
rec("einsum_diag", lambda x: np.einsum("ii->i", x), U(-1, 1, 3, 3))
rec("einsum_three", lambda x, y, z: np.einsum("ij,jk,kl->il", x, y, z), U(-1, 1, 2, 3),
    U(-1, 1, 3, 4), U(-1, 1, 4, 2))
rec("einsum_ellipsis", lambda x, y: np.einsum("...ij,...jk", x, y), U(-1, 1, 2, 2, 3),
    U(-1, 1, 2, 3, 2))
rec("einsum_sum_only", lambda x, y: np.einsum("ij,k->i", x, y), M34, U(-1, 1, 2))
rec("cross", np.cross, U(-1, 1, 2, 3), U(-1, 1, 2, 3))
rec("cross_2d", lambda a, b: _quiet(np.cross, a, b), U(-1, 1, 4, 2), U(-1, 1, 4, 2))
rec("cross_mixed", lambda a, b: _quiet(np.cross, a, b), U(-1, 1, 2), U(-1, 1, 3, 3))
rec("cross_axis", lambda a, b: np.cross(a, b, axis=0), U(-1, 1, 3, 2), U(-1, 1, 3, 2))

# differences, integrals, signals, polynomials, statistics --------------------------------------
rec("diff", lambda x: np.diff(x, n=2, axis=1), M34)
rec("diff_prepend", lambda x: np.diff(x, prepend=0.0), U(-1, 1, 4))
rec("ediff1d", lambda x: np.ediff1d(x, to_begin=[1.0]), M34)
rec("gradient", lambda x: np.gradient(x, 0.5), U(-1, 1, 5))
rec("gradient_2d", lambda x: np.gradient(x)[1], M34)
rec("trapezoid", np.trapezoid, M34)
rec("trapezoid_x", lambda y: np.trapezoid(y, x=np.array([0.0, 0.5, 1.5, 3.0])), M34)
rec("convolve", np.convolve, U(-1, 1, 5), U(-1, 1, 3))
rec("convolve_same", lambda a, v: np.convolve(a, v, "same"), U(-1, 1, 5), U(-1, 1, 3))
rec("correlate", np.correlate, U(-1, 1, 5), U(-1, 1, 3))
rec("correlate_full", lambda a, v: np.correlate(a, v, "full"), U(-1, 1, 5), U(-1, 1, 2))
rec("correlate_short_first", lambda a, v: np.correlate(a, v, "full"), U(-1, 1, 2), U(-1, 1, 5))
rec("correlate_c128", lambda a, v: np.correlate(a, v, "same"), U(-1, 1, 3, dtype=complex),
    U(-1, 1, 5, dtype=complex))
rec("interp", lambda x, fp: np.interp(x, np.array([0.0, 1.0, 2.5]), fp), U(.1, 2.4, 4),
    U(-1, 1, 3))
rec("interp_xp", lambda xp: np.interp(np.array([0.2, 1.3, 2.0]), xp, np.array([1.0, 3.0, -2.0])),
    lambda rng: np.array([0.0, 1.0, 2.5]) + rng.uniform(-0.05, 0.05, 3))
rec("histogram_edges", lambda x: np.histogram(x, bins=3)[1], U(-1, 1, 6))
rec("histogram_weights", lambda w: np.histogram(np.array([0.1, 0.5, 0.52, 0.9]), bins=2,
                                                  weights=w)[0], U(-1, 1, 4))
rec("histogram_bin_edges", lambda x: np.histogram_bin_edges(x, bins=4), U(-1, 1, 6))
rec("histogram_density_weights", lambda w: np.histogram(np.array([0.1, 0.5, 0.52, 0.9]), bins=2,
                                                          density=True, weights=w)[0], U(.5, 1, 4))
rec("histogram2d_weights", lambda w: np.histogram2d(np.array([0.1, 0.5, 0.52, 0.9]),
                                                    np.array([0.3, 0.8, 0.1, 0.6]), bins=2,
                                                    weights=w)[0], U(-1, 1, 4))
rec("histogramdd_density", lambda s, w: np.histogramdd(s, bins=(2, 3), density=True,
                                                       weights=w)[0],
    lambda rng: np.array([[0.1, 0.3], [0.4, 0.8], [0.52, 0.1], [0.9, 0.6]])
    + rng.uniform(-.01, .01, (4, 2)), U(.5, 1, 4))
rec("polyval", np.polyval, U(-1, 1, 4), U(-1, 1, 3))
rec("polyfit", lambda y: np.polyfit(np.linspace(0, 1, 6), y, 2), U(-1, 1, 6))
rec("vander", lambda x: np.vander(x, 3), U(-1, 1, 4))
rec("polyadd", np.polyadd, U(-1, 1, 3), U(-1, 1, 2))
rec("polysub", np.polysub, U(-1, 1, 3), U(-1, 1, 2))
rec("polymul", np.polymul, U(-1, 1, 3), U(-1, 1, 2))
rec("polyder", lambda p: np.polyder(p, 2), U(-1, 1, 4))
rec("polyint", np.polyint, U(-1, 1, 3))
rec("polydiv", lambda u, v: np.polydiv(u, v)[0], U(-1, 1, 4), U(.5, 1, 2))
rec("poly", np.poly, U(-1, 1, 3))
# roots near well-separated ones (their order stays NumPy's under the finite differences)
rec("roots", np.roots, lambda rng: np.array([1.0, -6.0, 11.0, -6.0]) + rng.uniform(-.05, .05, 4))
rec("roots_complex", np.roots, lambda rng: np.array([3.2, 2.0, 1.0, -0.5]) + rng.uniform(-.05, .05, 4))
rec("roots_c128", np.roots,
    lambda rng: np.array([1.0, 0.3 + 0.4j, -2.0, 0.5j]) + rng.uniform(-.05, .05, 4))
rec("cov", np.cov, M34)
rec("corrcoef", np.corrcoef, M34)
rec("sort", lambda x: np.sort(x, axis=0), M34)
rec("sort_flat", lambda x: np.sort(x, axis=None), M34)
rec("partition", lambda x: np.partition(x, 2)[..., 2], M34)
rec("unique", lambda x: np.unique(np.concatenate([x, x[:2]])), U(-1, 1, 5))
rec("linspace", lambda a, b: np.linspace(a, b, 5), U(-1, 1), U(2, 3))
rec("linspace_arr", lambda a, b: np.linspace(a, b, 4, axis=1), U(-1, 1, 2), U(2, 3, 2))
rec("logspace", lambda a, b: np.logspace(a, b, 4), U(-1, 0), U(1, 2))
rec("geomspace", lambda a, b: np.geomspace(a, b, 4), U(.5, 1), U(2, 3))
rec("meshgrid", lambda x, y: np.meshgrid(x, y)[0] * np.meshgrid(x, y)[1], U(-1, 1, 3),
    U(-1, 1, 2))
rec("sinc", np.sinc, U(-2, 2, 5))
rec("i0", np.i0, U(-2, 2, 5))
rec("round", lambda x: np.round(x, 2) * x, M34)
rec("real_if_close", np.real_if_close, U(-1, 1, 4))
rec("full_like", lambda x: np.full_like(x, 2.0) * x, M34)
rec("unwrap", lambda x: np.unwrap(x * 4), U(-1, 1, 6))
rec("bincount_w", lambda w: np.bincount(np.array([0, 1, 1, 3]), weights=w), U(-1, 1, 4))
rec("sort_complex", lambda x: np.sort_complex(x), U(-1, 1, 4, dtype=complex))
rec("union1d", lambda x, y: np.union1d(x, y), U(-1, 1, 3), U(-1, 1, 2))
rec("intersect1d", lambda x: np.intersect1d(x, x[1:]), U(-1, 1, 3))
rec("setdiff1d", lambda x: np.setdiff1d(x, x[1:]), U(-1, 1, 3))
rec("setxor1d", lambda x: np.setxor1d(x, x[1:]), U(-1, 1, 3))
rec("trim_zeros", lambda x: np.trim_zeros(np.concatenate([np.zeros(2), x, np.zeros(1)])),
    U(.5, 1, 3))

rec("apply_along_axis", lambda x: np.apply_along_axis(lambda r: r[:2] * r.sum(), 1, x), M34)
rec("put", lambda x, v: _inplace(np.put, x, [0, 5], v), M34, U(-1, 1, 2))
rec("putmask", lambda x, v: _inplace(np.putmask, x, x > 0, v), M34, U(-1, 1, 3))
rec("place", lambda x, v: _inplace(np.place, x, x < 0, v), M34, U(-1, 1, 2))
rec("fill_diagonal", lambda x, v: _inplace(np.fill_diagonal, x, v), U(-1, 1, 3, 3), U(-1, 1, 3))
rec("fill_diagonal_tall", lambda x, v: _inplace(np.fill_diagonal, x, v), U(-1, 1, 7, 3),
    U(-1, 1, 2))
rec("fill_diagonal_wrap", lambda x: _inplace(lambda a, v: np.fill_diagonal(a, v, wrap=True), x,
                                             5.0), U(-1, 1, 7, 3))
rec("copyto", lambda x, v: _inplace(np.copyto, x, v), M34, U(-1, 1, 4))


def _inplace(fn, x, *a):
    x = x * 1.0
    fn(x, *a)
    return x


# scipy.special --------------------------------------------------------------------------------
rec("erf", sps.erf, U(-2, 2, 5))
rec("erfc", sps.erfc, U(-2, 2, 5))
rec("erfinv", sps.erfinv, U(-.9, .9, 5))
rec("gammaln", sps.gammaln, U(.5, 4, 5))
rec("digamma", sps.digamma, U(.5, 4, 5))
rec("expit", sps.expit, U(-3, 3, 5))
rec("logit", sps.logit, U(.1, .9, 5))
rec("i1", sps.i1, U(-2, 2, 5))
rec("polygamma", lambda x: sps.polygamma(1, x), U(.5, 3, 4))
rec("logsumexp", lambda x: sps.logsumexp(x, axis=1), M34)
rec("logsumexp_all", lambda x: sps.logsumexp(x), U(-50, 50, 6))
rec("logsumexp_b", lambda x: sps.logsumexp(x, b=np.array([1.0, 2.0, 0.5, 1.0])), M34)
rec("softmax", lambda x: sps.softmax(x, axis=0), M34)
rec("log_softmax", lambda x: sps.log_softmax(x, axis=-1), M34)
rec("xlogy", sps.xlogy, U(-1, 1, 4), U(.5, 2, 4))
rec("xlogy_zero", lambda y: sps.xlogy(np.array([0.0, 1.0, 0.0]), y), U(.5, 2, 3))
rec("xlog1py", sps.xlog1py, U(-1, 1, 4), U(-.5, 2, 4))
rec("entr", sps.entr, U(.1, 2, 5))
rec("gamma", sps.gamma, U(.5, 3, 5))
rec("loggamma", sps.loggamma, U(.5, 4, 5))
rec("beta", sps.beta, U(.5, 3, 4), U(.5, 3, 4))
rec("betaln", sps.betaln, U(.5, 3, 4), U(.5, 3, 4))
rec("betainc", lambda x: sps.betainc(2.0, 3.5, x), U(.1, .9, 4))
rec("gammainc", lambda x: sps.gammainc(2.5, x), U(.2, 3, 4))
rec("gammaincc", lambda x: sps.gammaincc(0.7, x), U(.2, 3, 4))
rec("ndtr", sps.ndtr, U(-3, 3, 5))
rec("log_ndtr", sps.log_ndtr, U(-6, 3, 5))
rec("ndtri", sps.ndtri, U(.05, .95, 5))
rec("log_expit", sps.log_expit, U(-3, 3, 5))
rec("erfcx", sps.erfcx, U(-1, 3, 5))
rec("i0e", sps.i0e, U(-2, 2, 5))
rec("i1e", sps.i1e, U(-2, 2, 5))
rec("iv", lambda x: sps.iv(1.5, x), U(.2, 3, 4))
rec("ive", lambda x: sps.ive(np.array([0.0, 1.0, 2.5, 2.0]), x), U(-3, 3, 4))
rec("kv", lambda x: sps.kv(np.array([0.5, 1.0, 2.5, 0.0]), x), U(.2, 3, 4))
rec("zeta", lambda q: sps.zeta(3.0, q), U(.5, 3, 4))
rec("rel_entr", sps.rel_entr, U(.1, 2, 4), U(.1, 2, 4))
rec("kl_div", sps.kl_div, U(.1, 2, 4), U(.1, 2, 4))
rec("gammaincinv", lambda y: sps.gammaincinv(2.5, y), U(.1, .9, 4))
rec("gammainccinv", lambda y: sps.gammainccinv(0.8, y), U(.1, .9, 4))
rec("betaincinv", lambda y: sps.betaincinv(2.0, 3.5, y), U(.1, .9, 4))
rec("stdtr", lambda x: sps.stdtr(3.5, x), U(-3, 3, 4))
rec("stdtrit", lambda p: sps.stdtrit(np.array([1.0, 2.5, 7.0, 30.0]), p), U(.05, .95, 4))


def _quiet(fn, *args):
    """fn(*args) without NumPy 2's deprecation warning for 2-vector cross products."""
    import warnings
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "Arrays of 2-dimensional vectors", DeprecationWarning)
        return fn(*args)


def _setitem(x, y):
    x = x * 1.0
    x[1] = y
    x[0, :2] = y[:2] * 3
    return x


def _iadd(x):
    y = x * 1.0
    y += x ** 2
    y[1:] *= 2.0
    return y


def _put_along(x, v):
    x = x * 1.0
    np.put_along_axis(x, np.array([[0], [3], [1]]), v, axis=1)
    return x


# linear algebra (well-conditioned matrices: identity-dominated) --------------------------------


def WELL(*shape, dtype=float):
    base = U(-0.5, 0.5, *shape, dtype=dtype)
    return lambda rng: base(rng) + 2.0 * np.eye(shape[-1])


rec("inv", np.linalg.inv, WELL(3, 3))
rec("inv_stack", np.linalg.inv, WELL(2, 3, 3))
rec("inv_c128", np.linalg.inv, WELL(3, 3, dtype=complex))
rec("solve", np.linalg.solve, WELL(3, 3), U(-1, 1, 3, 2))
rec("solve_vector", np.linalg.solve, WELL(3, 3), U(-1, 1, 3))
rec("solve_stack_a", np.linalg.solve, WELL(2, 3, 3), U(-1, 1, 3, 2))
rec("solve_stack_b", np.linalg.solve, WELL(3, 3), U(-1, 1, 2, 3, 2))
rec("solve_c128", np.linalg.solve, WELL(3, 3, dtype=complex), U(-1, 1, 3, dtype=complex))
rec("slogdet", lambda a: np.linalg.slogdet(a)[1], WELL(3, 3))
rec("slogdet_stack", lambda a: np.linalg.slogdet(a).logabsdet, WELL(2, 3, 3))
rec("slogdet_c128", lambda a: np.linalg.slogdet(a)[1], WELL(3, 3, dtype=complex))
rec("slogdet_sign_c128", lambda a: np.linalg.slogdet(a)[0], WELL(3, 3, dtype=complex))
rec("det", np.linalg.det, WELL(3, 3))
rec("det_stack", np.linalg.det, WELL(2, 3, 3))
rec("det_c128", np.linalg.det, WELL(3, 3, dtype=complex))

# eigh: inputs made Hermitian inside the function (the derivative takes the input as Hermitian);
# eigenvector outputs through sign/phase-invariant functions of them


def _sym(a):
    return a + np.conj(np.swapaxes(a, -1, -2))


rec("eigvalsh", lambda a: np.linalg.eigvalsh(_sym(a)), U(-1, 1, 4, 4))
rec("eigvalsh_stack", lambda a: np.linalg.eigvalsh(_sym(a), UPLO="U"), U(-1, 1, 2, 3, 3))
rec("eigh_vectors", lambda a: np.linalg.eigh(_sym(a))[1] ** 2, U(-1, 1, 4, 4))
def _projector(a):
    v = np.linalg.eigh(_sym(a))[1][:, :2]
    return v @ v.T


rec("eigh_projector", _projector, U(-1, 1, 4, 4))
rec("eigvalsh_c128", lambda a: np.linalg.eigvalsh(_sym(a)), U(-1, 1, 3, 3, dtype=complex))
rec("eigh_vectors_c128", lambda a: np.abs(np.linalg.eigh(_sym(a)).eigenvectors) ** 2,
    U(-1, 1, 3, 3, dtype=complex))

# svd and norms (singular vectors through sign-invariant functions of them)


def _svd_parts(a):
    u, s, vh = np.linalg.svd(a, full_matrices=False)
    return u ** 2, s, vh ** 2, (u * s) @ vh


rec("svdvals_tall", lambda a: np.linalg.svd(a, compute_uv=False), U(-1, 1, 4, 3))
rec("svdvals_wide", np.linalg.svdvals, U(-1, 1, 2, 4))
rec("svdvals_stack", np.linalg.svdvals, U(-1, 1, 2, 3, 3))
rec("svdvals_c128", np.linalg.svdvals, U(-1, 1, 3, 2, dtype=complex))
rec("svd_c128_reconstruction", lambda a: _svd_parts(a)[3], U(-1, 1, 3, 2, dtype=complex))
rec("svd_c128_moduli", lambda a: np.abs(_svd_parts(a)[0]) @ np.abs(_svd_parts(a)[2]),
    U(-1, 1, 3, 2, dtype=complex))
rec("svd_tall", lambda a: _svd_parts(a)[0] + _svd_parts(a)[3] @ np.ones((3, 1)), U(-1, 1, 4, 3))
rec("svd_wide", lambda a: _svd_parts(a)[2], U(-1, 1, 2, 4))
rec("svd_square", lambda a: np.linalg.svd(a)[0] ** 2 + np.linalg.svd(a)[2] ** 2, U(-1, 1, 3, 3))
for _o in (None, "fro", "nuc", 2, -2, 1, -1, np.inf, -np.inf):
    rec(f"norm_matrix_{_o}", lambda a, o=_o: np.linalg.norm(a, o), U(-1, 1, 3, 4))
for _o in (None, 1, 3, 0.5, np.inf, -np.inf):
    rec(f"norm_vector_{_o}", lambda a, o=_o: np.linalg.norm(a, o), U(0.2, 1, 5))
rec("norm_axis_keepdims", lambda a: np.linalg.norm(a, axis=1, keepdims=True), U(-1, 1, 3, 4))
rec("norm_c128", np.linalg.norm, U(-1, 1, 3, dtype=complex))
rec("norm_nuc_c128", lambda a: np.linalg.norm(a, "nuc"), U(-1, 1, 3, 2, dtype=complex))

# cholesky, qr, eig


def _spd(a):
    return _sym(a) + 4.0 * np.eye(a.shape[-1])


rec("cholesky", lambda a: np.linalg.cholesky(_spd(a)), U(-1, 1, 3, 3))
rec("cholesky_upper_stack", lambda a: np.linalg.cholesky(_spd(a), upper=True), U(-1, 1, 2, 3, 3))
rec("cholesky_c128", lambda a: np.linalg.cholesky(_spd(a)), U(-1, 1, 3, 3, dtype=complex))
rec("qr_tall_q", lambda a: np.linalg.qr(a).Q, U(-1, 1, 4, 3))
rec("qr_tall_r", lambda a: np.linalg.qr(a).R, U(-1, 1, 4, 3))
rec("qr_square_r", lambda a: np.linalg.qr(a, mode="r"), WELL(3, 3))
rec("qr_stack", lambda a: np.linalg.qr(a).Q, U(-1, 1, 2, 4, 2))
rec("qr_c128_q", lambda a: np.linalg.qr(a).Q, U(-1, 1, 4, 3, dtype=complex))
rec("qr_c128_r", lambda a: np.linalg.qr(a).R, U(-1, 1, 4, 3, dtype=complex))


def _qr_flat(a, mode="reduced"):
    q, r = np.linalg.qr(a, mode=mode)
    return np.concatenate([q.reshape(-1), r.reshape(-1)])


rec("qr_wide", _qr_flat, U(-1, 1, 3, 5))
rec("qr_wide_complete_stack", lambda a: _qr_flat(a, "complete"), U(-1, 1, 2, 2, 4))
rec("qr_wide_c128", _qr_flat, U(-1, 1, 3, 4, dtype=complex))
rec("eigvals", np.linalg.eigvals, WELL(3, 3))
rec("eigvals_c128", np.linalg.eigvals, WELL(3, 3, dtype=complex))
rec("eig_vectors", lambda a: np.abs(np.linalg.eig(a).eigenvectors) ** 2, WELL(3, 3))

# the rest of np.linalg (compositions)
rec("linalg_pinv_tall", np.linalg.pinv, U(-1, 1, 4, 3))
rec("linalg_pinv_wide", np.linalg.pinv, U(-1, 1, 2, 3))
rec("linalg_lstsq", lambda a, b: np.linalg.lstsq(a, b)[0], U(-1, 1, 4, 3), U(-1, 1, 4))
rec("linalg_lstsq_residuals", lambda a, b: np.linalg.lstsq(a, b)[1], U(-1, 1, 4, 2),
    U(-1, 1, 4, 2))
for _p in (None, 1, -2, "fro", np.inf):
    rec(f"linalg_cond_{_p}", lambda a, p=_p: np.linalg.cond(a, p), WELL(3, 3))
for _n in (0, 1, 3, -2):
    rec(f"linalg_matrix_power_{_n}", lambda a, n=_n: np.linalg.matrix_power(a, n) * 1.0,
        WELL(3, 3))
rec("linalg_multi_dot", lambda a, b, c: np.linalg.multi_dot([a, b, c]), U(-1, 1, 3),
    U(-1, 1, 3, 4), U(-1, 1, 4, 2))
rec("linalg_multi_dot_4", lambda a, b, c, d: np.linalg.multi_dot([a, b, c, d]),
    U(-1, 1, 5, 2), U(-1, 1, 2, 6), U(-1, 1, 6, 3), U(-1, 1, 3, 4))
rec("linalg_vector_norm", lambda a: np.linalg.vector_norm(a, ord=3, axis=(0, 1)),
    U(0.2, 1, 2, 3, 2))
rec("linalg_matrix_norm", lambda a: np.linalg.matrix_norm(a, ord=-1, keepdims=True),
    U(-1, 1, 2, 3, 3))
rec("linalg_vecdot_c128", np.linalg.vecdot, U(-1, 1, 2, 3, dtype=complex),
    U(-1, 1, 2, 3, dtype=complex))
rec("linalg_trace", lambda a: np.linalg.trace(a, offset=1), U(-1, 1, 2, 3, 4))
rec("linalg_diagonal", np.linalg.diagonal, U(-1, 1, 2, 3, 4))
rec("linalg_outer", np.linalg.outer, U(-1, 1, 3), U(-1, 1, 2))
rec("linalg_cross", np.linalg.cross, U(-1, 1, 2, 3), U(-1, 1, 2, 3))
rec("linalg_matmul", np.linalg.matmul, U(-1, 1, 2, 3, 4), U(-1, 1, 4, 2))
rec("linalg_matrix_transpose", np.linalg.matrix_transpose, U(-1, 1, 2, 3, 4))
rec("linalg_tensordot", lambda a, b: np.linalg.tensordot(a, b, axes=1), U(-1, 1, 2, 3),
    U(-1, 1, 3, 2))
rec("linalg_tensorinv", lambda a: np.linalg.tensorinv(a.reshape(2, 3, 6), ind=2), WELL(6, 6))
rec("linalg_tensorsolve", lambda a, b: np.linalg.tensorsolve(a.reshape(2, 3, 6), b), WELL(6, 6),
    U(-1, 1, 2, 3))

# numpy.fft: every function; the real transforms in every norm and both parities of n
for _norm in ("backward", "ortho", "forward"):
    rec(f"fft_rfft_{_norm}", lambda a, nm=_norm: np.fft.rfft(a, norm=nm), U(-1, 1, 2, 6))
    rec(f"fft_rfft_odd_{_norm}", lambda a, nm=_norm: np.fft.rfft(a, n=5, norm=nm),
        U(-1, 1, 6))
    rec(f"fft_irfft_{_norm}", lambda a, nm=_norm: np.fft.irfft(a, norm=nm),
        U(-1, 1, 2, 4, dtype=complex))
    rec(f"fft_irfft_odd_{_norm}", lambda a, nm=_norm: np.fft.irfft(a, n=7, axis=0, norm=nm),
        U(-1, 1, 4, 2, dtype=complex))
    rec(f"fft_fft_{_norm}", lambda a, nm=_norm: np.fft.fft(a, norm=nm),
        U(-1, 1, 5, dtype=complex))
rec("fft_fft_real_n", lambda a: np.fft.fft(a, n=7), U(-1, 1, 5))
rec("fft_ifft", lambda a: np.fft.ifft(a, axis=0), U(-1, 1, 4, 3, dtype=complex))
rec("fft_fft2", lambda a: np.fft.fft2(a, s=(3, 5)), U(-1, 1, 4, 4, dtype=complex))
rec("fft_ifft2", np.fft.ifft2, U(-1, 1, 3, 4, dtype=complex))
rec("fft_fftn", lambda a: np.fft.fftn(a, axes=(0, 2)), U(-1, 1, 2, 3, 4, dtype=complex))
rec("fft_ifftn", lambda a: np.fft.ifftn(a, norm="ortho"), U(-1, 1, 2, 3, dtype=complex))
rec("fft_rfft2", np.fft.rfft2, U(-1, 1, 3, 4))
rec("fft_irfft2", lambda a: np.fft.irfft2(a, s=(3, 5)), U(-1, 1, 3, 3, dtype=complex))
rec("fft_rfftn", lambda a: np.fft.rfftn(a, s=(2, 3, 5), axes=(0, 1, 2)), U(-1, 1, 2, 3, 4))
rec("fft_irfftn", lambda a: np.fft.irfftn(a, norm="forward"), U(-1, 1, 2, 3, 3, dtype=complex))
rec("fft_hfft", lambda a: np.fft.hfft(a, n=5), U(-1, 1, 4, dtype=complex))
rec("fft_ihfft", lambda a: np.fft.ihfft(a, norm="ortho"), U(-1, 1, 6))
rec("fft_fftshift", lambda a: np.fft.fftshift(a, axes=1), U(-1, 1, 3, 5))
rec("fft_ifftshift", np.fft.ifftshift, U(-1, 1, 3, 4, dtype=complex))

# scipy.linalg: matrix functions (Frechet derivatives) and structured solvers


def NEAR_I(*shape, dtype=float):
    base = U(-0.3, 0.3, *shape, dtype=dtype)
    return lambda rng: base(rng) + np.eye(shape[-1])


rec("scipy_expm", fsl.expm, U(-0.5, 0.5, 3, 3))
rec("scipy_expm_stack", fsl.expm, U(-0.5, 0.5, 2, 3, 3))
rec("scipy_expm_c128", fsl.expm, U(-0.5, 0.5, 3, 3, dtype=complex))
rec("scipy_logm", fsl.logm, NEAR_I(3, 3))
rec("scipy_sqrtm", fsl.sqrtm, NEAR_I(3, 3))
rec("scipy_sqrtm_c128", fsl.sqrtm, NEAR_I(2, 2, dtype=complex))
rec("scipy_expm_frechet", lambda a, e: fsl.expm_frechet(a, e, compute_expm=False),
    U(-0.5, 0.5, 3, 3), U(-1, 1, 3, 3))
rec("scipy_solve_sylvester", fsl.solve_sylvester, NEAR_I(3, 3), NEAR_I(2, 2), U(-1, 1, 3, 2))
rec("scipy_lyapunov", fsl.solve_continuous_lyapunov,
    lambda rng: U(-0.3, 0.3, 3, 3)(rng) - 2 * np.eye(3), U(-1, 1, 3, 3))
rec("scipy_solve_triangular", lambda a, b: fsl.solve_triangular(a, b, lower=True), WELL(3, 3),
    U(-1, 1, 3, 2))
rec("scipy_solve_triangular_t_unit",
    lambda a, b: fsl.solve_triangular(a, b, trans=1, unit_diagonal=True), WELL(3, 3),
    U(-1, 1, 3))
rec("scipy_cho_solve", lambda a, b: fsl.cho_solve(fsl.cho_factor(_spd(a)), b), U(-1, 1, 3, 3),
    U(-1, 1, 3, 2))
rec("scipy_cho_factor_lower", lambda a: fsl.cho_factor(_spd(a), lower=True)[0],
    U(-1, 1, 3, 3))
rec("scipy_lu_factor", lambda a: fsl.lu_factor(a)[0], U(-1, 1, 4, 4))
rec("scipy_lu_factor_stack", lambda a: fsl.lu_factor(a)[0], U(-1, 1, 2, 3, 3))
rec("scipy_lu_solve_stack", lambda a, b: fsl.lu_solve(fsl.lu_factor(a), b, trans=1),
    WELL(2, 3, 3), U(-1, 1, 2, 3, 2))
for _t in (0, 1, 2):
    rec(f"scipy_lu_solve_{_t}", lambda a, b, t=_t: fsl.lu_solve(fsl.lu_factor(a), b, trans=t),
        WELL(3, 3), U(-1, 1, 3, 2))
rec("scipy_eigh_generalised", lambda a, b: fsl.eigh(_sym(a), _spd(b), eigvals_only=True),
    U(-1, 1, 3, 3), U(-1, 1, 3, 3))

# complex128 for every linear-algebra function that takes complex input (the ones above with
# a _c128 record are not repeated)
C = complex
rec("eig_vectors_c128", lambda a: np.abs(np.linalg.eig(a).eigenvectors) ** 2, WELL(3, 3, dtype=C))
rec("linalg_pinv_c128", np.linalg.pinv, U(-1, 1, 4, 3, dtype=C))
rec("linalg_lstsq_c128", lambda a, b: np.linalg.lstsq(a, b)[0], U(-1, 1, 4, 3, dtype=C),
    U(-1, 1, 4, dtype=C))
rec("linalg_cond_c128", lambda a: np.linalg.cond(a), WELL(3, 3, dtype=C))
rec("linalg_matrix_power_c128", lambda a: np.linalg.matrix_power(a, -2), WELL(3, 3, dtype=C))
rec("linalg_multi_dot_c128", lambda a, b, c: np.linalg.multi_dot([a, b, c]),
    U(-1, 1, 3, dtype=C), U(-1, 1, 3, 4, dtype=C), U(-1, 1, 4, 2, dtype=C))
rec("linalg_vector_norm_c128", lambda a: np.linalg.vector_norm(a, ord=3), U(0.2, 1, 4, dtype=C))
rec("linalg_matrix_norm_c128", lambda a: np.linalg.matrix_norm(a, ord=2), U(-1, 1, 3, 3, dtype=C))
rec("linalg_outer_c128", np.linalg.outer, U(-1, 1, 3, dtype=C), U(-1, 1, 2, dtype=C))
rec("linalg_cross_c128", np.linalg.cross, U(-1, 1, 3, dtype=C), U(-1, 1, 3, dtype=C))
rec("linalg_tensorinv_c128", lambda a: np.linalg.tensorinv(a.reshape(2, 3, 6), ind=2),
    WELL(6, 6, dtype=C))
rec("linalg_tensorsolve_c128", lambda a, b: np.linalg.tensorsolve(a.reshape(2, 3, 6), b),
    WELL(6, 6, dtype=C), U(-1, 1, 2, 3, dtype=C))
rec("scipy_logm_c128", fsl.logm, NEAR_I(3, 3, dtype=C))
rec("scipy_expm_frechet_c128", lambda a, e: fsl.expm_frechet(a, e, compute_expm=False),
    U(-0.5, 0.5, 3, 3, dtype=C), U(-1, 1, 3, 3, dtype=C))
rec("scipy_solve_sylvester_c128", fsl.solve_sylvester, NEAR_I(3, 3, dtype=C),
    NEAR_I(2, 2, dtype=C), U(-1, 1, 3, 2, dtype=C))
rec("scipy_lyapunov_c128", fsl.solve_continuous_lyapunov,
    lambda rng: U(-0.3, 0.3, 3, 3, dtype=C)(rng) - 2 * np.eye(3), U(-1, 1, 3, 3, dtype=C))
rec("scipy_solve_triangular_c128", lambda a, b: fsl.solve_triangular(a, b, trans=2),
    WELL(3, 3, dtype=C), U(-1, 1, 3, 2, dtype=C))
rec("scipy_cho_solve_c128", lambda a, b: fsl.cho_solve(fsl.cho_factor(_spd(a)), b),
    U(-1, 1, 3, 3, dtype=C), U(-1, 1, 3, 2, dtype=C))
rec("scipy_lu_factor_c128", lambda a: fsl.lu_factor(a)[0], U(-1, 1, 4, 4, dtype=C))
rec("scipy_lu_solve_c128", lambda a, b: fsl.lu_solve(fsl.lu_factor(a), b, trans=2),
    WELL(3, 3, dtype=C), U(-1, 1, 3, 2, dtype=C))
rec("scipy_eigh_generalised_c128", lambda a, b: fsl.eigh(_sym(a), _spd(b), eigvals_only=True),
    U(-1, 1, 3, 3, dtype=C), U(-1, 1, 3, 3, dtype=C))

RECORDS = {r.name: r for r in R}


def traced_fn(r):
    """The record's function with scipy.special's Python-level functions swapped for
    frechet.scipy.special (SciPy's ufuncs dispatch to traced values by themselves; functions
    such as logsumexp convert their input to an ndarray first)."""
    import frechet.scipy.special as fsp
    fn = r.fn
    if getattr(fn, "__name__", "") == "<lambda>" and "sps" in fn.__code__.co_names:
        g = dict(fn.__globals__)
        g["sps"] = fsp
        return type(fn)(fn.__code__, g, fn.__name__, fn.__defaults__, fn.__closure__)
    return fn
assert len(RECORDS) == len(R), "duplicate record names"
