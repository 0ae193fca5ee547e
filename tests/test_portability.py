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
    assert "frechet.scipy.special.erf is its traced version" in out
