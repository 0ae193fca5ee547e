"""SciPy's special functions that torch lacks, as frechet computes them on tensors
(frechet/_src/prims/special_torch.py, np.cbrt in elementwise.py), against SciPy's and NumPy's
own on grids of edge values (poles, signed zeros, infinities, NaN, integers) and on random
arguments; and the BackendError of what they cannot compute."""

import itertools

import numpy as np
import pytest
import scipy.special as sps

import frechet as fr

torch = pytest.importorskip("torch")

EDGES = [-np.inf, -5.0, -3.0, -2.5, -2.0, -1.5, -1.0, -0.5, -0.0, 0.0, 1e-300, 0.5, 1.0, 1.5,
         2.0, 3.0, 7.5, 170.0, 171.7, 1e6, 1e7, 1e300, np.inf, np.nan]
PAIRS = np.array(list(itertools.product(EDGES, EDGES))).T


def _on_torch(fn, *args):
    """fn (NumPy code) traced by frechet on float64 tensors, back as a NumPy array."""
    out = fr.jit(fn)(*[torch.tensor(np.asarray(a, dtype=float)) for a in args])
    assert isinstance(out, torch.Tensor)
    return out.numpy()


def _assert_like(got, want, rtol):
    """Equal where SciPy's value is not finite or zero (with its sign), else to rtol."""
    got, want = np.broadcast_arrays(got, want)
    exact = ~np.isfinite(want) | (want == 0)
    np.testing.assert_array_equal(got[exact], want[exact])
    zeros = want == 0
    np.testing.assert_array_equal(np.signbit(got[zeros]), np.signbit(want[zeros]))
    np.testing.assert_allclose(got[~exact], want[~exact], rtol=rtol, atol=0)


@pytest.mark.parametrize("name, args, rtol", [
    ("gamma", (np.r_[EDGES, np.linspace(-30, 171, 2001)],), 1e-12),
    ("loggamma", (np.r_[EDGES, np.linspace(0, 1e3, 1001)],), 1e-14),
    ("beta", PAIRS, 1e-8),      # large a against b: both libraries lose ~1e-10 to lgamma's
    ("betaln", PAIRS, 1e-9),    # cancellation (against mpmath: 2e-11 and 4e-11 at 1e6, -2.5)
    ("rel_entr", PAIRS, 1e-15),
    ("kl_div", PAIRS, 1e-15),
])
def test_edge_values_are_scipys(name, args, rtol):
    _assert_like(_on_torch(getattr(sps, name), *args), getattr(sps, name)(*args), rtol)


@pytest.mark.parametrize("name, low, high, rtol", [
    ("gamma", -20, 20, 1e-14), ("beta", 0.01, 50, 2e-13), ("rel_entr", 1e-3, 1e3, 1e-15),
    ("kl_div", 1e-3, 1e3, 1e-15)])
def test_random_values_near_scipys(name, low, high, rtol):
    """Relative to the largest term (x log(x/y), x and y for the entropies, which cancel):
    gamma and beta through exp(lgamma) lose about |lgamma| ulp (SciPy's Gamma does not)."""
    rng = np.random.default_rng(0)
    args = [rng.uniform(low, high, 20000) for _ in range(1 if name == "gamma" else 2)]
    want = getattr(sps, name)(*args)
    scale = np.abs(want) if name in ("gamma", "beta") else \
        np.maximum(np.abs(args[0] * np.log(args[0] / args[1])), args[0] + args[1])
    got = _on_torch(getattr(sps, name), *args)
    assert np.max(np.abs(got - want) / scale) <= rtol


def test_beta_asymptotic_branch_matches_scipy():
    a = np.array([1e7, 3e8, 1e300, 2e6])
    b = np.array([0.5, -2.5, 1e-300, 1.5])
    for name in ("beta", "betaln"):
        _assert_like(_on_torch(getattr(sps, name), a, b), getattr(sps, name)(a, b), 1e-14)


def test_zeta_is_hurwitz_and_riemann_at_q_one():
    x, q = np.array(list(itertools.product([1.0, 1.5, 3.0, 10.0, np.inf, np.nan],
                                           [-1.5, 0.0, 0.5, 1.0, 2.0, 1e10, np.inf]))).T
    _assert_like(_on_torch(sps.zeta, x, q), sps.zeta(x, q), 1e-14)


def test_riemann_zeta_below_one_raises():
    with pytest.raises(fr.BackendError, match=r"'zeta' has no implementation for the torch "
                                              r"back end for Riemann's zeta \(q = 1\) at x < 1"):
        fr.jit(lambda x: sps.zeta(x, 1.0))(torch.tensor([0.5, 2.0]))


@pytest.mark.parametrize("name", ["iv", "ive", "kv"])
def test_bessel_orders_zero_and_one(name):
    x = np.r_[-np.inf, -3.0, -1e-3, -0.0, 0.0, 1e-150, 1e-3, 0.5, 2.0, 30.0, 690.0, np.inf, np.nan]
    v = np.array([[0.0], [1.0], [-1.0]])
    got = fr.jit(getattr(sps, name))(torch.tensor(v), torch.tensor(x)).numpy()
    _assert_like(got, getattr(sps, name)(v, x), 1e-13)


def test_bessel_where_scipys_flush_to_zero():
    """The documented departures: SciPy's iv(1, x) is 0 for 0 < x < 1.07e-154 and its kv 0
    for x > 697.9 (AMOS's underflow); torch's are the functions' values there (the leading
    terms: I_1(x) = x/2 (1 + x^2/8 + ...), K_v(x) = sqrt(pi/(2x)) e^-x (1 + (4v^2-1)/(8x)))."""
    x = torch.tensor([1e-300, 1e-160])
    got = fr.jit(lambda x: sps.iv(1.0, x))(x).numpy()
    np.testing.assert_array_equal(got, x.numpy() / 2)
    assert np.all(sps.iv(1.0, x.numpy()) == 0)
    x = np.array([700.0, 705.0])
    for v in (0.0, 1.0):
        got = fr.jit(lambda x, v=v: sps.kv(v, x))(torch.tensor(x)).numpy()
        lead = np.sqrt(np.pi / (2 * x)) * np.exp(-x) * (1 + (4 * v * v - 1) / (8 * x))
        np.testing.assert_allclose(got, lead, rtol=1e-5)
        assert np.all(sps.kv(v, x) == 0)


@pytest.mark.parametrize("name", ["iv", "ive", "kv"])
def test_bessel_other_orders_raise_saying_so(name):
    with pytest.raises(fr.BackendError, match=rf"'{name}' has no implementation for the torch "
                                              r"back end at orders other than 0 and \+-1 .*2\.5"):
        fr.jit(getattr(sps, name))(torch.tensor([0.0, 2.5]), torch.tensor([1.0, 2.0]))


@pytest.mark.parametrize("name", ["gamma", "loggamma"])
def test_complex_arguments_raise(name):
    with pytest.raises(fr.BackendError, match=rf"'{name}' has no implementation for the torch "
                                              "back end for complex arguments"):
        fr.jit(getattr(sps, name))(torch.tensor([0.5 + 1j]))


def test_cbrt_within_one_ulp_and_nps_at_the_edges():
    rng = np.random.default_rng(0)
    x = np.r_[rng.uniform(-10, 10, 10**5), np.exp(rng.uniform(-744, 709, 10**5))]
    got, want = _on_torch(np.cbrt, x), np.cbrt(x)
    assert np.max(np.abs(got - want) / np.spacing(np.abs(want))) <= 1
    edges = np.array([0.0, -0.0, np.inf, -np.inf, np.nan, 5e-324, -5e-324, 8.0, -27.0, 1e300])
    _assert_like(_on_torch(np.cbrt, edges), np.cbrt(edges), 0)
