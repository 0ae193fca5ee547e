"""The op-record table on PyTorch CPU tensors: values, JVPs and VJPs against NumPy's.

Each record's function is ordinary NumPy code; called with float64 (or complex128) torch
tensors, every primitive must run torch's function and every result must stay a torch tensor
(core/backend.py). A primitive without a torch function raises BackendError naming itself and
the back end: records that reach one must raise exactly that.
"""

import zlib

import numpy as np
import pytest
from op_records import RECORDS
from op_records import traced_fn as _fn

import frechet as fr

torch = pytest.importorskip("torch")

# Records that reach a primitive with no torch function: they must raise BackendError naming
# it. Filled from the table the library holds, so a new torch entry shows up as a failure here
# until the record moves to the passing side.
RAISES = {
}
# Records that neither pass nor raise BackendError yet, with the reason (xfail, strict: a fix
# makes the test fail until the record is taken off this list).
GAPS = {
}


def _torch(a):
    return torch.from_numpy(np.array(a, copy=True))


def _leaves(out):
    return out if isinstance(out, (tuple, list)) else [out]


def _close(got, want, rtol):
    for g, w in zip(_leaves(got), _leaves(want)):
        assert isinstance(g, torch.Tensor), f"a {type(g).__name__} came back, not a tensor"
        assert g.dtype == _torch(np.asarray(w)).dtype
        np.testing.assert_allclose(g.numpy(), np.asarray(w), rtol=rtol, atol=rtol)


def _data(name):
    r = RECORDS[name]
    rng = np.random.default_rng(zlib.crc32(name.encode()))
    args = r.args(rng)
    tangents = tuple(rng.standard_normal(np.shape(a)).astype(np.asarray(a).dtype)
                     for a in args)
    return r, args, tangents, rng


def _check(name):
    r, args, tangents, rng = _data(name)
    f = _fn(r)
    targs = tuple(_torch(a) for a in args)
    # values and JVPs: forward mode on tensors against forward mode on arrays (whose values
    # tests/test_ops.py checks against NumPy's own)
    out, tout = fr.jvp(f, targs, tuple(_torch(t) for t in tangents))
    want, want_t = fr.jvp(f, args, tangents)
    _close(out, r.fn(*args), 1e-10)
    _close(tout, want_t, 1e-9)
    # VJPs: the transposed linearization, pulled back from a random cotangent
    cts = [rng.standard_normal(np.shape(w)).astype(np.asarray(w).dtype) for w in _leaves(want)]
    ct = cts if isinstance(want, (tuple, list)) else cts[0]
    _, pull = fr.vjp(f, *targs)
    _, pull_np = fr.vjp(f, *args)
    tct = [_torch(c) for c in cts] if isinstance(want, (tuple, list)) else _torch(cts[0])
    _close(pull(tct), pull_np(ct), 1e-9)


def _marks(name):
    if name in GAPS:
        return pytest.param(name, marks=pytest.mark.xfail(reason=GAPS[name], strict=True))
    return name


@pytest.mark.parametrize("name", [_marks(n) for n in sorted(RECORDS) if n not in RAISES])
def test_record_on_torch(name):
    _check(name)


@pytest.mark.parametrize("name", sorted(RAISES))
def test_record_without_torch_function_raises(name):
    prim = RAISES[name]
    with pytest.raises(fr.BackendError, match=rf"'{prim}' has no implementation for the torch"):
        _check(name)
