"""The op-record table on PyTorch CPU tensors: values, JVPs and VJPs against NumPy's.

Each record's function is ordinary NumPy code; called with float64 (or complex128) torch
tensors that refuse conversion to NumPy (NoHost), every primitive must run torch's function
and every result must stay a torch tensor (core/backend.py). A primitive without a torch
function raises BackendError naming itself and the back end: records that reach one must raise
exactly that. The passing records also run through jit and vmap.
"""

import numpy as np
import pytest
import scipy.special as sps
from backend_checks import check_jit_record, check_record, check_vmap_record
from op_records import RECORDS

import frechet as fr

torch = pytest.importorskip("torch")
from nohost import NoHost, host, nohost

# Records that reach a primitive with no torch function (record: primitive): they must raise
# BackendError naming it. Listed from a run; giving torch one of these functions makes its
# test fail until the record moves to the passing side.
RAISES = {
    "betainc": "betainc",
    "betaincinv": "betaincinv",
    "gammainccinv": "gammainccinv",
    "gammaincinv": "gammaincinv",
    "i1": "iv",
    "i1e": "ive",
    "iv": "iv",
    "ive": "ive",
    "kv": "kv",
    "scipy_logm": "matfun",
    "scipy_logm_c128": "matfun",
    "scipy_sqrtm": "matfun",
    "scipy_sqrtm_c128": "matfun",
    "stdtr": "stdtr",
    "stdtrit": "stdtrit",
}
# Records that neither pass nor raise BackendError yet, with the reason (xfail, strict: a fix
# makes the test fail until the record is taken off this list).
GAPS: dict = {}


def _check(name):
    check_record(name, nohost, host, torch.Tensor)


def _marks(name):
    if name in GAPS:
        return pytest.param(name, marks=pytest.mark.xfail(reason=GAPS[name], strict=True))
    return name


@pytest.mark.parametrize("name", [_marks(n) for n in sorted(RECORDS) if n not in RAISES])
def test_record_on_torch(name):
    _check(name)


@pytest.mark.parametrize("name", [n for n in sorted(RECORDS) if n not in RAISES and n not in GAPS])
def test_record_under_jit_on_torch(name):
    """jit's generated code calls torch's functions: the compiled record on tensors gives
    NumPy's values, as tensors (none of which ever becomes a NumPy array)."""
    check_jit_record(name, nohost, host, torch.Tensor)


@pytest.mark.parametrize("name", [n for n in sorted(RECORDS) if n not in RAISES and n not in GAPS])
def test_record_under_vmap_on_torch(name):
    """The batching rules keep tensors tensors: vmap over two examples gives NumPy's vmap."""
    check_vmap_record(name, nohost, host, torch.Tensor)


@pytest.mark.parametrize("name", sorted(RAISES))
def test_record_without_torch_function_raises(name):
    prim = RAISES[name]
    with pytest.raises(fr.BackendError, match=rf"'{prim}' has no implementation for the torch"):
        _check(name)


# Mixed inputs, dtypes, devices, missing functions ----------------------------------------------

def _no_host(a, dtype=torch.float64):
    return torch.as_tensor(np.asarray(a), dtype=dtype).as_subclass(NoHost)


X = np.array([0.3, -1.2, 0.7])
W = np.array([[0.5, -1.0], [2.0, 0.25], [-0.75, 1.5]])


def _loss(x, w):
    return np.sum(np.tanh(x @ w) ** 2) + np.sum(x * np.array([1.0, 2.0, 3.0]))


def _loss_grad(x, w):
    """The gradient in x by hand: d/dx sum tanh(xW)^2 + x.c."""
    h = np.tanh(x @ w)
    return w @ (2 * h * (1 - h ** 2)) + np.array([1.0, 2.0, 3.0])


@pytest.mark.parametrize("transform", ["grad", "jit_grad", "jacrev", "vmap_grad"])
def test_numpy_constants_meet_a_tensor_without_going_to_numpy(transform):
    """NumPy constants (W, the literal array) meeting a tensor become tensors (documented
    promotion); the tensor never becomes a NumPy array, and the result is a tensor."""
    g = fr.grad(_loss)
    f = {"grad": g, "jit_grad": fr.jit(g), "jacrev": fr.jacrev(_loss),
         "vmap_grad": lambda x, w: fr.vmap(g, in_axes=(0, None))(x[None], w)[0]}[transform]
    got = f(_no_host(X), W)
    assert isinstance(got, torch.Tensor) and got.dtype == torch.float64
    np.testing.assert_allclose(got.as_subclass(torch.Tensor).numpy(), _loss_grad(X, W),
                               rtol=1e-12)


def test_jit_emits_the_inputs_namespace_and_keeps_numpy_programs_apart():
    f = fr.jit(fr.grad(_loss))
    x = torch.tensor(X)
    got = f(x, torch.tensor(W))
    assert isinstance(got, torch.Tensor)
    np.testing.assert_allclose(got.numpy(), _loss_grad(X, W), rtol=1e-12)
    np.testing.assert_allclose(f(X, W), _loss_grad(X, W), rtol=1e-12)    # NumPy: its own trace
    assert type(f(X, W)) is np.ndarray and f.trace_count == 2
    f(x + 1.0, torch.tensor(W))                  # same signature: replayed
    assert f.trace_count == 2


@pytest.mark.parametrize("transform", ["grad", "jit", "jacrev", "vmap"])
def test_float32_stays_float32(transform):
    def f(x):
        return np.sum(np.sin(x) * x)
    x = torch.tensor([0.5, -0.25, 1.0], dtype=torch.float32)
    out = {"grad": lambda: fr.grad(f)(x), "jit": lambda: fr.jit(fr.grad(f))(x),
           "jacrev": lambda: fr.jacrev(lambda x: np.sin(x) * x)(x),
           "vmap": lambda: fr.vmap(fr.grad(f))(x[None])}[transform]()
    assert isinstance(out, torch.Tensor) and out.dtype == torch.float32
    assert out.device == x.device
    want = np.cos(x.double().numpy()) * x.double().numpy() + np.sin(x.double().numpy())
    got = out.double().numpy()
    got = np.diagonal(got) if transform == "jacrev" else got.reshape(-1)
    np.testing.assert_allclose(got, want, rtol=1e-6)


def test_results_stay_on_the_inputs_device():
    x = torch.tensor(X)
    g = fr.grad(lambda x: np.sum(np.exp(x)))(x)
    assert g.device == x.device
    np.testing.assert_allclose(g.numpy(), np.exp(X), rtol=1e-14)


def test_a_primitive_without_a_torch_function_raises_naming_it():
    with pytest.raises(fr.BackendError, match="'stdtr' has no implementation for the torch "
                                              "back end"):
        fr.grad(lambda x: np.sum(sps.stdtr(3.0, x)))(torch.tensor(X))


def test_defbackend_gives_a_primitive_its_torch_function():
    from frechet import extend as fx
    p = fx.primitive("test_backend_sinh", np.sinh, lambda x: x)
    fx.defjvp(p, lambda t, x: t * fr.numpy.cosh(x))    # frechet.numpy: dispatches
    with pytest.raises(fr.BackendError, match="'test_backend_sinh' has no implementation for "
                                              "the torch back end"):
        fr.grad(lambda x: np.sum(p.bind(x)))(torch.tensor(X))
    fx.defbackend(p, torch="torch.sinh")
    g = fr.grad(lambda x: np.sum(p.bind(x)))(_no_host(X))
    np.testing.assert_allclose(g.as_subclass(torch.Tensor).numpy(), np.cosh(X), rtol=1e-14)


def test_arrays_of_two_libraries_raise():
    da = pytest.importorskip("dask.array")
    with pytest.raises(fr.BackendError, match="two libraries"):
        fr.numpy.multiply(torch.tensor(X), da.from_array(X))


def test_jit_guards_read_tensors_explicitly():
    """A Python branch on a traced tensor's value: a guard, read by an explicit copy."""
    def f(x):
        return np.sum(np.sin(x)) if np.sum(x) > 0 else np.sum(np.cos(x))
    j = fr.jit(fr.grad(f))
    for sign, want in ((1.0, np.cos(X + 2)), (-1.0, -np.sin(X - 2))):
        x = _no_host(X + 2 * sign)
        np.testing.assert_allclose(j(x).as_subclass(torch.Tensor).numpy(), want, rtol=1e-14)
    assert j.trace_count == 2
