"""frechet.extend: what rule authors need to add primitives.

Example:
  >>> import numpy as np
  >>> from frechet import extend as fx
  >>> softplus_p = fx.primitive("my_softplus", lambda x: np.logaddexp(0.0, x), lambda x: x)
  >>> fx.defjvp_scale(softplus_p, lambda x, ans: fx.ops.expit(x))
  >>> fx.defvectorized(softplus_p)
"""

from frechet._src.core.backend import (
    defbackend,
    dtype_of,
    is_foreign,
    neutral,
    to_host,
    to_library,
)
from frechet._src.core.primitive import Primitive, primitive
from frechet._src.core.spec import ArraySpec, spec_of
from frechet._src.core.trace import Trace, Tracer
from frechet._src.interpreters.ad import UndefinedPrimal, is_undefined
from frechet._src.interpreters.dispatching import call_on_library
from frechet._src.ir.program import Eqn, Program, Var, evaluate, pretty, typecheck
from frechet._src.numpy.namespace import numpy_for
from frechet._src.prims import ops
from frechet._src.prims.rules import (
    defbilinear,
    defjvp,
    defjvp_output,
    defjvp_scale,
    deflinear,
    defvectorized,
    defzero,
)
from frechet._src.testing import check_grads, check_transpose

__all__ = [
    "ArraySpec", "Eqn", "Primitive", "Program", "Trace", "Tracer", "UndefinedPrimal", "Var",
    "call_on_library", "check_grads", "check_transpose", "defbackend", "defbilinear", "defjvp",
    "defjvp_output", "defjvp_scale", "deflinear", "defvectorized", "defzero", "dtype_of",
    "evaluate", "is_foreign", "is_undefined", "neutral", "numpy_for", "ops", "pretty",
    "primitive", "spec_of", "to_host", "to_library", "typecheck",
]
