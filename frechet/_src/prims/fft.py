"""FFT primitives: complex `fft` over a set of axes (forward or inverse), and the real
transforms `rfft` and `irfft` along one axis. The front end (frechet/_src/numpy/fft.py) builds
all of np.fft from these, cropping or zero-padding inputs to the requested sizes first.

All three are linear. Transposes, with the pairing Re(sum(a * b)) of docs/complex.md:
  fft:   the DFT matrix is symmetric, so the transpose is the same transform, same norm;
  rfft:  x_bar = Re(fft(ct zero-padded to n)), same norm (rfft keeps the first n//2+1 bins);
  irfft: X_bar_k = w_k s conj(rfft(ct))_k with s the inverse's scale (1/n, 1/sqrt(n) or 1) and
         w = (1, 2, ..., 2, 1) (the last 1 only for even n): irfft reads each interior bin
         twice (for itself and its conjugate twin) and the imaginary parts of the DC and
         Nyquist bins not at all.
"""

from __future__ import annotations

import math

import numpy as np

from frechet._src.core.primitive import primitive
from frechet._src.core.registry import front_end
from frechet._src.core.spec import ArraySpec


def complex_dtype(dtype):
    return np.result_type(dtype, np.complex64)


def real_of(dtype):
    return np.finfo(complex_dtype(dtype)).dtype


def inverse_scale(norm: str, n: int) -> float:
    """The factor an inverse transform of length n applies, per norm mode."""
    return {"backward": 1.0 / n, "ortho": 1.0 / math.sqrt(n), "forward": 1.0}[norm]


# fft over axes --------------------------------------------------------------------------------

def _fft_impl(x, *, axes, inverse, norm):
    f = np.fft.ifftn if inverse else np.fft.fftn
    return f(x, axes=axes, norm=norm)


def _fft_abstract(x, *, axes, inverse, norm):
    if x.dtype.kind != "c":
        raise TypeError(f"fft takes complex input, got {x.dtype}")
    return x


fft_p = primitive("fft", _fft_impl, _fft_abstract)
fft_p.transpose = lambda ct, x, **params: (fft_p.bind(ct, **params),)


def _shift(params, key="axes"):
    p = dict(params)
    p[key] = tuple(a + 1 for a in p[key]) if isinstance(p[key], tuple) else p[key] + 1
    return p


# rfft along one axis (real -> complex, n//2+1 bins) -------------------------------------------

def _rfft_abstract(x, *, axis, norm):
    shape = list(x.shape)
    shape[axis] = shape[axis] // 2 + 1
    return ArraySpec(tuple(shape), complex_dtype(x.dtype))


rfft_p = primitive("rfft", lambda x, *, axis, norm: np.fft.rfft(x, axis=axis, norm=norm),
                   _rfft_abstract)


def _rfft_transpose(ct, x, *, axis, norm):
    fnp = front_end()      # the front end is above prims: it registers itself at import
    n = x.shape[axis]
    widths = [(0, 0)] * len(x.shape)
    widths[axis] = (0, n - ct.shape[axis])
    full = fnp.pad(ct, widths)
    return (fnp.real(fft_p.bind(full, axes=(axis,), inverse=False, norm=norm)),)


rfft_p.transpose = _rfft_transpose


# irfft along one axis (complex n//2+1 bins -> real n) ------------------------------------------

def _irfft_abstract(x, *, axis, n, norm):
    if x.shape[axis] != n // 2 + 1:
        raise ValueError(f"irfft of length {n} takes {n // 2 + 1} bins, got {x.shape[axis]}")
    shape = list(x.shape)
    shape[axis] = n
    return ArraySpec(tuple(shape), real_of(x.dtype))


irfft_p = primitive("irfft", lambda x, *, axis, n, norm: np.fft.irfft(x, n=n, axis=axis,
                                                                       norm=norm),
                    _irfft_abstract)


def _irfft_transpose(ct, x, *, axis, n, norm):
    fnp = front_end()
    m = n // 2 + 1
    w = np.full(m, 2.0)
    w[0] = 1.0
    if n % 2 == 0:
        w[-1] = 1.0
    shape = [1] * len(x.shape)
    shape[axis] = m
    w = (w * inverse_scale(norm, n)).reshape(shape).astype(real_of(x.dtype))
    spectrum = rfft_p.bind(ct, axis=axis, norm="backward")
    return (fnp.multiply(fnp.conjugate(spectrum), w),)


irfft_p.transpose = _irfft_transpose


def _linear_rule(prim):
    def rule(primals, tangents, **params):
        (x,), (t,) = primals, tangents
        return prim.bind(x, **params), None if t is None else prim.bind(t, **params)
    prim.jvp = rule
    prim.linear = True


for _p in (fft_p, rfft_p, irfft_p):
    _linear_rule(_p)
fft_p.batch = lambda args, batched, **params: fft_p.bind(args[0], **_shift(params))
rfft_p.batch = lambda args, batched, **params: rfft_p.bind(args[0], **_shift(params, "axis"))
irfft_p.batch = lambda args, batched, **params: irfft_p.bind(args[0], **_shift(params, "axis"))


# Other array libraries (core/backend.py): the standard's fft extension (fftn over given axes,
# rfft, irfft with the same norm modes).
def _fft_xp(xp):
    def fft(x, *, axes, inverse, norm):
        return (xp.fft.ifftn if inverse else xp.fft.fftn)(x, axes=axes, norm=norm)
    return fft


fft_p.array_api = _fft_xp
rfft_p.array_api = lambda xp: lambda x, *, axis, norm: xp.fft.rfft(x, axis=axis, norm=norm)
irfft_p.array_api = lambda xp: lambda x, *, axis, n, norm: xp.fft.irfft(x, n=n, axis=axis,
                                                                          norm=norm)
