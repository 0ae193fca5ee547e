"""mlp_grad and elementwise_grad on another array library's device (`bench --device`).

`--device cupy` runs frechet on CuPy arrays on the GPU, `--device torch:cuda` (or `torch:cpu`)
on torch tensors there; torch and JAX run the same workloads on the same device (JAX on its
default device, which is the GPU where jaxlib has CUDA). The first candidate, frechet's jit
on NumPy arrays on the CPU, is the reference every result is checked against. The data is the CPU workloads' data
copied to the device once, in the factory, as a user would; every timed call ends by waiting
for the device (a GPU computes asynchronously).
"""

from __future__ import annotations

import numpy as np

from frechet._src.bench import elementwise, nets
from frechet._src.bench.workload import Workload, blocking, jax_x64


class Device:
    """An array library and device: `cupy`, `torch:cpu`, `torch:cuda`."""

    def __init__(self, spec: str):
        lib, _, where = spec.partition(":")
        if lib not in ("cupy", "torch") or (lib == "cupy" and where):
            raise ValueError(f"--device takes cupy, torch:cpu or torch:cuda, got {spec!r}")
        self.spec, self.lib, self.where = spec, lib, where or ("cuda" if lib == "cupy" else "cpu")

    def to(self, a):
        """A NumPy array (or nested lists/tuples of them) on this device."""
        if isinstance(a, (list, tuple)):
            return type(a)(self.to(x) for x in a)
        if self.lib == "cupy":
            import cupy
            return cupy.asarray(a)
        import torch
        return torch.from_numpy(np.array(a, order="C")).to(self.where)

    def wait(self):
        """Block until the device has finished the work queued so far."""
        if self.lib == "cupy":
            import cupy
            cupy.cuda.Device().synchronize()
        elif self.where.startswith("cuda"):
            import torch
            torch.cuda.synchronize()

    def waiting(self, fn):
        def run():
            out = fn()
            self.wait()
            return out
        return run


def _torch_on(device: Device):
    import torch
    return torch.device("cuda" if device.lib == "cupy" else device.where)


def _mlp(device: Device) -> Workload:
    def frechet(d, jit=False):
        import frechet as fr
        import frechet.scipy.special as fss
        x, y, p = device.to(d["x"]), device.to(d["y"]), device.to(d["params"])
        g = fr.grad(lambda p: nets.loss(np, fss.logsumexp, p, x, y))
        g = fr.jit(g) if jit else g
        return device.waiting(lambda: g(p))

    def torch(d):
        import torch
        on = _torch_on(device)
        x, y = (torch.from_numpy(d[k]).to(on) for k in ("x", "y"))
        p = [tuple(torch.from_numpy(a).to(on).requires_grad_(True) for a in wb)
             for wb in d["params"]]
        flat = [a for wb in p for a in wb]

        def lse(a, axis):
            return torch.logsumexp(a, dim=axis)
        wait = Device("torch:" + on.type)
        return wait.waiting(lambda: torch.autograd.grad(nets.loss(torch, lse, p, x, y), flat))

    return Workload(
        f"mlp_grad on {device.spec}", nets.MLP_GRAD.what, nets.data,
        {"frechet on numpy": nets.MLP_GRAD.candidates["frechet jit"], "frechet": frechet,
         "frechet jit": lambda d: frechet(d, jit=True),
         "jax": nets.MLP_GRAD.candidates["jax"], "torch": torch}, rtol=2e-3)


def _elementwise(device: Device) -> Workload:
    def frechet(d, jit=False):
        import frechet as fr
        g = fr.grad(lambda x: elementwise.elementwise(np, x))
        g = fr.jit(g) if jit else g
        x = device.to(d["x"])
        return device.waiting(lambda: g(x))

    def torch(d):
        import torch
        on = _torch_on(device)
        x = torch.from_numpy(d["x"]).to(on)
        wait = Device("torch:" + on.type)

        def run():
            v = x.detach().requires_grad_(True)
            elementwise.elementwise(torch, v).backward()
            return v.grad
        return wait.waiting(run)

    def jax(d):
        jax = jax_x64()
        g = jax.jit(jax.grad(lambda x: elementwise.elementwise(jax.numpy, x)))
        x = jax.numpy.asarray(d["x"])
        return blocking(lambda: g(x))

    return Workload(
        f"elementwise_grad on {device.spec}", elementwise.ELEMENTWISE_GRAD.what,
        elementwise.ELEMENTWISE_GRAD.data,
        {"frechet on numpy": elementwise.ELEMENTWISE_GRAD.candidates["frechet jit"],
         "frechet": frechet, "frechet jit": lambda d: frechet(d, jit=True), "jax": jax,
         "torch": torch})


def workloads(spec: str) -> tuple[Workload, ...]:
    """The device workloads for `--device spec`."""
    device = Device(spec)
    return (_mlp(device), _elementwise(device))
