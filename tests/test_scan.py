"""The scan primitive: scan with staged inputs (make_program, jit) is one equation."""

import numpy as np
import pytest

import frechet as fr

THETA, X0 = np.array([1.0, 0.1]), np.array([1.0, 0.0])


def pendulum(theta, x0, steps=20, unroll=1):
    def step(x, _):
        x0_, x1 = x[0], x[1]
        return np.stack([x0_ + 0.1 * x1, x1 + 0.1 * (-theta[0] * np.sin(x0_) - theta[1] * x1)]), x0_
    x, trail = fr.scan(step, x0, length=steps, unroll=unroll)
    return np.sum(x ** 2) + 0.1 * np.sum(np.cos(trail))


def with_xs(w, xs, reverse=False):
    def step(c, x):
        h = np.tanh(c["h"] * w + x["a"])
        return {"h": h, "n": c["n"] + 1.0}, (h * x["b"], np.sum(h))
    c, (ys, sums) = fr.scan(step, {"h": np.zeros(3), "n": 0.0}, xs, reverse=reverse)
    return np.sum(c["h"]) + np.sum(ys ** 2) + np.sum(sums) + c["n"]


XS = {"a": np.linspace(-1, 1, 15).reshape(5, 3), "b": np.linspace(0.5, 2, 15).reshape(5, 3)}
W = np.array([0.5, -0.3, 0.8])


def test_make_program_is_one_scan_equation():
    program = fr.make_program(pendulum)(THETA, X0)
    names = [e.primitive.name for e in program.eqns]
    assert names.count("scan") == 1 and "sin" not in names
    unrolled = fr.make_program(lambda t, x: pendulum(t, x, unroll=True))(THETA, X0)
    assert "scan" not in [e.primitive.name for e in unrolled.eqns]


@pytest.mark.parametrize("reverse", [False, True])
def test_jit_values_and_derivatives(reverse):
    f = lambda w, xs: with_xs(w, xs, reverse)
    np.testing.assert_allclose(fr.jit(f)(W, XS), f(W, XS), rtol=1e-14)
    want = fr.grad(f, argnums=(0, 1))(W, XS)
    got = fr.jit(fr.grad(f, argnums=(0, 1)))(W, XS)
    np.testing.assert_allclose(got[0], want[0], rtol=1e-12)
    for k in XS:
        np.testing.assert_allclose(got[1][k], want[1][k], rtol=1e-12)
    np.testing.assert_allclose(fr.jit(fr.hessian(f))(W, XS), fr.hessian(f)(W, XS), rtol=1e-11)
    np.testing.assert_allclose(fr.jit(fr.jacfwd(f))(W, XS), fr.jacfwd(f)(W, XS), rtol=1e-12)


def test_closure_and_a_carry_whose_tangent_starts_at_zero():
    # grad w.r.t. theta only: theta is closed over by the body, the initial carry is constant,
    # so the carry's tangent is zero until the first step (the fixpoint)
    want = fr.grad(pendulum)(THETA, X0)
    np.testing.assert_allclose(fr.jit(fr.grad(pendulum))(THETA, X0), want, rtol=1e-12)
    np.testing.assert_allclose(fr.jit(fr.grad(pendulum, argnums=1))(THETA, X0),
                               fr.grad(pendulum, argnums=1)(THETA, X0), rtol=1e-12)
    # the derivative's programs hold scans, not 20 copies of the body
    names = [e.primitive.name for e in fr.make_program(fr.grad(pendulum))(THETA, X0).eqns]
    assert names.count("scan") == 2 and len(names) < 30


def test_linear_map_of_a_jitted_scan():
    f = fr.jit(lambda t: pendulum(t, X0))
    _, lin = fr.linearize(f, THETA)
    v = np.array([1.0, -2.0])
    np.testing.assert_allclose(lin(v), fr.jvp(lambda t: pendulum(t, X0), (THETA,), (v,))[1],
                               rtol=1e-12)
    ct = lin.T(np.float64(1.0))
    np.testing.assert_allclose(ct[0] if isinstance(ct, tuple) else ct,
                               fr.grad(pendulum)(THETA, X0), rtol=1e-12)


def test_vmap_over_a_staged_scan():
    thetas = np.stack([THETA, 2 * THETA, 0.5 * THETA])
    want = np.stack([pendulum(t, X0) for t in thetas])
    np.testing.assert_allclose(fr.jit(fr.vmap(lambda t: pendulum(t, X0)))(thetas), want,
                               rtol=1e-13)
    xss = {k: np.stack([v, 2 * v]) for k, v in XS.items()}
    got = fr.jit(fr.vmap(lambda xs: with_xs(W, xs)))(xss)
    np.testing.assert_allclose(got, [with_xs(W, {k: v[i] for k, v in xss.items()})
                                     for i in range(2)], rtol=1e-13)
    per = fr.jit(fr.vmap(fr.grad(pendulum), in_axes=(0, None)))(thetas, X0)
    np.testing.assert_allclose(per, np.stack([fr.grad(pendulum)(t, X0) for t in thetas]),
                               rtol=1e-12)


def test_scan_without_ys_and_zero_length():
    def f(x):
        c, ys = fr.scan(lambda c, _: (c * 0.9 + 1.0, None), x, length=4)
        assert ys is None
        return c
    np.testing.assert_allclose(fr.jit(f)(np.ones(2)), f(np.ones(2)))

    def g(x):
        c, ys = fr.scan(lambda c, x: (c + x, c), x[0], x[:0])
        return c, ys
    c, ys = fr.jit(g)(np.arange(3.0))
    assert c == 0.0 and ys.shape == (0,)


def test_body_must_keep_the_carry():
    with pytest.raises(TypeError, match="carry"):
        fr.make_program(lambda x: fr.scan(lambda c, _: (c[:1], None), x, length=3))(X0)


def newton(a):
    return fr.while_loop(lambda s: np.abs(s[0] ** 2 - a) > 1e-12,
                         lambda s: ((s[0] + a / s[0]) / 2, s[1] + 1), (a, 0))


def test_while_primitive_under_jit_and_make_program():
    assert [e.primitive.name for e in fr.make_program(newton)(2.0).eqns] == ["while"]
    j = fr.jit(newton)
    for a in (2.0, 1e4, 0.25):
        root, n = j(a)
        want_root, want_n = newton(a)
        np.testing.assert_allclose(root, want_root, rtol=1e-15)
        assert n == want_n
    assert j.trace_count == 1              # the trip count is not a guard any more


def test_derivatives_through_a_while_primitive():
    # forward mode is a while of the body's JVP; reverse mode runs the loop (trip count known)
    for a in (2.0, 1e4):
        np.testing.assert_allclose(fr.jit(lambda a: fr.jvp(lambda a: newton(a)[0], (a,),
                                                             (1.0,))[1])(a),
                                   0.5 / np.sqrt(a), rtol=1e-10)
        np.testing.assert_allclose(fr.jit(fr.grad(lambda a: newton(a)[0]))(a),
                                   0.5 / np.sqrt(a), rtol=1e-10)
    # a carry whose tangent starts at zero, and a closure over a differentiated value
    def power(t):
        return fr.while_loop(lambda s: s[1] < 4, lambda s: (s[0] * t, s[1] + 1), (1.0, 0))[0]
    np.testing.assert_allclose(fr.jit(lambda t: fr.jvp(power, (t,), (1.0,))[1])(1.5),
                               4 * 1.5 ** 3, rtol=1e-14)


def test_vmap_of_a_while_primitive():
    # each example runs until its own condition fails (the batched while steps only those)
    assert "while" in str(fr.make_program(fr.vmap(newton))(np.array([2.0, 9.0])))
    roots, counts = fr.jit(fr.vmap(newton))(np.array([2.0, 1e4, 9.0]))
    np.testing.assert_allclose(roots, np.sqrt([2.0, 1e4, 9.0]), rtol=1e-12)
    assert list(counts) == [newton(a)[1] for a in (2.0, 1e4, 9.0)]   # each example's own


def test_fori_loop_stages_as_scan_or_while():
    f = lambda x: fr.fori_loop(0, 5, lambda i, v: v * 0.5 + np.sin(v) * i, x)
    assert [e.primitive.name for e in fr.make_program(f)(np.ones(2)).eqns] == ["scan"]
    np.testing.assert_allclose(fr.jit(f)(np.ones(2)), f(np.ones(2)), rtol=1e-15)
    np.testing.assert_allclose(fr.jit(fr.grad(lambda x: np.sum(f(x))))(np.ones(2)),
                               fr.grad(lambda x: np.sum(f(x)))(np.ones(2)), rtol=1e-13)
    g = fr.jit(lambda x, n: fr.fori_loop(0, n, lambda i, v: v * 1.5, x))
    np.testing.assert_allclose(g(np.ones(2), 3), 1.5 ** 3)
    np.testing.assert_allclose(g(np.ones(2), 4), 1.5 ** 4)
    assert g.trace_count == 1
