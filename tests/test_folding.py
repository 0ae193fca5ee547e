"""Linearization folds chains of elementwise scalings into one equation (JVPTracer.scale).

Forward mode (`jvp`) never folds, so it is the reference: for every function here the folded
reverse mode must satisfy <w, J v> = <J^T w, v> against it, and agree with finite differences.
Every test runs with the array tape (which takes these small arrays instead) off and on.
"""

import numpy as np
import pytest

import frechet as fr
from frechet.extend import check_grads


@pytest.fixture(autouse=True, params=[False, True], ids=["generic", "array_tape"])
def array_tape(request, monkeypatch):
    monkeypatch.setattr(fr.config, "array_tape", request.param)
    return request.param


def chain(x):
    for _ in range(10):
        x = np.tanh(np.sin(x) * 1.01) + 0.1
    return x


def fan_out(x):
    y = np.sin(x)                  # y's scaled tangent is read by three consumers
    z = np.exp(y) * 2.0
    w = 3.0 - np.cos(y) / 4.0      # reflected subtract, divide by a constant
    return z * w + y               # binary ops of two tangents record the pending scalings


def reflected(x):
    return (2.0 * x - 1.0) / 3.0 + np.log1p(x * x) - (0.5 - x)


def materialized_late(x):
    total = 0.0
    for _ in range(5):             # each x is read by the sum after the next x is built from it
        nxt = np.sin(x) * 0.9
        total = total + x
        x = nxt
    return total + x


FUNCTIONS = [chain, fan_out, reflected, materialized_late]


def _inner(a, b):
    return np.real(np.sum(a * b))     # the pairing of docs/complex.md


@pytest.mark.parametrize("fun", FUNCTIONS, ids=lambda f: f.__name__)
@pytest.mark.parametrize("dtype", [np.float64, np.float32, np.complex128])
def test_folded_reverse_mode_is_the_transpose_of_forward_mode(fun, dtype):
    rng = np.random.default_rng(0)
    x = (0.5 * rng.standard_normal(7)).astype(dtype)
    v = rng.standard_normal(7).astype(dtype)
    w = rng.standard_normal(7).astype(dtype)
    if np.dtype(dtype).kind == "c":
        x = x + 0.3j * rng.standard_normal(7)
        v, w = v + 1j * rng.standard_normal(7), w + 1j * rng.standard_normal(7)
    y, jv = fr.jvp(fun, (x,), (v,))
    y2, pullback = fr.vjp(fun, x)
    (jtw,) = pullback(w)
    tol = 1e-12 if dtype != np.float32 else 1e-4
    np.testing.assert_allclose(y2, y, rtol=tol)
    assert jtw.dtype == x.dtype
    np.testing.assert_allclose(_inner(w, jv), _inner(jtw, v), rtol=tol)


@pytest.mark.parametrize("fun", FUNCTIONS, ids=lambda f: f.__name__)
def test_folded_gradients_match_finite_differences(fun):
    x = 0.5 * np.random.default_rng(1).standard_normal(6)
    check_grads(lambda x: np.sum(fun(x)), (x,), order=2)


def test_a_chain_of_elementwise_ops_records_one_scaling(array_tape):
    x = np.linspace(-1.0, 1.0, 5)
    _, lin = fr.linearize(chain, x)
    names = [e.primitive.name for e in lin.program.eqns]
    # 40 elementwise ops: one diagonal map, or one stretch of the tape
    assert names == (["array_tape"] if array_tape else ["multiply"])
    np.testing.assert_allclose(lin(np.ones(5)), fr.jvp(chain, (x,), (np.ones(5),))[1],
                               rtol=1e-13)


def test_folding_under_jit_and_nested_derivatives():
    # jit's tracing trace computes a value for every equation: it must not fold; nor may an
    # inner linearization whose factors are traced by an outer transformation.
    x = np.linspace(-1.0, 1.0, 5)

    def loss(x):
        return np.sum(np.tanh(np.sin(x) * np.arange(1.0, 6.0)) / 2.0 - 1.0)

    g = fr.grad(loss)(x)
    np.testing.assert_allclose(fr.jit(fr.grad(loss))(x), g, rtol=1e-13)
    h = fr.hessian(loss)(x)
    np.testing.assert_allclose(fr.jit(fr.hessian(loss))(x), h, rtol=1e-12)
    v = np.ones(5)
    hv = fr.jit(lambda x, v: fr.hvp(loss, (x,), (v,))[1])(x, v)
    np.testing.assert_allclose(hv, h @ v, rtol=1e-12)
