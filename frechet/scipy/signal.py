"""frechet.scipy.signal: differentiable convolution, correlation and IIR filtering (see
frechet/_src/numpy/scipy_signal.py for the methods and their costs)."""

from frechet._src.numpy.scipy_signal import (  # noqa: F401
    convolve,
    correlate,
    fftconvolve,
    lfilter,
)
