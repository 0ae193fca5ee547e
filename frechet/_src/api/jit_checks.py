"""jit's input validation: static arguments against the function's signature, and the
arguments and results a trace can hold (arrays and numbers)."""

from __future__ import annotations

import inspect

import numpy as np

from frechet._src import tree
from frechet._src.core.backend import dtype_of, is_foreign
from frechet._src.core.trace import Tracer

_POSITIONAL = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
_NAMED = (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)


def _fun_name(fun) -> str:
    return getattr(fun, "__name__", type(fun).__name__)


def static_arguments(fun, static_argnums, static_argnames):
    """(static_argnums, static_argnames, whether fun's signature was inspected), checked
    against fun's signature where it can be read; each parameter named by one spelling is
    added under the other (as JAX does), so passing it by position or by keyword both work."""
    nums = (static_argnums,) if isinstance(static_argnums, int) else tuple(static_argnums)
    names = (static_argnames,) if isinstance(static_argnames, str) else tuple(static_argnames)
    try:
        params = list(inspect.signature(fun).parameters.values())
    except (TypeError, ValueError):     # a builtin or C function: checked at call time
        return nums, names, False
    positional = [p for p in params if p.kind in _POSITIONAL]
    named = {p.name: p for p in params if p.kind in _NAMED}
    var_pos = any(p.kind is inspect.Parameter.VAR_POSITIONAL for p in params)
    var_kw = any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params)
    n = len(positional)
    for i in nums:
        if not var_pos and not -n <= i < n:
            raise ValueError(
                f"jit({_fun_name(fun)}, static_argnums={static_argnums!r}): pass indices of "
                f"its positional parameters; {_fun_name(fun)} takes {n} "
                f"({', '.join(p.name for p in positional) or 'none'}), so {i} names none")
    for k in names:
        if not var_kw and k not in named:
            raise ValueError(
                f"jit({_fun_name(fun)}, static_argnames={static_argnames!r}): pass names of its "
                f"parameters ({', '.join(named) or 'none'}); {k!r} is not one")
    if var_pos:                          # positions past the named ones have no names
        return nums, names, True
    nums = tuple(sorted({i % n for i in nums} | {
        i for i, p in enumerate(positional) if p.name in names}))
    names = tuple(dict.fromkeys(names + tuple(
        positional[i].name for i in nums if positional[i].kind in _NAMED)))
    return nums, names, True


def check_static_in_range(fun, static_argnums, nargs):
    """For a function whose signature cannot be read: static_argnums within the call."""
    for i in static_argnums:
        if not -nargs <= i < nargs:
            raise ValueError(
                f"jit({_fun_name(fun)}, static_argnums={static_argnums!r}) was called with "
                f"{nargs} positional argument(s), so {i} names none: pass indices of arguments "
                "the function receives")


def _traceable(x) -> bool:
    try:
        if isinstance(x, Tracer):
            return True
        # another library's array is read by its dtype, never copied to NumPy
        return (dtype_of(x) if is_foreign(x) else np.asarray(x).dtype).kind in "biufc"
    except Exception:       # noqa: BLE001  (whatever NumPy cannot convert, jit cannot trace)
        return False


def check_inputs(name, leaves, args, kwargs, nums, fun):
    """Every traced argument an array or number; else a TypeError naming it and the fix."""
    if all(isinstance(x, Tracer) or dtype_of(x).kind in "biufc" for x in leaves):
        return
    for i, a in enumerate(args):
        if i not in nums and not all(_traceable(x) for x in tree.flatten(a)[0]):
            where = f"argument {i}"
            fix = f"jit({name}, static_argnums={i})"
            try:
                pname = list(inspect.signature(fun).parameters)[i]
                fix += f", or static_argnames={pname!r}"
            except (TypeError, ValueError, IndexError):
                pass
            break
    else:
        k = next((k for k, v in kwargs.items()
                  if not all(_traceable(x) for x in tree.flatten(v)[0])), None)
        if k is None:
            return              # no argument found to blame: left to tracing
        a, where, fix = kwargs[k], f"argument {k!r}", f"jit({name}, static_argnames={k!r})"
    raise TypeError(
        f"jit({name}): mark {where} static ({fix}): it is a {type(a).__name__} "
        f"({_short(a)}), which jit cannot trace (it traces arrays and numbers; a static "
        "argument reaches the function as it is, and each new value traces again)")


def check_outputs(name, leaves):
    """Every result an array or number; else a TypeError naming it."""
    for i, x in enumerate(leaves):
        if not _traceable(x):
            raise TypeError(
                f"jit({name}): return arrays and numbers only (pytrees of them); output {i} "
                f"is a {type(x).__name__} ({_short(x)}). Return other values from a function "
                "outside jit")


def _short(x) -> str:
    r = repr(x)
    return r if len(r) <= 40 else r[:37] + "..."
