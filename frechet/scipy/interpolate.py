"""frechet.scipy.interpolate: spline and 1-D interpolants differentiable in the data values and
the evaluation points, the knots concrete (see frechet/_src/numpy/scipy_interpolate.py)."""

from frechet._src.numpy.scipy_interpolate import (  # noqa: F401
    BSpline,
    CubicSpline,
    PPoly,
    interp1d,
    make_interp_spline,
)
