"""The API-level transformations (grad and Jacobians, vmap, jit, LinearMap): above the NumPy
and SciPy front ends, below the libraries and the public facade."""
