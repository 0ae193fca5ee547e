"""The public transformations over pytrees: jvp, linearize, vjp, grad, value_and_grad,
jacfwd, jacrev, jacobian, hessian, hvp, linear_transpose, make_program, stop_gradient."""

from __future__ import annotations

import functools

import numpy as np

from frechet._src import tree
from frechet._src.api.linear_map import (
    LinearMap,
    apply_basis,
    basis,
    check_flat,
    check_leaves,
)
from frechet._src.core import chunked
from frechet._src.core.backend import dtype_of, is_foreign, namespace, promote
from frechet._src.core.spec import is_complex, is_inexact, spec_of
from frechet._src.core.trace import Tracer
from frechet._src.errors import NonDifferentiableError
from frechet._src.interpreters.ad import JVPTracer, jvp_flat, linearize_flat, pullback
from frechet._src.interpreters.batching import batch_flat
from frechet._src.interpreters.staging import StagedTracer, stage
from frechet._src.ir.program import zeros
from frechet._src.lax.ownership import owned, private_residuals, roots
from frechet._src.numpy.manipulation import moveaxis, reshape
from frechet._src.prims.shape import stop_gradient_p


def _leaf(x):
    """A pytree leaf as an array: tracers, ndarrays and float64 scalars as they are (a NumPy
    scalar computes as one: its powers are C's pow, not an array's), Python floats as float64
    scalars, anything else converted."""
    if isinstance(x, (Tracer, np.ndarray)) or type(x) is np.float64 or chunked.is_chunked(x):
        return x
    if type(x) is float:
        return np.float64(x)
    if is_foreign(x):           # another library's array computes in its library
        return x
    a = np.asarray(x)
    if a.dtype == object:
        kind = type(x).__name__
        fix = (f"frechet.register_dataclass({kind})" if hasattr(x, "__dataclass_fields__")
               else "optree.register_pytree_node")
        raise TypeError(f"register {kind} as a pytree with {fix}, or pass arrays: a value of "
                        f"type {kind} is neither an array nor a registered pytree container")
    return a


def _like(values, primals):
    """Each value in its primal's library: a cotangent no output reached is NumPy's zeros
    (specs name no library), which another library's input gets as its own zeros."""
    if all(type(x) is np.ndarray or not is_foreign(x) for x in primals):
        return values
    return [v if not is_foreign(x) or is_foreign(v) else promote([x, v], namespace([x]))[1]
            for v, x in zip(values, primals)]


def _flatten_args(args, what):
    leaves, treedef = tree.flatten(args)
    return [_leaf(x) for x in leaves], treedef


def _flat_fun(fun, in_tree, out_store):
    def f(*leaves):
        out = fun(*tree.unflatten(in_tree, list(leaves)))
        ol, ot = tree.flatten(out)
        out_store.append(ot)
        return [_leaf(o) for o in ol]
    return f


def _check_inexact(leaves, what):
    for x in leaves:
        if not is_inexact(x.dtype):
            raise NonDifferentiableError(
                f"{what} requires real or complex floating-point inputs, got {x.dtype}; convert "
                "the argument with .astype(float), or exclude it with argnums")


def jvp(fun, primals, tangents):
    """Forward mode: (fun(*primals), J @ tangents).

    Example:
      >>> jvp(np.sin, (0.0,), (1.0,))
      (0.0, 1.0)
    """
    if not isinstance(primals, (tuple, list)) or not isinstance(tangents, (tuple, list)):
        raise TypeError("jvp takes the primals and the tangents as tuples (one entry per "
                        "argument of fun): jvp(f, (x,), (v,)), not jvp(f, x, v)")
    p, pt = _flatten_args(tuple(primals), "jvp")
    t, tt = _flatten_args(tuple(tangents), "jvp")
    if pt != tt:
        raise ValueError(f"primals and tangents must have the same structure: {pt} vs {tt}")
    _check_inexact(p, "jvp")
    t = check_leaves(t, [spec_of(x) for x in p], "jvp (a tangent for each primal)")
    store = []
    outs, touts = jvp_flat(_flat_fun(fun, pt, store), p, t)
    touts = owned([zeros(spec_of(o)) if tt_ is None else tt_ for o, tt_ in zip(outs, touts)],
                  t)
    return tree.unflatten(store[0], outs), tree.unflatten(store[0], touts)


def linearize(fun, *primals):
    """(fun(*primals), L) where L is the derivative at primals, a LinearMap.

    Example:
      >>> y, L = linearize(np.sin, 0.0)
      >>> L(1.0)
      1.0
    """
    p, pt = _flatten_args(primals, "linearize")
    _check_inexact(p, "linearize")
    store = []
    outs, program = linearize_flat(_flat_fun(fun, pt, store), p)
    program = private_residuals(program)
    in_tree = pt if len(primals) != 1 else tree.flatten(primals[0])[1]
    return tree.unflatten(store[0], outs), LinearMap(program, in_tree, store[0])


def _split_aux(fun, has_aux, aux_store):
    if not has_aux:
        return fun

    def f(*args):
        out = fun(*args)
        if not (isinstance(out, (tuple, list)) and len(out) == 2):
            raise TypeError("a function with has_aux=True must return a pair (output, aux)")
        aux_store.append(out[1])
        return out[0]
    return f


def vjp(fun, *primals, has_aux=False):
    """(fun(*primals), vjp_fn[, aux]) with vjp_fn(ct) the cotangents of the primals.

    vjp_fn keeps the residuals it needs as they were: arrays the caller can still reach (the
    primals, closed-over constants, the outputs) are copied, so later in-place changes to them
    do not reach the derivative."""
    aux = []
    p, pt = _flatten_args(primals, "vjp")
    _check_inexact(p, "vjp")
    store = []
    outs, program = linearize_flat(_flat_fun(_split_aux(fun, has_aux, aux), pt, store), p)
    program = private_residuals(program)
    out_tree = store[0]
    kept = roots(program.consts)

    def vjp_fn(ct):
        cts = check_flat(ct, out_tree, program.out_specs, "vjp's pullback (a cotangent "
                         "shaped like the output)")
        return tuple(tree.unflatten(pt, _like(owned(pullback(program, cts), cts, kept), p)))
    out = tree.unflatten(out_tree, outs)
    return (out, vjp_fn, _strip(aux[0])) if has_aux else (out, vjp_fn)


def _strip(aux):
    """Aux outputs leave the transformation as their primal values."""

    def f(x):
        while isinstance(x, JVPTracer):
            x = x.primal
        return x
    return tree.tree_map(f, aux)


def _is_index(n) -> bool:
    return isinstance(n, (int, np.integer)) and not isinstance(n, (bool, np.bool_))


def _argnums(argnums, nargs):
    """(positions, whether argnums was a sequence), checked: ints in range, none twice."""
    multiple = not _is_index(argnums)
    if multiple and not (isinstance(argnums, (tuple, list)) and argnums
                         and all(_is_index(n) for n in argnums)):
        raise TypeError(f"argnums must be an int or a non-empty tuple of ints, got {argnums!r}")
    nums = tuple(int(n) for n in argnums) if multiple else (int(argnums),)
    for n in nums:
        if not -nargs <= n < nargs:
            raise ValueError(f"argnums {argnums} out of range for {nargs} arguments")
    nums = tuple(n % nargs for n in nums)
    if len(set(nums)) != len(nums):
        raise ValueError(f"argnums {argnums} names an argument more than once; name each "
                         "argument once (its derivative is one value)")
    return nums, multiple


def _argnums_fun(fun, argnums, args):
    nums, multiple = _argnums(argnums, len(args))

    def f(*diff):
        full = list(args)
        for n, d in zip(nums, diff):
            full[n] = d
        return fun(*full)
    return f, tuple(args[n] for n in nums), multiple


def value_and_grad(fun, argnums=0, has_aux=False, holomorphic=False):
    """A function returning (fun(*args), gradient of fun w.r.t. args[argnums]).

    Example:
      >>> value_and_grad(lambda x: (x ** 2).sum())(np.array([1.0, 2.0]))
      (5.0, array([2., 4.]))
    """
    @functools.wraps(fun)
    def wrapped(*args, **kwargs):
        f, diff, multiple = _argnums_fun(functools.partial(fun, **kwargs) if kwargs else fun,
                                         argnums, args)
        p, pt = _flatten_args(diff, "grad")
        _check_inexact(p, "grad")
        if holomorphic:
            for x in p:
                if not is_complex(x.dtype):
                    raise NonDifferentiableError(
                        f"grad(holomorphic=True) requires complex inputs, got {x.dtype}")
        aux, store = [], []
        outs, program = linearize_flat(_flat_fun(_split_aux(f, has_aux, aux), pt, store), p)
        out = tree.unflatten(store[0], outs)
        if out is None:
            raise TypeError("grad requires a scalar output, and the function returned None "
                            "(is a `return` missing?)")
        if not hasattr(out, "shape") or tuple(out.shape) != ():
            raise TypeError(
                f"grad requires a scalar output, got shape {tuple(np.shape(out))}; use "
                "frechet.jacrev (or jacobian) for non-scalar outputs, or frechet.vjp to pull back "
                "a given cotangent")
        odt = dtype_of(out)
        if is_complex(odt) and not holomorphic:
            raise TypeError("grad requires a real-valued output (got a complex one); pass "
                            "holomorphic=True for holomorphic functions")
        if not is_inexact(odt):
            raise TypeError(f"grad requires a floating-point output, got {odt}")
        # used once: the backward pass frees residuals as it goes
        g = _like(owned(pullback(program, [chunked.ones_like(out, odt)], once=True), p), p)
        g = tree.unflatten(pt, [_scalar(x) for x in g])
        g = g if multiple else g[0]
        return ((out, _strip(aux[0])), g) if has_aux else (out, g)
    return wrapped


def grad(fun, argnums=0, has_aux=False, holomorphic=False):
    """The gradient of a scalar function w.r.t. args[argnums] (JAX's complex convention: for
    real outputs of complex inputs, the conjugate of the steepest-ascent direction).

    Example:
      >>> grad(lambda x: np.sin(x).sum())(np.zeros(3))
      array([1., 1., 1.])
    """
    vg = value_and_grad(fun, argnums, has_aux, holomorphic)

    @functools.wraps(fun)
    def wrapped(*args, **kwargs):
        (out, g) = vg(*args, **kwargs)
        return (g, out[1]) if has_aux else g
    return wrapped


def _jac_reshape(flat, out_specs, in_specs, out_tree, in_tree, rev):
    """flat: per output (batch over inputs) or per input (batch over outputs) -> a nested pytree
    of arrays of shape out_shape + in_shape."""
    blocks = []
    if rev:   # flat[i]: (m, *in_shape_i); rows index outputs
        m_off = 0
        for so in out_specs:
            row = []
            for si, f in zip(in_specs, flat):
                part = f[m_off:m_off + so.size]
                row.append(reshape(part, so.shape + si.shape))
            m_off += so.size
            blocks.append(row)
    else:     # flat[o]: (n, *out_shape_o); batch indexes inputs
        for so, f in zip(out_specs, flat):
            row, n_off = [], 0
            for si in in_specs:
                part = f[n_off:n_off + si.size]
                part = reshape(part, si.shape + so.shape)
                row.append(moveaxis(part, tuple(range(len(si.shape))),
                                    tuple(range(len(so.shape), len(so.shape) + len(si.shape))))
                           if si.shape and so.shape else part)
                n_off += si.size
            blocks.append(row)
    return tree.unflatten(out_tree, [tree.unflatten(in_tree, row) for row in blocks])


def _jacobian(fun, argnums, has_aux, holomorphic, mode):
    """The Jacobian by linearizing once; mode "fwd" pushes the input basis through the linear
    program, "rev" pulls the output basis back through its transpose, "auto" picks the smaller
    basis (known once linearized, so the function runs once)."""
    @functools.wraps(fun)
    def wrapped(*args, **kwargs):
        f, diff, multiple = _argnums_fun(functools.partial(fun, **kwargs), argnums, args)
        aux = []
        p, pt = _flatten_args(diff, "jacobian")
        _check_inexact(p, "jacobian")
        store = []
        _, program = linearize_flat(_flat_fun(_split_aux(f, has_aux, aux), pt, store), p)
        in_specs, out_specs = program.in_specs, program.out_specs
        rev = mode == "rev" or (mode == "auto" and sum(s.size for s in in_specs)
                                > sum(s.size for s in out_specs))
        if not holomorphic:
            bad = in_specs if not rev else out_specs
            if any(is_complex(s.dtype) for s in bad):
                raise TypeError(f"{'jacrev' if rev else 'jacfwd'} of a function with complex "
                                f"{'outputs' if rev else 'inputs'} requires holomorphic=True")
        if rev:
            n = sum(s.size for s in out_specs)
            flat = batch_flat(lambda *cts: pullback(program, list(cts)), basis(out_specs),
                              [True] * len(out_specs)) if n else \
                [np.zeros((0,) + s.shape, s.dtype) for s in in_specs]
        else:
            flat = apply_basis(program, in_specs)
        in_tree = pt if multiple else tree.flatten(diff[0])[1]
        flat = owned(flat, p)
        jac = _jac_reshape(flat, out_specs, in_specs, store[0], in_tree, rev)
        jac = tree.tree_map(_scalar, jac)
        return (jac, _strip(aux[0])) if has_aux else jac
    return wrapped


def _scalar(x):
    # Note: a 0-d derivative is a NumPy scalar, as grad's and as NumPy's own 0-d results are
    return x[()] if isinstance(x, np.ndarray) and x.ndim == 0 else x


def jacfwd(fun, argnums=0, has_aux=False, holomorphic=False):
    """The Jacobian by forward mode: linearize once, push the input basis through in one pass.
    Output arrays have shape out_shape + in_shape."""
    return _jacobian(fun, argnums, has_aux, holomorphic, "fwd")


def jacrev(fun, argnums=0, has_aux=False, holomorphic=False):
    """The Jacobian by reverse mode: linearize once, pull the output basis back in one pass."""
    return _jacobian(fun, argnums, has_aux, holomorphic, "rev")


def jacobian(fun, argnums=0, has_aux=False, holomorphic=False, mode="auto"):
    """The Jacobian; mode "fwd", "rev" or "auto" (forward mode when the inputs are no larger
    than the outputs, reverse mode otherwise; the function is linearized once either way)."""
    if mode not in ("auto", "fwd", "rev"):
        raise ValueError(f"jacobian mode must be 'auto', 'fwd' or 'rev', not {mode!r}")
    return _jacobian(fun, argnums, has_aux, holomorphic, mode)


def eval_shape(fun, *args):
    """The ArraySpecs of fun's outputs, found by staging (nothing is computed)."""
    leaves, t = _flatten_args(args, "eval_shape")
    store = []
    _, _, outs = stage(_flat_fun(fun, t, store), [spec_of(x) for x in leaves])
    return tree.unflatten(store[0], [spec_of(o) for o in outs])


def hessian(fun, argnums=0, has_aux=False, holomorphic=False):
    """The Hessian, jacfwd(jacrev(fun)): forward over reverse."""
    return jacfwd(jacrev(fun, argnums, has_aux, holomorphic), argnums, has_aux, holomorphic)


def hvp(fun, primals, tangents):
    """(gradient of fun at primals, Hessian-vector product), by forward over reverse; each is
    shaped like `primals` (an array for one argument, a tuple for several).

    Example:
      >>> g, Hv = hvp(lambda x: np.sum(x ** 3), (np.ones(2),), (np.ones(2),))  # 3x^2, 6x*v
    """
    if not isinstance(primals, (tuple, list)) or not isinstance(tangents, (tuple, list)):
        raise TypeError("hvp takes the primals and the tangents as tuples: "
                        "hvp(f, (x,), (v,))")
    argnums = 0 if len(primals) == 1 else tuple(range(len(primals)))
    return jvp(grad(fun, argnums=argnums), tuple(primals), tuple(tangents))


def linear_transpose(fun, *primals):
    """The transpose of a linear function `fun`, given example inputs (for shapes and dtypes)."""
    leaves, t = _flatten_args(primals, "linear_transpose")
    specs = [spec_of(x) for x in leaves]
    store = []
    st, ins, outs = stage(_flat_fun(fun, t, store), specs, forward_known=True)
    fixed = [o if (type(o) is StagedTracer and o._trace is st) else (None, spec_of(o))
             for o in outs]
    program = st.build(ins, fixed)
    L = LinearMap(program, t, store[0])

    def transposed(ct):
        return L.apply_transpose(ct)
    return transposed


def make_program(fun, static_argnums=()):
    """A function returning the Program that `fun` runs on arguments of these shapes and dtypes
    (derivatives included: make_program(grad(f))(x)).

    Example:
      >>> print(make_program(lambda x: np.sin(x) * 2)(np.ones(3)))
    """
    @functools.wraps(fun)
    def wrapped(*args):
        leaves, t = _flatten_args(args, "make_program")
        store = []
        st, ins, outs = stage(_flat_fun(fun, t, store), [spec_of(x) for x in leaves])
        return st.build(ins, outs)
    return wrapped


def stop_gradient(x):
    """x, with zero derivative (applied to every leaf of a pytree)."""
    return tree.tree_map(lambda v: stop_gradient_p.bind(v) if isinstance(v, Tracer) else v, x)
