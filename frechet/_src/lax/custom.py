"""custom_jvp and custom_vjp: user-given derivative rules.

A custom JVP rule is used by forward mode and, since it is linear in the tangents, by
linearization, so reverse mode comes from transposing it. A custom VJP rule gives reverse mode
only: under linearization the function's tangent becomes one `custom_vjp_lin` equation whose
transpose calls the user's `bwd` (the primitive lives in interpreters/ad.py, which emits it).
"""

from __future__ import annotations

import functools

from frechet._src import tree
from frechet._src.core import trace as _trace
from frechet._src.core.registry import front_end


def _flat_args(args):
    leaves, treedef = tree.flatten(args)
    return [front_end().asarray(x) if not hasattr(x, "shape") else x for x in leaves], treedef


def _flat_fun(fun, treedef, out_tree):
    """fun on flat leaves, returning flat leaves and recording the output structure."""
    def flat(*xs):
        ol, ot = tree.flatten(fun(*tree.unflatten(treedef, xs)))
        out_tree.append(ot)
        return ol
    return flat


class custom_jvp:
    """A function with a user-given JVP rule.

    Example:
      >>> @custom_jvp
      ... def f(x):
      ...     return np.sin(x)
      >>> @f.defjvp
      ... def f_jvp(primals, tangents):
      ...     (x,), (t,) = primals, tangents
      ...     return f(x), np.cos(x) * t
    """

    def __init__(self, fun):
        functools.update_wrapper(self, fun)
        self.fun = fun
        self.jvp = None

    def defjvp(self, jvp):
        self.jvp = jvp
        return jvp

    def __call__(self, *args):
        if self.jvp is None:
            raise AttributeError(f"custom_jvp {self.fun.__name__} has no rule; use .defjvp")
        leaves, treedef = _flat_args(args)
        out_tree = []

        flat_fun = _flat_fun(self.fun, treedef, out_tree)

        def flat_jvp(primals, tangents):
            p = tree.unflatten(treedef, primals)
            t = tree.unflatten(treedef, tangents)
            out, tout = self.jvp(tuple(p), tuple(t))
            ol, ot = tree.flatten(out)
            tl, _ = tree.flatten(tout)
            out_tree.append(ot)
            return ol, tl

        outs = _trace.current().process_custom_jvp(flat_fun, flat_jvp, leaves)
        return tree.unflatten(out_tree[-1], list(outs))


class custom_vjp:
    """A function with a user-given reverse-mode rule (`fwd` returns (output, residuals),
    `bwd(residuals, cotangent)` returns one cotangent per argument).

    Example:
      >>> @custom_vjp
      ... def f(x):
      ...     return np.sin(x)
      >>> f.defvjp(lambda x: (np.sin(x), np.cos(x)), lambda c, g: (c * g,))
    """

    def __init__(self, fun):
        functools.update_wrapper(self, fun)
        self.fun = fun
        self.fwd = self.bwd = None

    def defvjp(self, fwd, bwd):
        self.fwd, self.bwd = fwd, bwd

    def __call__(self, *args):
        if self.fwd is None:
            raise AttributeError(f"custom_vjp {self.fun.__name__} has no rule; use .defvjp")
        leaves, treedef = _flat_args(args)
        out_tree = []

        flat_fun = _flat_fun(self.fun, treedef, out_tree)

        def flat_fwd(*xs):
            out, res = self.fwd(*tree.unflatten(treedef, xs))
            ol, ot = tree.flatten(out)
            out_tree.append(ot)
            return ol, res

        def flat_bwd(res, ct):
            cts = self.bwd(res, tree.unflatten(out_tree[-1], list(ct) if isinstance(ct, tuple)
                                               else [ct]))
            cts = tuple(cts) if isinstance(cts, (tuple, list)) else (cts,)
            if len(cts) != len(args):
                raise TypeError(f"custom_vjp bwd of {self.fun.__name__} returned {len(cts)} "
                                f"cotangents for {len(args)} arguments")
            flat = []
            for a, c in zip(args, cts):    # None stands for a zero cotangent of a whole argument
                n = len(tree.flatten(a)[0])
                flat.extend([None] * n if c is None else tree.flatten(c)[0])
            return flat

        outs = _trace.current().process_custom_vjp(flat_fun, flat_fwd, flat_bwd, leaves)
        return tree.unflatten(out_tree[-1], list(outs))
