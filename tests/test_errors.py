"""Errors are typed and say what went wrong and what to do."""

import numpy as np
import pytest

import frechet as fr


def test_asarray_of_tracer():
    # np.asarray of a traced value is the value (NumPy constructors are wrapped while a
    # transformation runs); with the wrapping off, the error says what to write instead
    np.testing.assert_array_equal(fr.grad(lambda x: np.asarray(x).sum())(np.ones(2)), [1, 1])
    fr.config.patch_numpy_creation = False
    try:
        with pytest.raises(fr.TracerConversionError, match="np.stack.*np.asarray"):
            fr.grad(lambda x: np.asarray(x).sum())(np.ones(2))
    finally:
        fr.config.patch_numpy_creation = True


def test_float_of_tracer():
    with pytest.raises(fr.TracerConversionError, match=r"float\(\)"):
        fr.grad(lambda x: float(x))(1.0)


def test_np_array_of_list_of_tracers():
    np.testing.assert_array_equal(
        fr.grad(lambda x: np.array([x[0], 2 * x[1]]).sum())(np.ones(2)), [1, 2])


OUTSIDE = np.zeros(2)


def test_writing_tracer_into_ndarray():
    def f(x):
        out = OUTSIDE
        out += x
        return out.sum()
    with pytest.raises(fr.TracerConversionError,
                       match=r"^make the array inside the transformed function .* shape \(2,\) "
                             r"and dtype float64 at test_errors\.py:\d+ was made outside"):
        fr.grad(f)(np.ones(2))

    def g(x):
        out = np.zeros(2)               # made inside: it takes the traced values
        out += x
        return out.sum()
    np.testing.assert_array_equal(fr.grad(g)(np.ones(2)), [1.0, 1.0])


def test_grad_of_non_scalar():
    with pytest.raises(TypeError, match="scalar output.*jacrev.*vjp"):
        fr.grad(np.sin)(np.ones(3))


def test_grad_of_integer_input():
    with pytest.raises(fr.NonDifferentiableError, match="floating-point inputs, got int64"):
        fr.grad(lambda x: x * 2.0)(np.arange(3).sum())
    with pytest.raises(fr.NonDifferentiableError, match="got bool"):
        fr.grad(lambda x: 1.0)(np.array(True))


def test_grad_of_complex_output():
    with pytest.raises(TypeError, match="holomorphic=True"):
        fr.grad(lambda z: z * z)(1.0 + 1j)


def test_unsupported_function_names_it():
    with pytest.raises(fr.UnsupportedFunctionError, match="np.savez.*custom_vjp"):
        fr.grad(lambda x: np.savez("/dev/null", x) or x.sum())(np.ones((2, 2)))


def test_unsupported_ufunc_method():
    with pytest.raises(fr.UnsupportedFunctionError, match="np.add.reduceat"):
        fr.grad(lambda x: np.add.reduceat(x, [0, 1]).sum())(np.ones(2))


def test_shape_errors_read_like_numpy():
    with pytest.raises(fr.ShapeError, match=r"could not be broadcast together with shapes \(3,\) \(4,\)"):
        fr.grad(lambda x: np.sum(x + np.ones(4)))(np.ones(3))
    with pytest.raises(fr.ShapeError, match="cannot reshape array of size 6 into shape"):
        fr.grad(lambda x: np.sum(x.reshape(4, 2)))(np.ones(6))


def test_index_errors():
    with pytest.raises(IndexError, match="out of bounds"):
        fr.grad(lambda x: x[5])(np.ones(3))
    with pytest.raises(IndexError, match="too many indices"):
        fr.grad(lambda x: x[0, 0])(np.ones(3))


def test_escaped_tracer():
    leaked = []
    fr.grad(lambda x: leaked.append(x) or x * 2.0)(1.0)
    with pytest.raises(fr.EscapedTracerError, match="escaped"):
        np.sin(leaked[0])


def test_staged_branch_is_a_concretization_error():
    def f(x):
        return x if x > 0 else -x
    with pytest.raises(fr.ConcretizationError, match="truth value"):
        fr.make_program(f)(1.0)


def test_missing_rule_raises_naming_the_primitive():
    from frechet._src.core.primitive import primitive
    p = primitive("test_no_rule", lambda x: x * 2, lambda x: x)
    with pytest.raises(fr.NonDifferentiableError, match="'test_no_rule' has no differentiation"):
        fr.grad(lambda x: p.bind(x))(1.0)


def test_primal_tangent_shape_mismatch():
    with pytest.raises(ValueError, match="takes an array of shape"):
        fr.jvp(np.sin, (np.ones(3),), (np.ones(2),))


def test_polyfit_in_x_is_refused_not_zero():
    with pytest.raises(fr.UnsupportedFunctionError, match="differentiable in y only"):
        fr.grad(lambda x: np.polyfit(x, np.array([1.0, 2.0, 0.5]), 1).sum())(np.arange(3.0))


def test_unsupported_submodule_function_is_named_in_full():
    with pytest.raises(fr.UnsupportedFunctionError, match=r"np\.lib\.stride_tricks\.sliding_window_view is not"):
        fr.grad(lambda a: np.lib.stride_tricks.sliding_window_view(a, 2).sum())(np.ones(4))
    with pytest.raises(fr.UnsupportedFunctionError, match=r"np\.lib\.scimath\.sqrt is not"):
        fr.grad(lambda a: np.lib.scimath.sqrt(a).real.sum())(np.ones(4))


def test_cross_of_2_vectors_warns_like_numpy():
    with pytest.warns(DeprecationWarning, match="2-dimensional vectors"):
        fr.grad(lambda a: np.cross(a, np.array([1.0, 2.0])))(np.array([3.0, 4.0]))


def test_indexing_an_ndarray_with_a_traced_index_says_what_to_do():
    table = np.arange(5.0)
    with pytest.raises(fr.TracerConversionError, match="frechet.numpy.take"):
        fr.vmap(lambda i: table[i])(np.array([0, 2]))
    got = fr.vmap(lambda i: fr.numpy.take(table, i))(np.array([[0, 4], [2, -1]]))
    np.testing.assert_array_equal(got, [[0, 4], [2, 4]])
    got = fr.vmap(lambda i: fr.numpy.take(table, i, mode="clip"))(np.array([[0, 9], [2, -3]]))
    np.testing.assert_array_equal(got, [[0, 4], [2, 0]])
    got = fr.vmap(lambda i: fr.numpy.take(table, i, mode="wrap"))(np.array([[0, 9], [2, -3]]))
    np.testing.assert_array_equal(got, [[0, 4], [2, 2]])


def test_conversion_inside_a_library_names_the_library_function():
    import scipy.special

    with pytest.raises(fr.TracerConversionError,
                       match=r"^call frechet\.scipy\.special\.logsumexp instead.*"
                             r"inside scipy\.special\._logsumexp\.logsumexp"):
        fr.grad(lambda x: scipy.special.logsumexp(x))(np.arange(3.0))
    with pytest.raises(fr.TracerConversionError) as info:      # the user's own call: no library
        fr.grad(lambda x: sum(x.tolist()))(np.arange(3.0))
    assert "inside" not in str(info.value)
