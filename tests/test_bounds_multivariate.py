"""taylor_bound in several variables: arrays and pytrees of inputs, tensor coefficients."""

import itertools

import numpy as np
import pytest

import frechet as fr
from frechet._src.interpreters.enclosure import arithmetic
from frechet.bounds import taylor_bound

RNG = np.random.default_rng(7)
W = RNG.normal(size=(4, 3))
V = RNG.normal(size=(2, 4))

CASES = [
    ("smooth", lambda x: np.exp(x[0]) * np.sin(x[1]) + x[0] * x[1] ** 2 + np.log1p(x[2] ** 2),
     [0.2, 0.5, -0.3], 0.3),
    ("quadratic_form", lambda x: x @ (W.T @ W) @ x - np.sum(x), [0.1, -0.2, 0.4], 0.5),
    ("vector_out", lambda x: np.tanh(W @ x) * np.cos(x[:1]), [0.3, 0.1, -0.2], 0.2),
    ("mlp", lambda x: np.sum((V @ np.tanh(W @ x + 0.1) - 1.0) ** 2), [0.5, -0.5, 0.2], 0.25),
    ("quotient_sqrt", lambda x: np.sqrt(1.0 + x[0] ** 2 + x[1] ** 2) / (2.0 + x[2]),
     [0.0, 0.3, 0.5], 0.4),
    ("relu_abs", lambda x: np.sum(np.maximum(W @ x, 0.0)) + np.abs(x[1] - 0.1),
     [0.2, 0.05, 0.3], 0.2),
    ("logsumexp", lambda x: np.log(np.sum(np.exp(W @ x))) + np.sum(x ** 3), [0.1, 0.2, 0.3], 0.3),
    ("matrix_in", lambda x: np.sum(np.exp(x @ x.T)) - np.trace(x), [[0.1, 0.2], [-0.3, 0.4]], 0.2),
    ("max_of_rows", lambda x: np.max(np.tanh(W @ x), axis=0) + np.min(x ** 2), [0.2, -0.1, 0.3],
     0.3),
    ("shapes_and_indexing", lambda x: np.sum(np.where(np.array([True, False, True]), np.sin(x),
                                                     x ** 2)[::-1] * np.concatenate(
        [x[:2], x[1:]])[[0, 3, 1]]) + np.stack([x, np.exp(x)]).T.reshape(-1) @ np.arange(6.0)
     + np.sum(np.broadcast_to(x[:, None], (3, 2)) * np.array([[1.0, -1.0]])), [0.2, -0.3, 0.4],
     0.3),
    ("two_d", lambda x: np.sin(x[0] * x[1]) + x[0] ** 4 - x[1] / (1.0 + x[0] ** 2),
     [0.5, -1.0], 0.5),
]


def _samples(x0, width, count=150):
    x0 = np.asarray(x0, dtype=float)
    a, b = x0 - width, x0 + 1.3 * width
    corners = np.array(np.meshgrid(*[[0.0, 1.0]] * x0.size)).reshape(x0.size, -1).T
    pts = np.concatenate([RNG.random((count, x0.size)), corners, [(x0.ravel() - a.ravel())
                                                                   / (b - a).ravel()]])
    return (a, b), [(a.ravel() + t * (b - a).ravel()).reshape(x0.shape) for t in pts]


def _check(f, x0, width, degree):
    region, pts = _samples(x0, width)
    e = taylor_bound(f, np.asarray(x0, dtype=float), region, degree)
    fx = np.stack([np.asarray(f(p), dtype=float) for p in pts])
    lo = np.stack([e.lower(p) for p in pts])
    hi = np.stack([e.upper(p) for p in pts])
    assert not np.any(np.isnan(lo)) and not np.any(np.isnan(hi))
    assert np.all(lo <= fx) and np.all(fx <= hi)
    r_lo, r_hi = e.range()
    assert np.all(r_lo <= fx.min(axis=0)) and np.all(fx.max(axis=0) <= r_hi)
    return e, fx


@pytest.mark.parametrize("degree", [0, 1, 2])
@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_enclosures_hold_at_every_sampled_point(case, degree):
    _, f, x0, width = case
    _check(f, x0, width, degree)


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_coefficients_are_the_derivative_tensors(case):
    _, f, x0, width = case
    x0 = np.asarray(x0, dtype=float)
    e = taylor_bound(f, x0, (x0 - width, x0 + width), 3)
    out = np.shape(f(x0))
    np.testing.assert_allclose(e.coefficients[0], f(x0), rtol=1e-13)
    np.testing.assert_allclose(e.coefficients[1], fr.jacobian(f)(x0), rtol=1e-11, atol=1e-12)
    if case[0] != "relu_abs":               # kinks: the Hessian there is a.e. the same, but
        np.testing.assert_allclose(e.coefficients[2], 0.5 * fr.hessian(f)(x0),   # not traced
                                   rtol=1e-11, atol=1e-12)
    for c, k in zip(e.coefficients, range(4)):
        assert c.shape == out + x0.shape * k
    # the third coefficient against Taylor mode along a random direction
    v = RNG.normal(size=x0.shape)
    want = fr.taylor(f, x0, v, 3)[3]
    got = e.coefficients[3]
    for _ in range(3):
        got = np.tensordot(got, v, axes=v.ndim)
    np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-12)
    assert e.remainder[0].shape == out + x0.shape * 4


def test_higher_degrees_are_tighter_on_small_boxes():
    f = CASES[0][1]
    x0 = np.array([0.2, 0.5, -0.3])
    widths = []
    for degree in range(4):
        e = taylor_bound(f, x0, (x0 - 0.05, x0 + 0.05), degree)
        lo, hi = e.lower(x0 + 0.05), e.upper(x0 + 0.05)
        widths.append(hi - lo)
    assert all(w2 < 0.2 * w1 for w1, w2 in itertools.pairwise(widths)), widths


def test_one_variable_as_an_array_matches_the_scalar_form():
    f = lambda x: np.exp(np.sin(3 * x)) * x ** 2
    s = taylor_bound(f, 0.3, (0.0, 1.0), 2)
    a = taylor_bound(lambda x: f(x[0]), np.array([0.3]), (0.0, 1.0), 2)
    for cs, ca in zip(s.coefficients, a.coefficients):
        np.testing.assert_allclose(ca.ravel(), np.ravel(cs), rtol=1e-14)
    np.testing.assert_allclose(np.ravel(a.remainder), np.ravel(s.remainder), rtol=1e-14)
    assert a.upper(np.array([0.7])) == pytest.approx(s.upper(0.7), rel=1e-14)


def test_pytree_inputs():
    def loss(p):
        return np.sum(np.tanh(p["w"] @ p["x"] + p["b"]) ** 2) + p["b"] ** 2

    p0 = {"w": RNG.normal(size=(2, 2)), "x": np.array([0.3, -0.2]), "b": np.float64(0.1)}
    lo = {k: v - 0.1 for k, v in p0.items()}
    hi = {k: v + 0.15 for k, v in p0.items()}
    e = taylor_bound(loss, p0, (lo, hi), 1)
    flat = np.concatenate([np.ravel(p0["b"]), p0["w"].ravel(), p0["x"]])   # leaves in key order
    assert e.coefficients[1].shape == (7,) and e.remainder[0].shape == (7, 7)
    g = fr.grad(loss)(p0)
    np.testing.assert_allclose(e.coefficients[1],
                               np.concatenate([np.ravel(g["b"]), g["w"].ravel(), g["x"]]),
                               rtol=1e-12)
    assert flat.size == 7
    for _ in range(200):
        t = RNG.random()
        p = {k: lo[k] + RNG.random(np.shape(v)) * (hi[k] - lo[k]) * t + (1 - t) * (v - lo[k])
             for k, v in p0.items()}
        p = {k: np.clip(v, lo[k], hi[k]) for k, v in p.items()}
        assert e.lower(p) <= loss(p) <= e.upper(p)
    # scalars for the region broadcast over every leaf
    e2 = taylor_bound(loss, p0, (-5.0, 5.0), 1)
    assert e2.lower(p0) <= loss(p0) <= e2.upper(p0)
    with pytest.raises(ValueError, match="structure"):
        e.upper([1.0, 2.0])


def test_products_folded_before_forming_them_stay_sound(monkeypatch):
    # folding a product's excess degree into its factors (for large coefficient tensors) is
    # looser but must hold
    monkeypatch.setattr(arithmetic, "FOLD_ABOVE", 0)
    for _, f, x0, width in CASES[:4]:
        for degree in (1, 2):
            _check(f, x0, width, degree)


def test_region_errors():
    f = CASES[0][1]
    x0 = np.array([0.2, 0.5, -0.3])
    with pytest.raises(ValueError, match="contain x0"):
        taylor_bound(f, x0, (x0 + 0.1, x0 + 0.2), 1)
    with pytest.raises(ValueError, match="contain x0"):
        taylor_bound(f, x0, (x0 - np.inf, x0 + 0.2), 1)
    e = taylor_bound(lambda x: np.log(x[0]) + x[1], np.array([1.0, 0.0]),
                     (np.array([0.0, -1.0]), np.array([2.0, 1.0])), 1)
    assert np.isinf(e.remainder[1]).any() and not np.isnan(e.upper(np.array([1.5, 0.5])))


@pytest.mark.parametrize("f,region,minimum", [
    # six-hump camel: two global minima at (+-0.0898, -+0.7126)
    (lambda x: (4 - 2.1 * x[0] ** 2 + x[0] ** 4 / 3) * x[0] ** 2 + x[0] * x[1]
     + (-4 + 4 * x[1] ** 2) * x[1] ** 2, ([-3.0, -2.0], [3.0, 2.0]), -1.0316284534898774),
    # Himmelblau: four global minima of value 0
    (lambda x: (x[0] ** 2 + x[1] - 11) ** 2 + (x[0] + x[1] ** 2 - 7) ** 2,
     ([-5.0, -5.0], [5.0, 5.0]), 0.0),
    # a 3-D one with a unique minimum, found by SciPy below
    (lambda x: np.sum((x - np.array([0.3, -0.2, 0.1])) ** 2) + np.sin(3 * x[0]) * np.cos(2 * x[2]),
     ([-1.0, -1.0, -1.0], [1.0, 1.0, 1.0]), None),
])
def test_global_minimum_over_boxes_is_certified(f, region, minimum):
    from scipy.optimize import minimize as local

    from frechet.bounds import global_minimum
    a, b = (np.array(v) for v in region)
    (lo, hi), x = global_minimum(f, (a, b), degree=1, tol=1e-4)
    if minimum is None:               # the best of many local searches
        starts = RNG.uniform(a, b, size=(30, a.size))
        minimum = min(local(f, s, bounds=list(zip(a, b)), tol=1e-12).fun for s in starts)
    assert lo <= minimum + 1e-12 and minimum <= hi + 1e-12 and hi - lo <= 1e-4
    assert np.all((a <= x) & (x <= b)) and lo <= f(x) <= hi + 1e-12
