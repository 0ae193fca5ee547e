"""NumPy code run eagerly on another library's arrays: `call_on_library(fn, *args)`.

NumPy's functions dispatch on frechet's tracers (NEP 13 and 18), never on a torch tensor or a
CuPy array: `np.cos(tensor)` converts the tensor to NumPy (a silent host copy, or an error
for a GPU tensor). Code that must run concretely, outside any transformation, on such arrays
(the user's solver under frechet.implicit: it runs inside a primitive's impl and is never
differentiated) runs here instead: each array of another library becomes a `LibraryTracer`
of a `LibraryTrace`, which computes every primitive at once on the library's arrays
(core/backend.py) and hands back tracers again, so that the NumPy calls that follow keep
dispatching. A tracer's value can be read (`float(x)`, `if x < tol`), as a NumPy value can.
The outputs come back as the library's arrays.
"""

from __future__ import annotations

from frechet._src import tree
from frechet._src.core import backend
from frechet._src.core import trace as _trace
from frechet._src.core.trace import Trace, Tracer


class LibraryTracer(Tracer):
    """Another library's concrete array, seen by NumPy code as a frechet value."""

    __slots__ = ("dtype", "shape", "value")

    def __init__(self, trace, value):
        self._trace = trace
        self.value = value
        self.shape, self.dtype = tuple(value.shape), backend.dtype_of(value)

    def concrete(self):
        return self.value

    def constant(self):
        return self.value


class LibraryTrace(Trace):
    """Computes each primitive on the library's arrays now (its parent's evaluation)."""

    __slots__ = ()

    def __init__(self, parent):
        self.parent = parent

    def lift(self, value):
        return LibraryTracer(self, value)

    def _wrap(self, x):
        return LibraryTracer(self, x) if backend.is_foreign(x) else x

    def process(self, prim, args, params):
        values = [a.value if type(a) is LibraryTracer and a._trace is self else a for a in args]
        out = self.parent.process(prim, values, params)
        return [self._wrap(o) for o in out] if prim.multiple_results else self._wrap(out)


def call_on_library(fn, *args, **kwargs):
    """fn(*args, **kwargs) with the NumPy functions it calls on other libraries' arrays (in
    args and kwargs, pytrees included) computed by those libraries; returns fn's output with
    such arrays as the library's arrays again. With no such array among the arguments, a
    plain call."""
    leaves, treedef = tree.flatten((args, kwargs))
    if not any(backend.is_foreign(x) for x in leaves):
        return fn(*args, **kwargs)
    lt = LibraryTrace(_trace.current())
    with _trace.transforming(lt):
        args, kwargs = tree.unflatten(treedef, [lt._wrap(x) for x in leaves])
        out = fn(*args, **kwargs)
    return tree.tree_map(
        lambda x: x.value if type(x) is LibraryTracer and x._trace is lt else x, out)
