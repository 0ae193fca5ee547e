"""LinearMaps pickle: their linear program is data, primitives are saved by registered name."""

import pickle

import numpy as np
import pytest

import frechet as fr
from frechet import extend as fx

A = np.arange(12.0).reshape(3, 4) / 7.0


def _elementwise(x):
    return np.sin(x) * x + np.exp(-x)


def _matmul(x):
    return np.tanh(A @ x) @ A


def _indexing(x):
    y = x[np.array([2, 0, 3])] * x[1:]
    z = np.zeros(5)
    z[np.array([0, 0, 4])] += y
    return z + x.sum()


def _scan(x):
    def step(c, xi):
        c = np.sin(c) * xi + c
        return c, c * 2.0
    c, ys = fr.scan(step, x[0], x)
    return ys * c


_SCAN_PROGRAM = []


def _staged_scan(x):
    """_scan through its staged program, so that the linear map holds a scan equation (eager
    scan runs its loop in Python) and its transpose a reversed one."""
    if not _SCAN_PROGRAM:
        _SCAN_PROGRAM.append(fr.make_program(_scan)(np.zeros(4)))
    return fx.evaluate(_SCAN_PROGRAM[0], x)[0]


def _while(x):
    def body(state):
        i, v = state
        return i + 1, np.cos(v) * 0.5 + v
    return fr.while_loop(lambda s: s[0] < 3, body, (0, x))[1]


def _cond(x):
    return fr.cond(x.sum() > 0, lambda v: np.sin(v) * v, lambda v: np.cos(v), x)


def _pytree(d):
    return {"y": d["a"] * d["b"][0], "z": (np.sin(d["b"][1]),)}


def _solve(x):
    M = A @ A.T + np.eye(3)
    return fr.linalg.solve(M * x[0], x[1:])


CASES = {
    "elementwise": (_elementwise, np.linspace(0.1, 1.0, 4)),
    "matmul": (_matmul, np.linspace(-1.0, 1.0, 4)),
    "indexing": (_indexing, np.linspace(0.5, 2.0, 4)),
    "scan": (_scan, np.linspace(0.1, 0.4, 4)),
    "staged_scan": (_staged_scan, np.linspace(0.1, 0.4, 4)),
    "while": (_while, np.linspace(0.1, 0.4, 4)),
    "cond": (_cond, np.linspace(0.1, 0.4, 4)),
    "pytree": (_pytree, {"a": np.ones(2), "b": (np.arange(2.0), np.arange(3.0))}),
    "solve": (_solve, np.array([2.0, 1.0, -1.0, 0.5])),
}


def _random_like(specs, rng):
    """A random pytree of arrays shaped like a pytree of ArraySpecs (tuple-like leaves)."""
    if isinstance(specs, dict):
        return {k: _random_like(v, rng) for k, v in specs.items()}
    if isinstance(specs, (tuple, list)) and not isinstance(specs, fx.ArraySpec):
        return type(specs)(_random_like(v, rng) for v in specs)
    return rng.standard_normal(specs.shape)


def _leaves(t):
    if isinstance(t, dict):
        return [x for k in sorted(t) for x in _leaves(t[k])]
    if isinstance(t, (tuple, list)):
        return [x for v in t for x in _leaves(v)]
    return [t]


def _close(a, b):
    assert len(_leaves(a)) == len(_leaves(b))
    for x, y in zip(_leaves(a), _leaves(b)):
        np.testing.assert_allclose(x, y, rtol=1e-13, atol=1e-13)


@pytest.mark.parametrize("case", sorted(CASES))
def test_linear_map_round_trip(case):
    f, x = CASES[case]
    _, L = fr.linearize(f, x)
    rng = np.random.default_rng(0)
    v, w = _random_like(L.in_specs, rng), _random_like(L.out_specs, rng)
    before = (L(v), L.T(w))                 # L.T cached: the copy must rebuild its own
    for protocol in range(pickle.HIGHEST_PROTOCOL):     # every protocol but the default
        _close(pickle.loads(pickle.dumps(L, protocol=protocol))(v), before[0])
    M = pickle.loads(pickle.dumps(L))
    assert isinstance(M, fr.LinearMap) and M is not L
    _close(M(v), before[0])
    _close(M.T(w), before[1])
    _close(pickle.loads(pickle.dumps(L.T))(w), before[1])
    np.testing.assert_allclose(M.to_dense(), L.to_dense(), rtol=1e-13, atol=1e-13)
    assert str(M) == str(L)
    if case == "staged_scan":
        assert "scan[" in str(M) and "reverse=True" in str(M.T)


def test_program_round_trip_keeps_shared_variables():
    prog = fr.make_program(_matmul)(np.ones(4))
    copy = pickle.loads(pickle.dumps(prog))
    fx.typecheck(copy)
    assert str(copy) == str(prog)
    x = np.linspace(-1.0, 1.0, 4)
    np.testing.assert_allclose(fx.evaluate(copy, x)[0], _matmul(x), rtol=1e-14)


def test_unpicklable_callback_is_named():
    @fr.custom_vjp
    def f(x):
        return np.sin(x)

    def fwd(x):
        return np.sin(x), x

    def bwd(x, ct):
        return (ct * np.cos(x),)
    f.defvjp(fwd, bwd)
    _, L = fr.linearize(f, np.ones(3))
    with pytest.raises(pickle.PicklingError,
                       match="without frechet.custom_vjp.*'custom_vjp_lin'.*'bwd'"):
        pickle.dumps(L)


def test_unpicklable_internal_callback_names_the_operation():
    f = fr.checkpoint(lambda x: np.sin(np.sin(x)))
    _, L = fr.linearize(lambda x: f(x) * 2.0, np.ones(3))
    with pytest.raises(pickle.PicklingError,
                       match="without frechet.checkpoint.*'remat'.*'fun'"):
        pickle.dumps(L)


def _triple(x):
    return 3.0 * x


_APPLY_P = fx.primitive("test_pickle_apply", lambda x, *, fn: fn(x), lambda x, *, fn: x)
fx.deflinear(_APPLY_P, lambda ct, x, *, fn: (_APPLY_P.bind(ct, fn=fn),))


def test_user_function_in_a_param():
    _, L = fr.linearize(lambda x: _APPLY_P.bind(x, fn=_triple), np.ones(3))
    np.testing.assert_allclose(pickle.loads(pickle.dumps(L)).T(np.ones(3)), 3.0)
    _, L = fr.linearize(lambda x: _APPLY_P.bind(x, fn=lambda v: 3.0 * v), np.ones(3))
    with pytest.raises(pickle.PicklingError,
                       match="define .*<lambda> at module level.*'test_pickle_apply'.*'fn'"):
        pickle.dumps(L)


def test_unregistered_primitive_says_how_to_register():
    p = fx.Primitive("test_pickle_unregistered", lambda x: 2.0 * x, lambda x: x)
    fx.deflinear(p, lambda ct, x: (p.bind(ct),))
    _, L = fr.linearize(lambda x: p.bind(x), np.ones(2))
    with pytest.raises(pickle.PicklingError, match="with frechet.extend.primitive"):
        pickle.dumps(L)


def test_unpickling_without_the_primitive_says_what_to_import():
    from frechet._src.core.primitive import REGISTRY
    p = fx.primitive("test_pickle_later_missing", lambda x: 3.0 * x, lambda x: x)
    fx.deflinear(p, lambda ct, x: (p.bind(ct),))
    _, L = fr.linearize(lambda x: p.bind(x), np.ones(2))
    data = pickle.dumps(L)
    del REGISTRY["test_pickle_later_missing"]     # as in a process that never defined it
    try:
        with pytest.raises(pickle.UnpicklingError,
                           match="import the module that defines primitive "
                                 "'test_pickle_later_missing'"):
            pickle.loads(data)
    finally:
        REGISTRY["test_pickle_later_missing"] = p
    np.testing.assert_allclose(pickle.loads(data)(np.ones(2)), 3.0)


def test_loads_in_a_fresh_process(tmp_path):
    import os
    import subprocess
    import sys
    _, L = fr.linearize(_indexing, np.linspace(0.5, 2.0, 4))
    (tmp_path / "L.pkl").write_bytes(pickle.dumps(L))
    v = np.arange(4.0)
    np.save(tmp_path / "want.npy", L(v))
    code = ("import pickle, numpy as np\n"
            f"L = pickle.loads(open({str(tmp_path / 'L.pkl')!r}, 'rb').read())\n"
            f"np.testing.assert_allclose(L(np.arange(4.0)), np.load({str(tmp_path / 'want.npy')!r}),"
            " rtol=1e-13)\n")
    root = os.path.dirname(os.path.dirname(os.path.abspath(fr.__file__)))
    env = dict(os.environ, PYTHONPATH=root + os.pathsep + os.environ.get("PYTHONPATH", ""))
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                          timeout=120, check=False)
    assert done.returncode == 0, done.stderr
