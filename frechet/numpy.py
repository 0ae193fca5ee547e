"""frechet.numpy: NumPy's API on traced and plain arrays, differentiable.

Code written with `import numpy as np` works on traced values unchanged (through NEP 13/18);
this module is the same API as a namespace (it is also what `__array_namespace__` returns).
"""

from numpy import (  # noqa: F401  constants, dtypes and constructors of constants
    arange,
    bool_,
    complex64,
    complex128,
    diag_indices,
    dtype,
    e,
    empty,
    euler_gamma,
    eye,
    finfo,
    float16,
    float32,
    float64,
    full,
    identity,
    iinfo,
    indices,
    inf,
    int8,
    int16,
    int32,
    int64,
    intp,
    mask_indices,
    nan,
    newaxis,
    ones,
    pi,
    tri,
    tril_indices,
    triu_indices,
    uint8,
    uint16,
    uint32,
    uint64,
    zeros,
)

from frechet._src.numpy import fft, linalg  # noqa: F401
from frechet._src.numpy.base import asarray
from frechet._src.numpy.contract import *
from frechet._src.numpy.creation import *
from frechet._src.numpy.histograms import *
from frechet._src.numpy.manipulation import *
from frechet._src.numpy.misc import *
from frechet._src.numpy.poly import *
from frechet._src.numpy.reductions import *
from frechet._src.numpy.sorting import *
from frechet._src.numpy.ufuncs import UFUNCS as _UFUNCS

globals().update(_UFUNCS)
array = asarray
del _UFUNCS
