"""frechet.scipy.signal: convolution, correlation and linear filtering, differentiable in every
array argument.

Convolution is written as one gather and one contraction (method='direct': the windows of one
input, padded with zeros, against the other) or through frechet's FFTs (method='fft'); both are
linear in each input, so their derivatives are convolutions again and need no rule of their own.
`lfilter` is a linear solve: with the coefficients normalised so that a[0] = 1, the output of
the IIR filter satisfies T_a y = T_b x + zi, T_a and T_b the lower-triangular Toeplitz matrices
of a and b, so y is one unit-triangular solve and is differentiable in b, a, x and zi.
"""

from __future__ import annotations

import numpy as np
from frechet._src.core.trace import Tracer
from frechet._src.numpy.base import asarray, result_dtype, shape_of
from frechet._src.numpy.scipy_linalg import solve_triangular
from frechet._src.prims.rules import traced_numpy

_MODES = ("full", "same", "valid")


def _check_mode(mode):
    if mode not in _MODES:
        raise ValueError(f"Acceptable mode flags are 'valid', 'same', or 'full', not {mode!r}")


def _swap_needed(mode, s1, s2, axes) -> bool:
    """SciPy's rule: in 'valid' mode the larger input comes first (it must be at least as large
    as the other in every convolved dimension)."""
    if mode != "valid" or not s1:
        return False
    ok1 = all(s1[i] >= s2[i] for i in axes)
    ok2 = all(s2[i] >= s1[i] for i in axes)
    if not (ok1 or ok2):
        raise ValueError("For 'valid' mode, one must be at least as large as the other in every "
                         "dimension")
    return not ok1


def _out_window(mode, s1, s2):
    """(start, length) of the output inside the full convolution, per dimension: SciPy's
    `_centered` crop of the full result."""
    full = s1 + s2 - 1
    n = {"full": full, "same": s1, "valid": s1 - s2 + 1}[mode]
    return (full - n) // 2, n


def _direct(in1, in2, mode):
    """The N-d convolution of in1 and in2 (same ndim), positions selected by mode, as a gather
    of zero-padded windows of the larger input and a contraction with the flipped smaller one
    (memory: output size times the smaller input's size)."""
    fnp = traced_numpy()
    s1, s2 = shape_of(in1), shape_of(in2)
    nd = len(s1)
    windows = [_out_window(mode, a, b) for a, b in zip(s1, s2)]
    # The full convolution is symmetric in its inputs: window the larger one.
    big, small = (in1, in2) if np.prod(s1) >= np.prod(s2) else (in2, in1)
    ss = shape_of(small)
    padded = fnp.pad(big, [(m - 1, m - 1) for m in ss])
    # out[n] = sum_k big[n - k] small[k] = sum_r padded[n + r] flip(small)[r]
    index = []
    for d, ((start, n), m) in enumerate(zip(windows, ss)):
        pos = (start + np.arange(n))[:, None] + np.arange(m)[None, :]
        shape = [1] * (2 * nd)
        shape[d], shape[nd + d] = n, m
        index.append(pos.reshape(shape))
    gathered = padded[tuple(index)]
    flipped = small[(slice(None, None, -1),) * nd]
    return fnp.tensordot(gathered, flipped, axes=nd)


def _fft_shape(n: int, real: bool) -> int:
    import scipy.fft
    return scipy.fft.next_fast_len(int(n), real)


def fftconvolve(in1, in2, mode="full", axes=None):
    """Convolve two N-dimensional arrays using FFTs, as scipy.signal.fftconvolve.

    Args:
      in1, in2: arrays of the same number of dimensions (traced or not).
      mode: 'full', 'same' (the size of in1) or 'valid'.
      axes: the axes to convolve over (default: all); the others broadcast.

    Returns:
      The convolution, differentiable in in1 and in2.

    Example:
      >>> import numpy as np, frechet
      >>> from frechet.scipy.signal import fftconvolve
      >>> g = frechet.grad(lambda k: np.sum(fftconvolve(np.ones(4), k) ** 2))(np.ones(2))
    """
    fnp = traced_numpy()
    in1, in2 = asarray(in1), asarray(in2)
    _check_mode(mode)
    s1, s2 = shape_of(in1), shape_of(in2)
    if not s1 and not s2:
        return in1 * in2
    if len(s1) != len(s2):
        raise ValueError("in1 and in2 should have the same dimensionality")
    nd = len(s1)
    axes = tuple(range(nd)) if axes is None else tuple(a % nd for a in np.atleast_1d(axes))
    for d in range(nd):
        if d not in axes and s1[d] != s2[d] and 1 not in (s1[d], s2[d]):
            raise ValueError(f"incompatible shapes for in1 and in2: {s1} and {s2}")
    if _swap_needed(mode, s1, s2, axes):
        in1, in2, s1, s2 = in2, in1, s2, s1
    if 0 in s1 or 0 in s2:
        return fnp.zeros([0] * nd, result_dtype(in1, in2))
    dt = result_dtype(in1, in2, 1.0)
    real = not np.issubdtype(dt, np.complexfloating)
    full = [s1[a] + s2[a] - 1 for a in axes]
    fshape = [_fft_shape(n, real) for n in full]
    if real:
        prod = fnp.fft.rfftn(in1, fshape, axes) * fnp.fft.rfftn(in2, fshape, axes)
        ret = fnp.fft.irfftn(prod, fshape, axes)
    else:
        prod = fnp.fft.fftn(in1, fshape, axes) * fnp.fft.fftn(in2, fshape, axes)
        ret = fnp.fft.ifftn(prod, fshape, axes)
    index = [slice(None)] * nd
    for a in axes:
        start, n = _out_window(mode, s1[a], s2[a])
        index[a] = slice(start, start + n)
    return ret[tuple(index)].astype(dt)


def _choose_method(in1, in2, mode) -> str:
    """SciPy's choice for 'auto' (it depends on shapes and dtypes only for inexact inputs);
    integer and boolean inputs stay direct, which is exact."""
    import scipy.signal
    dt = result_dtype(in1, in2)
    if not np.issubdtype(dt, np.inexact):
        return "direct"
    return scipy.signal.choose_conv_method(np.zeros(shape_of(in1), dt),
                                           np.zeros(shape_of(in2), dt), mode=mode)


def convolve(in1, in2, mode="full", method="auto"):
    """Convolve two N-dimensional arrays, as scipy.signal.convolve.

    Args:
      in1, in2: arrays of the same number of dimensions (traced or not).
      mode: 'full', 'same' (the size of in1, centred) or 'valid'.
      method: 'direct' (a gather and a contraction), 'fft' (fftconvolve) or 'auto' (SciPy's
        choice from the shapes).

    Returns:
      The convolution, differentiable in in1 and in2.

    Example:
      >>> import numpy as np, frechet
      >>> from frechet.scipy.signal import convolve
      >>> g = frechet.grad(lambda x: np.sum(convolve(x, [1.0, -1.0], "valid") ** 2))(np.ones(3))
    """
    in1, in2 = asarray(in1), asarray(in2)
    _check_mode(mode)
    s1, s2 = shape_of(in1), shape_of(in2)
    if not s1 and not s2:
        return in1 * in2
    if len(s1) != len(s2):
        raise ValueError("volume and kernel should have the same dimensionality")
    if _swap_needed(mode, s1, s2, range(len(s1))):
        in1, in2 = in2, in1
    if method == "auto":
        method = _choose_method(in1, in2, mode)
    if method == "fft":
        dt = result_dtype(in1, in2)
        out = fftconvolve(in1, in2, mode)
        if not np.issubdtype(dt, np.inexact):
            out = traced_numpy().round(out)
        return out.astype(dt)
    if method != "direct":
        raise ValueError(f"Acceptable method flags are 'auto', 'direct', or 'fft', not "
                         f"{method!r}")
    return _direct(in1, in2, mode)


def _reverse_conj(x):
    fnp = traced_numpy()
    r = x[(slice(None, None, -1),) * len(shape_of(x))]
    return fnp.conjugate(r) if np.issubdtype(r.dtype, np.complexfloating) else r


def correlate(in1, in2, mode="full", method="auto"):
    """Cross-correlate two N-dimensional arrays, as scipy.signal.correlate: the convolution of
    in1 with in2 reversed and conjugated.

    Args:
      in1, in2: arrays of the same number of dimensions (traced or not).
      mode: 'full', 'same' or 'valid'.
      method: 'auto', 'direct' or 'fft'.

    Returns:
      The cross-correlation, differentiable in in1 and in2.

    Example:
      >>> import numpy as np
      >>> from frechet.scipy.signal import correlate
      >>> r = correlate(np.arange(4.0), np.ones(2), "valid")
    """
    in1, in2 = asarray(in1), asarray(in2)
    _check_mode(mode)
    if not shape_of(in1) and not shape_of(in2):
        return in1 * _reverse_conj(in2)
    if len(shape_of(in1)) != len(shape_of(in2)):
        raise ValueError("in1 and in2 should have the same dimensionality")
    if method not in ("auto", "direct", "fft"):
        raise ValueError(f"Acceptable method flags are 'auto', 'direct', or 'fft', not "
                         f"{method!r}")
    return convolve(in1, _reverse_conj(in2), mode, method)


# ---- lfilter -------------------------------------------------------------------------------------

def _known(x):
    """x's concrete value where one exists (eager, jit), else None (vmap, staging)."""
    return x.concrete() if isinstance(x, Tracer) else np.asarray(x)


def _causal(coef, x):
    """sum_i coef[i] x[n - i] for each n (x: (n, ...) with time first), as a gather of x
    (zero before its start) and a contraction."""
    fnp = traced_numpy()
    n, k = shape_of(x)[0], shape_of(coef)[0]
    xp = fnp.concatenate([fnp.zeros((1, *shape_of(x)[1:]), x.dtype), x])
    idx = np.arange(n)[:, None] - np.arange(k)[None, :] + 1
    return fnp.tensordot(xp[np.maximum(idx, 0)], coef, axes=([1], [0]))


def lfilter(b, a, x, axis=-1, zi=None):
    """Filter x along one axis with the IIR filter b(z)/a(z), as scipy.signal.lfilter
    (transposed direct form II), differentiable in b, a, x and zi.

    Args:
      b: numerator coefficients (1-d).
      a: denominator coefficients (1-d), a[0] nonzero.
      x: the signal (N-d).
      axis: the axis of x to filter along.
      zi: initial conditions of the filter delays, shape x.shape with axis replaced by
        max(len(a), len(b)) - 1, or None (initial rest).

    Returns:
      y, or (y, zf) when zi is given, zf the final delay values.

    Example:
      >>> import numpy as np, frechet
      >>> from frechet.scipy.signal import lfilter
      >>> g = frechet.grad(lambda a: np.sum(lfilter([1.0], [1.0, a], np.ones(5))))(-0.5)
    """
    fnp = traced_numpy()
    b, a, x = asarray(b), asarray(a), asarray(x)
    if len(shape_of(a)) != 1 or len(shape_of(b)) != 1 or not shape_of(a)[0] or not shape_of(b)[0]:
        raise ValueError("object of too small depth for desired array: b and a must be "
                         "non-empty 1-d arrays")
    a0 = _known(a[0])
    if a0 is not None and np.all(a0 == 0):
        raise ValueError("BUG: filter coefficient a[0] == 0 not supported yet")
    dt = result_dtype(b, a, x, 1.0) if zi is None else result_dtype(b, a, x, zi, 1.0)
    k = max(shape_of(a)[0], shape_of(b)[0])
    # Note: b and a are divided by a[0] as SciPy does (a[0] then is exactly 1).
    b = fnp.pad(b.astype(dt) / a[0], (0, k - shape_of(b)[0]))
    a = fnp.pad(a.astype(dt) / a[0], (0, k - shape_of(a)[0]))
    ax = axis % max(len(shape_of(x)), 1)
    xt = fnp.moveaxis(x.astype(dt), ax, 0)        # time first
    n, rest = shape_of(xt)[0], shape_of(xt)[1:]
    rhs = _causal(b, xt)
    if zi is not None:
        zi = asarray(zi)
        want = (k - 1, *rest)
        zt = fnp.moveaxis(zi, ax, 0) if len(shape_of(zi)) == len(shape_of(x)) else zi
        if shape_of(zt) != want:
            want_user = list(shape_of(x))
            want_user[ax] = k - 1
            raise ValueError(f"Unexpected shape for zi: expected {tuple(want_user)}, found "
                             f"{shape_of(zi)}.")
        zt = zt.astype(dt)
        m = min(k - 1, n)
        rhs = rhs + fnp.pad(zt[:m], [(0, n - m)] + [(0, 0)] * len(rest))
    if k > 1 and n:
        # Note: a dense n x n unit-lower-triangular solve; memory grows as the signal length
        # squared (a few thousand samples are cheap).
        idx = np.arange(n)[:, None] - np.arange(n)[None, :]
        idx = np.where((idx >= 0) & (idx < k), idx, k)
        ta = fnp.concatenate([a, fnp.zeros(1, dt)])[idx]
        flat = fnp.reshape(rhs, (n, -1))
        y = fnp.reshape(solve_triangular(ta, flat, lower=True, unit_diagonal=True), (n, *rest))
    else:
        y = rhs
    out = fnp.moveaxis(y, 0, ax)
    if zi is None:
        return out
    return out, fnp.moveaxis(_final_state(b, a, xt, y, zt, k), 0, ax)


def _final_state(b, a, xt, y, zt, k):
    """zf[i] = sum_{j > i} (b[j] x[n + i - j] - a[j] y[n + i - j]) + zi[i + n] (terms outside
    the signal dropped): the delays after the last sample."""
    fnp = traced_numpy()
    n, rest = shape_of(xt)[0], shape_of(xt)[1:]
    if k == 1:
        return zt
    i, j = np.arange(k - 1)[:, None], np.arange(k)[None, :]
    t = n + i - j
    mask = (j > i) & (t >= 0)
    idx = np.where(mask, t + 1, 0)            # 0 points at a zero row prepended below
    zero = fnp.zeros((1, *rest), xt.dtype)
    xg = fnp.concatenate([zero, xt])[idx]
    yg = fnp.concatenate([zero, y])[idx]
    w = mask.astype(xt.dtype)
    zf = (fnp.einsum("ij,ij...->i...", w * b[None, :], xg)
          - fnp.einsum("ij,ij...->i...", w * a[None, :], yg))
    shift = np.arange(k - 1) + n
    keep = shift < k - 1
    zpad = fnp.concatenate([fnp.zeros((1, *rest), xt.dtype), zt])
    return zf + zpad[np.where(keep, shift + 1, 0)]
