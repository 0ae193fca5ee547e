"""Every primitive is exercised by the op records, and the coverage report is honest."""

import numpy as np
from op_records import RECORDS, traced_fn

import frechet as fr
from frechet._src.core.primitive import REGISTRY
from frechet._src.coverage import report

# Primitives with no differentiable record, and why.
NO_RECORD_NEEDED = {
    "isnat": "datetime only",
    "bitwise_count": "integer only",
}


def _used_primitives():
    used = set()
    for r in RECORDS.values():
        args = r.args(np.random.default_rng(0))
        fn = traced_fn(r)
        try:
            used.update(e.primitive.name for e in fr.make_program(fn)(*args).eqns)
        except fr.ConcretizationError:     # needs concrete values (nan-reductions, masks)
            pass
        _, L = fr.linearize(fn, *args)
        used.update(e.primitive.name for e in L.program.eqns)
        used.update(e.primitive.name for e in L.T.program.eqns)
    return used


def test_every_primitive_has_a_rule_and_a_record():
    used = _used_primitives()
    zero_ok = {"equal", "not_equal", "less", "less_equal", "greater", "greater_equal"}
    for name, p in REGISTRY.items():
        if name.startswith("test_"):
            continue
        assert p.jvp is not None, f"primitive {name} has no JVP rule"
        assert p.batch is not None or p.collective, f"primitive {name} has no batching rule"
        if p.linear:
            assert p.transpose is not None, f"linear primitive {name} has no transpose rule"
    smooth = {n for n, p in REGISTRY.items() if not n.startswith("test_")}
    # integer/boolean-only primitives are checked by test_zero_derivative_primitives
    from frechet._src.prims.elementwise import ZERO_DERIVATIVE
    missing = smooth - used - set(ZERO_DERIVATIVE) - set(NO_RECORD_NEEDED) - zero_ok - {
        "argmax", "argmin", "reduce_or", "reduce_and", "polygamma", "stop_gradient",
        "custom_vjp_lin", "argsort", "divmod", "frexp", "modf",
        # checkpoint's primitives are checked in tests/test_checkpoint.py
        "remat", "checkpoint_kept", "remat_barrier", "checkpoint_call",
        # control flow appears only when staged: tests/test_cond.py, tests/test_scan.py
        "cond", "scan", "while",
        # a while loop's reverse mode under staging: tests/test_resources.py
        "while_tape", "tape_loop",
        # solves and sparse operators take non-array operands: tests/test_operators.py
        "linear_solve", "sparse_matmul",
        # needs concrete values (which roots, and their dtype, depend on them), so it is never
        # staged by make_program: op records roots, roots_complex, roots_c128
        "roots",
        # named collectives are checked in tests/test_vmap.py (they need a named vmap)
        "psum", "pmax", "all_gather", "axis_index"}
    assert not missing, f"primitives with no op record: {sorted(missing)}"


def test_zero_derivative_primitives_run():
    x = np.array([1.5, -2.5, 3.0])
    i = np.array([3, 5, 6])
    for name in ("ceil", "floor", "rint", "trunc", "sign", "signbit", "isfinite", "isinf",
                 "isnan", "spacing", "logical_not"):
        f = getattr(np, name)
        out, t = fr.jvp(lambda x, f=f: f(x) * 1.0, (x,), (np.ones(3),))
        np.testing.assert_array_equal(out, f(x) * 1.0)
        np.testing.assert_array_equal(t, 0.0)
    for name in ("invert", "bitwise_count", "gcd", "lcm", "left_shift", "right_shift",
                 "bitwise_and", "bitwise_or", "bitwise_xor", "floor_divide"):
        f = getattr(np, name)
        args = (i,) if f.nin == 1 else (i, np.array([1, 2, 3]))
        g = fr.grad(lambda x, f=f, args=args: np.sum(x * f(*args)))(x)
        np.testing.assert_array_equal(g, f(*args))


def test_coverage_report_is_honest():
    rep = report()
    counts = {k: sum(1 for v in rep["ufuncs"].values() if v == k) for k in
              ("differentiable", "zero-derivative", "unsupported")}
    assert len(rep["ufuncs"]) == 106
    assert counts["unsupported"] == 0
    dispatched = rep["functions"]
    assert len(dispatched) == 216
    supported = [n for n, s in dispatched.items() if s != "unsupported"]
    assert len(supported) >= 170, len(supported)
    # every function the report calls differentiable has an op record that checks it
    recorded = {n.split("_")[0] for n in RECORDS} | set(RECORDS)
    unchecked = [name for name, status in dispatched.items() if status == "differentiable"
                 and name not in recorded and name not in rep["checked_elsewhere"]]
    assert not unchecked, f"reported differentiable but no op record checks: {unchecked}"
