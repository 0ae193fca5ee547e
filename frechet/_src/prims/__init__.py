"""The primitive set, one module per family. Importing this package defines them all."""

from frechet._src.prims import (  # noqa: F401
    shape, elementwise, reductions, indexing, contractions, special, sorting)
