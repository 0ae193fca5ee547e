"""Dense-derivative and matrix workloads: rosenbrock_hessian, jacobian, logdet_grad, eigh_grad,
svd_grad."""

from __future__ import annotations

import numpy as np

from frechet._src.bench.workload import Workload, blocking, jax_x64


def _suite(fn, frechet_op, jax_op, torch_func_op, torch_eager, autograd_op):
    """Factories applying one derivative operator (hessian, jacfwd, ...) to fn(xp, *args) in
    every library, differentiating with respect to the first argument; None leaves a library
    out. torch_eager(f, args) is the torch.autograd.functional call."""

    def numpy(d):
        return lambda: fn(np, *d["args"])

    def frechet(d):
        import frechet as fr
        g = getattr(fr, frechet_op)(lambda *a: fn(np, *a))
        return lambda: g(*d["args"])

    def frechet_jit(d):
        import frechet as fr
        g = fr.jit(getattr(fr, frechet_op)(lambda *a: fn(np, *a)))
        return lambda: g(*d["args"])

    def jax(d):
        jax = jax_x64()
        g = jax.jit(getattr(jax, jax_op)(lambda *a: fn(jax.numpy, *a)))
        args = [jax.numpy.asarray(a) for a in d["args"]]
        return blocking(lambda: g(*args))

    def torch(d):
        import torch
        args = [torch.tensor(a) for a in d["args"]]
        return lambda: torch_eager(torch, lambda *a: fn(torch, *a), args)

    def torch_func(d):
        import torch
        g = getattr(torch.func, torch_func_op)(lambda *a: fn(torch, *a))
        args = [torch.tensor(a) for a in d["args"]]
        return lambda: g(*args)

    def autograd(d):
        import autograd
        import autograd.numpy as anp
        g = getattr(autograd, autograd_op)(lambda *a: fn(anp, *a))
        return lambda: g(*d["args"])

    out = {"numpy": numpy, "frechet": frechet, "frechet jit": frechet_jit, "jax": jax,
           "torch": torch, "torch.func": torch_func, "autograd": autograd}
    return {k: v for k, v in out.items() if k != "autograd" or autograd_op}


# ---- rosenbrock_hessian: n = 200

def rosenbrock(xp, x):
    return xp.sum(100 * (x[1:] - x[:-1] ** 2) ** 2 + (1 - x[:-1]) ** 2)


def _torch_hessian(torch, f, args):
    return torch.autograd.functional.hessian(f, args[0], vectorize=True)


ROSENBROCK_HESSIAN = Workload(
    "rosenbrock_hessian", "full Hessian of the Rosenbrock function, n = 200",
    lambda: {"args": [np.random.default_rng(0).standard_normal(200)]},
    _suite(rosenbrock, "hessian", "hessian", "hessian", _torch_hessian, "hessian"),
    notes={"torch": "torch.autograd.functional.hessian(vectorize=True)"})


# ---- jacobian: tanh(W2 @ tanh(W1 @ x)), 100x100, forward and reverse

def mlp2(xp, x, w1, w2):
    return xp.tanh(w2 @ xp.tanh(w1 @ x))


def _jacobian_data():
    rng = np.random.default_rng(0)
    w1 = rng.standard_normal((100, 100)) / 10
    w2 = rng.standard_normal((100, 100)) / 10
    return {"args": [rng.standard_normal(100), w1, w2]}


def _torch_jacobian(strategy):
    def run(torch, f, args):
        x, rest = args[0], args[1:]
        return torch.autograd.functional.jacobian(lambda x: f(x, *rest), x, vectorize=True,
                                                  strategy=strategy)
    return run


JACOBIAN_FWD = Workload(
    "jacobian (fwd)", "Jacobian of tanh(W2 @ tanh(W1 @ x)), forward mode, 100x100",
    _jacobian_data,
    _suite(mlp2, "jacfwd", "jacfwd", "jacfwd", _torch_jacobian("forward-mode"), None),
    notes={"torch": "torch.autograd.functional.jacobian(vectorize=True, forward-mode)"})

JACOBIAN_REV = Workload(
    "jacobian (rev)", "Jacobian of tanh(W2 @ tanh(W1 @ x)), reverse mode, 100x100",
    _jacobian_data,
    _suite(mlp2, "jacrev", "jacrev", "jacrev", _torch_jacobian("reverse-mode"), "jacobian"),
    notes={"torch": "torch.autograd.functional.jacobian(vectorize=True)",
           "autograd": "autograd.jacobian (one reverse pass per output)"})


# ---- logdet_grad: gradient w.r.t. A of slogdet(A)[1] + trace(solve(A, B)), 500x500

def logdet(xp, a, b):
    return xp.linalg.slogdet(a)[1] + xp.trace(xp.linalg.solve(a, b))


def _logdet_data():
    rng = np.random.default_rng(0)
    g = rng.standard_normal((500, 500))
    return {"args": [g @ g.T / 500 + np.eye(500), rng.standard_normal((500, 500))]}


def _torch_grad(torch, f, args):
    a = args[0].detach().requires_grad_(True)
    return torch.autograd.grad(f(a, *args[1:]), a)[0]


LOGDET_GRAD = Workload(
    "logdet_grad", "gradient w.r.t. A of slogdet(A)[1] + trace(solve(A, B)), 500x500",
    _logdet_data, _suite(logdet, "grad", "grad", "grad", _torch_grad, "grad"),
    rtol=1e-7)


# ---- eigh_grad: gradient of the sum of the 5 largest eigenvalues of a 300x300 symmetric matrix

def top5(xp, a):
    # symmetrised inside, so libraries that read one triangle (autograd, NumPy's function)
    # and those that take the input as symmetric (JAX, PyTorch, frechet) agree
    return xp.sum(xp.linalg.eigh((a + a.T) / 2)[0][-5:])


def _eigh_data():
    g = np.random.default_rng(0).standard_normal((300, 300))
    return {"args": [(g + g.T) / 2]}


EIGH_GRAD = Workload(
    "eigh_grad", "gradient of the sum of the 5 largest eigenvalues (eigh), 300x300 symmetric",
    _eigh_data, _suite(top5, "grad", "grad", "grad", _torch_grad, "grad"), rtol=1e-7)


# ---- svd_grad: gradient of the nuclear norm of a 300x200 matrix

def nuclear(xp, a):
    return xp.linalg.norm(a, "nuc")


SVD_GRAD = Workload(
    "svd_grad", "gradient of the nuclear norm (sum of singular values), 300x200",
    lambda: {"args": [np.random.default_rng(0).standard_normal((300, 200))]},
    _suite(nuclear, "grad", "grad", "grad", _torch_grad, "grad"), rtol=1e-7)
