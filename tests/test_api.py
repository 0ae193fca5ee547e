"""The public transformations: nesting, pytrees, Jacobians, LinearMap, custom rules, IR."""

import dataclasses
from collections import namedtuple

import numpy as np
import pytest

import frechet as fr
from frechet._src.ir.program import typecheck
from frechet._src.testing import check_transpose


def test_perturbation_confusion():
    # d/dx [x * d/dy (x * y)] = d/dx x^2 = 2x
    assert fr.grad(lambda x: x * fr.grad(lambda y: x * y)(x))(3.0) == 6.0


def test_nested_to_order_4():
    f = np.sin
    d = f
    for _ in range(4):
        d = fr.grad(d)
    x = 0.7
    assert np.isclose(d(x), np.sin(x))
    d3 = fr.grad(fr.grad(fr.grad(lambda x: x ** 5)))
    assert np.isclose(d3(2.0), 60 * 4.0)


def test_nested_forward_reverse_mix_order_4():
    f = lambda x: np.exp(2 * x)
    g = lambda x: fr.jvp(fr.grad(lambda y: fr.jvp(f, (y,), (1.0,))[1]), (x,), (1.0,))[1]
    assert np.isclose(fr.grad(g)(0.3), 16 * np.exp(0.6))


def test_value_and_grad_argnums_has_aux():
    def f(x, y):
        return np.sum(x * y ** 2), {"norm": np.sum(x)}
    x, y = np.arange(3.0), np.ones(3) * 2
    (v, aux), (gx, gy) = fr.value_and_grad(f, argnums=(0, 1), has_aux=True)(x, y)
    assert v == 12.0 and aux["norm"] == 3.0
    np.testing.assert_allclose(gx, y ** 2)
    np.testing.assert_allclose(gy, 2 * x * y)
    g, aux = fr.grad(f, argnums=1, has_aux=True)(x, y)
    np.testing.assert_allclose(g, 2 * x * y)


Pair = namedtuple("Pair", "a b")


@fr.register_dataclass
@dataclasses.dataclass
class Params:
    w: np.ndarray
    b: np.ndarray


def test_pytrees_in_and_out():
    p = {"x": np.ones(2), "pair": Pair(np.arange(2.0), 3.0), "none": None}

    def f(p):
        return np.sum(p["x"] * p["pair"].a) + p["pair"].b ** 2

    g = fr.grad(f)(p)
    np.testing.assert_allclose(g["x"], [0.0, 1.0])
    np.testing.assert_allclose(g["pair"].a, [1.0, 1.0])
    assert g["pair"].b == 6.0 and g["none"] is None
    params = Params(np.ones((2, 2)), np.zeros(2))
    gp = fr.grad(lambda q: np.sum(np.tanh(q.w @ np.ones(2) + q.b)))(params)
    assert isinstance(gp, Params) and gp.w.shape == (2, 2)
    _out, tan = fr.jvp(lambda q: [q.w.sum(), {"b": q.b * 2}], (params,), (params,))
    assert tan[0] == 4.0 and np.allclose(tan[1]["b"], 0)


def test_jacobians_agree():
    W = np.random.default_rng(0).standard_normal((3, 4))

    def f(x):
        return np.tanh(W @ x) ** 2

    x = np.linspace(-1, 1, 4)
    jf, jr = fr.jacfwd(f)(x), fr.jacrev(f)(x)
    assert jf.shape == (3, 4)
    np.testing.assert_allclose(jf, jr, atol=1e-14)
    np.testing.assert_allclose(fr.jacobian(f)(x), jf)
    np.testing.assert_allclose(fr.jacobian(f, mode="rev")(x), jf)
    eps = 1e-6
    fd = np.stack([(f(x + eps * e) - f(x - eps * e)) / (2 * eps) for e in np.eye(4)], axis=1)
    np.testing.assert_allclose(jf, fd, atol=1e-8)
    with pytest.raises(ValueError, match="mode must be"):
        fr.jacobian(f, mode="sideways")


def test_jacobian_auto_runs_the_function_once_and_picks_the_smaller_basis():
    calls = []

    def f(x):
        calls.append(1)
        return np.concatenate([np.sin(x), np.cos(x), x ** 2])     # 3n outputs: forward mode
    J = fr.jacobian(f)(np.linspace(0, 1, 4))
    assert len(calls) == 1 and J.shape == (12, 4)
    np.testing.assert_allclose(J, fr.jacrev(f)(np.linspace(0, 1, 4)))
    g = fr.jacobian(lambda x: np.sum(x ** 2, keepdims=True))(np.arange(5.0))   # 1 output
    np.testing.assert_allclose(g, [2 * np.arange(5.0)])


def test_jacobian_shapes_of_pytrees():
    def f(x, y):
        return {"a": x * y.sum(), "b": np.sum(x)}
    j = fr.jacrev(f, argnums=(0, 1))(np.ones((2, 3)), np.ones(4))
    assert j["a"][0].shape == (2, 3, 2, 3) and j["a"][1].shape == (2, 3, 4)
    assert j["b"][0].shape == (2, 3)
    j2 = fr.jacfwd(f, argnums=(0, 1))(np.ones((2, 3)), np.ones(4))
    np.testing.assert_allclose(j2["a"][0], j["a"][0])
    np.testing.assert_allclose(j2["a"][1], j["a"][1])


def test_hessian_and_hvp():
    def rosen(x):
        return np.sum(100 * (x[1:] - x[:-1] ** 2) ** 2 + (1 - x[:-1]) ** 2)
    x = np.array([0.5, -0.3, 1.2, 0.8])
    H = fr.hessian(rosen)(x)
    # closed form for the Rosenbrock Hessian
    n = len(x)
    Hc = np.zeros((n, n))
    for i in range(n - 1):
        Hc[i, i] += 1200 * x[i] ** 2 - 400 * x[i + 1] + 2
        Hc[i + 1, i + 1] += 200
        Hc[i, i + 1] += -400 * x[i]
        Hc[i + 1, i] += -400 * x[i]
    np.testing.assert_allclose(H, Hc, rtol=1e-12)
    v = np.array([1.0, 2.0, -1.0, 0.5])
    g, hv = fr.hvp(rosen, (x,), (v,))         # shaped like the one primal: no 1-tuples
    assert g.shape == hv.shape == x.shape
    np.testing.assert_allclose(hv, Hc @ v, rtol=1e-12)
    np.testing.assert_allclose(g, fr.grad(rosen)(x), rtol=1e-14)
    g2, hv2 = fr.hvp(lambda a, b: np.sum(a * b ** 2), (x, 2 * x), (v, v))
    np.testing.assert_allclose(hv2[0], 2 * 2 * x * v, rtol=1e-14)          # d/db (b^2) v
    np.testing.assert_allclose(hv2[1], 2 * 2 * x * v + 2 * x * v, rtol=1e-14)
    np.testing.assert_allclose(g2[0], (2 * x) ** 2, rtol=1e-14)
    with pytest.raises(TypeError, match=r"as tuples: hvp\(f, \(x,\), \(v,\)\)"):
        fr.hvp(rosen, x, v)


def test_linear_map_operations():
    A = np.random.default_rng(1).standard_normal((3, 4))
    _y, L = fr.linearize(lambda x: A @ np.sin(x), np.zeros(4))
    np.testing.assert_allclose(L.to_dense(), A)          # cos(0) = 1
    np.testing.assert_allclose(L.T.to_dense(), A.T)
    assert L.shape == (3, 4)
    check_transpose(L)
    check_transpose(L.T)
    v = np.arange(4.0)
    np.testing.assert_allclose((L * 2.0)(v), 2 * A @ v)
    np.testing.assert_allclose((L + L)(v), 2 * A @ v)
    np.testing.assert_allclose((L.T @ L)(v), A.T @ A @ v)
    assert L.T.T is L
    op = L.as_operator()
    np.testing.assert_allclose(op.matvec(v), A @ v)
    np.testing.assert_allclose(op.rmatvec(np.ones(3)), A.T @ np.ones(3))
    assert "multiply" in str(L) or "einsum" in str(L)
    with pytest.raises(fr.ShapeError, match="shape"):
        L(np.ones(5))
    typecheck(L.program)
    typecheck(L.T.program)
    typecheck((L.T @ L).program)


def test_linear_map_complex_H():
    C = np.array([[1 + 2j, 3j], [0.5, -1j]])
    _, L = fr.linearize(lambda z: C @ z, np.zeros(2, complex))
    np.testing.assert_allclose(L.to_dense(), C)
    np.testing.assert_allclose(L.T.to_dense(), C.T)
    np.testing.assert_allclose(L.H.to_dense(), C.conj().T)


def test_linear_transpose():
    t = fr.linear_transpose(lambda x: np.cumsum(x)[::-1] * 3.0, np.zeros(4))
    w = np.array([1.0, 2.0, 3.0, 4.0])
    M = 3.0 * np.tril(np.ones((4, 4)))[::-1]
    (ct,) = t(w)
    np.testing.assert_allclose(ct, M.T @ w)


def test_custom_jvp():
    @fr.custom_jvp
    def f(x):
        return np.log1p(np.exp(x))

    @f.defjvp
    def f_jvp(primals, tangents):
        (x,), (t,) = primals, tangents
        return f(x), t / (1 + np.exp(-x))

    x = np.array([0.0, 50.0, 800.0])      # the naive derivative would overflow at 800
    with np.errstate(over="ignore"):     # the primal log1p(exp(800)) overflows, not the rule
        g = fr.grad(lambda x: np.sum(f(x)))(x)
        t = fr.jvp(f, (x,), (np.ones(3),))[1]
    np.testing.assert_allclose(g, [0.5, 1.0, 1.0])
    np.testing.assert_allclose(t, [0.5, 1.0, 1.0])


def test_custom_vjp():
    @fr.custom_vjp
    def clip_grad(x):
        return x

    clip_grad.defvjp(lambda x: (x, None), lambda res, g: (np.clip(g, -1, 1),))
    g = fr.grad(lambda x: np.sum(clip_grad(x) * 5.0))(np.ones(3))
    np.testing.assert_allclose(g, [1.0, 1.0, 1.0])
    with pytest.raises(fr.NonDifferentiableError, match="reverse mode only"):
        fr.jvp(clip_grad, (np.ones(3),), (np.ones(3),))


def test_custom_vjp_none_cotangent_and_pytrees():
    @fr.custom_vjp
    def f(x, scale):
        return x * scale["a"]

    f.defvjp(lambda x, scale: (x * scale["a"], scale["a"]),
             lambda a, g: (g * a, None))           # no cotangent for the dict argument
    gx, gs = fr.grad(lambda x, s: np.sum(f(x, s)), argnums=(0, 1))(np.ones(2), {"a": 3.0})
    np.testing.assert_allclose(gx, [3.0, 3.0])
    assert gs["a"] == 0.0


def test_stop_gradient():
    g = fr.grad(lambda x: np.sum(x * fr.stop_gradient(x)))(np.array([1.0, 2.0]))
    np.testing.assert_allclose(g, [1.0, 2.0])


def test_make_program_includes_derivatives():
    f = lambda x: np.sum(np.sin(x) ** 2)
    prog = fr.make_program(fr.grad(f))(np.ones(3))
    typecheck(prog)
    text = str(prog)
    assert "sin" in text and "cos" in text and "reduce_sum" in text
    np.testing.assert_allclose(prog(np.ones(3))[0], fr.grad(f)(np.ones(3)))
    prog2 = fr.make_program(fr.hessian(f))(np.ones(2))
    typecheck(prog2)
    np.testing.assert_allclose(prog2(np.ones(2))[0], fr.hessian(f)(np.ones(2)))


def test_zero_derivative_ops():
    g = fr.grad(lambda x: np.sum(np.floor(x) * x + np.sign(x)))(np.array([1.5, -0.5]))
    np.testing.assert_allclose(g, [1.0, -1.0])
    g = fr.grad(lambda x: np.sum(x * (x > 0)))(np.array([1.5, -0.5]))
    np.testing.assert_allclose(g, [1.0, 0.0])


def test_inplace_updates_rebind():
    def f(x):
        y = x * 1.0
        y[0] = x[1] ** 2
        y += 1.0
        np.multiply(y, 2.0, out=y)
        return np.sum(y)
    g = fr.grad(f)(np.array([1.0, 3.0, 2.0]))
    np.testing.assert_allclose(g, [0.0, 2 + 12.0, 2.0])


def test_python_control_flow_in_eager_mode():
    def f(x):
        total = 0.0
        for i in range(3):
            if np.sum(x) > i:
                total = total + x[i] ** 2
        return total
    np.testing.assert_allclose(fr.grad(f)(np.array([1.0, 2.0, 3.0])), [2.0, 4.0, 6.0])


def test_typecheck_after_linearize_and_transpose():
    from op_records import RECORDS
    for name in ("matmul", "einsum_three", "getitem_mixed", "cumprod_zero", "pad_reflect",
                 "sort", "std", "setitem"):
        r = RECORDS[name]
        a = r.args(np.random.default_rng(0))
        _, L = fr.linearize(r.fn, *a)
        typecheck(L.program)
        typecheck(L.T.program)
        typecheck(fr.make_program(r.fn)(*a))


def test_printing_traced_values():
    seen = []

    def f(x):
        seen.append((repr(x), str(x), np.array2string(x), np.array_repr(x)))
        return np.sum(x * 2.0)
    fr.grad(f)(np.array([1.0, 2.5]))
    r, s, a2s, arepr = seen[0]
    assert r == "JVPTracer([1. , 2.5])" and s == "[1.  2.5]"
    assert a2s == "[1.  2.5]" and arepr == "array([1. , 2.5])"
    staged = []
    fr.make_program(lambda x: staged.append(repr(x)) or x * 2.0)(np.ones(2))
    assert staged == ["StagedTracer<float64[2]>"]
    with pytest.raises(fr.ConcretizationError, match="np.array2string needs the concrete"):
        fr.make_program(f)(np.ones(2))


def test_packbits_on_traced_comparisons():
    def f(x):
        bits = np.packbits(np.greater(x, 0.0).astype(np.uint8))
        return np.sum(x) * float(bits[0])
    np.testing.assert_allclose(fr.grad(f)(np.array([1.0, -1.0, 2.0])), [160.0] * 3)


def test_out_argument_with_constants_rebinds_to_a_constant():
    def f(x):
        y = x * 1.0
        np.multiply(2.0, 3.0, out=y)     # y is now the constant 6: no derivative through it
        assert y.shape == (2,)           # written into out, whose shape stays
        return np.sum(y * x)
    np.testing.assert_allclose(fr.grad(f)(np.ones(2)), [6.0, 6.0])
    np.testing.assert_allclose(fr.jvp(f, (np.ones(2),), (np.ones(2),))[1], 12.0)
    prog = fr.make_program(f)(np.ones(2))
    np.testing.assert_allclose(prog(np.ones(2))[0], 12.0)


def test_out_argument_shape_errors_like_numpy():
    def f(x):
        y = x * 1.0
        np.add(x[:, None], x[None, :], out=y)
        return np.sum(y)
    with pytest.raises(fr.ShapeError, match="non-broadcastable output operand"):
        fr.grad(f)(np.ones(2))


def test_fan_out_of_one_value_keeps_one_scaling():
    # every term of each step is a diagonal map of the same tangent: their sum is diagonal too,
    # so 25 steps of 6 operations linearize to one scaling (and a sum), not ~125 equations
    def fanout(x):
        for _ in range(25):
            x = np.sin(x) * 1.01 + np.tanh(x) - 0.5 * x
        return x
    x = np.linspace(-1.0, 1.0, 7)
    _y, L = fr.linearize(fanout, x)
    assert len(L.program.eqns) <= 2
    v = np.cos(np.arange(7.0))
    np.testing.assert_allclose(L(v), fr.jvp(fanout, (x,), (v,))[1], rtol=1e-13)
    eps = 1e-6
    fd = (fanout(x + eps * v) - fanout(x - eps * v)) / (2 * eps)
    np.testing.assert_allclose(L(v), fd, rtol=1e-3, atol=1e-6)   # (the map grows ~1.5^25)
    np.testing.assert_allclose(L.T(v), L.to_dense().T @ v, rtol=1e-13)


def test_custom_jvp_rule_is_used_at_every_order():
    # the rule says f' = 2 cos (not the body's cos); a rule calling f again must be
    # differentiated by the rule too, or second derivatives silently use the body
    @fr.custom_jvp
    def f(x):
        return np.sin(x)

    @f.defjvp
    def f_jvp(primals, tangents):
        (x,), (t,) = primals, tangents
        return f(x), 2 * np.cos(x) * t

    def g(y):
        return f(y) ** 2
    want = 8 * np.cos(0.3) ** 2 - 4 * np.sin(0.3) ** 2      # d/dy [2 f(y) 2 cos(y)]
    for got in (fr.grad(fr.grad(g))(0.3), fr.hessian(g)(0.3),
                fr.jvp(fr.grad(g), (0.3,), (1.0,))[1], fr.jit(fr.grad(fr.grad(g)))(0.3),
                fr.grad(fr.grad(fr.jit(g)))(0.3)):
        np.testing.assert_allclose(got, want, rtol=1e-12)
