"""Real scientific NumPy programs, written as their authors write them (allocate with np.zeros,
fill row by row, np.array of scalars, in-place updates), run unchanged under grad and
jit(grad): value equal to NumPy's, gradient equal to central differences."""

import numpy as np
import pytest
import scipy.special

import frechet as fr


def rk4_pendulum(p):
    g, theta0 = p[0], p[1]
    n, dt = 60, 0.02

    def f(y):
        th, om = y[0], y[1]
        return np.array([om, -g * np.sin(th)])
    ys = np.zeros((n, 2))
    ys[0] = [theta0, 0.0]
    for i in range(n - 1):
        y = ys[i]
        k1 = f(y)
        k2 = f(y + dt / 2 * k1)
        k3 = f(y + dt / 2 * k2)
        k4 = f(y + dt * k3)
        ys[i + 1] = y + dt / 6 * (k1 + 2 * k2 + 2 * k3 + k4)
    return np.sum(ys[:, 0] ** 2)


def leapfrog_nbody(p):
    pos = np.array([[0.0, 0.0], [1.0, 0.0], [0.0, 1.5]]) * p[0]
    vel = np.zeros_like(pos)
    vel[1, 1], vel[2, 0] = p[1], -p[1]
    masses, dt = np.array([1.0, 0.1, 0.1]), 0.01

    def acc(x):
        a = np.zeros_like(x)
        for i in range(3):
            for j in range(3):
                if i != j:
                    d = x[j] - x[i]
                    a[i] += masses[j] * d / (np.sum(d * d) + 0.01) ** 1.5
        return a
    a = acc(pos)
    for _ in range(20):
        vel += 0.5 * dt * a
        pos += dt * vel
        a = acc(pos)
        vel += 0.5 * dt * a
    return np.sum(pos[1] ** 2) + np.sum(vel ** 2)


def kalman(p):
    zs = np.sin(np.linspace(0, 3, 25))
    x, P = np.zeros(2), np.eye(2)
    F, H = np.array([[1.0, 0.1], [0.0, 1.0]]), np.array([[1.0, 0.0]])
    means = np.empty((25, 2))
    for t, z in enumerate(zs):
        x = F @ x
        P = F @ P @ F.T + p[0] * np.eye(2)
        S = H @ P @ H.T + p[1]
        K = P @ H.T / S
        x = x + (K * (z - H @ x)).ravel()
        P = (np.eye(2) - K @ H) @ P
        means[t] = x
    return np.sum((means[:, 0] - zs) ** 2)


def heat(p):
    n, r = 20, 0.4 * p[0]
    u = np.zeros(n)
    u[n // 2] = p[1]
    for _ in range(30):
        un = u.copy()
        u[1:-1] = un[1:-1] + r * (un[2:] - 2 * un[1:-1] + un[:-2])
        u[0] = u[-1] = 0.0
    return np.sum(u ** 2)


def convection(p):
    nx, c = 41, p[0]
    dx, dt = 2.0 / (nx - 1), 0.025
    u = np.ones(nx)
    u[int(0.5 / dx):int(1 / dx + 1)] = p[1]
    for _ in range(15):
        un = u.copy()
        for i in range(1, nx):
            u[i] = un[i] - c * dt / dx * (un[i] - un[i - 1])
    return np.sum(u ** 2)


def holt(p):
    y = 10 + np.cumsum(np.cos(np.arange(30.0)))
    alpha, beta = p[0], p[1]
    level, trend = np.zeros(30), np.zeros(30)
    level[0], trend[0] = y[0], y[1] - y[0]
    for t in range(1, 30):
        level[t] = alpha * y[t] + (1 - alpha) * (level[t - 1] + trend[t - 1])
        trend[t] = beta * (level[t] - level[t - 1]) + (1 - beta) * trend[t - 1]
    return np.sum((level[:-1] + trend[:-1] - y[1:]) ** 2)


def gaussian_process(p):
    x = np.linspace(0, 1, 8)
    y = np.sin(6 * x)
    K = np.exp(-0.5 * (x[:, None] - x[None, :]) ** 2 / p[0] ** 2) + p[1] * np.eye(8)
    L = np.linalg.cholesky(K)
    alpha = np.linalg.solve(L.T, np.linalg.solve(L, y))
    return 0.5 * y @ alpha + np.sum(np.log(np.diag(L)))


def glm(p):
    rng = np.random.default_rng(0)
    X, counts = rng.standard_normal((20, 2)), np.arange(20) % 4
    eta = X @ p
    logistic = np.sum(np.log(scipy.special.expit(eta) + 1e-12))
    poisson = np.sum(counts * eta - np.exp(eta) - scipy.special.gammaln(counts + 1.0))
    return logistic + poisson


PROGRAMS = {f.__name__: f for f in (rk4_pendulum, leapfrog_nbody, kalman, heat, convection,
                                      holt, gaussian_process, glm)}
POINTS = {"rk4_pendulum": [9.81, 0.5], "leapfrog_nbody": [1.0, 0.8], "kalman": [0.05, 0.2],
          "heat": [1.0, 2.0], "convection": [1.0, 2.0], "holt": [0.3, 0.2],
          "gaussian_process": [0.3, 0.1], "glm": [0.4, -0.3]}


@pytest.mark.parametrize("name", sorted(PROGRAMS))
def test_program_runs_unchanged(name):
    f, p = PROGRAMS[name], np.array(POINTS[name])
    eps = 1e-6
    fd = np.array([(f(p + eps * e) - f(p - eps * e)) / (2 * eps) for e in np.eye(2)])
    v, g = fr.value_and_grad(f)(p)
    np.testing.assert_allclose(v, f(p), rtol=1e-12)
    np.testing.assert_allclose(g, fd, rtol=1e-5, atol=1e-7)
    jg = fr.jit(fr.grad(f))
    jg(p * 1.01)
    np.testing.assert_allclose(jg(p), g, rtol=1e-10, atol=1e-12)


def glm_scipy_stats(p):
    # the same GLM through frechet.scipy.stats (scipy.stats' own functions convert their input
    # and say so, naming these)
    from frechet.scipy import stats
    rng = np.random.default_rng(0)
    X, y = rng.standard_normal((20, 2)), rng.standard_normal(20)
    mu = X @ p
    return -np.sum(stats.norm.logpdf(y, mu, 1.5)) - np.sum(stats.t.logpdf(p, 3.0))


def test_glm_with_scipy_stats():
    import scipy.stats
    p = np.array([0.4, -0.3])
    eps = 1e-6
    fd = np.array([(glm_scipy_stats(p + eps * e) - glm_scipy_stats(p - eps * e)) / (2 * eps)
                   for e in np.eye(2)])
    np.testing.assert_allclose(fr.grad(glm_scipy_stats)(p), fd, rtol=1e-6)
    with pytest.raises(fr.TracerConversionError,
                       match=r"^call frechet\.scipy\.stats\.norm\.logpdf instead"):
        fr.grad(lambda p: np.sum(scipy.stats.norm.logpdf(p)))(p)


def decay_ode(k, n=80, dt=0.05):
    """y' = -k0 y + k1 sin(t), explicit Euler from y(0) = 1, filled into a preallocated array."""
    ys = np.empty(n)
    ys[0] = 1.0
    for i in range(n - 1):
        ys[i + 1] = ys[i] + dt * (-k[0] * ys[i] + k[1] * np.sin(i * dt))
    return ys


def test_ode_fit_recovers_its_parameters():
    truth = np.array([0.8, 0.5])
    data = decay_ode(truth)
    res = fr.optimize.minimize(lambda k: np.sum((decay_ode(k) - data) ** 2),
                               np.array([0.3, 0.1]), method="BFGS", options={"gtol": 1e-12})
    np.testing.assert_allclose(res.x, truth, rtol=1e-6)
