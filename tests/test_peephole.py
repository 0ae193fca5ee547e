"""jit's simplification passes: forwarding of pieces (ir/peephole.py), constant folding."""

import numpy as np
import pytest

import frechet as fr
from frechet._src.ir.peephole import forward_pieces


def names(f, *args):
    return [e.primitive.name for e in fr.make_program(fr.jit(f))(*args).eqns]


def pendulum(theta, x, steps=4, dt=0.1):
    for _ in range(steps):
        x0, x1 = x[0], x[1]
        x = np.stack([x0 + dt * x1, x1 + dt * (-theta[0] * np.sin(x0) - theta[1] * x1)])
    return np.sum(x**2)


THETA, X0 = np.array([1.0, 0.1]), np.array([1.0, 0.5])


def test_stacked_pieces_are_forwarded():
    def f(a, b):
        s = np.stack([np.sin(a), np.cos(b)])
        return s[1] * s[0] + s[-1]
    a, b = np.float64(0.3), np.float64(0.7)
    assert names(f, a, b) == ["sin", "cos", "multiply", "add"]
    np.testing.assert_allclose(fr.jit(f)(a, b), f(a, b), rtol=1e-15)


def test_gradient_of_a_stepping_loop_has_no_stack_traffic():
    g = fr.grad(pendulum)
    got = names(g, THETA, X0)
    # only the last step's stack remains (sum(x**2) reads it whole)
    assert got.count("concatenate") == 1 and got.count("reshape") == 2
    assert got.count("index_add") == 2          # theta's cotangent: one scatter per position
    assert got.count("getitem") == 6     # theta, x0 and the last cotangent: pieces read once
    np.testing.assert_allclose(fr.jit(g)(THETA, X0), g(THETA, X0), rtol=1e-13)
    np.testing.assert_allclose(fr.jit(fr.hessian(pendulum))(THETA, X0),
                               fr.hessian(pendulum)(THETA, X0), rtol=1e-12)


def test_unforwardable_pieces_are_left_alone():
    def f(x, i):
        s = np.stack([x[:2], x[1:3]])     # pieces of two elements
        return s[1] + s[0, 1] + s[i]      # a whole row, an element, and a traced row index
    x = np.arange(4.0)
    for i in (0, 1):
        np.testing.assert_allclose(fr.jit(f)(x, i), f(x, i))
        g = fr.grad(lambda x, i: np.sum(f(x, i)))
        np.testing.assert_allclose(fr.jit(g)(x, i), g(x, i))


@pytest.mark.parametrize("n", [3, 12])
def test_sums_of_scatters(n):
    # cotangents of many scalar reads of one vector: summed per position, at most 8 positions
    def f(v):
        return sum(v[k % n] * v[(k + 1) % n] for k in range(2 * n))
    v = np.linspace(0.5, 1.5, n)
    g = fr.grad(f)
    np.testing.assert_allclose(fr.jit(g)(v), g(v), rtol=1e-14)
    scatters = names(g, v).count("index_add")
    if n <= 8:
        assert scatters == n
    else:
        assert scatters > n


def test_the_pass_keeps_values_and_types():
    program = fr.make_program(fr.grad(pendulum))(THETA, X0)
    simplified, _ = forward_pieces(program)
    from frechet._src.ir.program import evaluate, typecheck
    typecheck(simplified)
    np.testing.assert_allclose(evaluate(simplified, THETA, X0)[0],
                               evaluate(program, THETA, X0)[0], rtol=1e-14)


@pytest.mark.parametrize("f, left", [
    (lambda x: x.T.T * 2.0, ["multiply"]),
    (lambda x: np.transpose(np.transpose(x[None], (1, 2, 0)), (1, 2, 0)) * 2.0,
     ["getitem", "transpose", "multiply"]),
    (lambda x: x.reshape(6).reshape(3, 2).reshape(2, 3) * 2.0, ["reshape", "multiply"]),
    (lambda x: x.reshape(6).reshape(2, 3).reshape(3, 2) * 2.0, ["multiply"]),
    (lambda x: np.sum(np.broadcast_to(x, (4, 3, 2)), axis=0), ["multiply"]),
    (lambda x: (x * 2.0) * 3.0 - x, ["multiply", "subtract"]),
], ids=["transpose2", "transpose3", "reshape", "reshape-back", "broadcast-sum", "scalings"])
def test_structural_chains_collapse(f, left):
    x = np.arange(6.0).reshape(3, 2)
    assert names(f, x) == left
    np.testing.assert_allclose(fr.jit(f)(x), f(x), rtol=1e-15)


def test_gradient_programs_lose_their_structural_chains():
    def f(x):
        return np.sum(np.tanh(x.T @ x).reshape(-1).reshape(2, 2).T)
    x = np.arange(6.0).reshape(3, 2) / 6
    g = fr.grad(f)
    plain = [e.primitive.name for e in fr.make_program(g)(x).eqns]
    got = names(g, x)
    assert len(got) < len(plain)
    np.testing.assert_allclose(fr.jit(g)(x), g(x), rtol=1e-14)


def _program_on_a_constant(c):
    from frechet._src.core.primitive import REGISTRY
    from frechet._src.core.spec import spec_of
    from frechet._src.ir.program import Eqn, Program, Var
    x, k = Var(spec_of(c)), Var(spec_of(c))
    s, out = Var(spec_of(c)), Var(spec_of(c))
    eqns = [Eqn(REGISTRY["sin"], (k,), (s,), {}), Eqn(REGISTRY["multiply"], (x, s), (out,), {})]
    return Program([x], [k], [c], eqns, [out], [spec_of(c)])


def test_equations_on_constants_are_folded_up_to_a_size():
    from frechet._src.ir import passes
    from frechet._src.ir.program import evaluate
    c, x = np.linspace(0, 1, 5), np.linspace(2, 3, 5)
    program = _program_on_a_constant(c)
    folded, _ = passes.fold_constants(program)
    assert [e.primitive.name for e in folded.eqns] == ["multiply"]
    np.testing.assert_array_equal(evaluate(folded, x)[0], x * np.sin(c))
    assert passes.fold_constants(program, limit=4)[0] is program      # too big to keep
    # what folds comes from transformations: tracing already computed the rest
    assert "sin" not in names(lambda x: x * np.sin(c), x)


def test_constant_outputs_are_fresh_arrays_each_call():
    f = fr.jit(lambda x: (x * 2, np.ones(3)))
    x = np.ones(2)
    f(x)
    f(x)[1][0] = 5.0                    # the caller owns what it gets, as with NumPy
    np.testing.assert_array_equal(f(x)[1], np.ones(3))
