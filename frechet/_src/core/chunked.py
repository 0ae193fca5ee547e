"""Dask arrays: lazy, chunked values that frechet computes with as they are.

A Dask array enters a transformation as data (closed over, or an argument; the gradient with
respect to one is a Dask array chunked like it): the primitives' NumPy implementations return
Dask arrays for it (NEP 13 and 18), so the value and the derivative are lazy Dask graphs that
Dask's scheduler computes when the caller asks. jit refuses them (it compiles for NumPy). Three things would defeat that, and this module is how frechet avoids them:

- converting a Dask array with np.asarray computes all of it into memory: frechet keeps Dask
  arrays as they are and never converts one silently;
- a large NumPy constant that meets a Dask array (a Python scalar broadcast to its shape, a
  derivative rule's constant, select's zeros) would be hashed and embedded in the graph whole
  (and pickled whole to a cluster), or allocated whole: such constants are lazy Dask arrays
  chunked like the Dask array they meet (`broadcast_like`, `full_like`, `zeros_like`);
- the backward pass broadcasts a reduction's cotangent to the data's shape: it starts from a
  Dask cotangent where the output is a Dask array (`ones_like`), so that those broadcasts are
  lazy, and they take the chunks of the residuals of that shape (`layouts`, `broadcast`), so
  that each chunk of the cotangent meets one chunk of the data and memory stays a few chunks.

Dask is never imported here: a value can only be a Dask array where the caller imported it.
"""

from __future__ import annotations

import contextlib
import contextvars
import sys

import numpy as np

from frechet._src.core.trace import Tracer


def _dask_array():
    return sys.modules.get("dask.array")


def is_chunked(x) -> bool:
    """Whether x is a Dask array."""
    mod = _dask_array()
    return mod is not None and isinstance(x, mod.Array)


def is_chunked_type(t) -> bool:
    """Whether t is Dask's array type (or a subclass)."""
    mod = _dask_array()
    return mod is not None and issubclass(t, mod.Array)


def chunked_value(x):
    """The Dask array x is, or that a derivative's tracer carries as its primal value, else
    None. Only primals are read: `concrete()` would make jit guard on the value."""
    while isinstance(x, Tracer):
        x = getattr(x, "primal", None)
    return x if is_chunked(x) else None


def first_chunked(xs):
    """The first Dask array among xs (or behind a tracer among them), else None."""
    if _dask_array() is None:
        return None
    for x in xs:
        v = chunked_value(x)
        if v is not None:
            return v
    return None


def refuse_conversion(x, what: str) -> None:
    """Raise if x is a Dask array: `what` would compute all of it into memory."""
    if is_chunked(x):
        raise TypeError(
            f"{what} would compute the whole Dask array of shape {x.shape} into memory; "
            "frechet keeps Dask arrays lazy (the operation is not supported on Dask data). "
            "Call .compute() on it yourself if it fits in memory")


def broadcast_like(x, shape, like):
    """The NumPy value x broadcast to `shape` as a lazy Dask array whose chunks follow `like`
    along the axes it shares with the result (trailing alignment, as broadcasting aligns)."""
    lead = len(shape) - like.ndim
    chunks = tuple(like.chunks[i - lead] if i >= lead and like.shape[i - lead] == n else (n,)
                   for i, n in enumerate(shape))
    return _dask_array().broadcast_to(np.asarray(x), shape, chunks=chunks)


def full_like(x, value):
    """value broadcast to x's shape and dtype as a lazy Dask array chunked like x."""
    return broadcast_like(np.asarray(value, x.dtype), x.shape, x)


def zeros_like(x):
    """Zeros of x's shape and dtype: np.zeros, or lazy and chunked like x for a Dask array
    (whose np.zeros would be allocated whole)."""
    return np.zeros_like(x) if is_chunked(x) else np.zeros(x.shape, x.dtype)


def ones_like(x, dtype):
    """A 0-d one of `dtype`: a Dask array where x is one (the seed of a backward pass)."""
    return _dask_array().ones((), dtype) if is_chunked(x) else np.ones((), dtype)


# The chunks of the Dask arrays (by shape) that the backward pass in progress computes with
_LAYOUTS = contextvars.ContextVar("frechet_chunk_layouts", default=None)
_NONE = contextlib.nullcontext()


def layouts(values):
    """A context in which `broadcast` to the shape of a Dask array among `values` (a linear
    program's residuals) takes that array's chunks."""
    found = {x.shape: x.chunks for x in values if is_chunked(x)} if _dask_array() else None
    return _use_layouts(found) if found else _NONE


@contextlib.contextmanager
def _use_layouts(found):
    token = _LAYOUTS.set(found)
    try:
        yield
    finally:
        _LAYOUTS.reset(token)


def broadcast(x, shape):
    """np.broadcast_to for a Dask array x, chunked like the data (see `layouts`), else with
    Dask's automatic chunks (`array.chunk-size`) on the new axes: never one chunk of a whole
    axis, which the first operation on it would compute whole. The backward pass broadcasts a
    reduction's cotangent to the data's shape; in the data's chunks, each chunk of the result
    meets one chunk of the data, and none waits for others."""
    chunks = (_LAYOUTS.get() or {}).get(tuple(shape))
    mod = _dask_array()
    if chunks is None:
        spec = tuple(c if n == m else "auto" for c, m, n in zip(x.chunks, x.shape, shape))
        chunks = mod.core.normalize_chunks(spec, shape, dtype=x.dtype)
    return mod.broadcast_to(x, shape, chunks=chunks)
