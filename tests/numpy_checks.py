"""The check of the tests of NumPy semantics (aliasing, allocate-and-fill, call forms): a
program run under frechet gives NumPy's value, and a gradient equal to central differences of
the NumPy run, eagerly, in forward mode and compiled (traced on one point, replayed on
another)."""

import numpy as np

import frechet as fr


def agrees_with_numpy(f, x, *, vmap=False):
    """f's value and gradient at x under frechet against NumPy's run of f (f may write into
    its argument, so every call gets a copy); with `vmap`, also the gradient batched."""
    want = f(x.copy())
    eps = 1e-6
    fd = np.array([(f(x + eps * e) - f(x - eps * e)) / (2 * eps) for e in np.eye(x.size)])
    v, g = fr.value_and_grad(f)(x.copy())
    np.testing.assert_allclose(v, want, rtol=1e-13, atol=1e-13)
    np.testing.assert_allclose(g, fd.reshape(x.shape), rtol=1e-6, atol=1e-7)
    _, t = fr.jvp(f, (x.copy(),), (np.ones_like(x),))
    np.testing.assert_allclose(t, fd.sum(), rtol=1e-6, atol=1e-7)
    jg = fr.jit(fr.grad(f))
    jg(x * 0.9 + 0.05)                  # traced here, then replayed on fresh arguments
    np.testing.assert_allclose(jg(x.copy()), g, rtol=1e-12, atol=1e-13)
    if vmap:
        np.testing.assert_allclose(fr.vmap(fr.grad(f))(np.stack([x, x])), np.stack([g, g]),
                                   rtol=1e-12, atol=1e-13)
    return g
