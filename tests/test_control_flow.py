"""cond, switch, while_loop, fori_loop, scan: values, derivatives in both modes, and vmap."""

import numpy as np
import pytest

import frechet as fr
from frechet._src.testing import check_grads


def newton_sqrt(a):
    """sqrt(a) by Newton's method: the trip count depends on a."""
    return fr.while_loop(lambda s: np.abs(s[0] ** 2 - a) > 1e-12,
                         lambda s: ((s[0] + a / s[0]) / 2, s[1] + 1), (a, 0))[0]


def test_while_loop_reverse_mode_with_runtime_trip_count():
    for a in (2.0, 9.0, 1e4):
        np.testing.assert_allclose(newton_sqrt(a), np.sqrt(a))
        np.testing.assert_allclose(fr.grad(newton_sqrt)(a), 0.5 / np.sqrt(a), rtol=1e-10)
        np.testing.assert_allclose(fr.jvp(newton_sqrt, (a,), (1.0,))[1], 0.5 / np.sqrt(a),
                                   rtol=1e-10)


def test_while_loop_under_vmap_runs_each_example_its_own_number_of_times():
    a = np.array([2.0, 9.0, 1e4])
    np.testing.assert_allclose(fr.vmap(newton_sqrt)(a), np.sqrt(a))
    counts = fr.vmap(lambda a: fr.while_loop(lambda s: s[0] < a, lambda s: (s[0] * 2, s[1] + 1),
                                             (1.0, 0))[1])(np.array([1.0, 5.0, 100.0]))
    np.testing.assert_array_equal(counts, [0, 3, 7])
    np.testing.assert_allclose(fr.vmap(fr.grad(newton_sqrt))(a), 0.5 / np.sqrt(a), rtol=1e-10)


def test_cond_and_switch():
    f = lambda x: fr.cond(x > 0, lambda v: np.sin(v) * v, lambda v: np.cos(v), x)
    for x in (-0.7, 0.4):
        check_grads(f, (x,), order=2)
    xs = np.array([-0.7, 0.4, 1.5])
    np.testing.assert_allclose(fr.vmap(f)(xs), np.where(xs > 0, np.sin(xs) * xs, np.cos(xs)))
    np.testing.assert_allclose(fr.vmap(fr.grad(f))(xs),
                               np.where(xs > 0, np.cos(xs) * xs + np.sin(xs), -np.sin(xs)))
    g = lambda i, x: fr.switch(i, [np.sin, np.cos, lambda v: v ** 2], x)
    np.testing.assert_allclose(g(7, 3.0), 9.0)                   # index clamped, as in JAX
    np.testing.assert_allclose(g(-2, 0.5), np.sin(0.5))
    np.testing.assert_allclose(fr.vmap(g)(np.array([0, 1, 2, 9]), np.full(4, 0.5)),
                               [np.sin(0.5), np.cos(0.5), 0.25, 0.25])
    np.testing.assert_allclose(fr.grad(lambda x: g(1, x))(0.5), -np.sin(0.5))
    with pytest.raises(TypeError, match="predicate must be a scalar"):
        fr.cond(np.array([True, False]), np.sin, np.cos, 1.0)


def test_fori_loop():
    power = lambda x: fr.fori_loop(0, 5, lambda i, v: v * x + i, 1.0)
    check_grads(power, (0.7,), order=2)
    # a mapped upper bound: each example runs its own number of iterations
    out = fr.vmap(lambda n, x: fr.fori_loop(0, n, lambda i, v: v * x, 1.0))(
        np.array([0, 2, 3]), np.array([2.0, 2.0, 2.0]))
    np.testing.assert_allclose(out, [1.0, 4.0, 8.0])


def pendulum(theta, steps=200, dt=0.01):
    def step(x, _):
        x0, x1 = x[0], x[1]
        return np.stack([x0 + dt * x1, x1 + dt * (-theta[0] * np.sin(x0) - theta[1] * x1)]), None
    x, _ = fr.scan(step, np.array([1.0, 0.0]), length=steps)
    return np.sum(x ** 2)


def test_scan_values_and_gradients():
    carry, ys = fr.scan(lambda c, x: (c + x, c * x), 0.0, np.arange(4.0))
    assert carry == 6.0
    np.testing.assert_allclose(ys, [0.0, 0.0, 2.0, 9.0])
    carry, ys = fr.scan(lambda c, x: (c + x, c * x), 0.0, np.arange(4.0), reverse=True)
    np.testing.assert_allclose(ys, [0.0, 5.0, 6.0, 0.0])
    check_grads(pendulum, (np.array([9.8, 0.3]),), order=1, eps=1e-6, rtol=1e-6)
    # pytree carries and xs
    (s, p), ys = fr.scan(lambda c, x: ((c[0] + x["a"], c[1] * x["b"]), x["a"] * 2),
                         (0.0, 1.0), {"a": np.arange(3.0), "b": np.array([2.0, 3.0, 4.0])})
    assert (s, p) == (3.0, 24.0)
    np.testing.assert_allclose(ys, [0.0, 2.0, 4.0])
    with pytest.raises(ValueError, match="needs xs or length"):
        fr.scan(lambda c, x: (c, x), 0.0)


def test_staged_control_flow_says_what_is_missing():
    # loops stage as primitives (tests/test_scan.py); reverse mode through a while_loop stages
    # a loop recording residuals on a tape and a loop over the tape (its trip count is found
    # when the program runs: tests/test_resources.py)
    def f(x):
        return fr.while_loop(lambda v: v < 10.0, lambda v: v * 2.0, x)
    assert "while" in str(fr.make_program(f)(1.0))
    program = fr.make_program(fr.grad(f))(1.0)
    assert "while_tape" in str(program) and "tape_loop" in str(program)
    assert program(np.float64(1.0))[0] == 16.0 and program(np.float64(3.0))[0] == 4.0
