"""Eager overhead on the shapes real code has (issue 12): a fan-out elementwise chain, a
small-matrix chain, and scalar-heavy code (a projectile in Python floats and np.* math)."""

from __future__ import annotations

import numpy as np

from frechet._src.bench.elementwise import _one_input, _suite
from frechet._src.bench.workload import Workload, blocking, jax_x64

# ---- fanout_chain: each value feeds three operations, 25 steps on 10 elements

FANOUT_STEPS = 25


def fanout(xp, x):
    for _ in range(FANOUT_STEPS):
        x = xp.sin(x) * 1.01 + xp.tanh(x) - 0.5 * x     # 6 operations
    return xp.sum(x)


FANOUT_CHAIN = Workload(
    "fanout_chain", f"gradient of {FANOUT_STEPS} steps of x = sin(x)*1.01 + tanh(x) - 0.5*x on "
    "10 elements; per op", _one_input(10), _suite(fanout), per=6 * FANOUT_STEPS, unit="us")

# ---- small_matrix_chain: h = tanh(h @ W + b), 20 steps, h 4x10, W 10x10

MATRIX_STEPS = 20
_rng = np.random.default_rng(1)
H0, B = _rng.standard_normal((4, 10)), 0.1 * _rng.standard_normal(10)


def _const(xp, a):
    return xp.as_tensor(a) if getattr(xp, "__name__", "") == "torch" else a


def matrix_chain(xp, w):
    W, h, b = w.reshape(10, 10), _const(xp, H0), _const(xp, B)
    for _ in range(MATRIX_STEPS):
        h = xp.tanh(h @ W + b)                          # 3 operations
    return xp.sum(h * h)


SMALL_MATRIX_CHAIN = Workload(
    "small_matrix_chain", f"gradient w.r.t. W of {MATRIX_STEPS} steps of h = tanh(h @ W + b), "
    "h 4x10, W 10x10; per op", _one_input(100, 0.3), _suite(matrix_chain),
    per=3 * MATRIX_STEPS, unit="us")

# ---- scalar_projectile: float scalars and np.* math, 300 steps

PROJECTILE_STEPS = 300


def projectile(xp, theta):
    angle, k = theta[0], theta[1]
    x, y = 0.0, 0.0
    vx, vy = 30.0 * xp.cos(angle), 30.0 * xp.sin(angle)
    dt = 0.01
    for _ in range(PROJECTILE_STEPS):
        v = xp.sqrt(vx * vx + vy * vy)
        ax, ay = -k * v * vx, -9.81 - k * v * vy
        x, y = x + dt * vx, y + dt * vy
        vx, vy = vx + dt * ax, vy + dt * ay
    return x + y


def _projectile_jax(d):
    """JAX as its users write this loop: lax.fori_loop. XLA's compile of the unrolled Python
    loop (5,400 scalar operations, forward and backward) ran for 20 minutes on a 2-core 24 GiB
    machine and was then killed for memory."""
    jax = jax_x64()
    jnp = jax.numpy

    def f(theta):
        angle, k = theta[0], theta[1]

        def step(_, c):
            x, y, vx, vy = c
            v = jnp.sqrt(vx * vx + vy * vy)
            ax, ay = -k * v * vx, -9.81 - k * v * vy
            return x + 0.01 * vx, y + 0.01 * vy, vx + 0.01 * ax, vy + 0.01 * ay
        zero = jnp.zeros(())
        x, y, _, _ = jax.lax.fori_loop(0, PROJECTILE_STEPS, step,
                                       (zero, zero, 30.0 * jnp.cos(angle), 30.0 * jnp.sin(angle)))
        return x + y
    g, x = jax.jit(jax.grad(f)), jnp.asarray(d["x"])
    return blocking(lambda: g(x))


SCALAR_PROJECTILE = Workload(
    "scalar_projectile", f"gradient w.r.t. (angle, drag) of {PROJECTILE_STEPS} Euler steps of a "
    "projectile with drag, in scalars", lambda: {"x": np.array([0.7, 0.01])},
    {**_suite(projectile), "jax": _projectile_jax},
    notes={"jax": "lax.fori_loop (XLA's compile of the unrolled loop did not finish: 20 min, "
                  "then out of memory at 24 GiB)"})
