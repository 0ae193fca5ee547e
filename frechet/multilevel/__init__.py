"""frechet.multilevel: multilevel optimisation as a graph of problems (Betty's design), with
exact, checkable hypergradients along every path and a choice of method per problem.

`Problem(name, loss, params, optimiser, method=None, steps=1)`; `Engine(problems,
upper_to_lower={...}, lower_to_upper={...})`; `engine.run(iterations, data=None)`;
`engine.hypergradient(name)`; `check(engine)` compares every hypergradient with the exact
one and with finite differences. Methods: Unroll, Implicit, Neumann, FiniteDifference (an
approximation). Conventions: docs/multilevel.md.
"""

from frechet.multilevel._check import CheckReport, check
from frechet.multilevel._engine import Engine
from frechet.multilevel._methods import FiniteDifference, Implicit, Method, Neumann, Unroll
from frechet.multilevel._problem import Problem

__all__ = ["CheckReport", "Engine", "FiniteDifference", "Implicit", "Method", "Neumann",
           "Problem", "Unroll", "check"]
