"""CuPy: the back-end tables resolve against the installed CuPy (runs wherever CuPy imports,
GPU or not), and the op-record table on CuPy arrays on a GPU (`make test-gpu`): the same check
as on torch tensors (tests/backend_checks.py). Skips where CuPy or a GPU is missing."""

import numpy as np
import pytest
from backend_checks import check_jit_record, check_record
from op_records import RECORDS

import frechet as fr
from frechet._src.core import backend
from frechet._src.core.primitive import REGISTRY

cp = pytest.importorskip("cupy")
try:
    GPU = cp.cuda.runtime.getDeviceCount() > 0
except cp.cuda.runtime.CUDARuntimeError:     # no driver, or one too old for this CuPy
    GPU = False
needs_gpu = pytest.mark.skipif(not GPU, reason="no GPU (or no CUDA driver) for CuPy")

# frechet's primitives: those registered when the tests are collected, but for the tests' own
# (named test_...; tests define more while they run)
FRECHET = sorted(name for name in REGISTRY if not name.startswith("test_"))

# Primitives with no CuPy function, resolved without a GPU. Collectives run only under a named
# vmap, the tapes only on NumPy floats and arrays. Listed from a run against CuPy 14: giving
# CuPy one of these makes test_tables_resolve fail until it leaves the list.
LACKS = {"all_gather", "array_tape", "array_tape_t", "axis_index", "bitwise_count", "cummax",
         "cummin", "custom_vjp_lin", "eig", "frexp", "isnat", "iv", "ive", "kv", "lu_factor",
         "pmax", "psum", "roots", "scalar_tape", "scalar_tape_t", "spacing", "sparse_matmul",
         "stdtr", "stdtrit", "sylvester", "triangular_solve"}


def test_tables_resolve():
    """Every primitive's CuPy function is found: a table's 'module.function' names one that
    this CuPy has and an array-API rule finds its standard functions; a primitive without one
    raises BackendError, never ImportError or AttributeError on a GPU later."""
    import array_api_compat.cupy as xp
    lacks = set()
    for name in FRECHET:
        try:
            fn = backend.implementation(REGISTRY[name], xp)
        except fr.BackendError as e:
            assert f"'{name}' has no implementation for the cupy back end" in str(e)
            lacks.add(name)
        else:
            assert callable(fn), name
    assert lacks == LACKS


def _check(name):
    check_record(name, cp.asarray, cp.asnumpy, cp.ndarray)
    check_jit_record(name, cp.asarray, cp.asnumpy, cp.ndarray)


@needs_gpu
@pytest.mark.parametrize("name", sorted(RECORDS))
def test_record_on_cupy(name):
    """Each record passes, or raises BackendError naming the primitive CuPy lacks."""
    try:
        _check(name)
    except fr.BackendError as e:
        assert "has no implementation for the cupy back end" in str(e)
        pytest.xfail(str(e))


@needs_gpu
def test_float32_stays_on_the_gpu():
    x = cp.asarray(np.array([0.5, -0.25, 1.0], np.float32))
    g = fr.grad(lambda x: np.sum(np.sin(x) * x))(x)
    assert isinstance(g, cp.ndarray) and g.dtype == np.float32 and g.device == x.device
    np.testing.assert_allclose(cp.asnumpy(g), np.cos(cp.asnumpy(x)) * cp.asnumpy(x)
                               + np.sin(cp.asnumpy(x)), rtol=1e-6)
