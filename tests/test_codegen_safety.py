"""jit's generated source never runs text the user controls.

Each test hands jit a string the user controls (a primitive name, a source file name, a pytree
key, a qualname, a static argument, a param, a structured dtype's field name) carrying a payload
that would set a flag if pasted into the generated source, and checks that the replayed call
(the second call runs the generated code) did not set it and still gives the right answer.
"""

import builtins

import numpy as np
import pytest

import frechet as fr
from frechet import extend as fx

FLAG = "_frechet_test_pwned"
# Closes a comment, runs a statement at the function body's indentation, reopens a comment;
# quotes and backslashes for good measure. Also the same with \r, which Python's tokenizer
# takes as a line end too.
PAYLOADS = [
    f"x\n    __import__('builtins').{FLAG} = True\n    #",
    f"x\r    __import__('builtins').{FLAG} = True\r    #",
    f"x'\"\\\n__import__('builtins').{FLAG} = True\n#",
]


@pytest.fixture(autouse=True)
def _flag():
    setattr(builtins, FLAG, False)
    yield
    assert getattr(builtins, FLAG) is False, "injected code ran"
    delattr(builtins, FLAG)


def _twice(f, *args):
    """Call a jitted function twice (the second call replays the generated source) and check
    that the payload did not run; returns the replayed result."""
    f(*args)
    out = f(*args)
    assert getattr(builtins, FLAG) is False, "injected code ran"
    return out


@pytest.mark.parametrize("payload", PAYLOADS)
def test_primitive_names_are_validated(payload):
    with pytest.raises(ValueError, match="primitive names must be identifiers"):
        fx.primitive(payload, lambda x: x, lambda x: x)
    with pytest.raises(ValueError, match="primitive names must be identifiers"):
        fx.Primitive(payload, lambda x: x, lambda x: x)


def test_primitive_names_are_unique_and_fixed():
    # passes know built-in primitives by name: a look-alike must not be compiled as one
    with pytest.raises(ValueError, match="choose another name.*'multiply' already exists"):
        fx.Primitive("multiply", lambda x, y: x - y, lambda x, y: x)
    p = fx.primitive("test_codegen_fixed_name", lambda x: x * 2.0, lambda x: x)
    with pytest.raises(AttributeError, match="keeps its name"):
        p.name = "add"
    assert p.name == "test_codegen_fixed_name"


def test_primitive_name_forced_after_creation_is_not_pasted():
    p = fx.primitive("test_codegen_renamed", lambda x: x * 2.0, lambda x: x)
    object.__setattr__(p, "name", PAYLOADS[0])     # past every check: still escaped
    f = fr.jit(lambda x: p.bind(x))
    np.testing.assert_allclose(_twice(f, np.ones(3)), 2.0)
    assert "\n    __import__" not in f.lower(np.ones(3)).source


def _compiled_from(filename):
    """A function whose code object claims to come from `filename`."""
    env = {"np": np}
    src = "def g(x):\n    return np.sin(x) * 2.0 + x[0]\n"
    exec(compile(src, filename, "exec"), env)  # noqa: S102
    return env["g"]


@pytest.mark.parametrize("payload", PAYLOADS)
def test_source_file_names_are_escaped(payload):
    g = _compiled_from(payload)
    x = np.linspace(0.1, 1.0, 4)
    np.testing.assert_allclose(_twice(fr.jit(g), x), g(x))
    gs = fr.grad(lambda v: np.sum(g(v)))
    np.testing.assert_allclose(_twice(fr.jit(gs), x), gs(x))
    # printed programs show the name escaped, on the equation's own line
    lines = str(fr.make_program(g)(x)).splitlines()
    assert len(lines) == 7 and all(" = " in line for line in lines[1:-1]), lines


@pytest.mark.parametrize("payload", PAYLOADS)
def test_source_file_names_are_escaped_under_fusion(payload):
    g = _compiled_from(payload)

    def chain(x):
        return np.exp(np.sin(g(x)) * 3.0 + 1.0) - np.cos(x) * x
    x = np.linspace(0.0, 1.0, 1 << 14)
    np.testing.assert_allclose(_twice(fr.jit(chain, fuse=True), x), chain(x), rtol=1e-12)


@pytest.mark.parametrize("payload", PAYLOADS)
def test_source_file_names_are_escaped_in_compiled_scans(payload):
    env = {"np": np, "fr": fr}
    src = ("def g(x):\n"
           "    def step(c, xi):\n"
           "        c = np.sin(c) * xi + c\n"
           "        return c, c * 2.0\n"
           "    return fr.scan(step, x[0], x)[1]\n")
    exec(compile(src, payload, "exec"), env)  # noqa: S102
    g = env["g"]
    x = np.linspace(0.1, 0.4, 4)
    f = fr.jit(g, fuse=True)
    np.testing.assert_allclose(_twice(f, x), g(x), rtol=1e-12)
    assert "\n    __import__" not in f.lower(x).source


@pytest.mark.parametrize("payload", PAYLOADS)
def test_pytree_keys_qualnames_and_static_strings(payload):
    def f(d, tag):
        return {payload: d[payload] * 2.0 + len(tag), "other": np.sin(d["b"])}
    f.__qualname__ = f.__name__ = payload
    x = {payload: np.arange(3.0), "b": np.ones(2)}
    out = _twice(fr.jit(f, static_argnums=1), x, payload)
    np.testing.assert_allclose(out[payload], np.arange(3.0) * 2.0 + len(payload))
    np.testing.assert_allclose(out["other"], np.sin(1.0))
    g = fr.jit(fr.grad(lambda d, tag: np.sum(f(d, tag)[payload] ** 2)), static_argnums=1)
    np.testing.assert_allclose(_twice(g, x, payload)[payload],
                               2 * (np.arange(3.0) * 2.0 + len(payload)) * 2.0)


_SCALE_P = fx.primitive("test_codegen_scale", lambda x, *, label, k: x * k,
                        lambda x, *, label, k: x)
fx.deflinear(_SCALE_P, lambda ct, x, *, label, k: (_SCALE_P.bind(ct, label=label, k=k),))


@pytest.mark.parametrize("payload", PAYLOADS)
def test_param_values_of_custom_primitives(payload):
    def f(x):
        return np.sum(_SCALE_P.bind(x, label=payload, k=3.0) ** 2)
    x = np.arange(1.0, 4.0)
    np.testing.assert_allclose(_twice(fr.jit(f), x), 9.0 * np.sum(x ** 2))
    np.testing.assert_allclose(_twice(fr.jit(fr.grad(f)), x), 18.0 * x)


@pytest.mark.parametrize("payload", PAYLOADS)
def test_structured_dtype_field_names(payload):
    dt = np.dtype([(payload, np.float64), ("b", np.float64)])
    rec = np.zeros(3, dt)
    rec[payload] = [1.0, 2.0, 3.0]
    try:
        out = _twice(fr.jit(lambda r: r[payload] * 2.0), rec)
    except (TypeError, ValueError, IndexError, fr.FrechetError) as e:  # refused, saying why
        assert str(e)
    else:
        np.testing.assert_allclose(out, [2.0, 4.0, 6.0])
