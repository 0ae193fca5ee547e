"""The Lasso solution's Jacobian by fixed-point automatic differentiation (FPAD), against the
closed form on the support.

Lasso:  w*(lam, y) = argmin_w 1/(2n) |X w - y|^2 + lam |w|_1.
It is the fixed point of the proximal-gradient (ISTA) map with step eta = 1/L,

    T(w, lam, y) = soft(w - eta X^T (X w - y) / n, eta lam),
    soft(z, t) = sign(z) max(|z| - t, 0)        (written in NumPy),

solved here by plain-NumPy FISTA and differentiated by frechet.implicit.custom_fixed_point with
solve=frechet.implicit.Neumann(k): k steps of T's derivative (FPAD). On the support S of w*

    dw_S/dlam = -(X_S^T X_S / n)^-1 sign(w_S),    dw_S/dy = (X_S^T X_S)^-1 X_S^T,

and both are exactly zero off the support. It prints the FPAD error against these for growing
k (forward mode for lam, reverse mode for y) and checks the off-support entries are exactly
zero. Run with --small for a quick run.
"""

from __future__ import annotations

import itertools
import sys

import numpy as np
from _common import Checks, options, picture, progress

import frechet
from frechet import implicit


def problem(small: bool):
    rng = np.random.default_rng(0)
    n, d, k = (50, 60, 5) if small else (100, 200, 10)
    w_true = np.zeros(d)
    w_true[:k] = rng.choice([-1.0, 1.0], k) * (1.0 + rng.random(k))
    X = rng.standard_normal((n, d))
    return X, X @ w_true + 0.1 * rng.standard_normal(n)


def soft(z, t):
    return np.sign(z) * np.maximum(np.abs(z) - t, 0.0)


def main() -> int:
    args = options(__doc__.splitlines()[0])
    X, y = problem(args.small)
    n, d = X.shape
    eta = 1.0 / np.linalg.eigvalsh(X.T @ X / n)[-1]
    lam = 0.1

    def T(w, lam, y):
        return soft(w - eta * X.T @ (X @ w - y) / n, eta * lam)

    def fista(w, lam, y, tol=1e-14, maxiter=100_000):
        """Accelerated proximal gradient on plain NumPy values."""
        v, t = w, 1.0
        for _ in range(maxiter):
            w_next = T(v, lam, y)
            if np.linalg.norm(w_next - w) <= tol * max(1.0, np.linalg.norm(w_next)):
                return w_next
            t_next = (1 + np.sqrt(1 + 4 * t * t)) / 2
            v, w, t = w_next + (t - 1) / t_next * (w_next - w), w_next, t_next
        raise RuntimeError(f"FISTA did not converge in {maxiter} steps")

    w_star = fista(np.zeros(d), lam, y)
    S = np.flatnonzero(w_star)
    XS = X[:, S]
    dlam_exact = np.zeros(d)
    dlam_exact[S] = -np.linalg.solve(XS.T @ XS / n, np.sign(w_star[S]))
    dy_exact = np.zeros((d, n))
    dy_exact[S] = np.linalg.solve(XS.T @ XS, XS.T)
    rate = np.max(np.abs(1 - eta * np.linalg.eigvalsh(XS.T @ XS / n)))
    print(f"Lasso {n} x {d}, lam = {lam}: support of {len(S)} features; FPAD contracts by "
          f"{rate:.4f} per step on the support")

    def fpad(k):
        solver = implicit.custom_fixed_point(T, solve=implicit.Neumann(k))(fista)
        dlam = frechet.jacfwd(lambda lam: solver(w_star, lam, y))(lam)            # forward
        dy = frechet.jacrev(lambda y: solver(w_star, lam, y))(y)                   # reverse
        return dlam, dy

    ks = [10, 50, 200, 500] if args.small else [10, 100, 200, 1000]
    errors, off_support = [], 0.0
    off = np.setdiff1d(np.arange(d), S)
    for k in progress(ks, len(ks), "FPAD"):
        dlam, dy = fpad(k)
        errors.append((np.max(np.abs(dlam - dlam_exact)) / np.max(np.abs(dlam_exact)),
                       np.max(np.abs(dy - dy_exact)) / np.max(np.abs(dy_exact))))
        off_support = max(off_support, np.max(np.abs(dlam[off])), np.max(np.abs(dy[off])))

    print("\nFPAD (Neumann(k)) against the closed form on the support (max abs error / max abs):")
    print("      k   dw/dlam (jacfwd)   dw/dy (jacrev)")
    for k, (e1, e2) in zip(ks, errors):
        print(f"  {k:5d}   {e1:16.2e}   {e2:14.2e}")
    print(f"largest off-support entry of either Jacobian, any k: {off_support}\n")

    checks = Checks()
    checks.check("off-support Jacobian entries (max abs)", off_support, 0.0)
    checks.check(f"dw/dlam error at k = {ks[-1]}", errors[-1][0], 1e-10)
    checks.check(f"dw/dy error at k = {ks[-1]}", errors[-1][1], 1e-10)
    growth = max(b[i] / a[i] for a, b in itertools.pairwise(errors) for i in (0, 1))
    checks.check("FPAD error shrinks as k grows (largest ratio of successive errors)",
                 growth, 0.1)

    def draw(plt):
        fig, ax = plt.subplots(figsize=(6, 4))
        ax.semilogy(ks, [e[0] for e in errors], "o-", label="dw/dlam (forward)")
        ax.semilogy(ks, [e[1] for e in errors], "s--", label="dw/dy (reverse)")
        ax.semilogy(ks, [rate ** k for k in ks], ":", color="gray", label="rate^k")
        ax.set_xlabel("Neumann steps k")
        ax.set_ylabel("relative error vs closed form")
        ax.set_title("Lasso Jacobian by FPAD")
        ax.legend()
        fig.tight_layout()
        return fig

    picture(args.png_dir, "lasso_jacobian.png", draw)
    return checks.done()


if __name__ == "__main__":
    sys.exit(main())
