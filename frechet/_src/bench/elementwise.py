"""Elementwise workloads: elementwise_grad, small_grad_latency, eager_overhead, taylor8."""

from __future__ import annotations

import math

import numpy as np

from frechet._src.bench.workload import Workload, blocking, jax_x64

# ---- elementwise_grad: 1e6 float64


def elementwise(xp, x):
    return xp.sum(xp.sin(x) * xp.exp(-x**2 / 2) + xp.log1p(x**2) + xp.tanh(x))


def _one_input(n, scale=1.0):
    return lambda: {"x": scale * np.random.default_rng(0).standard_normal(n)}


def _suite(fn, *, frechet_lib=None):
    """Factories computing grad(fn(xp, x)) in every library; fn takes the namespace first.
    frechet_lib gives frechet's namespace when it is not plain NumPy."""

    def numpy(d):
        return lambda: fn(np, d["x"])

    def frechet(d):
        import frechet as fr
        g = fr.grad(lambda x: fn(frechet_lib() if frechet_lib else np, x))
        return lambda: g(d["x"])

    def frechet_jit(d):
        import frechet as fr
        g = fr.jit(fr.grad(lambda x: fn(frechet_lib() if frechet_lib else np, x)))
        return lambda: g(d["x"])

    def jax(d):
        jax = jax_x64()
        g, x = jax.jit(jax.grad(lambda x: fn(jax.numpy, x))), jax.numpy.asarray(d["x"])
        return blocking(lambda: g(x))

    def torch(d):
        import torch
        x = torch.tensor(d["x"])

        def run():
            v = x.detach().requires_grad_(True)
            fn(torch, v).backward()
            return v.grad
        return run

    def torch_func(d):
        import torch
        g, x = torch.func.grad(lambda x: fn(torch, x)), torch.tensor(d["x"])
        return lambda: g(x)

    def autograd(d):
        import autograd
        import autograd.numpy as anp
        g = autograd.grad(lambda x: fn(anp, x))
        return lambda: g(d["x"])

    return {"numpy": numpy, "frechet": frechet, "frechet jit": frechet_jit, "jax": jax,
            "torch": torch, "torch.func": torch_func, "autograd": autograd}


ELEMENTWISE_GRAD = Workload(
    "elementwise_grad", "gradient of sum(sin(x)*exp(-x**2/2) + log1p(x**2) + tanh(x))",
    _one_input(1_000_000), _suite(elementwise))


# ---- small_grad_latency: 10 elements, per-call latency


def small(xp, x):
    return _logsumexp(xp, x) + 0.5 * xp.dot(x, x)


def _logsumexp(xp, x):
    name = getattr(xp, "__name__", "")
    if name == "torch":
        return xp.logsumexp(x, dim=0)
    if name.startswith("jax"):
        import jax
        return jax.nn.logsumexp(x)
    if name.startswith("autograd"):
        import autograd.scipy.special
        return autograd.scipy.special.logsumexp(x)
    if name.startswith("frechet"):
        import frechet.scipy.special
        return frechet.scipy.special.logsumexp(x)
    import scipy.special
    return scipy.special.logsumexp(x)


def _frechet_numpy():
    # frechet traces plain NumPy code too, but scipy.special.logsumexp converts its argument
    # with np.asarray, so the code a frechet user writes calls frechet.scipy.special's.
    import frechet.numpy
    return frechet.numpy


SMALL_GRAD_LATENCY = Workload(
    "small_grad_latency", "gradient of logsumexp(x) + 0.5*dot(x, x), 10 elements; latency",
    _one_input(10), _suite(small, frechet_lib=_frechet_numpy), unit="us")


# ---- eager_overhead: a chain of 100 elementwise ops, time per op

N_OPS = 100


def chain(xp, x):
    # 25 rounds of (sin, *1.01, tanh, +0.1)
    for _ in range(N_OPS // 4):
        x = xp.tanh(xp.sin(x) * 1.01) + 0.1
    return xp.sum(x)


EAGER_OVERHEAD = Workload(
    "eager_overhead", f"gradient of a chain of {N_OPS} elementwise ops on 10 elements; per op",
    _one_input(10), _suite(chain), per=N_OPS, unit="us")


# ---- taylor8: Taylor coefficients to order 8 along the ones direction

ORDER = 8


def taylor_fn(xp, x):
    return xp.exp(xp.sin(x)) * xp.tanh(x) + xp.log1p(x * x)


def nested_jvp(jvp, f, x, v, order):
    """[f(x), D f(x)[v], ..., D^order f(x)[v, ..., v]] by `order` nested jvps."""
    def derivs(k):
        if k == 0:
            return lambda y: [f(y)]
        inner = derivs(k - 1)

        def g(y):
            p, t = jvp(inner, (y,), (v,))
            return list(p) + [t[-1]]
        return g
    return derivs(order)(x)


def _coefficients(ds):
    return [d / math.factorial(k) for k, d in enumerate(ds)]


def _taylor_numpy(d):
    return lambda: taylor_fn(np, d["x"])


def _taylor_frechet(d):
    import frechet as fr
    v = np.ones_like(d["x"])
    return lambda: fr.taylor(lambda x: taylor_fn(np, x), d["x"], v, ORDER)


def _taylor_frechet_jit(d):
    import frechet as fr
    v = np.ones_like(d["x"])
    f = fr.jit(lambda x: fr.taylor(lambda x: taylor_fn(np, x), x, v, ORDER))
    return lambda: f(d["x"])


def _taylor_jax(d):
    jax = jax_x64()
    from jax.experimental import jet
    x = jax.numpy.asarray(d["x"])
    v = jax.numpy.ones_like(x)
    zeros = [jax.numpy.zeros_like(x)] * (ORDER - 1)

    @jax.jit
    def run(x):
        y, ys = jet.jet(lambda x: taylor_fn(jax.numpy, x), (x,), ([v] + zeros,))
        return [y] + ys
    return blocking(lambda: _coefficients(run(x)))


def _taylor_jax_nested(d):
    jax = jax_x64()
    x = jax.numpy.asarray(d["x"])
    v = jax.numpy.ones_like(x)
    run = jax.jit(lambda x: nested_jvp(jax.jvp, lambda x: taylor_fn(jax.numpy, x), x, v, ORDER))
    return blocking(lambda: _coefficients(run(x)))


def _taylor_torch_func(d):
    import torch
    x = torch.tensor(d["x"])
    v = torch.ones_like(x)

    def jvp(f, primals, tangents):
        return torch.func.jvp(lambda y: tuple(f(y)), primals, tangents)
    return lambda: _coefficients(nested_jvp(jvp, lambda x: taylor_fn(torch, x), x, v, ORDER))


def _taylor_torch(d):
    # the function is elementwise, so its derivatives along ones are elementwise derivatives:
    # grad of the sum, 8 times over (double backward)
    import torch
    x = torch.tensor(d["x"])

    def run():
        y = x.detach().requires_grad_(True)
        ds = [taylor_fn(torch, y)]
        for _ in range(ORDER):
            (g,) = torch.autograd.grad(ds[-1].sum(), y, create_graph=True)
            ds.append(g)
        return [t.detach() for t in ds]
    return lambda: _coefficients(run())


def _taylor_autograd(d):
    import autograd
    import autograd.numpy as anp
    fs = [lambda x: taylor_fn(anp, x)]
    for _ in range(ORDER):
        fs.append(autograd.elementwise_grad(fs[-1]))
    return lambda: _coefficients([f(d["x"]) for f in fs])


TAYLOR8 = Workload(
    "taylor8", f"Taylor coefficients to order {ORDER} of exp(sin(x))*tanh(x) + log1p(x*x)"
    " along ones", _one_input(10_000, 0.3),
    {"numpy": _taylor_numpy, "frechet": _taylor_frechet, "frechet jit": _taylor_frechet_jit,
     "jax": _taylor_jax, "jax nested jvp": _taylor_jax_nested,
     "torch": _taylor_torch, "torch.func": _taylor_torch_func, "autograd": _taylor_autograd},
    rtol=1e-8,
    notes={"frechet": "frechet.taylor (Taylor mode)",
           "frechet jit": "frechet.taylor, jitted",
           "jax": "jax.experimental.jet, jitted", "jax nested jvp": "8 nested jax.jvp, jitted",
           "torch": "8 nested autograd.grad of the sum (elementwise function)",
           "torch.func": "8 nested torch.func.jvp",
           "autograd": "elementwise_grad nested 8 times, one call per order"})
