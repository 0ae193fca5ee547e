"""Tracer state lives in one place: `rebind` (in-place updates) copies it for every tracer type,
and a JVP tracer's pending scaling is one immutable value made concrete by an explicit step."""

import inspect
import types

import numpy as np
import pytest

import frechet
from frechet._src.core.trace import Tracer
from frechet._src.interpreters import ad


def _all_tracer_classes():
    seen, todo = [], [Tracer]
    while todo:
        c = todo.pop()
        for s in c.__subclasses__():
            if s.__module__.startswith("frechet") and s not in seen:
                seen.append(s)
                todo.append(s)
    return seen


def f(x):
    """An in-place update of a copy: y = [x0, 5, 5] * x (NumPy's values)."""
    y = x * 1.0
    y[1:] = 5.0
    return y * x


X = np.array([0.5, 1.5, -2.0])
V = np.array([1.0, 2.0, 3.0])
EXPECT = np.array([0.25, 7.5, -10.0])
JAC = np.diag([1.0, 5.0, 5.0])        # d(f)/dx: [2 x0, 5, 5] on the diagonal
JAC[0, 0] = 2 * X[0]


def test_every_tracer_class_declares_its_fields():
    classes = _all_tracer_classes()
    names = {c.__name__ for c in classes}
    assert {"JVPTracer", "StagedTracer", "WeakTracer", "BatchTracer", "JetTracer",
            "PrimalTracer", "CollapsedTracer"} <= names
    for c in classes:
        fields = c._fields
        slots = set()
        for k in c.__mro__:
            s = k.__dict__.get("__slots__", ())
            slots |= {s} if isinstance(s, str) else set(s)
        # every slot, but those a subclass shadows with a property or a class constant
        shadowed = {n for n in slots if not isinstance(inspect.getattr_static(c, n),
                                                       types.MemberDescriptorType)}
        assert set(fields) == slots - {"_view", "__weakref__"} - shadowed, c
        if c.__name__ == "ScalarTracer":
            assert shadowed - {"__weakref__"} == {"primal", "shape", "dtype"}


def test_a_tracer_class_without_slots_is_refused():
    with pytest.raises(TypeError, match="__slots__"):
        class Loose(Tracer):
            pass


def test_state_round_trips_for_every_tracer_class():
    for c in _all_tracer_classes():
        a, b = object.__new__(c), object.__new__(c)
        for i, n in enumerate(c._fields):
            setattr(a, n, ("field", i))
        b._set_state(a._state())
        assert all(getattr(b, n) == ("field", i) for i, n in enumerate(c._fields)), c


@pytest.mark.parametrize("name", ["eager", "grad", "jvp", "linearize", "vjp", "vmap", "jit",
                                  "jit_grad", "jit_weak", "make_program", "make_program_grad",
                                  "checkpoint", "jacfwd", "hessian", "vmap_grad"])
def test_in_place_update_under_each_transformation(name):
    if name == "eager":
        np.testing.assert_allclose(f(X), EXPECT)
    elif name == "grad":
        g = frechet.grad(lambda x: f(x).sum())(X)
        np.testing.assert_allclose(g, JAC.sum(0))
    elif name == "jvp":
        y, t = frechet.jvp(f, (X,), (V,))
        np.testing.assert_allclose(y, EXPECT)
        np.testing.assert_allclose(t, JAC @ V)
    elif name == "linearize":
        y, lin = frechet.linearize(f, X)
        np.testing.assert_allclose(y, EXPECT)
        np.testing.assert_allclose(lin(V), JAC @ V)
        np.testing.assert_allclose(lin.T(V), JAC.T @ V)
    elif name == "vjp":
        y, pull = frechet.vjp(f, X)
        np.testing.assert_allclose(pull(V)[0], JAC.T @ V)
    elif name == "vmap":
        xs = np.stack([X, 2 * X])
        np.testing.assert_allclose(frechet.vmap(f)(xs), np.stack([f(x) for x in xs]))
    elif name == "jit":
        jf = frechet.jit(f)
        np.testing.assert_allclose(jf(X), EXPECT)
        np.testing.assert_allclose(jf(2 * X), f(2 * X))
    elif name == "jit_grad":
        jg = frechet.jit(frechet.grad(lambda x: f(x).sum()))
        np.testing.assert_allclose(jg(X), JAC.sum(0))
    elif name == "make_program":
        prog = frechet.make_program(f)(X)
        out = prog(X)
        out = out[0] if isinstance(out, (list, tuple)) else out
        np.testing.assert_allclose(out, EXPECT)
    elif name == "jit_weak":            # a Python scalar argument: jit's WeakTracer
        def h(x, s):
            y = x * 1.0
            y[1:] = s
            return y * x
        np.testing.assert_allclose(frechet.jit(h)(X, 5.0), EXPECT)
    elif name == "make_program_grad":
        prog = frechet.make_program(frechet.grad(lambda x: f(x).sum()))(X)
        out = prog(X)
        out = out[0] if isinstance(out, (list, tuple)) else out
        np.testing.assert_allclose(out, JAC.sum(0))
    elif name == "vmap_grad":
        xs = np.stack([X, 2 * X])
        gs = frechet.vmap(frechet.grad(lambda x: f(x).sum()))(xs)
        np.testing.assert_allclose(gs, [[2 * x[0], 5.0, 5.0] for x in xs])
    elif name == "checkpoint":
        g = frechet.grad(lambda x: frechet.checkpoint(f)(x).sum())(X)
        np.testing.assert_allclose(g, JAC.sum(0))
    elif name == "jacfwd":
        np.testing.assert_allclose(frechet.jacfwd(f)(X), JAC)
    elif name == "hessian":
        h = frechet.hessian(lambda x: f(x).sum())(X)
        expect = np.zeros((3, 3))
        expect[0, 0] = 2.0
        np.testing.assert_allclose(h, expect, atol=1e-12)


def test_in_place_update_in_taylor_mode():
    # y = x * 1.0; y[1:] = 5: along x + t v the curve is [x0 + t v0, 5, 5].
    def g(x):
        y = x * 1.0
        y[1:] = 5.0
        return y
    cs = frechet.taylor(g, X, V, 3)
    np.testing.assert_allclose(cs[0], [X[0], 5.0, 5.0])
    np.testing.assert_allclose(cs[1], [V[0], 0.0, 0.0])
    np.testing.assert_allclose(cs[2], 0.0)
    y, ws = frechet.jet(f, (X,), ([V, np.zeros(3)],))
    np.testing.assert_allclose(y, EXPECT)
    np.testing.assert_allclose(ws[0], JAC @ V)
    np.testing.assert_allclose(ws[1], [2 * V[0] ** 2, 0.0, 0.0])


def test_in_place_update_in_collapsed_taylor_mode():
    def h(x):
        y = x * 1.0
        y[1:] = 5.0
        return (y * x * x).sum()      # x0^3 + 5 x1^2 + 5 x2^2
    lap = frechet.laplacian(h)(X)
    np.testing.assert_allclose(lap, 6 * X[0] + 20.0)
    np.testing.assert_allclose(lap, np.trace(frechet.hessian(h)(X)))


def test_pending_scaling_is_one_immutable_value():
    p = ad.Pending((1, 2))             # (tangent, scale): an immutable pair
    with pytest.raises(TypeError):
        p[1] = 3
    assert not any(isinstance(v, property) for v in vars(ad.JVPTracer).values()), \
        "reading a JVP tracer's state must never record an equation"
    assert "materialise" in vars(ad.JVPTracer)


def test_rebind_of_a_pending_tangent_under_linearize():
    # y's tangent is pending (a chain of scalings); the copy y2 shares it; rebinding y must
    # not change y2, and materialising y2's tangent must not change y.
    def g(x):
        y = np.sin(x) * 2.0
        y2 = y.copy()
        y[0] = 0.0
        return y * 1.0 + y2 * 3.0
    y, lin = frechet.linearize(g, X)
    d = 2 * np.cos(X)
    jac = np.diag(d * 3.0 + np.r_[0.0, d[1:]])
    np.testing.assert_allclose(y, g(X))
    np.testing.assert_allclose(lin(V), jac @ V)
    np.testing.assert_allclose(lin.T(V), jac.T @ V)



def test_an_update_mixing_transformations_says_what_to_write():
    # inside grad, a copy of a value of the outer vmap gets a value of grad written into it
    def per_row(b):
        def loss(x):
            y = b * 1.0
            y[0] = x
            return y.sum()
        return frechet.grad(loss)(2.0)
    with pytest.raises(frechet.TracerConversionError, match="^write `x = ...`"):
        frechet.vmap(per_row)(np.ones((2, 3)))
