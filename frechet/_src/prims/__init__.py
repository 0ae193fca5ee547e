"""The primitive set, one module per family. Importing this package defines them all."""

from frechet._src.prims import (  # noqa: F401
    contractions,
    elementwise,
    fft,
    indexing,
    linalg,
    matfun,
    reductions,
    shape,
    sorting,
    special,
    taylor_rules,
)
