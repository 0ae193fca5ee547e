"""The scalar tape's rules (interpreters/scalars.py) against the primitives' own: for every
smooth unary ufunc, the tape's value is NumPy's bit for bit and its derivative is the JVP rule's;
the float forms some families write by hand agree with the rule they shortcut."""

import math

import numpy as np
import pytest

import frechet
from frechet._src.interpreters import scalars
from frechet._src.prims import elementwise as ew

POINTS = [-2.5, -0.7, -1e-3, 1e-9, 0.3, 0.9, 1.7, 4.0, 30.0]


@pytest.mark.parametrize("name", sorted(ew.SMOOTH_UNARY))
def test_every_smooth_unary_ufunc_has_a_rule_agreeing_with_its_jvp(name):
    ufunc = getattr(np, name)
    rule = scalars.UNARY[ufunc]
    d = ew.SMOOTH_UNARY[name]
    checked = 0
    for x in POINTS:
        with np.errstate(all="ignore"):
            want = ufunc(np.float64(x))
            dwant = d(np.float64(x), want)
        if not (np.isfinite(want) and np.isfinite(dwant)):
            continue            # outside the domain: the tape hands these to the generic path
        v, dv = rule(x)
        assert type(v) is float
        assert v == want, (name, x)
        # float forms take math's cos/sin where the rule takes NumPy's: within 4 ulp anywhere
        assert math.isclose(dv, float(dwant), rel_tol=4 * 2.0**-52, abs_tol=1e-300), \
            (name, x, dv, dwant)
        checked += 1
    assert checked >= 3


@pytest.mark.parametrize("name", sorted(ew.SMOOTH_UNARY))
def test_the_tape_gives_the_generic_paths_values_and_derivatives(name):
    ufunc = getattr(np, name)

    def f(t):
        s = t[0] * 0.5 + 0.25           # a scalar of the tape
        return ufunc(s) * s
    for x in (0.1, 0.6, 1.1, 3.0):
        t = np.array([x])
        with np.errstate(all="ignore"):
            if not np.isfinite(f(t)):
                continue
        frechet.config.scalar_tape = False
        try:
            v0, g0 = frechet.value_and_grad(f)(t)
        finally:
            frechet.config.scalar_tape = True
        v1, g1 = frechet.value_and_grad(f)(t)
        assert v1 == v0 == f(t)
        np.testing.assert_allclose(g1, g0, rtol=1e-14)


def test_the_tape_is_a_linear_map_like_any_other():
    def f(t):
        x, y = t[0], t[1]
        for _ in range(20):
            x, y = x + 0.1 * np.sin(y), y - 0.1 * x * y
        return np.array([x, y * y])
    t = np.array([0.4, 0.8])
    _, L = frechet.linearize(f, t)
    assert "scalar_tape" in str(L)
    J = frechet.jacfwd(f)(t)
    np.testing.assert_allclose(frechet.jacrev(f)(t), J, rtol=1e-13)
    np.testing.assert_allclose(np.stack([L(e) for e in np.eye(2)], 1), J, rtol=1e-13)
    np.testing.assert_allclose(np.stack([L.T(e) for e in np.eye(2)]), J, rtol=1e-13)
    np.testing.assert_allclose(frechet.vmap(L)(np.eye(2)), J.T, rtol=1e-13)
    np.testing.assert_allclose(frechet.vmap(L.T)(np.eye(2)), J, rtol=1e-13)
    np.testing.assert_allclose(frechet.jit(L)(np.eye(2)[0]), J[:, 0], rtol=1e-13)
    frechet.config.scalar_tape = False
    try:
        np.testing.assert_allclose(frechet.jacrev(f)(t), J, rtol=1e-13)
    finally:
        frechet.config.scalar_tape = True
