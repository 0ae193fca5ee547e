"""Peephole simplification of linear structure, run by jit between CSE and DCE.

Chains of structural equations collapse:

  reshape(reshape(x)) -> reshape(x);  reshape(x) to x's own shape -> x
  transpose(transpose(x, p), q) -> transpose(x, p o q), or x when that is the identity
  reduce_sum(broadcast_in_dim(x)) over exactly the broadcast axes -> x * (their size)
  multiply(multiply(x, c1), c2) for constants c1, c2 -> multiply(x, c1 * c2) (c1 * c2 is
    computed once, when the program is compiled; the result can differ by rounding)

Forwarding of pieces: indexing traffic that builds an array only to take it apart again.

NumPy code that stacks values and indexes them (`x = np.stack([a, b]); x[0]`), and the reverse
mode of such code (the cotangent of `x[k]` is `index_add` into zeros, summed with `add_any`,
then split again by slicing), records equations that only move scalars around. This pass
forwards the piece instead:

  getitem[k](concatenate(..., reshape(q), ...))  ->  q      (the piece at k, when it is one row)
  getitem[k](index_add[j](zeros, v))             ->  v if j == k, else zeros
  getitem[k](add_any(a, b))                      ->  add_any(getitem[k](a), getitem[k](b))
                                                     (only when both sides forward)
  reshape[()](getitem[k:k+1](y))                 ->  getitem[k](y)
  add_any(a, zeros)                              ->  a
  add_any(index_add[i](zeros, a), index_add[j](zeros, b), ...)
                                                 ->  one scatter per position of the summed
                                                     scalars (at most 8 positions)

Only integer positions along the first axis are forwarded; anything else is left as it is.
Adding an exact zero is dropped, so a -0.0 sum may become +0.0's sign-preserving operand.

The pass knows primitives by their Role (core/registry.py), declared where each is defined,
and emits the primitive playing a role (BUILTIN.add_any, ...): never by name.
"""

from __future__ import annotations

import numpy as np

from frechet._src.core.registry import BUILTIN, ROLE, Role
from frechet._src.core.spec import ArraySpec
from frechet._src.ir.program import Eqn, Program, Var

_ZERO = object()     # a forwarded value that is exactly zero
_STRUCTURAL = frozenset({Role.RESHAPE, Role.TRANSPOSE, Role.REDUCE_SUM, Role.MULTIPLY})


class _Pieces:
    def __init__(self, program: Program):
        self.defs: dict = {}
        self.zeros = {v for v, c in zip(program.constvars, program.consts)
                      if type(c) is np.ndarray and c.size <= 4096 and not c.any()}
        self.constvars = list(program.constvars)
        self.consts = list(program.consts)
        # var -> (a zeros constant, {position: scalar var}): a sum of scatters into zeros
        self.sparse: dict = {}
        # constants as arrays (for scaling chains)
        self.values = {v: c for v, c in zip(program.constvars, program.consts)
                       if type(c) is np.ndarray}

    def zero_var(self, spec: ArraySpec) -> Var:
        v = Var(spec)
        self.constvars.append(v)
        self.consts.append(np.zeros(spec.shape, spec.dtype))
        self.zeros.add(v)
        return v

    def piece(self, x: Var, k: int, spec):
        """The value of x[k] (first axis) as an existing var or _ZERO, or None."""
        n = x.spec.shape[0] if x.spec.shape else 0
        if not 0 <= k < n:
            return None
        if x in self.zeros:
            return _ZERO
        if x in self.sparse:
            v = self.sparse[x][1].get(k)
            return _ZERO if v is None else (v if v.spec == spec else None)
        eqn = self.defs.get(x)
        if eqn is None:
            return None
        role, params, ins = ROLE.get(eqn.primitive), eqn.params, eqn.inputs
        if role is Role.CONCATENATE and params["axis"] == 0:
            for p in ins:
                m = p.spec.shape[0]
                if k < m:
                    if m != 1:
                        return None
                    src = self.defs.get(p)
                    if src is not None and ROLE.get(src.primitive) is Role.RESHAPE \
                            and src.inputs[0].spec == spec:
                        return src.inputs[0]
                    return None
                k -= m
        if role is Role.ADD_ANY:
            a, b = self.piece(ins[0], k, spec), self.piece(ins[1], k, spec)
            if a is None or b is None or isinstance(a, tuple) or isinstance(b, tuple):
                return None
            if a is _ZERO:
                return b
            if b is _ZERO:
                return a
            return ("add_any", a, b)
        return None

    def scatter_position(self, eqn: Eqn):
        """j when eqn is index_add[j](zeros, v) at one integer position of the first axis."""
        index = eqn.params["index"]
        if len(eqn.inputs) == 2 and eqn.inputs[0] in self.zeros and len(index) == 1 \
                and index[0] is not None and index[0][0] == "i" and eqn.inputs[0].spec.ndim:
            return index[0][1] % eqn.inputs[0].spec.shape[0]
        return None

    def sum_of_scatters(self, eqn: Eqn):
        """add_any of two sums of scatters into zeros: the equations that add position by
        position (scalars) and scatter the sums once; None when that does not apply."""
        a, b = (self.sparse.get(v) for v in eqn.inputs)
        if a is None or b is None:
            return None
        merged, eqns = dict(a[1]), []
        for pos, v in b[1].items():
            if pos in merged:
                s = Var(v.spec)
                eqns.append(Eqn(BUILTIN.add_any, (merged[pos], v), (s,), {}, eqn.source))
                merged[pos] = s
            else:
                merged[pos] = v
        if len(merged) > 8:
            return None
        out = eqn.outputs[0]
        prev = a[0]
        items = sorted(merged.items())
        for i, (pos, v) in enumerate(items):
            o = out if i == len(items) - 1 else Var(out.spec)
            eqns.append(Eqn(BUILTIN.index_add, (prev, v), (o,),
                            {"index": (("i", pos),)}, eqn.source))
            prev = o
        self.sparse[out] = (a[0], merged)
        return eqns

    def structural(self, eqn: Eqn):
        """Chains of linear structural equations, collapsed (see the module docstring)."""
        role, ins, params, out = ROLE.get(eqn.primitive), eqn.inputs, eqn.params, eqn.outputs[0]
        src = self.defs.get(ins[0])
        if role is Role.RESHAPE:
            if ins[0].spec.shape == out.spec.shape:
                return ins[0]
            if src is not None and ROLE.get(src.primitive) is Role.RESHAPE:
                return Eqn(eqn.primitive, src.inputs, eqn.outputs, params, eqn.source)
        if role is Role.TRANSPOSE:
            perm = params["permutation"]
            if perm == tuple(range(len(perm))):
                return ins[0]
            if src is not None and ROLE.get(src.primitive) is Role.TRANSPOSE:
                inner = src.params["permutation"]
                both = tuple(inner[p] for p in perm)
                if both == tuple(range(len(both))):
                    return src.inputs[0]
                return Eqn(eqn.primitive, src.inputs, eqn.outputs, {"permutation": both},
                           eqn.source)
        if role is Role.REDUCE_SUM and src is not None \
                and ROLE.get(src.primitive) is Role.BROADCAST_IN_DIM:
            added = tuple(i for i in range(len(src.params["shape"]))
                          if i not in src.params["broadcast_dimensions"])
            x = src.inputs[0]
            if params["axes"] == added and x.spec == out.spec and x.spec.dtype.kind in "fc":
                n = 1
                for i in added:
                    n *= src.params["shape"][i]
                return Eqn(BUILTIN.multiply, (x, self.const(np.full(x.spec.shape, n,
                                                                           x.spec.dtype))),
                           eqn.outputs, {}, eqn.source)
        if role is Role.MULTIPLY and ins[1] in self.values and src is not None \
                and src.primitive is eqn.primitive and src.inputs[1] in self.values \
                and src.inputs[1].spec == ins[1].spec:
            c = self.values[src.inputs[1]] * self.values[ins[1]]    # once, at compile time
            return Eqn(eqn.primitive, (src.inputs[0], self.const(c)), eqn.outputs, {},
                       eqn.source)
        return None

    def const(self, value) -> Var:
        v = Var(ArraySpec(value.shape, value.dtype))
        self.constvars.append(v)
        self.consts.append(value)
        self.values[v] = value
        return v

    def rewrite(self, eqn: Eqn):
        """A var standing for eqn's output, or an equation to use instead, or None."""
        role, ins = ROLE.get(eqn.primitive), eqn.inputs
        if role in _STRUCTURAL:
            r = self.structural(eqn)
            if r is not None:
                return r
        if role is Role.ADD_ANY:
            if ins[1] in self.zeros:
                return ins[0]
            if ins[0] in self.zeros:
                return ins[1]
            return None
        if role is Role.RESHAPE and eqn.outputs[0].spec.shape == ():
            src = self.defs.get(ins[0])
            if src is not None and ROLE.get(src.primitive) is Role.GETITEM \
                    and len(src.inputs) == 1:
                (e,) = src.params["index"] if len(src.params["index"]) == 1 else (None,)
                if e is not None and e[0] == "s" and e[3] in (None, 1) and e[1] is not None \
                        and e[1] >= 0 and e[2] == e[1] + 1 and src.inputs[0].spec.ndim == 1:
                    return Eqn(BUILTIN.getitem, src.inputs, eqn.outputs,
                               {"index": (("i", e[1]),)}, eqn.source)
            return None
        if role is Role.GETITEM and len(ins) == 1:
            index = eqn.params["index"]
            if len(index) == 1 and index[0] is not None and index[0][0] == "i":
                x = ins[0]
                spec = eqn.outputs[0].spec
                got = self.piece(x, index[0][1] % max(x.spec.shape[0], 1), spec)
                if got is _ZERO:
                    return self.zero_var(spec)
                if isinstance(got, tuple):
                    return Eqn(BUILTIN.add_any, got[1:], eqn.outputs, {}, eqn.source)
                return got
        return None


def forward_pieces(program: Program) -> tuple[Program, dict]:
    """The pass described in the module docstring. Returns the program and the map from
    dropped vars to the vars that replace them (dead equations are left for DCE)."""
    st = _Pieces(program)
    rename: dict = {}
    eqns = []
    for eqn in program.eqns:
        ins = tuple(rename.get(v, v) for v in eqn.inputs)
        if ins != eqn.inputs:
            eqn = Eqn(eqn.primitive, ins, eqn.outputs, eqn.params, eqn.source)
        if not eqn.primitive.multiple_results:
            for _ in range(3):          # a replacement may itself forward (reshape -> getitem)
                r = st.rewrite(eqn)
                if not isinstance(r, Eqn):
                    break
                eqn = r
            if isinstance(r, Var):
                rename[eqn.outputs[0]] = r
                continue
        new = [eqn]
        role = ROLE.get(eqn.primitive)
        if role is Role.INDEX_ADD:
            pos = st.scatter_position(eqn)
            if pos is not None:
                st.sparse[eqn.outputs[0]] = (eqn.inputs[0], {pos: eqn.inputs[1]})
        elif role is Role.ADD_ANY:
            new = st.sum_of_scatters(eqn) or new
        for e in new:
            eqns.append(e)
            for v in e.outputs:
                st.defs[v] = e
    outvars = [rename.get(v, v) if v is not None else None for v in program.outvars]
    return Program(program.invars, st.constvars, st.consts, eqns, outvars,
                   program.out_specs), rename
