"""frechet.numpy.fft: all of np.fft on traced values, from three linear primitives (see
frechet/_src/prims/fft.py), with NumPy's n/s/axes/norm handling."""

from __future__ import annotations

import numpy as np
from frechet._src.numpy.base import asarray, shape_of
from frechet._src.prims import fft as F
from frechet._src.prims.rules import traced_numpy
from frechet._src.prims.shape import convert

_SWAP = {"backward": "forward", "forward": "backward", "ortho": "ortho"}


def _norm(norm):
    norm = "backward" if norm is None else norm
    if norm not in _SWAP:
        raise ValueError(f'Invalid norm value {norm}; should be "backward", "ortho" or "forward".')
    return norm



def _fit(a, axis, n):
    """a cropped or zero-padded to length n along axis (NumPy's `n`)."""
    fnp = traced_numpy()
    if n < 1:
        raise ValueError(f"Invalid number of FFT data points ({n}) specified.")
    m = shape_of(a)[axis]
    if n < m:
        return fnp.take(a, np.arange(n), axis=axis)
    if n > m:
        widths = [(0, 0)] * len(shape_of(a))
        widths[axis] = (0, n - m)
        return fnp.pad(a, widths)
    return a


def _as(a, kind):
    a = asarray(a)
    dt = F.complex_dtype(a.dtype) if kind == "c" else F.real_of(a.dtype)
    if kind == "r" and a.dtype.kind == "c":
        raise TypeError("a real transform of complex input")
    return convert(a, dt) if a.dtype != dt else a


def _axes_sizes(a, s, axes, last_of_s=None):
    nd = len(shape_of(a))
    if axes is None:
        axes = tuple(range(nd - len(s), nd)) if s is not None else tuple(range(nd))
    axes = tuple(int(ax) % nd for ax in axes)
    if s is None:
        s = [shape_of(a)[ax] for ax in axes]
    if len(s) != len(axes):
        raise ValueError("Shape and axes have different lengths.")
    return axes, list(s)


def _c2c(a, n, axis, norm, inverse):
    a = _as(a, "c")
    axis = int(axis) % len(shape_of(a))
    if n is not None:
        a = _fit(a, axis, n)
    return F.fft_p.bind(a, axes=(axis,), inverse=inverse, norm=_norm(norm))


def fft(a, n=None, axis=-1, norm=None, out=None):
    return _c2c(a, n, axis, norm, False)


def ifft(a, n=None, axis=-1, norm=None, out=None):
    return _c2c(a, n, axis, norm, True)


def _c2cn(a, s, axes, norm, inverse):
    a = _as(a, "c")
    axes, s = _axes_sizes(a, s, axes)
    for ax, n in zip(axes, s):
        a = _fit(a, ax, n)
    if not axes:
        return a
    return F.fft_p.bind(a, axes=tuple(axes), inverse=inverse, norm=_norm(norm))


def fftn(a, s=None, axes=None, norm=None, out=None):
    return _c2cn(a, s, axes, norm, False)


def ifftn(a, s=None, axes=None, norm=None, out=None):
    return _c2cn(a, s, axes, norm, True)


def fft2(a, s=None, axes=(-2, -1), norm=None, out=None):
    return _c2cn(a, s, axes, norm, False)


def ifft2(a, s=None, axes=(-2, -1), norm=None, out=None):
    return _c2cn(a, s, axes, norm, True)


def rfft(a, n=None, axis=-1, norm=None, out=None):
    a = _as(a, "r")
    axis = int(axis) % len(shape_of(a))
    if n is not None:
        a = _fit(a, axis, n)
    return F.rfft_p.bind(a, axis=axis, norm=_norm(norm))


def irfft(a, n=None, axis=-1, norm=None, out=None):
    a = _as(a, "c")
    axis = int(axis) % len(shape_of(a))
    if n is None:
        n = 2 * (shape_of(a)[axis] - 1)
    a = _fit(a, axis, n // 2 + 1)
    return F.irfft_p.bind(a, axis=axis, n=int(n), norm=_norm(norm))


def rfftn(a, s=None, axes=None, norm=None, out=None):
    a = _as(a, "r")
    axes, s = _axes_sizes(a, s, axes)
    for ax, n in zip(axes, s):
        a = _fit(a, ax, n)
    out = F.rfft_p.bind(a, axis=axes[-1], norm=_norm(norm))
    if len(axes) > 1:
        out = F.fft_p.bind(out, axes=tuple(axes[:-1]), inverse=False, norm=_norm(norm))
    return out


def irfftn(a, s=None, axes=None, norm=None, out=None):
    a = _as(a, "c")
    nd = len(shape_of(a))
    if axes is None:
        axes = tuple(range(nd - len(s), nd)) if s is not None else tuple(range(nd))
    axes = tuple(int(ax) % nd for ax in axes)
    if s is None:
        s = [shape_of(a)[ax] for ax in axes[:-1]] + [2 * (shape_of(a)[axes[-1]] - 1)]
    s = list(s)
    for ax, n in zip(axes[:-1], s[:-1]):
        a = _fit(a, ax, n)
    if len(axes) > 1:
        a = F.fft_p.bind(a, axes=tuple(axes[:-1]), inverse=True, norm=_norm(norm))
    last = axes[-1]
    a = _fit(a, last, s[-1] // 2 + 1)
    return F.irfft_p.bind(a, axis=last, n=int(s[-1]), norm=_norm(norm))


def rfft2(a, s=None, axes=(-2, -1), norm=None, out=None):
    return rfftn(a, s, axes, norm)


def irfft2(a, s=None, axes=(-2, -1), norm=None, out=None):
    return irfftn(a, s, axes, norm)


def hfft(a, n=None, axis=-1, norm=None, out=None):
    a = _as(a, "c")
    if n is None:
        n = 2 * (shape_of(a)[int(axis) % len(shape_of(a))] - 1)
    return irfft(traced_numpy().conjugate(a), n, axis, norm=_SWAP[_norm(norm)])


def ihfft(a, n=None, axis=-1, norm=None, out=None):
    return traced_numpy().conjugate(rfft(a, n, axis, norm=_SWAP[_norm(norm)]))


def fftshift(x, axes=None):
    fnp = traced_numpy()
    x = asarray(x)
    nd = len(shape_of(x))
    axes = tuple(range(nd)) if axes is None else ((axes,) if isinstance(axes, int) else axes)
    return fnp.roll(x, [shape_of(x)[ax] // 2 for ax in axes], axes)


def ifftshift(x, axes=None):
    fnp = traced_numpy()
    x = asarray(x)
    nd = len(shape_of(x))
    axes = tuple(range(nd)) if axes is None else ((axes,) if isinstance(axes, int) else axes)
    return fnp.roll(x, [-(shape_of(x)[ax] // 2) for ax in axes], axes)


NAMES = ("fft", "ifft", "fft2", "ifft2", "fftn", "ifftn", "rfft", "irfft", "rfft2", "irfft2",
         "rfftn", "irfftn", "hfft", "ihfft", "fftshift", "ifftshift")
FUNCTIONS = {getattr(np.fft, name): globals()[name] for name in NAMES}
# fftfreq and rfftfreq take sizes, not arrays: NumPy's own work (frechet.numpy.fft has them)
fftfreq, rfftfreq = np.fft.fftfreq, np.fft.rfftfreq
