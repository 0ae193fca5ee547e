"""Dask arrays as data: grad of a loss over chunked data builds lazy Dask graphs for the value
and the gradient, computed by Dask's scheduler (threaded, or a dask.distributed cluster), and
never computes or copies the data before that (core/chunked.py)."""

from __future__ import annotations

import io
import pickle

import numpy as np
import pytest

import frechet as fr

da = pytest.importorskip("dask.array")
dask = pytest.importorskip("dask")

RNG = np.random.default_rng(7)
N, D = 23, 3
XN, YN = RNG.standard_normal((N, D)), (RNG.random(N) < 0.5).astype(np.float64)
W = np.array([0.3, -0.7, 0.2])
# ragged last chunks: 23 rows in 10s and 7s, features split 2 + 1
CHUNKS = [(10, D), (7, D), (N, D), (5, 2)]


def lsq(w, X, y):
    return np.mean((X @ w - y) ** 2)


def logistic(w, X, y):
    z = X @ w
    return np.mean(np.logaddexp(0.0, z) - y * z)


def huber(w, X, y):
    r = X @ w - y
    return np.sum(np.where(np.abs(r) < 0.5, 0.5 * r ** 2, 0.5 * np.abs(r) - 0.125))


def softmax_margin(w, X, y):
    return np.log(np.sum(np.exp(X @ w))) + np.max(X * w) + np.var(X @ w)


def column_means(w, X, y):
    return np.sum(np.mean(np.tanh(X * w), axis=0) ** 2) + np.dot(np.exp(X @ w), y) / N


def ufuncs_data_first(w, X, y):    # NumPy's ufuncs called with the Dask array first
    z = X @ w
    return np.sum(np.multiply(y, z) + np.logaddexp(y, z) + np.subtract(y, z) ** 2) / N


def functions_data_first(w, X, y):    # NumPy functions (NEP 18) with Dask arrays first
    z = X @ w
    return (np.sum(np.where(y > 0, z, 0.0) ** 2) + np.dot(y, np.sin(z))
            + np.sum(np.concatenate([y, z]) ** 3) + np.einsum("i,i->", y, np.exp(z))
            + np.sum(np.clip(z, -0.2, y)))


def _sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


CLOSED_FORMS = {  # the gradient w.r.t. w, by hand
    lsq: lambda w, X, y: 2.0 * X.T @ (X @ w - y) / len(y),
    logistic: lambda w, X, y: X.T @ (_sigmoid(X @ w) - y) / len(y),
}


def _central(f, w, h=1e-6):
    """Central differences of a plain NumPy function (no frechet on this path)."""
    return np.array([(f(w + h * e) - f(w - h * e)) / (2 * h) for e in np.eye(len(w))])


def _dask(chunks):
    return da.from_array(XN, chunks=chunks), da.from_array(YN, chunks=chunks[0])


@pytest.mark.parametrize("chunks", CHUNKS, ids=str)
@pytest.mark.parametrize("loss", [lsq, logistic], ids=lambda f: f.__name__)
def test_value_and_gradient_match_the_closed_form(loss, chunks):
    X, y = _dask(chunks)
    v, g = fr.value_and_grad(loss)(W, X, y)
    assert isinstance(v, da.Array) and isinstance(g, da.Array) and g.shape == (D,)
    v, g = dask.compute(v, g)
    np.testing.assert_allclose(v, loss(W, XN, YN), rtol=1e-14)
    np.testing.assert_allclose(g, CLOSED_FORMS[loss](W, XN, YN), rtol=1e-13, atol=1e-15)


@pytest.mark.parametrize("chunks", CHUNKS, ids=str)
@pytest.mark.parametrize("loss", [huber, softmax_margin, column_means, ufuncs_data_first,
                                  functions_data_first],
                         ids=lambda f: f.__name__)
def test_value_and_gradient_match_numpy(loss, chunks):
    X, y = _dask(chunks)
    v, g = dask.compute(*fr.value_and_grad(loss)(W, X, y))
    np.testing.assert_allclose(v, loss(W, XN, YN), rtol=1e-13)
    np.testing.assert_allclose(g, _central(lambda w: loss(w, XN, YN), W), rtol=1e-7, atol=1e-8)


def test_gradient_with_respect_to_dask_data_is_chunked_like_it():
    X, y = _dask((10, D))
    g = fr.grad(lsq, argnums=1)(W, X, y)
    assert isinstance(g, da.Array) and g.chunks == X.chunks
    np.testing.assert_allclose(g.compute(), 2.0 * np.outer(XN @ W - YN, W) / N, rtol=1e-13)


def test_jacobians_hessian_jvp_and_linearize_over_dask_data():
    X, y = _dask((7, D))
    np.testing.assert_allclose(fr.hessian(lsq)(W, X, y).compute(), 2.0 * XN.T @ XN / N,
                               rtol=1e-13)
    np.testing.assert_allclose(fr.jacfwd(logistic)(W, X, y).compute(),
                               CLOSED_FORMS[logistic](W, XN, YN), rtol=1e-13)
    np.testing.assert_allclose(fr.jacrev(lambda w: X @ w)(W).compute(), XN, rtol=0)
    v = np.array([1.0, -2.0, 0.5])
    want = (1.0 - np.tanh(XN @ W) ** 2) * (XN @ v)
    y, t = fr.jvp(lambda w: np.tanh(X @ w), (W,), (v,))
    assert isinstance(y, da.Array) and isinstance(t, da.Array)
    np.testing.assert_allclose(t.compute(), want, rtol=1e-14)
    _, lin = fr.linearize(lambda w: np.tanh(X @ w), W)
    np.testing.assert_allclose(lin(v).compute(), want, rtol=1e-14)


class Generated:
    """A Dask data set made chunk by chunk by `block`, which notes its calls and raises
    unless the test allows computing (so nothing may compute it behind the test's back)."""

    def __init__(self, rows, chunk, features=D):
        self.made, self.allowed = [], False      # list.append: safe from the scheduler's threads
        self.features = features
        k = -(-rows // chunk)
        sizes = (chunk,) * (k - 1) + (rows - (k - 1) * chunk,)
        self.sizes = sizes
        data = da.arange(k, chunks=1).map_blocks(
            self.block, new_axis=1, chunks=(sizes, (features + 1,)), dtype=np.float64,
            meta=np.empty((0, 0)))
        self.X, self.y = data[:, :features], data[:, features]

    def block(self, index):
        if not self.allowed:
            raise AssertionError("a chunk was computed before the test's compute")
        i = int(index[0])
        self.made.append(i)
        rng = np.random.default_rng([3, i])
        X = rng.standard_normal((self.sizes[i], self.features))
        return np.column_stack([X, (rng.random(len(X)) < 0.5).astype(np.float64)])

    def numpy(self):
        self.allowed = True
        X, y = dask.compute(self.X, self.y)
        self.made, self.allowed = [], False
        return X, y


def test_nothing_is_computed_before_compute_and_each_chunk_once():
    data = Generated(rows=2000, chunk=150)
    XN_, YN_ = data.numpy()
    def printed(w, X, y):         # printing traced values must not compute them either
        z = X @ w
        assert "dask.array" in repr(z) and "dask.array" in str(z)
        return logistic(w, X, y)

    v, g = fr.value_and_grad(printed)(W, data.X, data.y)      # block raises if called here
    assert isinstance(v, da.Array) and isinstance(g, da.Array)
    assert data.made == []
    data.allowed = True
    v, g = dask.compute(v, g)
    assert sorted(data.made) == list(range(len(data.sizes)))   # each chunk made once
    np.testing.assert_allclose(g, CLOSED_FORMS[logistic](W, XN_, YN_), rtol=1e-13)


def test_no_task_computes_more_than_a_chunk():
    """Every intermediate result is at most a chunk of the data: the backward pass broadcasts
    the mean's cotangent over the rows in the data's chunks (one chunk of the broadcast over
    all rows would be computed whole by the first operation on it)."""
    from dask.callbacks import Callback

    rows, chunk = 32_000, 500
    data = Generated(rows=rows, chunk=chunk)
    data.allowed = True
    sizes = []
    with Callback(posttask=lambda key, result, *_: sizes.append(getattr(result, "nbytes", 0))):
        dask.compute(*fr.value_and_grad(logistic)(W, data.X, data.y), scheduler="threads")
    assert len(data.made) == rows // chunk
    assert max(sizes) <= chunk * (D + 1) * 8, max(sizes)


def test_no_task_carries_more_than_a_chunk():
    """Constants of the data's shape (a Python scalar broadcast over the rows, the backward
    pass's cotangent broadcast from a reduction) are lazy Dask arrays in the graph, not NumPy
    arrays hashed and pickled into it whole."""
    rows, chunk = 40_000, 2_000
    data = Generated(rows=rows, chunk=chunk)
    v, g = fr.value_and_grad(huber)(W, data.X, data.y)
    graph = _graph(v, g)
    largest = max(_pickled_size(task) for task in graph.values())
    assert largest < chunk * 8, largest


def _graph(*arrays) -> dict:
    """The tasks that compute `arrays`, by key."""
    return {k: t for a in arrays for k, t in dict(a.__dask_graph__()).items()}


class _WithoutGenerator(pickle.Pickler):
    def reducer_override(self, obj):      # the test's generator as None
        return (type(None), ()) if isinstance(obj, Generated) else NotImplemented


def _pickled_size(task) -> int:
    out = io.BytesIO()
    _WithoutGenerator(out).dump(task)
    return len(out.getvalue())


def test_reductions_over_rows_are_tree_reductions():
    data = Generated(rows=6400, chunk=100)                      # 64 chunks
    graph = _graph(*fr.value_and_grad(logistic)(W, data.X, data.y))
    deps = dask.core.get_dependencies
    widest = max(len(deps(graph, k)) for k in graph)
    assert widest < 64 // 2, widest             # no task gathers the chunks all at once


def test_converting_dask_data_inside_a_transformation_is_refused():
    X, _ = _dask((10, D))

    def f(w):
        return np.sum(np.asarray(X) @ w)

    with pytest.raises(TypeError, match="would compute the whole Dask array"):
        fr.grad(f)(W)


def test_jit_refuses_dask_data():
    X, y = _dask((10, D))
    with pytest.raises(TypeError, match="jit.*Dask array"):
        fr.jit(fr.grad(lsq))(W, X, y)
    with pytest.raises(TypeError, match="jit.*Dask array it closes over"):
        fr.jit(fr.grad(lambda w: lsq(w, X, y)))(W)


def test_with_a_client_dask_compute_runs_on_the_cluster():
    distributed = pytest.importorskip("distributed")
    data = Generated(rows=3000, chunk=400)
    XN_, YN_ = data.numpy()
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=False,
                                  protocol="tcp", host="127.0.0.1",
                                  dashboard_address=":0") as cluster, \
            distributed.Client(cluster):
        data.allowed = True
        v, g = dask.compute(*fr.value_and_grad(logistic)(W, data.X, data.y))
    # the cluster's workers made the chunks, from copies of the graph: none in this process
    assert data.made == []
    np.testing.assert_allclose(v, logistic(W, XN_, YN_), rtol=1e-14)
    np.testing.assert_allclose(g, CLOSED_FORMS[logistic](W, XN_, YN_), rtol=1e-13)
