"""The cond primitive: cond and switch with staged predicates (make_program, jit)."""

import numpy as np
import pytest

import frechet as fr


def f(x, theta):
    # theta is closed over by the branches (lifted to an operand of the primitive)
    return fr.cond(np.sum(x) > 0, lambda x: np.sin(x) * theta, lambda x: np.cos(x) - x * theta,
                   x)


def loss(x, theta):
    return np.sum(f(x, theta) ** 2)


X, THETA = np.array([0.5, -0.2, 0.3]), np.float64(1.5)


def test_make_program_shows_the_branches():
    program = fr.make_program(f)(X, THETA)
    names = [e.primitive.name for e in program.eqns]
    assert "cond" in names and "sin" not in names
    assert "sin" in str(program) and "cos" in str(program)


def test_jit_compiles_both_branches_once():
    g = fr.jit(f)
    for x in (X, -X, 2 * X, -3 * X):
        np.testing.assert_allclose(g(x, THETA), f(x, THETA), rtol=1e-15)
    assert g.trace_count == 1


@pytest.mark.parametrize("sign", [1, -1])
def test_derivatives_through_a_staged_cond(sign):
    x = sign * X
    want = fr.grad(loss, argnums=(0, 1))(x, THETA)
    got = fr.jit(fr.grad(loss, argnums=(0, 1)))(x, THETA)
    for a, b in zip(got, want):
        np.testing.assert_allclose(a, b, rtol=1e-13)
    np.testing.assert_allclose(fr.jit(fr.hessian(loss))(x, THETA), fr.hessian(loss)(x, THETA),
                               rtol=1e-12)
    np.testing.assert_allclose(fr.jit(fr.jacfwd(f))(x, THETA), fr.jacfwd(f)(x, THETA),
                               rtol=1e-13)
    np.testing.assert_allclose(fr.jit(fr.jacrev(f))(x, THETA), fr.jacrev(f)(x, THETA),
                               rtol=1e-13)
    # the linearization records the linear cond only: no primal work in the linear program
    _, lin = fr.linearize(fr.jit(lambda x: f(x, THETA)), x)
    np.testing.assert_allclose(lin(np.ones(3)), fr.jvp(lambda x: f(x, THETA), (x,),
                                                       (np.ones(3),))[1], rtol=1e-13)
    program = fr.make_program(fr.grad(loss))(x, THETA)
    conds = [e for e in program.eqns if e.primitive.name == "cond"]
    assert len(conds) == 2        # the known cond (primal, residuals) and the transposed one


def test_vmap_of_a_staged_cond():
    xs = np.stack([X, -X, 2 * X])
    # the predicate differs per example: every branch runs and each example selects
    np.testing.assert_allclose(fr.jit(fr.vmap(lambda x: f(x, THETA)))(xs),
                               np.stack([f(x, THETA) for x in xs]), rtol=1e-15)
    # an unbatched staged predicate with batched operands: the branches are batched

    def shared(t, xs):
        return fr.vmap(lambda x: fr.cond(t > 0, np.sin, np.cos, x))(xs)
    for t in (1.0, -1.0):
        np.testing.assert_allclose(fr.jit(shared)(t, xs), shared(t, xs), rtol=1e-15)
        g = fr.jit(fr.grad(lambda xs, t: np.sum(shared(t, xs))))
        np.testing.assert_allclose(g(xs, t), np.cos(xs) if t > 0 else -np.sin(xs), rtol=1e-14)


def test_staged_switch():
    def g(i, x):
        return fr.switch(i, [lambda x: x * 2.0, lambda x: np.sin(x), lambda x: x ** 3], x)
    h = fr.jit(g)
    for i in (-1, 0, 1, 2, 5):           # clamped to the branches, as in JAX
        np.testing.assert_allclose(h(i, X), g(i, X), rtol=1e-15)
        np.testing.assert_allclose(fr.jit(fr.grad(lambda x, i: np.sum(g(i, x))))(X, i),
                                   fr.grad(lambda x, i=i: np.sum(g(i, x)))(X), rtol=1e-14)
    assert "cond" in str(fr.make_program(g)(1, X))


def test_branches_must_agree():
    with pytest.raises(TypeError, match="same specs"):
        fr.make_program(lambda x: fr.cond(x[0] > 0, lambda x: x, lambda x: x[:2], x))(X)
    with pytest.raises(TypeError, match="different structures"):
        fr.make_program(lambda x: fr.cond(x[0] > 0, lambda x: (x, x), lambda x: x, x))(X)


def test_partial_eval_splits_a_jvp_program():
    from frechet._src.ir.partial_eval import partial_eval
    from frechet._src.ir.program import evaluate, typecheck

    def jvp_fn(x, t):
        return list(fr.jvp(lambda x: np.sin(x) * x, (x,), (t,)))
    program = fr.make_program(jvp_fn)(X, np.ones(3))
    known, unknown, res = partial_eval(program, [False, True], [False, True])
    typecheck(known)
    typecheck(unknown)
    assert {e.primitive.name for e in unknown.eqns} <= {"multiply", "add_any", "add"}
    assert "sin" in {e.primitive.name for e in known.eqns}
    t = np.array([1.0, -2.0, 0.5])
    out, *residuals = evaluate(known, X)
    (tout,) = evaluate(unknown, *residuals, t)
    want = fr.jvp(lambda x: np.sin(x) * x, (X,), (t,))
    np.testing.assert_allclose(out, want[0], rtol=1e-15)
    np.testing.assert_allclose(tout, want[1], rtol=1e-15)
    assert len(res) == len(residuals)
