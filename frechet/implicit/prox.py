"""Proximal operators and projections, written in NumPy operations so that frechet
differentiates them in their input and in their hyperparameters.

Each is called `prox(x, hyperparams, scaling=1.0)` (jaxopt's convention) and returns

    argmin_y  1/2 |x - y|^2 + scaling * g(y, hyperparams)

for its function g; projections (g the indicator of a set) ignore `scaling`. `scaling` may be
an array that broadcasts against x (BlockCoordinateDescent passes one step per block).

Kinks: at a point where the operator is not differentiable (|x_i| = threshold for the
soft-threshold, x_i on a bound for a projection) the derivative is the one of the
thresholded or clipped side, zero in x (a zero subgradient): the coordinate counts as off
the support. Everywhere else the derivative is the exact one.

Example:
  >>> import numpy as np
  >>> import frechet as fr
  >>> from frechet.implicit import prox
  >>> prox.l1(np.array([3.0, -0.5, -2.0]), 1.0)
  array([ 2.,  0., -1.])
  >>> float(fr.grad(lambda lam: prox.l1(np.array([3.0, 2.0, 0.5]), lam).sum())(1.0))  # -2
  -2.0
"""

from __future__ import annotations

import numpy as np

__all__ = ["box", "elastic_net", "group_l1", "l1", "l2_ball", "nonnegative", "simplex"]


def _soft(x, t):
    """Soft-thresholding sign(x) max(|x| - t, 0), with derivative zero at |x| = t."""
    return np.where(np.abs(x) > t, x - t * np.sign(x), np.zeros_like(x))


def _pair(hyperparams, name, what):
    if not (isinstance(hyperparams, (tuple, list)) and len(hyperparams) == 2):
        raise TypeError(f"pass hyperparams to prox.{name} as a pair {what}; "
                        f"got {type(hyperparams).__name__}")
    return hyperparams


def l1(x, hyperparams=1.0, scaling=1.0):
    """The proximal operator of hyperparams * |y|_1: soft-thresholding at scaling * hyperparams.

    Args:
      x: an array.
      hyperparams: the regularisation strength lam >= 0, a number or an array that
        broadcasts against x (one weight per coordinate).
      scaling: a step size multiplying lam.

    Returns:
      sign(x) * max(|x| - scaling * lam, 0). Derivatives: 1 in x and -scaling * sign(x) in
      lam on the support |x| > scaling * lam, zero off it (and at |x| = scaling * lam).

    Example:
      >>> import numpy as np
      >>> from frechet.implicit import prox
      >>> prox.l1(np.array([1.5, 0.2]), 0.5)
      array([1., 0.])
    """
    return _soft(x, scaling * hyperparams)


def elastic_net(x, hyperparams=(1.0, 1.0), scaling=1.0):
    """The proximal operator of lam * (|y|_1 + gamma/2 |y|^2), hyperparams = (lam, gamma).

    Returns:
      soft(x, scaling * lam) / (1 + scaling * lam * gamma) (jaxopt's prox_elastic_net).

    Example:
      >>> import numpy as np
      >>> from frechet.implicit import prox
      >>> prox.elastic_net(np.array([3.0, -0.5]), (1.0, 1.0))
      array([1., 0.])
    """
    lam, gamma = _pair(hyperparams, "elastic_net", "(lam, gamma)")
    return _soft(x, scaling * lam) / (1.0 + scaling * lam * gamma)


def group_l1(x, hyperparams=1.0, scaling=1.0):
    """The proximal operator of lam * sum_g |y_g|_2 (block soft-thresholding), groups along
    the last axis.

    Each x[..., :] is one group: a 1-D x is one group (as jaxopt's prox_group_lasso), an
    (n_groups, group_size) x has one group per row.

    Args:
      x: an array, groups along its last axis.
      hyperparams: lam, a number or an array of shape x.shape[:-1] (one weight per group).
      scaling: a step size multiplying lam (broadcasting against x, e.g. shape (n_groups, 1)).

    Returns:
      x_g * max(1 - scaling * lam / |x_g|, 0) for each group; zero (with zero derivative)
      where |x_g| <= scaling * lam.

    Example:
      >>> import numpy as np
      >>> from frechet.implicit import prox
      >>> prox.group_l1(np.array([[3.0, 4.0], [0.3, 0.4]]), 2.5)
      array([[1.5, 2. ],
             [0. , 0. ]])
    """
    t = scaling * np.expand_dims(hyperparams, -1)
    sq = np.sum(x * x, axis=-1, keepdims=True)
    active = sq > t * t
    # Note: |x_g| is taken only where the group survives, so a zero group (where the norm's
    # derivative is 0/0) contributes an exact zero derivative, never NaN
    norm = np.sqrt(np.where(active, sq, 1.0))
    return np.where(active, x * (1.0 - t / norm), np.zeros_like(x))


def nonnegative(x, hyperparams=None, scaling=1.0):
    """Projection onto the non-negative orthant: max(x, 0) (derivative 0 at x = 0).

    Example:
      >>> import numpy as np
      >>> from frechet.implicit import prox
      >>> prox.nonnegative(np.array([-1.0, 2.0]))
      array([0., 2.])
    """
    return np.where(x > 0, x, np.zeros_like(x))


def box(x, hyperparams, scaling=1.0):
    """Projection onto the box lower <= y <= upper, hyperparams = (lower, upper).

    The bounds are numbers or arrays broadcasting against x; the derivative in a bound is 1
    on the coordinates clipped to it (those on the bound included), 0 elsewhere.

    Example:
      >>> import numpy as np
      >>> from frechet.implicit import prox
      >>> prox.box(np.array([-2.0, 0.5, 3.0]), (-1.0, 1.0))
      array([-1. ,  0.5,  1. ])
    """
    lower, upper = _pair(hyperparams, "box", "(lower, upper)")
    zero = np.zeros_like(x)
    return np.where(x <= lower, lower + zero, np.where(x >= upper, upper + zero, x))


def simplex(x, hyperparams=1.0, scaling=1.0):
    """Projection onto the simplex {y >= 0, sum(y) = hyperparams} along the last axis
    (hyperparams = 1: the probability simplex).

    Sort-based (Held, Wolfe and Crowder; Duchi et al. 2008): the threshold is
    tau = max_j (sum of the j largest entries - value) / j, and y = max(x - tau, 0). The
    derivative is the projection's: on the support S, dy = (I - 1 1^T / |S|) dx + 1/|S| dvalue.

    Example:
      >>> import numpy as np
      >>> from frechet.implicit import prox
      >>> prox.simplex(np.array([0.5, 0.3, -0.2, 0.9]))
      array([0.26666667, 0.06666667, 0.        , 0.66666667])
    """
    u = np.flip(np.sort(x, axis=-1), axis=-1)
    j = np.arange(1, x.shape[-1] + 1, dtype=np.result_type(x, 1.0))
    value = np.expand_dims(hyperparams, -1)
    tau = np.max((np.cumsum(u, axis=-1) - value) / j, axis=-1, keepdims=True)
    return np.where(x > tau, x - tau, np.zeros_like(x))


def l2_ball(x, hyperparams=1.0, scaling=1.0):
    """Projection onto the Euclidean ball {|y|_2 <= hyperparams} (all entries of x).

    Returns:
      x * r / max(|x|, r) for the radius r: x inside the ball (derivative I in x, 0 in r),
      x r / |x| outside.

    Example:
      >>> import numpy as np
      >>> from frechet.implicit import prox
      >>> prox.l2_ball(np.array([3.0, 4.0]), 1.0)
      array([0.6, 0.8])
    """
    sq = np.sum(x * x)
    r = hyperparams
    outside = sq > r * r
    norm = np.sqrt(np.where(outside, sq, 1.0))
    return np.where(outside, x * (r / norm), x)
