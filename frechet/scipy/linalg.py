"""frechet.scipy.linalg: differentiable SciPy linear algebra (see
frechet/_src/numpy/scipy_linalg.py for the derivatives and conventions)."""

from frechet._src.numpy.scipy_linalg import (  # noqa: F401
    cho_factor,
    cho_solve,
    eigh,
    expm,
    expm_frechet,
    logm,
    lu_factor,
    lu_solve,
    solve_continuous_lyapunov,
    solve_sylvester,
    solve_triangular,
    sqrtm,
)
