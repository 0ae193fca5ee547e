"""Rule authors add primitives through frechet.extend; the engine does the rest."""

import numpy as np
import pytest

import frechet as fr
from frechet import extend as fx

softplus_p = fx.primitive("test_ext_softplus", lambda x: np.logaddexp(0.0, x), lambda x: x)
fx.defjvp_scale(softplus_p, lambda x, ans: fx.ops.expit(x))
fx.defvectorized(softplus_p)

# A linear primitive: reverse cumulative sum, with its transpose (the forward cumulative sum).
rcumsum_p = fx.primitive("test_ext_rcumsum", lambda x: np.cumsum(x[::-1])[::-1], lambda x: x)
fx.deflinear(rcumsum_p, lambda ct, x: (np.cumsum(ct),))   # np.cumsum works on traced values
rcumsum_p.batch = lambda args, batched: np.stack([rcumsum_p.bind(a) for a in args[0]])


def test_extend_scale_rule():
    x = np.linspace(-2, 2, 5)
    g = fr.grad(lambda v: np.sum(softplus_p.bind(v)))(x)
    np.testing.assert_allclose(g, 1 / (1 + np.exp(-x)))
    fx.check_grads(softplus_p.bind, (x,), order=2)


def test_extend_linear_rule_and_transpose():
    x = np.arange(1.0, 5.0)
    _, L = fr.linearize(rcumsum_p.bind, x)
    fx.check_transpose(L)
    np.testing.assert_allclose(L.to_dense(), np.triu(np.ones((4, 4))))
    fx.check_grads(lambda v: rcumsum_p.bind(v) ** 2, (x,), order=2)


def test_extend_missing_transpose_raises_naming_it():
    p = fx.primitive("test_ext_nolinear", lambda x: 2 * x, lambda x: x)
    p.jvp = lambda primals, tangents: (p.bind(*primals), p.bind(*tangents))
    with pytest.raises(fr.NonDifferentiableError, match="'test_ext_nolinear'.*no transpose"):
        fr.grad(lambda v: np.sum(p.bind(v)))(np.ones(3))


def test_an_impl_in_user_code_gets_numpy_arrays_while_a_transformation_runs():
    # np.zeros in the user's own code is a fillable traced array inside a transformation,
    # but an impl computes on plain arrays: it must get NumPy's
    def impl(x):
        out = np.zeros(x.shape)
        out[...] = 2.0 * x
        return out
    p = fx.primitive("test_impl_allocates", impl, lambda x: x)
    p.jvp = lambda primals, tangents: (p.bind(*primals), 2.0 * tangents[0])
    np.testing.assert_allclose(fr.grad(lambda x: np.sum(p.bind(x) * x))(np.ones(3)), 4.0)
