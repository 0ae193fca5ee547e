"""frechet.optimize.minimize: scipy.optimize.minimize with exact derivatives, over pytrees."""

import numpy as np
import pytest
import scipy.optimize as so

import frechet as fr


def rosen(x):
    return np.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1.0 - x[:-1]) ** 2)


@pytest.mark.parametrize("method", ["BFGS", "L-BFGS-B", "CG", "Newton-CG", "trust-ncg",
                                    "trust-krylov"])
def test_same_path_as_scipy_with_exact_derivatives(method):
    x0 = np.array([-1.2, 1.0, 0.5, 2.0])
    got = fr.optimize.minimize(rosen, x0, method=method)
    extra = {"hessp": so.rosen_hess_prod} if method in ("Newton-CG", "trust-ncg",
                                                        "trust-krylov") else {}
    want = so.minimize(so.rosen, x0, jac=so.rosen_der, method=method, **extra)
    assert got.success and want.success
    if method != "CG":     # CG's line searches amplify last-bit differences in the gradient
        assert got.nit == want.nit                   # the same iterates: the same derivatives
    tol = 1e-4 if method == "CG" else 1e-7           # CG stops at its gradient tolerance
    np.testing.assert_allclose(got.x, want.x, rtol=tol, atol=tol)
    np.testing.assert_allclose(got.fun, want.fun, rtol=1e-10)


def test_pytree_parameters_and_args():
    def loss(p, X, y):
        return np.mean((X @ p["w"] + p["b"] - y) ** 2) + 1e-3 * np.sum(p["w"] ** 2)
    rng = np.random.default_rng(0)
    X = rng.standard_normal((60, 3))
    y = X @ np.array([1.0, -2.0, 0.5]) + 0.3
    res = fr.optimize.minimize(loss, {"w": np.zeros(3, np.float32), "b": 0.0}, args=(X, y))
    assert res.success and set(res.x) == {"w", "b"}
    assert res.x["w"].dtype == np.float64            # float64 throughout
    # the normal equations' solution
    A = np.column_stack([X, np.ones(60)])
    exact = np.linalg.solve(A.T @ A / 60 + np.diag([1e-3] * 3 + [0.0]), A.T @ y / 60)
    np.testing.assert_allclose(np.append(res.x["w"], res.x["b"]), exact, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(res.jac["w"], 0.0, atol=1e-5)


def test_derivatives_are_not_taken_from_the_caller():
    with pytest.raises(TypeError, match="supplies jac"):
        fr.optimize.minimize(rosen, np.zeros(3), jac=so.rosen_der)
