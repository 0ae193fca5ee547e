"""frechet.numpy: NumPy's API on traced and plain arrays, differentiable.

Code written with `import numpy as np` works on traced values unchanged (through NEP 13/18);
this module is the same API as a namespace (it is also what `__array_namespace__` returns).
"""

from numpy import (  # noqa: F401  constants, dtypes and constructors of constants
    bool_, complex64, complex128, dtype, e, euler_gamma, float16, float32, float64, finfo, iinfo,
    inf, int8, int16, int32, int64, intp, nan, newaxis, pi, uint8, uint16, uint32, uint64,
    arange, empty, eye, full, identity, ones, tri, zeros, indices, diag_indices, tril_indices,
    triu_indices, mask_indices)

from frechet._src.numpy.base import asarray  # noqa: F401
from frechet._src.numpy.contract import *  # noqa: F401,F403
from frechet._src.numpy.creation import *  # noqa: F401,F403
from frechet._src.numpy.manipulation import *  # noqa: F401,F403
from frechet._src.numpy.misc import *  # noqa: F401,F403
from frechet._src.numpy.poly import *  # noqa: F401,F403
from frechet._src.numpy.reductions import *  # noqa: F401,F403
from frechet._src.numpy.sorting import *  # noqa: F401,F403
from frechet._src.numpy.ufuncs import UFUNCS as _UFUNCS

globals().update(_UFUNCS)
array = asarray
del _UFUNCS
