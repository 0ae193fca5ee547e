"""frechet on machines and environments other than the one it was written on: SciPy's array-API
mode, and (in test_fusion.py) a numba that is missing or cannot compile."""

import os
import subprocess
import sys

PROBE = """
import numpy as np, scipy.special as sp
import frechet as fr
print(fr.grad(lambda x: np.sum(fr.scipy.special.erf(x)))(np.zeros(2)))
try:
    fr.grad(lambda x: np.sum(sp.erf(x)))(np.zeros(2))
except fr.TracerConversionError as e:
    print(e)
"""


def test_imports_and_names_the_fix_in_scipy_array_api_mode():
    # with SCIPY_ARRAY_API=1 scipy.special's functions are Python wrappers, not ufuncs
    env = dict(os.environ, SCIPY_ARRAY_API="1")
    out = subprocess.run([sys.executable, "-c", PROBE], env=env, capture_output=True, text=True,
                         check=True).stdout
    assert "[1.12837917 1.12837917]" in out
    assert "call frechet.scipy.special.erf instead" in out


def _message(f, x):
    import pytest

    import frechet as fr
    with pytest.raises((fr.TracerConversionError, fr.UnsupportedFunctionError)) as info:
        fr.grad(f)(x)
    return str(info.value)


def test_scipy_messages_name_the_frechet_equivalent():
    import numpy as np
    import scipy.linalg
    import scipy.signal
    import scipy.special
    import scipy.stats
    from scipy.linalg import expm
    a = np.eye(3) * 2.0
    cases = {
        "frechet.scipy.linalg.cho_factor": lambda a: np.sum(scipy.linalg.cho_factor(a)[0]),
        "frechet.scipy.linalg.expm": lambda a: np.sum(expm(a)),
        "frechet.scipy.stats.norm.logpdf": lambda a: np.sum(scipy.stats.norm.logpdf(a)),
        "frechet.scipy.signal.convolve": lambda a: np.sum(scipy.signal.convolve(a, a)),
    }
    for name, f in cases.items():
        assert _message(f, a).startswith(f"call {name} instead"), name
    # SciPy's ufuncs are named as SciPy's, never as np.*
    assert "the ufunc scipy.special.jv is not supported" in _message(
        lambda a: np.sum(scipy.special.jv(1, a)), a)
