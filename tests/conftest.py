import frechet  # noqa: F401  (installs the tracer methods before tests import numpy code)
