"""hypergrad_logistic (issue 15): the hypergradient of a validation loss with respect to
per-feature log weight decays of an L2-regularised logistic regression, by implicit
differentiation with CG.

The inner solution w*(theta) is computed once in setup (Newton's method to a gradient norm of
1e-13), as a user warm-starting a solver would have it; the timed call runs the solver (which
returns its warm start) and the implicit differentiation: the validation gradient, CG on the
training Hessian (Hessian-vector products), and the pull-back to theta. Every candidate uses CG
with the same relative tolerance, CG_TOL.
"""

from __future__ import annotations

from functools import partial

import numpy as np

from frechet._src.bench.workload import Workload, blocking, jax_x64

N, D, N_VAL = 5000, 500, 1000
CG_TOL = 1e-10
LOG_DECAY = np.log(1e-2)


def train_loss(xp, w, theta, X, y):
    """Mean logistic loss + 0.5 sum_j exp(theta_j) w_j^2 (labels in {0, 1})."""
    z = X @ w
    return xp.mean(xp.logaddexp(0.0, z) - y * z) + 0.5 * xp.sum(xp.exp(theta) * w * w)


def val_loss(xp, w, X, y):
    z = X @ w
    return xp.mean(xp.logaddexp(0.0, z) - y * z)


def newton(w, theta, X, y, tol=1e-13, maxiter=50):
    """The inner problem's minimiser, in plain NumPy."""
    lam = np.exp(theta)
    for _ in range(maxiter):
        p = 1.0 / (1.0 + np.exp(-(X @ w)))
        g = X.T @ (p - y) / len(y) + lam * w
        if np.linalg.norm(g) < tol:
            return w
        hess = (X.T * (p * (1 - p))) @ X / len(y) + np.diag(lam)
        w = w - np.linalg.solve(hess, g)
    raise RuntimeError(f"Newton did not reach |grad| < {tol} in {maxiter} steps")


def _data():
    rng = np.random.default_rng(0)
    w_true = 3.0 * rng.standard_normal(D) / np.sqrt(D)
    X, Xv = rng.standard_normal((N, D)), rng.standard_normal((N_VAL, D))
    y = (X @ w_true + 0.5 * rng.standard_normal(N) > 0).astype(np.float64)
    yv = (Xv @ w_true + 0.5 * rng.standard_normal(N_VAL) > 0).astype(np.float64)
    theta = np.full(D, LOG_DECAY)
    return {"X": X, "y": y, "Xv": Xv, "yv": yv, "theta": theta,
            "w": newton(np.zeros(D), theta, X, y)}


def _numpy(d):
    return lambda: val_loss(np, d["w"], d["Xv"], d["yv"])


def _frechet_hypergrad(d):
    import frechet as fr
    from frechet import implicit

    X, y, Xv, yv, w_star = d["X"], d["y"], d["Xv"], d["yv"], d["w"]

    @implicit.custom_root(fr.grad(lambda w, th: train_loss(np, w, th, X, y)),
                          solve=implicit.CG(tol=CG_TOL), symmetric=True)
    def inner(init, theta):
        return init            # the warm start is the solution (see the module docstring)

    return fr.grad(lambda theta: val_loss(np, inner(w_star, theta), Xv, yv))


def _frechet(d):
    g = _frechet_hypergrad(d)
    return lambda: g(d["theta"])


def _frechet_jit(d):
    import frechet as fr
    g = fr.jit(_frechet_hypergrad(d))
    return lambda: g(d["theta"])


def _jaxopt(d):
    from jaxopt import implicit_diff, linear_solve  # ImportError: "not installed"
    jax = jax_x64()
    jnp = jax.numpy
    X, y, Xv, yv, w_star, theta = (jnp.asarray(d[k]) for k in ("X", "y", "Xv", "yv", "w",
                                                                 "theta"))

    @implicit_diff.custom_root(jax.grad(lambda w, th: train_loss(jnp, w, th, X, y)),
                               solve=partial(linear_solve.solve_cg, tol=CG_TOL))
    def inner(init, theta):
        return init

    g = jax.jit(jax.grad(lambda th: val_loss(jnp, inner(w_star, th), Xv, yv)))
    return blocking(lambda: g(theta))


HYPERGRAD_LOGISTIC = Workload(
    "hypergrad_logistic",
    f"hypergradient of a validation loss w.r.t. {D} per-feature log weight decays of "
    f"L2-regularised logistic regression ({N}x{D}), implicit with CG (tol {CG_TOL:.0e})",
    _data, {"numpy": _numpy, "frechet": _frechet, "frechet jit": _frechet_jit,
            "jaxopt": _jaxopt},
    rtol=1e-6,
    notes={"numpy": "the validation loss alone (the primal)",
           "jaxopt": "jaxopt.implicit_diff.custom_root, solve_cg, jax.jit"})
