"""NumPy's aliasing on traced values: copies are independent, writes through views reach their
base, in-place operators update the object every name and view shares. Each program runs on
plain ndarrays (NumPy's answer) and under frechet's transformations, which must agree on the
value and on the derivative (central differences of the NumPy run)."""

import numpy as np
import pytest
from numpy_checks import agrees_with_numpy

import frechet as fr

X = np.array([0.7, -1.2, 0.4, 2.0, -0.3, 1.1])


def check(f, x=X):
    agrees_with_numpy(f, x)


# copies -------------------------------------------------------------------------------------

def copy_method(x):
    v = x.copy()
    v[0] = 0.0
    return np.sum(x * x)


def copy_function(x):
    v = np.copy(x)
    v[1:] = 2.0
    return np.sum(x * v)


def astype_same_dtype(x):
    v = x.astype(np.float64)
    v[0] = 3.0
    v *= 3.0
    return np.sum(x) + np.sum(v)


def array_and_positive(x):
    a, b = x.astype(float), +x
    a[0] = 1.0
    b[1] = 2.0
    return np.sum(x * a * b)


def flatten_is_a_copy(x):
    y = x.reshape(2, 3)
    f = y.flatten()
    f[0] = 10.0
    return np.sum(y * x.reshape(2, 3)) + np.sum(f)


@pytest.mark.parametrize("f", [copy_method, copy_function, astype_same_dtype,
                               array_and_positive, flatten_is_a_copy])
def test_copies_are_independent(f):
    check(f)


# views --------------------------------------------------------------------------------------

def slice_view(x):
    w = x * 1.0
    v = w[:2]
    v[0] = 100.0
    return np.sum(w * x)


def base_write_reaches_view(x):
    w = x * 2.0
    v = w[1:4]
    w[2] = x[0] ** 2                    # v[1] sees it
    return np.sum(v * x[:3])


def view_of_view(x):
    w = (x * 1.0).reshape(2, 3)
    r = w[1]
    c = r[::2]
    c[1] = x[0] * 5
    return np.sum(w * w) + np.sum(r)


def temporary_views(x):
    y = x * 1.0
    y[1:3][0] = 5.0
    np.copyto(y[2:], x[:1] * 3)
    np.sin(y[:2], out=y[:2])
    return np.sum(y * x)


def transposed_and_raveled(x):
    y = (x * 1.0).reshape(2, 3)
    y.ravel()[4] = 7.0 * x[0]
    y.T[1] = x[:2]
    y.flat[5] = 3.0
    y.T.ravel()[0] = 9.0                # a copy (the transpose is not contiguous): no effect
    return np.sum(y * y)


def flat_of_a_transpose(x):
    y = (x * 1.0).reshape(2, 3)
    y.T.flat[1] = x[2] * x[3]           # .flat writes through whatever the layout
    return np.sum(y * x.reshape(2, 3))


def function_views(x):
    y = x * 1.0
    np.reshape(y, (3, 2))[0, 1] = x[5]
    a, b = np.split(y, 2)
    b[0] = a[0] * 4
    np.flip(y)[0] = -1.0
    np.expand_dims(y, 0)[0, 2] = x[2] ** 3
    np.moveaxis(y.reshape(2, 3), 0, 1)[2, 0] = 0.5
    return np.sum(y * x)


def squeeze_and_view(x):
    y = (x * 1.0).reshape(1, 6)
    s = y.squeeze()
    s[3] = 0.0
    v = s.view()
    v[4] += x[1]
    return np.sum(y * y)


def diagonal_is_read_only(x):
    m = np.outer(x[:3], x[3:])
    d = np.diagonal(m)
    m[1, 1] = 5.0                       # the read-only view sees its base's writes
    return np.sum(d * x[:3])


@pytest.mark.parametrize("f", [slice_view, base_write_reaches_view, view_of_view,
                               temporary_views, transposed_and_raveled, flat_of_a_transpose,
                               function_views, squeeze_and_view, diagonal_is_read_only])
def test_views_write_through(f):
    check(f)


def test_read_only_views_refuse_writes():
    def f(x):
        np.broadcast_to(x, (2, 6))[0, 0] = 1.0
        return np.sum(x)

    def g(x):
        np.diagonal(np.outer(x, x))[0] = 1.0
        return np.sum(x)

    def h(x):
        z = x * 1j
        z.real[0] = 1.0
        return np.sum(np.abs(z))

    for fn in (f, g):
        with pytest.raises(ValueError, match="read-only"):
            fn(X.copy())                # NumPy's behaviour, which frechet keeps
        with pytest.raises(ValueError, match="read-only"):
            fr.grad(fn)(X.copy())
    with pytest.raises(ValueError, match=r"\.real of a complex traced array is not supported"):
        fr.grad(h)(X.copy())


# in-place operators ---------------------------------------------------------------------------

def alias_iadd(x):
    y = x * 1.0
    z = y
    z += 1.0
    z *= x
    z -= x ** 2
    z /= 2.0
    z **= 2
    return np.sum(y)


def helper_updates_its_argument(x):
    def upd(a, b):
        a += b
        a *= 0.5
    y = x * 3.0
    upd(y, x)
    upd(y[2:], x[:4] ** 2)
    return np.sum(y * y)


def fill(x):
    y = x * 1.0
    y[:3].fill(2.0)
    return np.sum(y * x)


def scalar_stays_a_scalar(x):
    s = np.sum(x)
    t = s
    t += 1.0                            # np.float64 is immutable: s is unchanged
    u = x[0]
    u *= 3.0
    return s * t + x[0] * u


def matmul_in_place(x):
    a = x.reshape(2, 3)[:, :2] * 1.0
    b = a
    b @= np.array([[1.0, 2.0], [0.5, -1.0]])
    return np.sum(a * a)


@pytest.mark.parametrize("f", [alias_iadd, helper_updates_its_argument, fill,
                               scalar_stays_a_scalar, matmul_in_place])
def test_in_place_operators_update_the_shared_object(f):
    check(f)


def test_in_place_operators_keep_numpys_casting_and_shapes():
    def cast(x):
        y = x.astype(np.float32)
        y += 1j * x                     # NumPy: cannot cast complex into float32 in place
        return np.sum(y)

    with pytest.raises(TypeError, match="Cannot cast ufunc 'add' output"):
        fr.grad(cast)(X.copy())

    def grow(x):
        y = x[:2] * 1.0
        y += x.reshape(3, 2)            # the result would be (3, 2): not into y's (2,)
        return np.sum(y)

    with pytest.raises(ValueError, match="non-broadcastable output operand"):
        grow(X.copy())
    with pytest.raises(fr.ShapeError, match="non-broadcastable output operand"):
        fr.grad(grow)(X.copy())


def test_every_transformation_rebinds_the_whole_state():
    # Taylor mode's tracers inherit their primal's slot: an update must replace it too
    def f(x):
        y = x * 1.0
        y[1:] = 5.0
        z = y[:2]
        z += x[1:] ** 2
        return y

    x = np.array([0.5, -1.0, 2.0])
    coeffs = fr.taylor(f, x, np.ones(3), 3)
    np.testing.assert_allclose(coeffs[0], f(x))
    np.testing.assert_allclose(coeffs[1], [1.0 + 2 * x[1], 2 * x[2], 0.0])
    np.testing.assert_allclose(coeffs[2], [1.0, 1.0, 0.0])         # f''/2
    lap = fr.laplacian(lambda x: np.sum(f(x) ** 3))(x)
    h = fr.hessian(lambda x: np.sum(f(x) ** 3))(x)
    np.testing.assert_allclose(lap, np.trace(h), rtol=1e-12)
    batch = np.stack([x, 2 * x])
    np.testing.assert_allclose(fr.vmap(f)(batch), np.stack([f(b) for b in batch]))


# found by a random-program fuzzer against NumPy -----------------------------------------------

def check_everywhere(f, x=X):
    """check(), plus jit of f itself replayed twice and vmap of the gradient."""
    check(f, x)
    jf = fr.jit(f)
    for _ in range(2):                  # the second call replays the compiled program
        np.testing.assert_allclose(jf(x.copy()), f(x.copy()), rtol=1e-13, atol=1e-13)
    batch = np.stack([x, x[::-1].copy()])
    np.testing.assert_allclose(fr.vmap(fr.grad(f))(batch.copy()),
                               np.stack([fr.grad(f)(b.copy()) for b in batch]), rtol=1e-12)


def used_then_written(x):
    z = np.full(6, 2.0)
    y = x * z                           # y keeps z's old values
    z[0] = 5.0
    w = np.sin(x + z)
    z.fill(0.0)
    return np.sum(y) + np.sum(w) + np.sum(z * x)


def copies_of_an_allocated_array(x):
    z = np.zeros(6)
    copies = [z[:4].copy(), z.reshape(2, 3).flatten()[:4], np.array(z[:4]), +z[:4],
              np.copy(z[:4]), z[:4].astype(float), z.reshape(2, 3).T.copy().ravel()[:4]]
    z[0] = 5.0
    return sum(np.sum(c * x[:4]) for c in copies) + np.sum(z * x)


def copied_into_the_argument(x):
    z = np.zeros(6)
    np.copyto(x, z)                     # x takes z's values, not its memory
    z[...] = 1.5
    return np.sum(x * np.arange(6.0)) + np.sum(z)


def zero_d_view_in_place(x):
    y = x * 1.0
    d = y[3, ...]                       # a 0-d array view, not a scalar
    d += 1.0
    d *= x[0]
    return np.sum(y * np.arange(6.0))


def ravel_of_a_strided_view(x):
    v = (x * 1.0)[::-1]
    r = v.ravel()                       # NumPy copies: r keeps the old values
    s = np.ravel(v[::2])
    v[3] = 5.0
    v[0] = 6.0
    return np.sum(r * np.arange(6.0)) + np.sum(s) + np.sum(v * v)


def arithmetic_on_allocated_arrays(x):
    z = np.zeros(6)
    a = np.sin(z)
    np.sin(z, out=z)
    w = np.zeros(6) * 2.0
    w[0] = x[0]
    u = z + 1.0
    u *= x
    np.add.at(z + 1.0, [0, 0], x[:2])
    b = np.reshape(np.zeros(6), (2, 3))
    b.T[2] = x[:2]
    c = np.zeros(6)
    c.reshape(2, 3).flat[2] = x[3]
    e = np.zeros(6)
    e.fill(-0.5)
    e.sort()
    e[1] = x[1] ** 2
    return np.sum(a + w * x + u + c) + np.sum(b) + np.sum(e * x)


def sort_in_place(x):
    y = x * 1.0
    y.sort()
    y[2:4].sort()
    return np.sum(y * np.arange(6.0))


def writes_into_the_argument(x):
    x[0] = 10.0
    v = x[::2]
    v[1] = x[1] * 3.0
    return np.sum(x * x)


@pytest.mark.parametrize("f", [used_then_written, copies_of_an_allocated_array,
                               copied_into_the_argument, zero_d_view_in_place,
                               ravel_of_a_strided_view, arithmetic_on_allocated_arrays,
                               sort_in_place, writes_into_the_argument])
def test_programs_the_fuzzer_found(f):
    check_everywhere(f)


def shifts(x):
    u = x * 1.0
    u[1:] = u[:-1]                      # equal strides: NumPy's memmove, a copy's result
    w = x * 2.0
    w[:-1] = w[1:]
    w[::-1][:3] = w[:3]                 # opposite directions: NumPy copies the source first
    return np.sum(u * np.arange(6.0)) + np.sum(w * w)


def test_overlapping_self_assignment():
    check_everywhere(shifts)

    def strided(x):
        u = x * 1.0
        u[::2] = u[1:4]                 # NumPy's element order decides: refused, not guessed
        return np.sum(u)
    strided(X.copy())
    with pytest.raises(NotImplementedError, match=r"^copy the source first"):
        fr.grad(strided)(X.copy())

    def copied(x):
        u = x * 1.0
        u[::2] = u[1:4].copy()
        return np.sum(u * np.arange(6.0))
    check_everywhere(copied)


def zero_d_arrays_and_scalars(x):
    d = (x * 1.0)[5, ...]               # a 0-d view
    s = +d                              # NumPy: a scalar (a ufunc's 0-d result)
    a = np.array(s)                     # a 0-d array, mutable
    b = np.asarray(a)                   # the same object
    a += np.tanh(x[0])
    c = d.astype(float)                 # a copy of a 0-d array is a 0-d array
    n = c
    c *= x[1]
    t = s
    t += 1.0                            # s is a scalar: unchanged
    z = np.zeros(())
    z += x[2]
    return b * 2.0 + n + s * t + z


def test_zero_d_arrays_are_mutable_and_scalars_are_not():
    check_everywhere(zero_d_arrays_and_scalars)


def fortran_ordered_copies(x):
    m = np.c_[x[:3], x[3:]]             # (3, 2)
    t = m.T                             # Fortran-ordered view
    a = np.array(t)                     # order 'K': a Fortran-ordered copy
    ra = a.reshape(-1)                  # so this reshape is a copy
    a[0, 0] = 100.0
    b = t.astype(float)
    rb = b.reshape(-1)
    b[1, 2] = 50.0
    c = t.copy()                        # order 'C': the reshape is a view
    rc = c.reshape(-1)
    c[0, 1] = x[0] * 3.0
    return np.sum(ra * np.arange(6.0)) + np.sum(rb * np.arange(6.0)) + np.sum(rc * rc)


def test_copies_keep_numpys_memory_order():
    check_everywhere(fortran_ordered_copies)
