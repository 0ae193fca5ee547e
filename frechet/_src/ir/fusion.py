"""Fusion: runs of elementwise equations compiled into one loop by numba (`frechet[fast]`).

NumPy runs a chain of elementwise operations as one pass over memory per operation, each
allocating its result; on large arrays that traffic, not the arithmetic, is the cost. jit
hands its simplified program to `plan`, which finds runs of consecutive elementwise equations
over one shape and dtype and compiles each run into a single loop (in parallel over the
machine's cores when the arrays are large) that reads each input once and writes only the
values used after the run. Everything else is still emitted as direct NumPy calls.

Fusion is used only when it pays: numba importable, at least MIN_SIZE elements, a run of at
least two equations when the loop runs in parallel (MIN_SERIAL_RUN when it cannot: see plan),
and not in float32 for the functions NumPy vectorises better than numba. It is never needed
for correctness, and it keeps NumPy's semantics (IEEE division, NaN propagation in
maximum/minimum, special values). The differences: a fused loop does not emit NumPy's
RuntimeWarnings for invalid values, and in float64 its exp, expm1, sin, cos and tanh are
vecmath's vectorisable versions, within 1 (exp, expm1, log, log1p), 2 (sin, cos) or 3
(tanh) ulp of NumPy's instead of equal to them.
"""

from __future__ import annotations

import hashlib
import math
import os

import numpy as np

from frechet._src.core.primitive import Primitive
from frechet._src.ir.program import Eqn, Program

# Elements below which a fused loop does not pay for its call (measured: NumPy's per-call
# overhead is ~1 us, a loop element ~1-10 ns), and above which the loop runs in parallel.
MIN_SIZE = 1 << 13
PARALLEL_SIZE = 1 << 16

class Template:
    """How an elementwise primitive is written inside a fused loop (registered by the module
    that defines the primitive: `deftemplate(sin_p, "np.sin({0})", vecmath="sin")`).

    Args:
      expr: the scalar expression; {0}, {1}, {2} are its inputs. Literals use `_T` (the run's
        float type) so that float32 runs stay float32.
      vecmath: the name of vecmath's vectorisable float64 version, used in float64 runs (a
        loop with one libm call per element is not vectorised at all; vecmath's are 4-wide
        SIMD, 3-5x faster on this machine).
      numpy_first_float32: NumPy's own SIMD loop beats numba's scalar libm call in float32
        (measured on this AVX2 machine: tanh 2.6 vs 15.7 ns per element, sin 1.6 vs 6.4, exp
        1.3 vs 2.7; in float64 the two are within 10%): a float32 run stops at it.
      far: vecmath's version reduces its argument exactly only on a range (vecmath.far says
        when it is beyond), so a loop that met such an argument is rerun with the C library's.
    """

    __slots__ = ("expr", "far", "numpy_first_float32", "vecmath")

    def __init__(self, expr: str, vecmath: str | None = None, numpy_first_float32=False,
                 far=False):
        if not isinstance(expr, str) or "{0}" not in expr:
            raise ValueError(f"a template is a scalar expression of its inputs {{0}}, {{1}}, "
                             f"...: got {expr!r}")
        self.expr, self.vecmath = expr, vecmath
        self.numpy_first_float32, self.far = numpy_first_float32, far


# Primitive -> Template: the primitives a fused loop can contain.
TEMPLATE: dict[Primitive, Template] = {}
# Primitives whose impl calls BLAS: a program with one runs its loops serially (see plan).
BLAS: set[Primitive] = set()
# Whether float32 runs stop at templates marked numpy_first_float32 (tests turn it off to
# compile every template).
NUMPY_FIRST_FLOAT32 = True


def deftemplate(prim: Primitive, expr: str, **kwargs) -> None:
    """Let fused loops contain `prim`, written as `expr` (see Template)."""
    TEMPLATE[prim] = Template(expr, **kwargs)


# Without parallelism a fused loop saves only memory passes, which pays from a few operations.
MIN_SERIAL_RUN = 4

HELPERS = '''
@numba.njit(inline="always")
def _sign(a):
    return _T(1.0) if a > 0 else (_T(-1.0) if a < 0 else a)


@numba.njit(inline="always")
def _maximum(a, b):
    return a if (a >= b or a != a) else b


@numba.njit(inline="always")
def _minimum(a, b):
    return a if (a <= b or a != a) else b


@numba.njit(inline="always")
def _fmax(a, b):
    return a if (a >= b or b != b) else b


@numba.njit(inline="always")
def _fmin(a, b):
    return a if (a <= b or b != b) else b
'''


_STATUS: list = []     # [reason or None], found once per process


def available() -> bool:
    """Whether jit may compile loops with numba: it is installed, it compiles a trivial loop
    here (a numba built for another NumPy or LLVM can import and still fail), and
    FRECHET_FUSION is not 0. Otherwise jit runs NumPy, which is never less exact."""
    if os.environ.get("FRECHET_FUSION", "1") == "0":
        return False
    return unavailable_reason() is None


def unavailable_reason() -> str | None:
    """Why numba cannot be used here (a sentence), or None where it can."""
    if not _STATUS:
        try:
            import numba
            numba.njit(lambda x: x + 1.0)(1.0)
            _STATUS.append(None)
        except ImportError:
            _STATUS.append("numba is not installed (pip install 'frechet[fast]')")
        except Exception as e:  # noqa: BLE001  (numba imports but cannot compile)
            _STATUS.append(f"numba cannot compile here ({type(e).__name__}: {e})")
    return _STATUS[0]


def numba_failed(e: BaseException) -> bool:
    """Whether e is numba's refusal to compile (its typing and lowering errors, which share no
    public base class): the caller then runs NumPy instead."""
    return type(e).__module__.startswith("numba")


class Fused:
    """A run of equations replaced by one compiled loop: `outputs = call(*inputs)`."""

    __slots__ = ("call", "eqns", "inputs", "outputs", "source")

    def __init__(self, eqns, inputs, outputs, call, source):
        self.eqns, self.inputs, self.outputs = eqns, inputs, outputs
        self.call, self.source = call, source


def _uniform(c) -> bool:
    c = np.asarray(c)
    return c.size > 0 and (all(s == 0 for s in c.strides) or bool(np.all(c == c.flat[0])))


def _fusible(eqn: Eqn, shape, dtype, uniform) -> bool:
    """Whether eqn can join a run over (shape, dtype); `uniform` constants of any shape enter
    the loop as literals."""
    template = TEMPLATE.get(eqn.primitive)
    if template is None or eqn.params:
        return False
    if dtype == np.float32 and template.numpy_first_float32 and NUMPY_FIRST_FLOAT32:
        return False
    for v in eqn.outputs + eqn.inputs:
        if v.spec.dtype not in (dtype, np.dtype(bool)):
            return False
    if any(v.spec.shape != shape for v in eqn.outputs):
        return False
    return all(v.spec.shape in (shape, ()) or v in uniform for v in eqn.inputs)


def plan(program: Program, keep=(), min_size=None) -> list:
    """The program's equations in order, with fusible runs replaced by `Fused` items.
    `keep`: vars read after their definition by something other than equations (guards)."""
    min_size = MIN_SIZE if min_size is None else min_size
    # numba's worker threads and the BLAS library's (which spin for a while after each call)
    # oversubscribe the cores: measured 8 ms instead of 1.2 for a matmul followed by a
    # parallel loop on 2 cores. Loops run in parallel only in programs without BLAS calls.
    parallel = not any(e.primitive in BLAS for e in program.eqns)
    consts = dict(zip(program.constvars, program.consts))
    uniform = {v for v, c in consts.items() if _uniform(c)}
    last_use: dict = {}
    for i, eqn in enumerate(program.eqns):
        for v in eqn.inputs:
            last_use[v] = i
    outside = {v for v in program.outvars if v is not None} | set(keep)
    items, run = [], []

    def flush(end):
        size = math.prod(run[0].outputs[0].spec.shape) if run else 0
        par = parallel and size >= PARALLEL_SIZE
        if len(run) >= (2 if par else MIN_SERIAL_RUN):
            read_later = {v for e in run for v in e.outputs
                          if v in outside or last_use.get(v, -1) >= end}
            items.append(_build(run, consts, uniform, read_later, par))
        else:
            items.extend(run)
        run.clear()

    for i, eqn in enumerate(program.eqns):
        if run:
            spec = run[0].outputs[0].spec
            if _fusible(eqn, spec.shape, spec.dtype, uniform):
                run.append(eqn)
                continue
            flush(i)
        out = eqn.outputs[0].spec
        if (len(eqn.outputs) == 1 and out.dtype in _FLOATS and math.prod(out.shape) >= min_size
                and _fusible(eqn, out.shape, out.dtype, uniform)):
            run.append(eqn)
        else:
            items.append(eqn)
    flush(len(program.eqns))
    return items


_FLOATS = (np.dtype(np.float32), np.dtype(np.float64))


def _literal(value, dtype) -> str:
    if dtype == np.dtype(bool):
        return repr(bool(value))
    value = float(value)
    if np.isnan(value):
        return "_T(np.nan)"
    if np.isinf(value):
        return "_T(np.inf)" if value > 0 else "_T(-np.inf)"
    return f"_T({value!r})"


def _build(run, consts, uniform, read_later, parallel) -> Fused:
    run = tuple(run)                    # plan() reuses its list
    shape, dtype = run[0].outputs[0].spec.shape, run[0].outputs[0].spec.dtype
    defined = {v for e in run for v in e.outputs}
    names: dict = {}
    inputs, loads = [], []
    for eqn in run:
        for v in eqn.inputs:
            if v in names or v in defined:
                continue
            if v in uniform:
                names[v] = _literal(np.asarray(consts[v]).flat[0], v.spec.dtype)
                continue
            j = len(inputs)
            if v.spec.shape == shape:
                names[v] = f"x{j}"
                loads.append(f"        x{j} = i{j}[k]")
            else:                       # a 0-d value: passed as a scalar
                names[v] = f"i{j}"
            inputs.append(v)
        for i, out in enumerate(eqn.outputs):
            names[out] = f"t{len(names)}_{i}"
    outputs = [v for e in run for v in e.outputs if v in read_later]
    vector = dtype == np.float64 and any(TEMPLATE[e.primitive].vecmath for e in run)
    source = _kernel_source(dtype, inputs, outputs, names, loads, run, parallel, vector)
    flat = [v.spec.shape == shape for v in inputs]
    n = math.prod(shape)
    kernel = _compile(source, dtype, parallel)
    exact = []                          # the C library's version, compiled when first needed
    refused = []                        # numba could not compile the kernel: NumPy runs it

    def numpy_run(*xs):
        env = {v: consts[v] for e in run for v in e.inputs if v in consts}
        env.update(zip(inputs, xs))
        for e in run:
            env[e.outputs[0]] = e.primitive.impl(*[env[v] for v in e.inputs])
        return [env[v] for v in outputs]

    def call(*xs):
        if refused:
            return numpy_run(*xs)
        args = [x.reshape(-1) if f else x[()] for x, f in zip(xs, flat)]
        try:
            outs = kernel(*args, n)
        except Exception as e:
            if not numba_failed(e):
                raise
            refused.append(e)
            return numpy_run(*xs)
        if vector:
            *outs, far = outs
            if far:                     # a sin or cos argument beyond vecmath's reduction
                if not exact:
                    exact.append(_compile(_kernel_source(dtype, inputs, outputs, names, loads,
                                                         run, parallel, False), dtype, parallel))
                outs = exact[0](*args, n)
        return [o.reshape(shape) for o in outs]

    return Fused(tuple(run), tuple(inputs), tuple(outputs), call, source)


def _kernel_source(dtype, inputs, outputs, names, loads, run, parallel, vector) -> str:
    """A loop computing `run` element by element. With `vector`, float64 transcendentals are
    vecmath's and the kernel also returns how many sin/cos arguments were beyond their range.
    Only the templates' text, generated variable names and literals written by _literal (repr of
    floats and bools) reach this source: no name or string from the program itself."""
    body, far = [], []
    for eqn in run:
        t, args = TEMPLATE[eqn.primitive], [names[v] for v in eqn.inputs]
        expr = f"_v_{t.vecmath}({{0}})" if vector and t.vecmath else t.expr
        body.append(f"        {names[eqn.outputs[0]]} = {expr.format(*args)}")
        if vector and t.vecmath and t.far:
            far.append(f"_v_far({args[0]})")
    if far:                             # numba's parallel loops take one update per reduction
        body.append(f"        far += {' + '.join(far)}")
    loop = "numba.prange" if parallel else "range"
    lines = [f"def kernel({''.join(f'i{j}, ' for j in range(len(inputs)))}n):"]
    lines += [f"    o{j} = np.empty(n, {'np.bool_' if v.spec.dtype == bool else '_T'})"
              for j, v in enumerate(outputs)]
    lines += ["    far = 0"] if vector else []
    lines.append(f"    for k in {loop}(n):")
    lines += loads + body
    lines += [f"        o{j}[k] = {names[v]}" for j, v in enumerate(outputs)]
    results = [f"o{j}" for j in range(len(outputs))] + (["far"] if vector else [])
    lines.append(f"    return ({', '.join(results)},)")
    return f"# dtype {np.dtype(dtype).name}\n" + "\n".join(lines)


_KERNELS: dict = {}


def _compile(source: str, dtype, parallel: bool):
    """numba-compile a kernel (cached in process by its source, which names its dtype and
    loop kind)."""
    key = hashlib.sha1(source.encode()).hexdigest()
    if key in _KERNELS:
        return _KERNELS[key]
    import numba

    from frechet._src.ir import vecmath  # lazy: it needs numba, which frechet[fast] adds

    env = {"np": np, "numba": numba, "_T": np.dtype(dtype).type, "_v_far": vecmath.far}
    env.update({f"_v_{name}": f for name, f in vecmath.FUNCTIONS.items()})
    exec(compile(HELPERS, "<frechet.fusion helpers>", "exec"), env)  # noqa: S102
    exec(compile(source, f"<frechet.fusion {key[:8]}>", "exec"), env)  # noqa: S102
    kernel = numba.njit(parallel=parallel, error_model="numpy", nogil=True)(env["kernel"])
    _KERNELS[key] = kernel
    return kernel
