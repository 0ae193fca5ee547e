import sys

import numpy as np
import pytest

import frechet
import frechet.optim as optim

# ---- a small pytree with an array, a 0-d array and a Python float -------------------------------

P0 = {"w": np.array([0.5, -1.0]), "b": (np.array(0.3), 2.0)}


def grads_at(k):
    """A fixed sequence of gradients (independent of the parameters), one per step."""
    return {"w": np.array([1.0, -2.0]) * (k + 1) + 0.1, "b": (np.array(0.5 - k), 0.25 * k - 0.3)}


def flat(t):
    return np.concatenate([np.ravel(t["w"]), np.ravel(t["b"][0]), np.ravel(t["b"][1])])


def run(opt, steps=4):
    """The updates opt produces over `steps` steps, as flat vectors."""
    params, state, out = P0, opt.init(P0), []
    for k in range(steps):
        updates, state = opt.update(grads_at(k), state, params)
        params = optim.apply_updates(params, updates)
        out.append(flat(updates))
    assert isinstance(params["b"][1], float | np.floating)
    return np.array(out)


def reference(rule, steps=4):
    """The same run with a hand-written update rule on flat vectors: rule(g, p, k, mem)."""
    p, mem, out = flat(P0), {}, []
    for k in range(steps):
        u = rule(flat(grads_at(k)), p, k, mem)
        p = p + u
        out.append(u)
    return np.array(out)


# ---- each optimiser against its published update rule ------------------------------------------

@pytest.mark.parametrize("momentum,nesterov", [(None, False), (0.7, False), (0.7, True)])
def test_sgd(momentum, nesterov):
    def rule(g, p, k, mem):
        if momentum is None:
            return -0.1 * g
        t = g + momentum * mem.get("t", 0.0)
        mem["t"] = t
        return -0.1 * (g + momentum * t if nesterov else t)
    np.testing.assert_allclose(run(optim.sgd(0.1, momentum, nesterov)), reference(rule),
                               rtol=1e-13)


def adam_rule(lr, b1, b2, eps, wd=0.0):
    def rule(g, p, k, mem):
        m = mem["m"] = b1 * mem.get("m", 0.0) + (1 - b1) * g
        v = mem["v"] = b2 * mem.get("v", 0.0) + (1 - b2) * g ** 2
        mhat, vhat = m / (1 - b1 ** (k + 1)), v / (1 - b2 ** (k + 1))
        return -lr * (mhat / (np.sqrt(vhat) + eps) + wd * p)
    return rule


def test_adam():
    np.testing.assert_allclose(run(optim.adam(0.05, b1=0.8, b2=0.95, eps=1e-3)),
                               reference(adam_rule(0.05, 0.8, 0.95, 1e-3)), rtol=1e-12)


def test_adamw():
    np.testing.assert_allclose(run(optim.adamw(0.05, b1=0.8, b2=0.95, eps=1e-3,
                                               weight_decay=0.3)),
                               reference(adam_rule(0.05, 0.8, 0.95, 1e-3, wd=0.3)), rtol=1e-12)


def test_rmsprop_plain_centered_and_with_momentum():
    def rule(centered, momentum):
        def r(g, p, k, mem):
            nu = mem["nu"] = 0.8 * mem.get("nu", 0.2) + 0.2 * g ** 2
            denom = nu + 1e-2
            if centered:
                mu = mem["mu"] = 0.8 * mem.get("mu", 0.0) + 0.2 * g
                denom = nu - mu ** 2 + 1e-2
            d = g / np.sqrt(denom)
            if momentum:
                d = mem["t"] = d + momentum * mem.get("t", 0.0)
            return -0.1 * d
        return r
    for centered, momentum in [(False, None), (True, None), (False, 0.5)]:
        opt = optim.rmsprop(0.1, decay=0.8, eps=1e-2, initial_scale=0.2, centered=centered,
                            momentum=momentum)
        np.testing.assert_allclose(run(opt), reference(rule(centered, momentum)), rtol=1e-12)


def test_adagrad():
    def rule(g, p, k, mem):
        s = mem["s"] = mem.get("s", 0.1) + g ** 2
        return -0.3 * g / np.sqrt(s + 1e-2)
    np.testing.assert_allclose(run(optim.adagrad(0.3, 0.1, eps=1e-2)), reference(rule),
                               rtol=1e-12)


def test_lion():
    def rule(g, p, k, mem):
        m = mem.get("m", 0.0)
        c = np.sign(0.8 * m + 0.2 * g)
        mem["m"] = 0.9 * m + 0.1 * g
        return -0.01 * (c + 0.5 * p)
    np.testing.assert_allclose(run(optim.lion(0.01, b1=0.8, b2=0.9, weight_decay=0.5)),
                               reference(rule), rtol=1e-12)


# ---- schedules --------------------------------------------------------------------------------

def test_schedule_values():
    assert optim.constant(0.3)(11) == 0.3
    lin = optim.linear(1.0, 0.0, 10, transition_begin=5)
    np.testing.assert_allclose([lin(t) for t in (0, 5, 10, 15, 40)], [1, 1, 0.5, 0, 0])
    cos = optim.cosine_decay(2.0, 10, alpha=0.1)
    np.testing.assert_allclose([cos(t) for t in (0, 5, 10, 20)], [2.0, 1.1, 0.2, 0.2])
    w = optim.warmup_cosine_decay(0.1, 1.0, warmup_steps=10, decay_steps=30, end_value=0.2)
    np.testing.assert_allclose([w(t) for t in (0, 5, 10, 20, 30, 50)],
                               [0.1, 0.55, 1.0, 0.6, 0.2, 0.2], rtol=1e-12)
    ex = optim.exponential_decay(1.0, 10, 0.5)
    np.testing.assert_allclose([ex(t) for t in (0, 10, 15, 20)], [1, 0.5, 0.5 ** 1.5, 0.25])
    stair = optim.exponential_decay(1.0, 10, 0.5, transition_begin=5, staircase=True,
                                    end_value=0.3)
    np.testing.assert_allclose([stair(t) for t in (3, 14, 15, 25, 100)], [1, 1, 0.5, 0.3, 0.3])


def test_learning_rate_schedule_is_evaluated_at_the_step_count():
    sched = optim.linear(0.4, 0.1, 3)
    lrs = [sched(k) for k in range(4)]
    np.testing.assert_allclose(run(optim.sgd(sched)),
                               reference(lambda g, p, k, mem: -lrs[k] * g), rtol=1e-13)


def test_schedule_errors_lead_with_the_fix():
    with pytest.raises(ValueError, match="pass a positive integer decay_steps"):
        optim.cosine_decay(1.0, 0)
    with pytest.raises(ValueError, match="pass decay_steps > warmup_steps"):
        optim.warmup_cosine_decay(0.0, 1.0, 10, 10)


def test_schedule_is_differentiable_in_its_values():
    d = frechet.grad(lambda peak: optim.warmup_cosine_decay(0.0, peak, 10, 30)(20))(2.0)
    np.testing.assert_allclose(d, 0.5)


# ---- chain, clipping, weight decay --------------------------------------------------------------

def test_clip_by_global_norm_and_chain():
    clip = optim.clip_by_global_norm(1.0)
    g = {"a": np.array([3.0]), "b": 4.0}
    out, _ = clip.update(g, clip.init(g))
    np.testing.assert_allclose([out["a"][0], out["b"]], [0.6, 0.8])
    small = {"a": np.array([0.3]), "b": 0.4}
    out, _ = clip.update(small, clip.init(small))
    np.testing.assert_allclose([out["a"][0], out["b"]], [0.3, 0.4])
    opt = optim.chain(optim.clip_by_global_norm(0.5), optim.sgd(0.1, momentum=0.5))
    def rule(g, p, k, mem):
        g = g * 0.5 / max(np.linalg.norm(g), 0.5)
        t = mem["t"] = g + 0.5 * mem.get("t", 0.0)
        return -0.1 * t
    np.testing.assert_allclose(run(opt), reference(rule), rtol=1e-13)


def test_add_decayed_weights_with_a_mask():
    tx = optim.add_decayed_weights(0.5, mask={"w": True, "b": (False, True)})
    out, _ = tx.update(grads_at(0), tx.init(P0), P0)
    g = grads_at(0)
    np.testing.assert_allclose(flat(out), flat(g) + 0.5 * flat(P0) * np.array([1, 1, 0, 1]))
    with pytest.raises(ValueError, match="pass the parameters to update"):
        tx.update(grads_at(0), tx.init(P0))


def test_user_written_transformation_in_a_chain():
    halve = optim.GradientTransformation(lambda p: (), lambda g, s, p=None: (
        optim.tree_map(lambda x: 0.5 * x, g), s))
    opt = optim.chain(halve, optim.sgd(0.1))
    np.testing.assert_allclose(run(opt), reference(lambda g, p, k, mem: -0.05 * g), rtol=1e-13)
    # fit passes value_fn only to updates that take extra keywords
    params, hist = optim.fit(lambda w: np.sum(w ** 2), np.ones(2), opt, 2, progress=False)
    np.testing.assert_allclose(params, 0.9 ** 2 * np.ones(2))
