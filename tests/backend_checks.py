"""The op-record check on another array library: values, JVPs and VJPs of a record's NumPy code
called with that library's arrays, against the same code on NumPy arrays. Every result must
be an array of that library (tests/test_backend_torch.py, tests/test_backend_cupy.py)."""

import zlib

import numpy as np
from op_records import RECORDS
from op_records import traced_fn as _fn

import frechet as fr

# Two libraries' special functions and LAPACK calls agree to about 1e-10 relative (torch's
# polygamma and SciPy's differ by 3e-10), not to the last bit.
TOL = 1e-8


def _leaves(out):
    return out if isinstance(out, (tuple, list)) else [out]


def check_record(name, to_lib, to_numpy, array_type):
    """to_lib: NumPy array -> the library's array; to_numpy: back (an explicit copy)."""
    r = RECORDS[name]
    rng = np.random.default_rng(zlib.crc32(name.encode()))
    args = r.args(rng)
    tangents = tuple(rng.standard_normal(np.shape(a)).astype(np.asarray(a).dtype)
                     for a in args)

    def close(got, want):
        for g, w in zip(_leaves(got), _leaves(want)):
            assert isinstance(g, array_type), f"a {type(g).__name__} came back"
            g = to_numpy(g)
            assert g.dtype == np.asarray(w).dtype
            np.testing.assert_allclose(g, np.asarray(w), rtol=TOL, atol=TOL)

    f = _fn(r)
    largs = tuple(to_lib(a) for a in args)
    # values and JVPs: forward mode on the library's arrays against forward mode on NumPy's
    # (whose values tests/test_ops.py checks against NumPy's own)
    out, tout = fr.jvp(f, largs, tuple(to_lib(t) for t in tangents))
    want, want_t = fr.jvp(f, args, tangents)
    close(out, r.fn(*args))
    close(tout, want_t)
    # VJPs: the transposed linearization, pulled back from a random cotangent
    multiple = isinstance(want, (tuple, list))
    cts = [rng.standard_normal(np.shape(w)).astype(np.asarray(w).dtype) for w in _leaves(want)]
    _, pull = fr.vjp(f, *largs)
    _, pull_np = fr.vjp(f, *args)
    close(pull([to_lib(c) for c in cts] if multiple else to_lib(cts[0])),
          pull_np(cts if multiple else cts[0]))


def check_jit_record(name, to_lib, to_numpy, array_type):
    """The record's value through jit (traced, then the generated code replayed) on the
    library's arrays, against NumPy's value."""
    r = RECORDS[name]
    args = r.args(np.random.default_rng(zlib.crc32(name.encode())))
    f = fr.jit(_fn(r))
    want = r.fn(*args)
    for _ in range(2):          # the tracing call, then a replay of the generated code
        got = f(*[to_lib(a) for a in args])
        for g, w in zip(_leaves(got), _leaves(want)):
            assert isinstance(g, array_type), f"a {type(g).__name__} came back"
            np.testing.assert_allclose(to_numpy(g), np.asarray(w), rtol=TOL, atol=TOL)
    assert f.trace_count == 1


def check_vmap_record(name, to_lib, to_numpy, array_type):
    """The record vmapped over two examples of the library's arrays, against vmap on NumPy's
    (records NumPy's vmap cannot batch, those reading concrete values, are skipped)."""
    import pytest
    r = RECORDS[name]
    rng = np.random.default_rng(zlib.crc32(name.encode()))
    batched = tuple(np.stack([x, y]) for x, y in zip(r.args(rng), r.args(rng)))
    f = fr.vmap(_fn(r))
    try:
        want = f(*batched)
    except fr.FrechetError as e:
        pytest.skip(f"vmap on NumPy arrays raises: {e}")
    got = f(*[to_lib(b) for b in batched])
    for g, w in zip(_leaves(got), _leaves(want)):
        assert isinstance(g, array_type), f"a {type(g).__name__} came back"
        np.testing.assert_allclose(to_numpy(g), np.asarray(w), rtol=TOL, atol=TOL)
