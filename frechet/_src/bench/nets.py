"""mlp_grad and mlp_hvp: softmax cross-entropy of a tanh MLP, 784-512-512-10, batch 256."""

from __future__ import annotations

import itertools

import numpy as np

from frechet._src.bench.workload import Workload, blocking, jax_x64

SIZES = (784, 512, 512, 10)
BATCH = 256


def data() -> dict:
    rng = np.random.default_rng(0)
    params = []
    for fan_in, fan_out in itertools.pairwise(SIZES):
        w = (rng.standard_normal((fan_in, fan_out)) / np.sqrt(fan_in)).astype(np.float32)
        params.append((w, np.zeros(fan_out, np.float32)))
    x = rng.standard_normal((BATCH, SIZES[0])).astype(np.float32)
    y = np.eye(SIZES[-1], dtype=np.float32)[rng.integers(0, SIZES[-1], BATCH)]
    ones = [(np.ones_like(w), np.ones_like(b)) for w, b in params]
    return {"params": params, "x": x, "y": y, "ones": ones}


def loss(xp, logsumexp, params, x, y):
    """Mean softmax cross-entropy; the same source runs on NumPy, jax.numpy, torch, autograd."""
    h = x
    for w, b in params[:-1]:
        h = xp.tanh(h @ w + b)
    w, b = params[-1]
    logits = h @ w + b
    return xp.mean(logsumexp(logits, axis=1) - xp.sum(logits * y, axis=1))


def _numpy(d):
    import scipy.special
    return lambda: loss(np, scipy.special.logsumexp, d["params"], d["x"], d["y"])


def _frechet_loss(d):
    import frechet.scipy.special as fss
    return lambda p: loss(np, fss.logsumexp, p, d["x"], d["y"])


def _jax_loss(d):
    jax = jax_x64()
    import jax.numpy as jnp
    x, y = jnp.asarray(d["x"]), jnp.asarray(d["y"])
    return jax, (lambda p: loss(jnp, jax.nn.logsumexp, p, x, y))


def _torch_loss(d):
    import torch

    def lse(a, axis):
        return torch.logsumexp(a, dim=axis)
    x, y = torch.tensor(d["x"]), torch.tensor(d["y"])
    return torch, (lambda p: loss(torch, lse, p, x, y))


def _autograd_loss(d):
    import autograd
    import autograd.numpy as anp
    import autograd.scipy.special as asp
    return autograd, (lambda p: loss(anp, asp.logsumexp, p, d["x"], d["y"]))


def _torch_params(d, key="params"):
    import torch
    return [tuple(torch.tensor(a, requires_grad=True) for a in wb) for wb in d[key]]


# ---- mlp_grad

def _grad_frechet(d):
    import frechet as fr
    g = fr.grad(_frechet_loss(d))
    return lambda: g(d["params"])


def _grad_frechet_jit(d):
    import frechet as fr
    g = fr.jit(fr.grad(_frechet_loss(d)))
    return lambda: g(d["params"])


def _grad_jax(d):
    jax, f = _jax_loss(d)
    g, p = jax.jit(jax.grad(f)), jax.tree.map(jax.numpy.asarray, d["params"])
    return blocking(lambda: g(p))


def _grad_torch(d):
    torch, f = _torch_loss(d)
    p = _torch_params(d)
    flat = [a for wb in p for a in wb]
    return lambda: torch.autograd.grad(f(p), flat)


def _grad_torch_func(d):
    torch, f = _torch_loss(d)
    g, p = torch.func.grad(f), _torch_params(d)
    return lambda: g(p)


def _grad_autograd(d):
    autograd, f = _autograd_loss(d)
    g = autograd.grad(f)
    return lambda: g(d["params"])


MLP_GRAD = Workload(
    "mlp_grad", "gradient of the MLP's mean softmax cross-entropy w.r.t. all weights and biases",
    data, {"numpy": _numpy, "frechet": _grad_frechet, "frechet jit": _grad_frechet_jit,
           "jax": _grad_jax, "torch": _grad_torch, "torch.func": _grad_torch_func,
           "autograd": _grad_autograd},
    rtol=2e-3)


# ---- mlp_hvp: forward over reverse where the library has forward mode

def _hvp_frechet(d):
    import frechet as fr
    f = _frechet_loss(d)
    return lambda: fr.hvp(f, (d["params"],), (d["ones"],))[1]


def _hvp_frechet_jit(d):
    import frechet as fr
    f = _frechet_loss(d)
    h = fr.jit(lambda p, v: fr.hvp(f, (p,), (v,))[1])
    return lambda: h(d["params"], d["ones"])


def _hvp_jax(d):
    jax, f = _jax_loss(d)
    h = jax.jit(lambda p, v: jax.jvp(jax.grad(f), (p,), (v,))[1])
    p, v = (jax.tree.map(jax.numpy.asarray, d[k]) for k in ("params", "ones"))
    return blocking(lambda: h(p, v))


def _hvp_torch(d):
    torch, f = _torch_loss(d)
    p, v = _torch_params(d), _torch_params(d, "ones")
    flat, vflat = [a for wb in p for a in wb], [a for wb in v for a in wb]

    def run():
        g = torch.autograd.grad(f(p), flat, create_graph=True)
        return torch.autograd.grad(g, flat, grad_outputs=vflat)
    return run


def _hvp_torch_func(d):
    torch, f = _torch_loss(d)
    p, v = _torch_params(d), _torch_params(d, "ones")
    g = torch.func.grad(f)
    return lambda: torch.func.jvp(g, (p,), (v,))[1]


def _hvp_autograd(d):
    autograd, f = _autograd_loss(d)
    return lambda: autograd.make_hvp(f)(d["params"])[0](d["ones"])


MLP_HVP = Workload(
    "mlp_hvp", "Hessian-vector product of that loss w.r.t. all parameters, tangent of ones",
    data, {"numpy": _numpy, "frechet": _hvp_frechet, "frechet jit": _hvp_frechet_jit,
           "jax": _hvp_jax, "torch": _hvp_torch, "torch.func": _hvp_torch_func,
           "autograd": _hvp_autograd},
    rtol=5e-3,
    notes={"torch": "reverse over reverse (double backward)",
           "autograd": "make_hvp (reverse over reverse)"})


# ---- mlp_bound (issue 5): a verified quadratic bound of the loss along its negative gradient

BOUND_REGION = (0.0, 0.01)


def _bound_frechet(d):
    import frechet as fr
    from frechet.bounds import taylor_bound
    params = [(w.astype(np.float64), b.astype(np.float64)) for w, b in d["params"]]
    x, y = d["x"].astype(np.float64), d["y"].astype(np.float64)

    def f(p):
        return loss(np, lambda a, axis: np.log(np.sum(np.exp(a), axis=axis)), p, x, y)
    g = fr.grad(f)(params)

    def along(eta):
        return f([(w - eta * gw, b - eta * gb) for (w, b), (gw, gb) in zip(params, g)])

    def run():
        e = taylor_bound(along, 0.0, BOUND_REGION, 1)
        return np.array([*e.coefficients, *e.remainder])
    return run


MLP_BOUND = Workload(
    "mlp_bound", "a verified degree-1 Taylor enclosure (the SafeRate bound) of the MLP's loss "
    "along its negative gradient, step sizes in [0, 0.01]", data,
    {"numpy": _numpy, "frechet": _bound_frechet},
    notes={"frechet": "frechet.bounds.taylor_bound, float64 (AutoBound needs Python >= 3.12 "
                      "and a pinned JAX: not a peer here)"})
