"""Primitives are all registered at import, and passes find their rules by the Primitive
object (issue 14, item 2)."""

import subprocess
import sys
import textwrap

import numpy as np
import pytest

import frechet as fr
from frechet import extend as fx
from frechet._src.core.primitive import REGISTRY, Primitive
from frechet._src.core.registry import BUILTIN, ROLE, Role
from frechet._src.interpreters.enclosure import rules as R
from frechet._src.ir import buffers, codegen, fusion, scalar_loops
from frechet._src.prims.elementwise import UFUNC_PRIMS

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



@pytest.mark.parametrize("table", [
    ROLE, fusion.TEMPLATE, fusion.BLAS, codegen.INLINE, codegen.KERNEL, buffers.OUT_FORM,
    scalar_loops.MOVES, scalar_loops.CONVERTS, scalar_loops.REDUCTIONS,
    scalar_loops.SCATTER_ADDS, scalar_loops.CONTRACTIONS,
], ids=lambda t: type(t).__name__)
def test_pass_tables_are_keyed_by_registered_primitives(table):
    registered = {id(p) for p in REGISTRY.values()}
    assert table
    for key in table:
        assert isinstance(key, Primitive), key
        assert id(key) in registered, key


def test_every_role_is_played():
    for role in Role:
        prim = getattr(BUILTIN, role.value)
        assert ROLE[prim] is role


def _cube_prim(name):
    p = fx.primitive(name, lambda x: x * x * x, lambda x: x)
    fx.defjvp(p, lambda t, x: t * (3.0 * x * x))
    fx.defvectorized(p)
    return p


def test_user_taylor_rule_is_found_through_the_primitive():
    cube = _cube_prim("test_registries.cube")
    calls = []

    def rule(primals, series):
        # (x + t)^3 = x^3 + 3x^2 t + 3x t^2 + t^3 along a unit first coefficient
        (x,), ((x1, *rest),) = primals, series
        calls.append(len(rest) + 1)
        c = [3 * x * x * x1, 3 * x * x1 * x1, x1 * x1 * x1]
        return cube.bind(x), (c + [x * 0.0] * 4)[:len(rest) + 1]

    cube.taylor = rule
    got = fr.taylor(lambda x: cube.bind(x), np.array([2.0]), np.array([1.0]), 3)
    assert calls == [3]
    np.testing.assert_allclose(np.ravel(got), [8.0, 12.0, 6.0, 1.0])


def test_user_enclosure_rule_is_found_through_the_primitive():
    cube = _cube_prim("test_registries.bounded_cube")
    with pytest.raises(NotImplementedError, match="no enclosure rule for the primitive "
                                                  "'test_registries.bounded_cube'"):
        fr.bounds.taylor_bound(lambda x: cube.bind(x), 0.5, (0.0, 1.0), 1)
    calls = []

    def rule(args, reg):
        calls.append(reg.d)
        (x,) = args
        multiply = UFUNC_PRIMS[np.multiply].enclosure
        return multiply([x, R.Enc(multiply([x, x], reg))], reg)

    cube.enclosure = rule
    e = fr.bounds.taylor_bound(lambda x: cube.bind(x), 0.5, (0.0, 1.0), 1)
    assert calls == [0, 2]              # the range pass, then the degree-1 enclosure
    # x^3 = 1/8 + (3/4)(x - 1/2) + (x + 1)(x - 1/2)^2, and x + 1 spans [1, 2] on [0, 1]
    np.testing.assert_allclose(e.coefficients, [0.125, 0.75], rtol=1e-15)
    lo, hi = e.remainder
    assert lo <= 1.0 and hi >= 2.0
    xs = np.linspace(0.0, 1.0, 101)
    assert np.all(e.lower(xs) <= xs ** 3) and np.all(xs ** 3 <= e.upper(xs))


def test_user_fusion_template_is_found_through_the_primitive(monkeypatch):
    if not fusion.available():
        pytest.skip(f"jit runs NumPy here: {fusion.unavailable_reason()}")
    cube = _cube_prim("test_registries.fused_cube")
    monkeypatch.setitem(fusion.TEMPLATE, cube, fusion.Template("({0} * {0} * {0})"))
    monkeypatch.setattr(fusion, "MIN_SIZE", 1)
    monkeypatch.setattr(fusion, "MIN_SERIAL_RUN", 2)

    def f(x):
        return cube.bind(x + 1.0) * 2.0

    g = fr.jit(f)
    x = np.linspace(-1.0, 1.0, 64)
    g(x)
    assert "fused: add test_registries.fused_cube multiply" in g.lower(x).source
    fresh = np.linspace(0.0, 3.0, 64)
    np.testing.assert_allclose(g(fresh), 2.0 * (fresh + 1.0) ** 3, rtol=1e-14)
