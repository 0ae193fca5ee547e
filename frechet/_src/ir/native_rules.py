"""How each primitive is written inside a whole-program native function (native.py).

A value inside the function is read at an index: a list of integer expressions, one per
dimension of its shape. A rule turns "the output of this equation at these indices" into the
indices at which its inputs are read, so that index maps (broadcast_in_dim, transpose,
reshape, static getitem, stop_gradient) cost index arithmetic and no memory, and elementwise
equations (fusion's templates) become scalar statements in the loop that reads them. Reductions
and contractions are loop nests of their own (native.py writes them).

The primitives are imported when the table is first needed: ir/ is imported by prims/ (which
registers fusion templates and codegen forms), so the table cannot be built at import time.
"""

from __future__ import annotations

import math

import numpy as np

from frechet._src.ir import fusion

# Elementwise primitives without a fusion template (fusion never needs them: a boolean
# result ends a float run), as scalar expressions of the same form.
EXTRA_TEMPLATES = {"isfinite": "np.isfinite({0})", "isnan": "np.isnan({0})",
                   "isinf": "np.isinf({0})"}     # (elementwise.py registers them)


class Rule:
    """How one primitive is written (abstract): `check(eqn)` says whether this equation can be,
    `read(writer, eqn, idx)` returns a scalar expression of its output at `idx`, emitting the
    statements it needs through the writer."""

    view = False        # whether the rule only remaps indices (its input is read as is)

    def check(self, eqn) -> bool:
        return True

    def read(self, w, eqn, idx):
        raise NotImplementedError


class Elementwise(Rule):
    """A scalar template of the inputs read at the same index (0-d inputs: as scalars)."""

    def __init__(self, expr: str):
        self.expr = expr

    def check(self, eqn):
        shape = eqn.outputs[0].spec.shape
        return (not eqn.params and len(eqn.outputs) == 1
                and all(v.spec.shape in (shape, ()) for v in eqn.inputs))

    def read(self, w, eqn, idx):
        args = [w.read(v, idx if v.spec.shape else []) for v in eqn.inputs]
        return w.let(self.expr.format(*args))


class Convert(Elementwise):
    """convert_element_type between the program's float type and bool."""

    def __init__(self):
        super().__init__("")

    def check(self, eqn):
        return len(eqn.inputs) == 1 and eqn.inputs[0].spec.shape == eqn.outputs[0].spec.shape

    def read(self, w, eqn, idx):
        x = w.read(eqn.inputs[0], idx)
        if eqn.outputs[0].spec.dtype == np.dtype(bool):
            return w.let(f"({x} != 0)")
        return w.let(f"(_T(1.0) if {x} else _T(0.0))")


class Identity(Rule):
    view = True

    def read(self, w, eqn, idx):
        return w.read(eqn.inputs[0], idx)


class Broadcast(Rule):
    view = True

    def read(self, w, eqn, idx):
        x = eqn.inputs[0]
        dims = eqn.params["broadcast_dimensions"]
        return w.read(x, ["0" if n == 1 else idx[d] for d, n in zip(dims, x.spec.shape)])


class Transpose(Rule):
    view = True

    def read(self, w, eqn, idx):
        inner = [None] * len(idx)
        for i, p in enumerate(eqn.params["permutation"]):
            inner[p] = idx[i]
        return w.read(eqn.inputs[0], inner)


class Reshape(Rule):
    """Dimensions of size one added or dropped: indices carried over; otherwise the flat
    position is computed and split along the input's shape."""

    view = True

    def read(self, w, eqn, idx):
        x = eqn.inputs[0]
        old, new = x.spec.shape, eqn.outputs[0].spec.shape
        if [n for n in old if n != 1] == [n for n in new if n != 1]:
            kept = iter(i for i, n in zip(idx, new) if n != 1)
            return w.read(x, ["0" if n == 1 else next(kept) for n in old])
        flat = " + ".join(f"{i} * {s}" for i, s in zip(idx, _strides(new))) or "0"
        pos = w.let(f"({flat})")
        return w.read(x, [f"(({pos} // {s}) % {n})" for s, n in zip(_strides(old), old)])


def _strides(shape):
    return [math.prod(shape[k + 1:]) for k in range(len(shape))]


def _slice_terms(index, shape):
    """For a static index of slices, integers and new axes (no arrays): per input dimension
    (start, step, length) for a slice or (k, 0, None) for an integer, and which output
    dimensions are new axes."""
    terms, new_axes, out = [], [], 0
    for e in index:
        if e is None:
            new_axes.append(out)
            out += 1
            continue
        n = shape[len(terms)]
        if e[0] == "i":
            terms.append((e[1] % n, 0, None))
        else:
            r = range(*slice(e[1], e[2], e[3]).indices(n))
            terms.append((r.start, r.step, len(r)))
            out += 1
    terms += [(0, 1, n) for n in shape[len(terms):]]
    return terms, new_axes


def _affine(start, step, i) -> str:
    """start + step * i, written plainly where start or step is trivial."""
    scaled = i if step == 1 else f"{step} * {i}"
    return scaled if start == 0 else f"({start} + {scaled})"


def _static(eqn, n_inputs) -> bool:
    index = eqn.params["index"]
    return (len(eqn.inputs) == n_inputs
            and all(e is None or e[0] in ("s", "i") for e in index))


class GetItem(Rule):
    """x[static index of slices and integers]: read x at start + step * i."""

    view = True

    def check(self, eqn):
        return _static(eqn, 1)

    def read(self, w, eqn, idx):
        x = eqn.inputs[0]
        terms, new_axes = _slice_terms(eqn.params["index"], x.spec.shape)
        it = iter(i for k, i in enumerate(idx) if k not in new_axes)
        inner = [str(start) if length is None else _affine(start, step, next(it))
                 for start, step, length in terms]
        return w.read(x, inner)


class Update(Rule):
    """x with v added (index_add) or written (index_set) at a static index: x's value, and
    under the condition that the index is in the updated region, v's."""

    def __init__(self, add: bool):
        self.add = add

    def check(self, eqn):
        return _static(eqn, 2)

    def read(self, w, eqn, idx):
        x, v = eqn.inputs
        terms, new_axes = _slice_terms(eqn.params["index"], x.spec.shape)
        out = w.let(w.read(x, idx))
        conds, inner = [], []
        for i, (start, step, length), n in zip(idx, terms, x.spec.shape):
            if length is None:
                conds.append(f"{i} == {start}")
            elif start == 0 and step == 1 and length == n:
                inner.append(i)
            elif step == 1:
                q = w.let(f"{i} - {start}" if start else i)
                conds.append(f"0 <= {q} < {length}")
                inner.append(q)
            else:
                q = w.let(f"({i} - {start})")
                conds.append(f"{q} % {step} == 0 and 0 <= {q} // {step} < {length}")
                inner.append(f"({q} // {step})")
        for k in new_axes:
            inner.insert(k, "0")
        with w.block(" and ".join(f"({c})" for c in conds) or "True"):
            val = w.read(v, inner)
            w.line(f"{out} = {out} + {val}" if self.add else f"{out} = {val}")
        return out


class Reduction(Rule):
    """reduce_sum / reduce_max / reduce_min: a loop nest of its own (native.py)."""

    def __init__(self, init: str, step: str):
        self.init, self.step = init, step

    def check(self, eqn):
        return eqn.inputs[0].spec.dtype != np.dtype(bool)

    def read(self, w, eqn, idx):
        x = eqn.inputs[0]
        axes = sorted(a % len(x.spec.shape) for a in eqn.params["axes"])
        acc = w.let(self.init)
        kept = iter(idx)
        with w.loops([x.spec.shape[a] for a in axes]) as summed:
            inner = dict(zip(axes, summed))
            val = w.read(x, [inner[d] if d in inner else next(kept)
                             for d in range(len(x.spec.shape))])
            w.line(f"{acc} = {self.step.format(acc, val)}")
        return acc


class Contraction(Rule):
    """einsum of up to two operands without repeated or ellipsis indices: a loop nest of its
    own (native.py), used only while its iteration count stays small (BLAS wins beyond)."""

    MAX_ITERATIONS = 1 << 12

    def check(self, eqn):
        spec = eqn.params["spec"]
        if "." in spec:
            return False
        ins, out = spec.split("->")
        ins = ins.split(",")
        if any(len(set(s)) != len(s) for s in ins) or len(set(out)) != len(out):
            return False
        size = {c: n for s, v in zip(ins, eqn.inputs) for c, n in zip(s, v.spec.shape)}
        return math.prod(size.values()) <= self.MAX_ITERATIONS

    def read(self, w, eqn, idx):
        ins, out = eqn.params["spec"].split("->")
        ins = ins.split(",")
        size = {c: n for s, v in zip(ins, eqn.inputs) for c, n in zip(s, v.spec.shape)}
        summed = [c for c in size if c not in out]
        if not summed:      # a product: no sum to start at zero (which would turn -0 to 0)
            return w.let(" * ".join(w.read(v, [idx[out.index(c)] for c in s])
                                    for s, v in zip(ins, eqn.inputs)))
        acc = w.let("_T(0.0)")
        with w.loops([size[c] for c in summed]) as inner:
            at = dict(zip(out, idx)) | dict(zip(summed, inner))
            vals = [w.read(v, [at[c] for c in s]) for s, v in zip(ins, eqn.inputs)]
            w.line(f"{acc} = {acc} + {' * '.join(vals)}")
        return acc


# Primitive -> Rule, filled by the primitive families next to their other rules (defrule),
# as fusion's templates are; elementwise primitives with a fusion template need no entry.
RULES: dict = {}


def defrule(prim, rule: Rule) -> None:
    RULES[prim] = rule


def table() -> dict:
    """Primitive -> Rule: fusion's templates as elementwise rules, then RULES."""
    rules = {p: Elementwise(t.expr) for p, t in fusion.TEMPLATE.items()}
    rules.update(RULES)
    return rules
