"""Scans over small values compiled whole: the loop and its body become one numba function.

A jitted `scan` otherwise runs its compiled body from Python once per step, so a loop of cheap
steps on a few numbers (an ODE integrator, a recurrence) costs a few microseconds a step in
interpretation alone. When every value in the body has at most MAX_ELEMENTS elements and every
equation is elementwise arithmetic or moves elements around, `scan_kernel` writes the loop out
with one scalar variable per element: arrays become tuples of names, an elementwise equation one
line per element, and getitem, reshape, concatenate, broadcast and transpose no lines at all
(their outputs are some of their inputs' names, found by running the primitive on arrays of
element labels). numba compiles that to a loop over registers.

Used by jit when numba is installed (`frechet[fast]`), for bodies in float64, int64 and bool;
anything else runs the scan as before. The arithmetic is NumPy's templates from fusion.py, so
results are the same (the C library's transcendentals), but like fused loops these emit no
RuntimeWarnings.
"""

from __future__ import annotations

import functools
import hashlib
import itertools
import math

import numpy as np

from frechet._src.ir import fusion
from frechet._src.ir.program import split_operands
from frechet._src.ir.simplify import simplify

MAX_ELEMENTS = 16        # per value: bigger bodies vectorise well enough as arrays
MAX_TERMS = 256          # products in one contraction
_DTYPES = (np.dtype(np.float64), np.dtype(np.int64), np.dtype(bool))
# How this compiler writes out the body's equations, keyed by Primitive (filled by the modules
# defining them; elementwise arithmetic comes from fusion.TEMPLATE):
MOVES: set = set()          # output elements are copies of input elements: run on labels
CONVERTS: set = set()       # convert_element_type: one cast per element
REDUCTIONS: dict = {}       # prim -> the pairwise form ("({0} + {1})"); params: axes
SCATTER_ADDS: dict = {}     # prim -> build(index, arrays): x with v added at a static index
CONTRACTIONS: dict = {}     # prim -> parse(spec) -> (input subscripts, output subscripts)
_CASTS = {np.dtype(np.float64): "np.float64({0})", np.dtype(np.int64): "np.int64({0})",
          np.dtype(bool): "({0} != 0)"}


class _Unsupported(Exception):
    pass


def compile_scan(eqn):
    """codegen's KERNEL entry for a scan equation: its compiled loop, or None."""
    return scan_kernel(**eqn.params, fallback=functools.partial(eqn.primitive.impl, **eqn.params))


def scan_kernel(body, num_consts, num_carry, length, reverse, fallback=None):
    """A function of the scan's operands returning its outputs, or None when the body has
    something this compiler does not handle; `fallback` (the scan's own loop) runs where numba
    cannot compile the kernel."""
    body = simplify(body)[0]
    try:
        source, ys = _source(body, num_consts, num_carry, reverse)
    except _Unsupported:
        return None
    kernel = _compile(source)
    carry_specs = body.out_specs[:num_carry]
    refused = []

    def run(*args):
        if refused:
            return fallback(*args)
        flat = [np.ascontiguousarray(a).reshape(-1) for a in args[:num_consts + num_carry]]
        flat += [np.ascontiguousarray(x).reshape(length, -1) for x in args[num_consts
                                                                          + num_carry:]]
        try:
            outs = kernel(*flat, length)
        except Exception as e:
            if fallback is None or not fusion.numba_failed(e):
                raise
            refused.append(e)
            return fallback(*args)
        carry = [o.reshape(s.shape) for o, s in zip(outs, carry_specs)]
        return carry + [o.reshape((length, *s.shape)) for o, s in zip(outs[num_carry:], ys)]

    return run


def _literal(value) -> str:
    if isinstance(value, (bool, np.bool_)):
        return repr(bool(value))
    if isinstance(value, (int, np.integer)):
        return f"np.int64({int(value)})"
    value = float(value)
    if math.isnan(value):
        return "np.nan"
    if math.isinf(value):
        return "np.inf" if value > 0 else "-np.inf"
    return repr(value)


def _check(spec):
    if spec.dtype not in _DTYPES or math.prod(spec.shape) > MAX_ELEMENTS:
        raise _Unsupported


def _source(body, num_consts, num_carry, reverse):
    """The numba source of the loop: kernel(consts..., carry..., xs..., length). As in fusion,
    only this module's and fusion's templates, generated names, literals written by _literal and
    the names of the dtypes in _DTYPES reach it; params are used as data (run on labels)."""
    names: dict = {}                    # var -> list of scalar names (or literals), C order
    lines: list = []
    loop: list = []

    counter = itertools.count()

    def fresh(expr, into):
        name = f"s{next(counter)}"
        into.append(f"{'        ' if into is loop else '    '}{name} = {expr}")
        return name

    for v, c in zip(body.constvars, body.consts):
        _check(v.spec)
        names[v] = [_literal(e) for e in np.asarray(c, v.spec.dtype).reshape(-1)]
    ins = list(body.invars)
    consts, carry, xs = split_operands(ins, num_consts, num_carry)
    for v in ins:
        _check(v.spec)
    args = [f"a{j}" for j in range(len(ins))]
    for j, v in enumerate(consts):
        names[v] = [fresh(f"a{j}[{e}]", lines) for e in range(math.prod(v.spec.shape))]
    carry_names = []
    for j, v in enumerate(carry, start=num_consts):
        own = [f"h{j}_{e}" for e in range(math.prod(v.spec.shape))]
        lines += [f"    {n} = a{j}[{e}]" for e, n in enumerate(own)]
        names[v] = own
        carry_names.append(own)
    for j, v in enumerate(xs, start=num_consts + num_carry):
        names[v] = [fresh(f"a{j}[i, {e}]", loop) for e in range(math.prod(v.spec.shape))]
    for eqn in body.eqns:
        for v in eqn.outputs:
            _check(v.spec)
        _expand(eqn, names, lambda expr: fresh(expr, loop))

    def out_names(k):
        v, spec = body.outvars[k], body.out_specs[k]
        _check(spec)
        if v is None:
            return [_literal(np.zeros((), spec.dtype)[()])] * math.prod(spec.shape)
        return names[v]

    n_out = len(body.outvars)
    ys = body.out_specs[num_carry:]
    head = [f"def kernel({', '.join(args)}, length):"] + lines
    head += [f"    y{k} = np.empty((length, {math.prod(s.shape)}), np.{s.dtype.name})"
             for k, s in enumerate(ys)]
    step = "length - 1 - t" if reverse else "t"
    head += ["    for t in range(length):", f"        i = {step}"] + loop
    for k in range(num_carry, n_out):
        head += [f"        y{k - num_carry}[i, {e}] = {n}" for e, n in enumerate(out_names(k))]
    new = [n for k in range(num_carry) for n in out_names(k)]
    old = [n for own in carry_names for n in own]
    if old:                             # all at once: a new carry may read an old one
        head.append(f"        {', '.join(old)} = {', '.join(new)}")
    outs = []
    for j, own in enumerate(carry_names):
        dtype = body.out_specs[j].dtype.name
        head.append(f"    c{j} = np.empty({len(own)}, np.{dtype})")
        head += [f"    c{j}[{e}] = {n}" for e, n in enumerate(own)]
        outs.append(f"c{j}")
    outs += [f"y{k}" for k in range(len(ys))]
    head.append(f"    return ({', '.join(outs)},)")
    return "\n".join(head), ys


def _expand(eqn, names, fresh):
    """Give eqn's outputs their scalar names, writing lines through `fresh(expr) -> name`."""
    prim, params = eqn.primitive, eqn.params
    ins = [names[v] for v in eqn.inputs]
    out = eqn.outputs[0].spec
    template = fusion.TEMPLATE.get(prim)
    if prim in MOVES:
        sizes = [len(n) for n in ins]
        offsets = np.cumsum([0, *sizes])
        labels = [np.arange(o, o + n).reshape(v.spec.shape)
                  for o, n, v in zip(offsets, sizes, eqn.inputs)]
        flat_in = [n for names_in in ins for n in names_in]
        moved = np.asarray(eqn.primitive.impl(*labels, **params)).reshape(-1)
        names[eqn.outputs[0]] = [flat_in[k] for k in moved]
    elif prim in CONVERTS:
        names[eqn.outputs[0]] = [fresh(_CASTS[out.dtype].format(n)) for n in ins[0]]
    elif prim in REDUCTIONS and len(eqn.inputs) == 1:
        (x,) = eqn.inputs
        group = _groups(x.spec.shape, params["axes"])
        acc: dict = {}
        for k, g in enumerate(group):
            acc[g] = REDUCTIONS[prim].format(acc[g], ins[0][k]) if g in acc else ins[0][k]
        if len(acc) < math.prod(out.shape):       # sums over nothing
            raise _Unsupported
        names[eqn.outputs[0]] = [fresh(acc[g]) for g in range(math.prod(out.shape))]
    elif prim in SCATTER_ADDS and len(eqn.inputs) == 2:
        x, v = eqn.inputs
        target = np.arange(len(ins[0])).reshape(x.spec.shape)[SCATTER_ADDS[prim](
            params["index"], ())]
        source = np.broadcast_to(np.arange(len(ins[1])).reshape(v.spec.shape), target.shape)
        new = list(ins[0])
        for t, s in zip(target.reshape(-1), source.reshape(-1)):
            new[t] = fresh(f"({new[t]} + {ins[1][s]})")
        names[eqn.outputs[0]] = new
    elif prim in CONTRACTIONS:
        names[eqn.outputs[0]] = [fresh(t) for t in _contraction(eqn, ins, CONTRACTIONS[prim])]
    elif template is not None and not params and len(eqn.outputs) == 1:
        template = template.expr.replace("_T(1.0)", "1.0")
        size = math.prod(out.shape)
        picks = [np.broadcast_to(np.arange(len(n)).reshape(v.spec.shape), out.shape).reshape(-1)
                 for n, v in zip(ins, eqn.inputs)]
        names[eqn.outputs[0]] = [
            fresh(template.format(*[n[p[e]] for n, p in zip(ins, picks)])) for e in range(size)]
    else:
        raise _Unsupported


def _contraction(eqn, ins, parse):
    """Each output element of a small einsum as a sum of products of input names."""
    subs, out = parse(eqn.params["spec"])
    size = {c: n for s, v in zip(subs, eqn.inputs) for c, n in zip(s, v.spec.shape)}
    letters = sorted(size)
    if math.prod(size.values()) > MAX_TERMS:
        raise _Unsupported
    terms: list = [[] for _ in range(math.prod(size[c] for c in out))]
    for combo in itertools.product(*[range(size[c]) for c in letters]):
        at = dict(zip(letters, combo))
        picks = [n[_flat([at[c] for c in s], v.spec.shape)] for s, n, v in
                 zip(subs, ins, eqn.inputs)]
        terms[_flat([at[c] for c in out], [size[c] for c in out])].append(" * ".join(picks))
    return [f"({' + '.join(t)})" for t in terms]


def _flat(index, shape) -> int:
    k = 0
    for i, n in zip(index, shape):
        k = k * n + i
    return k


def _groups(shape, axes):
    """For each element of an array of `shape` (C order), the index of its sum over `axes`."""
    kept = [n for d, n in enumerate(shape) if d not in axes]
    idx = np.arange(math.prod(kept)).reshape([1 if d in axes else n
                                              for d, n in enumerate(shape)])
    return np.broadcast_to(idx, shape).reshape(-1).tolist()


_KERNELS: dict = {}


def _compile(source):
    key = hashlib.sha1(source.encode()).hexdigest()
    if key not in _KERNELS:
        import numba
        env = {"np": np, "numba": numba, "_T": np.float64}
        exec(compile(fusion.HELPERS, "<frechet.fusion helpers>", "exec"), env)  # noqa: S102
        exec(compile(source, f"<frechet.scan {key[:8]}>", "exec"), env)  # noqa: S102
        _KERNELS[key] = numba.njit(error_model="numpy", nogil=True)(env["kernel"])
    return _KERNELS[key]
