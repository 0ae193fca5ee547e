"""vmap: every op record mapped over a batch axis agrees with a Python loop over examples."""

import zlib

import numpy as np
import pytest
from op_records import RECORDS, traced_fn

import frechet as fr
from frechet import extend as fx
from frechet._src import tree

N = 3

# Records whose output shape or index positions depend on the input values, per example; like
# JAX, frechet cannot batch them and says so with a ConcretizationError.
DATA_DEPENDENT = {
    "getitem_mask", "histogram_bin_edges", "histogram_edges", "histogram_weights", "histogram_density_weights", "histogram2d_weights",
    "histogramdd_density", "interp",
    "interp_xp", "intersect1d", "linalg_lstsq", "linalg_lstsq_c128", "linalg_lstsq_residuals", "nanmedian", "nanpercentile", "nanquantile", "piecewise", "place",
    "putmask", "roots", "roots_complex", "roots_c128", "setdiff1d", "setxor1d", "trim_zeros", "union1d", "unique", "unwrap",
}


def _stack_outputs(outs):
    leaves = [tree.flatten(o)[0] for o in outs]
    return [np.stack([np.asarray(lv[k]) for lv in leaves]) for k in range(len(leaves[0]))]


@pytest.mark.parametrize("placement", ["first", "middle", "last", "first_arg_only"])
@pytest.mark.parametrize("name", sorted(RECORDS))
def test_vmap_matches_loop(name, placement):
    r = RECORDS[name]
    fn = traced_fn(r)
    rng = np.random.default_rng(zlib.crc32(name.encode()))   # the same data every run
    examples = [r.args(rng) for _ in range(N)]
    if placement == "first_arg_only":
        shared = examples[0][1:]
        examples = [(e[0], *shared) for e in examples]
        in_axes = (0,) + (None,) * len(shared)
        args = (np.stack([e[0] for e in examples]), *shared)
    elif placement == "middle":     # axis 1 where the example has a dimension to put it after
        in_axes = tuple(1 if np.ndim(a) >= 1 else 0 for a in examples[0])
        args = tuple(np.stack([e[k] for e in examples], axis=ax) for k, ax in enumerate(in_axes))
    else:
        axis = 0 if placement == "first" else -1
        in_axes = axis
        args = tuple(np.stack([e[k] for e in examples], axis=axis)
                     for k in range(len(examples[0])))
    if name in DATA_DEPENDENT:
        with pytest.raises(fr.ConcretizationError, match="needs the concrete values"):
            fr.vmap(fn, in_axes=in_axes)(*args)
        return
    expected = _stack_outputs([fn(*e) for e in examples])
    got = tree.flatten(fr.vmap(fn, in_axes=in_axes)(*args))[0]
    assert len(got) == len(expected)
    for g, e in zip(got, expected):
        np.testing.assert_allclose(np.asarray(g), e, rtol=1e-12, atol=1e-12)


def _gathers():
    return {
        "after_slice": lambda x, i, j: x[:, i, j],
        "separated": lambda x, i, j: x[i, :, j],
        "int_and_array": lambda x, i, j: x[1, :, j],
        "leading": lambda x, i, j: x[i, j],
        "newaxis_first": lambda x, i, j: x[None, :, i],
    }


@pytest.mark.parametrize("layout", sorted(_gathers()))
def test_vmap_gather_and_scatter_with_batched_indices(layout):
    f = _gathers()[layout]
    rng = np.random.default_rng(0)
    x = rng.standard_normal((N, 3, 4, 5))
    i = rng.integers(0, 3, (N, 2))
    j = rng.integers(-4, 4, (N, 2))      # valid for the axes of size 4 and 5
    want = np.stack([f(x[b], i[b], j[b]) for b in range(N)])
    np.testing.assert_array_equal(fr.vmap(f)(x, i, j), want)
    # the scatter-add is the transpose: check it through the gradient, per example
    loss = lambda x, i, j: np.sum(f(x, i, j) ** 2)
    g = fr.vmap(fr.grad(loss))(x, i, j)
    for b in range(N):
        np.testing.assert_allclose(g[b], fr.grad(loss)(x[b], i[b], j[b]))
    # indices batched while the array is shared (a NumPy array cannot be indexed by traced
    # values with x[i]; np.take_along_axis dispatches)
    idx = np.argsort(rng.standard_normal((N, 3, 4)), axis=-1)
    want = np.stack([np.take_along_axis(x[0, :, :, 0], idx[b], axis=-1) for b in range(N)])
    got = fr.vmap(lambda k: np.take_along_axis(x[0, :, :, 0], k, axis=-1))(idx)
    np.testing.assert_array_equal(got, want)


def test_vmap_setitem_with_batched_indices():
    def f(x, i):
        y = x * 1.0
        y[i] = 0.0
        return y
    x = np.arange(12.0).reshape(N, 4)
    i = np.array([0, 3, 1])
    want = np.stack([f(x[b], i[b]) for b in range(N)])
    np.testing.assert_array_equal(fr.vmap(f)(x, i), want)


def test_vmap_api_errors_and_axes():
    x = np.ones((3, 2))
    with pytest.raises(ValueError, match="in_axes has 2 entries for 1 arguments"):
        fr.vmap(np.sin, in_axes=(0, 0))(x)
    with pytest.raises(fr.ShapeError, match="inconsistent sizes"):
        fr.vmap(lambda a, b: a + b)(np.ones((3, 2)), np.ones((4, 2)))
    with pytest.raises(ValueError, match="needs a mapped argument or axis_size"):
        fr.vmap(lambda a: a, in_axes=None)(x)
    with pytest.raises(ValueError, match="out_axes=None, but the output depends"):
        fr.vmap(np.sin, out_axes=None)(x)
    assert fr.vmap(lambda a: np.sum(a), in_axes=None, axis_size=5)(x).shape == (5,)
    assert fr.vmap(lambda a: a * 2, in_axes=1, out_axes=-1)(np.ones((2, 3, 4))).shape == (2, 4, 3)
    out = fr.vmap(lambda d: {"s": d["a"] + d["b"]}, in_axes=({"a": 0, "b": None},))(
        {"a": np.arange(3.0), "b": 10.0})
    np.testing.assert_array_equal(out["s"], [10.0, 11.0, 12.0])


def test_vmap_nests_and_composes():
    x = np.random.default_rng(0).standard_normal((2, 3, 4))
    inner = fr.vmap(fr.vmap(lambda v: np.sum(np.sin(v) * v)))
    np.testing.assert_allclose(inner(x), np.sum(np.sin(x) * x, axis=-1))
    # per-example gradients, and the gradient of a vmapped loss
    w = np.ones(4)
    per_ex = fr.vmap(fr.grad(lambda w, xi: np.tanh(xi @ w)), in_axes=(None, 0))(w, x[0])
    np.testing.assert_allclose(per_ex, (1 - np.tanh(x[0] @ w)[:, None] ** 2) * x[0])
    total = fr.grad(lambda w: fr.vmap(lambda xi: np.tanh(xi @ w))(x[0]).sum())(w)
    np.testing.assert_allclose(total, per_ex.sum(0))
    J = fr.jacfwd(fr.vmap(np.sin))(np.arange(3.0))
    np.testing.assert_allclose(J, np.diag(np.cos(np.arange(3.0))))


def test_collectives_values():
    x = np.array([1.0, 3.0, 4.0])
    np.testing.assert_allclose(fr.vmap(lambda v: v / fr.psum(v, "i"), axis_name="i")(x), x / 8)
    np.testing.assert_allclose(fr.vmap(lambda v: v - fr.pmean(v, "i"), axis_name="i")(x),
                               x - x.mean())
    np.testing.assert_allclose(fr.vmap(lambda v: fr.pmax(v, "i"), axis_name="i")(x), [4.0] * 3)
    np.testing.assert_allclose(fr.vmap(lambda v: fr.all_gather(v, "i"), axis_name="i")(x),
                               np.tile(x, (3, 1)))
    np.testing.assert_array_equal(fr.vmap(lambda v: fr.axis_index("i") + 0 * v,
                                          axis_name="i")(x), [0, 1, 2])


def test_collectives_differentiate():
    x = np.array([1.0, 3.0, 4.0, 2.0])
    w = np.array([0.5, -1.0, 2.0, 1.5])
    for f in (lambda v: v / fr.psum(v, "i"),
              lambda v: (v - fr.pmean(v, "i")) ** 2,
              lambda v: fr.pmax(v ** 2, "i") * v,
              lambda v: np.sum(fr.all_gather(np.sin(v), "i") * w)):
        fx.check_grads(lambda x, f=f: fr.vmap(f, axis_name="i")(x), (x,), order=2)


def test_collectives_nested_named_axes():
    x = np.arange(6.0).reshape(2, 3)
    over_i = fr.vmap(fr.vmap(lambda v: fr.psum(v, "i"), axis_name="j"), axis_name="i")(x)
    np.testing.assert_allclose(over_i, np.broadcast_to(x.sum(0), (2, 3)))
    over_j = fr.vmap(fr.vmap(lambda v: fr.psum(v, "j"), axis_name="j"), axis_name="i")(x)
    np.testing.assert_allclose(over_j, np.broadcast_to(x.sum(1, keepdims=True), (2, 3)))
    gathered = fr.vmap(fr.vmap(lambda v: fr.all_gather(v, "i"), axis_name="j"),
                       axis_name="i")(x)
    assert gathered.shape == (2, 3, 2)
    np.testing.assert_allclose(gathered[1, 2], x[:, 2])


def test_unbound_axis_name():
    with pytest.raises(fr.FrechetError, match="unbound axis name 'k'"):
        fr.vmap(lambda v: fr.psum(v, "k"), axis_name="i")(np.ones(3))
    with pytest.raises(fr.FrechetError, match="unbound axis name 'k'"):
        fr.psum(np.ones(3), "k")


def test_custom_rules_survive_vmap():
    @fr.custom_jvp
    def straight_through_round(x):
        return np.round(x)

    @straight_through_round.defjvp
    def _(primals, tangents):
        (x,), (t,) = primals, tangents
        return straight_through_round(x), t          # pretend the derivative is 1

    x = np.array([0.2, 1.7, -0.6])
    g = fr.grad(lambda x: np.sum(fr.vmap(straight_through_round)(x) * 3.0))(x)
    np.testing.assert_allclose(g, [3.0, 3.0, 3.0])
    np.testing.assert_allclose(fr.vmap(fr.grad(lambda v: straight_through_round(v) * 3.0))(x),
                               [3.0, 3.0, 3.0])

    @fr.custom_vjp
    def clip_gradient(x):
        return x

    clip_gradient.defvjp(lambda x: (x, None), lambda res, g: (np.clip(g, -1.0, 1.0),))
    g = fr.grad(lambda x: np.sum(fr.vmap(clip_gradient)(x) * 5.0))(x)
    np.testing.assert_allclose(g, [1.0, 1.0, 1.0])

    @fr.custom_vjp
    def scale(x, s):
        return x * s

    scale.defvjp(lambda x, s: (x * s, (x, s)), lambda r, g: (g * r[1], np.sum(g * r[0])))
    xs = np.arange(4.0)
    gs = fr.grad(lambda s: np.sum(fr.vmap(scale, in_axes=(0, None))(xs, s)))(2.0)
    np.testing.assert_allclose(gs, xs.sum())      # the shared argument's cotangents are summed
    gx = fr.grad(lambda x: np.sum(fr.vmap(scale, in_axes=(0, None))(x, 2.0)))(xs)
    np.testing.assert_allclose(gx, [2.0] * 4)
