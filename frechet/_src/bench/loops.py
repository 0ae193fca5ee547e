"""euler_unroll: gradient through 1000 explicit Euler steps of a damped pendulum."""

from __future__ import annotations

import numpy as np

from frechet._src.bench.workload import Workload, blocking, jax_x64

STEPS, DT = 1000, 0.01


def step(xp, theta, x):
    x0, x1 = x[0], x[1]
    return xp.stack([x0 + DT * x1, x1 + DT * (-theta[0] * xp.sin(x0) - theta[1] * x1)])


def loss_loop(xp, theta, x):
    for _ in range(STEPS):
        x = step(xp, theta, x)
    return xp.sum(x**2)


def _data():
    return {"theta": np.array([1.0, 0.1]), "x0": np.array([1.0, 0.0])}


def _numpy(d):
    return lambda: loss_loop(np, d["theta"], d["x0"])


def _frechet_scan(theta, x0):
    import frechet as fr
    x, _ = fr.scan(lambda x, _: (step(np, theta, x), None), x0, length=STEPS)
    return np.sum(x**2)


def _frechet(d):
    import frechet as fr
    g = fr.grad(_frechet_scan)
    return lambda: g(d["theta"], d["x0"])


def _frechet_jit(d):
    import frechet as fr
    g = fr.jit(fr.grad(_frechet_scan))
    return lambda: g(d["theta"], d["x0"])


def _frechet_jit_unrolled(d):
    import frechet as fr

    def loss(theta, x0):
        x, _ = fr.scan(lambda x, _: (step(np, theta, x), None), x0, length=STEPS, unroll=True)
        return np.sum(x**2)
    g = fr.jit(fr.grad(loss))
    return lambda: g(d["theta"], d["x0"])


def _jax(d):
    jax = jax_x64()
    jnp = jax.numpy

    def loss(theta, x0):
        x, _ = jax.lax.scan(lambda x, _: (step(jnp, theta, x), None), x0, length=STEPS)
        return jnp.sum(x**2)
    g = jax.jit(jax.grad(loss))
    theta, x0 = jnp.asarray(d["theta"]), jnp.asarray(d["x0"])
    return blocking(lambda: g(theta, x0))


def _torch(d):
    import torch
    theta, x0 = torch.tensor(d["theta"]), torch.tensor(d["x0"])

    def run():
        t = theta.detach().requires_grad_(True)
        loss_loop(torch, t, x0).backward()
        return t.grad
    return run


def _torch_func(d):
    import torch
    g = torch.func.grad(lambda t, x: loss_loop(torch, t, x))
    theta, x0 = torch.tensor(d["theta"]), torch.tensor(d["x0"])
    return lambda: g(theta, x0)


def _autograd(d):
    import autograd
    import autograd.numpy as anp
    g = autograd.grad(lambda t, x: loss_loop(anp, t, x))
    return lambda: g(d["theta"], d["x0"])


EULER_UNROLL = Workload(
    "euler_unroll", f"gradient w.r.t. theta of sum(x_T**2) after {STEPS} Euler steps",
    _data, {"numpy": _numpy, "frechet": _frechet, "frechet jit": _frechet_jit,
            "frechet jit unrolled": _frechet_jit_unrolled, "jax": _jax,
            "torch": _torch, "torch.func": _torch_func, "autograd": _autograd},
    notes={"frechet": "frechet.scan", "frechet jit": "jit(grad) of frechet.scan (compiled loops with numba)",
           "frechet jit unrolled": "the same with scan(unroll=True)",
           "jax": "jit(grad) of lax.scan", "torch": "Python loop",
           "torch.func": "Python loop", "autograd": "Python loop"})
