"""frechet.decision.data against PyEPO's generators.

The reference values and hashes below were produced by running PyEPO 2.2.7's own
`pyepo/data/{shortestpath,knapsack,tsp}.py` (the wheel from PyPI; its data modules need only
NumPy and SciPy) with the arguments shown; the hash is sha256 of the array's bytes (first 16
hex digits). When pyepo itself is importable, test_against_installed_pyepo compares directly.
"""

import hashlib

import numpy as np
import pytest

from frechet.decision import ShortestPath, data


def digest(a):
    return hashlib.sha256(np.ascontiguousarray(a).tobytes()).hexdigest()[:16]


def test_shortest_path_first_values():
    x, c = data.shortest_path(3, 5, (5, 5), deg=4, noise=0.5, seed=42)
    np.testing.assert_array_equal(x[0], [-0.6800247215784908, 0.23225369716100355,
                                         0.29307247329868125, -0.7143514180263678,
                                         1.8657745111447566])
    assert c.dtype == np.float32
    np.testing.assert_array_equal(c[0, :6], np.array(
        [0.28978628, 1.0275946, 0.5635248, 0.48145863, 0.5283035, 0.24122778], np.float32))
    np.testing.assert_array_equal(c[2, -3:], np.array([0.8058208, 0.74240464, 1.1156365],
                                                      np.float32))


@pytest.mark.parametrize(("args", "hashes"), [
    ((1000, 5, (5, 5), 4, 0.5, 0), ("d1ac3a8c3064c21f", "3db9c734209ca3ce")),
    ((20, 3, (3, 4), 1, 0.0, 135), ("e00863913dc4578b", "8b53ed3dd9d7e5f6")),
])
def test_shortest_path_bit_for_bit(args, hashes):
    n, p, grid, deg, noise, seed = args
    x, c = data.shortest_path(n, p, grid, deg=deg, noise=noise, seed=seed)
    assert (digest(x), digest(c)) == hashes
    assert c.shape == (n, ShortestPath(grid).num_cost)


def test_knapsack_bit_for_bit():
    w, x, c = data.knapsack(3, 5, 8, dim=2, deg=6, noise=0.5, seed=135)
    np.testing.assert_array_equal(w, [[4.59, 4.87, 5.19, 7.59, 6.8, 4.97, 4.84, 3.22],
                                      [7.9, 3.62, 3.12, 6.81, 7.09, 3.23, 4.47, 5.23]])
    np.testing.assert_array_equal(c, np.array([[5, 2, 1, 2, 5, 1, 2, 1], [1] * 8,
                                               [12, 4, 6, 2, 4, 2, 5, 2]], np.float32))
    assert c.dtype == np.float32
    w, x, c = data.knapsack(100, 5, 32, dim=2, deg=4, noise=0.5, seed=3)
    assert (digest(w), digest(x), digest(c)) == ("b094e5543d81ebda", "0cd6244be0bca996",
                                                 "82be8b6cdd4e53f5")


def test_tsp_bit_for_bit():
    x, c = data.tsp(2, 10, 5, deg=2, noise=0.5, seed=7)
    np.testing.assert_array_equal(c, np.array(
        [[8.2519, 2.6273, 3.114, 5.3494, 2.0527, 1.2691, 5.0844, 3.0475, 3.7082, 4.5937],
         [2.906, 6.3294, 3.0963, 6.955, 3.1413, 6.6835, 7.5288, 1.8474, 3.7698, 3.7534]],
        np.float32))
    x, c = data.tsp(50, 10, 20, deg=4, noise=0.5, seed=1)
    assert (digest(x), digest(c)) == ("0da6191c64f77852", "7f504dbb4931b091")


def test_generator_validation():
    with pytest.raises(ValueError, match="positive integer deg"):
        data.shortest_path(5, 3, deg=0)
    with pytest.raises(ValueError, match="noise half-width"):
        data.knapsack(5, 3, 4, noise=-0.1)


def test_against_installed_pyepo():
    sp = pytest.importorskip("pyepo.data.shortestpath")
    ks = pytest.importorskip("pyepo.data.knapsack")
    for seed in (0, 7):
        want = sp.genData(200, 5, (5, 5), deg=6, noise_width=0.5, seed=seed)
        for a, b in zip(data.shortest_path(200, 5, (5, 5), 6, 0.5, seed), want):
            np.testing.assert_array_equal(a, b)
        want = ks.genData(200, 5, 32, dim=2, deg=2, noise_width=0.5, seed=seed)
        for a, b in zip(data.knapsack(200, 5, 32, 2, 2, 0.5, seed), want):
            np.testing.assert_array_equal(a, b)
