"""Whole-program native code: a jitted program over small arrays as ONE numba function.

On arrays of a few hundred elements the replay's cost is its ~1 us per equation (a NumPy call,
its argument checks, an allocation), not arithmetic. Here the whole program becomes one
function of loop nests, XLA-style: each computed value is either written to memory
(*materialised*) or computed inside the loop of the value that reads it, at the index it reads
(native_rules.py: index maps cost index arithmetic, elementwise equations are scalar
statements). A value is materialised when it is an output or a reduction, or when reading it
inline would compute it more than once: read through a broadcast that repeats it, an operand
of a contraction, or read by several equations (unless it is a few arithmetic operations,
CHEAP_OPS, which are recomputed: cheaper than an array written and read back).

When it is used follows fusion's rule (fusion.py): numba usable (`fusion.available()`, which
FRECHET_FUSION=0 turns off), jit's `fuse` on, and sizes where it pays (measured): every array
at most fusion.PARALLEL_SIZE elements (beyond, fusion's parallel loops are faster), float32
C-library functions (slower in numba than NumPy's SIMD loops, see fusion.Template) only on
arrays of at most FLOAT32_LIBM_SIZE elements, and contractions only while small (BLAS wins
beyond). A program with anything else (another primitive, guards, integer or mixed float
types) stays on the replay path. Compiling takes ~25 ms per line of the function, so a program
is compiled only once its replay has run for a tenth of that (REPLAY_FRACTION) or ten times,
and one whose function would be longer than MAX_LINES stays on the replay; the first native
result is checked against the replay's.

The differences from the replay: no NumPy RuntimeWarnings for invalid values, sums added in
order rather than pairwise (within a few ulp of NumPy's times the number of terms), and
transcendental functions from the C library, as in fused loops, within an ulp or two of
NumPy's.
"""

from __future__ import annotations

import contextlib
import hashlib
import math
import threading
import time
import warnings

import numpy as np

from frechet._src.ir import fusion, native_rules
from frechet._src.ir.program import Program

# numba compiles these functions at ~25 ms per line of source (measured: 0.5 s for the 40
# lines of a 200x200 Hessian, 3 s for 100 lines of small matrix products; most of it numba's
# lowering, not LLVM's optimisation). Longer functions stay on the replay; a function is
# compiled once its replay has run for REPLAY_FRACTION of its estimated compile time, which
# bounds the loss for programs called a few times.
COMPILE_S_PER_LINE = 0.025
MAX_LINES = 100
REPLAY_FRACTION = 0.1
# ... or at its tenth replay: a function called ten times is usually in a loop (training,
# a benchmark), where the compile time, paid once (as JAX pays its own at the first call),
# is soon recovered.
REPLAYS_BEFORE_COMPILE = 10
MAX_SIZE = fusion.PARALLEL_SIZE
FLOAT32_LIBM_SIZE = 128
MIN_EQNS = 3          # one or two equations: one NumPy call costs what a numba call does

_FLOATS = (np.dtype(np.float32), np.dtype(np.float64))
_BOOL = np.dtype(bool)


def unsupported(program: Program, guards=()) -> str | None:
    """Why `program` cannot be one native function (a sentence), or None when it can."""
    if guards:
        return "it has guards (Python branches on traced values)"
    if len(program.eqns) < MIN_EQNS:
        return f"it has fewer than {MIN_EQNS} equations"
    floats = {v.spec.dtype for v in program.invars}
    if len(floats) != 1 or not floats <= set(_FLOATS):
        return "its inputs are not all of one float dtype"
    dtype = floats.pop()
    for c in program.consts:
        if type(c) is not np.ndarray and not isinstance(c, np.generic):
            return f"it holds a constant of type {type(c).__name__}"
    if any(s.dtype not in (dtype, _BOOL) for s in program.out_specs):
        return "it has an output of another dtype"
    rules = native_rules.table()
    for eqn in program.eqns:
        rule = rules.get(eqn.primitive)
        if rule is None or eqn.primitive.multiple_results:
            return f"no native rule for {eqn.primitive.name}"
        for v in eqn.inputs + eqn.outputs:
            if v.spec.dtype not in (dtype, _BOOL):
                return f"{eqn.primitive.name} has a {v.spec.dtype} value"
            if not 0 < math.prod(v.spec.shape) <= MAX_SIZE:
                return f"{eqn.primitive.name} has a value of {math.prod(v.spec.shape)} elements"
        if not rule.check(eqn):
            return f"{eqn.primitive.name} has a form without a native rule"
        template = fusion.TEMPLATE.get(eqn.primitive)
        if (dtype == np.float32 and template is not None and template.numpy_first_float32
                and math.prod(eqn.outputs[0].spec.shape) > FLOAT32_LIBM_SIZE):
            return f"float32 {eqn.primitive.name} is faster in NumPy at this size"
    return None


def _size(v) -> int:
    return math.prod(v.spec.shape)


# A value read several times is still computed inline at each read when that costs at most
# this many arithmetic operations in all (no function calls): cheaper than writing it and
# reading it back, and no allocation (arrays over 128 KiB are fresh pages from the OS on every
# call).
CHEAP_OPS = 8


def _cost(eqn, rules, cost) -> float:
    """Operations to compute eqn's output inline (inf: never computed twice)."""
    rule = rules[eqn.primitive]
    if rule.view:
        return cost.get(eqn.inputs[0], 0)
    if type(rule) is not native_rules.Elementwise or "np." in rule.expr or "_" in rule.expr:
        return math.inf
    return 1 + sum(cost.get(v, 0) for v in eqn.inputs)


def _materialised(program, rules, defn) -> set:
    """The computed values written to memory (see the module docstring)."""
    reads: dict = {}
    repeated: set = set()

    def visit(v, grows):
        eqn = defn.get(v)
        if eqn is not None and rules[eqn.primitive].view:
            x = eqn.inputs[0]
            visit(x, grows or _size(eqn.outputs[0]) > _size(x))
            return
        reads[v] = reads.get(v, 0) + 1
        if grows:
            repeated.add(v)

    out = set(program.outvars)
    for eqn in program.eqns:
        rule = rules[eqn.primitive]
        if isinstance(rule, (native_rules.Reduction, native_rules.Contraction)):
            out.add(eqn.outputs[0])
        if rule.view:
            continue
        for v in eqn.inputs:
            visit(v, isinstance(rule, native_rules.Contraction)
                  or (isinstance(rule, native_rules.Elementwise)
                      and _size(eqn.outputs[0]) > _size(v)))
    cost: dict = {}       # computed values kept inline -> operations to compute them
    for eqn in program.eqns:
        v = eqn.outputs[0]
        if rules[eqn.primitive].view:
            cost[v] = cost.get(eqn.inputs[0], 0)
            continue
        c = _cost(eqn, rules, cost)
        if v in out or v in repeated or (reads.get(v, 0) > 1 and reads[v] * c > CHEAP_OPS):
            out.add(v)
        else:
            cost[v] = c
    return {v for v in out if v in defn}


class Writer:
    """Writes the kernel's source: statements at the current indentation, temporaries, loop
    nests; `read(v, idx)` is v's value at the index expressions idx."""

    def __init__(self, program, rules, dtype):
        self.rules, self.dtype = rules, dtype
        self.defn = {v: e for e in program.eqns for v in e.outputs}
        self.names: dict = {}       # var -> array name, or scalar name or literal when 0-d
        self.literals: set = set()  # vars whose name is a literal (uniform constants)
        self.env: dict = {}
        self.lines: list = []
        self.indent, self.count = 1, 0

    def line(self, text: str) -> None:
        self.lines.append("    " * self.indent + text)

    def fresh(self, prefix: str) -> str:
        self.count += 1
        return f"{prefix}{self.count}"

    def let(self, expr: str) -> str:
        t = self.fresh("t")
        self.line(f"{t} = {expr}")
        return t

    @contextlib.contextmanager
    def block(self, cond: str):
        self.line(f"if {cond}:")
        self.indent += 1
        yield
        self.indent -= 1

    @contextlib.contextmanager
    def loops(self, shape):
        idx = []
        for n in shape:
            idx.append(self.fresh("i"))
            self.line(f"for {idx[-1]} in range({n}):")
            self.indent += 1
        yield idx
        self.indent -= len(shape)

    def read(self, v, idx) -> str:
        name = self.names.get(v)
        if name is None:
            eqn = self.defn[v]
            return self.rules[eqn.primitive].read(self, eqn, idx)
        return f"{name}[{', '.join(idx)}]" if v.spec.shape and v not in self.literals else name

    def materialise(self, v) -> str:
        """Compute v into a new array (a scalar local when 0-d) and read it from there on."""
        name = self.fresh("m")
        if not v.spec.shape:
            self.line(f"{name} = {self.read(v, [])}")
        else:
            kind = "np.bool_" if v.spec.dtype == _BOOL else "_T"
            self.line(f"{name} = np.empty({v.spec.shape}, {kind})")
            # a transposed value is computed in its input's order: its reads are contiguous
            # (there are usually several) and its one write is strided
            eqn = self.defn.get(v)
            perm = (eqn.params["permutation"] if eqn is not None
                    and isinstance(self.rules[eqn.primitive], native_rules.Transpose)
                    else range(len(v.spec.shape)))
            with self.loops([v.spec.shape[perm.index(d)] for d in range(len(perm))]) as inner:
                idx = [inner[p] for p in perm]
                self.line(f"{name}[{', '.join(idx)}] = {self.read(v, idx)}")
        self.names[v] = name
        return name


def source_of(program: Program) -> tuple[str, dict]:
    """The kernel's source and the globals it reads (array constants, frozen by numba)."""
    dtype = program.invars[0].spec.dtype
    rules = native_rules.table()
    w = Writer(program, rules, dtype)
    args = []
    for k, v in enumerate(program.invars):
        args.append(f"a{k}")
        w.names[v] = f"a{k}"
        if not v.spec.shape:
            w.names[v] = w.let(f"a{k}[()]")
    for k, (v, c) in enumerate(zip(program.constvars, program.consts)):
        if fusion._uniform(c):
            w.names[v] = fusion._literal(np.asarray(c).flat[0], v.spec.dtype)
            w.literals.add(v)
        else:
            w.env[f"c{k}"] = np.ascontiguousarray(c)
            w.names[v] = f"c{k}"
    w.lines.insert(0, f"def kernel({', '.join(args)}):")
    materialised = _materialised(program, rules, w.defn)
    for v in (v for e in program.eqns for v in e.outputs if v in materialised):
        w.materialise(v)        # in program order: what each reads is written before it
    outs = []
    for v, spec in zip(program.outvars, program.out_specs):
        if v is None:
            kind = "np.bool_" if spec.dtype == _BOOL else "_T"
            outs.append(f"np.zeros({spec.shape}, {kind})" if spec.shape else f"{kind}(0)")
        elif v in w.defn or not v.spec.shape:
            outs.append(w.names[v])
        elif v in w.literals:
            outs.append(f"np.full({v.spec.shape}, {w.names[v]})")
        else:       # an input or a constant: a fresh array, as the replay's .copy()
            outs.append(f"{w.names[v]}.copy()")
    w.line(f"return ({', '.join(outs)},)")
    return "\n".join(w.lines), w.env


class Native:
    """A program compiled into one numba function.

    `run(*inputs)` returns the outputs; `bind(replay)` returns the function jit calls, which
    runs `replay` instead where numba refuses the inputs (a type it cannot compile for)."""

    __slots__ = ("kernel", "program", "scalars", "source")

    def __init__(self, program: Program, source=None):
        dtype = program.invars[0].spec.dtype
        self.program = program
        self.source, env = source or source_of(program)
        self.kernel = _compile(self.source, env, dtype)
        # numba returns 0-d values as Python scalars; NumPy's (the replay's) are typed
        self.scalars = {k: s.dtype.type for k, s in enumerate(program.out_specs) if not s.shape}

    def run(self, *xs):
        out = self.kernel(*xs)
        if not self.scalars:
            return out
        out = list(out)
        for k, t in self.scalars.items():
            out[k] = t(out[k])
        return out

    def bind(self, replay):
        kernel, scalars, failed = self.kernel, self.scalars, fusion.numba_failed

        def run(*xs):
            try:
                out = kernel(*xs)
            except Exception as e:
                if not failed(e):
                    raise
                return replay(*xs)
            if scalars:
                out = list(out)
                for k, t in scalars.items():
                    out[k] = t(out[k])
            return out
        run.native = self
        return run


_KERNELS: dict = {}
_LOCK = threading.Lock()


def _compile(source: str, env: dict, dtype):
    """numba-compile a kernel (cached in process by its source and constants)."""
    digest = hashlib.sha1(f"{dtype}\n{source}".encode())
    for name in sorted(env):
        digest.update(name.encode() + env[name].tobytes() + str(env[name].shape).encode())
    key = digest.hexdigest()
    if key in _KERNELS:
        return _KERNELS[key]
    import numba

    scope = {"np": np, "numba": numba, "_T": np.dtype(dtype).type, **env}
    exec(compile(fusion.HELPERS, "<frechet.native helpers>", "exec"), scope)  # noqa: S102
    exec(compile(source, f"<frechet.native {key[:8]}>", "exec"), scope)  # noqa: S102
    kernel = numba.njit(error_model="numpy", nogil=True)(scope["kernel"])
    _KERNELS[key] = kernel
    return kernel


def compile_program(program: Program) -> Native | None:
    """`program` as one native function, or None where it cannot be (see unsupported)."""
    if not fusion.available() or unsupported(program) is not None:
        return None
    return Native(program)


def _agrees(got, want) -> bool:
    """Whether the native outputs are the replay's up to rounding (to sqrt(eps) of the largest
    output): a wrong rule is off by far more than the few ulp (times the terms of a sum) that
    evaluation order changes."""
    for g, r in zip(got, want, strict=True):
        g, r = np.asarray(g), np.asarray(r)
        if g.shape != r.shape or g.dtype != r.dtype:
            return False
        if r.dtype == _BOOL:
            if not np.array_equal(g, r):
                return False
            continue
        finite = np.abs(r[np.isfinite(r)])
        tol = np.sqrt(np.finfo(r.dtype).eps)
        if not np.allclose(g, r, rtol=tol, atol=tol * finite.max(initial=0.0), equal_nan=True):
            return False
    return True


def attach(entry) -> None:
    """Let a compiled jit trace (api/jit.py's Compiled) switch to one native function once its
    replay has run for REPLAY_FRACTION of the function's estimated compile time, or at its
    REPLAYS_BEFORE_COMPILE-th replay; nothing when it cannot be one or would take too long to
    compile."""
    program = entry.program
    if (len(program.eqns) > 4 * MAX_LINES or not fusion.available()
            or unsupported(program, entry.guards) is not None):
        return
    try:
        source = source_of(program)
    except Exception as e:  # noqa: BLE001  (a bug here must not stop the replay)
        _report(f"could not be written ({type(e).__name__}: {e})")
        return
    lines = source[0].count("\n")
    if lines > MAX_LINES:
        return
    replay = entry.run
    spent, calls = [0.0], [0]
    before = REPLAY_FRACTION * COMPILE_S_PER_LINE * lines

    def timed(*xs):
        calls[0] += 1
        if spent[0] >= before or calls[0] == REPLAYS_BEFORE_COMPILE:
            spent[0], calls[0] = -math.inf, -math.inf   # once: other threads keep replaying
            return _promote(entry, replay, xs, source)
        t0 = time.perf_counter()
        out = replay(*xs)
        spent[0] += time.perf_counter() - t0
        return out
    entry.run = timed


def _promote(entry, replay, xs, source):
    """Compile, check the first native result against the replay's, and switch."""
    want = replay(*xs)
    entry.run = replay
    with _LOCK:
        try:
            native = Native(entry.program, source)
            got = native.run(*xs)
        except Exception as e:  # noqa: BLE001  (the replay goes on; only a bug warns)
            if not fusion.numba_failed(e):
                _report(f"failed ({type(e).__name__}: {e})")
            return want
    if _agrees(got, want):
        entry.run = native.bind(replay)
    else:
        _report("disagreed with its replay")
    return want


def _report(what: str) -> None:
    warnings.warn(f"frechet.jit: the native version of a program {what}; the replay is used "
                  "(please report this bug)", RuntimeWarning, stacklevel=5)
