"""Every CuPy function the back-end tables name exists in the installed CuPy (checked without
a GPU: importing cupyx.scipy.special and reading attributes runs nothing on a device)."""

import importlib

import pytest

pytest.importorskip("cupyx.scipy.special")


def _named():
    from frechet._src.core import backend
    return sorted({(p.name, f) for p, table in backend._TABLE.items()
                   for b, f in table.items() if b == "cupy" and isinstance(f, str)})


@pytest.mark.parametrize("prim, path", _named())
def test_cupy_function_exists(prim, path):
    module, _, attr = path.rpartition(".")
    assert callable(getattr(importlib.import_module(module), attr)), (prim, path)
