"""Contractions: einsum and everything NumPy builds on it (dot, matmul, inner, outer,
tensordot, vdot, kron, trace, vecdot, matvec, vecmat, cross)."""

from __future__ import annotations

import math

import numpy as np
from frechet._src.core.backend import dtype_of
from frechet._src.lax.linear_solve import sparse_matmul
from frechet._src.numpy.base import asarray, broadcast_shapes, fit, result_dtype, shape_of
from frechet._src.numpy.manipulation import (
    broadcast_arrays,
    broadcast_to,
    diagonal,
    moveaxis,
    stack,
)
from frechet._src.numpy.reductions import sum as _sum
from frechet._src.prims.contractions import einsum_p
from frechet._src.prims.shape import reshape

_LETTERS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"


def _parse(subscripts, operands):
    """Explicit subscripts for each operand and the output, ellipses expanded."""
    s = subscripts.replace(" ", "")
    ins, out = (s.split("->") + [None])[:2]
    ins = ins.split(",")
    if len(ins) != len(operands):
        raise ValueError(f"einsum: {len(ins)} subscripts for {len(operands)} operands")
    free = [c for c in _LETTERS if c not in s]
    ell_nd = max([len(shape_of(op)) - len(t.replace("...", "")) for t, op in zip(ins, operands)
                  if "..." in t] or [0])
    ell = "".join(free[:ell_nd])
    full = []
    for t, op in zip(ins, operands):
        if "..." in t:
            k = len(shape_of(op)) - len(t.replace("...", ""))
            t = t.replace("...", ell[ell_nd - k:])
        if len(t) != len(shape_of(op)):
            raise ValueError(f"einsum: operand has {len(shape_of(op))} dimensions, "
                             f"subscripts {t!r} name {len(t)}")
        full.append(t)
    if out is None:
        counts = {c: sum(t.count(c) for t in full) for c in set("".join(full))}
        out = ell + "".join(sorted(c for c, n in counts.items() if n == 1 and c not in ell))
    else:
        out = out.replace("...", ell)
    return full, out


def _diag_unique(op, sub):
    """Take diagonals so the operand's subscripts are distinct (einsum 'ii->i')."""
    while len(set(sub)) != len(sub):
        c = next(ch for ch in sub if sub.count(ch) > 1)
        i = sub.index(c)
        j = sub.index(c, i + 1)
        op = diagonal(op, 0, i, j)
        sub = sub[:i] + sub[i + 1:j] + sub[j + 1:] + c
    return op, sub


def _sum_only(op, sub, keep):
    """Sum away the subscripts of one operand that appear nowhere else."""
    if all(c in keep for c in sub):
        return op, sub
    kept = "".join(c for c in sub if c in keep)
    return einsum_p.bind(op, spec=f"{sub}->{kept}"), kept


def _sublist_spec(args):
    """np.einsum's sublist form (op0, [0, 1], op1, [1, 2], [0, 2]) as (spec, operands)."""
    letters = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"

    def word(sub):
        return "".join("..." if k is Ellipsis else letters[int(k)] for k in sub)
    ops, subs = list(args[0::2]), [word(s) for s in args[1::2]]
    out = None
    if len(ops) > len(subs):            # an odd count: the last item is the output's sublist
        out = word(ops.pop())
    spec = ",".join(subs) + ("" if out is None else "->" + out)
    return spec, ops


def einsum(subscripts, *operands, out=None, dtype=None, order="K", casting="safe",
           optimize=False):
    """np.einsum, differentiable in every operand, in both call forms; with `optimize`, the
    contraction order NumPy's einsum_path chooses."""
    if out is not None:
        raise NotImplementedError("einsum(out=...) is not supported on traced values")
    if not isinstance(subscripts, str):
        subscripts, operands = _sublist_spec((subscripts, *operands))
    dt = np.dtype(dtype) if dtype is not None else result_dtype(*operands)
    ops = [asarray(o) for o in operands]
    ops = [fit(o, dt, shape_of(o)) for o in ops]
    subs, outs = _parse(subscripts, ops)
    pairs = [_diag_unique(o, s) for o, s in zip(ops, subs)]
    if optimize is not False and len(pairs) > 2:
        path = optimize if isinstance(optimize, list) else np.einsum_path(
            subscripts, *[np.zeros(shape_of(o), np.int8) for o in ops], optimize=optimize)[0]
        for step in path[1:]:           # each step contracts some operands; the result goes last
            chosen = [pairs[k] for k in step]
            pairs = [p for k, p in enumerate(pairs) if k not in step]
            keep = set(outs).union(*(t for _, t in pairs))
            pairs.append(_contract(chosen, keep))
    return _contract(pairs, set(outs), outs)[0]


def _contract(pairs, keep, outs=None):
    """(value, subscripts) of the operands contracted left to right, keeping the letters in
    `keep` (in order `outs` if given)."""
    while True:
        # reduce subscripts that only one operand has, then contract pairwise, left to right
        allsubs = [s for _, s in pairs]
        pairs = [_sum_only(o, s, set(keep).union(*(t for k, t in enumerate(allsubs) if k != i)))
                 for i, (o, s) in enumerate(pairs)]
        if len(pairs) == 1:
            o, s = pairs[0]
            if outs is None or s == outs:
                return o, s
            return einsum_p.bind(o, spec=f"{s}->{outs}"), outs
        (a, sa), (b, sb) = pairs[0], pairs[1]
        rest = [s for _, s in pairs[2:]]
        later = set(keep).union(*rest)
        sc = "".join(dict.fromkeys(c for c in sa + sb if c in later))
        pairs = [(einsum_p.bind(a, b, spec=f"{sa},{sb}->{sc}"), sc)] + pairs[2:]


def einsum_path(subscripts, *operands, optimize="greedy"):
    """The contraction order NumPy would choose; depends only on shapes."""
    return np.einsum_path(subscripts, *[np.zeros(shape_of(o)) for o in operands],
                          optimize=optimize)


_DIRECT_SPECS = {(1, 1): "i,i->", (2, 1): "ij,j->i", (1, 2): "j,jk->k", (2, 2): "ij,jk->ik"}


def _direct(a, b, what):
    """a @ b for vectors and matrices of one dtype: one einsum primitive, no subscript parsing."""
    sa, sb = shape_of(a), shape_of(b)
    key = (len(sa), len(sb))
    spec = _DIRECT_SPECS.get(key)
    if spec is None or a.dtype != b.dtype or dtype_of(a).kind not in "fc":
        return None
    if sa[-1] != sb[0]:
        raise ValueError(f"{what}: shapes {sa} and {sb} not aligned: {sa[-1]} (dim "
                         f"{len(sa) - 1}) != {sb[0]} (dim 0)")
    return einsum_p.bind(a, b, spec=spec)


def _is_sparse(x) -> bool:
    return type(x).__module__.startswith("scipy.sparse")


def matmul(a, b):
    if _is_sparse(a) or _is_sparse(b):      # a SciPy sparse matrix: a constant linear map
        return sparse_matmul(a, b)
    a, b = asarray(a), asarray(b)
    direct = _direct(a, b, "matmul")
    if direct is not None:
        return direct
    na, nb = len(shape_of(a)), len(shape_of(b))
    if na == 0 or nb == 0:
        raise ValueError("matmul: Input operand does not have enough dimensions")
    if na == 1 and nb == 1:
        return einsum("i,i->", a, b)
    if na == 1:
        return einsum("...jk,j->...k", b, a)
    if nb == 1:
        return einsum("...ij,j->...i", a, b)
    batch = broadcast_shapes(shape_of(a)[:-2], shape_of(b)[:-2], what="matmul operands")
    a = broadcast_to(a, batch + shape_of(a)[-2:])
    b = broadcast_to(b, batch + shape_of(b)[-2:])
    return einsum("...ij,...jk->...ik", a, b)


def dot(a, b, out=None):
    a, b = asarray(a), asarray(b)
    direct = _direct(a, b, "dot")
    if direct is not None:
        return direct
    na, nb = len(shape_of(a)), len(shape_of(b))
    if na == 0 or nb == 0:
        from frechet._src.numpy.ufuncs import multiply  # lazy: cycle: ufuncs -> contract at load
        return multiply(a, b)
    if nb == 1:
        return einsum("...j,j->...", a, b)
    la = _LETTERS[:na - 1]
    lb = _LETTERS[na:na + nb - 2]
    return einsum(f"{la}y,{lb}yz->{la}{lb}z", a, b)


def vdot(a, b):
    from frechet._src.numpy.ufuncs import conjugate  # lazy: cycle: ufuncs -> contract at load
    a, b = asarray(a), asarray(b)
    return dot(reshape(conjugate(a), (_size(a),)), reshape(b, (_size(b),)))


def _size(x):
    return math.prod(shape_of(x))


def inner(a, b):
    a, b = asarray(a), asarray(b)
    na, nb = len(shape_of(a)), len(shape_of(b))
    if na == 0 or nb == 0:
        from frechet._src.numpy.ufuncs import multiply  # lazy: cycle: ufuncs -> contract at load
        return multiply(a, b)
    la, lb = _LETTERS[:na - 1], _LETTERS[na:na + nb - 1]
    return einsum(f"{la}y,{lb}y->{la}{lb}", a, b)


def outer(a, b, out=None):
    a, b = asarray(a), asarray(b)
    return einsum("i,j->ij", reshape(a, (_size(a),)), reshape(b, (_size(b),)))


def tensordot(a, b, axes=2):
    a, b = asarray(a), asarray(b)
    na, nb = len(shape_of(a)), len(shape_of(b))
    if isinstance(axes, (int, np.integer)):
        ax_a, ax_b = list(range(na - axes, na)), list(range(axes))
    else:
        ax_a, ax_b = axes
        ax_a = [ax_a] if isinstance(ax_a, (int, np.integer)) else list(ax_a)
        ax_b = [ax_b] if isinstance(ax_b, (int, np.integer)) else list(ax_b)
    ax_a = [x % na for x in ax_a]
    ax_b = [x % nb for x in ax_b]
    sa = list(_LETTERS[:na])
    sb = list(_LETTERS[na:na + nb])
    for i, j in zip(ax_a, ax_b):
        sb[j] = sa[i]
    out = [c for k, c in enumerate(sa) if k not in ax_a] + [c for k, c in enumerate(sb) if k not in ax_b]
    return einsum(f"{''.join(sa)},{''.join(sb)}->{''.join(out)}", a, b)


def kron(a, b):
    a, b = asarray(a), asarray(b)
    nd = max(len(shape_of(a)), len(shape_of(b)))
    sa = (1,) * (nd - len(shape_of(a))) + shape_of(a)
    sb = (1,) * (nd - len(shape_of(b))) + shape_of(b)
    a, b = reshape(a, sa), reshape(b, sb)
    la, lb = _LETTERS[:nd], _LETTERS[nd:2 * nd]
    inter = "".join(x + y for x, y in zip(la, lb))
    r = einsum(f"{la},{lb}->{inter}", a, b)
    return reshape(r, tuple(x * y for x, y in zip(sa, sb)))


def trace(a, offset=0, axis1=0, axis2=1, dtype=None, out=None):
    return _sum(diagonal(a, offset, axis1, axis2), axis=-1, dtype=dtype)


def vecdot(x1, x2, axis=-1):
    from frechet._src.numpy.ufuncs import conjugate  # lazy: cycle: ufuncs -> contract at load
    x1, x2 = moveaxis(asarray(x1), axis, -1), moveaxis(asarray(x2), axis, -1)
    shape = broadcast_shapes(shape_of(x1), shape_of(x2))
    return einsum("...i,...i->...", broadcast_to(conjugate(x1), shape), broadcast_to(x2, shape))


def matvec(x1, x2):
    x1, x2 = asarray(x1), asarray(x2)
    batch = broadcast_shapes(shape_of(x1)[:-2], shape_of(x2)[:-1])
    return einsum("...ij,...j->...i", broadcast_to(x1, batch + shape_of(x1)[-2:]),
                  broadcast_to(x2, batch + shape_of(x2)[-1:]))


def vecmat(x1, x2):
    from frechet._src.numpy.ufuncs import conjugate  # lazy: cycle: ufuncs -> contract at load
    x1, x2 = asarray(x1), asarray(x2)
    batch = broadcast_shapes(shape_of(x1)[:-1], shape_of(x2)[:-2])
    return einsum("...j,...ji->...i", broadcast_to(conjugate(x1), batch + shape_of(x1)[-1:]),
                  broadcast_to(x2, batch + shape_of(x2)[-2:]))


def cross(a, b, axisa=-1, axisb=-1, axisc=-1, axis=None):
    """np.cross for 2- and 3-vectors (a 2-vector has a zero third component; two 2-vectors give
    the scalar z-component, as in NumPy)."""
    from frechet._src.numpy.ufuncs import (  # lazy: cycle: ufuncs -> contract at load
        multiply,
        subtract,
    )
    if axis is not None:
        axisa = axisb = axisc = axis
    a, b = moveaxis(asarray(a), axisa, -1), moveaxis(asarray(b), axisb, -1)
    na, nb = shape_of(a)[-1], shape_of(b)[-1]
    if na not in (2, 3) or nb not in (2, 3):
        raise ValueError("incompatible dimensions for cross product\n(dimension must be 2 or 3)")
    if na == 2 or nb == 2:    # as NumPy 2 does
        import warnings
        warnings.warn("Arrays of 2-dimensional vectors are deprecated. Use arrays of "
                      "3-dimensional vectors instead. (deprecated in NumPy 2.0)",
                      DeprecationWarning, stacklevel=3)
    a0, a1 = a[..., 0], a[..., 1]
    b0, b1 = b[..., 0], b[..., 1]
    z = subtract(multiply(a0, b1), multiply(a1, b0))
    if na == 2 and nb == 2:
        return z
    zero = np.zeros((), result_dtype(a, b))
    a2 = a[..., 2] if na == 3 else zero
    b2 = b[..., 2] if nb == 3 else zero
    c = stack(broadcast_arrays(subtract(multiply(a1, b2), multiply(a2, b1)),
                               subtract(multiply(a2, b0), multiply(a0, b2)), z), axis=-1)
    return moveaxis(c, -1, axisc)
