"""iMAML against MAML and first-order MAML on sinusoid regression, with checked meta-gradients.

Tasks (Finn et al. 2017): y = amp sin(x - phase), amp ~ U[0.1, 5], phase ~ U[0, pi],
x ~ U[-5, 5]; K support and K query points per task. The model is a 1-40-40-1 tanh network
written in plain NumPy; its parameters are one flat vector theta (the meta-parameters).

* iMAML (Rajeswaran et al. 2019): phi*(theta) = theta + delta*, delta* = argmin_delta
  L_support(theta + delta) + lam/2 |delta|^2, meta-gradient (I + H/lam)^-1 grad L_query(phi*),
  H the support loss's Hessian at phi*. The inner problem is solved on plain NumPy values by
  Levenberg-Marquardt (Jacobians by frechet.jacrev, steps by the K x K Woodbury system) under
  frechet.implicit.custom_root on grad_delta = 0, whose backward pass is a few CG steps on
  H + lam I by Hessian-vector products (the same solution as CG on I + H/lam; the delta form
  gives the same total derivative). frechet.vmap over tasks gives one solve and one CG per task.
* MAML: frechet.grad through the unrolled inner gradient steps (second order, exact).
* first-order MAML: grad L_query at the adapted parameters, the steps' Jacobian dropped
  (frechet.stop_gradient).
All three are meta-trained by frechet.optim.fit (Adam) on the same task batches.

Why not frechet.multilevel's Engine for training: it advances a lower problem only by steps of
a frechet.optim transformation, which sees gradients alone, and gradient or momentum steps do
not solve this inner problem in tens of steps (|grad| still 0.1-2 after 200 Nesterov steps at
a random theta), so the implicit meta-gradient would be taken far from the optimum. Its
Implicit method is used in the check below: at the solved inner problem it gives the same
meta-gradient as custom_root.

Checks, on one task with a tiny 1-8-8-1 network: the iMAML meta-gradient (inner problem solved
by trust-region Newton to |grad| <= 1e-12, CG to 1e-12), from custom_root under vmap and from
frechet.multilevel's Implicit(CG), against the exact implicit hypergradient from a dense
Hessian solve, and against central finite differences of the query loss at the re-solved inner
problem; the MAML meta-gradient against central differences of the unrolled function; the
first-order MAML gradient against grad L_query at the adapted parameters; vmap over tasks
against a loop; meta-training lowers the post-adaptation query loss on held-out tasks for
every method. Run with --small for a quick run.
"""

from __future__ import annotations

import itertools
import sys
import time
from typing import NamedTuple

import numpy as np
from _common import Checks, options, picture

import frechet
from frechet import implicit, linalg, optim
from frechet.multilevel import Engine, Implicit, Problem


class Config(NamedTuple):
    hidden: tuple
    k: int              # support and query points per task
    lam: float          # iMAML's proximal weight
    lm_steps: int       # iMAML's inner solve: at most this many Levenberg-Marquardt steps
    cg_steps: int       # iMAML's CG iterations per meta-gradient and task
    maml_lr: float      # MAML's and first-order MAML's inner loop: gradient steps
    maml_steps: int
    meta_batch: int
    meta_steps: int
    meta_lr: float
    test_tasks: int


def config(small: bool) -> Config:
    common = {"hidden": (40, 40), "k": 10, "lam": 1.0, "lm_steps": 30, "cg_steps": 5,
              "maml_lr": 0.02, "maml_steps": 5, "meta_lr": 3e-3}
    if small:
        return Config(**common, meta_batch=4, meta_steps=30, test_tasks=40)
    return Config(**common, meta_batch=5, meta_steps=400, test_tasks=200)


# ---- the model and the tasks -----------------------------------------------------------------

class MLP:
    """A tanh network 1 -> hidden -> 1 whose parameters are one flat vector.

    Note: tanh, not MAML's ReLU: iMAML's implicit gradient needs a twice-differentiable inner
    loss, and with ReLU the inner optimum can sit on a kink (a hidden unit at zero on a
    support point), where no Hessian exists and Newton's method stalls.
    """

    def __init__(self, hidden):
        widths = (1, *hidden, 1)
        self.shapes = [s for a, b in itertools.pairwise(widths) for s in ((a, b), (b,))]
        self.size = sum(int(np.prod(s)) for s in self.shapes)

    def init(self, rng):
        # U(-1/sqrt(fan_in), 1/sqrt(fan_in)) for weights and biases (PyTorch's default)
        fan_in = [s[0] for s in self.shapes[::2] for _ in range(2)]
        return np.concatenate([rng.uniform(-1.0, 1.0, s).ravel() / np.sqrt(f)
                               for s, f in zip(self.shapes, fan_in)])

    def __call__(self, theta, x):
        h, start = x[:, None], 0
        layers = []
        for s in self.shapes:
            n = int(np.prod(s))
            layers.append(np.reshape(theta[start:start + n], s))
            start += n
        for i in range(0, len(layers), 2):
            h = h @ layers[i] + layers[i + 1]
            if i + 2 < len(layers):
                h = np.tanh(h)
        return h[:, 0]


class Tasks(NamedTuple):
    """Rows are tasks: support inputs/targets (xs, ys) and query inputs/targets (xq, yq)."""
    xs: np.ndarray
    ys: np.ndarray
    xq: np.ndarray
    yq: np.ndarray


def sample_tasks(rng, n: int, k: int) -> Tasks:
    amp = rng.uniform(0.1, 5.0, (n, 1))
    phase = rng.uniform(0.0, np.pi, (n, 1))
    x = rng.uniform(-5.0, 5.0, (n, 2 * k))
    y = amp * np.sin(x - phase)
    return Tasks(x[:, :k], y[:, :k], x[:, k:], y[:, k:])


class Methods:
    """The three meta-learners' per-task functions for one network and configuration.

    `inner_solver(theta, xs, ys) -> delta` solves iMAML's inner problem on plain values
    (default: Levenberg-Marquardt); `cg` is the linear solver of its backward pass.
    """

    def __init__(self, net: MLP, cfg: Config, inner_solver=None, cg=None):
        self.net, self.cfg = net, cfg
        self.maml_optimiser = optim.sgd(cfg.maml_lr)
        self.inner_solver = inner_solver or self.levenberg_marquardt
        self.cg = cg or linalg.CG(maxiter=cfg.cg_steps, truncated=True)
        self.jacobian = frechet.jacrev(net)

    def mse(self, phi, x, y):
        return np.mean((self.net(phi, x) - y) ** 2)

    def maml_adapt(self, theta, xs, ys):
        """`maml_steps` gradient steps from theta (a Python loop: frechet differentiates it)."""
        phi, state = theta, self.maml_optimiser.init(theta)
        for _ in range(self.cfg.maml_steps):
            grads = frechet.grad(self.mse)(phi, xs, ys)
            updates, state = self.maml_optimiser.update(grads, state, phi)
            phi = optim.apply_updates(phi, updates)
        return phi

    def maml(self, theta, xs, ys, xq, yq):
        return self.mse(self.maml_adapt(theta, xs, ys), xq, yq)

    def first_order_maml(self, theta, xs, ys, xq, yq):
        # value: the query loss at the adapted phi; gradient: grad L_query(phi) (no Jacobian)
        phi = frechet.stop_gradient(self.maml_adapt(theta, xs, ys))
        return self.mse(phi + (theta - frechet.stop_gradient(theta)), xq, yq)

    def prox_loss(self, delta, theta, xs, ys):
        return self.mse(theta + delta, xs, ys) + 0.5 * self.cfg.lam * np.sum(delta * delta)

    def levenberg_marquardt(self, theta, xs, ys):
        """delta minimising prox_loss, on plain values: |R(delta)|^2 with residuals
        R = [(net(theta + delta, xs) - ys) / sqrt(K), sqrt(lam/2) delta]; each step solves
        (J^T J / K + (lam/2 + mu) I) s = -g through the K x K system (Woodbury)."""
        k, half_lam = len(xs), 0.5 * self.cfg.lam

        def value(delta):
            r = np.asarray(self.net(theta + delta, xs)) - ys
            return r @ r / k + half_lam * delta @ delta, r

        delta, mu = np.zeros_like(theta), 1e-2
        f, r = value(delta)
        for _ in range(self.cfg.lm_steps):
            J = np.asarray(self.jacobian(theta + delta, xs))
            g = J.T @ r / k + half_lam * delta           # half the gradient
            for _ in range(30):                           # raise mu until the step descends
                c = half_lam + mu
                step = -(g - J.T @ np.linalg.solve(c * k * np.eye(k) + J @ J.T, J @ g)) / c
                f_new, r_new = value(delta + step)
                if f_new < f:
                    delta, f, r, mu = delta + step, f_new, r_new, mu / 3
                    break
                mu *= 4
            else:
                break                                     # no descent left: at rounding level
        return delta

    def imaml_adapt(self, theta, xs, ys):
        """phi*(theta), differentiated by the implicit function theorem (custom_root)."""
        @implicit.custom_root(frechet.grad(self.prox_loss), solve=self.cg, symmetric=True)
        def solve(init, theta, xs, ys):
            return self.inner_solver(theta, xs, ys)

        return theta + solve(np.zeros_like(theta), theta, xs, ys)

    def imaml(self, theta, xs, ys, xq, yq):
        return self.mse(self.imaml_adapt(theta, xs, ys), xq, yq)

    def over_tasks(self, per_task):
        """mean_i per_task(theta, task i), batched over tasks by frechet.vmap."""
        batched = frechet.vmap(per_task, in_axes=(None, 0, 0, 0, 0))
        return lambda theta, tasks: np.mean(batched(theta, *tasks))

    def imaml_engine(self, theta, delta, tasks) -> Engine:
        """iMAML as a frechet.multilevel problem, for its hypergradient only: "meta" (theta)
        above "adapt" (delta, one row per task), the lower problem set to a solved delta."""
        per_task_prox = frechet.vmap(self.prox_loss, in_axes=(0, None, 0, 0))
        per_task_mse = frechet.vmap(self.mse)

        def adapt_loss(delta, theta, tasks):   # tasks are independent: sum, not mean
            return np.sum(per_task_prox(delta, theta, tasks.xs, tasks.ys))

        def meta_loss(theta, delta, tasks):
            return np.mean(per_task_mse(theta + delta, tasks.xq, tasks.yq))

        # the optimisers are never run here: the lower problem is solved outside the engine
        adapt = Problem("adapt", adapt_loss, delta, optim.sgd(0.01),
                        method=Implicit(solver=self.cg))
        meta = Problem("meta", meta_loss, theta, optim.adam(self.cfg.meta_lr))
        engine = Engine([meta, adapt], upper_to_lower={"meta": ["adapt"]},
                        lower_to_upper={"adapt": ["meta"]})
        engine.batches = dict.fromkeys(engine.problems, tasks)
        return engine


# ---- checks on one task with a tiny network ---------------------------------------------------

def minimise(loss, x, tol=1e-12):
    """A local minimiser of loss from x, to |grad| <= tol (small x only): SciPy's trust-region
    Newton method ("trust-exact", robust where the Hessian is indefinite), then plain Newton
    steps, which converge quadratically from there."""
    from scipy.optimize import minimize

    def grad(x):
        return np.asarray(frechet.grad(loss)(x))

    def hess(x):
        return np.asarray(frechet.hessian(loss)(x))

    x = minimize(lambda x: float(loss(x)), x, jac=grad, hess=hess, method="trust-exact",
                 options={"gtol": 1e-8, "maxiter": 500}).x
    for _ in range(10):
        g = grad(x)
        if np.linalg.norm(g) <= tol:
            return x
        x = x - np.linalg.solve(hess(x), g)
    raise RuntimeError(f"the inner solve did not reach |grad| <= {tol}")


def directional_fd(f, x, rng, eps, count=3):
    """[(v, central difference of f along v)] for random unit directions v."""
    out = []
    for _ in range(count):
        v = rng.standard_normal(x.size)
        v /= np.linalg.norm(v)
        out.append((v, (f(x + eps * v) - f(x - eps * v)) / (2 * eps)))
    return out


def check_gradients(cfg: Config, checks: Checks) -> None:
    rng = np.random.default_rng(1)
    methods = Methods(MLP((8, 8)), cfg, cg=linalg.CG(tol=1e-12))
    theta = methods.net.init(rng)
    task = sample_tasks(rng, 1, cfg.k)
    xs, ys, xq, yq = (a[0] for a in task)
    print(f"checks on one task, a 1-8-8-1 network ({methods.net.size} parameters), "
          f"lam = {cfg.lam}:")

    def solved(theta, start):
        return minimise(lambda d: methods.prox_loss(d, theta, xs, ys), start)

    delta = solved(theta, np.zeros_like(theta))
    methods.inner_solver = lambda theta, xs, ys: solved(theta, np.zeros_like(theta))
    phi = theta + delta
    H = np.asarray(frechet.hessian(lambda p: methods.mse(p, xs, ys))(phi))
    lowest = np.linalg.eigvalsh(np.eye(phi.size) + H / cfg.lam)[0]
    print(f"  inner problem solved by trust-region Newton; smallest eigenvalue of I + H/lam: "
          f"{lowest:.3g}")
    checks.check("inner optimum is a minimum: smallest eigenvalue of I + H/lam", lowest, 0.0,
                 ">=")

    # iMAML's meta-gradient: custom_root under vmap, and frechet.multilevel's Implicit(CG)
    g_root = np.asarray(frechet.grad(methods.over_tasks(methods.imaml))(theta, task))
    g_engine = np.asarray(methods.imaml_engine(theta, delta[None], task).hypergradient("meta"))

    # exact implicit hypergradient: a dense solve with the Hessian
    g_query = np.asarray(frechet.grad(lambda p: methods.mse(p, xq, yq))(phi))
    g_exact = np.linalg.solve(np.eye(phi.size) + H / cfg.lam, g_query)
    for name, g in (("custom_root + CG, vmap", g_root), ("multilevel Implicit(CG)", g_engine)):
        err = np.max(np.abs(g - g_exact)) / np.max(np.abs(g_exact))
        print(f"  iMAML ({name}) vs dense (I + H/lam)^-1 grad L_query: {err:.2e}")
        checks.check(f"iMAML meta-gradient ({name}) vs exact dense implicit (rel.)", err, 1e-8)

    # central differences of the query loss at the re-solved inner problem
    def query_at_solution(t):
        return methods.mse(t + solved(t, delta), xq, yq)

    worst = 0.0
    for v, fd in directional_fd(query_at_solution, theta, rng, 1e-5):
        worst = max(worst, abs(g_root @ v - fd) / np.linalg.norm(g_root))
    print(f"  iMAML vs central differences of L_query(phi*(theta)) (3 directions): {worst:.2e}")
    checks.check("iMAML meta-gradient vs central differences (rel.)", worst, 1e-6)

    check_maml_gradients(methods, theta, rng, checks)


def check_maml_gradients(methods, theta, rng, checks: Checks) -> None:
    tasks = sample_tasks(rng, 3, methods.cfg.k)
    xs, ys, xq, yq = (a[0] for a in tasks)

    # MAML: frechet.grad through the unrolled steps vs central differences of the same program
    def maml(t):
        return methods.maml(t, xs, ys, xq, yq)

    g_maml = np.asarray(frechet.grad(maml)(theta))
    worst = 0.0
    for v, fd in directional_fd(maml, theta, rng, 1e-5):
        worst = max(worst, abs(g_maml @ v - fd) / np.linalg.norm(g_maml))
    print(f"  MAML ({methods.cfg.maml_steps} unrolled steps) vs central differences: {worst:.2e}")
    checks.check("MAML meta-gradient vs central differences (rel.)", worst, 1e-6)

    # first-order MAML: grad L_query at the adapted parameters, computed directly
    g_fo = np.asarray(frechet.grad(methods.first_order_maml)(theta, xs, ys, xq, yq))
    ref = np.asarray(frechet.grad(methods.mse)(np.asarray(methods.maml_adapt(theta, xs, ys)),
                                               xq, yq))
    err = np.max(np.abs(g_fo - ref)) / np.max(np.abs(ref))
    print(f"  first-order MAML vs grad L_query at the adapted parameters: {err:.2e}")
    checks.check("first-order MAML gradient vs grad L_query(phi) (rel.)", err, 1e-12)

    # vmap over tasks vs a Python loop over them
    batched = np.asarray(frechet.grad(methods.over_tasks(methods.maml))(theta, tasks))
    looped = np.mean([np.asarray(frechet.grad(methods.maml)(theta, *task))
                      for task in zip(*tasks)], axis=0)
    err = np.max(np.abs(batched - looped)) / np.max(np.abs(looped))
    print(f"  MAML meta-gradient over 3 tasks, frechet.vmap vs a loop: {err:.2e}")
    checks.check("vmap over tasks vs loop (rel.)", err, 1e-12)


def report_inner_solves(methods, theta, tasks, count=20):
    """How far Levenberg-Marquardt gets: the meta-gradient is taken where it stops."""
    norms = []
    for xs, ys in zip(tasks.xs[:count], tasks.ys[:count]):
        delta = methods.levenberg_marquardt(theta, xs, ys)
        norms.append(np.linalg.norm(frechet.grad(methods.prox_loss)(delta, theta, xs, ys)))
    print(f"iMAML inner solves at the meta-trained theta ({count} test tasks, "
          f"<= {methods.cfg.lm_steps} steps): |grad| median {np.median(norms):.2g}, "
          f"max {np.max(norms):.2g}")


# ---- meta-training ----------------------------------------------------------------------------

def train(methods, per_task, theta0, batches, cfg):
    """Adam on the mean of per_task over each batch of tasks; (theta, loss history)."""
    # (iMAML takes a fixed number of CG steps by design: CG(truncated=True) does not warn)
    return optim.fit(methods.over_tasks(per_task), theta0, optim.adam(cfg.meta_lr),
                     len(batches), data=batches)


def main() -> int:
    args = options(__doc__.splitlines()[0])
    cfg = config(args.small)
    checks = Checks()
    check_gradients(cfg, checks)

    rng = np.random.default_rng(0)
    methods = Methods(MLP(cfg.hidden), cfg)
    theta0 = methods.net.init(rng)
    batches = [sample_tasks(rng, cfg.meta_batch, cfg.k) for _ in range(cfg.meta_steps)]
    test = sample_tasks(rng, cfg.test_tasks, cfg.k)
    print(f"\nmeta-training: {cfg.meta_steps} steps of Adam({cfg.meta_lr}), "
          f"{cfg.meta_batch} tasks per step, K = {cfg.k}, network {methods.net.size} parameters")
    print(f"  iMAML: lam = {cfg.lam}, inner solve <= {cfg.lm_steps} Levenberg-Marquardt "
          f"steps, {cfg.cg_steps} CG steps per task")
    print(f"  MAML / first-order MAML: {cfg.maml_steps} inner gradient steps of {cfg.maml_lr}")

    learners = {"iMAML": methods.imaml, "MAML": methods.maml,
                "first-order MAML": methods.first_order_maml}
    results, histories = {}, {}
    for name, per_task in learners.items():
        start = time.perf_counter()
        theta, histories[name] = train(methods, per_task, theta0, batches, cfg)
        seconds = time.perf_counter() - start
        evaluate = methods.over_tasks(per_task)
        results[name] = (evaluate(theta0, test), evaluate(theta, test), seconds)
        if name == "iMAML":
            report_inner_solves(methods, theta, test)

    print(f"\npost-adaptation query MSE on {cfg.test_tasks} held-out tasks "
          f"(zero predictor: {np.mean(test.yq ** 2):.3f}):")
    print(f"  {'method':<18} {'initial theta':>14} {'meta-trained':>14} {'train time':>11}")
    for name, (before, after, seconds) in results.items():
        print(f"  {name:<18} {before:>14.4f} {after:>14.4f} {seconds:>10.1f}s")
    for name, (before, after, _) in results.items():
        checks.check(f"{name}: meta-trained / initial post-adaptation loss", after / before,
                     1.0)

    def draw(plt):
        fig, ax = plt.subplots(figsize=(6, 4))
        for name, h in histories.items():
            w = max(1, len(h) // 20)
            ax.plot(np.convolve(h, np.ones(w) / w, mode="valid"), label=name)
        ax.set_xlabel("meta-training step")
        ax.set_ylabel("post-adaptation query MSE (moving mean)")
        ax.legend()
        fig.tight_layout()
        return fig

    picture(args.png_dir, "imaml_sinusoid.png", draw)
    return checks.done()


if __name__ == "__main__":
    sys.exit(main())
