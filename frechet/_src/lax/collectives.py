"""Named collectives over vmap axes: psum, pmean, pmax, all_gather, axis_index.

Each is a primitive. The batching trace whose `axis_name` matches implements it by reducing or
gathering over its batch axis; a batching trace with another name applies it to each of its
examples (its own axis rides along as an extra leading dimension, and the collective acts
elementwise over it). Outside a vmap with that name, the name is unbound and binding raises.
"""

from __future__ import annotations

import numpy as np

from frechet._src.core.primitive import primitive
from frechet._src.core.registry import front_end
from frechet._src.core.spec import ArraySpec
from frechet._src.errors import FrechetError
from frechet._src.interpreters.batching import COLLECTIVE_RULES, axis_size, with_batch_axis
from frechet._src.prims import elementwise as ew
from frechet._src.prims.indexing import getitem
from frechet._src.prims.reductions import reduce_max_p
from frechet._src.prims.shape import broadcast_in_dim_p, convert, reduce_sum, transpose


def _unbound(*args, axis_name, **params):
    raise FrechetError(f"unbound axis name {axis_name!r}: collectives need an enclosing "
                       f"frechet.vmap(..., axis_name={axis_name!r})")


psum_p = primitive("psum", _unbound, lambda x, *, axis_name: x)
pmax_p = primitive("pmax", _unbound, lambda x, *, axis_name: x)
all_gather_p = primitive("all_gather", _unbound,
                         lambda x, *, axis_name, size: ArraySpec((size, *x.shape), x.dtype))
axis_index_p = primitive("axis_index", _unbound,
                         lambda *, axis_name: ArraySpec((), np.dtype(np.intp)))
for _p in (psum_p, pmax_p, all_gather_p, axis_index_p):
    _p.collective = True

# Derivatives: psum and all_gather are linear; pmax passes the tangent of the maximising
# examples, averaged over ties; axis_index is an integer.


def _psum_jvp(primals, tangents, *, axis_name):
    (x,), (t,) = primals, tangents
    return psum_p.bind(x, axis_name=axis_name), psum_p.bind(t, axis_name=axis_name)


def _pmax_jvp(primals, tangents, *, axis_name):
    (x,), (t,) = primals, tangents
    ans = pmax_p.bind(x, axis_name=axis_name)
    mask = convert(ew.UFUNC_PRIMS[np.equal].bind(x, ans), x.dtype)
    num = psum_p.bind(ew.mul(t, mask), axis_name=axis_name)
    return ans, ew.div(num, psum_p.bind(mask, axis_name=axis_name))


def _all_gather_jvp(primals, tangents, *, axis_name, size):
    (x,), (t,) = primals, tangents
    return (all_gather_p.bind(x, axis_name=axis_name, size=size),
            all_gather_p.bind(t, axis_name=axis_name, size=size))


def _all_gather_transpose(ct, x, *, axis_name, size):
    # y_b = stack over b' of x_b'; so x_b' receives sum over b of ct_b[b'].
    total = psum_p.bind(ct, axis_name=axis_name)
    return (getitem(total, (axis_index_p.bind(axis_name=axis_name),)),)


psum_p.jvp = _psum_jvp
psum_p.transpose = lambda ct, x, *, axis_name: (psum_p.bind(ct, axis_name=axis_name),)
psum_p.linear = True
pmax_p.jvp = _pmax_jvp
all_gather_p.jvp = _all_gather_jvp
all_gather_p.transpose = _all_gather_transpose
all_gather_p.linear = True
axis_index_p.jvp = lambda primals, tangents, *, axis_name: (
    axis_index_p.bind(axis_name=axis_name), None)


def batch_collective(trace, prim, vals, batched, params):
    """How a batching trace applies a collective (see the module docstring)."""
    n = trace.size
    if params["axis_name"] != trace.axis_name:      # another vmap's axis: for each example
        (x,) = vals                                 # (only reached with x batched here)
        out = prim.bind(x, **params)
        if prim is all_gather_p:
            out = transpose(out, [1, 0, *range(2, out.ndim)])     # keep our axis first
        return out, True
    if prim is axis_index_p:
        return np.arange(n), True
    (x,) = vals
    if not batched[0]:
        x = with_batch_axis(x, n)
    if prim is all_gather_p:
        return with_batch_axis(x, n), True
    red = reduce_sum(x, (0,)) if prim is psum_p else reduce_max_p.bind(x, axes=(0,))
    return broadcast_in_dim_p.bind(red, shape=x.shape,
                                   broadcast_dimensions=tuple(range(1, x.ndim))), True


for _p in (psum_p, pmax_p, all_gather_p, axis_index_p):
    COLLECTIVE_RULES[_p] = batch_collective


# The user-facing functions ------------------------------------------------------------------

def psum(x, axis_name):
    """The sum of x over the examples of the vmap axis `axis_name` (every example gets it).

    Example:
      >>> vmap(lambda v: v / psum(v, "i"), axis_name="i")(np.array([1.0, 3.0]))
      array([0.25, 0.75])
    """
    asarray = front_end().asarray
    return psum_p.bind(asarray(x), axis_name=axis_name)


def pmean(x, axis_name):
    """The mean of x over the examples of the vmap axis `axis_name`."""
    divide = front_end().divide
    return divide(psum(x, axis_name), psum(np.ones((), np.asarray(1.0).dtype), axis_name))


def pmax(x, axis_name):
    """The maximum of x over the examples of the vmap axis `axis_name`."""
    asarray = front_end().asarray
    return pmax_p.bind(asarray(x), axis_name=axis_name)


def all_gather(x, axis_name):
    """Every example's x, stacked along a new leading axis (the same for every example)."""
    asarray = front_end().asarray
    return all_gather_p.bind(asarray(x), axis_name=axis_name, size=axis_size(axis_name))


def axis_index(axis_name):
    """This example's position along the vmap axis `axis_name`."""
    return axis_index_p.bind(axis_name=axis_name)

