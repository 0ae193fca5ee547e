"""The op-record table on torch CUDA tensors (`make test-gpu`): the check of
tests/test_backend_torch.py with the tensors on the GPU. Skips where torch has no CUDA."""

import numpy as np
import pytest
from backend_checks import check_jit_record, check_record
from op_records import RECORDS

import frechet as fr

torch = pytest.importorskip("torch")
if not torch.cuda.is_available():
    pytest.skip("no CUDA device for torch", allow_module_level=True)

from test_backend_torch import RAISES  # needs torch: after the skip


def _cuda(a):
    return torch.from_numpy(np.array(a, copy=True)).to("cuda")


def _host(t):
    assert t.device.type == "cuda", "a result left the GPU"
    return t.detach().cpu().numpy()


@pytest.mark.parametrize("name", sorted(RECORDS))
def test_record_on_cuda(name):
    """Each record passes on the GPU as on the CPU, or raises the CPU's BackendError."""
    if name in RAISES:
        with pytest.raises(fr.BackendError, match=f"'{RAISES[name]}' has no implementation"):
            check_record(name, _cuda, _host, torch.Tensor)
        return
    check_record(name, _cuda, _host, torch.Tensor)
    check_jit_record(name, _cuda, _host, torch.Tensor)


def test_float32_stays_on_the_gpu():
    x = torch.tensor([0.5, -0.25, 1.0], dtype=torch.float32, device="cuda")
    g = fr.grad(lambda x: np.sum(np.sin(x) * x))(x)
    assert g.dtype == torch.float32 and g.device == x.device
    xs = x.cpu().numpy()
    np.testing.assert_allclose(g.cpu().numpy(), np.cos(xs) * xs + np.sin(xs), rtol=1e-6)
