"""What a workload is: data, a NumPy primal, and one factory per candidate library.

A factory takes the workload's data and returns a zero-argument callable that computes the
whole quantity (the derivative, not a piece of it) and, for asynchronous libraries, waits for
it. Setup that a user would do once (converting arrays, compiling) happens in the factory, not
in the callable. A factory raises ImportError when its library is missing; anything else it or
its callable raises is reported as the candidate's failure, never timed.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

# Candidates in report order. Peers are what a user would pick instead of frechet; the fastest
# peer is the bar. "numpy" is the primal alone: what the function itself costs.
FRECHET = ("frechet", "frechet jit", "frechet jit unrolled")
PEERS = ("jax", "torch", "torch.func", "autograd")
CANDIDATES = ("numpy",) + FRECHET + PEERS


@dataclass(frozen=True)
class Workload:
    """One row of WORKLOADS.md.

    Args:
      name: the workload's name in WORKLOADS.md.
      what: one line saying what is computed.
      data: builds the inputs from numpy.random.default_rng(0); every candidate gets these.
      candidates: candidate name -> factory(data) -> zero-argument callable.
      per: the figure reported is time / per (100 for eager_overhead: time per op).
      unit: "ms" or "us" (per call, or per op when per > 1).
      rtol: relative tolerance when results are checked against frechet's.
      notes: candidate name -> how it computes the quantity, when that is not obvious.
      extra: extra(data, callable, result) -> a string added to each candidate's note after
        its checked first call (e.g. a peak memory, an error against an exact reference).
    """

    name: str
    what: str
    data: Callable[[], dict]
    candidates: dict[str, Callable[[dict], Callable[[], Any]]]
    per: int = 1
    unit: str = "ms"
    rtol: float = 1e-9
    notes: dict[str, str] = field(default_factory=dict)
    extra: Callable[[dict, Callable[[], Any], Any], str] | None = None


def jax_x64():
    """Import jax with 64-bit floats enabled (WORKLOADS.md: JAX runs with x64)."""
    import jax
    jax.config.update("jax_enable_x64", True)
    return jax


def blocking(fn):
    """A JAX callable that waits for its result (JAX dispatches asynchronously)."""
    jax = jax_x64()
    return lambda: jax.block_until_ready(fn())


def torch_tensors(*arrays, grad=False):
    import torch
    out = [torch.tensor(a, requires_grad=grad) for a in arrays]
    return out[0] if len(out) == 1 else out
