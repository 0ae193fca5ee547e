"""Losses over a solution pool: noise-contrastive (NCE, CMAP; Mulamba et al. 2021) and
learning to rank (pointwise, pairwise, listwise; Mandi et al. 2022), PyEPO's definitions.

Each call first refreshes the pool as PyEPO does: `pool.solve(pred_cost)`, which with
probability `solve_ratio` solves the predicted costs and adds the solutions. The loss is
then a closed form in the predicted costs over the pool's solutions P (K, d): no solver
Jacobian, gradients by ordinary differentiation. s = pool.sense.value.

Note: under `jit` the pool is read while tracing and becomes a constant of the compiled
program; call these eagerly (or re-jit) when the pool should grow during training.
"""

from __future__ import annotations

from frechet.decision._pool import SolutionPool
from frechet.extend import is_foreign, numpy_for, to_library


def _pool_values(pred_cost, pool: SolutionPool, data):
    """Refresh the pool with the predicted costs; return the NumPy module for pred_cost and
    `data` (frechet.extend.numpy_for), P (K, d) and pred_cost @ P.T. The pool is kept on the
    host (its solvers' NumPy arrays): it is copied into the library of another library's
    pred_cost or data (torch tensors), which cannot multiply NumPy arrays."""
    pool.solve(pred_cost)
    solutions = pool.pool
    like = next((x for x in (pred_cost, data) if is_foreign(x)), None)
    if like is not None:
        solutions = to_library(solutions, like)
    return numpy_for(pred_cost, data), solutions, pred_cost @ solutions.T


def nce(pred_cost, true_sol, pool: SolutionPool):
    """Noise-contrastive loss: mean over the pool of s (c_hat^T w*(c) - c_hat^T p), per
    instance (PyEPO's NCE).

    Example:
      >>> import numpy as np
      >>> from frechet.decision import Argmax, SolutionPool
      >>> pool = SolutionPool(Argmax(), solve_ratio=0.0, initial=np.eye(3))
      >>> nce(np.array([[1.0, 2.0, 3.0]]), np.array([[0.0, 0.0, 1.0]]), pool)  # -(2 + 1 + 0)/3
      array([-1.])
    """
    xnp, _, values = _pool_values(pred_cost, pool, true_sol)
    own = xnp.sum(pred_cost * true_sol, axis=-1)
    return pool.sense.value * xnp.mean(own[..., None] - values, axis=-1)


def cmap(pred_cost, true_sol, pool: SolutionPool):
    """Contrastive MAP loss: the largest s (c_hat^T w*(c) - c_hat^T p) over the pool (>= 0
    when w*(c) is in the pool; 0 when it is the best pool member for c_hat).

    Example:
      >>> import numpy as np
      >>> from frechet.decision import Argmax, SolutionPool
      >>> pool = SolutionPool(Argmax(), solve_ratio=0.0, initial=np.eye(3))
      >>> cmap(np.array([[1.0, 2.0, 3.0]]), np.array([[0.0, 1.0, 0.0]]), pool)    # 3 - 2
      array([1.])
    """
    xnp, _, values = _pool_values(pred_cost, pool, true_sol)
    own = xnp.sum(pred_cost * true_sol, axis=-1)
    return xnp.max(pool.sense.value * (own[..., None] - values), axis=-1)


def pointwise_ltr(pred_cost, true_cost, pool: SolutionPool):
    """Pointwise ranking loss: mean over the pool of ((c - c_hat)^T p)^2 (PyEPO's ptLTR).

    Example:
      >>> import numpy as np
      >>> from frechet.decision import Argmax, SolutionPool
      >>> pool = SolutionPool(Argmax(), solve_ratio=0.0, initial=np.eye(2))
      >>> pointwise_ltr(np.array([[1.0, 1.0]]), np.array([[3.0, 1.0]]), pool)      # (4 + 0)/2
      array([2.])
    """
    xnp, solutions, values = _pool_values(pred_cost, pool, true_cost)
    return xnp.mean((true_cost @ solutions.T - values) ** 2, axis=-1)


def pairwise_ltr(pred_cost, true_cost, pool: SolutionPool):
    """Pairwise ranking loss: with b the pool's best member under the true costs, the sum
    over the pool of relu(s (c_hat^T b - c_hat^T p)) / (K - 1) (PyEPO's prLTR).

    Example:
      >>> import numpy as np
      >>> from frechet.decision import Argmax, SolutionPool
      >>> pool = SolutionPool(Argmax(), solve_ratio=0.0, initial=np.eye(3))
      >>> pairwise_ltr(np.array([[1.0, 2.0, 3.0]]), np.array([[5.0, 0.0, 0.0]]), pool)
      array([1.5])
    """
    xnp, solutions, values = _pool_values(pred_cost, pool, true_cost)
    s = pool.sense.value
    best = xnp.argmin(s * (true_cost @ solutions.T), axis=-1)
    at_best = xnp.take_along_axis(values, best[..., None], axis=-1)
    return (xnp.sum(xnp.maximum(s * (at_best - values), 0.0), axis=-1)
            / max(len(solutions) - 1, 1))


def listwise_ltr(pred_cost, true_cost, pool: SolutionPool):
    """Listwise ranking loss: the cross-entropy between softmax(-s c^T P) (clipped below at
    1e-8, as PyEPO does) and softmax(-s c_hat^T P) over the pool (PyEPO's lsLTR).

    Example:
      >>> import numpy as np
      >>> from frechet.decision import Argmax, SolutionPool
      >>> pool = SolutionPool(Argmax(), solve_ratio=0.0, initial=np.eye(2))
      >>> float(np.round(listwise_ltr(np.zeros((1, 2)), np.array([[1.0, 1.0]]), pool)[0], 6))
      0.693147
    """
    xnp, solutions, values = _pool_values(pred_cost, pool, true_cost)
    s = pool.sense.value
    target = _softmax(xnp, -s * (true_cost @ solutions.T))
    logits = -s * values
    shifted = logits - xnp.max(logits, axis=-1, keepdims=True)
    log_probs = shifted - xnp.log(xnp.sum(xnp.exp(shifted), axis=-1, keepdims=True))
    return -xnp.sum(log_probs * xnp.maximum(target, 1e-8), axis=-1)


def _softmax(xnp, z):
    e = xnp.exp(z - xnp.max(z, axis=-1, keepdims=True))
    return e / xnp.sum(e, axis=-1, keepdims=True)
