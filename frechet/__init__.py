"""frechet: exact derivatives of plain NumPy code.

The derivative of a program at a point is a linear map, kept as a small program of linear
primitives; reverse mode is its transpose.
"""

from frechet import (
                     bounds,
                     checkpoint_policies,
                     decision,
                     implicit,
                     linalg,
                     multilevel,
                     numpy,
                     optim,
                     optimize,
                     scipy,
                     zero_order,
)
from frechet._src import prims as _prims  # noqa: F401  (defines the primitives)
from frechet._src.api.api import (
                     eval_shape,
                     grad,
                     hessian,
                     hvp,
                     jacfwd,
                     jacobian,
                     jacrev,
                     jvp,
                     linear_transpose,
                     linearize,
                     make_program,
                     stop_gradient,
                     value_and_grad,
                     vjp,
)
from frechet._src.api.jit import jit
from frechet._src.api.linear_map import LinearMap
from frechet._src.api.vmap import vmap
from frechet._src.config import config
from frechet._src.core import registry as _registry
from frechet._src.errors import (
                     BackendError,
                     ConcretizationError,
                     EscapedTracerError,
                     FrechetError,
                     NonDifferentiableError,
                     RetracingWarning,
                     ShapeError,
                     TracerConversionError,
                     UnsupportedFunctionError,
)
from frechet._src.interpreters.collapsed import laplacian, second_order
from frechet._src.interpreters.jet import derivatives, jet, taylor
from frechet._src.ir.program import Program
from frechet._src.lax.checkpoint import checkpoint, remat
from frechet._src.lax.collectives import all_gather, axis_index, pmax, pmean, psum
from frechet._src.lax.control_flow import cond, fori_loop, scan, switch, while_loop
from frechet._src.lax.custom import custom_jvp, custom_vjp
from frechet._src.numpy import tracer_methods as _tracer_methods  # noqa: F401
from frechet._src.tree import register_dataclass

_registry.set_front_end(numpy)   # rules below the front end written in NumPy's terms use it

__all__ = [
    "BackendError", "ConcretizationError", "EscapedTracerError", "FrechetError", "LinearMap",
    "NonDifferentiableError", "Program", "RetracingWarning", "ShapeError", "TracerConversionError",
    "UnsupportedFunctionError", "all_gather", "axis_index", "bounds", "checkpoint", "checkpoint_policies", "cond", "config", "custom_jvp", "custom_vjp",
    "decision",
    "derivatives", "eval_shape", "fori_loop", "grad", "hessian", "hvp", "implicit", "jacfwd", "jacobian", "jacrev", "jet", "jit", "jvp", "laplacian",
    "linalg", "linear_transpose", "linearize", "make_program", "multilevel", "numpy", "optim", "optimize", "pmax", "pmean", "psum",
    "register_dataclass", "remat", "scan", "scipy", "second_order", "stop_gradient", "switch", "taylor", "value_and_grad", "vjp", "vmap",
    "while_loop", "zero_order",
]
__version__ = "0.1.0"
