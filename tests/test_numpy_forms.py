"""The rest of NumPy's call forms on traced values (einsum's sublist form and optimize=,
np.r_, np.c_, np.vectorize, checkpoint of a closure) and the API's habits (what hvp, grad and
hessian return; errors that lead with the fix)."""

import dataclasses

import numpy as np
import pytest
from numpy_checks import agrees_with_numpy

import frechet as fr

X = np.array([0.5, -1.0, 2.0, 0.3, 1.5, -0.7])


def check(f, x=X):
    agrees_with_numpy(f, x)


B = np.random.default_rng(0).standard_normal((3, 4))
C = np.random.default_rng(1).standard_normal((4, 2))
FORMS = {
    "einsum_sublist": lambda x: np.sum(np.einsum(x.reshape(2, 3), [0, 1], x.reshape(2, 3),
                                                 [0, 1], [0]) ** 2),
    "einsum_sublist_implicit": lambda x: np.einsum(x.reshape(2, 3), [0, 1], B, [1, 2]).sum(),
    "einsum_optimize_true": lambda x: np.einsum("ij,jk,kl->il", x.reshape(2, 3), B, C,
                                                optimize=True).sum(),
    "einsum_optimize_greedy": lambda x: np.einsum("ij,jk,kl,ml->im", x.reshape(2, 3), B, C,
                                                  x.reshape(3, 2), optimize="greedy").sum(),
    "einsum_explicit_path": lambda x: np.einsum(
        "ij,jk,kl->il", x.reshape(2, 3), B, C,
        optimize=["einsum_path", (1, 2), (0, 1)]).sum(),
    "r_": lambda x: np.sum(np.r_[x[:2], 3.0, x[3:], 0:2] ** 2),
    "c_": lambda x: np.sum(np.c_[x[:3], x[3:]] @ np.array([1.0, -2.0]) ** 2),
    "c_matrix_and_column": lambda x: np.sum(np.c_[x.reshape(3, 2), x[:3]] ** 3),
    "vectorize": lambda x: np.sum(np.vectorize(lambda a: a * np.sin(a) if a > 0 else -a)(x)),
    "vectorize_broadcast": lambda x: np.sum(np.vectorize(lambda a, b: a * b + b)(
        x.reshape(2, 3), x[:3])),
}


@pytest.mark.parametrize("name", sorted(FORMS))
def test_numpy_call_forms(name):
    check(FORMS[name])


def test_forms_outside_transformations_are_numpys():
    x = X.copy()
    for name, f in FORMS.items():
        assert np.isfinite(f(x)), name


def test_vectorize_with_signature_says_what_to_use():
    vec = np.vectorize(lambda r: r * 2, signature="(n)->(n)")
    with pytest.raises(fr.UnsupportedFunctionError, match="frechet.vmap"):
        fr.grad(lambda x: np.sum(vec(x.reshape(2, 3))))(X)


def test_checkpoint_of_a_closure_over_a_differentiated_value():
    def outer(w):
        inner = fr.checkpoint(lambda x: np.sin(x * w))
        return np.sum(inner(np.ones(3)))
    want = 3 * np.cos(0.5)
    with pytest.warns(UserWarning, match="closure"):
        np.testing.assert_allclose(fr.grad(outer)(0.5), want, rtol=1e-14)
    jg = fr.jit(fr.grad(outer))
    with pytest.warns(UserWarning, match="closure"):
        jg(0.5)                         # traced (and warned) on the first call
    np.testing.assert_allclose(jg(0.5), want, rtol=1e-14)


def test_derivatives_of_scalars_are_numpy_scalars():
    def f(t):
        return np.sin(t) * t
    for d in (fr.grad(f)(0.5), fr.hessian(f)(0.5), fr.jacfwd(f)(0.5), fr.jacrev(f)(0.5)):
        assert type(d) is np.float64
    np.testing.assert_allclose(fr.hessian(f)(0.5), 2 * np.cos(0.5) - 0.5 * np.sin(0.5))


def test_errors_lead_with_the_fix():
    with pytest.raises(TypeError, match=r"^jvp takes the primals and the tangents as tuples"):
        fr.jvp(np.sin, X, np.ones(6))
    with pytest.raises(fr.TracerConversionError, match=r"^use np\.floor\(x\) or x\.astype"):
        fr.grad(lambda x: np.sum(x) * int(x[0]))(X)

    @dataclasses.dataclass
    class Params:
        w: np.ndarray
    with pytest.raises(TypeError, match=r"^register Params as a pytree with "
                                        r"frechet\.register_dataclass\(Params\)"):
        fr.grad(lambda p: np.sum(p.w))(Params(X))
    with pytest.raises(fr.TracerConversionError,
                       match=r"^keep the value an array.*reached float\(\) \(at test_numpy_forms"):
        fr.grad(lambda x: float(x[0]))(X)
