"""NumPy's aliasing on traced values: copies are independent, views write through to their base.

A traced value is a Python object whose state (its trace's slots) can be replaced: that is how
`x[i] = v`, `x += y` and `out=` update it (`rebind`). NumPy code also relies on *which* objects
share memory: `v = x[:2]; v[0] = 1` changes x, `y = x.copy(); y[0] = 1` does not, and
`x.T[0] = 1` writes a column of x. frechet follows NumPy exactly, by asking NumPy itself.

Each traced array that has views taken of it (a *root*) gets a stand-in: an int8 ndarray of its
shape (one byte an element, never read). A NumPy function that may return a view is run on the
stand-in too; where NumPy's result shares the stand-in's memory, the traced result is a view,
and the stand-in view's offset and strides say which elements of the root it is. Chains of
views collapse onto the root, as NumPy's `.base` does. A write into a view rebinds the view and
writes its new value into the root (a scatter, or the setitem that made the view); a write into
a root refreshes every live view of it (a gather). Views NumPy makes read-only (broadcast_to,
diagonal) refuse writes with NumPy's error; views that frechet cannot model (.real and .imag of
a complex array) refuse them with frechet's.
"""

from __future__ import annotations

import sys
import weakref

import numpy as np
from frechet._src.core.trace import Tracer
from frechet._src.errors import TracerConversionError
from frechet._src.interpreters.arrays import ArrayTracer
from frechet._src.interpreters.scalars import ScalarTracer
from frechet._src.numpy import manipulation as M
from frechet._src.numpy.base import holds_tracer

_MIXED = ("write `x = ...` with the new value instead of updating x in place: an in-place update "
          "would mix values of different transformations")


def _assign(target, value):
    if not isinstance(value, Tracer):   # a constant (a constant's view or update is plain)
        value = target._trace.lift(value)
    _own(target)
    if type(target) is not ScalarTracer:
        value = _plain(value)
    if type(value) is not type(target):     # the fields would not correspond
        raise TracerConversionError(_MIXED)
    target._set_state(value._state())


def clone(t, scalar=False):
    """A new traced object with t's value and no aliasing (NumPy's copy; with `scalar`, what a
    ufunc returns, which for a 0-d array is a scalar)."""
    new = object.__new__(type(t))
    _assign(new, t)
    if not scalar and not t.shape and is_array0d(t):    # a 0-d array's copy is a 0-d array
        new._view = _Root((), array0d=True)
    return new


class _Root:
    """What a root knows of its views: its stand-in and weak references to the live views;
    for a 0-d value, whether it is a 0-d array (mutable) rather than a NumPy scalar."""

    __slots__ = ("array0d", "layout", "views")

    def __init__(self, shape, array0d=False, layout=None):
        self.layout = np.empty(shape, np.int8) if layout is None else layout
        self.views = []
        self.array0d = array0d


def copy_layout(out, source, order="K"):
    """out, a new copy of source, laid out as NumPy lays out that copy: order 'K' (np.array,
    np.copy, astype) keeps a Fortran-ordered source Fortran-ordered, which decides whether a
    later reshape of the copy is a view."""
    if order not in ("K", "A", "F") or not isinstance(out, Tracer) or \
            _aliasing(out) is not None or _aliasing(source) is None or out.shape != source.shape:
        return out
    src = layout(source)
    copied = np.array(src, order=order)
    if not copied.flags.c_contiguous:
        out._view = _Root(out.shape, layout=copied)
    return out


def is_array0d(t) -> bool:
    """Whether the 0-d traced value t is a 0-d array (np.array(s), x[3, ...], np.zeros(()),
    their copies), which in-place operators update, rather than a scalar, which they rebind."""
    a = _aliasing(t)
    return isinstance(a, _View) or (isinstance(a, _Root) and a.array0d)


def _mutable(t):
    """t as a value that in-place updates can rebind: a float scalar of linearization's tape
    (immutable, as NumPy's scalars are) becomes an ordinary traced value (a 0-d array). (An
    array of its array tape is one already: a write makes it ordinary in place, `_own`.)"""
    return t.widened() if type(t) is ScalarTracer else t


def _plain(t):
    """t's value as an ordinary traced value, whose fields a written tracer can take."""
    return t.widened() if type(t) is ScalarTracer or type(t) is ArrayTracer else t


def _own(target):
    """target, about to be written, as an ordinary traced value (in place: same object)."""
    if type(target) is ArrayTracer:
        target.unshare()


def mark_array0d(t):
    """t, a new 0-d value, marked as a 0-d array."""
    t = _mutable(t)
    a = _aliasing(t)
    if isinstance(a, _Root):
        a.array0d = True
    elif a is None:
        t._view = _Root((), array0d=True)
    return t


def as_array0d(t):
    """t as a 0-d array: itself if it is one, else a new one holding its value."""
    if is_array0d(t):
        return t
    return mark_array0d(clone(t))


def write_constant(t, idx, value) -> bool:
    """t[idx] = value done in place, where t is a constant whose array nothing else references
    and value is plain: NumPy's own write, without copying the array (filling an array in a
    loop costs what NumPy's loop costs). Anything that used the array (a product holding it as
    a derivative factor, a compiled program's constant, a NumPy view, a copy of t sharing it,
    the caller's own name for it) holds a reference, and then the write makes a new array as
    every other write does."""
    if isinstance(_aliasing(t), _View) or holds_tracer(value):
        return False
    c = getattr(t, "primal", None)
    if type(c) is not np.ndarray or t.constant() is not c or c.base is not None \
            or not c.flags.writeable or _REFCOUNT is None:
        return False
    # the references: t's slot, `c` here, and getrefcount's argument (CPython)
    if _REFCOUNT(c) != 3:
        return False
    c[idx] = value
    _refresh(t, None)
    return True


_REFCOUNT = getattr(sys, "getrefcount", None)


class _View:
    """A view of `root`: its stand-in (None where `index` is given), the flat indices of root it
    covers (computed when first needed), whether it may be written (else the error's text), and
    for views made by one basic index of the root, that index (cheaper than a gather)."""

    __slots__ = ("basic", "index", "layout", "readonly", "root")

    def __init__(self, root, layout, readonly=None, basic=None, index=None):
        self.root, self.layout, self.readonly = root, layout, readonly
        self.basic, self.index = basic, index

    def flat_index(self):
        if self.index is None:
            base = self.root._view.layout
            offset = self.layout.__array_interface__["data"][0] - \
                base.__array_interface__["data"][0]
            every = np.arange(base.size, dtype=np.intp)
            self.index = np.lib.stride_tricks.as_strided(
                every[offset:], self.layout.shape,
                tuple(s * every.itemsize for s in self.layout.strides)).copy()
        return self.index


def _aliasing(t):
    return getattr(t, "_view", None)


def _root(t):
    """The array t is a view of, or t itself."""
    a = _aliasing(t)
    return a.root if isinstance(a, _View) else t


def layout(t) -> np.ndarray:
    """t's stand-in: its root's (made on first use) or, for a view, its own."""
    a = _aliasing(t)
    if a is None:
        a = t._view = _Root(t.shape)
    return a.layout if a.layout is not None else np.empty(t.shape, np.int8)


def _writeable(a) -> bool:
    # np.broadcast_arrays' results are writeable with a FutureWarning: frechet takes them as
    # read-only (they will be), like broadcast_to's
    if any(st == 0 and n > 1 for st, n in zip(a.strides, a.shape)):
        return False
    return a.flags.writeable


def track(result, source, stand_in, basic=None):
    """Make `result` (a new traced value computed from `source`) a view of source's root where
    `stand_in` (NumPy's result on source's stand-in) shares the root's stand-in memory."""
    a = _aliasing(source)
    root = _root(source)
    if not isinstance(stand_in, np.ndarray) or stand_in.size == 0 or \
            not np.may_share_memory(stand_in, root._view.layout):
        return clone(result) if result is source else result      # NumPy made a copy
    if not isinstance(result, Tracer):
        # a constant of source's transformation (one it lifted, with nothing traced in it yet)
        # gives plain results; its view must still be its trace's, to write through
        result = source._trace.lift(result)
    if result is source:                 # NumPy made a new view object of the same elements
        result = clone(result)
    result = _mutable(result)
    direct = basic is not None and a is root._view
    readonly = None if _writeable(stand_in) else "assignment destination is read-only"
    if isinstance(a, _View) and a.readonly:
        readonly = a.readonly
    result._view = _View(root, stand_in, readonly, basic if direct else None)
    root._view.views.append(weakref.ref(result))
    return result


def track_index(result, source, index, readonly=None):
    """Make `result` a view of the elements of source given by `index` (flat indices into
    source, shaped like result): `.flat`, whose writes reach its array whatever its layout."""
    if not isinstance(result, Tracer):  # a constant's: still a value of its transformation
        result = source._trace.lift(result)
    result = _mutable(result)
    a = _aliasing(source)
    if isinstance(a, _View):
        root, index = a.root, a.flat_index().reshape(-1)[index]
        readonly = readonly or a.readonly
    else:
        root = source
        layout(source)
    result._view = _View(root, None, readonly, index=np.asarray(index, np.intp))
    root._view.views.append(weakref.ref(result))
    return result


def readonly_view(result, source, message):
    """`result` reads like a view of source but cannot be written (a view frechet cannot model:
    writes raise `message`)."""
    return track_index(clone(result) if result is source else result, source,
                       np.arange(source.size).reshape(source.shape), message) \
        if source.size else result


def check_overlap(dst, idx, src):
    """Raise where `dst[idx] = src` copies between overlapping views of one array with
    different strides: NumPy then copies element by element in an order of its choosing (its
    1-d raw copy, without a temporary), which frechet does not reproduce."""
    if not isinstance(src, Tracer) or not isinstance(dst, Tracer):
        return
    root = _root(dst)
    if _root(src) is not root or _aliasing(root) is None:
        return
    d = layout(dst) if idx is None else layout(dst)[idx]
    s_ = layout(src)
    if not isinstance(d, np.ndarray) or d.ndim != 1 or s_.ndim < 1 or d.size < 2:
        return                          # several dimensions: NumPy copies the source first
    if d.strides[0] * s_.strides[-1] < 0 or d.strides[0] == s_.strides[-1] or \
            not np.shares_memory(d, s_):
        return                          # a temporary copy, or memmove: a copy's semantics
    raise NotImplementedError(
        "copy the source first (x[a] = x[b].copy()): this assignment between overlapping "
        "views of one traced array with different strides would follow NumPy's element-by-"
        "element copy order, which frechet does not reproduce")


def _gather(root, view):
    if view.basic is not None:
        return M.getitem(root, view.basic)
    idx = view.flat_index()
    return M.reshape(M.getitem(M.ravel(root), (idx.reshape(-1),)), idx.shape)


def _scatter(root, view, value):
    if view.basic is not None:
        return M.setitem(root, view.basic, value)
    idx = view.flat_index()
    flat = M.setitem(M.ravel(root), (idx.reshape(-1),), M.ravel(value))
    return M.reshape(flat, root.shape)


def _refresh(root, skip):
    """Every live view of root (but `skip`) takes its elements' new values."""
    a = _aliasing(root)
    if a is None or isinstance(a, _View):
        return
    live = []
    for ref in a.views:
        v = ref()
        if v is None:
            continue
        live.append(ref)
        if v is not skip:
            _assign(v, _gather(root, v._view))
    a.views = live


def rebind(target, value):
    """Make the traced value `target` stand for `value` (NumPy's in-place updates, `x[i] = v`
    and `out=`), and write it through to every array that shares its memory."""
    if not isinstance(value, Tracer):
        value = target._trace.lift(value)          # a constant, as a value of target's trace
    value = _plain(value)
    _own(target)
    if type(value) is not type(target) or value._trace is not target._trace:
        raise TracerConversionError(_MIXED)
    a = _aliasing(target)
    if isinstance(a, _View):
        if a.readonly:
            raise ValueError(a.readonly)
        root = a.root
        new_root = _scatter(root, a, value)
        _assign(target, value)
        _assign(root, new_root)
        _refresh(root, target)
    else:
        _assign(target, value)
        _refresh(target, None)
    return target
