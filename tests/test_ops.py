"""Every op record: derivatives to second order, values against NumPy, transposes."""

import numpy as np
import pytest
import scipy.special as sps

import frechet as fr
import frechet.scipy.special as fsp
from frechet._src.testing import check_grads, check_transpose
from op_records import RECORDS

# Records whose NumPy call goes through scipy.special dispatch by replacing the function.
_SCIPY = {sps.erf: fsp.erf, sps.erfc: fsp.erfc, sps.erfinv: fsp.erfinv, sps.gammaln: fsp.gammaln,
          sps.digamma: fsp.digamma, sps.expit: fsp.expit, sps.logit: fsp.logit, sps.i1: fsp.i1}


def _fn(r):
    return _SCIPY.get(r.fn, r.fn)


@pytest.mark.parametrize("name", sorted(RECORDS))
def test_grads(name):
    r = RECORDS[name]
    rng = np.random.default_rng(abs(hash(name)) % 2**32)
    args = r.args(rng)
    check_grads(_fn(r), args, order=r.order, rng=rng, rtol=r.tol, atol=r.tol)


@pytest.mark.parametrize("name", sorted(RECORDS))
def test_value_matches_numpy(name):
    r = RECORDS[name]
    args = r.args(np.random.default_rng(1))
    expected = r.fn(*args)                       # NumPy (or SciPy) on plain arrays
    got, _ = fr.jvp(_fn(r), args, tuple(np.zeros_like(a) for a in args))   # traced path
    np.testing.assert_allclose(np.asarray(got), np.asarray(expected), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("name", sorted(RECORDS))
def test_transpose(name):
    r = RECORDS[name]
    args = r.args(np.random.default_rng(2))
    _, L = fr.linearize(_fn(r), *args)
    check_transpose(L)
