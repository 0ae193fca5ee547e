"""frechet.scipy.interpolate: values against scipy.interpolate, derivatives in the data and the
evaluation points against finite differences, jit and vmap, and the errors."""

import numpy as np
import pytest
import scipy.interpolate as si

import frechet as fr
from frechet.extend import check_grads
from frechet.scipy import interpolate as I

RNG = np.random.default_rng(0)
X = np.sort(RNG.uniform(0, 3, 8))
Y = RNG.standard_normal(8)
Y3 = RNG.standard_normal((3, 8, 2))
XS = np.concatenate([np.linspace(-0.5, 3.5, 23), X])
INSIDE = np.linspace(X[0] + 0.01, X[-1] - 0.01, 9) + 1e-3 * RNG.standard_normal(9)
BCS = ["not-a-knot", "natural", "clamped", ((1, 0.5), (2, -1.0))]
KINDS = ["linear", "nearest", "nearest-up", "previous", "next", "zero", "slinear", "quadratic",
         "cubic"]


@pytest.mark.parametrize("bc", BCS, ids=str)
def test_cubic_spline_values(bc):
    for nu in (0, 1, 2, 3):
        want = si.CubicSpline(X, Y, bc_type=bc)(XS, nu)
        got = fr.jvp(lambda y, nu=nu: I.CubicSpline(X, y, bc_type=bc)(XS, nu), (Y,), (Y,))[0]
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(I.CubicSpline(X, Y, bc_type=bc)(XS, nu), want, rtol=1e-12,
                                   atol=1e-12)
    # derivative values of the trailing shape
    bc3 = bc if isinstance(bc, str) else tuple((o, np.full((3, 2), v)) for o, v in bc)
    got = fr.jit(lambda y: I.CubicSpline(X, y, axis=1, bc_type=bc3)(XS[:4].reshape(2, 2)))(Y3)
    np.testing.assert_allclose(got, si.CubicSpline(X, Y3, axis=1, bc_type=bc3)(
        XS[:4].reshape(2, 2)), rtol=1e-12, atol=1e-12)
    want = si.CubicSpline(X, Y, bc_type=bc).derivative(2)(XS)
    np.testing.assert_allclose(fr.jit(lambda y: I.CubicSpline(X, y, bc_type=bc).derivative(2)(
        XS))(Y), want, rtol=1e-12, atol=1e-12)


def test_periodic_cubic_spline():
    yp = np.append(Y[:-1], Y[0])
    want = si.CubicSpline(X, yp, bc_type="periodic")(XS)
    got = fr.jvp(lambda y: I.CubicSpline(X, y, bc_type="periodic")(XS), (yp,), (yp,))[0]
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)
    check_grads(lambda free, s: I.CubicSpline(X, np.append(free, free[0]), bc_type="periodic")(s),
                (Y[:-1], INSIDE + 3.0), order=2)


@pytest.mark.parametrize("bc", BCS, ids=str)
def test_cubic_spline_derivatives(bc):
    check_grads(lambda y, s: I.CubicSpline(X, y, bc_type=bc)(s), (Y, INSIDE), order=2)
    bc3 = bc if isinstance(bc, str) else tuple((o, np.full((3, 2), v)) for o, v in bc)
    check_grads(lambda y, s: I.CubicSpline(X, y, axis=1, bc_type=bc3)(s, nu=1),
                (Y3, INSIDE[:3]), order=1)
    # the derivative in the point is the spline's derivative
    g = fr.vmap(fr.grad(lambda s: I.CubicSpline(X, Y, bc_type=bc)(s)))(INSIDE)
    np.testing.assert_allclose(g, si.CubicSpline(X, Y, bc_type=bc)(INSIDE, 1), rtol=1e-12)


@pytest.mark.parametrize("k", [0, 1, 2, 3, 5])
def test_make_interp_spline(k):
    spl = si.make_interp_spline(X, Y, k)
    np.testing.assert_allclose(fr.jit(lambda y: I.make_interp_spline(X, y, k)(XS))(Y), spl(XS),
                               rtol=1e-11, atol=1e-11)
    np.testing.assert_allclose(fr.jit(lambda y: I.make_interp_spline(X, y, k).c)(Y), spl.c,
                               rtol=1e-12, atol=1e-12)
    if k:
        np.testing.assert_allclose(I.make_interp_spline(X, Y, k).derivative()(XS),
                                   spl.derivative()(XS), rtol=1e-11, atol=1e-11)
    check_grads(lambda y, s: I.make_interp_spline(X, y, k)(s), (Y, INSIDE), order=2)


@pytest.mark.parametrize("fill", [np.nan, "extrapolate", (-1.0, 2.0)], ids=str)
@pytest.mark.parametrize("kind", KINDS)
def test_interp1d_values(kind, fill):
    xu = RNG.permutation(X)
    want = si.interp1d(xu, Y3, kind, axis=1, bounds_error=False, fill_value=fill)(XS)
    got = fr.jit(lambda y: I.interp1d(xu, y, kind, axis=1, bounds_error=False,
                                      fill_value=fill)(XS))(Y3)
    np.testing.assert_allclose(got, want, rtol=1e-11, atol=1e-11)


@pytest.mark.parametrize("kind", KINDS)
def test_interp1d_derivatives(kind):
    # previous / next extrapolate with NaN on one side (SciPy's choice): points inside there
    outside = [] if kind in ("previous", "next") else [-0.3, 3.4]
    check_grads(lambda y, s: I.interp1d(X, y, kind, fill_value="extrapolate")(s),
                (Y, np.concatenate([INSIDE, outside])), order=2)
    check_grads(lambda y, lo: I.interp1d(X, y, kind, bounds_error=False,
                                         fill_value=(lo, 1.0))(XS), (Y, 0.5), order=1)


def test_vmap_over_points_and_data():
    pts = INSIDE.reshape(3, 3)
    f = fr.vmap(lambda s: I.CubicSpline(X, Y)(s))
    np.testing.assert_allclose(f(pts), si.CubicSpline(X, Y)(pts), rtol=1e-12)
    ys = RNG.standard_normal((4, 8))
    got = fr.vmap(lambda y: I.interp1d(X, y, "cubic", bounds_error=False)(XS))(ys)
    np.testing.assert_allclose(got, si.interp1d(X, ys, "cubic", bounds_error=False)(XS),
                               rtol=1e-11, atol=1e-11)
    got = fr.vmap(lambda y: I.make_interp_spline(X, y, 3)(INSIDE))(ys)
    np.testing.assert_allclose(got, si.make_interp_spline(X, ys, 3, axis=1)(INSIDE),
                               rtol=1e-11)


def test_jit_on_fresh_points():
    f = fr.jit(fr.grad(lambda y, s: np.sum(I.CubicSpline(X, y)(s) ** 2), argnums=(0, 1)))
    for s in (INSIDE, INSIDE[::-1] * 0.9):
        gy, gs = f(Y, s)
        sp = si.CubicSpline(X, Y)
        np.testing.assert_allclose(gs, 2 * sp(s) * sp(s, 1), rtol=1e-10)
        basis = si.CubicSpline(X, np.eye(8))(s)
        np.testing.assert_allclose(gy, 2 * sp(s) @ basis, rtol=1e-10)


def test_ppoly():
    c = RNG.standard_normal((4, 7))
    want = si.PPoly(c, X, extrapolate=False)(XS, 1)
    np.testing.assert_allclose(I.PPoly(c, X, extrapolate=False)(XS, 1), want, rtol=1e-12,
                               atol=1e-12)
    check_grads(lambda c, s: I.PPoly(c, X)(s), (c, INSIDE), order=2)


def test_errors():
    with pytest.raises(fr.NonDifferentiableError, match="knots x are traced"):
        fr.grad(lambda x: I.CubicSpline(x, Y)(1.0))(X)
    with pytest.raises(fr.NonDifferentiableError, match="knots x are traced"):
        fr.grad(lambda x: I.interp1d(x, Y)(1.0))(X)
    with pytest.raises(fr.NonDifferentiableError, match="knots x are traced"):
        fr.jit(lambda x, y: I.make_interp_spline(x, y)(1.0))(X, Y)
    with pytest.raises(ValueError, match="below the interpolation range"):
        fr.grad(lambda s: I.interp1d(X, Y)(s))(-1.0)
    with pytest.raises(ValueError, match="above the interpolation range"):
        I.interp1d(X, Y)(np.array([1.0, 5.0]))
    with pytest.raises(fr.ConcretizationError, match="bounds_error=False"):
        fr.vmap(lambda s: I.interp1d(X, Y)(s))(INSIDE)
    with pytest.raises(ValueError, match="Cannot extrapolate and raise"):
        I.interp1d(X, Y, bounds_error=True, fill_value="extrapolate")
    with pytest.raises(NotImplementedError, match="unsupported"):
        I.interp1d(X, Y, kind="akima")
    with pytest.raises(ValueError, match="periodic"):          # SciPy's check, on traced y
        fr.grad(lambda y: I.CubicSpline(X, y, bc_type="periodic")(1.0))(Y)
    with pytest.raises(NotImplementedError, match="antiderivatives"):
        I.CubicSpline(X, Y)(1.0, nu=-1)
    with pytest.raises(ValueError, match="incompatible"):
        I.PPoly(np.ones((2, 3)), X)
