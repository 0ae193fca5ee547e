"""Long checks, run by `make test-slow`: third-order derivatives of every op record."""

import zlib

import numpy as np
import pytest
from op_records import RECORDS, traced_fn

from frechet._src.testing import check_grads


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(RECORDS))
def test_third_order(name):
    r = RECORDS[name]
    if r.order < 2:
        pytest.skip(f"{name} is checked to order {r.order} only (its record says why)")
    rng = np.random.default_rng(zlib.crc32(name.encode()))   # the same data every run
    args = r.args(rng)
    check_grads(traced_fn(r), args, order=3, rng=rng, rtol=1e-4, atol=1e-4)
