"""SPO+ loss, the blackbox-interpolation (DBB) and negative-identity (NID) layers, regret.

Notation: w*(c) the oracle's solution, z*(c) = c^T w*(c), c_hat the predicted costs, c the
true ones, s = oracle.sense.value (1 for minimisation, -1 for maximisation). The conventions
for maximisation are PyEPO's.
"""

from __future__ import annotations

import numpy as np

import frechet as fr
from frechet.decision._oracle import Oracle
from frechet.extend import numpy_for


def spo_plus(pred_cost, true_cost, true_sol, true_obj, oracle: Oracle):
    """The SPO+ loss (Elmachtoub and Grigas), one value per instance.

    Minimisation: -z*(2 c_hat - c) + 2 c_hat^T w*(c) - z*(c); maximisation: the same times
    -1 (PyEPO's). Convex in c_hat, >= the regret, zero at c_hat = c. Its gradient in c_hat is
    the subgradient s * 2 (w*(c) - w*(2 c_hat - c)) (Danskin; no rule of its own needed).

    Args:
      pred_cost, true_cost, true_sol: (B, d) (or (d,)); true_sol = w*(c).
      true_obj: (B,) (or scalar), z*(c).
      oracle: the problem's Oracle.

    Returns:
      The losses, shape (B,).

    Example:
      >>> import numpy as np
      >>> from frechet.decision import Argmax
      >>> c = np.array([[1.0, 2.0]])
      >>> w, z = Argmax().solve(c)
      >>> spo_plus(np.array([[2.0, 0.0]]), c, w, z, Argmax())    # regret 1 <= SPO+ 5
      array([5.])
    """
    _check_instances(pred_cost, true_cost, true_obj, true_sol)
    _, z_spo = oracle.solve(2.0 * pred_cost - true_cost)
    s = oracle.sense.value
    xnp = numpy_for(pred_cost, true_sol)
    return s * (2.0 * xnp.sum(pred_cost * true_sol, axis=-1) - z_spo - true_obj)


def regret(pred_cost, true_cost, true_obj, oracle: Oracle):
    """The regret of deciding with the predicted costs, per instance: s * (c^T w*(c_hat) -
    z*(c)) >= 0. Piecewise constant in c_hat: its derivative there is zero.

    Example:
      >>> import numpy as np
      >>> from frechet.decision import Argmax
      >>> regret(np.array([[2.0, 0.0]]), np.array([[1.0, 2.0]]), np.array([2.0]), Argmax())
      array([1.])
    """
    _check_instances(pred_cost, true_cost, true_obj)
    sols, _ = oracle.solve(pred_cost)
    xnp = numpy_for(true_cost, sols)
    return oracle.sense.value * (xnp.sum(true_cost * sols, axis=-1) - true_obj)


def normalized_regret(pred_cost, true_cost, true_obj, oracle: Oracle):
    """PyEPO's normalised regret of a data set: sum of the regrets / sum of |z*(c)|.

    Example:
      >>> import numpy as np
      >>> from frechet.decision import Argmax
      >>> c = np.array([[1.0, 2.0], [3.0, 1.0]])
      >>> float(normalized_regret(-c, c, Argmax().solve(c)[1], Argmax()))   # (1 + 2) / 5
      0.6
    """
    r = regret(pred_cost, true_cost, true_obj, oracle)
    xnp = numpy_for(r, true_obj)
    return xnp.sum(r) / xnp.sum(xnp.abs(true_obj))


def _check_instances(pred_cost, true_cost, true_obj, true_sol=None):
    """Costs (and solutions) of one shape (..., d), objectives of shape (...): PyEPO keeps
    z* as (B, 1), which would broadcast against (B,) into a (B, B) loss."""
    shape = np.shape(pred_cost)
    for name, value in (("true_cost", true_cost), ("true_sol", true_sol)):
        if value is not None and np.shape(value) != shape:
            raise fr.ShapeError(f"pass {name} with pred_cost's shape {shape}; got "
                                f"{np.shape(value)}")
    if np.shape(true_obj) != shape[:-1]:
        raise fr.ShapeError(f"pass true_obj of shape {shape[:-1]} (one per instance); got "
                            f"{np.shape(true_obj)}")


def dbb(oracle: Oracle, lam: float = 10.0):
    """The differentiable black-box layer (Vlastelica et al.): costs -> w*(c_hat), whose
    backward pass for an upstream gradient g re-solves at c_hat + s lam g and returns
    s (w*(c_hat + s lam g) - w*(c_hat)) / lam, the gradient of a piecewise-linear
    interpolation of the loss (PyEPO's signs for maximisation).

    Args:
      oracle: the problem's Oracle.
      lam: the interpolation step lambda > 0 (PyEPO's paper: 20 shortest path, 10 knapsack).

    Returns:
      A function of costs (B, d) (or (d,)) returning the solutions.

    Example:
      >>> import numpy as np, frechet as fr
      >>> from frechet.decision import Argmax
      >>> layer = dbb(Argmax(), lam=1.0)
      >>> fr.grad(lambda c: layer(c)[0])(np.array([1.0, 0.5]))   # w*([1, 0.5] - e0) = e1
      array([ 1., -1.])
    """
    if not lam > 0:
        raise ValueError(f"pass lam > 0; got {lam!r}")
    s = oracle.sense.value

    @fr.custom_vjp
    def layer(costs):
        return oracle.solve(costs)[0]

    def fwd(costs):
        sols = oracle.solve(costs)[0]
        return sols, (costs, sols)

    def bwd(res, g):
        costs, sols = res
        moved = oracle.solve(costs + s * lam * g)[0]
        return (s * (moved - sols) / lam,)

    layer.defvjp(fwd, bwd)
    return layer


def nid(oracle: Oracle):
    """The negative-identity layer (Sahoo et al.): costs -> w*(c_hat), whose backward pass
    returns -s g for an upstream gradient g (no extra solve): the solver's Jacobian replaced
    by -I (minimisation) or I (maximisation).

    Example:
      >>> import numpy as np, frechet as fr
      >>> from frechet.decision import Argmax
      >>> fr.grad(lambda c: np.sum(nid(Argmax())(c) * np.array([1.0, 2.0])))(np.zeros(2))
      array([1., 2.])
    """
    s = oracle.sense.value

    @fr.custom_vjp
    def layer(costs):
        return oracle.solve(costs)[0]

    layer.defvjp(lambda costs: (oracle.solve(costs)[0], None), lambda _, g: (-s * g,))
    return layer
