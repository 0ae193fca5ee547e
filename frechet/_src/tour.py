"""The guided tour printed by `python -m frechet tour` (and `make tour`)."""

import linecache
import textwrap

import numpy as np

import frechet as fr
from frechet._src.coverage import report


def _section(title, code, env):
    print(f"\n== {title} " + "=" * max(0, 70 - len(title)))
    print(textwrap.indent(textwrap.dedent(code).strip(), "  >>> "))
    source = textwrap.dedent(code)
    name = f"<frechet tour: {title}>"
    # in linecache, as a file's lines would be (tracebacks, and NumPy's constructors read the
    # calling line to tell the user's calls from compiled code's)
    linecache.cache[name] = (len(source), None, source.splitlines(True), name)
    exec(compile(source, name, "exec"), env)  # noqa: S102  (the tour runs the code it shows)


def tour():
    np.set_printoptions(precision=4, suppress=True)
    env = {"np": np, "fr": fr}
    print("frechet: exact derivatives of plain NumPy code.")
    _section("Gradients of ordinary NumPy code", """
        def loss(w, x):
            return np.sum(np.tanh(x @ w) ** 2)
        w, x = np.ones(3), np.arange(6.0).reshape(2, 3) / 10
        print(fr.grad(loss)(w, x))
    """, env)
    _section("The derivative is a linear map, kept as a linear program", """
        y, L = fr.linearize(lambda v: np.sin(v) * v, np.linspace(0, 1, 3))
        print(L)                    # forward: the tangent program
        print(L.T)                  # reverse: its transpose, rule by rule
        print(L.to_dense())         # the Jacobian, only when asked
    """, env)
    _section("Jacobians push a whole basis through in one pass; Hessians nest", """
        rosen = lambda x: np.sum(100 * (x[1:] - x[:-1] ** 2) ** 2 + (1 - x[:-1]) ** 2)
        print(fr.hessian(rosen)(np.array([1.0, 1.0, 1.0])))
        print(fr.jacrev(lambda x: np.cumsum(x) ** 2)(np.array([1.0, 2.0])))
    """, env)
    _section("Any order, no perturbation confusion", """
        d4 = fr.grad(fr.grad(fr.grad(fr.grad(np.sin))))
        print(d4(0.5), np.sin(0.5))
        print(fr.grad(lambda x: x * fr.grad(lambda y: x * y)(x))(3.0))   # 6.0
    """, env)
    _section("Taylor mode: series in one pass, Laplacians by collapsed Taylor mode", """
        print(fr.derivatives(np.sin, 0.5, 5))      # sin, cos, -sin, -cos, sin, cos at 0.5
        print(fr.jet(np.exp, (0.0,), ([1.0, 1.0],)))   # d/dt, d2/dt2 of exp(t + t^2/2)
        u = lambda x: np.sum(np.sin(x) * x[::-1])
        print(fr.laplacian(u)(np.ones(3)), np.trace(fr.hessian(u)(np.ones(3))))
    """, env)
    _section("Verified bounds: Taylor enclosures, safe step sizes, certified minima", """
        from frechet import bounds
        e = bounds.taylor_bound(np.exp, 0.0, (-1.0, 1.0), 1)   # exp(x) in 1 + x + I x^2
        print(e.remainder)                                     # I = [e^-1, e - 2]: sharp
        print(bounds.global_minimum(lambda x: x**4 - 3*x**2 + x, (-2.0, 2.0))[0])
        print(bounds.integral(np.sin, (0.0, np.pi)))           # contains 2
        loss = lambda w: np.sum((w - 1.0) ** 4)
        print(bounds.minimize(loss, np.zeros(3), steps=20)[1][::5])   # never increases
        # several variables: tensor coefficients (gradient, Hessian / 2, ...) over a box
        f = lambda x: np.exp(x[0]) * np.sin(x[1]) + np.logaddexp(0.0, x[0] * x[1])
        e = bounds.taylor_bound(f, np.array([0.2, 0.5]), (-0.5, 1.0), 1)
        print(e.coefficients[1], e.remainder[0].shape, e.range())
        camel = lambda x: ((4 - 2.1 * x[0]**2 + x[0]**4 / 3) * x[0]**2 + x[0] * x[1]
                           + (4 * x[1]**2 - 4) * x[1]**2)
        print(bounds.global_minimum(camel, ([-3.0, -2.0], [3.0, 2.0]), degree=1, tol=1e-4)[0])
        # one verified step size per parameter tensor (universal majorization-minimization)
        t = np.linspace(-1, 1, 9)
        net = lambda p: np.mean((np.tanh(np.outer(t, p["w"])) @ p["v"] - np.sin(2 * t)) ** 2)
        p0 = {"w": np.array([0.5, 1.0, 2.0]), "v": np.zeros(3)}
        print(bounds.minimize(net, p0, 40, method="mm")[1][::10])
    """, env)
    _section("Pytrees, in-place updates and Python control flow", """
        def f(p):
            y = p["w"] * 1.0
            y[0] = p["b"] ** 2          # rebinds the traced value
            if y.sum() > 0:             # eager mode: ordinary Python
                y += 1.0
            return np.sum(y ** 2)
        print(fr.grad(f)({"w": np.ones(3), "b": 2.0}))
    """, env)
    _section("Allocate-and-fill code, views and copies behave as in NumPy", """
        def pendulum(g, theta0=0.5, n=100, dt=0.02):
            ys = np.zeros((n, 2))                       # filled with traced values below
            ys[0] = [theta0, 0.0]
            for i in range(n - 1):
                th, om = ys[i]
                ys[i + 1] = ys[i] + dt * np.array([om, -g * np.sin(th)])
            return ys[-1, 0]
        print(fr.grad(pendulum)(9.81), fr.jit(fr.grad(pendulum))(9.81))
        def views(x):
            w = x * 1.0
            w[:2][0] = 10.0                  # a write through a view reaches w
            c = w.copy(); c[1] = -1.0        # a copy does not
            w.T[2:] *= x[2:]
            return np.sum(w)
        print(fr.grad(views)(np.arange(1.0, 5.0)))
    """, env)
    _section("vmap: one example's code, a whole batch at once; per-example gradients", """
        w = np.array([0.5, -1.0, 2.0])
        xs = np.arange(12.0).reshape(4, 3) / 10
        loss = lambda w, x: np.tanh(x @ w) ** 2
        print(fr.vmap(loss, in_axes=(None, 0))(w, xs))
        print(fr.vmap(fr.grad(loss), in_axes=(None, 0))(w, xs))
    """, env)
    _section("Control flow: reverse mode through a loop whose trip count is known at run time",
             """
        def newton_sqrt(a):
            step = lambda s: ((s[0] + a / s[0]) / 2, s[1] + 1)
            return fr.while_loop(lambda s: np.abs(s[0] ** 2 - a) > 1e-12, step, (a, 0))
        print(newton_sqrt(2.0), fr.grad(lambda a: newton_sqrt(a)[0])(2.0), 0.5 / np.sqrt(2.0))
        print(fr.vmap(lambda a: newton_sqrt(a)[1])(np.array([2.0, 1e4])))   # iterations each
    """, env)
    _section("A chain of elementwise ops is one diagonal map; checkpoint trades memory for time",
             """
        _, L = fr.linearize(lambda x: np.tanh(np.sin(x) * 1.01) + 0.1, np.ones(3))
        print(L)                               # one multiply by the product of the factors
        block = fr.checkpoint(lambda h, w: np.tanh(h @ w))    # residuals recomputed backwards
        w, h0 = np.eye(3) * 0.5, np.ones((2, 3))
        print(fr.grad(lambda w: np.sum(block(block(h0, w), w)))(w).round(4))
    """, env)
    _section("jit: trace once, replay straight-line NumPy; Python branches become guards", """
        def f(x):
            if np.sum(x) > 0:                 # a guard, not an error
                return np.sum(np.sin(x) ** 2)
            return np.sum(x ** 2)
        g = fr.jit(fr.grad(f))
        print(g(np.ones(3)), g(-np.ones(3)), g(2 * np.ones(3)), "traces:", g.trace_count)
        print(fr.jit(fr.grad(lambda x: np.sum(np.tanh(x) ** 2))).lower(np.ones(3)).source)
    """, env)
    _section("Complex numbers (JAX's convention)", """
        print(fr.grad(lambda z: np.abs(z) ** 2)(3 + 4j))         # 6-8j
        print(fr.grad(np.sin, holomorphic=True)(0.5j), np.cos(0.5j))
    """, env)
    _section("Custom rules", """
        @fr.custom_jvp
        def softplus(x):
            return np.logaddexp(0.0, x)
        @softplus.defjvp
        def _(primals, tangents):
            (x,), (t,) = primals, tangents
            return softplus(x), t / (1 + np.exp(-x))
        print(fr.grad(lambda x: np.sum(softplus(x)))(np.array([-1.0, 0.0, 1.0])))
    """, env)
    _section("The program behind any function, derivatives included", """
        print(fr.make_program(fr.grad(lambda x: np.sum(np.exp(x) * x)))(np.ones(2)))
    """, env)
    _section("Clear errors instead of silent zeros", """
        try:
            fr.grad(lambda x: float(x) * 2)(1.0)
        except fr.TracerConversionError as e:
            print(type(e).__name__, ":", str(e)[:90], "...")
    """, env)
    rep = report()
    nu = sum(s != "unsupported" for s in rep["ufuncs"].values())
    nf = sum(s != "unsupported" for s in rep["functions"].values())
    print(f"\nCoverage: {nu}/{len(rep['ufuncs'])} ufuncs, {nf}/{len(rep['functions'])} dispatched "
          "NumPy functions (python -m frechet coverage lists them).")
