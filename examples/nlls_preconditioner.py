"""Meta-learning a preconditioner for nonlinear least squares: the log condition number of the
preconditioned Jacobian J(x) P, minimised over a family of curve fits, gradient through
np.linalg.svd.

The family: y_j = exp(q(t_j)) (1 + 0.05 e_j), t_j = m points in [0, 4], q a quadratic whose
values at t = 0, 2, 4 are U[-1, 1]. Each problem fits the coefficients x of q in the monomial
basis V = [1, t, t^2]: residual r(x) = exp(V x) - y, Jacobian J(x) = diag(exp(V x)) V.
Gradient descent on f(x) = |r(x)|^2 / 2 needs about cond(J)^2 iterations near the solution.
A preconditioner P reparametrises x = P z, so descent on z sees the Jacobian J(x) P.

The meta-objective is the mean over training problems and points x near their solutions of
log(s[0] / s[-1]), s = np.linalg.svd(J(x) P, compute_uv=False), differentiated by frechet.grad
and minimised by frechet.optim.fit (Adam) over two parametrisations: P = diag(exp(d)) and
P = diag(exp(d)) + U, U strictly upper triangular (upper: the ideal P for the monomial basis
alone is R^-1 from V = Q R). This is a single-level problem, not a frechet.multilevel one: the
meta-objective is the conditioning at given points, not a function of a lower problem's
solution, and that solution does not depend on P anyway (x* = P z* is the same minimiser).

Checks: the gradient through the SVD against central finite differences, and d/dP against the
closed form J^T (u_1 v_1^T / s_1 - u_n v_n^T / s_n); the learned P lowers the mean log
condition number on held-out problems; gradient descent (Armijo backtracking) on held-out
problems takes fewer iterations with the learned P than without; Gauss-Newton takes the same
iterations for every P (it is invariant to x = P z). Run with --small for a quick run.
"""

from __future__ import annotations

import sys
from typing import NamedTuple

import numpy as np
from _common import Checks, options, picture, progress

import frechet
from frechet import optim

T_END, M, NOISE = 4.0, 30, 0.05
TIMES = np.linspace(0.0, T_END, M)
BASIS = TIMES[:, None] ** np.arange(3)           # V: m x n, n = 3 monomials
KNOTS = np.linspace(0.0, T_END, 3)[:, None] ** np.arange(3)
N = BASIS.shape[1]


class Config(NamedTuple):
    train_problems: int
    points_per_problem: int
    test_problems: int
    meta_steps: int
    gd_maxiter: int


def config(small: bool) -> Config:
    return Config(10, 4, 4, 150, 3000) if small else Config(30, 5, 10, 400, 50000)


# ---- the family of problems -------------------------------------------------------------------

def sample_problems(rng, count):
    """(true coefficients, data) for `count` problems."""
    x = np.linalg.solve(KNOTS, rng.uniform(-1.0, 1.0, (3, count))).T
    y = np.exp(x @ BASIS.T) * (1.0 + NOISE * rng.standard_normal((count, M)))
    return x, y


def residual(x, y):
    return np.exp(BASIS @ x) - y


def jacobian(x):
    # by hand for the descent loops (tens of thousands of steps); checked against jacfwd
    return np.exp(BASIS @ x)[:, None] * BASIS


def gauss_newton(y, P, x0, tol=1e-12, maxiter=100):
    """(solution, iterations) of Gauss-Newton in z (x = P z) from x0."""
    z = np.linalg.solve(P, x0)
    for k in range(1, maxiter + 1):
        x = P @ z
        step = np.linalg.lstsq(jacobian(x) @ P, -residual(x, y), rcond=None)[0]
        z = z + step
        if np.linalg.norm(P @ step) <= tol * (1.0 + np.linalg.norm(P @ z)):
            return P @ z, k
    raise RuntimeError(f"Gauss-Newton did not converge in {maxiter} iterations")


def gradient_descent(y, P, x0, f_star, maxiter, rtol=1e-10):
    """Iterations of gradient descent in z (x = P z), Armijo backtracking from twice the last
    step, until f - f* <= rtol (f(x0) - f*); maxiter if it does not get there."""
    def f(z):
        with np.errstate(over="ignore", invalid="ignore"):    # a trial step may overflow
            r = residual(P @ z, y)
            return 0.5 * r @ r

    z, step = np.linalg.solve(P, x0), 1.0
    f0 = fz = f(z)
    for k in range(maxiter):
        if fz - f_star <= rtol * (f0 - f_star):
            return k
        g = P.T @ (jacobian(P @ z).T @ residual(P @ z, y))
        step *= 2.0
        while not f(z - step * g) <= fz - 0.5 * step * (g @ g):
            step /= 2.0
        z = z - step * g
        fz = f(z)
    return maxiter


# ---- the preconditioner and the meta-objective ------------------------------------------------

UPPER = [(i, j) for i in range(N) for j in range(i + 1, N)]
# the constant map from the strictly-upper entries to the flattened matrix
SCATTER = np.zeros((N * N, len(UPPER)))
for _k, (_i, _j) in enumerate(UPPER):
    SCATTER[_i * N + _j, _k] = 1.0


def preconditioner(params):
    """diag(exp(d)), plus a strictly upper-triangular part when params has "upper"."""
    P = np.diag(np.exp(params["log_diag"]))
    if "upper" in params:
        P = P + np.reshape(SCATTER @ params["upper"], (N, N))
    return P


def log_condition(jacobians, P):
    """mean over the stacked jacobians of log(s_max / s_min) of J P."""
    s = np.linalg.svd(jacobians @ P, compute_uv=False)
    return np.mean(np.log(s[:, 0]) - np.log(s[:, -1]))


def sample_points(rng, x_true, per_problem):
    """Points near each problem's coefficients: its quadratic's knot values moved by 0.2 N(0,1)."""
    values = x_true @ KNOTS.T
    moved = values[:, None, :] + 0.2 * rng.standard_normal((len(x_true), per_problem, 3))
    return np.linalg.solve(KNOTS, moved.reshape(-1, 3).T).T


# ---- checks -----------------------------------------------------------------------------------

def check_gradients(jacobians, checks: Checks) -> None:
    rng = np.random.default_rng(1)
    params = {"log_diag": 0.3 * rng.standard_normal(N), "upper": 0.3 * rng.standard_normal(3)}
    def loss(p):
        return log_condition(jacobians, preconditioner(p))

    g = frechet.grad(loss)(params)
    worst, eps = 0.0, 1e-6
    for key, value in params.items():
        for i in range(value.size):
            e = np.zeros_like(value)
            e[i] = eps
            fd = (loss({**params, key: value + e}) - loss({**params, key: value - e})) / (2 * eps)
            worst = max(worst, abs(g[key][i] - fd) / max(abs(fd), 1.0))
    print(f"gradient through np.linalg.svd vs central differences: worst error {worst:.2e}")
    checks.check("d mean log cond / d params vs central differences", worst, 1e-7)

    # d log cond(J P) / d P for one J: frechet against the closed form J^T (u1 v1^T / s1 - ...)
    J, P = jacobians[0], preconditioner(params)
    u, s, vt = np.linalg.svd(J @ P, full_matrices=False)
    closed = J.T @ (np.outer(u[:, 0], vt[0]) / s[0] - np.outer(u[:, -1], vt[-1]) / s[-1])
    ours = frechet.grad(lambda P: log_condition(J[None], P))(P)
    err = np.max(np.abs(ours - closed)) / np.max(np.abs(closed))
    print(f"d log cond(J P) / d P vs the closed form J^T (u1 v1^T/s1 - un vn^T/sn): {err:.2e}")
    checks.check("d log cond / d P vs closed form (rel.)", err, 1e-10)


def main() -> int:
    args = options(__doc__.splitlines()[0])
    cfg = config(args.small)
    rng = np.random.default_rng(0)
    checks = Checks()

    x_train, _ = sample_problems(rng, cfg.train_problems)
    points = sample_points(rng, x_train, cfg.points_per_problem)
    jacobians = np.stack([np.asarray(frechet.jacfwd(residual)(x, np.zeros(M))) for x in points])
    err = np.max(np.abs(jacobians - np.stack([jacobian(x) for x in points])))
    checks.check("hand-written Jacobian vs frechet.jacfwd (abs.)", err, 1e-12)
    print(f"{cfg.train_problems} training problems x {cfg.points_per_problem} points: "
          f"{len(jacobians)} Jacobians of {M} x {N}\n")
    check_gradients(jacobians, checks)

    starts = {"diagonal exp(d)": {"log_diag": np.zeros(N)},
              "triangular": {"log_diag": np.zeros(N), "upper": np.zeros(len(UPPER))}}
    learned = {"identity": np.eye(N)}
    histories = {}
    for name, params in starts.items():
        params, histories[name] = optim.fit(
            lambda p: log_condition(jacobians, preconditioner(p)), params, optim.adam(0.05),
            cfg.meta_steps)
        learned[name] = preconditioner(params)
        print(f"{name}: mean log cond {histories[name][0]:.3f} -> {histories[name][-1]:.3f}")
    print(f"learned triangular P:\n{np.array2string(learned['triangular'], precision=4)}")

    # held-out problems: conditioning at their solutions and iterations from x0 = 0
    _, y_test = sample_problems(rng, cfg.test_problems)
    x0 = np.zeros(N)
    solutions = [gauss_newton(y, np.eye(N), x0)[0] for y in y_test]
    test_jacobians = np.stack([jacobian(x) for x in solutions])
    print(f"\n{cfg.test_problems} held-out problems, from x0 = 0 (Gauss-Newton for f*):")
    print(f"  {'P':<16} {'mean log cond':>14} {'GD iterations (median, max)':>28} "
          f"{'GN iterations':>14}")
    table = {}
    for name, P in progress(learned.items(), len(learned), "descent runs"):
        f_star = [0.5 * np.sum(residual(x, y) ** 2) for x, y in zip(solutions, y_test)]
        gd = [gradient_descent(y, P, x0, f, cfg.gd_maxiter) for y, f in zip(y_test, f_star)]
        gn = [gauss_newton(y, P, x0)[1] for y in y_test]
        table[name] = (float(log_condition(test_jacobians, P)), gd, gn)
    for name, (cond, gd, gn) in table.items():
        capped = "+" if max(gd) >= cfg.gd_maxiter else ""
        print(f"  {name:<16} {cond:>14.3f} {int(np.median(gd)):>20d}, {max(gd)}{capped:<6} "
              f"{np.mean(gn):>14.1f}")
    if any(max(gd) >= cfg.gd_maxiter for _, gd, _ in table.values()):
        print(f"  ({cfg.gd_maxiter}+: not converged within {cfg.gd_maxiter} iterations)")

    base, tri = table["identity"], table["triangular"]
    checks.check("held-out mean log cond: triangular / identity", tri[0] / base[0], 0.5)
    checks.check("GD iterations (median): triangular / identity",
                 np.median(tri[1]) / np.median(base[1]), 0.1)
    gn_spread = max(abs(a - b) for (_, _, gn) in table.values() for a, b in zip(gn, base[2]))
    checks.check("Gauss-Newton iterations, any P vs identity (max difference)", gn_spread, 1)

    def draw(plt):
        fig, ax = plt.subplots(figsize=(6, 4))
        for name, h in histories.items():
            ax.plot(h, label=f"P {name}")
        ax.set_xlabel("Adam step")
        ax.set_ylabel("mean log cond(J P), training points")
        ax.legend()
        fig.tight_layout()
        return fig

    picture(args.png_dir, "nlls_preconditioner.png", draw)
    return checks.done()


if __name__ == "__main__":
    sys.exit(main())
