"""Primitives are all registered at import, and passes find their rules by the Primitive
object (issue 14, item 2)."""

import subprocess
import sys
import textwrap

_SCRIPT = textwrap.dedent("""
    import numpy as np
    import frechet
    from frechet._src.core.primitive import REGISTRY
    before = sorted(REGISTRY)

    def body(c, x):
        return c * x + 1.0, c

    def f(x):
        c, ys = frechet.scan(body, x, np.arange(3.0))
        w = frechet.while_loop(lambda s: s[0] < 3, lambda s: (s[0] + 1, s[1] * x), (0, x))[1]
        return c + ys.sum() + w

    frechet.jit(frechet.grad(f))(1.5)
    frechet.grad(f)(1.5)
    frechet.make_program(f, 1.5)
    after = sorted(REGISTRY)
    print(sorted(set(after) - set(before)))
""")


def test_registry_after_import_is_complete():
    out = subprocess.run([sys.executable, "-c", _SCRIPT], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == "[]", out.stdout
