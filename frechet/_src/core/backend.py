"""Array back ends: a primitive runs on the library its inputs come from.

NumPy is the default and its path is one type test per argument: `NATIVE` holds the types of
NumPy arrays, NumPy scalars and Python numbers, and only an argument outside it reaches
`call`. Other arrays (PyTorch tensors, CuPy arrays, Dask arrays: whatever
`array_api_compat.array_namespace` recognises) run the library's own function where the
primitive's back-end table names one (`defbackend`: special functions, linalg beyond the
standard), else the function its `array_api` rule makes from that namespace (`rule(xp) -> fn`,
written with standard functions). A primitive with neither raises BackendError naming the
primitive and the back end. Nothing is
ever computed by NumPy on a silent host copy (a torch tensor implements `__array__`, so a NumPy
function would accept one and return a NumPy array).

Dask arrays are not dispatched here: they compute through the primitives' NumPy
implementations, which return Dask arrays for them (NEP 13 and 18), with core/chunked.py
keeping constants lazy and chunked like the data.

Mixed inputs follow one documented rule (`promote`): NumPy arrays and Python numbers that meet
an array of another library in one primitive are constants of that library: they are copied
into its namespace, on the device of the first such array, with their NumPy dtype. Arrays of
two different non-NumPy libraries in one primitive raise BackendError.
"""

from __future__ import annotations

import importlib

import numpy as np

from frechet._src.core.spec import numpy_dtype
from frechet._src.errors import BackendError

# The types whose values NumPy computes on: the fast path of every primitive call.
NATIVE = frozenset({np.ndarray, float, int, bool, complex,
                    *(t for t in set(np.sctypeDict.values()) if issubclass(t, np.generic))})


_NAMESPACES: dict = {}      # type -> its array namespace, None (NumPy's, or not an array),
#                             or VIA_NUMPY
VIA_NUMPY = object()        # arrays that compute through NumPy's own functions (Dask's)


def _namespace_of_type(x):
    t = type(x)
    try:
        return _NAMESPACES[t]
    except KeyError:
        pass
    try:
        import array_api_compat  # lazy: a dependency only non-NumPy arrays need loaded
        xp = array_api_compat.array_namespace(x)
        # NumPy's own arrays and frechet's tracers are not another library's; Dask arrays
        # compute through the primitives' NumPy implementations (NEP 13 and 18) and
        # core/chunked.py, lazily and in their chunks
        if array_api_compat.is_numpy_namespace(xp) or isinstance(x, (np.ndarray, np.generic)) \
                or xp.__name__.startswith("frechet"):
            xp = None
        elif array_api_compat.is_dask_namespace(xp):
            xp = VIA_NUMPY
    except TypeError:        # not an array (a list, None, a Held parameter)
        xp = None
    _NAMESPACES[t] = xp
    return xp


def namespace(args):
    """The array namespace of `args`' non-NumPy arrays; None when all are NumPy's (or
    numbers). Raises BackendError for arrays of two libraries."""
    xp = first = None
    for a in args:
        if type(a) in NATIVE:
            continue
        ns = _namespace_of_type(a)
        if ns is None:
            continue
        if xp is None:
            xp, first = ns, a
        elif ns is not xp:
            raise BackendError(
                f"arrays of two libraries in one operation: {type(first).__name__} and "
                f"{type(a).__name__}; convert one of them explicitly")
    return None if xp is VIA_NUMPY else xp


def name_of(xp) -> str:
    """The back end's name as tables key it: 'torch', 'cupy', 'dask', 'array_api_strict'."""
    parts = xp.__name__.split(".")
    return parts[1] if parts[0] == "array_api_compat" else parts[0]


# Primitive -> {back-end name: "module.function"}: the library's own function where the
# standard has none. Named as text so that a library is imported only when its arrays arrive.
_TABLE: dict = {}
_RESOLVED: dict = {}        # (primitive, namespace) -> the callable


def defbackend(prim, **functions) -> None:
    """Name each back end's function for `prim` (`defbackend(erf_p, torch="torch.special.erf",
    cupy="cupyx.scipy.special.erf")`, or the function itself where its signature needs an
    adapter), called as fn(*args, **params). It takes precedence over the primitive's
    array-API rule. A named module is imported only when that back end's arrays arrive."""
    for backend, path in functions.items():
        if not callable(path) and (not isinstance(path, str) or "." not in path):
            raise ValueError(f"name {backend}'s function for {prim.name} as 'module.function' "
                             f"(or pass the function), got {path!r}")
    _TABLE.setdefault(prim, {}).update(functions)
    for key in [k for k in _RESOLVED if k[0] is prim]:     # resolved before: look again
        del _RESOLVED[key]


def implementation(prim, xp):
    """prim's function on arrays of namespace xp: fn(*args, **params)."""
    key = (prim, xp)
    fn = _RESOLVED.get(key)
    if fn is not None:
        return fn
    backend = name_of(xp)
    path = _TABLE.get(prim, {}).get(backend)
    if callable(path):
        fn = path
    elif path is not None:
        module, _, attr = path.rpartition(".")
        fn = getattr(importlib.import_module(module), attr)
    elif prim.array_api is not None:
        try:
            fn = prim.array_api(xp)
        except AttributeError:      # a standard function this namespace lacks
            fn = None
    if fn is None:
        raise BackendError(
            f"primitive '{prim.name}' has no implementation for the {backend} back end: "
            f"compute it with NumPy arrays, or register one with "
            f"frechet.extend.defbackend({prim.name}_p, {backend}='module.function')")
    _RESOLVED[key] = fn
    return fn


def promote(args, xp):
    """args with NumPy arrays and Python numbers made constants of namespace xp, on the device
    of the first of args that is xp's (see the module docstring); xp's arrays unchanged."""
    for a in args:
        if type(a) in NATIVE or isinstance(a, (np.ndarray, np.generic)):
            break
    else:
        return args                 # all of xp's already (the common case): no device to find
    like = next(a for a in args if type(a) not in NATIVE and _namespace_of_type(a) is xp)
    device = device_of(like)
    out = []
    for a in args:
        if type(a) in NATIVE or isinstance(a, (np.ndarray, np.generic)):
            # a private, writeable, C-ordered copy: libraries refuse read-only or negatively
            # strided NumPy memory, and may go on sharing the memory of the copy they get
            a = xp.asarray(np.array(a, order="C"), device=device)
        out.append(a)
    return out


_DEVICE_ATTRIBUTE: dict = {}    # type -> whether its arrays' .device is the standard's device


def device_of(x):
    """The device of another library's array."""
    t = type(x)
    fast = _DEVICE_ATTRIBUTE.get(t)
    if fast is None:
        xp = _namespace_of_type(x)
        fast = _DEVICE_ATTRIBUTE[t] = xp not in (None, VIA_NUMPY) and name_of(xp) in (
            "torch", "cupy")
    if fast:                # torch tensors and CuPy arrays carry it (array_api_compat.device
        return x.device     # reads the same attribute, after a dozen library tests)
    import array_api_compat  # lazy: see _namespace_of_type
    return array_api_compat.device(x)


def call(prim, args, params):
    """prim on concrete arrays at least one of which is not NumPy's (the slow path of
    `run`): the back end's function, with mixed inputs promoted."""
    xp = namespace(args)
    if xp is None:
        return prim.impl(*args, **params)
    fn = implementation(prim, xp)
    return fn(*promote(args, xp), **params)


def run(prim, args, params):
    """prim's implementation on concrete arguments, in the library they come from."""
    for a in args:
        if type(a) not in NATIVE:
            return call(prim, args, params)
    return prim.impl(*args, **params)


def full_like(x, value):
    """An array of x's shape, dtype and device (x of another library), filled with value."""
    xp = _namespace_of_type(x)
    if isinstance(value, np.ndarray):       # an array broadcast to x's shape
        value = np.broadcast_to(value.astype(dtype_of(x)), tuple(x.shape))
        return xp.asarray(np.array(value, order="C"), device=device_of(x))
    return xp.full(tuple(x.shape), value, dtype=x.dtype, device=device_of(x))


def neutral(prim, like: bool = False) -> None:
    """Declare that prim's impl runs on any library: it computes by binding primitives (it
    evaluates programs: branches, loop bodies, recomputed blocks), which dispatch themselves.

    With `like`, the impl takes a keyword `like`: None on NumPy arrays (its NumPy path, as
    before), else one of its arguments of the other library, for the arrays it makes itself
    (a loop's stacked outputs, a tape's buffers) and the programs it compiles (ir/codegen.py's
    `emit(like=...)`)."""
    if not like:
        prim.array_api = lambda xp: prim.impl
        return
    impl = prim.impl

    def on(xp):
        def fn(*args, **params):
            return impl(*args, like=next(a for a in args if _is_of(a, xp)), **params)
        return fn
    prim.array_api = on


def _is_of(x, xp) -> bool:
    return type(x) not in NATIVE and _namespace_of_type(x) is xp


def to_library(x, like):
    """x (a NumPy array or a number) copied explicitly into the library of `like` (another
    library's array), on its device, with x's NumPy dtype."""
    return promote([like, x], _namespace_of_type(like))[1]


def like_namespace(like):
    """(namespace, device) of `like`, an array of another library: where to make arrays."""
    return _namespace_of_type(like), device_of(like)


# How each library copies an array to the host (others: DLPack, on the CPU).
_TO_HOST = {"torch": lambda x: x.detach().cpu().resolve_conj().resolve_neg().numpy(),
            "cupy": lambda x: x.get()}


def to_host(x) -> np.ndarray:
    """x as a NumPy array, copied explicitly: for values Python reads (a mask that sets a
    shape, a branch, histogram bins), never for computing. Another library's array is copied
    by that library (to the CPU), not through __array__."""
    xp = None if type(x) in NATIVE else _namespace_of_type(x)
    if xp is None or xp is VIA_NUMPY:
        return np.asarray(x)
    return _TO_HOST.get(name_of(xp), np.from_dlpack)(x)


def is_foreign(x) -> bool:
    """Whether x is an array of a library other than NumPy."""
    return type(x) not in NATIVE and _namespace_of_type(x) not in (None, VIA_NUMPY)


def dtype_of(x) -> np.dtype:
    """x's dtype as a NumPy dtype (a torch tensor's torch.float32 is float32)."""
    dt = x.dtype
    return dt if isinstance(dt, np.dtype) else numpy_dtype(dt)


def namespace_dtype(xp, dtype):
    """The namespace's dtype for a NumPy dtype (xp.float64 for float64)."""
    try:
        return getattr(xp, np.dtype(dtype).name)
    except AttributeError:
        raise BackendError(f"the {name_of(xp)} back end has no dtype "
                           f"{np.dtype(dtype).name}") from None
