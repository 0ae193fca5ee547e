"""Every op record: derivatives to second order, values against NumPy, transposes."""

import zlib

import numpy as np
import pytest
from op_records import RECORDS
from op_records import traced_fn as _fn

import frechet as fr
from frechet._src.ir.program import typecheck
from frechet._src.testing import check_grads, check_transpose


# Records whose NumPy call goes through scipy.special dispatch by replacing the function.
@pytest.mark.parametrize("name", sorted(RECORDS))
def test_grads(name):
    r = RECORDS[name]
    rng = np.random.default_rng(zlib.crc32(name.encode()))   # the same data every run
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
    typecheck(L.program)
    typecheck(L.T.program)
    check_transpose(L)


@pytest.mark.parametrize("name", sorted(RECORDS))
def test_staged_program(name):
    """make_program stages the function into a program that typechecks and evaluates to the
    same value (records that need concrete values raise ConcretizationError instead)."""
    r = RECORDS[name]
    args = r.args(np.random.default_rng(3))
    try:
        prog = fr.make_program(_fn(r))(*args)
    except fr.ConcretizationError:
        return
    typecheck(prog)
    got = prog(*args)
    expected = fr.jvp(_fn(r), args, tuple(np.zeros_like(a) for a in args))[0]
    for g, e in zip(got, [expected] if not isinstance(expected, (tuple, list)) else expected):
        np.testing.assert_allclose(np.asarray(g), np.asarray(e), rtol=1e-12, atol=1e-12)
