"""Noise for the perturbed layers, drawn by one primitive so that it stays random everywhere.

Drawn in plain NumPy inside a traced function, the noise would be a constant of the
transformation: `jit` would bake one draw into the compiled program and `vmap` would give all
mapped examples the same draw. As the impl of a primitive whose argument is the (stop-gradient)
costs, it is drawn when the program runs: afresh on every call of compiled code, and under
`vmap` with the mapped axis included (independent per example). Its derivative is zero.
"""

from __future__ import annotations

import numpy as np

import frechet as fr
from frechet import extend as fx


def draw_like(sampler, costs):
    """`sampler.draw(shape)` noise of shape (sampler.num_samples,) + costs.shape."""
    return draw_p.bind(fr.stop_gradient(costs), sampler=sampler)


def _impl(costs, *, sampler):
    return np.asarray(sampler.draw(np.shape(costs)), dtype=np.float64)


def _abstract(spec, *, sampler):
    return fx.ArraySpec((sampler.num_samples, *spec.shape), np.float64)


def _batch(args, batched, *, sampler):
    # draws (num_samples, mapped, ...); the mapped axis goes first
    return np.swapaxes(draw_p.bind(args[0], sampler=sampler), 0, 1)


# Note: made with fx.Primitive, not registered (its param is a layer holding a generator,
# which a pickled program cannot name), like decision.solve
draw_p = fx.Primitive("decision.draw", _impl, _abstract)
draw_p.batch = _batch
fx.defzero(draw_p)


class Layer:
    """A layer whose derivative is its own `_fwd`/`_bwd` pair (a frechet.custom_vjp)."""

    def _make_layer(self):
        self._layer = fr.custom_vjp(lambda costs: self._fwd(costs)[0])
        self._layer.defvjp(self._fwd, self._bwd)

    def __call__(self, costs):
        return self._layer(costs)
