"""Taylor mode (frechet.jet, taylor, derivatives): coefficient recurrences against nested jvp
and closed forms, composed with jit and vmap; a primitive without a rule raises."""

import math

import numpy as np
import pytest

import frechet as fr


def nested(f, x, v, order):
    """[f, D f[v], ..., D^order f[v,...,v]] by nested jvps (the reference)."""
    def derivs(k):
        if k == 0:
            return lambda y: [f(y)]
        inner = derivs(k - 1)

        def g(y):
            p, t = fr.jvp(inner, (y,), (v,))
            return list(p) + [t[-1]]
        return g
    return derivs(order)(x)


W = np.random.default_rng(0).standard_normal((3, 4)) * 0.5
FUNCTIONS = {
    "taylor8": lambda x: np.exp(np.sin(x)) * np.tanh(x) + np.log1p(x * x),
    "log_sqrt": lambda x: np.log(2.0 + x) * np.sqrt(1.5 + x),
    "quotient": lambda x: (x * x + 1.0) / (2.0 + np.cos(x)),
    "powers": lambda x: x ** 3 + (1.5 + x) ** 2.5 - x ** 0,
    "trig": lambda x: np.arctan(x) + np.cosh(x) * np.sinh(0.5 * x) - np.arcsinh(x),
    "expm1_tan": lambda x: np.expm1(x) * np.tan(0.3 * x) + np.reciprocal(3.0 + x),
    "network": lambda x: np.tanh(W @ x[:4] + 1.0).sum() * x,
    "shapes": lambda x: np.concatenate([x[::-1], x[:2] * 2.0]).reshape(-1, 1).sum(axis=1),
    "where": lambda x: np.where(x > 0, np.exp(x), np.sin(x)) + np.maximum(x, 0.1),
    "power_both": lambda x: (1.5 + x) ** (0.5 + x * x),
}


@pytest.mark.parametrize("name", sorted(FUNCTIONS))
def test_taylor_matches_nested_jvp(name):
    f = FUNCTIONS[name]
    rng = np.random.default_rng(1)
    x, v = 0.4 * rng.standard_normal(5), rng.standard_normal(5)
    got = fr.taylor(f, x, v, 5)
    want = nested(f, x, v, 5)
    for k in range(6):
        np.testing.assert_allclose(got[k] * math.factorial(k), want[k], rtol=1e-11, atol=1e-11,
                                   err_msg=f"order {k}")


def test_jet_conventions_and_closed_forms():
    y, ws = fr.jet(np.sin, (0.5,), ([1.0, 0.0, 0.0],))
    np.testing.assert_allclose([y, *ws], [np.sin(.5), np.cos(.5), -np.sin(.5), -np.cos(.5)],
                               rtol=1e-15)
    # a curve with a second-order term: d^2/dt^2 exp(x(t)) = exp(x0) (v1^2 + v2)
    y, (w1, w2) = fr.jet(np.exp, (0.2,), ([2.0, 3.0],))
    np.testing.assert_allclose([w1, w2], [np.exp(.2) * 2.0, np.exp(.2) * (4.0 + 3.0)])
    # derivatives of 1/(1-x): k!/(1-x)^(k+1)
    ds = fr.derivatives(lambda x: 1.0 / (1.0 - x), 0.25, 8)
    np.testing.assert_allclose(ds, [math.factorial(k) / 0.75 ** (k + 1) for k in range(9)],
                               rtol=1e-13)
    # pytrees in and out
    out, terms = fr.jet(lambda p: {"s": p["a"] * p["b"]}, ({"a": 2.0, "b": 3.0},),
                        ([{"a": 1.0, "b": 0.0}, {"a": 0.0, "b": 1.0}],))
    assert out["s"] == 6.0 and terms[0]["s"] == 3.0 and terms[1]["s"] == 2.0   # 2 a' b'


def test_jit_and_vmap_compose():
    f = FUNCTIONS["taylor8"]
    x = np.linspace(-1, 1, 7)
    want = fr.taylor(f, x, np.ones_like(x), 8)
    jf = fr.jit(lambda x: fr.taylor(f, x, np.ones_like(x), 8))
    jf(x)
    for a, b in zip(jf(x), want):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-14)
    per = fr.vmap(lambda x: fr.taylor(f, x, 1.0, 4))(x)
    for a, b in zip(per, want[:5]):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-14)


GENERIC = {   # primitives whose Taylor rule comes from their JVP rule (jet.taylor_from_jvp)
    "erf": lambda x: __import__("scipy.special").special.erf(x),
    "hypot_arctan2": lambda x: np.hypot(x, 2.0 + x) + np.arctan2(x, 1.5 + x * x),
    "inv": lambda x: np.linalg.inv(np.outer(x, x) + 3 * np.eye(5)).sum(0),
    "slogdet": lambda x: np.linalg.slogdet(np.outer(x, x) + 3 * np.eye(5))[1] * x,
    "eigvalsh": lambda x: np.linalg.eigvalsh(np.outer(x, x) + np.diag(np.arange(5.0))),
    "prod_sort": lambda x: np.prod(x + 2.0) * np.sort(x) ** 2,
    "logaddexp": lambda x: np.logaddexp(x, 2 * x),
}


@pytest.mark.parametrize("name", sorted(GENERIC))
def test_rules_from_the_jvp(name):
    f = GENERIC[name]
    rng = np.random.default_rng(2)
    x, v = 0.4 * rng.standard_normal(5), rng.standard_normal(5)
    got, want = fr.taylor(f, x, v, 4), nested(f, x, v, 4)
    for k in range(5):
        np.testing.assert_allclose(got[k] * math.factorial(k), want[k], rtol=1e-10, atol=1e-11)


def _check_staged(f, x, v, order, primitives):
    """Taylor mode of f under jit (the compiled replay) against nested jvps, and the staged
    program holding f's control flow as `primitives`, not unrolled or decided at trace time."""
    want = nested(f, x, v, order)
    jf = fr.jit(lambda x: fr.taylor(f, x, v, order))
    jf(x)
    for k, c in enumerate(jf(x)):
        np.testing.assert_allclose(c * math.factorial(k), want[k], rtol=1e-11, atol=1e-12)
    program = fr.make_program(lambda x: fr.taylor(f, x, v, order))(x)
    names = {e.primitive.name for e in program.eqns}
    assert set(primitives) <= names, names


def test_control_flow_under_jit():
    def f(x):
        y = fr.cond(x.sum() > 0, lambda v: np.sin(v) * v, lambda v: np.exp(v), x)
        c, _ = fr.scan(lambda c, _: (np.tanh(c) * 1.1 + x, None), y, length=3)
        return c
    _check_staged(f, np.array([0.3, -0.1, 0.5]), np.array([1.0, 0.5, -1.0]), 4, ["cond", "scan"])


def test_while_loops_under_jit():
    def f(x):
        def body(c):
            i, y = c
            return i + 1, np.sin(y) + 0.5 * y * x
        return fr.while_loop(lambda c: c[0] < 4, body, (0, x))[1]
    _check_staged(f, np.array([0.3, -0.1]), np.array([1.0, 0.5]), 3, ["while"])


def test_a_primitive_without_a_rule_raises_naming_it():
    from frechet._src.core.primitive import primitive
    opaque = primitive("test_opaque_jet", lambda x: x * 2.0, lambda x: x)
    with pytest.raises(fr.FrechetError, match="'test_opaque_jet' has no Taylor rule"):
        fr.taylor(opaque.bind, np.array([3.0, 1.0]), np.ones(2), 2)
    with pytest.raises(ValueError, match="same length"):
        fr.jet(lambda x, y: x * y, (1.0, 2.0), ([1.0], [1.0, 0.0]))
