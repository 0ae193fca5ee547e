"""The op-record table on CuPy arrays on a GPU (`make test-gpu`): the same check as on torch
tensors (tests/backend_checks.py). Skips where CuPy or a GPU is missing."""

import numpy as np
import pytest
from backend_checks import check_jit_record, check_record
from op_records import RECORDS

import frechet as fr

cp = pytest.importorskip("cupy")
try:
    if cp.cuda.runtime.getDeviceCount() < 1:
        pytest.skip("no GPU", allow_module_level=True)
except cp.cuda.runtime.CUDARuntimeError:
    pytest.skip("no GPU (CUDA runtime unavailable)", allow_module_level=True)


def _check(name):
    check_record(name, cp.asarray, cp.asnumpy, cp.ndarray)
    check_jit_record(name, cp.asarray, cp.asnumpy, cp.ndarray)


@pytest.mark.parametrize("name", sorted(RECORDS))
def test_record_on_cupy(name):
    """Each record passes, or raises BackendError naming the primitive CuPy lacks."""
    try:
        _check(name)
    except fr.BackendError as e:
        assert "has no implementation for the cupy back end" in str(e)
        pytest.xfail(str(e))


def test_float32_stays_on_the_gpu():
    x = cp.asarray(np.array([0.5, -0.25, 1.0], np.float32))
    g = fr.grad(lambda x: np.sum(np.sin(x) * x))(x)
    assert isinstance(g, cp.ndarray) and g.dtype == np.float32 and g.device == x.device
    np.testing.assert_allclose(cp.asnumpy(g), np.cos(cp.asnumpy(x)) * cp.asnumpy(x)
                               + np.sin(cp.asnumpy(x)), rtol=1e-6)
