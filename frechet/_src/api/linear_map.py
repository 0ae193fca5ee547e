"""LinearMap: the derivative of a program at a point, kept as a linear program.

`L(v)` evaluates the program (forward mode); `L.T(w)` runs its transpose (reverse mode);
`L.T` and `L.H` are LinearMaps themselves, staged from the backward pass. Maps compose with
`@`, add with `+` and scale with `*`. `to_dense()` materialises the matrix by pushing a whole
basis through the cheaper direction in one batched pass.
"""

from __future__ import annotations

import numpy as np

from frechet._src import tree
from frechet._src.core.backend import dtype_of
from frechet._src.core.spec import is_complex, spec_of
from frechet._src.errors import ShapeError
from frechet._src.interpreters.ad import backward_pass, pullback
from frechet._src.interpreters.batching import batch_flat
from frechet._src.interpreters.staging import StagedTracer, stage
from frechet._src.ir.program import Program, evaluate, pretty
from frechet._src.lax.ownership import owned, roots
from frechet._src.numpy.base import fit
from frechet._src.numpy.ufuncs import add, conjugate, multiply


class LinearMap:
    """A linear map between pytrees of arrays, represented by a linear Program.

    A LinearMap pickles: its program is data, saved with its primitives' registered names, so
    the process that loads it must have imported the modules defining any custom primitives.
    A program that holds a Python function pickle cannot save (a lambda given to a custom
    primitive, a custom_vjp rule) raises pickle.PicklingError naming that function.

    Args:
      program: the linear program from flat inputs to flat outputs.
      in_tree, out_tree: pytree structures of inputs and outputs.

    Example:
      >>> import pickle
      >>> _, L = frechet.linearize(np.sin, np.zeros(3))
      >>> pickle.loads(pickle.dumps(L))(np.ones(3))
      array([1., 1., 1.])
    """

    __slots__ = ("_T", "_kept", "in_tree", "out_tree", "program")

    def __init__(self, program: Program, in_tree, out_tree):
        self.program = program
        self.in_tree = in_tree
        self.out_tree = out_tree
        self._T = None
        self._kept = None       # the program's constants by owning array (see ownership.py)

    def _owned(self, results, given):
        """results the caller may write to, sharing memory with neither `given` nor the
        program's constants."""
        if self._kept is None:
            self._kept = roots(self.program.consts)
        return owned(results, given, self._kept)

    def __reduce__(self):
        # The program is data (primitives pickle by their registered name); the cached
        # transpose is not saved, and the tree structures are rebuilt from equal ones so that
        # the fast paths of tree.unflatten, which test identity, apply to the copy too.
        return (_unpickle, (self.program, self.in_tree, self.out_tree))

    # structure ------------------------------------------------------------------------------
    @property
    def in_specs(self):
        return tree.unflatten(self.in_tree, list(self.program.in_specs))

    @property
    def out_specs(self):
        return tree.unflatten(self.out_tree, list(self.program.out_specs))

    @property
    def shape(self) -> tuple[int, int]:
        """(total output size, total input size): the shape of `to_dense()`."""
        return (sum(s.size for s in self.program.out_specs),
                sum(s.size for s in self.program.in_specs))

    def _flat_in(self, v):
        return check_flat(v, self.in_tree, self.program.in_specs)

    def _flat_out(self, w):
        return check_flat(w, self.out_tree, self.program.out_specs)

    # application ------------------------------------------------------------------------------
    def __call__(self, v):
        v = self._flat_in(v)
        return tree.unflatten(self.out_tree, self._owned(evaluate(self.program, *v), v))

    def apply_transpose(self, w):
        """L^T w, by a backward pass over the program (no staging)."""
        w = self._flat_out(w)
        return tree.unflatten(self.in_tree, self._owned(pullback(self.program, w), w))

    @property
    def T(self) -> LinearMap:
        """The transpose (adjoint under the bilinear pairing Re(sum(a*b)))."""
        if self._T is None:
            specs = self.program.out_specs

            def back(*cts):
                res = backward_pass(self.program, list(cts))
                return [(None, s) if r is None else r for r, s in zip(res, self.program.in_specs)]
            self._T = LinearMap(_stage_linear(back, specs), self.out_tree, self.in_tree)
            self._T._T = self
        return self._T

    @property
    def H(self) -> LinearMap:
        """The conjugate transpose: v -> conj(L^T conj(v))."""
        if not any(is_complex(s.dtype) for s in self.program.in_specs + self.program.out_specs):
            return self.T
        t = self.T
        return _compose_flat(lambda *ws: [conjugate(x) for x in evaluate(
            t.program, *[conjugate(w) for w in ws])], t)

    def __matmul__(self, other: LinearMap) -> LinearMap:
        if not isinstance(other, LinearMap):
            return NotImplemented
        if other.program.out_specs != self.program.in_specs:
            raise ShapeError(f"cannot compose: {other.program.out_specs} into "
                             f"{self.program.in_specs}")
        prog = _stage_linear(lambda *v: evaluate(self.program, *evaluate(other.program, *v)),
                             other.program.in_specs)
        return LinearMap(prog, other.in_tree, self.out_tree)

    def __add__(self, other: LinearMap) -> LinearMap:
        if not isinstance(other, LinearMap):
            return NotImplemented
        if (other.program.in_specs, other.program.out_specs) != (
                self.program.in_specs, self.program.out_specs):
            raise ShapeError("cannot add linear maps of different input or output specs")
        return _compose_flat(lambda *v: [add(a, b) for a, b in zip(
            evaluate(self.program, *v), evaluate(other.program, *v))], self)

    def __mul__(self, c) -> LinearMap:
        if not np.isscalar(c):
            return NotImplemented
        return _compose_flat(lambda *v: [multiply(y, c) for y in evaluate(self.program, *v)], self)

    __rmul__ = __mul__

    def __neg__(self) -> LinearMap:
        return self * -1

    # densification ----------------------------------------------------------------------------
    def to_dense(self) -> np.ndarray:
        """The matrix of the map on raveled, concatenated inputs and outputs."""
        m, n = self.shape
        ins, outs = self.program.in_specs, self.program.out_specs
        if n <= m:
            cols = apply_basis(self.program, ins)                 # one array per output, (n, ...)
            mat = [np.reshape(c, (n, -1)) for c in cols]
            return np.concatenate(mat, axis=1).T if mat else np.zeros((0, n))
        rows = apply_basis(self.T.program, outs)
        mat = [np.reshape(r, (m, -1)) for r in rows]
        return np.concatenate(mat, axis=1) if mat else np.zeros((m, 0))

    def __str__(self) -> str:
        return pretty(self.program)

    def __repr__(self) -> str:
        return f"LinearMap(in={self.in_specs}, out={self.out_specs})\n{pretty(self.program)}"

    def as_operator(self):
        """A scipy.sparse.linalg.LinearOperator on the raveled inputs and outputs."""
        from scipy.sparse.linalg import LinearOperator
        ins, outs = self.program.in_specs, self.program.out_specs

        def split(v, specs):
            v = np.asarray(v).reshape(-1)
            parts, k = [], 0
            for s in specs:
                parts.append(v[k:k + s.size].reshape(s.shape).astype(s.dtype, copy=False))
                k += s.size
            return parts

        def join(xs):
            return np.concatenate([np.ravel(x) for x in xs]) if xs else np.zeros(0)

        def mv(v):
            return join(evaluate(self.program, *split(v, ins)))

        def rmv(w):
            t = self.H
            return join(evaluate(t.program, *split(w, outs)))
        dt = np.result_type(*[s.dtype for s in ins + outs])
        return LinearOperator(self.shape, matvec=mv, rmatvec=rmv, dtype=dt)


def _canonical(treedef):
    """The tree structure tree.flatten gives for structures equal to treedef."""
    return tree.flatten(tree.unflatten(treedef, [0] * treedef.num_leaves))[1]


def _unpickle(program: Program, in_tree, out_tree) -> LinearMap:
    return LinearMap(program, _canonical(in_tree), _canonical(out_tree))


def _stage_linear(fun, in_specs) -> Program:
    """Stage a linear function of flat inputs into a Program. An output that is not staged
    does not depend on the inputs, so (being linear) it is a symbolic zero."""
    st, ins, outs = stage(fun, in_specs, forward_known=True)
    fixed = [o if isinstance(o, tuple) or (type(o) is StagedTracer and o._trace is st)
             else (None, spec_of(o)) for o in outs]
    return st.build(ins, fixed)


def _compose_flat(fun, like: LinearMap) -> LinearMap:
    return LinearMap(_stage_linear(fun, like.program.in_specs), like.in_tree, like.out_tree)


def basis(specs):
    """The standard basis of the concatenated raveled inputs, one batch per input: entry k of
    the batch is the k-th unit vector."""
    n = sum(s.size for s in specs)
    out, k = [], 0
    for s in specs:
        b = np.zeros((n, s.size), s.dtype)
        b[np.arange(k, k + s.size), np.arange(s.size)] = 1
        out.append(b.reshape((n,) + s.shape))
        k += s.size
    return out


def apply_basis(program: Program, specs):
    """The program applied to every basis vector at once (one batched pass)."""
    if not specs or sum(s.size for s in specs) == 0:
        n = sum(s.size for s in specs)
        return [np.zeros((n,) + s.shape, s.dtype) for s in program.out_specs]
    return batch_flat(lambda *v: evaluate(program, *v), basis(specs), [True] * len(specs))


def check_flat(v, treedef, specs, what="linear map"):
    """The leaves of v, checked against the expected structure and specs (dtypes converted,
    except complex to real, which would drop a part)."""
    leaves, t = tree.flatten(v)
    if t != treedef:
        raise ShapeError(f"{what} takes values structured as {treedef}, got {t}")
    return check_leaves(leaves, specs, what)


def check_leaves(leaves, specs, what):
    """Flat values checked against specs: shapes equal, dtypes converted except complex to
    real (which would drop a part)."""
    out = []
    for x, s in zip(leaves, specs):
        x = x if hasattr(x, "shape") else np.asarray(x)
        if tuple(x.shape) != s.shape:
            raise ShapeError(f"{what} takes an array of shape {s.shape}, got {tuple(x.shape)}")
        if x.dtype != s.dtype and dtype_of(x) != s.dtype:
            if dtype_of(x).kind == "c" and s.dtype.kind != "c":
                raise TypeError(f"{what} takes a real value of dtype {s.dtype}, got a complex "
                                f"one ({x.dtype}); pass its real part if that is what you mean")
            x = fit(x, s.dtype, s.shape)
        out.append(x)
    return out
