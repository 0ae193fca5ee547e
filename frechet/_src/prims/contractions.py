"""einsum over one or two operands, each with distinct subscripts: the contraction primitive.

Two-operand contractions run as one batched matmul (transpose, reshape, np.matmul), planned
once per (subscripts, shapes). The front end reduces repeated subscripts (diagonals) and more
than two operands to this form. The transpose with respect to one operand is another einsum of
the cotangent with the other operand.
"""

from __future__ import annotations

import functools
import math

import numpy as np

from frechet._src.core.primitive import primitive
from frechet._src.core.spec import ArraySpec
from frechet._src.interpreters.ad import add_tangents, is_undefined
from frechet._src.interpreters.enclosure import arithmetic as E
from frechet._src.interpreters.enclosure import rules as enc
from frechet._src.ir import buffers, fusion, native_rules, scalar_loops
from frechet._src.prims.rules import cauchy
from frechet._src.prims.shape import broadcast_in_dim_p


def parse(spec: str):
    ins, out = spec.split("->")
    return ins.split(","), out


@functools.lru_cache(maxsize=4096)
def _plan(spec, shapes):
    (a, b), o = parse(spec)
    size = {}
    for s, shp in zip((a, b), shapes):
        size.update(zip(s, shp))
    batch = [c for c in o if c in a and c in b]
    contract = [c for c in a if c in b and c not in o]
    fa = [c for c in a if c not in b and c in o]
    fb = [c for c in b if c not in a and c in o]
    suma = tuple(i for i, c in enumerate(a) if c not in b and c not in o)
    sumb = tuple(i for i, c in enumerate(b) if c not in a and c not in o)
    a2 = [c for c in a if c in b or c in o]
    b2 = [c for c in b if c in a or c in o]
    pa = [a2.index(c) for c in batch + fa + contract]
    pb = [b2.index(c) for c in batch + contract + fb]

    def n(cs):
        return math.prod([size[c] for c in cs])
    ra = (n(batch), n(fa), n(contract))
    rb = (n(batch), n(contract), n(fb))
    mid = [size[c] for c in batch + fa + fb]
    perm = [(batch + fa + fb).index(c) for c in o]
    return suma, sumb, pa, pb, ra, rb, mid, perm


@functools.lru_cache(maxsize=4096)
def _direct(spec):
    """A direct NumPy call for the common two-operand contractions, or None. Each accepts
    out= (compiled programs write into their own buffers)."""
    (a, b), o = parse(spec)
    if (a == "" and b == o) or (b == "" and a == o):
        return np.multiply                               # a scalar times an array
    if a == b == o:
        return np.multiply                               # elementwise product
    if len(a) == len(b) == 1 and a == b and o == "":
        return np.dot                                    # inner product of vectors
    shared = set(a) & set(b)
    if len(a) <= 2 and len(b) <= 2 and len(shared) == 1 and len(set(a)) == len(a) \
            and len(set(b)) == len(b):
        # one index contracted, at most one free index each: a matrix/vector product whose
        # operands and result may need transposing (BLAS takes transposed views as they are)
        c = next(iter(shared))
        fi, fj = a.replace(c, ""), b.replace(c, "")
        if c not in o and len(o) == len(fi) + len(fj) and set(o) == set(fi + fj):
            return functools.partial(_matmul, ta=len(a) == 2 and a[0] == c,
                                     tb=len(b) == 2 and b[1] == c,
                                     swap=len(o) == 2 and o != fi + fj)
    return None


def _matmul(x, y, out=None, *, ta, tb, swap):
    x = x.T if ta else x
    y = y.T if tb else y
    if swap:                                             # the result transposed: (XY)^T
        return np.matmul(y.T, x.T, out=out)
    return np.matmul(x, y, out=out)


def _impl(*ops, spec):
    if len(ops) == 1:
        return np.einsum(spec, ops[0])
    x, y = ops
    direct = _direct(spec)
    if direct is not None:
        return direct(x, y)
    suma, sumb, pa, pb, ra, rb, mid, perm = _plan(spec, (np.shape(x), np.shape(y)))
    if suma:
        x = np.sum(x, axis=suma)
    if sumb:
        y = np.sum(y, axis=sumb)
    out = np.matmul(np.transpose(x, pa).reshape(ra), np.transpose(y, pb).reshape(rb))
    return np.transpose(out.reshape(mid), perm)


def _abstract(*ops, spec):
    # memoised: eager code stages the same few contractions over and over
    return _abstract_of(spec, tuple(op if type(op) is ArraySpec else
                                    ArraySpec(tuple(op.shape), op.dtype) for op in ops))


@functools.lru_cache(maxsize=4096)
def _abstract_of(spec, ops):
    ins, out = parse(spec)
    if len(ins) != len(ops):
        raise TypeError(f"einsum {spec!r} takes {len(ins)} operands")
    size = {}
    for s, op in zip(ins, ops):
        if len(s) != len(op.shape) or len(set(s)) != len(s) or op.dtype != ops[0].dtype:
            raise TypeError(f"einsum {spec!r}: operand {op} does not fit {s!r}")
        for c, n in zip(s, op.shape):
            if size.setdefault(c, n) != n:
                raise TypeError(f"einsum {spec!r}: size of {c!r} is {size[c]} and {n}")
    return ArraySpec(tuple(size[c] for c in out), ops[0].dtype)


einsum_p = primitive("einsum", _impl, _abstract)


def _impl_xp(xp):
    """The same contraction on another library's arrays (core/backend.py): sums, permutes,
    reshapes and one matmul, all standard; one operand (a trace, a diagonal) through the
    namespace's einsum, which the standard lacks."""
    def impl(*ops, spec):
        if len(ops) == 1:
            return xp.einsum(spec, ops[0])
        x, y = ops
        suma, sumb, pa, pb, ra, rb, mid, perm = _plan(spec, (tuple(x.shape), tuple(y.shape)))
        if suma:
            x = xp.sum(x, axis=suma)
        if sumb:
            y = xp.sum(y, axis=sumb)
        out = xp.matmul(xp.reshape(xp.permute_dims(x, tuple(pa)), ra),
                        xp.reshape(xp.permute_dims(y, tuple(pb)), rb))
        return xp.permute_dims(xp.reshape(out, tuple(mid)), tuple(perm))
    return impl


einsum_p.array_api = _impl_xp


@functools.lru_cache(maxsize=4096)
def _transpose_plan(spec, i):
    """For the cotangent of operand i: the einsum of the cotangent with the other operands,
    and the dimensions of the result within operand i (None when it is the operand's own
    shape; otherwise the subscripts only operand i had are summed away and broadcast back)."""
    ins, out = parse(spec)
    target, others = ins[i], [s for k, s in enumerate(ins) if k != i]
    have = set(out).union(*others)
    kept = "".join(c for c in target if c in have)
    dims = None if kept == target else tuple(target.index(c) for c in kept)
    return ",".join([out, *others]) + "->" + kept, dims


def _transpose(ct, *ops, spec):
    if len(ops) == 1:
        i = 0
    else:
        x, y = ops
        if is_undefined(x) == is_undefined(y):
            raise TypeError("einsum is linear in one operand at a time")
        i = 0 if is_undefined(x) else 1
    contract, dims = _transpose_plan(spec, i)
    r = einsum_p.bind(ct, *(op for k, op in enumerate(ops) if k != i), spec=contract)
    if dims is not None:
        r = broadcast_in_dim_p.bind(r, shape=tuple(ops[i].shape), broadcast_dimensions=dims)
    return [r, None] if i == 0 and len(ops) == 2 else [None, r] if len(ops) == 2 else [r]


def einsum_tangent(primals, tangents, *, spec):
    """The tangent of einsum (a sum over operands with a tangent), without its value."""
    out = None
    for i, t in enumerate(tangents):
        if t is not None:
            ops = list(primals)
            ops[i] = t
            out = add_tangents(out, einsum_p.bind(*ops, spec=spec))
    return out


def _jvp(primals, tangents, *, spec):
    return einsum_p.bind(*primals, spec=spec), einsum_tangent(primals, tangents, spec=spec)


def _taylor(primals, series, *, spec):
    """Linear in each operand: one operand maps each coefficient, two take Cauchy products."""
    ans = einsum_p.bind(*primals, spec=spec)
    order = len(next(s for s in series if s is not None))
    if len(primals) == 1:
        return ans, [einsum_p.bind(c, spec=spec) for c in series[0]]
    (x, y), (sx, sy) = primals, series
    return ans, cauchy(einsum_p, x, sx, y, sy, order, spec=spec)


einsum_p.jvp = _jvp
einsum_p.transpose = _transpose
einsum_p.taylor = _taylor
einsum_p.linear = True


def _batch(args, batched, *, spec):
    ins, out = parse(spec)
    used = set(spec)
    c = next(ch for ch in "zyxwvutsrqponmlkjihgfedcbaZYXWVUTSRQPONMLKJIHGFEDCBA" if ch not in used)
    ins = [c + s if b else s for s, b in zip(ins, batched)]
    return einsum_p.bind(*args, spec=",".join(ins) + "->" + c + out)


einsum_p.batch = _batch


def _enclosure(args, reg, *, spec):
    """frechet.bounds: the Cauchy product of the operands' terms, each pair of terms bounded by
    einsum over their ends (enc.bilinear), with the x-axes as extra leading letters."""
    if len(args) == 1:
        raise NotImplementedError(f"taylor_bound: one-operand einsum {spec!r}")
    ins, out_subs = spec.split("->")
    subs = ins.split(",")
    free = [c for c in "ABCDEFGHIJKLMNOPQRSTUVWXYZ" if c not in spec][:2]
    lead = [c if isinstance(arg, enc.Enc) else "" for c, arg in zip(free, args)]
    batched = ",".join(p + s for p, s in zip(lead, subs)) + "->" + "".join(lead) + out_subs
    value_of = [lambda t: t if isinstance(args[0], enc.Enc) else t[0],
                lambda t: t if isinstance(args[1], enc.Enc) else t[0]]

    def e(u, v):
        r = np.asarray(einsum_p.impl(u, v, spec=batched), np.float64)
        return r.reshape((-1,) + r.shape[len("".join(lead)):]) if lead != ["", ""] else r[None]
    a, b = (enc.terms_of(x, reg) for x in args)
    k = _contracted(spec, args)
    out = [None] * (2 * reg.d + 1)
    for i, x in enumerate(a):
        for j, y in enumerate(b):
            if x is None or y is None:
                continue
            u, v, deg = E.fold(x, y, i, j, reg)
            u = tuple(value_of[0](t) for t in u)
            v = tuple(value_of[1](t) for t in v)
            out[deg] = E.add_term(out[deg], enc.bilinear(e, u, v, k))
    return E.truncate(out, reg)


def _contracted(spec, args):
    """How many products each output element of the einsum sums."""
    ins, out = spec.split("->")
    subs = ins.split(",")
    size = {c: n for s, a in zip(subs, args)
            for c, n in zip(s, E.value_shape(a.terms) if isinstance(a, enc.Enc) else np.shape(a))}
    return math.prod(size[c] for c in set("".join(subs)) - set(out)) if size else 1


einsum_p.enclosure = _enclosure


# Back ends: jit's buffers give a matmul-shaped einsum out=, fused loops run serially in
# programs calling BLAS, and the scan compiler writes small einsums out as sums of products.
def _out_form(eqn):
    if len(eqn.inputs) != 2:
        return None
    direct = _direct(eqn.params["spec"])
    return direct if direct is not None and direct is not np.dot else None


buffers.OUT_FORM[einsum_p] = _out_form
fusion.BLAS.add(einsum_p)
scalar_loops.CONTRACTIONS[einsum_p] = parse

native_rules.defrule(einsum_p, native_rules.Contraction())     # whole-program native code
